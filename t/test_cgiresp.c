/* test_cgiresp.c — the CGI response header parser (RFC 3875 section 6).
 *
 * Every case is fed whole, byte by byte and in random splits; the
 * outcome (state, message, status, headers, body) must be the same. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgiresp.h"
#include "unit.h"

#define L(s) s, sizeof(s) - 1 /* literal with its length (may hold NULs) */

struct resp_case {
	const char *in;
	size_t len;
	/* "ERROR: msg", or "STATUS REASON" then "\nName: value" per header,
	 * then "\n\n" and the body (NULs shown as "\\0"). */
	const char *want;
};

static const struct resp_case cases[] = {
	/* good */
	{ L("Content-Type: text/plain\n\nhello"),
	  "0 \nContent-Type: text/plain\n\nhello" },
	{ L("Content-Type: text/plain\r\n\r\nhello\r\n"),
	  "0 \nContent-Type: text/plain\n\nhello\r\n" },
	{ L("Status: 404 Not Found\r\nContent-Type: text/html\r\n\r\nnope"),
	  "404 Not Found\nContent-Type: text/html\n\nnope" },
	{ L("Status: 200\n\n"), "200 \n\n" },
	{ L("Status:   201    Created  \n\n"), "201 Created\n\n" },
	{ L("status: 302 Found\nLocation: /x\n\n"),
	  "302 Found\nLocation: /x\n\n" },
	{ L("STATUS: 100 Continue\n\n"), "100 Continue\n\n" },
	{ L("Status: 599 Whatever it is\n\n"), "599 Whatever it is\n\n" },
	{ L("Status: 200\tOK\n\n"), "200 OK\n\n" },
	{ L("Status: 500 Oops: a\tb\n\n"), "500 Oops: a\tb\n\n" },
	{ L("\n"), "0 \n\n" },
	{ L("\r\nbody"), "0 \n\nbody" },
	{ L("\nA: b\n\n"), "0 \n\nA: b\n\n" },
	{ L("Location: /elsewhere\n\n"), "0 \nLocation: /elsewhere\n\n" },
	{ L("A: 1\r\nB: 2\nC: 3\r\n\n"), "0 \nA: 1\nB: 2\nC: 3\n\n" },
	{ L("Set-Cookie: a=1\nSet-Cookie: b=2\n\n"),
	  "0 \nSet-Cookie: a=1\nSet-Cookie: b=2\n\n" },
	{ L("X-Time: 12:30:00\n\n"), "0 \nX-Time: 12:30:00\n\n" },
	{ L("X-Empty:\nX-Blank:   \n\n"), "0 \nX-Empty: \nX-Blank: \n\n" },
	{ L("X-A:\t v w \t\n\n"), "0 \nX-A: v w\n\n" },
	{ L("X!#$%&'*+-.^_`|~09: 1\n\n"), "0 \nX!#$%&'*+-.^_`|~09: 1\n\n" },
	{ L("X-U: h\xc3\xa9llo\n\n"), "0 \nX-U: h\xc3\xa9llo\n\n" },
	{ L("X-Tab: a\tb\n\n"), "0 \nX-Tab: a\tb\n\n" },
	/* non-parsed-header scripts (RFC 3875 5.1): the status line */
	{ L("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n\r\nx"),
	  "404 Not Found\nContent-Type: text/plain\n\nx" },
	{ L("HTTP/1.0 204 No Content\n\n"), "204 No Content\n\n" },
	/* only as the first line: later it is a line without a colon */
	{ L("A: b\nHTTP/1.1 200 OK\n\n"),
	  "ERROR: header line without a colon" },
	{ L("HTTP/2 200\n\n"), "ERROR: header line without a colon" },
	{ L("A: b\n\nline1\n\nline2\r\n\r\n"),
	  "0 \nA: b\n\nline1\n\nline2\r\n\r\n" },
	{ L("A: b\n\nx\0y"), "0 \nA: b\n\nx\\0y" },
	{ L("A: b\r\n\r\n\r\n"), "0 \nA: b\n\n\r\n" },
	/* bad */
	{ L("Content-Type text/plain\n\n"),
	  "ERROR: header line without a colon" },
	{ L("\r\r\n\n"), "ERROR: header line without a colon" },
	{ L("<html>\n"), "ERROR: header line without a colon" },
	{ L(" X: y\n\n"), "ERROR: continuation lines are not allowed" },
	{ L("A: b\n c\n\n"), "ERROR: continuation lines are not allowed" },
	{ L("A: b\n\tc\n\n"), "ERROR: continuation lines are not allowed" },
	{ L(" \n\n"), "ERROR: continuation lines are not allowed" },
	{ L("Bad Name: x\n\n"), "ERROR: invalid header name" },
	{ L(": x\n\n"), "ERROR: invalid header name" },
	{ L("A(b): x\n\n"), "ERROR: invalid header name" },
	{ L("A : x\n\n"), "ERROR: invalid header name" },
	{ L("A\0B: x\n\n"), "ERROR: invalid header name" },
	{ L("A\rB: x\n\n"), "ERROR: invalid header name" },
	{ L("X-\xc3\xa9: x\n\n"), "ERROR: invalid header name" },
	{ L("X: a\rb\n\n"), "ERROR: control character in header value" },
	{ L("X: a\0b\n\n"), "ERROR: control character in header value" },
	{ L("X: a\r\r\n\n"), "ERROR: control character in header value" },
	{ L("Foo: b\x01ar\n\n"), "ERROR: control character in header value" },
	{ L("Foo: bar\x7f\n\n"), "ERROR: control character in header value" },
	{ L("Foo: b\x1b" "ar\n\n"), "ERROR: control character in header value" },
	{ L("Foo: \x0b\n\n"), "ERROR: control character in header value" },
	{ L("HTTP/1.1 999 Nope\n\n"), "ERROR: invalid status line" },
	{ L("HTTP/1.1 200 OK\nStatus: 404\n\n"),
	  "ERROR: duplicate Status header" },
	{ L("Status: 099 Low\n\n"), "ERROR: invalid Status" },
	{ L("Status: 600\n\n"), "ERROR: invalid Status" },
	{ L("Status: 2000\n\n"), "ERROR: invalid Status" },
	{ L("Status: abc\n\n"), "ERROR: invalid Status" },
	{ L("Status:\n\n"), "ERROR: invalid Status" },
	{ L("Status: 20\n\n"), "ERROR: invalid Status" },
	{ L("Status: 200OK\n\n"), "ERROR: invalid Status" },
	{ L("Status: +200\n\n"), "ERROR: invalid Status" },
	{ L("Status: 2OO\n\n"), "ERROR: invalid Status" },
	{ L("Status: 200 OK\nStatus: 404 No\n\n"),
	  "ERROR: duplicate Status header" },
	{ L("Status: 200 OK\nstatus: 200 OK\n\n"),
	  "ERROR: duplicate Status header" },
	{ L(""), "ERROR: end of output before the blank line" },
	{ L("A: b\n"), "ERROR: end of output before the blank line" },
	{ L("A: b"), "ERROR: end of output before the blank line" },
	{ L("A: b\r\n\r"), "ERROR: end of output before the blank line" },
	{ L("hello world"), "ERROR: end of output before the blank line" },
	/* the first problem wins, even with more after it */
	{ L("A b\nStatus: 999\n\n"), "ERROR: header line without a colon" },
};

