/* tenants.c — shared hosting through real nginx: the queues in front of
 * a function's concurrency (first in first out, queue_timeout, a full
 * queue answers at once), and what the records and metrics say of the
 * wait.
 *
 * One nginx + daemon for the suite; every test asserts what the clients
 * saw, the records, and that no process of an invocation is left. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"
#include "harness_check.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct harness *H;

static const struct {
	const char *rel, *text;
} SCRIPTS[] = {
	/* appends its query to runs.log, then naps */
	{ "bin/line", "#!/bin/sh\necho \"$QUERY_STRING\" >> \"$RUNS\"\n"
	    "sleep 0.3\nprintf 'Content-Type: text/plain\\n\\n%s\\n' "
	    "\"$QUERY_STRING\"\n" },
	{ "bin/long", "#!/bin/sh\nsleep \"${QUERY_STRING:-2}\"\n"
	    "printf 'Content-Type: text/plain\\n\\ndone\\n'\n" },
	{ "bin/quick", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nq\\n'\n" },
};

static const char MANIFEST[] =
    "prefix: /fn/\n"
    "log: { invocations: @DIR@/records.jsonl }\n"
    "defaults: { timeout: 20s, kill_grace: 1s }\n"
    "functions:\n"
    "  line: { path: @DIR@/bin/line, concurrency: 1, queue: 8,"
    " queue_timeout: 10s, env: { RUNS: @DIR@/runs.log } }\n"
    "  waitshort: { path: @DIR@/bin/long, concurrency: 1, queue: 4,"
    " queue_timeout: 500ms }\n"
    "  full: { path: @DIR@/bin/long, concurrency: 1, queue: 1 }\n"
    "  burst: { path: @DIR@/bin/quick }\n";

static void
up(void)
{
	H = harness_new();
	ck_assert_msg(H != NULL, "cannot make the temp dir");
	for (size_t i = 0; i < sizeof(SCRIPTS) / sizeof(SCRIPTS[0]); i++)
		ck_assert(harness_write(H, SCRIPTS[i].rel, SCRIPTS[i].text,
		    0755) == 0);
	ck_assert(harness_write(H, "runs.log", "", 0666) == 0);
	ck_assert(harness_write(H, "manifest.yaml", MANIFEST, 0644) == 0);
	if (harness_start_daemon(H, "manifest.yaml", NULL) != 0 ||
	    harness_start_nginx(H, NULL) != 0)
		harness_abort(&H, "could not start nginx and the daemon");
}

static void
down(void)
{
	harness_free(H);
	H = NULL;
}

static void
no_leftovers(void)
{
	harness_assert_clean(H);
}

#define ASSERT_HAS(s, needle) \
	ck_assert_msg(strstr((s), (needle)) != NULL, "no %s in:\n%s", (needle), (s))

/* ---- requests at once ---------------------------------------------------- */

struct par {
	int status;
	double t_start, t_done;  /* from the start of the batch, seconds */
	char rid[40];
	char error[40];          /* the JSON error code, if any */
	char retry_after[16];
};

/* N requests to PATHS[i], each started GAP_MS after the one before, each
 * from a process of its own; what each got lands in OUT. */
static void
par_get(const char *const *paths, int n, int gap_ms, struct par *out)
{
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	struct par *shared;
	char file[512];
	double t0 = harness_now();

	ck_assert_ptr_nonnull(pids);
	ck_assert(harness_path(H, "par.bin", file, sizeof(file)) == 0);
	shared = calloc((size_t)n, sizeof(*shared));
	ck_assert_ptr_nonnull(shared);
	ck_assert(harness_write_file(file, shared, (size_t)n * sizeof(*shared),
	    0600) == 0);
	for (int i = 0; i < n; i++) {
		if (i > 0 && gap_ms > 0)
			harness_sleep_ms(gap_ms);
		pids[i] = fork();
		ck_assert(pids[i] >= 0);
		if (pids[i] == 0) {
			static const char *const args[] = { "--max-time", "60",
			    NULL };
			struct hresp r = { 0 };
			struct par p = { 0 };
			FILE *f;

			p.t_start = harness_now() - t0;
			if (harness_curl(H, &r, paths[i], args) == 0) {
				p.status = r.status;
				(void)hresp_header(&r, "X-Request-Id", p.rid,
				    sizeof(p.rid));
				(void)hresp_header(&r, "Retry-After",
				    p.retry_after, sizeof(p.retry_after));
				(void)harness_json_str(r.body, "error", p.error,
				    sizeof(p.error));
			}
			p.t_done = harness_now() - t0;
			if ((f = fopen(file, "r+")) != NULL &&
			    fseek(f, (long)((size_t)i * sizeof(p)), SEEK_SET) == 0)
				(void)fwrite(&p, sizeof(p), 1, f);
			if (f != NULL)
				fclose(f);
			_exit(0);
		}
	}
	for (int i = 0; i < n; i++)
		(void)waitpid(pids[i], NULL, 0);
	size_t len = 0;
	char *back = harness_read_file(file, &len);
	ck_assert_msg(back != NULL && len == (size_t)n * sizeof(*out),
	    "the results file");
	memcpy(out, back, len);
	free(back);
	free(shared);
	free(pids);
}

/* The record of request RID; waits up to 3 s. The caller frees it. */
static char *
record_of(const char *rid)
{
	char path[512], pat[96];
	double end = harness_now() + 3;

	snprintf(pat, sizeof(pat), "\"request_id\":\"%s\"", rid);
	ck_assert(harness_path(H, "records.jsonl", path, sizeof(path)) == 0);
	do {
		char *all = harness_read_file(path, NULL), *p, *nl;
		if (all != NULL && (p = strstr(all, pat)) != NULL) {
			while (p > all && p[-1] != '\n')
				p--;
			nl = strchr(p, '\n');
			char *line = strndup(p, nl ? (size_t)(nl - p) : strlen(p));
			free(all);
			return line;
		}
		free(all);
		harness_sleep_ms(50);
	} while (harness_now() < end);
	ck_abort_msg("no record for request %s", rid);
	return NULL;
}

