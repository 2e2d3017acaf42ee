/* events_async.c — async invocations through real nginx: "Prefer:
 * respond-async" and async: true answer 202 with a Location whose GET
 * gives the job's state and then the function's answer; a failing job
 * is retried with backoff then lands in the dead letters; a spool that
 * is full or read-only answers 503, never a 202 for a job not on disk;
 * 200 jobs accepted while the daemon is killed with SIGKILL twice all
 * run and have a result.
 *
 * As root: the spool is a small tmpfs of the test's own (mounted in
 * the test's temp dir, lazily unmounted after), so "full" and
 * "read-only" are real file system answers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"
#include "harness_check.h"
#include "events.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct harness *A;
static char spool[512];

static const char MANIFEST[] =
    "prefix: /fn/\n"
    "spool_dir: @DIR@/spool\n"
    "log: { invocations: @DIR@/records.jsonl }\n"
    "defaults: { timeout: 10s, kill_grace: 1s, env: { MARKS: @DIR@/marks } }\n"
    "functions:\n"
    "  echo: { path: @DIR@/bin/echo }\n"
    "  later: { path: @DIR@/bin/echo, async: true }\n"
    "  work: { path: @DIR@/bin/work, concurrency: 8 }\n"
    "  flaky: { path: @DIR@/bin/fail, retries: 2, retry_backoff: 300ms }\n"
    "  halfway: { path: @DIR@/bin/halfway, retries: 1, retry_backoff: 100ms }\n"
    "  redir: { path: @DIR@/bin/redir }\n"
    "  secure: { path: @DIR@/bin/secure, auth: { bearer: { token_files:"
    " [@DIR@/tokens] } } }\n";

/* answers its body and what it was run as */
#define ECHO "#!/bin/sh\nprintf 'Content-Type: text/plain\\nX-Mine: 1\\n\\n'\n" \
    "echo \"trigger=$FN_TRIGGER job=$FN_JOB_ID attempt=$FN_JOB_ATTEMPT\"\ncat\n"
/* takes a while, leaves the job's id in marks/work */
#define WORK "#!/bin/sh\nsleep 0.5\necho \"$FN_JOB_ID\" >> \"$MARKS/work\"\n" \
    "printf 'Content-Type: text/plain\\n\\ndone %s\\n' \"$FN_JOB_ID\"\n"
/* answers 200 and part of its body, then is killed */
#define HALFWAY "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\npart'\n" \
    "kill -KILL $$\n"
/* sends the client on to a function with auth: (a local redirect) */
#define REDIR "#!/bin/sh\nprintf 'Location: /fn/secure\\n\\n'\n"
#define SECURE "#!/bin/sh\ntouch \"$MARKS/secure\"\n" \
    "printf 'Content-Type: text/plain\\n\\nsecret\\n'\n"
/* never answers: 502 */
#define FAIL "#!/bin/sh\ndate +%s.%N >> \"$MARKS/flaky\"\nexit 3\n"

static void
mount_spool(const char *opts)
{
	ck_assert(harness_path(A, "spool", spool, sizeof(spool)) == 0);
	(void)mkdir(spool, 0700);
	ck_assert_msg(mount("fnl-spool", spool, "tmpfs", 0, opts) == 0,
	    "mount tmpfs on %s: %s", spool, strerror(errno));
}

