/* security_raw.c — what nginx would never send, straight to the daemon's
 * unix socket through fcgiclient.c: bad versions and types, truncated
 * records, huge and duplicate params, no method, FCGI_ABORT_REQUEST, a
 * stalled connection. After each: the daemon runs (same pid), serves
 * nginx, and its connection threads are released. And TCP allow_from. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "security.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fcgiclient.h"

/* ---- raw FastCGI against the daemon's socket ---------------------------- */

/* Everything a GET of uri needs, after extra (n of them: a name given
 * twice, the first is what the daemon must use). method NULL: none. */
static int std_request_id(struct fcgic_buf *b, unsigned id, unsigned flags,
    const char *uri, const char *method, const char *const *extra, size_t n)
{
	char s[4][160];
	const char **nv = calloc(n + 12, sizeof(*nv));
	size_t k = 0, i;
	int rc;

	if (nv == NULL)
		return -1;
	for (i = 0; i < n; i++)
		nv[k++] = extra[i];
	snprintf(s[0], sizeof(s[0]), "DOCUMENT_URI=%s", uri);
	snprintf(s[1], sizeof(s[1]), "SCRIPT_NAME=%s", uri);
	snprintf(s[2], sizeof(s[2]), "REQUEST_URI=%s", uri);
	snprintf(s[3], sizeof(s[3]), "REQUEST_METHOD=%s", method ? method :
	    "");
	nv[k++] = s[0];
	nv[k++] = s[1];
	nv[k++] = s[2];
	if (method != NULL)
		nv[k++] = s[3];
	nv[k++] = "QUERY_STRING=";
	nv[k++] = "SERVER_PROTOCOL=HTTP/1.1";
	nv[k++] = "REMOTE_ADDR=127.0.0.1";
	nv[k++] = "SERVER_NAME=localhost";
	nv[k++] = "CONTENT_LENGTH=";
	rc = fcgic_request(b, id, flags, nv, k, NULL, 0);
	free(nv);
	return rc;
}

static int std_request(struct fcgic_buf *b, const char *uri,
    const char *method, const char *const *extra, size_t n)
{
	return std_request_id(b, 1, 0, uri, method, extra, n);
}

static int b_hello(struct fcgic_buf *b)
{
	return std_request(b, "/hello", "GET", NULL, 0);
}

static int b_version(struct fcgic_buf *b, unsigned v)
{
	struct fcgic_buf ok = { 0 };
	int rc = b_hello(&ok);

	if (rc == 0) {
		ok.p[0] = (unsigned char)v;   /* the BEGIN record's version */
		rc = fcgic_buf_put(b, ok.p, ok.len);
	}
	fcgic_buf_free(&ok);
	return rc;
}

static int b_version0(struct fcgic_buf *b) { return b_version(b, 0); }
static int b_version2(struct fcgic_buf *b) { return b_version(b, 2); }

/* Management records (request id 0) of an unknown type, then a request
 * on the same connection. */
static int b_mgmt_unknown(struct fcgic_buf *b)
{
	static const char junk[8] = "12345678";

	return fcgic_record(b, 99, 0, junk, 8) || fcgic_record(b, 255, 0, junk,
	    3) || b_hello(b) ? -1 : 0;
}

/* FCGI_GET_VALUES (spec 4.1), then a request. */
static int b_get_values(struct fcgic_buf *b)
{
	struct fcgic_buf nv = { 0 };
	int rc = fcgic_nv(&nv, "FCGI_MAX_CONNS", 14, "", 0) ||
	    fcgic_nv(&nv, "FCGI_MPXS_CONNS", 15, "", 0) ||
	    fcgic_record(b, 9, 0, nv.p, nv.len) || b_hello(b) ? -1 : 0;

	fcgic_buf_free(&nv);
	return rc;
}

/* After BEGIN, a record of a type that has no business in a request. */
static int b_type(struct fcgic_buf *b, unsigned type)
{
	static const char junk[16] = "0123456789abcdef";

	return fcgic_begin(b, 1, FCGIC_RESPONDER, 0) ||
	    fcgic_record(b, type, 1, junk, 16) ? -1 : 0;
}

static int b_type0(struct fcgic_buf *b) { return b_type(b, 0); }
static int b_type99(struct fcgic_buf *b) { return b_type(b, 99); }
static int b_type_end(struct fcgic_buf *b)
{
	return b_type(b, FCGIC_END_REQUEST);
}