/* Feed IN cut at the offsets CUTS[0..NCUTS) (increasing), then EOF when
 * the block is not complete yet; describe the outcome in a new string.
 * (No ck_assert in the loop: each one costs a write to Check's pipe.) */
static char *
run(const char *in, size_t len, size_t max, const size_t *cuts, size_t ncuts)
{
	struct cgiresp *p = cgiresp_new(max);
	enum cgiresp_state st = CGIRESP_MORE;
	char *out;
	size_t outlen, i, k, start = 0, used, bad = 0;
	FILE *f;

	ck_assert_ptr_nonnull(p);
	f = open_memstream(&out, &outlen);
	ck_assert_ptr_nonnull(f);
	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		enum cgiresp_state before = st;

		st = cgiresp_feed(p, in + start, end - start, &used);
		if (used > end - start ||
		    (before != CGIRESP_MORE && (st != before || used != 0)))
			bad++;
		for (k = start + used; st == CGIRESP_DONE && k < end; k++) {
			if (in[k] == '\0')
				fputs("\\0", f);
			else
				fputc(in[k], f);
		}
		start = end;
	}
	ck_assert_uint_eq(bad, 0);
	if (st == CGIRESP_MORE)
		ck_assert_int_eq(cgiresp_eof(p), CGIRESP_ERROR);
	if (cgiresp_eof(p) == CGIRESP_ERROR) {
		fclose(f);
		free(out);
		ck_assert_int_eq(cgiresp_feed(p, "x", 1, &used), CGIRESP_ERROR);
		ck_assert_uint_eq(used, 0);
		ck_assert_ptr_nonnull(cgiresp_error(p));
		if (asprintf(&out, "ERROR: %s", cgiresp_error(p)) < 0)
			ck_abort_msg("asprintf");
	} else {
		char *body;
		const char *reason;
		int status = cgiresp_status(p, &reason);

		ck_assert_ptr_null(cgiresp_error(p));
		fclose(f);
		body = out;
		f = open_memstream(&out, &outlen);
		ck_assert_ptr_nonnull(f);
		fprintf(f, "%d %s\n", status, reason);
		for (i = 0; i < cgiresp_count(p); i++)
			fprintf(f, "%s: %s\n", cgiresp_get(p, i)->name,
			    cgiresp_get(p, i)->value);
		ck_assert_ptr_null(cgiresp_get(p, i));
		fprintf(f, "\n%s", body);
		fclose(f);
		free(body);
	}
	cgiresp_free(p);
	return out;
}

