/* ops.h — shared parts of the "ops" Check suite (running the daemon in
 * production, SPEC.md sections 2, 8 and 9): the fixture's servers, the
 * function scripts, and helpers. One file per area adds its TCases:
 * ops_observe.c (invocation records, function stderr, metrics),
 * ops_signals.c (reload under load, drain), ops_run.c (socket
 * activation, spawn-fcgi, readiness, `fnlauncher invoke`). */
#ifndef FN_T_OPS_H
#define FN_T_OPS_H

#include <check.h>
#include <stddef.h>
#include <sys/types.h>

#include "harness_check.h"

#define OPS_PYTHON "/usr/bin/python3"
#define OPS_PROMTOOL "/usr/bin/promtool"
#define OPS_SOCKET_ACTIVATE "/usr/bin/systemd-socket-activate"
#define OPS_SPAWN_FCGI "/usr/bin/spawn-fcgi"

/* The fixture's servers (NULL outside a TCase that has them). */
extern struct harness *ops_h;
extern char ops_checker[512];        /* t/data/check_records.py */
extern char ops_tag_hdr[160];        /* "X-Fnl-Test: <dir>" */
extern char ops_tag_env[160];        /* "HTTP_X_FNL_TEST=<dir>" */

/* Fixtures. ops_prepare: temp dir, the scripts of ops.c in bin/, and
 * manifest (may be NULL) as manifest.yaml. ops_start: the daemon (when
 * start_daemon) and nginx. ops_up: both. Abort the TCase on failure. */
void ops_prepare(const char *manifest);
void ops_start(int start_daemon);
void ops_up(const char *manifest, int start_daemon);
/* A TCase with setup/teardown as its unchecked fixture and, after every
 * test, a check that nothing of an invocation is left running. */
TCase *ops_tcase(const char *name, void (*setup)(void), int timeout);

void ops_add_observe(Suite *s);
void ops_add_signals(Suite *s);
void ops_add_run(Suite *s);

/* curl path through nginx with the tag header; must complete. */
void ops_req(struct hresp *r, const char *path, const char *const *args);
#define OPS_ASSERT_STATUS(what, r, want) \
	ck_assert_msg((r)->status == (want), \
	    "%s: status %d, want %d; headers:\n%s\nbody:\n%.500s\n" \
	    "log tail:\n%s", (what), (r)->status, (want), (r)->headers, \
	    (r)->body, harness_log_tail(ops_h))
/* X-Request-Id of r into rid (asserted present). */
void ops_rid_of(const struct hresp *r, char *rid, size_t len);
/* GET path: its status; its request id into rid and a copy of its body
 * into *body (the caller frees) when not NULL. */
int ops_get(const char *path, char *rid, size_t len, char **body);
/* Lines of the daemon log that contain every needle (NULL terminated). */
int ops_log_count(const char *const *needles);
/* Poll up to ms until ops_log_count(needles) >= want; the last count. */
int ops_log_wait(const char *const *needles, int want, int ms);
/* Entries of dir/rel whose name starts with prefix; -1 on error. */
#define ops_dir_count(rel, prefix) harness_dir_count(ops_h, (rel), (prefix))

/* A tagged curl in a forked child; status, request id and body come back
 * through a pipe. ops_bg_wait waits up to ms and returns the status (0
 * if it did not report). */
struct ops_bg {
	pid_t pid;
	int fd;
};
void ops_bg_start(struct ops_bg *b, const char *path);
int ops_bg_wait(struct ops_bg *b, int ms, char *rid, size_t rlen,
    char *body, size_t blen);

/* One invocation record, as t/data/check_records.py summarizes it. */
struct ops_rec {
	char rid[96], fn[96], outcome[96];
	int fn_null;
	int status, exit_code, sig;    /* exit_code -1, sig 0: null */
	long rss;
	double cpu_user, duration;
	long long bytes_in, bytes_out;
};
/* Validate the JSON lines of path (asserted) and parse them into *out
 * (the caller frees); the count. */
size_t ops_load_records(const char *path, struct ops_rec **out);
/* The record of rid (asserted unique); NULL if none. */
const struct ops_rec *ops_find_rec(const struct ops_rec *v, size_t n,
    const char *rid);
/* Poll up to ms until dir/rel has a record for every rid (NULL
 * terminated); the records loaded last. */
size_t ops_wait_records(const char *rel, const char *const *rids,
    struct ops_rec **out, int ms);

/* Value of sample name{labels} ("k=v" strings, NULL terminated, any
 * order, exactly these labels) in a Prometheus text exposition; 0 when
 * absent. */
double ops_metric(const char *text, const char *name,
    const char *const *labels);
/* GET /_/metrics (asserted 200, text/plain); the caller frees. */
char *ops_get_metrics(void);

#endif