static int b_stdin_first(struct fcgic_buf *b)
{
	return b_type(b, FCGIC_STDIN);
}

/* A role other than responder (authorizer = 2, filter = 3, 77). */
static int b_role77(struct fcgic_buf *b)
{
	struct fcgic_buf ok = { 0 };
	int rc = b_hello(&ok);

	if (rc == 0) {
		ok.p[9] = 77;                 /* BEGIN body: roleB0 */
		rc = fcgic_buf_put(b, ok.p, ok.len);
	}
	fcgic_buf_free(&ok);
	return rc;
}

static int b_trunc_header(struct fcgic_buf *b)
{
	static const unsigned char half[5] = { 1, 1, 0, 1, 0 };

	return fcgic_buf_put(b, half, sizeof(half));
}

/* PARAMS says 1000 bytes, 10 follow, then the client closes. */
static int b_short_params(struct fcgic_buf *b)
{
	return fcgic_begin(b, 1, FCGIC_RESPONDER, 0) ||
	    fcgic_header(b, 1, FCGIC_PARAMS, 1, 1000, 0) ||
	    fcgic_buf_put(b, "\x0e\x03REQUEST_", 10) ? -1 : 0;
}

/* A complete request whose STDIN record says 100 bytes; 10 follow. */
static int b_short_stdin(struct fcgic_buf *b)
{
	static const char *const cl[] = { "CONTENT_LENGTH=100" };

	return fcgic_begin(b, 1, FCGIC_RESPONDER, 0) ||
	    fcgic_params(b, 1, (const char *const[]){ "REQUEST_METHOD=POST",
	    "DOCUMENT_URI=/slurp", "HTTP_X_TAG=short", cl[0] }, 4) ||
	    fcgic_header(b, 1, FCGIC_STDIN, 1, 100, 0) ||
	    fcgic_buf_put(b, "0123456789", 10) ? -1 : 0;
}

/* A pair whose value length runs past the end of the params stream. */
static int b_nv_overrun(struct fcgic_buf *b)
{
	static const unsigned char pair[] = { 4, 0x80, 0, 0x10, 0, 'N', 'A',
	    'M', 'E', 'v' };

	return fcgic_begin(b, 1, FCGIC_RESPONDER, 0) ||
	    fcgic_stream(b, FCGIC_PARAMS, 1, pair, sizeof(pair), 1) ||
	    fcgic_stream(b, FCGIC_STDIN, 1, NULL, 0, 1) ? -1 : 0;
}

#define MANY 10000

static int b_many_params(struct fcgic_buf *b)
{
	char (*s)[24] = calloc(MANY, sizeof(*s));
	const char **nv = calloc(MANY, sizeof(*nv));
	int rc = -1, i;

	if (s != NULL && nv != NULL) {
		for (i = 0; i < MANY; i++) {
			snprintf(s[i], sizeof(s[i]), "HTTP_X_P%05d=v", i);
			nv[i] = s[i];
		}
		rc = std_request(b, "/countx", "GET", nv, MANY);
	}
	free(s);
	free(nv);
	return rc;
}

/* One 1 MiB value under name (prefix "NAME="). */
static int big_value(struct fcgic_buf *b, const char *prefix)
{
	size_t pl = strlen(prefix), n = pl + (1u << 20);
	char *s = malloc(n + 1);
	const char *nv[1] = { s };
	int rc = -1;

	if (s != NULL) {
		memcpy(s, prefix, pl);
		memset(s + pl, 'a', n - pl);
		s[n] = '\0';
		rc = std_request(b, "/hello", "GET", nv, 1);
	}
	free(s);
	return rc;
}

static int b_big_other(struct fcgic_buf *b)
{
	return big_value(b, "BIG_PARAM=");
}

static int b_big_http(struct fcgic_buf *b)
{
	return big_value(b, "HTTP_X_BIG=");
}

static int b_dup(struct fcgic_buf *b)
{
	static const char *const nv[] = { "HTTP_X_DUP=first",
	    "HTTP_X_DUP=second", "REQUEST_METHOD=GET",
	    "REQUEST_METHOD=DELETE" };

	return std_request(b, "/dup", NULL, nv, 4);
}

