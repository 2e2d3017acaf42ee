/* tenants.c — shared hosting through real nginx: the queues in front of
 * a function's concurrency (first in first out, queue_timeout, a full
 * queue answers at once), and what the records and metrics say of the
 * wait; tenants (as root, with test users fnlt-alice and fnlt-bob):
 * routing by ~NAME and Host, their users and folders, budgets between
 * them, what a tenant file may not ask, a broken file on reload, and
 * `fnlauncher usage` over their records.
 *
 * One nginx + daemon for the suite; every test asserts what the clients
 * saw, the records, and that no process of an invocation is left. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"
#include "harness_check.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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
	char *line = harness_record(H, "records.jsonl", rid, 3000);

	ck_assert_msg(line != NULL, "no record for request %s", rid);
	return line;
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

/* ---- tenants ------------------------------------------------------------ */

static struct harness *T;      /* nginx + daemon with tenants (root) */
static uid_t alice_uid, bob_uid;

static const char TENANT_MANIFEST[] =
    "prefix: /fn/\n"
    "workers: 32\n"
    "spool_dir: @DIR@/async-spool\n"
    "tenants_dir: @DIR@/tenants.d\n"
    "tenant_max: { timeout: 30s, concurrency: 8, max_body: 1M,"
    " limits: { memory: 1G } }\n"
    "log: { invocations: \"@DIR@/records/%t.jsonl\" }\n"
    "defaults: { timeout: 20s, kill_grace: 1s }\n"
    "functions:\n"
    "  mainwho: { path: @DIR@/bin/who }\n"
    "  maincg: { path: @DIR@/bin/cg }\n";

static const char ALICE[] =
    "user: fnlt-alice\n"
    "functions_dir: @DIR@/alice/fn\n"
    "hosts: [alice.example.org]\n"
    "budget: { concurrency: 2, queue: 3, memory: 256M, pids: 100,"
    " cpu_quota: 150% }\n"
    "defaults: { timeout: 10s, queue_timeout: 5s }\n"
    "functions:\n"
    "  who: { path: who }\n"
    "  slow: { path: slow }\n"
    "  slow2: { path: slow }\n"
    "  slow3: { path: slow }\n"
    "  slow4: { path: slow }\n";

static const char BOB[] =
    "user: fnlt-bob\n"
    "functions_dir: @DIR@/bob/fn\n"
    "functions:\n"
    "  who: { path: who }\n";

#define WHO "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n" \
    "echo \"uid=$(id -u) sn=$SCRIPT_NAME pi=$PATH_INFO name=$FN_NAME\"\n" \
    "cat >/dev/null\n"
#define SLOW "#!/bin/sh\nsleep 1\nprintf 'Content-Type: text/plain\\n\\n" \
    "done\\n'\n"
/* its cgroup v2 folder, and its parent's budget files ("-": none) */
#define CGINFO "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n" \
    "m=$(grep ' - cgroup2 ' /proc/self/mountinfo | head -n 1 | cut -d' ' -f5)\n" \
    "p=$(sed -n 's/^0:://p' /proc/self/cgroup)\n" \
    "echo \"leaf=$p\"\n" \
    "for f in memory.max pids.max cpu.max; do\n" \
    "  if [ -r \"$m$p/../$f\" ]; then echo \"$f=$(cat \"$m$p/../$f\")\"; " \
    "else echo \"$f=-\"; fi\n" \
    "done\n"

static void
mkdir_owned(const char *rel, uid_t uid, mode_t mode)
{
	char path[512];

	ck_assert(harness_path(T, rel, path, sizeof(path)) == 0);
	ck_assert_msg(mkdir(path, mode) == 0 || errno == EEXIST, "mkdir %s",
	    path);
	ck_assert(chown(path, uid, (gid_t)-1) == 0);
	ck_assert(chmod(path, mode) == 0);
}

