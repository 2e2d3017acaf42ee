/* events.c — requests authenticated before spawning (auth:), through
 * real nginx: GitHub's documented signature, Slack's scheme with a
 * fresh and a stale timestamp, a bearer token; each failure is 401 with
 * WWW-Authenticate and nothing runs (the function would leave a mark);
 * the secrets reach neither the function's environment, nor the log,
 * nor the records.
 *
 * One nginx + daemon for the suite (as root: the secret files must be
 * root's, mode 0600). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"
#include "harness_check.h"
#include "events.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct harness *H;

#define GH_SECRET "It's a Secret to Everybody"
#define GH_SIG "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
#define SLACK_SECRET "8f742231b10e8888abcd99yyyzzz85a5"
#define TOKEN "tok-3f1e0c9a-for-the-ci"

/* leaves a mark that it ran, answers its body and its environment */
#define ECHO "#!/bin/sh\ntouch \"$MARKS/$FN_NAME.$FN_REQUEST_ID\"\n" \
    "printf 'Content-Type: text/plain\\n\\n'\ncat\necho\nenv\n"

static const char MANIFEST[] =
    "prefix: /fn/\n"
    "log: { invocations: @DIR@/records.jsonl }\n"
    "defaults: { timeout: 10s, env: { MARKS: @DIR@/marks } }\n"
    "functions:\n"
    "  gh: { path: @DIR@/bin/echo, auth: { hmac: { scheme: github,"
    " secret_file: @DIR@/secrets/gh } } }\n"
    "  slack: { path: @DIR@/bin/echo, auth: { hmac: { scheme: slack,"
    " secret_file: @DIR@/secrets/slack } } }\n"
    "  tok: { path: @DIR@/bin/echo, auth: { bearer: { token_files:"
    " [@DIR@/secrets/tokens] } } }\n"
    "  redir: { path: @DIR@/bin/redir }\n";

static void
up(void)
{
	char dir[512];

	if (geteuid() != 0)
		return;                 /* every test says SKIP */
	H = harness_new();
	ck_assert_msg(H != NULL, "cannot make the temp dir");
	ck_assert(harness_path(H, "secrets", dir, sizeof(dir)) == 0);
	ck_assert(mkdir(dir, 0700) == 0);
	ck_assert(harness_path(H, "marks", dir, sizeof(dir)) == 0);
	ck_assert(mkdir(dir, 01777) == 0 && chmod(dir, 01777) == 0);
	ck_assert(harness_write(H, "secrets/gh", GH_SECRET "\n", 0600) == 0);
	ck_assert(harness_write(H, "secrets/slack", SLACK_SECRET, 0600) == 0);
	ck_assert(harness_write(H, "secrets/tokens", "# CI\n" TOKEN "\n",
	    0600) == 0);
	ck_assert(harness_write(H, "bin/echo", ECHO, 0755) == 0);
	ck_assert(harness_write(H, "bin/redir", "#!/bin/sh\n"
	    "printf 'Location: /fn/tok\\n\\n'\n", 0755) == 0);
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
	if (H != NULL)
		harness_assert_clean(H);
}

#define ASSERT_HAS(s, needle) \
	ck_assert_msg(strstr((s), (needle)) != NULL, "no %s in:\n%s", (needle), (s))

/* POST BODY to PATH with the header lines H1, H2 (NULL: none). */
static void
post(struct hresp *r, const char *path, const char *body, const char *h1,
    const char *h2)
{
	const char *args[10];
	int n = 0;

	args[n++] = "-X";
	args[n++] = "POST";
	args[n++] = "--data-binary";
	args[n++] = body;
	if (h1 != NULL) {
		args[n++] = "-H";
		args[n++] = h1;
	}
	if (h2 != NULL) {
		args[n++] = "-H";
		args[n++] = h2;
	}
	args[n] = NULL;
	harness_req(H, r, path, args);
}

/* Did function NAME run for the request R answered? */
static int
ran(const struct hresp *r, const char *name)
{
	char rid[64], rel[160];

	ck_assert(hresp_header(r, "X-Request-Id", rid, sizeof(rid)) != NULL);
	snprintf(rel, sizeof(rel), "marks/%s.%s", name, rid);
	return harness_dir_count(H, "marks", rel + 6) > 0;
}

/* 401, JSON "unauthorized", WWW-Authenticate starting with WANT, and
 * no process ran. */
static void
assert_refused(const struct hresp *r, const char *name, const char *want)
{
	char v[160], code[32];

	ck_assert_msg(r->status == 401, "%s: status %d\n%s", name, r->status,
	    r->body);
	ck_assert(harness_json_str(r->body, "error", code, sizeof(code)));
	ck_assert_str_eq(code, "unauthorized");
	ck_assert_msg(hresp_header(r, "WWW-Authenticate", v, sizeof(v)) &&
	    strncmp(v, want, strlen(want)) == 0, "WWW-Authenticate: %s", v);
	ck_assert_msg(!ran(r, name), "%s ran although refused", name);
}