static int b_dup_method(struct fcgic_buf *b)
{
	static const char *const nv[] = { "REQUEST_METHOD=DELETE",
	    "REQUEST_METHOD=GET" };

	return std_request(b, "/dup", NULL, nv, 2);
}

static int b_no_method(struct fcgic_buf *b)
{
	return std_request(b, "/hello", NULL, NULL, 0);
}

static int b_empty_method(struct fcgic_buf *b)
{
	return std_request(b, "/hello", "", NULL, 0);
}

/* Names that would reach a file outside the manifest and functions_dir
 * if they were used as paths: drop/../bin/hello exists (SPEC 4). */
static int b_fn_traversal(struct fcgic_buf *b)
{
	static const char *const nv[] = { "FN_FUNCTION=../bin/hello" };

	return std_request(b, "/x", "GET", nv, 1);
}

static int b_uri_traversal(struct fcgic_buf *b)
{
	return std_request(b, "/../bin/hello", "GET", NULL, 0);
}

static int b_uri_dot(struct fcgic_buf *b)
{
	return std_request(b, "/..", "GET", NULL, 0);
}

/* SCRIPT_FILENAME is ignored (SPEC 4): it must not pick the executable. */
static int b_script_filename(struct fcgic_buf *b)
{
	static const char *const nv[] = { "SCRIPT_FILENAME=/usr/bin/id" };

	return std_request(b, "/hello", "GET", nv, 1);
}

static int b_huge_length(struct fcgic_buf *b)
{
	static const char *const nv[] = {
	    "CONTENT_LENGTH=99999999999999999999999" };

	return std_request(b, "/hello", "POST", nv, 1);
}

/* RFC 3875 4.1.2: CONTENT_LENGTH is digits; strtoull took "12abc" as
 * 12 and " -5" as a huge number. */
static int b_bad_length(struct fcgic_buf *b)
{
	static const char *const nv[] = { "CONTENT_LENGTH=12abc" };

	return std_request(b, "/hello", "POST", nv, 1);
}

static int b_negative_length(struct fcgic_buf *b)
{
	static const char *const nv[] = { "CONTENT_LENGTH=-5" };

	return std_request(b, "/hello", "POST", nv, 1);
}

/* A second BEGIN (request 2) while request 1 is open: a multiplexing
 * peer, which libfcgi answers with FCGI_CANT_MPX_CONN (spec 5.5). */
static int b_mpx(struct fcgic_buf *b)
{
	struct fcgic_buf one = { 0 }, two = { 0 };
	size_t cut;
	int rc = -1;

	if (std_request_id(&one, 1, FCGIC_KEEP_CONN, "/hello", "GET", NULL,
	    0) == 0 && std_request_id(&two, 2, FCGIC_KEEP_CONN, "/hello",
	    "GET", NULL, 0) == 0) {
		/* one = BEGIN, PARAMS..., empty PARAMS, empty STDIN (8). */
		cut = one.len - 8;
		rc = fcgic_buf_put(b, one.p, cut) || fcgic_buf_put(b, two.p,
		    two.len) || fcgic_buf_put(b, one.p + cut, 8) ? -1 : 0;
	}
	fcgic_buf_free(&one);
	fcgic_buf_free(&two);
	return rc;
}

enum expect {
	X_CLOSED,     /* no response, the daemon closes the connection */
	X_NOHANG,     /* a response or a close, within the time limit */
	X_STATUS,     /* a complete response with this status */
};

