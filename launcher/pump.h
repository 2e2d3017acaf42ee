/* pump.h — one invocation: spawn, the I/O loop under one deadline, and
 * teardown. Everything of one request hangs off struct invocation. */
#ifndef FN_PUMP_H
#define FN_PUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>
#include <fcgiapp.h>

#include "manifest.h"

struct invocation {
	FCGX_Request *req;
	const struct manifest *m;
	const struct fn_spec *fn;
	char request_id[24];
	char **envp;              /* cgienv_build(), one allocation */
	char **argv;              /* one allocation */
	const char *method;
	const char *uri;
	const char *remote_addr;
	char fname[FN_NAME_MAX + 1]; /* requested name, when none matched */
	const char *code;         /* error code of a rejection (metrics) */
	bool ran;                 /* a process was started for it */
	struct timespec start;    /* monotonic, when the request was read */
	int wake_fd;              /* readable: the daemon is shutting down */

	/* results, for the record */
	int status;
	const char *outcome;
	int exit_code;            /* -1: none */
	int signal;               /* 0: none */
	struct rusage ru;
	uint64_t bytes_in;
	uint64_t bytes_out;
	bool keep_conn_ok;        /* false: the connection must be closed */
};

/* Run INV->fn for INV->req and answer it. Sets the result fields. Never
 * fails the daemon: every error ends in a response (or a cut one). */
void pump_run(struct invocation *inv);

/* Microseconds since START on the monotonic clock. */
uint64_t pump_elapsed_us(const struct timespec *start);

#endif
