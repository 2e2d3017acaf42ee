/* responses.c — what a function's output becomes for the client, through
 * real nginx (RFC 3875 section 6, SPEC.md section 6): local redirects,
 * header values, answers without a body, non-parsed-header scripts,
 * X-Accel-* headers, a Content-Length whose function lingers, and what
 * the log and the record say of a header block that is no header block.
 *
 * One nginx + daemon for the suite; every test asserts what the client
 * saw and, where it matters, the record and the daemon log, and after
 * each one no process of an invocation is left. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness.h"
#include "harness_check.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct harness *H;

#define CT "printf 'Content-Type: text/plain\\n\\n'\n"

static const struct {
	const char *rel, *text;
} SCRIPTS[] = {
	{ "bin/target", "#!/bin/sh\n" CT
	    "echo \"method=$REQUEST_METHOD query=$QUERY_STRING"
	    " length=${CONTENT_LENGTH-none} uri=$REQUEST_URI"
	    " name=$FN_NAME\"\ncat\n" },
	{ "bin/redir_a", "#!/bin/sh\ncat >/dev/null\n"
	    "printf 'Location: /fn/target?from=a\\n\\n'\n" },
	{ "bin/redir_early", "#!/bin/sh\n"
	    "printf 'Location: /fn/target?from=early\\n\\n'\n" },
	{ "bin/redir_enc", "#!/bin/sh\n"
	    "printf 'Location: /fn/t%%61rget?q=1#frag\\n\\n'\n" },
	{ "bin/redir_out", "#!/bin/sh\n"
	    "printf 'Location: /static/file.txt\\n\\n'\n" },
	{ "bin/redir_admin", "#!/bin/sh\n"
	    "printf 'Location: /fn/_/metrics\\n\\n'\n" },
	{ "bin/redir_loop", "#!/bin/sh\n"
	    "printf 'Location: /fn/redir_loop\\n\\n'\n" },
	{ "bin/redir_missing", "#!/bin/sh\n"
	    "printf 'Location: /fn/no-such-function\\n\\n'\n" },
	{ "bin/ctlhdr", "#!/bin/sh\n"
	    "printf 'Content-Type: text/plain\\nFoo: b\\001ar\\n\\nbody\\n'\n" },
	{ "bin/nocontent", "#!/bin/sh\nprintf 'Status: 204 No Content\\n\\n'\n" },
	{ "bin/notmod", "#!/bin/sh\n"
	    "printf 'Status: 304 Not Modified\\nETag: \"x\"\\n\\n'\n" },
	{ "bin/untyped", "#!/bin/sh\nprintf 'X-A: 1\\n\\nbody\\n'\n" },
	{ "bin/away", "#!/bin/sh\n"
	    "printf 'Location: https://example.org/\\n\\n'\n" },
	{ "bin/nph", "#!/bin/sh\nprintf 'HTTP/1.1 404 Not Found\\n"
	    "Content-Type: text/plain\\n\\nnph body\\n'\n" },
	{ "bin/sse", "#!/bin/sh\nprintf 'Content-Type: text/event-stream\\n"
	    "X-Accel-Buffering: no\\n\\ndata: one\\n\\n'\nsleep 3\n"
	    "printf 'data: two\\n\\n'\n" },
	{ "bin/ratelimited", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n"
	    "X-Accel-Limit-Rate: 10000\\nX-Accel-Expires: 0\\n\\n'\n"
	    "head -c 25000 /dev/zero\n" },
	{ "bin/accel", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n"
	    "X-Accel-Redirect: /secret\\n\\nfunction body\\n'\n" },
	{ "bin/linger", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n"
	    "Content-Length: 6\\n\\nhello\\n'\nexec sleep 30\n" },
	{ "bin/toolong", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n"
	    "Content-Length: 3\\n\\nabcdef'\n" },
	{ "bin/phpish", "#!/bin/sh\n"
	    "printf 'No input file specified.\\n\\001'\nsleep 0.3\nexit 7\n" },
	{ "bin/badlinger", "#!/bin/sh\n"
	    "printf 'Error: could not create the Java VM.\\nmore\\n'\n"
	    "exec sleep 30\n" },
};

static const char MANIFEST[] =
    "prefix: /fn/\n"
    "log: { invocations: @DIR@/records.jsonl }\n"
    "defaults: { timeout: 20s, kill_grace: 1s }\n"
    "functions:\n"
    "  target: { path: @DIR@/bin/target }\n"
    "  redir_a: { path: @DIR@/bin/redir_a }\n"
    "  redir_enc: { path: @DIR@/bin/redir_enc }\n"
    "  redir_early: { path: @DIR@/bin/redir_early, max_body: 1M }\n"
    "  redir_out: { path: @DIR@/bin/redir_out }\n"
    "  redir_admin: { path: @DIR@/bin/redir_admin }\n"
    "  redir_loop: { path: @DIR@/bin/redir_loop }\n"
    "  redir_missing: { path: @DIR@/bin/redir_missing }\n"
    "  ctlhdr: { path: @DIR@/bin/ctlhdr }\n"
    "  nocontent: { path: @DIR@/bin/nocontent }\n"
    "  notmod: { path: @DIR@/bin/notmod }\n"
    "  away: { path: @DIR@/bin/away }\n"
    "  untyped: { path: @DIR@/bin/untyped }\n"
    "  nph: { path: @DIR@/bin/nph }\n"
    "  sse: { path: @DIR@/bin/sse }\n"
    "  ratelimited: { path: @DIR@/bin/ratelimited }\n"
    "  accel: { path: @DIR@/bin/accel }\n"
    "  linger: { path: @DIR@/bin/linger }\n"
    "  toolong: { path: @DIR@/bin/toolong }\n"
    "  phpish: { path: @DIR@/bin/phpish }\n"
    "  badlinger: { path: @DIR@/bin/badlinger }\n";

/* gzip on, as many sites have it: without X-Accel-Buffering: no, nginx
 * would hold the events until the end. */