static const struct raw_case {
	const char *name;
	int (*build)(struct fcgic_buf *);
	int shut_wr;              /* the client closes its side after */
	enum expect x;
	int status;
	const char *body;         /* X_STATUS: body, or JSON error code */
	int unknown_type;         /* an FCGI_UNKNOWN_TYPE for it must come */
} RAW[] = {
	{ "version 0", b_version0, 0, X_CLOSED, 0, NULL, 0 },
	{ "version 2", b_version2, 0, X_CLOSED, 0, NULL, 0 },
	/* libfcgi answers a management record (FCGI_UNKNOWN_TYPE, spec 4.2)
	 * and then drops the connection, request and all: only the answer
	 * and the daemon's health are asserted. */
	{ "unknown management types", b_mgmt_unknown, 0, X_NOHANG, 0, NULL,
	    99 },
	{ "FCGI_GET_VALUES", b_get_values, 0, X_NOHANG, 0, NULL, 0 },
	{ "record type 0 in a request", b_type0, 0, X_NOHANG, 0, NULL, 0 },
	{ "record type 99 in a request", b_type99, 0, X_NOHANG, 0, NULL, 0 },
	{ "END_REQUEST from the client", b_type_end, 0, X_NOHANG, 0, NULL, 0 },
	{ "STDIN before PARAMS", b_stdin_first, 0, X_NOHANG, 0, NULL, 0 },
	{ "role 77", b_role77, 0, X_NOHANG, 0, NULL, 0 },
	{ "truncated header, close", b_trunc_header, 1, X_CLOSED, 0, NULL, 0 },
	{ "short PARAMS record, close", b_short_params, 1, X_CLOSED, 0, NULL,
	    0 },
	{ "short STDIN record, close", b_short_stdin, 1, X_NOHANG, 0, NULL, 0 },
	{ "pair longer than its stream", b_nv_overrun, 0, X_NOHANG, 0, NULL,
	    0 },
	{ "10000 params", b_many_params, 0, X_STATUS, 200, "10000\n", 0 },
	{ "1 MiB value, not passed", b_big_other, 0, X_STATUS, 200, "hello\n",
	    0 },
	{ "1 MiB HTTP_ value", b_big_http, 0, X_NOHANG, 0, NULL, 0 },
	{ "duplicate params: first wins", b_dup, 0, X_STATUS, 200,
	    "first|GET\n", 0 },
	{ "duplicate method: first wins", b_dup_method, 0, X_STATUS, 405,
	    "method_not_allowed", 0 },
	{ "no REQUEST_METHOD", b_no_method, 0, X_STATUS, 400, "bad_request",
	    0 },
	{ "empty REQUEST_METHOD", b_empty_method, 0, X_STATUS, 400,
	    "bad_request", 0 },
	{ "FN_FUNCTION=../bin/hello", b_fn_traversal, 0, X_STATUS, 404,
	    "not_found", 0 },
	{ "DOCUMENT_URI=/../bin/hello", b_uri_traversal, 0, X_STATUS, 404,
	    "not_found", 0 },
	{ "DOCUMENT_URI=/..", b_uri_dot, 0, X_STATUS, 404, "not_found", 0 },
	{ "SCRIPT_FILENAME ignored", b_script_filename, 0, X_STATUS, 200,
	    "hello\n", 0 },
	{ "CONTENT_LENGTH past 2^64", b_huge_length, 0, X_STATUS, 413,
	    "body_too_large", 0 },
	{ "CONTENT_LENGTH not digits", b_bad_length, 0, X_STATUS, 400,
	    "bad_request", 0 },
	{ "CONTENT_LENGTH negative", b_negative_length, 0, X_STATUS, 400,
	    "bad_request", 0 },
	{ "multiplexed BEGIN", b_mpx, 0, X_STATUS, 200, "hello\n", 0 },
};

