/* pump_int.h — inside one run of a function: the state pump.c (the
 * loop, stdin, stderr, exit and teardown) and response.c (stdout to
 * nginx) share. Not for other modules. */
#ifndef FN_PUMP_INT_H
#define FN_PUMP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <fcgiapp.h>

#include "bodyq.h"
#include "bodyreader.h"
#include "cgiresp.h"
#include "cgroup.h"
#include "invocation.h"

#define PUMP_BUF (64 * 1024)     /* stdout read at once */
#define SMALL_OUT 4096           /* stdout bytes copied into libfcgi's buffer */
#define HEAD_LOG 200             /* stdout bytes shown for a bad header block */
#define NO_LENGTH UINT64_MAX     /* body_left without a Content-Length */
#define STDERR_LINE 1024         /* longest stderr line logged whole */

struct pump {
	struct invocation *inv;
	FCGX_Stream *out;
	int ipc;
	int in_fd, out_fd, err_fd, pidfd;
	pid_t pid;
	bool exited, in_eof, out_eof, resp_done, headers_sent, aborted;
	bool timed_out, term_sent, group_killed, wrote_any, woken;
	bool pipes_grown;
	bool killed_after_answer;  /* SIGKILL at kill_at, the answer complete */
	uint64_t body_left;       /* bytes a Content-Length still announces */
	char head[HEAD_LOG];      /* the first bytes of stdout, for the log */
	size_t headlen;
	uint64_t deadline, kill_at, drain_until; /* monotonic us; 0: unset */
	struct cgleaf leaf;       /* the invocation's cgroup (dirfd -1: none) */
	struct nsslot *slot;      /* its kept mount namespace, or NULL */
	struct cgiresp *cgi;
	struct bodyreader *body;      /* the request body, from nginx */
	struct bodyq *bq;         /* body from nginx, not yet in the child */
	uint64_t stderr_kept, stderr_dropped;
	size_t errlen;
	size_t held;              /* stdout bytes in buf, not yet sent */
	char errline[STDERR_LINE];
	char *buf;                /* stdout bytes: small, or big once grown */
	size_t bufsize;
	char small[PUMP_BUF];
};

/* pump.c */
uint64_t pump_now_us(void);                 /* monotonic microseconds */
/* Signal the process group, only while its leader is not reaped (its
 * pid, and so the group id, cannot be reused before that). */
void pump_kill_group(struct pump *p, int sig);

/* response.c: the function's stdout becomes the FastCGI response. */
/* Bytes of stdout (after the request body is in: see bodyq.h). */
void response_stdout(struct pump *p, const char *data, size_t len);
/* stdout ended: a response whose headers went out is complete. */
void response_stdout_eof(struct pump *p);
/* The process has exited and its stdout is read: answer what is left. */
void response_after_exit(struct pump *p);
/* Complete the response (FCGI_END_REQUEST). */
void response_end(struct pump *p);
/* An error answer, or a cut response once headers went out. */
void response_fail(struct pump *p, int status, const char *code,
    const char *msg);
/* nginx (the client) went away: tear down at once. */
void response_abort(struct pump *p);

#endif