static char *
run_whole(const char *in, size_t len, size_t max)
{
	return run(in, len, max, NULL, 0);
}

/* Every split of the same input must describe the same outcome. */
static void
check_splits(const char *in, size_t len, size_t max, const char *want)
{
	unsigned seed = 42;
	size_t *cuts = malloc((len + 1) * sizeof(*cuts));
	size_t i, n, r;
	char *got;

	ck_assert_ptr_nonnull(cuts);
	got = run_whole(in, len, max);
	ck_assert_str_eq(got, want);
	free(got);
	for (i = 0; i < len; i++) /* byte by byte (with one empty feed) */
		cuts[i] = i;
	got = run(in, len, max, cuts, len);
	ck_assert_str_eq(got, want);
	free(got);
	for (r = 0; r < (len > 4096 ? 6 : 40) && len > 1; r++) {
		size_t pos = 0;

		for (n = 0; pos < len; n++) {
			pos += 1 + (size_t)rand_r(&seed) % (r % 2 ? 3 : len);
			cuts[n] = pos < len ? pos : len;
		}
		got = run(in, len, max, cuts, n);
		ck_assert_msg(strcmp(got, want) == 0, "split %zu: got \"%s\"",
		    r, got);
		free(got);
	}
	free(cuts);
}

START_TEST(test_table)
{
	const struct resp_case *c = &cases[_i];

	check_splits(c->in, c->len, CGIRESP_MAX_HEADER, c->want);
}
END_TEST

/* *used counts the header block only; the rest of the chunk is body. */
START_TEST(test_used)
{
	struct cgiresp *p = cgiresp_new(CGIRESP_MAX_HEADER);
	size_t used = 99;

	ck_assert_int_eq(cgiresp_feed(p, "A: b\r", 5, &used), CGIRESP_MORE);
	ck_assert_uint_eq(used, 5);
	ck_assert_int_eq(cgiresp_feed(p, "", 0, &used), CGIRESP_MORE);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(cgiresp_feed(p, "\n\r\nBODY", 7, &used), CGIRESP_DONE);
	ck_assert_uint_eq(used, 3);
	ck_assert_int_eq(cgiresp_feed(p, "more", 4, &used), CGIRESP_DONE);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(cgiresp_eof(p), CGIRESP_DONE);
	ck_assert_ptr_null(cgiresp_error(p));
	ck_assert_uint_eq(cgiresp_count(p), 1);
	cgiresp_free(p);
	cgiresp_free(NULL);
}
END_TEST

START_TEST(test_find)
{
	struct cgiresp *p = cgiresp_new(CGIRESP_MAX_HEADER);
	static const char in[] = "Status: 201\r\ncontent-TYPE: a/b\r\n"
	    "X-A: 1\r\nx-a: 2\r\n\r\n";
	const char *reason = NULL;
	size_t used;

	ck_assert_int_eq(cgiresp_feed(p, in, sizeof(in) - 1, &used),
	    CGIRESP_DONE);
	ck_assert_uint_eq(used, sizeof(in) - 1);
	ck_assert_str_eq(cgiresp_find(p, "Content-Type"), "a/b");
	ck_assert_str_eq(cgiresp_find(p, "X-A"), "1");
	ck_assert_ptr_null(cgiresp_find(p, "Status")); /* not a header */
	ck_assert_ptr_null(cgiresp_find(p, "Location"));
	ck_assert_int_eq(cgiresp_status(p, &reason), 201);
	ck_assert_str_eq(reason, "");
	ck_assert_int_eq(cgiresp_status(p, NULL), 201);
	ck_assert_uint_eq(cgiresp_count(p), 3);
	ck_assert_str_eq(cgiresp_get(p, 1)->name, "X-A");
	cgiresp_free(p);
}
END_TEST