START_TEST(raw_fastcgi)
{
	const struct raw_case *c = &RAW[_i];
	struct fcgic_buf b = { 0 };
	struct fcgic_resp r;
	const char *body;
	char jv[64], what[128];
	long base = harness_busy_threads(sec_h->daemon_pid), now;
	int fd, st;

	snprintf(what, sizeof(what), "raw case \"%s\"", c->name);
	ck_assert_int_gt(base, 0);
	ck_assert_int_eq(c->build(&b), 0);
	fd = fcgic_connect_unix(sec_h->sock);
	ck_assert_int_ge(fd, 0);
	/* The daemon may close early: a failed send is no failure here. */
	(void)fcgic_send(fd, b.p, b.len);
	if (c->shut_wr)
		shutdown(fd, SHUT_WR);
	ck_assert_int_eq(fcgic_read(fd, 1, &r, 10000), 0);
	close(fd);
	fcgic_buf_free(&b);
	ck_assert_msg(!r.timed_out && !r.bad, "%s: %s", what, r.bad ?
	    "unparsable records" : "no answer and no close within 10 s");
	/* One line per case for the issue note: what the daemon did. */
	st = fcgic_status(&r, &body);
	printf("raw: %-30s -> %s status %d, %zu bytes%s\n", c->name,
	    r.ended ? "response" : r.reset ? "reset" : "closed", st,
	    r.raw_bytes, r.unknown_type ? ", FCGI_UNKNOWN_TYPE" : "");
	fflush(stdout);
	switch (c->x) {
	case X_CLOSED:
		ck_assert_msg(!r.ended && r.out.len == 0 && (r.eof || r.reset),
		    "%s: want a close without a response; got %zu bytes%s",
		    what, r.raw_bytes, r.ended ? " (a complete response)" : "");
		break;
	case X_NOHANG:
		break;
	case X_STATUS:
		ck_assert_msg(r.ended && st == c->status, "%s: status %d "
		    "(ended %d), want %d\n%.300s\n%s", what, st, r.ended,
		    c->status, r.out.p ? (char *)r.out.p : "",
		    harness_log_tail(sec_h));
		if (c->status >= 400)
			ck_assert_msg(harness_json_str(body, "error", jv,
			    sizeof(jv)) &&
			    strcmp(jv, c->body) == 0, "%s: body %s, want "
			    "error %s", what, body, c->body);
		else
			ck_assert_msg(strcmp(body, c->body) == 0, "%s: body "
			    "[%.200s], want [%s]", what, body, c->body);
		break;
	}
	ck_assert_msg(r.unknown_type == c->unknown_type, "%s: "
	    "FCGI_UNKNOWN_TYPE for type %d, want %d", what, r.unknown_type,
	    c->unknown_type);
	fcgic_resp_free(&r);
	sec_assert_daemon_serves(what);
	now = sec_threads_settle(base, 3000);
	ck_assert_msg(now <= base, "%s: daemon threads %ld, were %ld: a "
	    "connection's thread is still busy", what, now, base);
}
END_TEST

/* FCGI_ABORT_REQUEST in the middle of the body: the invocation is torn
 * down (its process gone) and the connection closed. Once sent with the
 * first 1000 bytes of the body (libfcgi has read it with the params),
 * once after 200 000 bytes and the function's start (the daemon reads
 * the records itself by then). */
static const struct {
	size_t body;
	int with_body;
} ABORTS[] = { { 1000, 1 }, { 200000, 0 } };

/* Wait up to 5 s for the process in MARKER (if it was written) to end. */
static void
assert_marked_gone(const char *marker)
{
	char *s = harness_read_file(marker, NULL);
	pid_t pid = s ? (pid_t)atol(s) : 0;
	double end;

	free(s);
	for (end = harness_now() + 5; pid > 0 && harness_now() < end &&
	    harness_proc_running(pid);)
		harness_sleep_ms(20);
	ck_assert_msg(pid <= 0 || !harness_proc_running(pid),
	    "pid %ld still runs "
	    "5 s after FCGI_ABORT_REQUEST\n%s", (long)pid,
	    harness_log_tail(sec_h));
}

START_TEST(raw_abort_request)
{
	static const char *const nv[] = { "CONTENT_LENGTH=1000000",
	    "HTTP_X_TAG=abort", "CONTENT_TYPE=application/octet-stream" };
	char marker[512], *part, *s, byte;
	size_t plen = ABORTS[_i].body;
	struct fcgic_buf b = { 0 };
	struct fcgic_resp r;
	struct timeval tv = { .tv_sec = 5 };
	double end;
	pid_t pid = 0;
	int fd;

	part = malloc(plen);
	ck_assert_ptr_nonnull(part);
	memset(part, 'x', plen);
	snprintf(marker, sizeof(marker), "%s/spool/slurp.abort", sec_h->dir);
	(void)unlink(marker);
	ck_assert_int_eq(fcgic_begin(&b, 1, FCGIC_RESPONDER, 0), 0);
	{
		const char *all[] = { nv[0], nv[1], nv[2],
		    "REQUEST_METHOD=POST", "DOCUMENT_URI=/slurp",
		    "SCRIPT_NAME=/slurp", "QUERY_STRING=" };

		ck_assert_int_eq(fcgic_params(&b, 1, all, 7), 0);
	}
	ck_assert_int_eq(fcgic_stream(&b, FCGIC_STDIN, 1, part, plen, 0), 0);
	free(part);
	if (ABORTS[_i].with_body)
		ck_assert_int_eq(fcgic_header(&b, 1, FCGIC_ABORT_REQUEST, 1, 0,
		    0), 0);
	fd = fcgic_connect_unix(sec_h->sock);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcgic_send(fd, b.p, b.len), 0);
	fcgic_buf_free(&b);
	if (!ABORTS[_i].with_body) {
		for (end = harness_now() + 10; harness_now() < end && pid <= 0;
		    harness_sleep_ms(20))
			if ((s = harness_read_file(marker, NULL)) != NULL) {
				pid = (pid_t)atol(s);
				free(s);
			}
		ck_assert_msg(pid > 0, "the function did not start\n%s",
		    harness_log_tail(sec_h));
		ck_assert_msg(harness_proc_running(pid),
		    "the function ended by itself");
		ck_assert_int_eq(fcgic_header(&b, 1, FCGIC_ABORT_REQUEST, 1, 0,
		    0), 0);
		ck_assert_int_eq(fcgic_send(fd, b.p, b.len), 0);
		fcgic_buf_free(&b);
	}
	assert_marked_gone(marker);
	ck_assert_int_eq(fcgic_read(fd, 1, &r, 5000), 0);
	ck_assert_msg(!r.timed_out, "no answer and no close 5 s after "
	    "FCGI_ABORT_REQUEST");
	/* Closed, never kept for another request. */
	if (!r.eof && !r.reset) {
		ssize_t n;

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = read(fd, &byte, 1);
		ck_assert_msg(n == 0 || (n < 0 && errno != EAGAIN &&
		    errno != EWOULDBLOCK), "the connection stayed open after "
		    "FCGI_ABORT_REQUEST (read: %zd)", n);
	}
	close(fd);
	fcgic_resp_free(&r);
	sec_assert_daemon_serves("FCGI_ABORT_REQUEST");
}
END_TEST

