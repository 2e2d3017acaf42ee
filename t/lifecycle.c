/* lifecycle.c — the daemon's and `fnlauncher invoke`'s life around the
 * requests: a drain never loses a request that reached the daemon, invoke
 * ends on SIGTERM and always after its teardown and record, a reload
 * whose records log cannot be opened keeps the running manifest, -t
 * looks at the socket's folder, lines carry their journal priority, how
 * request bodies are read, and records of long URIs keep every field. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"
#include "harness_check.h"
#include "fcgiclient.h"

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct harness *H;
static const char *BIN;

#define CT "printf 'Content-Type: text/plain\\n\\n'\n"

static const char HELLO[] = "#!/bin/sh\n" CT "echo \"hello $QUERY_STRING\"\n";
/* Ignores SIGTERM, answers its headers, then sleeps. */
static const char STUBBORN[] = "#!/bin/sh\ntrap '' TERM\n" CT
    "echo start\nsleep 30\necho end\n";

static const char MANIFEST[] =
    "allow_from: [127.0.0.1]\n"
    "log: { invocations: @DIR@/records.jsonl }\n"
    "defaults: { timeout: 8s, kill_grace: 1s, env: { LIFECYCLE_MARK: @DIR@ } }\n"
    "functions:\n"
    "  hello: { path: @DIR@/bin/hello }\n"
    "  stubborn: { path: @DIR@/bin/stubborn }\n"
    "  quick_timeout: { path: @DIR@/bin/stubborn, timeout: 1s }\n";

static void
up(void)
{
	BIN = getenv("FNL_BIN");
	ck_assert_msg(BIN != NULL, "FNL_BIN is not set");
	H = harness_new();
	ck_assert_msg(H != NULL, "cannot make the temp dir");
	ck_assert(harness_write(H, "bin/hello", HELLO, 0755) == 0);
	ck_assert(harness_write(H, "bin/stubborn", STUBBORN, 0755) == 0);
	ck_assert(harness_write(H, "manifest.yaml", MANIFEST, 0644) == 0);
}

static void
down(void)
{
	harness_free(H);
	H = NULL;
}

/* No process of ours is left: every function process carries
 * LIFECYCLE_MARK=<temp dir> in its environment. */
static void
none_left(int wait_ms)
{
	char mark[200], desc[1024];
	const char *env[] = { mark, NULL };
	int n;

	snprintf(mark, sizeof(mark), "LIFECYCLE_MARK=%s", H->dir);
	n = harness_procs(env, -1, wait_ms, desc, sizeof(desc));
	ck_assert_msg(n == 0, "%d function process(es) left: %s", n, desc);
}

static char *
path_of(const char *rel)
{
	static char buf[4][512];
	static int i;

	i = (i + 1) % 4;
	ck_assert(harness_path(H, rel, buf[i], sizeof(buf[i])) == 0);
	return buf[i];
}

/* ---- drain on TCP ------------------------------------------------------ */

static void
tcp_daemon(int port)
{
	char listen[64];
	const char *argv[] = { BIN, "-c", path_of("manifest.yaml"), "-s", listen,
	    NULL };
	double end = harness_now() + 10;
	int fd = -1;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	ck_assert_int_eq(harness_spawn_daemon(H, argv, NULL, 0), 0);
	while (fd < 0 && harness_now() < end) {
		if ((fd = fcgic_connect_tcp(NULL, "127.0.0.1", port)) < 0)
			harness_sleep_ms(20);
	}
	ck_assert_msg(fd >= 0, "the daemon does not listen on %s", listen);
	close(fd);
}

/* A request's params as nginx would send them for GET /hello?Q. */
static void
hello_request(struct fcgic_buf *b, unsigned id, const char *q)
{
	char qs[64];
	const char *nv[] = { "REQUEST_METHOD=GET", "DOCUMENT_URI=/hello",
	    "REQUEST_URI=/hello", qs, "REMOTE_ADDR=127.0.0.1" };

	snprintf(qs, sizeof(qs), "QUERY_STRING=%s", q);
	ck_assert_int_eq(fcgic_request(b, id, FCGIC_KEEP_CONN, nv, 5, NULL,
	    0), 0);
}

/* A kept connection has had one request; the next one's first record
 * arrives, then SIGTERM, then the rest: it is answered, and no phantom
 * 400 is recorded. (The drain used to shut the connection: libfcgi held
 * the first record in its buffer, so it looked idle.) */
