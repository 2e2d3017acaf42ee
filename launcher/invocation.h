/* invocation.h — everything of one request, owned in one place.
 *
 * invocation_new() takes a reference to the manifest in use and reads
 * what the record needs from the params; the request stage (request.c)
 * fills in the function, its place among those in flight, argv and
 * envp; the pump (pump.c) the results. invocation_free() lets go of all
 * of it. A local redirect (RFC 3875 section 6.2.2) runs a second
 * function for the same request: invocation_redirect() keeps what
 * belongs to the request and clears what belonged to the first run. */
#ifndef FN_INVOCATION_H
#define FN_INVOCATION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>
#include <fcgiapp.h>

#include "inflight.h"
#include "manifest.h"
#include "mref.h"

#define INVOCATION_MAX_REDIRECTS 10     /* as Apache's default */

struct invocation {
	FCGX_Request *req;
	struct mref *mref;        /* the manifest it started with (a reference) */
	const struct manifest *m; /* mref->m */
	const struct manifest *scope; /* where fn was found: m or a tenant */
	const struct manifest *first_scope; /* before local redirects */
	char *const *params;      /* req->envp, or a redirect's params */
	char request_id[24];
	const char *method;
	const char *uri;
	const char *remote_addr;
	struct timespec start;    /* monotonic, when the request was read */
	int wake_fd;              /* readable: the daemon is shutting down */

	/* the function, for the run under way */
	const struct fn_spec *fn;
	struct fn_spec dropin;    /* a drop-in's spec (defaults copied) */
	struct inflight slot;     /* its place among those in flight */
	char **envp;              /* cgienv_build(), one allocation */
	char **argv;              /* one allocation */
	char fname[FN_NAME_MAX + 1]; /* requested name, when none matched */
	bool ran;                 /* a process was started for it */

	/* results, for the record */
	int status;
	const char *outcome;
	const char *code;         /* error code when fnlauncher answered */
	int exit_code;            /* -1: none */
	int signal;               /* 0: none */
	struct rusage ru;         /* of the run under way */
	bool cg_valid;            /* its cgroup leaf's usage, when it had one: */
	uint64_t cg_user_us, cg_sys_us;   /* cpu.stat, every descendant */
	bool cg_memory;           /* the memory controller was on: */
	uint64_t cg_memory_peak;  /*   memory.peak, bytes */
	uint64_t cg_oom_kills;    /*   memory.events oom_kill */
	uint64_t cpu_user_us;     /* of every run so far */
	uint64_t cpu_sys_us;
	long max_rss_kb;
	long memory_peak_kb;      /* -1: no memory controller */
	uint64_t oom_kills;
	int body_fd;              /* the whole body, read to check auth: (-1) */
	const char *trigger;      /* NULL: http; "schedule", "async" */
	const char *job_id;       /* async: the job (a param, or job_id_buf) */
	const char *job_attempt;  /* async: its attempt, from 1 */
	char job_id_buf[40];      /* the job an HTTP request was spooled as */
	uint64_t queue_us;        /* waited in the queue */
	bool asked_admission;     /* went through admit() */
	uint64_t bytes_in;
	uint64_t bytes_out;
	bool keep_conn_ok;        /* false: the connection must be closed */
	bool complete;            /* the client got the whole response */

	/* a local redirect the function asked for */
	char *redirect;           /* its Location, until it is followed */
	char *redirected_from;    /* the first run's function, for the record */
	unsigned redirects;
	char **params_own;        /* the redirect's params (one allocation) */
};

/* A new invocation of REQ, holding a reference to the manifest in use.
 * NULL on ENOMEM. */
struct invocation *invocation_new(FCGX_Request *req, int wake_fd);

/* Let go of everything INV holds. invocation_free(NULL) is a no-op. */
void invocation_free(struct invocation *inv);

/* After a run: its CPU and memory into the invocation's totals. */
void invocation_add_usage(struct invocation *inv);

/* Follow INV->redirect: the params become those of a GET of that path
 * (no body), and what belonged to the run before is cleared. 0, or -1
 * on ENOMEM. */
int invocation_redirect(struct invocation *inv);

/* Microseconds since INV started, on the monotonic clock. */
uint64_t invocation_elapsed_us(const struct invocation *inv);

#endif