/* A body as nginx never cuts it, read past libfcgi's buffer by the
 * daemon's own record parser: records of 1 to 65 535 bytes with and
 * without padding, records of another request id between them (to be
 * skipped), headers split across reads. The function (cat) must get the
 * body byte for byte, and the connection must carry a second request. */
START_TEST(raw_body_records)
{
	static const size_t sizes[] = { 1, 7, 8, 9, 8191, 65535, 1000, 333,
	    4096, 65528, 2 };
	static const size_t cuts[] = { 1, 3, 7, 4099, 65537, 13, 8, 100000 };
	const size_t total = 300000;
	unsigned char *body = malloc(total), pad[255] = { 0 };
	struct fcgic_buf b = { 0 };
	struct fcgic_resp r;
	const char *out;
	char cl[64];
	size_t off = 0, i, at;
	int fd, st;

	ck_assert_ptr_nonnull(body);
	for (i = 0; i < total; i++)
		body[i] = (unsigned char)(i * 7 + 13 + i / 251);
	snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", total);
	{
		const char *nv[] = { cl, "REQUEST_METHOD=POST",
		    "DOCUMENT_URI=/cat", "SCRIPT_NAME=/cat", "QUERY_STRING=",
		    "CONTENT_TYPE=application/octet-stream" };

		ck_assert_int_eq(fcgic_begin(&b, 1, FCGIC_RESPONDER,
		    FCGIC_KEEP_CONN), 0);
		ck_assert_int_eq(fcgic_params(&b, 1, nv, 6), 0);
	}
	for (i = 0; off < total; i++) {
		size_t n = sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
		unsigned padn = i % 3 == 0 ? 0 : (unsigned)(i * 37 % 256);

		n = n > total - off ? total - off : n;
		ck_assert_int_eq(fcgic_header(&b, 1, FCGIC_STDIN, 1,
		    (unsigned)n, padn), 0);
		ck_assert_int_eq(fcgic_buf_put(&b, body + off, n), 0);
		ck_assert_int_eq(fcgic_buf_put(&b, pad, padn), 0);
		off += n;
		if (i % 5 == 4) {       /* another request's record */
			ck_assert_int_eq(fcgic_header(&b, 1, FCGIC_STDIN, 7,
			    100, 4), 0);
			ck_assert_int_eq(fcgic_buf_put(&b, pad, 104), 0);
		}
	}
	ck_assert_int_eq(fcgic_header(&b, 1, FCGIC_STDIN, 1, 0, 8), 0);
	ck_assert_int_eq(fcgic_buf_put(&b, pad, 8), 0);
	fd = fcgic_connect_unix(sec_h->sock);
	ck_assert_int_ge(fd, 0);
	for (at = 0, i = 0; at < b.len; i++) {
		size_t n = cuts[i % (sizeof(cuts) / sizeof(cuts[0]))];

		n = n > b.len - at ? b.len - at : n;
		ck_assert_int_eq(fcgic_send(fd, b.p + at, n), 0);
		at += n;
		if (i % 4 == 0)
			harness_sleep_ms(2);    /* let the daemon read a part */
	}
	fcgic_buf_free(&b);
	ck_assert_int_eq(fcgic_read(fd, 1, &r, 20000), 0);
	st = fcgic_status(&r, &out);
	ck_assert_msg(r.ended && st == 200, "ended %d status %d\n%s", r.ended,
	    st, harness_log_tail(sec_h));
	ck_assert_msg(r.out.len - (size_t)(out - (char *)r.out.p) == total &&
	    memcmp(out, body, total) == 0, "cat gave back %zu bytes, not the "
	    "%zu sent (or other bytes)", r.out.len -
	    (size_t)(out - (char *)r.out.p), total);
	fcgic_resp_free(&r);
	free(body);
	/* The connection is where the next request starts. */
	ck_assert_int_eq(std_request_id(&b, 2, FCGIC_KEEP_CONN, "/hello",
	    "GET", NULL, 0), 0);
	ck_assert_int_eq(fcgic_send(fd, b.p, b.len), 0);
	fcgic_buf_free(&b);
	ck_assert_int_eq(fcgic_read(fd, 2, &r, 10000), 0);
	st = fcgic_status(&r, &out);
	ck_assert_msg(r.ended && st == 200 && strcmp(out, "hello\n") == 0,
	    "second request on the connection: ended %d, %d [%s]", r.ended,
	    st, out);
	fcgic_resp_free(&r);
	close(fd);
	sec_assert_daemon_serves("a body in odd records");
}
END_TEST