START_TEST(drain_serves_request_in_progress)
{
	int port = harness_free_port(), fd, st;
	struct fcgic_buf first = { 0 }, second = { 0 };
	struct fcgic_resp r;
	const char *body;
	char *recs;

	ck_assert_int_gt(port, 0);
	tcp_daemon(port);
	fd = fcgic_connect_tcp(NULL, "127.0.0.1", port);
	ck_assert_int_ge(fd, 0);
	hello_request(&first, 1, "one");
	ck_assert_int_eq(fcgic_send(fd, first.p, first.len), 0);
	ck_assert_int_eq(fcgic_read(fd, 1, &r, 10000), 0);
	ck_assert_msg(r.ended && fcgic_status(&r, &body) == 200 &&
	    strcmp(body, "hello one\n") == 0, "first request: ended %d", r.ended);
	fcgic_resp_free(&r);

	hello_request(&second, 2, "two");
	/* BEGIN_REQUEST is the first 16 bytes (spec 5.1) */
	ck_assert_int_eq(fcgic_send(fd, second.p, 16), 0);
	harness_sleep_ms(300);
	ck_assert_int_eq(kill(H->daemon_pid, SIGTERM), 0);
	harness_sleep_ms(300);
	(void)fcgic_send(fd, second.p + 16, second.len - 16);
	ck_assert_int_eq(fcgic_read(fd, 2, &r, 10000), 0);
	ck_assert_msg(r.ended && fcgic_status(&r, &body) == 200 &&
	    strcmp(body, "hello two\n") == 0,
	    "the request in progress at SIGTERM: ended %d eof %d reset %d, "
	    "%zu bytes", r.ended, r.eof, r.reset, r.raw_bytes);
	fcgic_resp_free(&r);
	close(fd);
	st = harness_stop_daemon(H);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "exit status 0x%x", (unsigned)st);
	recs = harness_read_file(path_of("records.jsonl"), NULL);
	ck_assert_ptr_nonnull(recs);
	ck_assert_msg(strstr(recs, "\"status\":400") == NULL,
	    "a phantom 400 was recorded:\n%s", recs);
	free(recs);
	fcgic_buf_free(&first);
	fcgic_buf_free(&second);
}
END_TEST

/* An idle kept connection is still closed by the drain (nginx then
 * sends new requests elsewhere), and the daemon exits. */
START_TEST(drain_closes_idle_connection)
{
	int port = harness_free_port(), fd, st;
	struct fcgic_buf b = { 0 };
	struct fcgic_resp r;

	ck_assert_int_gt(port, 0);
	tcp_daemon(port);
	fd = fcgic_connect_tcp(NULL, "127.0.0.1", port);
	ck_assert_int_ge(fd, 0);
	hello_request(&b, 1, "x");
	ck_assert_int_eq(fcgic_send(fd, b.p, b.len), 0);
	ck_assert_int_eq(fcgic_read(fd, 1, &r, 10000), 0);
	ck_assert(r.ended);
	fcgic_resp_free(&r);
	ck_assert_int_eq(kill(H->daemon_pid, SIGTERM), 0);
	ck_assert_int_eq(fcgic_read(fd, 1, &r, 5000), 0);
	ck_assert_msg((r.eof || r.reset) && !r.timed_out,
	    "the idle connection stayed open");
	fcgic_resp_free(&r);
	close(fd);
	st = harness_stop_daemon(H);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "exit status 0x%x", (unsigned)st);
	fcgic_buf_free(&b);
}
END_TEST

/* ---- fnlauncher invoke ------------------------------------------------- */

struct run {
	int status;         /* wait status, -1: did not run */
	double secs;
	char *out, *err;
};