static void
aup(void)
{
	char dir[512];

	if (geteuid() != 0)
		return;                 /* every test says SKIP */
	A = harness_new();
	ck_assert_msg(A != NULL, "cannot make the temp dir");
	ck_assert(harness_path(A, "marks", dir, sizeof(dir)) == 0);
	ck_assert(mkdir(dir, 01777) == 0 && chmod(dir, 01777) == 0);
	ck_assert(harness_write(A, "bin/echo", ECHO, 0755) == 0);
	ck_assert(harness_write(A, "bin/work", WORK, 0755) == 0);
	ck_assert(harness_write(A, "bin/fail", FAIL, 0755) == 0);
	ck_assert(harness_write(A, "bin/halfway", HALFWAY, 0755) == 0);
	ck_assert(harness_write(A, "bin/redir", REDIR, 0755) == 0);
	ck_assert(harness_write(A, "bin/secure", SECURE, 0755) == 0);
	ck_assert(harness_write(A, "tokens", "tok-async-ci\n", 0600) == 0);
	ck_assert(harness_write(A, "manifest.yaml", MANIFEST, 0644) == 0);
	mount_spool("size=2m,mode=0700");
	if (harness_start_daemon(A, "manifest.yaml", NULL) != 0 ||
	    harness_start_nginx(A, NULL) != 0) {
		harness_stop_daemon(A);
		(void)umount2(spool, MNT_DETACH);
		harness_abort(&A, "could not start nginx and the daemon");
	}
}

static void
adown(void)
{
	if (A != NULL) {
		harness_stop_daemon(A);
		(void)umount2(spool, MNT_DETACH);
	}
	harness_free(A);
	A = NULL;
}

static void
aclean(void)
{
	if (A != NULL)
		harness_assert_clean(A);
}

/* POST BODY to PATH, with "Prefer: respond-async" when PREFER. */
static void
post(struct hresp *r, const char *path, const char *body, bool prefer)
{
	const char *args[] = { "-X", "POST", "--data-binary", body, "-H",
	    prefer ? "Prefer: respond-async" : "X-Not: async", NULL };

	harness_req(A, r, path, args);
}

/* 202, Location /fn/_/jobs/ID, the id in the body too: ID gets it. */
static void
assert_accepted(const struct hresp *r, char *id, size_t size)
{
	char loc[256], bid[64];

	ck_assert_msg(r->status == 202, "status %d\n%s", r->status, r->body);
	ck_assert(hresp_header(r, "Location", loc, sizeof(loc)) != NULL);
	ck_assert_msg(strncmp(loc, "/fn/_/jobs/", 11) == 0, "Location: %s", loc);
	snprintf(id, size, "%.40s", loc + 11);
	ck_assert_msg(strlen(id) == 32, "job id %s", id);
	ck_assert(harness_json_str(r->body, "id", bid, sizeof(bid)) != NULL);
	ck_assert_str_eq(bid, id);
}

/* GET the job until its status is one of WANT ("done|dead"), at most
 * MS; the last answer is left in R. */
static void
await_job(struct hresp *r, const char *id, const char *want, int ms)
{
	char path[128], st[32] = "";
	double until = harness_now() + ms / 1000.0;

	snprintf(path, sizeof(path), "/fn/_/jobs/%s", id);
	for (;;) {
		hresp_free(r);
		harness_req(A, r, path, NULL);
		ck_assert_msg(r->status == 200, "GET %s: %d %s", path,
		    r->status, r->body);
		ck_assert(harness_json_str(r->body, "status", st, sizeof(st)));
		if (strstr(want, st) != NULL || harness_now() > until)
			break;
		harness_sleep_ms(50);
	}
	ck_assert_msg(strstr(want, st) != NULL, "job %s is %s after %d ms, not "
	    "%s:\n%s", id, st, ms, want, r->body);
}

/* The records of job ID (lines with its id), in a malloc'd string. */
static char *
records_of(const char *id)
{
	char path[512], *all, *out, *p;
	size_t n = 0;

	ck_assert(harness_path(A, "records.jsonl", path, sizeof(path)) == 0);
	all = harness_read_file(path, NULL);
	ck_assert_ptr_nonnull(all);
	out = calloc(1, strlen(all) + 1);
	for (p = all; *p != '\0';) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (memmem(p, len, id, strlen(id)) != NULL) {
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
	}
	free(all);
	return out;
}

/* Prefer: respond-async → 202; the job runs with FN_TRIGGER=async, its
 * record says so with the job and the attempt; GET gives the function's
 * status, headers and body. async: true needs no Prefer. */