/* Two requests on one FCGI_KEEP_CONN connection: both answered, and
 * nothing of the first (its params) reaches the second. */
START_TEST(raw_keepconn_no_leak)
{
	static const char *const secret[] = { "HTTP_X_DUP=secret-1" };
	struct fcgic_buf b = { 0 };
	struct fcgic_resp r;
	const char *body;
	int fd = fcgic_connect_unix(sec_h->sock), st;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(std_request_id(&b, 1, FCGIC_KEEP_CONN, "/dup", "GET",
	    secret, 1), 0);
	ck_assert_int_eq(fcgic_send(fd, b.p, b.len), 0);
	fcgic_buf_free(&b);
	ck_assert_int_eq(fcgic_read(fd, 1, &r, 10000), 0);
	st = fcgic_status(&r, &body);
	ck_assert_msg(r.ended && st == 200 && strcmp(body, "secret-1|GET\n") ==
	    0, "first request: %d [%s]", st, body);
	fcgic_resp_free(&r);
	ck_assert_int_eq(std_request_id(&b, 2, FCGIC_KEEP_CONN, "/dup", "GET",
	    NULL, 0), 0);
	ck_assert_int_eq(fcgic_send(fd, b.p, b.len), 0);
	fcgic_buf_free(&b);
	ck_assert_int_eq(fcgic_read(fd, 2, &r, 10000), 0);
	st = fcgic_status(&r, &body);
	ck_assert_msg(r.ended && st == 200 && strcmp(body, "|GET\n") == 0,
	    "second request on the connection: ended %d, %d [%s]", r.ended,
	    st, body);
	fcgic_resp_free(&r);
	close(fd);
}
END_TEST

/* A connection that sends one byte and stalls takes nothing from the
 * others. */
START_TEST(raw_stalled_connection)
{
	struct fcgic_buf b = { 0 };
	struct fcgic_resp r;
	double t0;
	long base = harness_busy_threads(sec_h->daemon_pid);
	int stall = fcgic_connect_unix(sec_h->sock), fd;

	ck_assert_int_ge(stall, 0);
	ck_assert_int_eq(fcgic_send(stall, "\x01", 1), 0);
	harness_sleep_ms(200);
	t0 = harness_now();
	sec_assert_daemon_serves("a stalled connection");
	ck_assert_msg(harness_now() - t0 < 5, "a request took %.1f s",
	    harness_now() - t0);
	ck_assert_int_eq(b_hello(&b), 0);
	fd = fcgic_connect_unix(sec_h->sock);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcgic_send(fd, b.p, b.len), 0);
	ck_assert_int_eq(fcgic_read(fd, 1, &r, 5000), 0);
	ck_assert_msg(r.ended && fcgic_status(&r, NULL) == 200,
	    "raw request beside a stalled one: ended %d", r.ended);
	close(fd);
	fcgic_resp_free(&r);
	fcgic_buf_free(&b);
	close(stall);
	ck_assert_msg(sec_threads_settle(base, 3000) <= base,
	    "the stalled connection's thread is still busy after close");
}
END_TEST