/* A block of exactly SIZE bytes: "X: aaa...\n" and a blank line, then
 * TAIL bytes of body. */
static char *
block(size_t size, const char *eol, size_t tail, size_t *len)
{
	size_t el = strlen(eol);
	char *s = malloc(size + tail + 1);

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_ge(size, 3 + 2 * el);
	memcpy(s, "X: ", 3);
	memset(s + 3, 'a', size - 3 - 2 * el);
	memcpy(s + size - 2 * el, eol, el);
	memcpy(s + size - el, eol, el);
	memset(s + size, 'b', tail);
	s[size + tail] = '\0';
	*len = size + tail;
	return s;
}

static char *
want_block(size_t size, const char *eol, size_t tail)
{
	size_t vlen = size - 3 - 2 * strlen(eol);
	char *w = malloc(vlen + tail + 16);

	ck_assert_ptr_nonnull(w);
	memcpy(w, "0 \nX: ", 6);
	memset(w + 6, 'a', vlen);
	memcpy(w + 6 + vlen, "\n\n", 2);
	memset(w + 8 + vlen, 'b', tail);
	w[8 + vlen + tail] = '\0';
	return w;
}

/* max_header counts the block with its blank line, not the body. */
START_TEST(test_max_boundary)
{
	static const char *const eols[] = { "\n", "\r\n" };
	static const size_t maxes[] = { 16, 100, CGIRESP_MAX_HEADER };
	size_t m, e, len;

	for (m = 0; m < 3; m++) {
		for (e = 0; e < 2; e++) {
			size_t max = maxes[m];
			char *in = block(max, eols[e], 50, &len);
			char *want = want_block(max, eols[e], 50);
			char *too;

			check_splits(in, len, max, want);
			free(in);
			free(want);
			in = block(max + 1, eols[e], 50, &len);
			if (asprintf(&too,
			    "ERROR: header block larger than %zu bytes",
			    max) < 0)
				ck_abort_msg("asprintf");
			check_splits(in, len, max, too);
			free(in);
			free(too);
		}
	}
}
END_TEST

/* The default limit is SPEC.md's 64 KiB, and a flood without any LF is
 * refused as soon as it passes the limit, before EOF. */
START_TEST(test_flood)
{
	size_t len = CGIRESP_MAX_HEADER + 10, used;
	char *in = malloc(len);
	struct cgiresp *p = cgiresp_new(CGIRESP_MAX_HEADER);

	ck_assert_ptr_nonnull(in);
	memset(in, 'a', len);
	ck_assert_int_eq(cgiresp_feed(p, in, CGIRESP_MAX_HEADER, &used),
	    CGIRESP_MORE);
	ck_assert_int_eq(cgiresp_feed(p, in, 1, &used), CGIRESP_ERROR);
	ck_assert_str_eq(cgiresp_error(p),
	    "header block larger than 65536 bytes");
	ck_assert_int_eq(cgiresp_eof(p), CGIRESP_ERROR);
	ck_assert_str_eq(cgiresp_error(p),
	    "header block larger than 65536 bytes");
	cgiresp_free(p);
	free(in);
}
END_TEST

/* Many short headers: linear work, all kept in order. */
START_TEST(test_many)
{
	struct cgiresp *p = cgiresp_new(CGIRESP_MAX_HEADER);
	char line[32];
	size_t used, i;

	for (i = 0; i < 5000; i++) {
		int n = snprintf(line, sizeof(line), "H%zu: %zu\r\n", i, i);

		ck_assert_int_eq(cgiresp_feed(p, line, (size_t)n, &used),
		    CGIRESP_MORE);
	}
	ck_assert_int_eq(cgiresp_feed(p, "\r\n", 2, &used), CGIRESP_DONE);
	ck_assert_uint_eq(cgiresp_count(p), 5000);
	ck_assert_str_eq(cgiresp_get(p, 4321)->name, "H4321");
	ck_assert_str_eq(cgiresp_get(p, 4321)->value, "4321");
	cgiresp_free(p);
}
END_TEST

Suite *
suite_cgiresp(void)
{
	Suite *s = suite_create("cgiresp");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_table, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_used);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_max_boundary);
	tcase_add_test(tc, test_flood);
	tcase_add_test(tc, test_many);
	suite_add_tcase(s, tc);
	return s;
}