static void
tup(void)
{
	gid_t g;

	if (geteuid() != 0)
		return;                 /* every test says SKIP */
	T = harness_new();
	ck_assert_msg(T != NULL, "cannot make the temp dir");
	ck_assert(harness_ensure_user("fnlt-alice", &alice_uid, &g) == 0);
	ck_assert(harness_ensure_user("fnlt-bob", &bob_uid, &g) == 0);
	ck_assert(harness_write(T, "bin/who", WHO, 0755) == 0);
	ck_assert(harness_write(T, "bin/cg", CGINFO, 0755) == 0);
	mkdir_owned("tenants.d", 0, 0755);
	mkdir_owned("records", 0, 0755);
	mkdir_owned("bad.d", 0, 0755);
	mkdir_owned("alice", 0, 0755);
	mkdir_owned("alice/fn", alice_uid, 0755);
	mkdir_owned("bob", 0, 0755);
	mkdir_owned("bob/fn", bob_uid, 0755);
	ck_assert(harness_write(T, "alice/fn/who", WHO, 0755) == 0);
	ck_assert(harness_write(T, "alice/fn/slow", SLOW, 0755) == 0);
	ck_assert(harness_write(T, "alice/fn/hello", "#!/bin/sh\n"
	    "printf 'Content-Type: text/plain\\n\\nhi from a drop-in\\n'\n",
	    0755) == 0);
	ck_assert(harness_write(T, "alice/fn/gw", WHO, 0775) == 0);
	ck_assert(harness_write(T, "alice/fn/cg", CGINFO, 0755) == 0);
	/* asks nginx for the admin endpoint, as any local process may */
	ck_assert(harness_write(T, "alice/fn/peek", "#!/bin/sh\n"
	    "printf 'Content-Type: text/plain\\n\\n'\n"
	    "curl -s -o /dev/null -w '%{http_code}\\n' "
	    "\"http://127.0.0.1:$(cat @DIR@/records/port)/fn/_/metrics\"\n",
	    0755) == 0);
	/* local redirects out of alice's functions */
	ck_assert(harness_write(T, "alice/fn/hop", "#!/bin/sh\n"
	    "printf 'Location: /fn/~bob/who\\n\\n'\n", 0755) == 0);
	ck_assert(harness_write(T, "alice/fn/hopmain", "#!/bin/sh\n"
	    "printf 'Location: /fn/mainwho\\n\\n'\n", 0755) == 0);
	ck_assert(harness_write(T, "alice/fn/hopself", "#!/bin/sh\n"
	    "printf 'Location: /fn/~alice/who\\n\\n'\n", 0755) == 0);
	ck_assert(harness_write(T, "bob/fn/who", WHO, 0755) == 0);
	ck_assert(harness_write(T, "tenants.d/alice.yaml", ALICE, 0644) == 0);
	ck_assert(harness_write(T, "tenants.d/bob.yaml", BOB, 0644) == 0);
	ck_assert(harness_write(T, "manifest.yaml", TENANT_MANIFEST, 0644) == 0);
	char link[512];
	ck_assert(harness_path(T, "alice/fn/evil", link, sizeof(link)) == 0);
	ck_assert(symlink("/usr/bin/id", link) == 0);
	if (harness_start_daemon(T, "manifest.yaml", NULL) != 0 ||
	    harness_start_nginx(T, NULL) != 0)
		harness_abort(&T, "could not start nginx and the daemon");
}

static void
tdown(void)
{
	harness_free(T);
	T = NULL;
}

static void
t_no_leftovers(void)
{
	if (T != NULL)
		harness_assert_clean(T);
}

/* GET PATH through T's nginx with Host HOST (NULL: the default). */
static void
tget(struct hresp *r, const char *path, const char *host)
{
	char hdr[128];
	const char *args[] = { "-H", hdr, NULL };

	snprintf(hdr, sizeof(hdr), "Host: %s", host ? host : "localhost");
	harness_req(T, r, path, args);
}