START_TEST(prefer_respond_async)
{
	struct hresp r = { 0 };
	char id[64], id2[64], *recs;

	harness_skip_if(harness_not_root());
	post(&r, "/fn/echo", "the body", true);
	assert_accepted(&r, id, sizeof(id));
	hresp_free(&r);
	await_job(&r, id, "done", 10000);
	ck_assert_msg(strstr(r.body, "\"result\":{\"status\":200") != NULL,
	    "%s", r.body);
	ck_assert_msg(strstr(r.body, "\"X-Mine\":\"1\"") != NULL, "%s", r.body);
	ck_assert_msg(strstr(r.body, "trigger=async job=") != NULL &&
	    strstr(r.body, "attempt=1\\nthe body") != NULL, "%s", r.body);
	ck_assert_msg(strstr(r.body, id) != NULL, "%s", r.body);
	recs = records_of(id);
	ck_assert_msg(strstr(recs, "\"status\":202") != NULL &&
	    strstr(recs, "\"trigger\":\"async\"") != NULL &&
	    strstr(recs, "\"attempt\":1") != NULL, "records:\n%s", recs);
	free(recs);
	hresp_free(&r);

	/* async: true, no Prefer */
	post(&r, "/fn/later", "x", false);
	assert_accepted(&r, id2, sizeof(id2));
	hresp_free(&r);
	await_job(&r, id2, "done", 10000);
	hresp_free(&r);

	/* no Prefer, not async: runs now */
	post(&r, "/fn/echo", "now", false);
	ck_assert_msg(r.status == 200 && strstr(r.body, "trigger=http") &&
	    strstr(r.body, "now"), "%d %s", r.status, r.body);
	hresp_free(&r);

	harness_req(A, &r, "/fn/_/jobs/00000000000000000000000000000000", NULL);
	ck_assert_int_eq(r.status, 404);
	hresp_free(&r);
	harness_req(A, &r, "/fn/_/jobs/../../etc/passwd", NULL);
	ck_assert_int_eq(r.status, 404);
	hresp_free(&r);
}
END_TEST

/* A job that fails (no answer: 502) runs 1 + retries times, each after
 * a longer wait (300 ms, 600 ms), is "failed" in between and "dead"
 * after; its request is in the dead letters. */
START_TEST(failing_job_dead_letters)
{
	struct hresp r = { 0 };
	char id[64], path[512], rel[128], *marks, *recs;
	double t[8];
	int n = 0;

	harness_skip_if(harness_not_root());
	post(&r, "/fn/flaky", "{}", true);
	assert_accepted(&r, id, sizeof(id));
	hresp_free(&r);
	await_job(&r, id, "failed", 5000);
	ck_assert_msg(strstr(r.body, "\"next_attempt\":") != NULL &&
	    strstr(r.body, "\"status\":502") != NULL, "%s", r.body);
	hresp_free(&r);
	await_job(&r, id, "dead", 10000);
	ck_assert_msg(strstr(r.body, "\"attempts\":3") != NULL, "%s", r.body);
	hresp_free(&r);
	snprintf(rel, sizeof(rel), "spool/dead/%s", id);
	ck_assert(harness_path(A, rel, path, sizeof(path)) == 0);
	ck_assert_msg(access(path, F_OK) == 0, "no dead letter %s", path);
	snprintf(rel, sizeof(rel), "spool/new/%s", id);
	ck_assert(harness_path(A, rel, path, sizeof(path)) == 0);
	ck_assert_msg(access(path, F_OK) != 0, "%s still queued", path);
	ck_assert(harness_path(A, "marks/flaky", path, sizeof(path)) == 0);
	marks = harness_read_file(path, NULL);
	ck_assert_ptr_nonnull(marks);
	for (char *p = marks; *p != '\0' && n < 8; n++) {
		t[n] = strtod(p, &p);
		while (*p == '\n')
			p++;
	}
	free(marks);
	ck_assert_msg(n == 3, "flaky ran %d times, not 3", n);
	ck_assert_msg(t[1] - t[0] >= 0.29 && t[2] - t[1] >= 0.59,
	    "attempts %.3f s then %.3f s apart (backoff 300ms, doubling)",
	    t[1] - t[0], t[2] - t[1]);
	recs = records_of(id);
	ck_assert_msg(strstr(recs, "\"attempt\":3") != NULL, "%s", recs);
	free(recs);
	harness_req(A, &r, "/fn/_/metrics", NULL);
	ck_assert_msg(strstr(r.body, "fnlauncher_async_jobs_total{event=\"dead\"} "
	    "1") != NULL, "%s", r.body);
	hresp_free(&r);
}
END_TEST

