/* async.h — async invocations (issue 14): a request with
 * "Prefer: respond-async" (RFC 7240), or to a function with async: true,
 * is written to the spool before the client gets 202 Accepted and
 * Location: PREFIX_/jobs/ID; a runner thread replays it later as a
 * FastCGI request into a socketpair a connection thread serves, so a
 * job takes a request's own path (limits, identity, containment,
 * admission, teardown, record with "trigger": "async", job id and
 * attempt).
 *
 * The spool (spool_dir, one daemon each, locked):
 *   tmp/ID       a job being written (removed at start-up)
 *   new/ID       accepted: "fnljob1 KEY\n" then the request's FastCGI
 *                records (params and body); written, fsync'd, renamed
 *                here, the folder fsync'd — only then the 202
 *   results/ID   the last attempt's outcome: "fnljob1 STATE ATTEMPTS
 *                DUE_MS KEY\n" then the JSON GET PREFIX_/jobs/ID answers
 *   dead/ID      the request of a job whose retries ran out
 * A job stays in new/ until its result is on disk: a daemon killed at
 * any moment finds it there and runs it again (at-least-once). */
#ifndef FN_ASYNC_H
#define FN_ASYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <fcgiapp.h>

#include "manifest.h"
#include "preflight.h"

#define ASYNC_ID_LEN 32         /* hex digits of 128 random bits */

/* Start-up of the daemon: M's spool_dir made (0700) and locked, the
 * jobs in it read back. 0, or -1 (logged): async requests get 503. */
int async_open(const struct manifest *m);

/* The runner thread; 0 or -1. */
int async_start(void);
void async_stop(void);

/* What the runner takes from the manifest in use (start-up, reload):
 * workers, each function's concurrency, retries and retry_backoff,
 * async_keep, async_result_max. */
void async_load(const struct manifest *m);

/* true in a daemon that opened its spool (false under invoke). */
bool async_enabled(void);

/* true in a daemon (async_open was called), whether or not it could
 * open its spool: then async requests get 503, not a run. */
bool async_daemon(void);

/* The value of the FN_TRIGGER_KEY param of the runner's requests. */
const char *async_key(void);

/* Spool a request of function KEY: its PARAMS ("NAME=value"), the body
 * from BODY_FD (a file at offset 0) when not -1, else from IN, at most
 * MAX_BODY bytes (*BYTES: how many). ID gets the job's id. 0 once the
 * job is on disk, or -1 with errno (EFBIG: the body is over MAX_BODY;
 * ENOSYS: no spool; EAGAIN: async_max_jobs jobs are not finished). */
int async_spool(const char *key, char *const *params, FCGX_Stream *in,
    int body_fd, uint64_t max_body, char id[ASYNC_ID_LEN + 1],
    uint64_t *bytes);

/* How a run of a job ended, as its record says (request.c): the runner
 * decides on it, not on the answer alone (a function that crashes after
 * its headers answered 200). */
struct async_outcome {
	int status;
	const char *outcome;      /* ok, error, timeout, crashed, rejected... */
	const char *code;         /* fnlauncher's error code, or NULL */
	int signal;               /* 0: none */
	int exit_code;            /* -1: none */
};
void async_note(const char *id, const char *attempt,
    const struct async_outcome *o);

/* Job ID's state as JSON (malloc'd, *LEN bytes), or NULL: no such job
 * (ENOENT) or out of memory. */
char *async_status(const char *id, size_t *len);

/* For -t: the spool folder and what it holds; the number of errors. */
size_t async_describe(const struct manifest *m, preflight_report report,
    void *arg);

#endif