/* The record of RID in records/FILE; waits up to 3 s. */
static char *
trecord(const char *file, const char *rid)
{
	char rel[128], *line;

	snprintf(rel, sizeof(rel), "records/%s", file);
	line = harness_record(T, rel, rid, 3000);
	ck_assert_msg(line != NULL, "no record for %s in %s", rid, file);
	return line;
}

/* An async job of a tenant's function (by PREFIX~TENANT/NAME and by its
 * Host) runs as the tenant's, its record in the tenant's log with
 * "trigger":"async"; the job's state names the tenant. */
START_TEST(tenant_async_job)
{
	const char *const hosts[] = { NULL, "alice.example.org" };
	const char *const paths[] = { "/fn/~alice/who", "/fn/who" };

	harness_skip_if(harness_not_root());
	for (int k = 0; k < 2; k++) {
		struct hresp r = { 0 };
		char hdr[128], loc[256], want[320], st[16] = "";
		const char *args[] = { "-H", hdr, "-H", "Prefer: respond-async",
		    NULL };
		double until = harness_now() + 10;

		snprintf(hdr, sizeof(hdr), "Host: %s", hosts[k] ? hosts[k] :
		    "localhost");
		harness_req(T, &r, paths[k], args);
		ck_assert_msg(r.status == 202, "%s: %d %s", paths[k], r.status,
		    r.body);
		ck_assert(hresp_header(&r, "Location", loc, sizeof(loc)) != NULL);
		hresp_free(&r);
		do {
			hresp_free(&r);
			harness_sleep_ms(100);
			tget(&r, loc, NULL);
			ck_assert_int_eq(r.status, 200);
			(void)harness_json_str(r.body, "status", st, sizeof(st));
		} while (strcmp(st, "done") != 0 && harness_now() < until);
		ck_assert_msg(strcmp(st, "done") == 0, "%s", r.body);
		ASSERT_HAS(r.body, "\"tenant\":\"alice\"");
		snprintf(want, sizeof(want), "uid=%u sn=%s pi= name=who",
		    (unsigned)alice_uid, paths[k]);
		ASSERT_HAS(r.body, want);
		{	/* the run's record: in alice's log, with the job */
			char path[512], *all;
			ck_assert(harness_path(T, "records/alice.jsonl", path,
			    sizeof(path)) == 0);
			all = harness_read_file(path, NULL);
			ck_assert_ptr_nonnull(all);
			snprintf(want, sizeof(want), "\"trigger\":\"async\","
			    "\"job_id\":\"%s\"", loc + strlen("/fn/_/jobs/"));
			ASSERT_HAS(all, want);
			free(all);
		}
		hresp_free(&r);
	}
}
END_TEST

/* PREFIX~TENANT/NAME and a tenant's Host: its functions, its user, its
 * drop-ins, its log file; another tenant's name is another function. */