/* ---- TCP: allow_from ---------------------------------------------------- */

static const char TCP_MANIFEST[] =
    "# generated by t/security.c\n"
    "allow_from: [127.0.0.1]\n"
    "functions:\n"
    "  hello: { path: @DIR@/bin/hello }\n";

START_TEST(tcp_allow_from)
{
	const char *bin = getenv("FNL_BIN");
	const char *envp[] = { SEC_PATH_ENV, NULL };
	char manifest[512], listen[64], logp[512];
	struct fcgic_buf b = { 0 };
	struct fcgic_resp r;
	int port = harness_free_port(), fd = -1, logfd, st;
	double end;
	pid_t pid;

	ck_assert_ptr_nonnull(bin);
	ck_assert_int_gt(port, 0);
	ck_assert_int_eq(harness_write(sec_h, "tcp.yaml", TCP_MANIFEST, 0644),
	    0);
	ck_assert_int_eq(harness_path(sec_h, "tcp.yaml", manifest,
	    sizeof(manifest)), 0);
	ck_assert_int_eq(harness_path(sec_h, "daemon-tcp.log", logp,
	    sizeof(logp)), 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0644);
	ck_assert_int_ge(logfd, 0);
	{
		const char *argv[] = { bin, "-c", manifest, "-s", listen,
		    NULL };

		pid = sec_run_child(argv, envp, logfd, 0);
	}
	close(logfd);
	ck_assert_int_gt(pid, 0);
	for (end = harness_now() + 10; harness_now() < end && fd < 0;
	    harness_sleep_ms(20))
		fd = fcgic_connect_tcp(NULL, "127.0.0.1", port);
	ck_assert_msg(fd >= 0, "the TCP daemon does not listen on %s", listen);
	close(fd);
	ck_assert_int_eq(b_hello(&b), 0);

	/* From 127.0.0.2: accepted by the kernel, closed by the daemon. */
	fd = fcgic_connect_tcp("127.0.0.2", "127.0.0.1", port);
	ck_assert_msg(fd >= 0, "cannot connect from 127.0.0.2");
	(void)fcgic_send(fd, b.p, b.len);
	ck_assert_int_eq(fcgic_read(fd, 1, &r, 5000), 0);
	close(fd);
	ck_assert_msg(r.raw_bytes == 0 && (r.eof || r.reset),
	    "from 127.0.0.2: %zu bytes, eof %d reset %d timed out %d",
	    r.raw_bytes, r.eof, r.reset, r.timed_out);
	fcgic_resp_free(&r);

	/* From 127.0.0.1: a response. */
	fd = fcgic_connect_tcp("127.0.0.1", "127.0.0.1", port);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcgic_send(fd, b.p, b.len), 0);
	ck_assert_int_eq(fcgic_read(fd, 1, &r, 10000), 0);
	close(fd);
	ck_assert_msg(r.ended && fcgic_status(&r, NULL) == 200,
	    "from 127.0.0.1: ended %d, %zu bytes", r.ended, r.raw_bytes);
	fcgic_resp_free(&r);
	fcgic_buf_free(&b);
	ck_assert_msg(waitpid(pid, &st, WNOHANG) == 0, "the TCP daemon died");
	kill(pid, SIGTERM);
	ck_assert_int_eq(sec_wait_bounded(pid, 15000, &st), 1);
}
END_TEST


void sec_add_raw(TCase *tc)
{
	tcase_add_loop_test(tc, raw_fastcgi, 0, (int)(sizeof(RAW) /
	    sizeof(RAW[0])));
	tcase_add_loop_test(tc, raw_abort_request, 0, (int)(sizeof(ABORTS) /
	    sizeof(ABORTS[0])));
	tcase_add_test(tc, raw_body_records);
	tcase_add_test(tc, raw_keepconn_no_leak);
	tcase_add_test(tc, raw_stalled_connection);
	tcase_add_test(tc, tcp_allow_from);
}