/* HMAC-SHA256 of MSG with KEY, in hex, from python3's hmac (not ours). */
static void
hmac_hex(const char *key, const char *msg, char *out, size_t size)
{
	char kf[512], mf[512], *o = NULL;
	const char *argv[] = { "/usr/bin/python3", "-c",
	    "import hmac,hashlib,sys;"
	    "print(hmac.new(open(sys.argv[1],'rb').read(),"
	    "open(sys.argv[2],'rb').read(),hashlib.sha256).hexdigest())",
	    kf, mf, NULL };

	ck_assert(harness_path(H, "out/k", kf, sizeof(kf)) == 0);
	ck_assert(harness_path(H, "out/m", mf, sizeof(mf)) == 0);
	ck_assert(harness_write_file(kf, key, strlen(key), 0600) == 0);
	ck_assert(harness_write_file(mf, msg, strlen(msg), 0600) == 0);
	ck_assert(harness_run(argv, NULL, NULL, &o, NULL, NULL, 10000) == 0);
	snprintf(out, size, "%.*s", (int)strcspn(o, "\n"), o);
	free(o);
}

/* GitHub's documented example: secret "It's a Secret to Everybody",
 * body "Hello, World!". A flipped byte of the signature or of the body,
 * and no signature, are refused. */
START_TEST(github_signature)
{
	struct hresp r = { 0 };

	harness_skip_if(harness_not_root());
	post(&r, "/fn/gh", "Hello, World!",
	    "X-Hub-Signature-256: " GH_SIG, NULL);
	ck_assert_msg(r.status == 200, "%d\n%s\n%s", r.status, r.body,
	    harness_log_tail(H));
	ck_assert_msg(strncmp(r.body, "Hello, World!\n", 14) == 0, "%s",
	    r.body);
	ck_assert(ran(&r, "gh"));
	/* the secret is not the function's */
	ck_assert_msg(strstr(r.body, GH_SECRET) == NULL, "%s", r.body);
	hresp_free(&r);

	post(&r, "/fn/gh", "Hello, World!", "X-Hub-Signature-256: "
	    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18",
	    NULL);
	assert_refused(&r, "gh", "HMAC header=\"X-Hub-Signature-256\"");
	hresp_free(&r);
	post(&r, "/fn/gh", "Hello, World?", "X-Hub-Signature-256: " GH_SIG,
	    NULL);
	assert_refused(&r, "gh", "HMAC");
	hresp_free(&r);
	post(&r, "/fn/gh", "Hello, World!", NULL, NULL);
	assert_refused(&r, "gh", "HMAC");
	hresp_free(&r);
}
END_TEST

/* Slack: v0=HMAC("v0:TS:BODY"). Slack's documented example is from
 * 2018: refused as a replay; the same signed now passes; a tampered
 * timestamp does not. */
START_TEST(slack_signature_and_replay)
{
	static const char body[] = "token=xyzz0WbapA4vBCDEFasx0q6G&"
	    "team_id=T1DC2JH3J&command=%2Fwebhook-collect&text=";
	char ts[32], msg[512], hex[80], sig[128], tsh[64];
	struct hresp r = { 0 };

	harness_skip_if(harness_not_root());
	post(&r, "/fn/slack", "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
	    "X-Slack-Signature: v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
	    "X-Slack-Request-Timestamp: 1531420618");
	assert_refused(&r, "slack", "HMAC");
	hresp_free(&r);

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	snprintf(msg, sizeof(msg), "v0:%s:%s", ts, body);
	hmac_hex(SLACK_SECRET, msg, hex, sizeof(hex));
	snprintf(sig, sizeof(sig), "X-Slack-Signature: v0=%s", hex);
	snprintf(tsh, sizeof(tsh), "X-Slack-Request-Timestamp: %s", ts);
	post(&r, "/fn/slack", body, sig, tsh);
	ck_assert_msg(r.status == 200, "%d %s", r.status, r.body);
	ck_assert(ran(&r, "slack"));
	hresp_free(&r);
	snprintf(tsh, sizeof(tsh), "X-Slack-Request-Timestamp: %lld",
	    (long long)time(NULL) - 1);
	post(&r, "/fn/slack", body, sig, tsh);
	assert_refused(&r, "slack", "HMAC");
	hresp_free(&r);
}
END_TEST

/* Bearer: the token from the file passes; a wrong one, none, or Basic
 * does not. The log says why without any secret; so do the records. */