START_TEST(tenant_routes)
{
	struct hresp r = { 0 };
	char want[256], rid[64], *rec;

	harness_skip_if(harness_not_root());
	tget(&r, "/fn/~alice/who/x/y", NULL);
	ck_assert_int_eq(r.status, 200);
	snprintf(want, sizeof(want), "uid=%u sn=/fn/~alice/who pi=/x/y "
	    "name=who\n", (unsigned)alice_uid);
	ck_assert_str_eq(r.body, want);
	ck_assert(hresp_header(&r, "X-Request-Id", rid, sizeof(rid)) != NULL);
	rec = trecord("alice.jsonl", rid);
	ASSERT_HAS(rec, "\"function\":\"who\",\"tenant\":\"alice\"");
	free(rec);
	hresp_free(&r);

	tget(&r, "/fn/~bob/who", NULL);
	ck_assert_int_eq(r.status, 200);
	snprintf(want, sizeof(want), "uid=%u sn=/fn/~bob/who pi= name=who\n",
	    (unsigned)bob_uid);
	ck_assert_str_eq(r.body, want);
	hresp_free(&r);

	/* alice's Host: PREFIX FUNCTION is hers */
	tget(&r, "/fn/who", "alice.example.org:8080");
	ck_assert_int_eq(r.status, 200);
	snprintf(want, sizeof(want), "uid=%u sn=/fn/who pi= name=who\n",
	    (unsigned)alice_uid);
	ck_assert_str_eq(r.body, want);
	hresp_free(&r);
	/* another Host: the main manifest's; "who" is not one of them */
	tget(&r, "/fn/who", "other.example.org");
	ck_assert_int_eq(r.status, 404);
	hresp_free(&r);
	tget(&r, "/fn/mainwho", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert(hresp_header(&r, "X-Request-Id", rid, sizeof(rid)) != NULL);
	rec = trecord("_main.jsonl", rid);
	ASSERT_HAS(rec, "\"function\":\"mainwho\",\"tenant\":\"\"");
	free(rec);
	hresp_free(&r);

	/* a drop-in of alice's folder */
	tget(&r, "/fn/~alice/hello", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "hi from a drop-in\n");
	hresp_free(&r);
	/* no such tenant; bob has no "slow" */
	tget(&r, "/fn/~carol/who", NULL);
	ck_assert_int_eq(r.status, 404);
	hresp_free(&r);
	tget(&r, "/fn/~bob/slow", NULL);
	ck_assert_int_eq(r.status, 404);
	hresp_free(&r);
	/* the metrics say whose */
	tget(&r, "/fn/_/metrics", NULL);
	ASSERT_HAS(r.body, "fnlauncher_invocations_total{function=\"who\","
	    "tenant=\"alice\",outcome=\"ok\"}");
	ASSERT_HAS(r.body, "fnlauncher_invocations_total{function=\"mainwho\","
	    "tenant=\"\",outcome=\"ok\"}");
	hresp_free(&r);
}
END_TEST

/* The value of "NAME=" in BODY's lines, into BUF; NULL if absent. */
static const char *
line_val(const char *body, const char *name, char *buf, size_t len)
{
	return harness_line_value(body, name, '=', buf, len);
}

/* alice's invocations run in leaves under her own cgroup folder
 * t-alice; where the controllers are on there, it has her budget. */
START_TEST(tenant_cgroup_folder)
{
	struct hresp r = { 0 };
	char leaf[512], v[64];

	harness_skip_if(harness_not_root());
	tget(&r, "/fn/maincg", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert(line_val(r.body, "leaf", leaf, sizeof(leaf)) != NULL);
	hresp_free(&r);
	if (strstr(leaf, "/i-") == NULL)
		harness_skip("no cgroup leaf per invocation here (%s)", leaf);
	ck_assert_msg(strstr(leaf, "/t-") == NULL, "main: %s", leaf);
	tget(&r, "/fn/~alice/cg", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert(line_val(r.body, "leaf", leaf, sizeof(leaf)) != NULL);
	ck_assert_msg(strstr(leaf, "/t-alice/i-") != NULL,
	    "alice's function runs in %s", leaf);
	if (strcmp(line_val(r.body, "memory.max", v, sizeof(v)), "-") == 0) {
		hresp_free(&r);
		harness_skip("no memory controller in the daemon's cgroup subtree "
		    "(here cgroup v1 holds the controllers): alice's budget "
		    "memory/pids/cpu_quota are not applied");
	}
	ck_assert_str_eq(line_val(r.body, "memory.max", v, sizeof(v)),
	    "268435456");
	ck_assert_str_eq(line_val(r.body, "pids.max", v, sizeof(v)), "100");
	ck_assert_str_eq(line_val(r.body, "cpu.max", v, sizeof(v)),
	    "150000 100000");
	hresp_free(&r);
}
END_TEST

/* A tenant's function is a function: nginx lets it (127.0.0.1) ask for
 * the admin endpoints, the daemon does not; and its local redirects stay
 * within the tenant. */
START_TEST(tenant_is_contained)
{
	struct hresp r = { 0 };
	char port[16];

	harness_skip_if(harness_not_root());
	snprintf(port, sizeof(port), "%d", T->port);
	ck_assert(harness_write(T, "records/port", port, 0644) == 0);
	tget(&r, "/fn/_/metrics", NULL);
	ck_assert_int_eq(r.status, 200);        /* the test itself may */
	hresp_free(&r);
	tget(&r, "/fn/~alice/peek", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strcmp(r.body, "403\n") == 0, "alice's function got "
	    "the metrics: %s", r.body);
	hresp_free(&r);
	tget(&r, "/fn/~alice/hop", NULL);
	ck_assert_msg(r.status == 502, "redirect into bob's: %d %s", r.status,
	    r.body);
	hresp_free(&r);
	tget(&r, "/fn/~alice/hopmain", NULL);
	ck_assert_int_eq(r.status, 502);
	hresp_free(&r);
	tget(&r, "/fn/~alice/hopself", NULL);
	ck_assert_int_eq(r.status, 200);
	ASSERT_HAS(r.body, "sn=/fn/~alice/who");
	hresp_free(&r);
}
END_TEST

/* In alice's folder: a symlink is no drop-in, a group-writable
 * executable is refused. */
START_TEST(tenant_folder_checks)
{
	struct hresp r = { 0 };

	harness_skip_if(harness_not_root());
	tget(&r, "/fn/~alice/evil", NULL);
	ck_assert_int_eq(r.status, 404);
	hresp_free(&r);
	tget(&r, "/fn/~alice/gw", NULL);
	ck_assert_int_eq(r.status, 403);
	hresp_free(&r);
}
END_TEST

/* alice floods 64 slow requests over four functions (budget 2 in
 * flight, 3 waiting): 2 + 3 served, 59 refused at once; bob, meanwhile,
 * is served at once every time. */
START_TEST(noisy_neighbour)
{
	static const char *const slow[] = { "/fn/~alice/slow",
	    "/fn/~alice/slow2", "/fn/~alice/slow3", "/fn/~alice/slow4" };
	enum { NA = 64, NB = 4 };
	const char *paths[NA + NB];
	struct par p[NA + NB];
	int ok = 0, busy = 0, queued = 0;

	harness_skip_if(harness_not_root());
	H = T;                  /* par_get and record_of use H */
	for (int i = 0; i < NA; i++)
		paths[i] = slow[i % 4];
	for (int i = NA; i < NA + NB; i++)
		paths[i] = "/fn/~bob/who";
	par_get(paths, NA + NB, 0, p);
	for (int i = 0; i < NA; i++) {
		if (p[i].status == 200) {
			ok++;
			char *rec = trecord("alice.jsonl", p[i].rid), v[32];
			ck_assert(harness_json_value(rec, "queue_ms", v,
			    sizeof(v)) != NULL);
			queued += strtod(v, NULL) >= 800;
			free(rec);
		} else if (p[i].status == 503 &&
		    strcmp(p[i].error, "busy") == 0) {
			busy++;
			ck_assert_msg(p[i].t_done - p[i].t_start < 0.9,
			    "a refusal took %.2f s", p[i].t_done - p[i].t_start);
		}
	}
	ck_assert_msg(ok == 5 && busy == NA - 5, "alice: %d x 200, %d x 503 "
	    "busy; want 5 and %d", ok, busy, NA - 5);
	ck_assert_msg(queued == 3, "%d of alice's served requests waited "
	    "about a second or more, want 3", queued);
	for (int i = NA; i < NA + NB; i++) {
		ck_assert_msg(p[i].status == 200, "bob: %d", p[i].status);
		ck_assert_msg(p[i].t_done - p[i].t_start < 0.9, "bob waited "
		    "%.2f s", p[i].t_done - p[i].t_start);
	}
	H = NULL;
}
END_TEST

/* Run fnlauncher -t -c FILE --tenant NAME: its exit status and output. */
static int
check_tenant(const char *manifest, const char *name, char **out)
{
	char mpath[512];
	const char *argv[] = { harness_fnl_bin, "-t", "-c", mpath, "--tenant",
	    name, NULL };
	int st;

	ck_assert(harness_path(T, manifest, mpath, sizeof(mpath)) == 0);
	if (name == NULL)
		argv[4] = NULL;         /* every tenant file */
	st = harness_run(argv, NULL, NULL, out, NULL, NULL, 10000);
	ck_assert(st >= 0 && WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* What a tenant file may not do, each refused by -t with its place. */
START_TEST(tenant_file_refusals)
{
	static const struct {
		const char *name, *text, *want;
	} bad[] = {
		{ "over", "user: fnlt-alice\nfunctions:\n"
		    "  f: { path: /bin/true, timeout: 60s }\n",
		    "over.yaml:3:34: \"timeout\" 60s is above tenant_max (30s)" },
		{ "mem", "user: fnlt-alice\ndefaults:\n"
		    "  limits: { memory: 2G }\n",
		    "mem.yaml:3:21: \"memory\" 2G is above tenant_max (1G)" },
		{ "conc", "user: fnlt-alice\nbudget: { concurrency: 9 }\n",
		    "budget \"concurrency\" 9 is above tenant_max (8)" },
		{ "rooted", "user: root\n",
		    "rooted.yaml: user \"root\": a tenant never runs as root" },
		{ "other", "user: fnlt-alice\nfunctions:\n"
		    "  f: { path: /bin/true, user: fnlt-bob }\n",
		    "other.yaml:3:25: \"user\" is not allowed in a tenant file" },
		{ "grp", "user: fnlt-alice\ndefaults: { group: root }\n",
		    "grp.yaml:2:13: \"group\" is not allowed in a tenant file" },
		{ "asroot", "user: fnlt-alice\ndefaults: { allow_root: true }\n",
		    "\"allow_root\" is not allowed in a tenant file" },
		{ "accel", "user: fnlt-alice\nfunctions:\n"
		    "  f: { path: /bin/true, trust_accel_headers: true }\n",
		    "\"trust_accel_headers\" is not allowed in a tenant file" },
		{ "weak", "user: fnlt-alice\ndefaults: { isolate: [] }\n",
		    "weak.yaml:2:22: \"isolate\" in a tenant file must keep" },
		{ "nouser", "functions: {}\n",
		    "a tenant file needs \"user\"" },
		{ "ghost", "user: fnlt-nosuchuser\n", "no such user" },
		{ "typo", "user: fnlt-alice\nbudgett: {}\n",
		    "typo.yaml:2:1: unknown key \"budgett\" at top level" },
	};
	char *out = NULL;

	harness_skip_if(harness_not_root());
	ck_assert(harness_write(T, "check.yaml", "tenants_dir: bad.d\n"
	    "tenant_max: { timeout: 30s, concurrency: 8, limits: "
	    "{ memory: 1G } }\n", 0644) == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char rel[96];
		snprintf(rel, sizeof(rel), "bad.d/%s.yaml", bad[i].name);
		ck_assert(harness_write(T, rel, bad[i].text, 0644) == 0);
		ck_assert_msg(check_tenant("check.yaml", bad[i].name, &out) == 1,
		    "%s: -t said OK:\n%s", bad[i].name, out);
		ck_assert_msg(strstr(out, bad[i].want) != NULL,
		    "%s: no \"%s\" in:\n%s", bad[i].name, bad[i].want, out);
		free(out);
		out = NULL;
	}
	/* the admin's file: not writable by others; the tenant's folder:
	 * not writable by group */
	ck_assert(harness_write(T, "bad.d/loose.yaml", "user: fnlt-alice\n",
	    0666) == 0);
	ck_assert_int_eq(check_tenant("check.yaml", "loose", &out), 1);
	ASSERT_HAS(out, "must be owned by root and not writable by group or "
	    "others");
	free(out);
	mkdir_owned("alice/gwdir", alice_uid, 0775);
	ck_assert(harness_write(T, "bad.d/gwdir.yaml", "user: fnlt-alice\n"
	    "functions_dir: @DIR@/alice/gwdir\n", 0644) == 0);
	ck_assert_int_eq(check_tenant("check.yaml", "gwdir", &out), 1);
	ASSERT_HAS(out, "writable by group or others");
	free(out);
	ck_assert(harness_write(T, "bad.d/dynfolder.yaml", "user: dynamic\n"
	    "functions_dir: @DIR@/alice/fn\n", 0644) == 0);
	ck_assert_int_eq(check_tenant("check.yaml", "dynfolder", &out), 1);
	ASSERT_HAS(out, "needs a folder owned by root");
	free(out);
	ck_assert_int_eq(check_tenant("check.yaml", "nosuch", &out), 1);
	ASSERT_HAS(out, "no tenant file nosuch.yaml");
	free(out);
	/* plain -t (systemd's ExecReload): the broken files are warnings,
	 * the others' reload goes on */
	ck_assert_int_eq(check_tenant("check.yaml", NULL, &out), 0);
	ASSERT_HAS(out, "warning: ");
	ASSERT_HAS(out, "over.yaml:3:34: \"timeout\" 60s is above tenant_max");
	ASSERT_HAS(out, "configuration OK");
	free(out);
	/* a good one */
	ck_assert(harness_write(T, "bad.d/fine.yaml", "user: fnlt-alice\n"
	    "functions:\n  f: { path: /bin/true, timeout: 30s }\n", 0644) == 0);
	ck_assert_msg(check_tenant("check.yaml", "fine", &out) == 0, "%s", out);
	ASSERT_HAS(out, "configuration OK");
	free(out);
}
END_TEST

/* SIGHUP with alice's file broken and a new broken carol: alice keeps
 * what she had, carol is left out, bob is untouched; each problem is
 * logged with its place. */
START_TEST(broken_tenant_keeps_old)
{
	static const char *const kept[] = { "alice.yaml", "keeps its last good "
	    "version", NULL };
	static const char *const where[] = { "alice.yaml:2:1: unknown key "
	    "\"functions_dirr\"", NULL };
	static const char *const left[] = { "carol.yaml", "is left out", NULL };
	struct hresp r = { 0 };
	double end;

	harness_skip_if(harness_not_root());
	ck_assert(harness_write(T, "tenants.d/alice.yaml", "user: fnlt-alice\n"
	    "functions_dirr: /nowhere\n", 0644) == 0);
	ck_assert(harness_write(T, "tenants.d/carol.yaml", "user: fnlt-alice\n"
	    "functions: { x: 1 }\n", 0644) == 0);
	ck_assert_int_eq(kill(T->daemon_pid, SIGHUP), 0);
	end = harness_now() + 5;
	while (!harness_log_has(T, left) && harness_now() < end)
		harness_sleep_ms(50);
	ck_assert_msg(harness_log_has(T, kept) && harness_log_has(T, where) &&
	    harness_log_has(T, left), "log:\n%s", harness_log_tail(T));
	tget(&r, "/fn/~alice/who", NULL);
	ck_assert_int_eq(r.status, 200);
	hresp_free(&r);
	tget(&r, "/fn/~bob/who", NULL);
	ck_assert_int_eq(r.status, 200);
	hresp_free(&r);
	tget(&r, "/fn/~carol/x", NULL);
	ck_assert_int_eq(r.status, 404);
	hresp_free(&r);
	/* fixed: alice's new version is served */
	ck_assert(harness_write(T, "tenants.d/alice.yaml", ALICE, 0644) == 0);
	ck_assert(harness_write(T, "tenants.d/carol.yaml", "user: fnlt-bob\n"
	    "functions_dir: @DIR@/bob/fn\n", 0644) == 0);
	ck_assert_int_eq(kill(T->daemon_pid, SIGHUP), 0);
	end = harness_now() + 5;
	do {
		hresp_free(&r);
		harness_sleep_ms(100);
		tget(&r, "/fn/~carol/who", NULL);
	} while (r.status != 200 && harness_now() < end);
	ck_assert_int_eq(r.status, 200);
	hresp_free(&r);
}
END_TEST

/* fnlauncher usage over the records: exactly what was run since T. */
START_TEST(usage_matches)
{
	static const char *const post100[] = { "-X", "POST", "--data-binary",
	    "@-", NULL };
	struct hresp r = { 0 };
	char since[32], glob[600], *out = NULL;
	time_t now;
	struct tm tm;

	(void)post100;
	harness_skip_if(harness_not_root());
	/* a fresh second: nothing earlier counts */
	now = time(NULL);
	while (time(NULL) == now)
		harness_sleep_ms(20);
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%S", &tm);
	for (int i = 0; i < 3; i++) {
		const char *args[] = { "-H", "Host: localhost", "--data-binary",
		    i == 0 ? "0123456789" : "01234", NULL };
		harness_req(T, &r, "/fn/~bob/who", args);
		ck_assert_int_eq(r.status, 200);
		hresp_free(&r);
	}
	for (int i = 0; i < 2; i++) {
		tget(&r, "/fn/~alice/who", NULL);
		ck_assert_int_eq(r.status, 200);
		hresp_free(&r);
	}
	tget(&r, "/fn/~alice/nosuch", NULL);
	ck_assert_int_eq(r.status, 404);
	hresp_free(&r);
	harness_sleep_ms(300);  /* records are written after the answer */
	ck_assert(harness_path(T, "records", glob, sizeof(glob)) == 0);
	char a[700], b[700], c[700];
	snprintf(a, sizeof(a), "%s/alice.jsonl", glob);
	snprintf(b, sizeof(b), "%s/bob.jsonl", glob);
	snprintf(c, sizeof(c), "%s/_main.jsonl", glob);
	const char *argv[] = { harness_fnl_bin, "usage", "--by", "tenant",
	    "--since", since, "--format", "csv", a, b, c, NULL };
	int st = harness_run(argv, NULL, NULL, &out, NULL, NULL, 10000);
	ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "usage failed: %s", out);
	/* tenant,invocations,ok,error,timeout,crashed,refused,rejected,... */
	ck_assert_msg(strstr(out, "\nalice,3,2,0,0,0,0,1,0,0,") != NULL,
	    "alice: 3 invocations, 2 ok, 1 rejected:\n%s", out);
	ck_assert_msg(strstr(out, "\nbob,3,3,0,0,0,0,0,0,0,") != NULL,
	    "bob: 3 ok:\n%s", out);
	/* bytes in: 10 + 5 + 5 for bob */
	char *bob = strstr(out, "\nbob,");
	int field = 0;
	for (char *q = bob + 1; *q != '\n' && *q != '\0'; q++)
		if (*q == ',' && ++field == 12) {
			ck_assert_msg(strncmp(q + 1, "20,", 3) == 0,
			    "bob's bytes_in: %.20s", q + 1);
			break;
		}
	ck_assert_int_eq(field, 12);
	ck_assert_msg(strstr(out, "\ntotal,6,5,0,0,0,0,1,0,0,") != NULL,
	    "total:\n%s", out);
	free(out);
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
	tc = harness_tcase("tenants", 120, tup, tdown, NULL, t_no_leftovers);
	tcase_add_test(tc, tenant_routes);
	tcase_add_test(tc, tenant_async_job);
	tcase_add_test(tc, tenant_folder_checks);
	tcase_add_test(tc, tenant_cgroup_folder);
	tcase_add_test(tc, tenant_is_contained);
	tcase_add_test(tc, noisy_neighbour);
	tcase_add_test(tc, tenant_file_refusals);
	tcase_add_test(tc, broken_tenant_keeps_old);
	tcase_add_test(tc, usage_matches);
	suite_add_tcase(s, tc);
	return s;
}

HARNESS_BINARY(tenants, HARNESS_NEEDS_NGINX | HARNESS_NEEDS_CURL,
    .suite = suite_tenants);