static const char LOCATIONS[] =
    "    location = /fn/sse {\n"
    "      gzip on;\n"
    "      gzip_types text/event-stream;\n"
    "      gzip_min_length 1;\n"
    "      include /etc/nginx/fastcgi_params;\n"
    "      fastcgi_pass unix:@SOCK@;\n"
    "    }\n"
    "    location = /secret {\n"
    "      internal;\n"
    "      return 200 \"secret file\\n\";\n"
    "    }\n";

static void
up(void)
{
	H = harness_new();
	ck_assert_msg(H != NULL, "cannot make the temp dir");
	for (size_t i = 0; i < sizeof(SCRIPTS) / sizeof(SCRIPTS[0]); i++)
		ck_assert(harness_write(H, SCRIPTS[i].rel, SCRIPTS[i].text,
		    0755) == 0);
	ck_assert(harness_write(H, "manifest.yaml", MANIFEST, 0644) == 0);
	if (harness_start_daemon(H, "manifest.yaml", NULL) != 0 ||
	    harness_start_nginx(H, LOCATIONS) != 0) {
		harness_free(H);
		H = NULL;
		ck_abort_msg("could not start nginx and the daemon");
	}
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

/* GET (or ARGS) PATH through nginx; curl must have run to its end. */
#define get(r, path, args) harness_req(H, (r), (path), (args))

#define ASSERT_STATUS(r, want) \
	ck_assert_msg((r)->status == (want), "status %d, want %d; headers:\n%s\n" \
	    "body:\n%.400s", (r)->status, (want), (r)->headers, (r)->body)

/* The record of the request R answered (found by its X-Request-Id);
 * waits up to 3 s for it (it is written after the answer). The caller
 * frees it. */
static char *
record_of(const struct hresp *r)
{
	char rid[64], *line;

	ck_assert_msg(hresp_header(r, "X-Request-Id", rid, sizeof(rid)) != NULL,
	    "no X-Request-Id in:\n%s", r->headers);
	line = harness_record(H, "records.jsonl", rid, 3000);
	ck_assert_msg(line != NULL, "no record for request %s", rid);
	return line;
}

#define ASSERT_HAS(s, needle) \
	ck_assert_msg(strstr((s), (needle)) != NULL, "no %s in:\n%s", (needle), (s))
#define ASSERT_HASNT(s, needle) \
	ck_assert_msg(strstr((s), (needle)) == NULL, "%s in:\n%s", (needle), (s))

/* ---- local redirects (RFC 3875 section 6.2.2) ----------------------- */

/* A POST whose function answers "Location: /fn/target?from=a": the
 * client gets what a GET of that path gives, without the body. */
START_TEST(local_redirect_served_here)
{
	static const char *const post[] = { "-X", "POST", "--data-binary",
	    "the body", NULL };
	struct hresp r = { 0 };
	char *rec;

	get(&r, "/fn/redir_a", post);
	ASSERT_STATUS(&r, 200);
	ASSERT_HAS(r.body, "method=GET query=from=a length=none "
	    "uri=/fn/target?from=a name=target\n");
	ck_assert_msg(strstr(r.body, "the body") == NULL, "%s", r.body);
	ck_assert_msg(hresp_header(&r, "Location", NULL, 0) == NULL,
	    "a Location reached the client:\n%s", r.headers);
	rec = record_of(&r);
	ASSERT_HAS(rec, "\"function\":\"target\"");
	ASSERT_HAS(rec, "\"redirected_from\":\"redir_a\"");
	ASSERT_HAS(rec, "\"method\":\"POST\"");
	ASSERT_HAS(rec, "\"uri\":\"/fn/redir_a\"");
	ASSERT_HAS(rec, "\"status\":200,\"outcome\":\"ok\"");
	free(rec);
	hresp_free(&r);
}
END_TEST

/* A function that redirects without reading its 300 KB body: the body
 * is not the next function's stdin, and the record counts it in. */
START_TEST(local_redirect_body_unread)
{
	char *data = malloc(300001), arg[64];
	const char *args[] = { "-X", "POST", "--data-binary", arg, NULL };
	struct hresp r = { 0 };
	char *rec;

	ck_assert_ptr_nonnull(data);
	memset(data, 'b', 300000);
	data[300000] = '\0';
	ck_assert(harness_write(H, "out/body", data, 0644) == 0);
	ck_assert(harness_path(H, "out/body", arg + 1, sizeof(arg) - 1) == 0);
	arg[0] = '@';
	get(&r, "/fn/redir_early", args);
	ASSERT_STATUS(&r, 200);
	ck_assert_msg(strcmp(r.body, "method=GET query=from=early length=none "
	    "uri=/fn/target?from=early name=target\n") == 0,
	    "body (%zu bytes): %.200s", r.body_len, r.body);
	rec = record_of(&r);
	ASSERT_HAS(rec, "\"bytes_in\":300000,");
	free(rec);
	hresp_free(&r);
	free(data);
}
END_TEST

/* The path is taken percent-decoded, as nginx's $uri; a fragment is the
 * client's business and is dropped. */
START_TEST(local_redirect_decoded)
{
	struct hresp r = { 0 };

	get(&r, "/fn/redir_enc", NULL);
	ASSERT_STATUS(&r, 200);
	ASSERT_HAS(r.body, "method=GET query=q=1 length=none "
	    "uri=/fn/t%61rget?q=1 name=target\n");
	hresp_free(&r);
}
END_TEST

/* A local path outside the prefix, or an admin path, is not served
 * here (nginx could only be asked with X-Accel-Redirect, which needs
 * trust_accel_headers): the client gets the redirect. */
START_TEST(local_redirect_outside_prefix)
{
	struct hresp r = { 0 };
	char loc[256];

	get(&r, "/fn/redir_out", NULL);
	ASSERT_STATUS(&r, 302);
	ck_assert_str_eq(hresp_header(&r, "Location", loc, sizeof(loc)),
	    "/static/file.txt");
	hresp_free(&r);
	memset(&r, 0, sizeof(r));
	get(&r, "/fn/redir_admin", NULL);
	ASSERT_STATUS(&r, 302);
	ck_assert_str_eq(hresp_header(&r, "Location", loc, sizeof(loc)),
	    "/fn/_/metrics");
	ASSERT_HASNT(r.body, "fnlauncher_");
	hresp_free(&r);
}
END_TEST

/* A redirect to itself ends after 10 (as Apache's limit) in a 502; one
 * to a missing function is the 404 that path gives. */
START_TEST(local_redirect_loop_and_missing)
{
	struct hresp r = { 0 };
	char *rec;

	get(&r, "/fn/redir_loop", NULL);
	ASSERT_STATUS(&r, 502);
	ASSERT_HAS(r.body, "\"error\":\"bad_response\"");
	ASSERT_HAS(r.body, "too many local redirects");
	rec = record_of(&r);
	ASSERT_HAS(rec, "\"error\":\"bad_response\"");
	free(rec);
	hresp_free(&r);
	memset(&r, 0, sizeof(r));
	get(&r, "/fn/redir_missing", NULL);
	ASSERT_STATUS(&r, 404);
	ASSERT_HAS(r.body, "\"error\":\"not_found\"");
	hresp_free(&r);
}
END_TEST

/* ---- header values, answers without a body, NPH --------------------- */

START_TEST(control_character_in_value)
{
	struct hresp r = { 0 };

	get(&r, "/fn/ctlhdr", NULL);
	ASSERT_STATUS(&r, 502);
	ASSERT_HAS(r.body, "\"error\":\"bad_response\"");
	ASSERT_HASNT(r.headers, "Foo:");
	hresp_free(&r);
}
END_TEST

/* No Content-Type is made up for an answer without a body. Seen at
 * the FastCGI level (fnlauncher invoke -i prints the header block as
 * the daemon sends it): nginx drops a Content-Type of a 204, 304 or
 * redirect on its own, so a client could not tell. */
START_TEST(no_content_type_without_body)
{
	static const char *const names[] = { "nocontent", "notmod", "away",
	    "untyped" };
	static const char *const want[] = { "HTTP/1.1 204 ", "HTTP/1.1 304 ",
	    "HTTP/1.1 302 ", "HTTP/1.1 200 " };
	const char *bin = getenv("FNL_BIN");
	char manifest[512];

	ck_assert_msg(bin != NULL, "FNL_BIN is not set");
	ck_assert(harness_path(H, "manifest.yaml", manifest,
	    sizeof(manifest)) == 0);
	for (size_t i = 0; i < 4; i++) {
		const char *argv[] = { bin, "invoke", "-i", "-c", manifest,
		    names[i], NULL };
		char *out = NULL, *err = NULL;
		int st = harness_run(argv, NULL, NULL, &out, NULL, &err, 20000);

		ck_assert_msg(st != -1 && out != NULL, "invoke %s did not run",
		    names[i]);
		ck_assert_msg(strncmp(out, want[i], strlen(want[i])) == 0,
		    "invoke %s:\n%s\n%s", names[i], out, err);
		/* the control: a 200 with a body gets the default type */
		if (i < 3)
			ASSERT_HASNT(out, "Content-Type");
		else
			ASSERT_HAS(out, "Content-Type: application/octet-stream");
		free(out);
		free(err);
	}
}
END_TEST

/* A non-parsed-header script's status line (RFC 3875 section 5.1). */
START_TEST(nph_status_line)
{
	struct hresp r = { 0 };

	get(&r, "/fn/nph", NULL);
	ASSERT_STATUS(&r, 404);
	ck_assert_str_eq(r.body, "nph body\n");
	hresp_free(&r);
}
END_TEST

/* ---- X-Accel-* ------------------------------------------------------- */

/* X-Accel-Buffering: no passes (no trust needed): behind gzip the
 * first event arrives while the function still sleeps. */
START_TEST(accel_buffering_streams)
{
	double t_first = -1, t_total = -1;
	char *body = NULL;

	ck_assert(harness_curl_timed(H, "/fn/sse", "data: one", &t_first,
	    &t_total, &body) == 0);
	ck_assert_msg(t_first >= 0 && t_first < 2.0 && t_total >= 2.5,
	    "first event after %.2f s, end after %.2f s (the function sleeps "
	    "3 s between them): X-Accel-Buffering did not reach nginx",
	    t_first, t_total);
	ck_assert_msg(body != NULL && strstr(body, "data: two") != NULL,
	    "body: %s", body ? body : "(none)");
	free(body);
}
END_TEST

/* X-Accel-Limit-Rate reaches nginx: 25 000 bytes at 10 000 bytes/s
 * take seconds (without it, a few milliseconds). */
START_TEST(accel_limit_rate_passes)
{
	double t_first = -1, t_total = -1;
	char *body = NULL;

	ck_assert(harness_curl_timed(H, "/fn/ratelimited", "\n", &t_first,
	    &t_total, &body) == 0);
	ck_assert_msg(t_total >= 1.5, "25000 bytes in %.2f s: "
	    "X-Accel-Limit-Rate did not reach nginx", t_total);
	free(body);
}
END_TEST

/* X-Accel-Redirect is dropped (trust_accel_headers is false), and the
 * log says so once for the function, not once a request. */
START_TEST(accel_redirect_dropped_logged_once)
{
	static const char *const line[] = { "function=accel",
	    "X-Accel-Redirect dropped", "trust_accel_headers", NULL };
	char *log;
	size_t n = 0;

	for (int i = 0; i < 3; i++) {
		struct hresp r = { 0 };
		get(&r, "/fn/accel", NULL);
		ASSERT_STATUS(&r, 200);
		ck_assert_str_eq(r.body, "function body\n");
		hresp_free(&r);
	}
	ck_assert(harness_log_has(H, line));
	log = harness_daemon_log(H);
	for (const char *p = log; (p = strstr(p, "X-Accel-Redirect dropped"));
	    p++)
		n++;
	free(log);
	ck_assert_msg(n == 1, "said %zu times", n);
}
END_TEST

/* ---- Content-Length -------------------------------------------------- */

/* The function announces 6 bytes, writes them and lingers (hgweb):
 * the client has every byte at once, the record says ok, and the
 * function is gone after kill_grace. */
START_TEST(content_length_then_linger)
{
	double t0 = harness_now();
	struct hresp r = { 0 };
	char *rec;

	get(&r, "/fn/linger", NULL);
	ASSERT_STATUS(&r, 200);
	ck_assert_str_eq(r.body, "hello\n");
	ck_assert_msg(harness_now() - t0 < 5, "answered after %.1f s",
	    harness_now() - t0);
	rec = record_of(&r);
	ASSERT_HAS(rec, "\"status\":200,\"outcome\":\"ok\"");
	ASSERT_HAS(rec, "\"bytes_out\":6,");
	free(rec);
	hresp_free(&r);
}
END_TEST

/* Bytes past the announced length are not passed on. */
START_TEST(content_length_excess_dropped)
{
	struct hresp r = { 0 };

	get(&r, "/fn/toolong", NULL);
	ASSERT_STATUS(&r, 200);
	ck_assert_str_eq(r.body, "abc");
	hresp_free(&r);
}
END_TEST

/* ---- output that is no header block ---------------------------------- */

/* php-cgi without REDIRECT_STATUS writes its complaint to stdout: the
 * log shows those bytes (escaped), the record a bad response with the
 * function's own exit code, not a kill. */
START_TEST(bad_header_block_logged)
{
	static const char *const line[] = { "function=phpish", "bad response",
	    "its output began: \"No input file specified.\\n\\x01\"", NULL };
	struct hresp r = { 0 };
	char *rec;

	get(&r, "/fn/phpish", NULL);
	ASSERT_STATUS(&r, 502);
	ASSERT_HAS(r.body, "\"error\":\"bad_response\"");
	rec = record_of(&r);
	ASSERT_HAS(rec, "\"status\":502,\"outcome\":\"error\",\"exit_code\":7,"
	    "\"signal\":null,");
	ASSERT_HAS(rec, "\"error\":\"bad_response\"");
	free(rec);
	ck_assert_msg(harness_log_has(H, line), "log:\n%s",
	    harness_daemon_log(H));
	hresp_free(&r);
}
END_TEST

/* One that lingers after its bad output is ended after kill_grace. */
START_TEST(bad_header_block_lingers)
{
	struct hresp r = { 0 };

	get(&r, "/fn/badlinger", NULL);
	ASSERT_STATUS(&r, 502);
	hresp_free(&r);
}
END_TEST

static Suite *
suite_responses(void)
{
	Suite *s = suite_create("responses");
	TCase *tc = harness_tcase("responses", 60, up, down, NULL,
	    no_leftovers);

	tcase_add_test(tc, local_redirect_served_here);
	tcase_add_test(tc, local_redirect_body_unread);
	tcase_add_test(tc, local_redirect_decoded);
	tcase_add_test(tc, local_redirect_outside_prefix);
	tcase_add_test(tc, local_redirect_loop_and_missing);
	tcase_add_test(tc, control_character_in_value);
	tcase_add_test(tc, no_content_type_without_body);
	tcase_add_test(tc, nph_status_line);
	tcase_add_test(tc, accel_buffering_streams);
	tcase_add_test(tc, accel_limit_rate_passes);
	tcase_add_test(tc, accel_redirect_dropped_logged_once);
	tcase_add_test(tc, content_length_then_linger);
	tcase_add_test(tc, content_length_excess_dropped);
	tcase_add_test(tc, bad_header_block_logged);
	tcase_add_test(tc, bad_header_block_lingers);
	suite_add_tcase(s, tc);
	return s;
}

HARNESS_BINARY(responses, HARNESS_NEEDS_NGINX | HARNESS_NEEDS_CURL,
    .suite = suite_responses);