START_TEST(bearer_token)
{
	struct hresp r = { 0 };
	char path[512], *log, *recs;

	harness_skip_if(harness_not_root());
	post(&r, "/fn/tok", "x", "Authorization: Bearer " TOKEN, NULL);
	ck_assert_msg(r.status == 200, "%d %s", r.status, r.body);
	ck_assert(ran(&r, "tok"));
	ck_assert_msg(strstr(r.body, TOKEN) == NULL ||
	    strstr(r.body, "HTTP_AUTHORIZATION=Bearer " TOKEN) != NULL,
	    "the token file's content reached the function otherwise:\n%s",
	    r.body);
	hresp_free(&r);
	post(&r, "/fn/tok", "x", "Authorization: Bearer nope", NULL);
	assert_refused(&r, "tok", "Bearer realm=");
	hresp_free(&r);
	post(&r, "/fn/tok", "x", NULL, NULL);
	assert_refused(&r, "tok", "Bearer");
	hresp_free(&r);
	/* a local redirect does not skip the checks, even with the token */
	post(&r, "/fn/redir", "x", "Authorization: Bearer " TOKEN, NULL);
	ck_assert_msg(r.status == 401, "redirect into tok: %d %s", r.status,
	    r.body);
	ck_assert_int_eq(harness_dir_count(H, "marks", "tok."), 1);
	hresp_free(&r);
	harness_sleep_ms(300);
	log = harness_daemon_log(H);
	ck_assert_msg(strstr(log, "unauthorized: wrong bearer token") != NULL,
	    "%s", harness_log_tail(H));
	ck_assert(strstr(log, TOKEN) == NULL && strstr(log, GH_SECRET) == NULL &&
	    strstr(log, SLACK_SECRET) == NULL);
	free(log);
	ck_assert(harness_path(H, "records.jsonl", path, sizeof(path)) == 0);
	recs = harness_read_file(path, NULL);
	ck_assert_ptr_nonnull(recs);
	ASSERT_HAS(recs, "\"status\":401,\"outcome\":\"rejected\"");
	ASSERT_HAS(recs, "\"error\":\"unauthorized\"");
	ck_assert(strstr(recs, TOKEN) == NULL && strstr(recs, GH_SECRET) == NULL);
	free(recs);
}
END_TEST

/* ---- schedules ------------------------------------------------------------ */

static struct harness *S;

#define SCHED_MANIFEST(extra) \
    "prefix: /fn/\n" \
    "log: { invocations: @DIR@/records.jsonl }\n" \
    "defaults: { timeout: 10s, kill_grace: 1s, env: { MARKS: @DIR@/marks } }\n" \
    "functions:\n" \
    "  slowtick: { path: @DIR@/bin/slowtick, schedule: \"@every 1s\" }\n" \
    extra

/* appends "START END" (seconds.nanoseconds) of its run to marks/NAME */
#define TICK(nap) "#!/bin/sh\ns=$(date +%s.%N)\n" nap \
    "echo \"$s $(date +%s.%N)\" >> \"$MARKS/$FN_NAME\"\n" \
    "printf 'Content-Type: text/plain\\n\\nok\\n'\n"

static void
sup(void)
{
	char dir[512];

	S = harness_new();
	ck_assert_msg(S != NULL, "cannot make the temp dir");
	ck_assert(harness_path(S, "marks", dir, sizeof(dir)) == 0);
	ck_assert(mkdir(dir, 01777) == 0 && chmod(dir, 01777) == 0);
	ck_assert(harness_write(S, "bin/tick", TICK(""), 0755) == 0);
	ck_assert(harness_write(S, "bin/slowtick", TICK("sleep 2.5\n"),
	    0755) == 0);
	ck_assert(harness_write(S, "manifest.yaml", SCHED_MANIFEST(
	    "  tick: { path: @DIR@/bin/tick, schedule: \"@every 1s\" }\n"),
	    0644) == 0);
	if (harness_start_daemon(S, "manifest.yaml", NULL) != 0 ||
	    harness_start_nginx(S, NULL) != 0)
		harness_abort(&S, "could not start nginx and the daemon");
}

static void
sdown(void)
{
	harness_free(S);
	S = NULL;
}

/* The runs of NAME so far: their start and end times. */
static int
runs_of(const char *name, double *start, double *end, int max)
{
	char rel[64], path[512], *text, *p;
	int n = 0;

	snprintf(rel, sizeof(rel), "marks/%s", name);
	ck_assert(harness_path(S, rel, path, sizeof(path)) == 0);
	if ((text = harness_read_file(path, NULL)) == NULL)
		return 0;
	for (p = text; *p != '\0' && n < max; n++) {
		char *e;
		start[n] = strtod(p, &e);
		end[n] = strtod(e, &p);
		while (*p == '\n')
			p++;
	}
	free(text);
	return n;
}