static void
invoke(struct run *r, const char *const *pre, const char *name)
{
	const char *argv[12];
	size_t n = 0;
	double t0 = harness_now();

	for (; pre != NULL && pre[n] != NULL; n++)
		argv[n] = pre[n];
	argv[n++] = BIN;
	argv[n++] = "invoke";
	argv[n++] = "-c";
	argv[n++] = path_of("manifest.yaml");
	argv[n++] = name;
	argv[n] = NULL;
	memset(r, 0, sizeof(*r));
	r->status = harness_run(argv, NULL, NULL, &r->out, NULL, &r->err,
	    30000);
	r->secs = harness_now() - t0;
}

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* `timeout -s TERM 2 fnlauncher invoke stubborn` ends at once after the
 * SIGTERM (libfcgi's handler used to swallow it: the whole function ran),
 * with the record written and nothing left running. */
START_TEST(invoke_ends_on_sigterm)
{
	static const char *const pre[] = { "/usr/bin/timeout", "-s", "TERM",
	    "2", NULL };
	struct run r;

	invoke(&r, pre, "stubborn");
	ck_assert_msg(r.status != -1 && r.secs < 5,
	    "invoke ran %.1f s after SIGTERM at 2 s; stderr:\n%s", r.secs,
	    r.err ? r.err : "");
	ck_assert_msg(r.err && strstr(r.err, "\"function\":\"stubborn\""),
	    "no record on stderr:\n%s", r.err ? r.err : "");
	none_left(3000);
	run_free(&r);
}
END_TEST

/* A timeout after the headers: invoke used to exit before the teardown
 * (no record; a function that ignores SIGTERM kept running). */
START_TEST(invoke_timeout_after_headers)
{
	struct run r;

	invoke(&r, NULL, "quick_timeout");
	ck_assert_msg(r.status != -1 && WIFEXITED(r.status) &&
	    WEXITSTATUS(r.status) == 1, "wait status 0x%x", (unsigned)r.status);
	ck_assert_msg(r.out && strcmp(r.out, "start\n") == 0, "stdout: %s",
	    r.out ? r.out : "");
	ck_assert_msg(r.err && strstr(r.err, "\"outcome\":\"timeout\""),
	    "no timeout record on stderr:\n%s", r.err ? r.err : "");
	none_left(0);
	run_free(&r);
}
END_TEST

/* ---- reload, -t, journal, body reader --------------------------------- */

static int
get_hello(const char *q, char *body, size_t len)
{
	struct hresp r = { 0 };
	char *path = NULL;
	int st;

	ck_assert(asprintf(&path, "/hello?%s", q) > 0);
	ck_assert(harness_curl(H, &r, path, NULL) == 0);
	free(path);
	st = r.status;
	snprintf(body, len, "%s", r.body ? r.body : "");
	hresp_free(&r);
	return st;
}

/* A reload whose records log cannot be opened keeps the running
 * manifest and counts as failed (it used to swap and count ok). */
START_TEST(reload_with_unopenable_log)
{
	static const char *const failed[] = { "reload failed", NULL };
	static const char CHANGED[] =
	    "log: { invocations: /nonexistent-folder/records.jsonl }\n"
	    "functions:\n"
	    "  hello: { path: @DIR@/bin/hello, methods: [POST] }\n";
	struct hresp r = { 0 };
	char body[256];

	ck_assert(harness_start_daemon(H, "manifest.yaml", NULL) == 0);
	ck_assert(harness_start_nginx(H, NULL) == 0);
	ck_assert_int_eq(get_hello("a", body, sizeof(body)), 200);
	ck_assert(harness_write(H, "manifest.yaml", CHANGED, 0644) == 0);
	ck_assert_int_eq(kill(H->daemon_pid, SIGHUP), 0);
	for (double end = harness_now() + 5; harness_now() < end &&
	    !harness_log_has(H, failed);)
		harness_sleep_ms(50);
	ck_assert_msg(harness_log_has(H, failed), "no \"reload failed\":\n%s",
	    harness_daemon_log(H));
	/* still the old manifest: GET allowed */
	ck_assert_int_eq(get_hello("b", body, sizeof(body)), 200);
	ck_assert(harness_curl(H, &r, "/_/metrics", NULL) == 0);
	ck_assert_msg(r.body && strstr(r.body,
	    "fnlauncher_config_reloads_total{result=\"failed\"} 1\n") &&
	    strstr(r.body, "fnlauncher_config_reloads_total{result=\"ok\"} 0\n"),
	    "metrics:\n%s", r.body ? r.body : "");
	hresp_free(&r);
}
END_TEST

/* -t looks at the unix socket's folder: a start by hand would fail. */
START_TEST(check_names_missing_socket_folder)
{
	static const char M[] = "listen: unix:/nonexistent-fnl-run/fnl.sock\n";
	const char *argv[] = { BIN, "-t", "-c", path_of("t.yaml"), NULL };
	char *out = NULL;
	int st;

	ck_assert(harness_write(H, "t.yaml", M, 0644) == 0);
	st = harness_run(argv, NULL, NULL, &out, NULL, NULL, 10000);
	ck_assert(st != -1);
	ck_assert_msg(out && strstr(out, "/nonexistent-fnl-run") &&
	    strstr(out, "warning"), "-t said:\n%s", out ? out : "");
	free(out);
}
END_TEST

/* With JOURNAL_STREAM naming its stderr, each line starts with its
 * priority: errors <3>, warnings <4>, the rest <6>. */
START_TEST(journal_priorities)
{
	char env[96];
	const char *extra[] = { env, NULL };
	static const char *const err_line[] = { "<3>fnlauncher: error: reload", NULL };
	static const char *const info_line[] = { "<6>fnlauncher: info: listening", NULL };
	struct stat st;
	int fd;

	/* the log file exists first: the daemon's stderr is appended to it */
	fd = open(path_of("daemon.log"), O_WRONLY | O_CREAT | O_APPEND, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	close(fd);
	snprintf(env, sizeof(env), "JOURNAL_STREAM=%llu:%llu",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	ck_assert(harness_start_daemon(H, "manifest.yaml", extra) == 0);
	ck_assert(harness_write(H, "manifest.yaml", "functions: [\n", 0644) == 0);
	ck_assert_int_eq(kill(H->daemon_pid, SIGHUP), 0);
	for (double end = harness_now() + 5; harness_now() < end &&
	    !harness_log_has(H, err_line);)
		harness_sleep_ms(50);
	ck_assert_msg(harness_log_has(H, err_line) &&
	    harness_log_has(H, info_line), "log:\n%s", harness_daemon_log(H));
}
END_TEST

/* On Debian 12's libfcgi the daemon reads request bodies itself past
 * libfcgi's first buffer: if a libfcgi update changed its private
 * layout, this fails (the daemon would still serve, more slowly). */
START_TEST(body_reader_fast_path)
{
	static const char *const said[] = { "request bodies: read by fnlauncher",
	    NULL };
	struct hresp r = { 0 };

	ck_assert(harness_start_daemon(H, "manifest.yaml", NULL) == 0);
	ck_assert(harness_start_nginx(H, NULL) == 0);
	ck_assert_msg(harness_log_has(H, said), "log:\n%s",
	    harness_daemon_log(H));
	ck_assert(harness_curl(H, &r, "/_/metrics", NULL) == 0);
	ck_assert_msg(r.body && strstr(r.body,
	    "fnlauncher_body_reader{path=\"fnlauncher\"} 1\n") &&
	    strstr(r.body, "fnlauncher_body_reader_fallbacks_total 0\n"),
	    "metrics:\n%s", r.body ? r.body : "");
	hresp_free(&r);
}
END_TEST

/* An 8 KB URI (nginx takes it) used to fill the record's buffer: the
 * record lost status, outcome and duration. */
START_TEST(record_of_long_uri)
{
	char *path = malloc(8101), body[256], *recs, *line;

	ck_assert_ptr_nonnull(path);
	ck_assert(harness_start_daemon(H, "manifest.yaml", NULL) == 0);
	ck_assert(harness_start_nginx(H, NULL) == 0);
	memset(path, 'q', 8100);
	path[8100] = '\0';
	ck_assert_int_eq(get_hello(path, body, sizeof(body)), 200);
	harness_sleep_ms(300);
	recs = harness_read_file(path_of("records.jsonl"), NULL);
	ck_assert_ptr_nonnull(recs);
	line = strstr(recs, "\"uri\":\"/hello?qqq");
	ck_assert_msg(line != NULL, "records:\n%.400s", recs);
	ck_assert_msg(strstr(line, "...\",\"status\":200,\"outcome\":\"ok\"") &&
	    strstr(line, "\"duration_ms\":") && strstr(line, "\"remote_addr\""),
	    "record: %.2000s", line);
	free(recs);
	free(path);
}
END_TEST

/* Connection threads are bounded (2 x workers + 384 for the requests
 * waiting in the queues, at least 128; 512 with the default 64
 * workers): 600 open connections take at most 512 threads, the rest
 * wait for one (they used to take a thread each, and keep the memory
 * after). */
START_TEST(connection_threads_bounded)
{
	enum { N = 600 };
	int fds[N], n = 0;
	long threads = 0, peak = 0;

	ck_assert(harness_start_daemon(H, "manifest.yaml", NULL) == 0);
	for (; n < N; n++)
		ck_assert_int_ge(fds[n] = fcgic_connect_unix(H->sock), 0);
	for (int i = 0; i < 40; i++) {
		harness_sleep_ms(50);
		threads = harness_proc_status(H->daemon_pid, "Threads");
		if (threads > peak)
			peak = threads;
	}
	/* 512 connection threads, the main one, at most a few others */
	ck_assert_msg(peak >= 480 && peak <= 516,
	    "%d connections took %ld threads (want at most 512 of them)",
	    N, peak);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}
END_TEST

static Suite *
suite_lifecycle(void)
{
	Suite *s = suite_create("lifecycle");
	/* a fresh temp dir, daemon and nginx for each test */
	TCase *tc = harness_tcase("lifecycle", 60, NULL, NULL, up, down);

	tcase_add_test(tc, drain_serves_request_in_progress);
	tcase_add_test(tc, drain_closes_idle_connection);
	tcase_add_test(tc, invoke_ends_on_sigterm);
	tcase_add_test(tc, invoke_timeout_after_headers);
	tcase_add_test(tc, reload_with_unopenable_log);
	tcase_add_test(tc, check_names_missing_socket_folder);
	tcase_add_test(tc, journal_priorities);
	tcase_add_test(tc, body_reader_fast_path);
	tcase_add_test(tc, record_of_long_uri);
	tcase_add_test(tc, connection_threads_bounded);
	suite_add_tcase(s, tc);
	return s;
}

HARNESS_BINARY(lifecycle, HARNESS_NEEDS_NGINX | HARNESS_NEEDS_CURL,
    .suite = suite_lifecycle);