/* A run killed after its headers and part of its body went out (status
 * 200 on the wire) is a crash: retried, then dead, with its record's
 * outcome (not "ok") and what it had answered. */
START_TEST(crash_after_headers_retried)
{
	struct hresp r = { 0 };
	char id[64];

	harness_skip_if(harness_not_root());
	post(&r, "/fn/halfway", "x", true);
	assert_accepted(&r, id, sizeof(id));
	hresp_free(&r);
	await_job(&r, id, "dead", 10000);
	ck_assert_msg(strstr(r.body, "\"attempts\":2") != NULL &&
	    strstr(r.body, "\"outcome\":") != NULL &&
	    strstr(r.body, "\"body\":\"part\"") != NULL, "%s", r.body);
	hresp_free(&r);
}
END_TEST

/* An async job's run is checked like any request: a local redirect to
 * a function with auth: is refused (401, the result of a done job), and
 * that function never runs. */
START_TEST(redirect_to_auth_refused)
{
	struct hresp r = { 0 };
	char id[64];

	harness_skip_if(harness_not_root());
	post(&r, "/fn/redir", "x", true);
	assert_accepted(&r, id, sizeof(id));
	hresp_free(&r);
	await_job(&r, id, "done|dead", 10000);
	ck_assert_msg(strstr(r.body, "\"result\":{\"status\":401") != NULL,
	    "%s", r.body);
	ck_assert_int_eq(harness_dir_count(A, "marks", "secure"), 0);
	hresp_free(&r);
}
END_TEST

/* The spool full (a body larger than its tmpfs) or read-only: 503, no
 * 202, nothing left in new/ and nothing run; writable again: 202. */