/* @every 1s runs once a second, on the second (UTC seconds), each run
 * a request of its own with "trigger": "schedule" in its record. */
START_TEST(every_second_on_time)
{
	double st[64], en[64];
	char path[512], *recs, *p;
	int n, k = 0;

	harness_sleep_ms(4200);
	n = runs_of("tick", st, en, 64);
	ck_assert_msg(n >= 3, "%d runs of @every 1s in 4.2 s", n);
	for (int i = 0; i < n; i++) {
		double frac = st[i] - (double)(long long)st[i];
		ck_assert_msg(frac < 0.3, "run %d started %.3f s after its "
		    "second", i, frac);
		if (i > 0)
			ck_assert_msg(st[i] - st[i - 1] > 0.7 &&
			    st[i] - st[i - 1] < 1.3, "runs %d and %d %.3f s "
			    "apart", i - 1, i, st[i] - st[i - 1]);
	}
	ck_assert(harness_path(S, "records.jsonl", path, sizeof(path)) == 0);
	recs = harness_read_file(path, NULL);
	ck_assert_ptr_nonnull(recs);
	for (p = recs; (p = strstr(p, "\"function\":\"tick\"")) != NULL; p++) {
		char *nl = strchr(p, '\n');
		ck_assert_msg(nl && memmem(p, (size_t)(nl - p),
		    "\"status\":200", 12) && memmem(p, (size_t)(nl - p),
		    "\"trigger\":\"schedule\"", 20), "%.*s",
		    (int)(nl ? nl - p : 80), p);
		k++;
	}
	ck_assert_msg(k >= n - 1, "%d records for %d runs", k, n);
	free(recs);
}
END_TEST

/* A run of 2.5 s every second: the runs due meanwhile are skipped (and
 * counted), never two at once. */
START_TEST(overlap_skipped)
{
	double st[64], en[64];
	struct hresp r = { 0 };
	int n;

	harness_sleep_ms(5500);
	n = runs_of("slowtick", st, en, 64);
	ck_assert_msg(n >= 1, "slowtick never ran");
	for (int i = 1; i < n; i++)
		ck_assert_msg(st[i] >= en[i - 1], "run %d began at %.3f before "
		    "run %d ended at %.3f", i, st[i], i - 1, en[i - 1]);
	harness_req(S, &r, "/fn/_/metrics", NULL);
	ck_assert_msg(strstr(r.body, "fnlauncher_schedule_skipped_total"
	    "{function=\"slowtick\",tenant=\"\"} ") != NULL, "%s", r.body);
	const char *sk = strstr(r.body, "fnlauncher_schedule_skipped_total"
	    "{function=\"slowtick\",tenant=\"\"} ");
	ck_assert_msg(atoi(strchr(sk, '}') + 2) >= 2, "skipped: %.80s", sk);
	hresp_free(&r);
}
END_TEST

/* SIGHUP with tick gone and tock new: tick stops, tock starts. */
START_TEST(reload_changes_schedules)
{
	double st[64], en[64];
	int before, after;

	ck_assert(harness_write(S, "bin/tock", TICK(""), 0755) == 0);
	ck_assert(harness_write(S, "manifest.yaml", SCHED_MANIFEST(
	    "  tock: { path: @DIR@/bin/tick, schedule: \"* * * * *\" }\n"
	    "  tick2: { path: @DIR@/bin/tick, schedule: \"@every 1s\" }\n"),
	    0644) == 0);
	ck_assert_int_eq(kill(S->daemon_pid, SIGHUP), 0);
	harness_sleep_ms(1500);
	before = runs_of("tick", st, en, 64);
	harness_sleep_ms(2500);
	after = runs_of("tick", st, en, 64);
	ck_assert_msg(after == before, "tick ran %d more times after it was "
	    "removed", after - before);
	ck_assert_msg(runs_of("tick2", st, en, 64) >= 2, "tick2 (added) "
	    "ran %d times", runs_of("tick2", st, en, 64));
}
END_TEST

static Suite *
suite_events(void)
{
	Suite *s = suite_create("events");
	TCase *tc = harness_tcase("auth", 60, up, down, NULL, no_leftovers);

	tcase_add_test(tc, github_signature);
	tcase_add_test(tc, slack_signature_and_replay);
	tcase_add_test(tc, bearer_token);
	suite_add_tcase(s, tc);
	tc = harness_tcase("schedules", 60, sup, sdown, NULL, NULL);
	tcase_add_test(tc, every_second_on_time);
	tcase_add_test(tc, overlap_skipped);
	tcase_add_test(tc, reload_changes_schedules);
	suite_add_tcase(s, tc);
	events_async_tcases(s);
	return s;
}

HARNESS_BINARY(events, HARNESS_NEEDS_NGINX | HARNESS_NEEDS_CURL,
    .suite = suite_events);