static double
queue_ms_of(const char *rid)
{
	char *rec = record_of(rid), v[32];
	double ms;

	ck_assert_msg(harness_json_value(rec, "queue_ms", v, sizeof(v)) != NULL,
	    "no queue_ms in %s", rec);
	ms = strtod(v, NULL);
	free(rec);
	return ms;
}

/* Five requests, 100 ms apart, to a function that runs one at a time:
 * every one is served, in the order they came, and the later ones say
 * how long they waited. */
START_TEST(queue_is_fifo)
{
	static const char *const paths[] = { "/fn/line?a", "/fn/line?b",
	    "/fn/line?c", "/fn/line?d", "/fn/line?e" };
	struct par p[5];
	char runs[512], *order;

	par_get(paths, 5, 100, p);
	for (int i = 0; i < 5; i++)
		ck_assert_msg(p[i].status == 200, "%s: %d", paths[i],
		    p[i].status);
	ck_assert(harness_path(H, "runs.log", runs, sizeof(runs)) == 0);
	order = harness_read_file(runs, NULL);
	ck_assert_str_eq(order, "a\nb\nc\nd\ne\n");
	free(order);
	/* e waited for a, b, c and d (0.3 s each) less its 0.4 s start */
	ck_assert_msg(queue_ms_of(p[0].rid) < 100, "a waited");
	double qe = queue_ms_of(p[4].rid);
	ck_assert_msg(qe > 600 && qe < 2000, "e waited %.0f ms", qe);
	ck_assert_msg(p[4].t_done > 1.4, "e done at %.2f s", p[4].t_done);
}
END_TEST

/* One running 2 s, a second waiting 500 ms: 503 busy with Retry-After
 * after the wait, not before, and the record says it waited. */
START_TEST(queue_timeout_503)
{
	static const char *const paths[] = { "/fn/waitshort?2",
	    "/fn/waitshort?0" };
	struct par p[2];
	char *rec;

	par_get(paths, 2, 200, p);
	ck_assert_int_eq(p[0].status, 200);
	ck_assert_msg(p[1].status == 503 && strcmp(p[1].error, "busy") == 0 &&
	    strcmp(p[1].retry_after, "1") == 0, "second: %d %s Retry-After %s",
	    p[1].status, p[1].error, p[1].retry_after);
	double waited = p[1].t_done - p[1].t_start;
	ck_assert_msg(waited > 0.45 && waited < 1.5, "503 after %.3f s",
	    waited);
	rec = record_of(p[1].rid);
	ASSERT_HAS(rec, "\"status\":503,\"outcome\":\"rejected\"");
	ASSERT_HAS(rec, "\"error\":\"busy\"");
	free(rec);
	double q = queue_ms_of(p[1].rid);
	ck_assert_msg(q >= 450 && q < 1500, "queue_ms %.0f", q);
}
END_TEST

/* queue: 1 — the third while one runs and one waits is refused at
 * once; the waiting one is served. */
START_TEST(queue_full_503_at_once)
{
	static const char *const paths[] = { "/fn/full?1.5", "/fn/full?0",
	    "/fn/full?0" };
	struct par p[3];

	par_get(paths, 3, 200, p);
	ck_assert_int_eq(p[0].status, 200);
	ck_assert_int_eq(p[1].status, 200);
	ck_assert_msg(p[2].status == 503 && strcmp(p[2].error, "busy") == 0,
	    "third: %d %s", p[2].status, p[2].error);
	ck_assert_msg(p[2].t_done - p[2].t_start < 0.5,
	    "the full queue answered after %.3f s",
	    p[2].t_done - p[2].t_start);
	ck_assert_msg(p[1].t_done > 1.5, "the waiting one done at %.2f s",
	    p[1].t_done);
}
END_TEST

/* Defaults (concurrency 16, queue 256): 64 at once are all served; the
 * metrics carry the queue wait histogram. */
START_TEST(burst_served_with_defaults)
{
	enum { N = 64 };
	const char *paths[N];
	struct par p[N];
	struct hresp r = { 0 };
	int ok = 0;

	for (int i = 0; i < N; i++)
		paths[i] = "/fn/burst";
	par_get(paths, N, 0, p);
	for (int i = 0; i < N; i++)
		ok += p[i].status == 200;
	ck_assert_msg(ok == N, "%d of %d answered 200", ok, N);
	harness_req(H, &r, "/fn/_/metrics", NULL);
	ASSERT_HAS(r.body, "fnlauncher_queue_wait_seconds_count{function=\"burst\",tenant=\"\"}");
	ASSERT_HAS(r.body, "# TYPE fnlauncher_queued gauge");
	hresp_free(&r);
}
END_TEST

static Suite *
suite_tenants(void)
{
	Suite *s = suite_create("tenants");
	TCase *tc = harness_tcase("queues", 90, up, down, NULL, no_leftovers);

	tcase_add_test(tc, queue_is_fifo);
	tcase_add_test(tc, queue_timeout_503);
	tcase_add_test(tc, queue_full_503_at_once);
	tcase_add_test(tc, burst_served_with_defaults);
	suite_add_tcase(s, tc);
	return s;
}

HARNESS_BINARY(tenants, HARNESS_NEEDS_NGINX | HARNESS_NEEDS_CURL,
    .suite = suite_tenants);