START_TEST(unwritable_spool_503)
{
	struct hresp r = { 0 };
	char id[64], *big;
	size_t n = 3 << 20;
	int before, after;

	harness_skip_if(harness_not_root());
	before = harness_dir_count(A, "spool/new", "");
	big = malloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\0';
	{
		char file[512], arg[520];
		ck_assert(harness_path(A, "big", file, sizeof(file)) == 0);
		ck_assert(harness_write_file(file, big, n, 0644) == 0);
		snprintf(arg, sizeof(arg), "@%s", file);
		post(&r, "/fn/echo", arg, true);
	}
	free(big);
	ck_assert_msg(r.status == 503, "full spool: %d %s", r.status, r.body);
	hresp_free(&r);
	ck_assert_int_eq(harness_dir_count(A, "spool/new", ""), before);
	ck_assert_int_eq(harness_dir_count(A, "spool/tmp", ""), 0);

	ck_assert(mount(NULL, spool, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0);
	post(&r, "/fn/echo", "small", true);
	after = harness_dir_count(A, "spool/new", "");
	ck_assert(mount(NULL, spool, NULL, MS_REMOUNT, "size=2m") == 0);
	ck_assert_msg(r.status == 503, "read-only spool: %d %s", r.status,
	    r.body);
	ck_assert_int_eq(after, before);
	hresp_free(&r);

	post(&r, "/fn/echo", "small", true);
	assert_accepted(&r, id, sizeof(id));
	hresp_free(&r);
	await_job(&r, id, "done", 10000);
	hresp_free(&r);
}
END_TEST

/* SIGKILL the daemon, start it again on the same spool. */
static void
crash_and_restart(void)
{
	int st;

	ck_assert_int_eq(kill(A->daemon_pid, SIGKILL), 0);
	ck_assert(harness_wait_ms(A->daemon_pid, 5000, &st) == 1);
	A->daemon_pid = 0;
	ck_assert_msg(harness_start_daemon(A, "manifest.yaml", NULL) == 0,
	    "restart: %s", harness_log_tail(A));
}

/* 200 jobs posted while the daemon is killed twice: every job that got
 * its 202 runs (at least once) and has a result. */
START_TEST(two_hundred_jobs_two_kills)
{
	static char ids[200][40];
	struct hresp r = { 0 };
	char path[512], *marks;
	int accepted = 0, refused = 0;

	harness_skip_if(harness_not_root());
	for (int i = 0; i < 200; i++) {
		char body[32];
		if (i == 70 || i == 140)
			crash_and_restart();
		snprintf(body, sizeof(body), "job %d", i);
		post(&r, "/fn/work", body, true);
		if (r.status == 202)
			assert_accepted(&r, ids[accepted++], sizeof(ids[0]));
		else
			refused++;
		hresp_free(&r);
	}
	ck_assert_msg(accepted >= 190, "only %d of 200 accepted", accepted);
	for (int i = 0; i < accepted; i++) {
		await_job(&r, ids[i], "done", 60000);
		ck_assert_msg(strstr(r.body, ids[i]) != NULL &&
		    strstr(r.body, "\"status\":200") != NULL, "%s", r.body);
		hresp_free(&r);
	}
	ck_assert(harness_path(A, "marks/work", path, sizeof(path)) == 0);
	marks = harness_read_file(path, NULL);
	ck_assert_ptr_nonnull(marks);
	int twice = 0;
	for (int i = 0; i < accepted; i++) {
		char *p = strstr(marks, ids[i]);
		ck_assert_msg(p != NULL, "job %s never ran", ids[i]);
		twice += strstr(p + 1, ids[i]) != NULL;
	}
	free(marks);
	/* the kills came with jobs waiting (each takes 0.5 s, 8 at once) */
	const char *const back[] = { "jobs to run", NULL };
	ck_assert_msg(harness_log_has(A, back), "no job was read back from "
	    "the spool after a SIGKILL:\n%s", harness_log_tail(A));
	fprintf(stderr, "# 200 jobs, 2 SIGKILLs: %d accepted, %d refused "
	    "while the daemon was down, all ran, %d of them twice (running "
	    "at a kill)\n", accepted, refused, twice);
}
END_TEST

/* catch_up: true: a run missed while the daemon was down (the last run
 * on disk is two hours old, @every 1h) runs once at start-up; without
 * catch_up it does not. schedule_tz: -t says the zone. */
START_TEST(catch_up_after_downtime)
{
	char path[512], line[64], *out = NULL;
	const char *argv[] = { harness_fnl_bin, "-t", "-c", path, NULL };
	time_t now = time(NULL);

	harness_skip_if(harness_not_root());
	harness_stop_daemon(A);
	ck_assert(harness_write(A, "bin/tick", "#!/bin/sh\n"
	    "echo run >> \"$MARKS/$FN_NAME\"\n"
	    "printf 'Content-Type: text/plain\\n\\nok\\n'\n", 0755) == 0);
	ck_assert(harness_write(A, "manifest.yaml",
	    "prefix: /fn/\n"
	    "spool_dir: @DIR@/spool\n"
	    "defaults: { env: { MARKS: @DIR@/marks } }\n"
	    "functions:\n"
	    "  missed: { path: @DIR@/bin/tick, schedule: \"@every 1h\","
	    " catch_up: true }\n"
	    "  skipped: { path: @DIR@/bin/tick, schedule: \"@every 1h\" }\n"
	    "  paris: { path: @DIR@/bin/tick, schedule: \"30 2 * * *\","
	    " schedule_tz: Europe/Paris }\n", 0644) == 0);
	snprintf(line, sizeof(line), "%lld\n", (long long)now - 7200);
	ck_assert(harness_write(A, "spool/schedules/missed", line, 0600) == 0);
	ck_assert(harness_write(A, "spool/schedules/skipped", line, 0600) == 0);
	ck_assert(harness_start_daemon(A, "manifest.yaml", NULL) == 0);
	harness_sleep_ms(2000);
	ck_assert_msg(harness_dir_count(A, "marks", "missed") == 1,
	    "the missed run was not made up for:\n%s", harness_log_tail(A));
	ck_assert_msg(harness_dir_count(A, "marks", "skipped") == 0,
	    "a schedule without catch_up made up for a run");
	ck_assert(harness_path(A, "manifest.yaml", path, sizeof(path)) == 0);
	ck_assert(harness_run(argv, NULL, NULL, &out, NULL, NULL, 10000) == 0);
	ck_assert_msg(strstr(out, "schedule \"30 2 * * *\" in Europe/Paris: "
	    "next (UTC) ") != NULL && (strstr(out, "T00:30:00Z") != NULL ||
	    strstr(out, "T01:30:00Z") != NULL), "%s", out);
	free(out);
}
END_TEST

/* spool_dir naming a shared folder by mistake (0755, with files of its
 * own): -t fails saying why, the daemon refuses it (async requests get
 * 503) and leaves it as it was — never chmod'ed, nothing added. */
START_TEST(shared_spool_dir_refused)
{
	char path[512], shared[512], *out = NULL;
	const char *argv[] = { harness_fnl_bin, "-t", "-c", path, NULL };
	struct hresp r = { 0 };
	struct stat st;

	harness_skip_if(harness_not_root());
	harness_stop_daemon(A);
	ck_assert(harness_path(A, "shared", shared, sizeof(shared)) == 0);
	ck_assert(mkdir(shared, 0755) == 0 && chmod(shared, 0755) == 0);
	ck_assert(harness_write(A, "shared/notes.txt", "mine\n", 0644) == 0);
	ck_assert(harness_write(A, "manifest.yaml",
	    "prefix: /fn/\n"
	    "spool_dir: @DIR@/shared\n"
	    "functions:\n"
	    "  echo: { path: @DIR@/bin/echo }\n", 0644) == 0);
	ck_assert(harness_path(A, "manifest.yaml", path, sizeof(path)) == 0);
	ck_assert_msg(harness_run(argv, NULL, NULL, &out, NULL, NULL, 10000) != 0,
	    "-t passed a shared spool_dir:\n%s", out);
	ck_assert_msg(strstr(out, "mode 0755") != NULL, "%s", out);
	free(out);
	ck_assert(harness_start_daemon(A, "manifest.yaml", NULL) == 0);
	post(&r, "/fn/echo", "x", true);
	ck_assert_msg(r.status == 503, "%d %s", r.status, r.body);
	hresp_free(&r);
	ck_assert(stat(shared, &st) == 0);
	ck_assert_msg((st.st_mode & 07777) == 0755, "mode now %o",
	    (unsigned)(st.st_mode & 07777));
	ck_assert_int_eq(harness_dir_count(A, "shared", ""), 1);
}
END_TEST

void
events_async_tcases(Suite *s)
{
	TCase *tc = harness_tcase("async", 240, aup, adown, NULL, aclean);

	tcase_add_test(tc, prefer_respond_async);
	tcase_add_test(tc, failing_job_dead_letters);
	tcase_add_test(tc, unwritable_spool_503);
	tcase_add_test(tc, crash_after_headers_retried);
	tcase_add_test(tc, redirect_to_auth_refused);
	suite_add_tcase(s, tc);
	/* its daemon is restarted in the test: a child of the test's own
	 * process, so set up there too (checked fixtures) */
	tc = harness_tcase("async_restart", 240, NULL, NULL, aup, adown);
	tcase_add_test(tc, two_hundred_jobs_two_kills);
	tcase_add_test(tc, catch_up_after_downtime);
	tcase_add_test(tc, shared_spool_dir_refused);
	suite_add_tcase(s, tc);
}
