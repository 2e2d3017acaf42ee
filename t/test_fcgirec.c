/* test_fcgirec.c — the request body's FastCGI records, parsed in place.
 *
 * Each stream is fed whole, in every two-part split, byte by byte and
 * in pseudo-random reads, carrying the unparsed start of a header from
 * one read to the next as the daemon does; the body, the end and any
 * error must be the same every time. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgirec.h"
#include "unit.h"

#define ID 1

/* A stream under construction. */
struct stream {
	unsigned char b[300000];
	size_t len;
};

static void
put_header(struct stream *s, unsigned ver, unsigned type, unsigned id,
    unsigned clen, unsigned plen)
{
	unsigned char h[8] = { (unsigned char)ver, (unsigned char)type,
	    (unsigned char)(id >> 8), (unsigned char)id,
	    (unsigned char)(clen >> 8), (unsigned char)clen,
	    (unsigned char)plen, 0 };

	ck_assert_uint_le(s->len + 8, sizeof(s->b));
	memcpy(s->b + s->len, h, 8);
	s->len += 8;
}

/* A record: header, CLEN content bytes (FILL), PLEN padding bytes. */
static void
put_record(struct stream *s, unsigned type, unsigned id, unsigned clen,
    unsigned plen, unsigned char fill)
{
	put_header(s, 1, type, id, clen, plen);
	ck_assert_uint_le(s->len + clen + plen, sizeof(s->b));
	memset(s->b + s->len, fill, clen);
	memset(s->b + s->len + clen, 0xee, plen);
	s->len += clen + plen;
}

struct outcome {
	unsigned char body[300000];
	size_t len;
	int error, eof, extra;
	size_t unread;          /* bytes never read: the end came first */
};

/* Feed S in reads of the sizes CUT returns, as fcgiin.c does: stop
 * reading once the end record and its padding are in. */
static void
feed(const struct stream *s, size_t (*cut)(size_t i, size_t left),
    struct outcome *o)
{
	static unsigned char buf[300008];
	struct fcgirec r;
	size_t at = 0, part = 0, used, i;

	memset(o, 0, sizeof(*o));
	fcgirec_init(&r, ID);
	for (i = 0; at < s->len && !(r.eof && r.pad_left == 0); i++) {
		size_t n = cut(i, s->len - at);
		long got;

		memcpy(buf + part, s->b + at, n);
		at += n;
		got = fcgirec_parse(&r, buf, part + n, &used);
		if (got < 0) {
			o->error = 1;
			break;
		}
		ck_assert_uint_le(part + n - used, 7);
		memcpy(o->body + o->len, buf, (size_t)got);
		o->len += (size_t)got;
		part = part + n - used;
		memmove(buf, buf + used, part);
	}
	o->eof = r.eof && r.pad_left == 0;
	o->extra = r.extra;
	o->unread = s->len - at;
}

static size_t cut_whole(size_t i, size_t left) { (void)i; return left; }
static size_t cut_byte(size_t i, size_t left) { (void)i; (void)left; return 1; }

static size_t split_at;
static size_t
cut_two(size_t i, size_t left)
{
	return i == 0 && split_at < left ? split_at : left;
}

static size_t
cut_random(size_t i, size_t left)
{
	size_t n = (i * 2654435761u) % 9000 + 1;

	return n < left ? n : left;
}

/* Every way of feeding S gives WANT (the whole run fed at once). */
static void
check_all_ways(const struct stream *s, const struct outcome *want)
{
	static struct outcome o;

	feed(s, cut_byte, &o);
	ck_assert_int_eq(o.error, want->error);
	ck_assert_uint_eq(o.len, want->len);
	ck_assert(memcmp(o.body, want->body, o.len) == 0);
	ck_assert_int_eq(o.eof, want->eof);
	/* Byte by byte nothing after the end is read: it stays for the
	 * next request (whole, it is read and flagged). */
	ck_assert_int_eq(o.extra, 0);
	ck_assert_int_eq(o.unread > 0, want->extra);
	feed(s, cut_random, &o);
	ck_assert_int_eq(o.error, want->error);
	ck_assert_uint_eq(o.len, want->len);
	ck_assert(memcmp(o.body, want->body, o.len) == 0);
	for (split_at = 1; split_at < s->len && split_at < 2000; split_at++) {
		feed(s, cut_two, &o);
		ck_assert_int_eq(o.error, want->error);
		ck_assert_uint_eq(o.len, want->len);
		ck_assert(memcmp(o.body, want->body, o.len) == 0);
		ck_assert_int_eq(o.eof, want->eof);
	}
}

static struct stream st;
static struct outcome whole;

START_TEST(test_body_and_end)
{
	st.len = 0;
	put_record(&st, 5, ID, 3, 5, 'a');
	put_record(&st, 5, ID, 1, 0, 'b');
	put_record(&st, 5, ID, 0x1234, 255, 'c');
	put_record(&st, 5, ID, 8, 0, 'd');
	put_record(&st, 5, ID, 0, 8, 0);        /* the end, padded */
	feed(&st, cut_whole, &whole);
	ck_assert_int_eq(whole.error, 0);
	ck_assert_int_eq(whole.eof, 1);
	ck_assert_int_eq(whole.extra, 0);
	ck_assert_uint_eq(whole.len, 3 + 1 + 0x1234 + 8);
	ck_assert(memcmp(whole.body, "aaab", 4) == 0);
	ck_assert_int_eq(whole.body[4], 'c');
	ck_assert_int_eq(whole.body[4 + 0x1233], 'c');
	ck_assert(memcmp(whole.body + 4 + 0x1234, "dddddddd", 8) == 0);
	check_all_ways(&st, &whole);
}
END_TEST

START_TEST(test_largest_records)
{
	st.len = 0;
	put_record(&st, 5, ID, 65535, 1, 'x');
	put_record(&st, 5, ID, 65535, 0, 'y');
	put_record(&st, 5, ID, 0, 0, 0);
	feed(&st, cut_whole, &whole);
	ck_assert_int_eq(whole.eof, 1);
	ck_assert_uint_eq(whole.len, 2 * 65535);
	ck_assert_int_eq(whole.body[65534], 'x');
	ck_assert_int_eq(whole.body[65535], 'y');
	check_all_ways(&st, &whole);
}
END_TEST

/* Records of other request ids are skipped, content and padding. */
START_TEST(test_other_ids_skipped)
{
	st.len = 0;
	put_record(&st, 5, ID, 10, 6, 'a');
	put_record(&st, 5, 2, 100, 4, 'X');
	put_record(&st, 4, 3, 7, 1, 'Y');       /* PARAMS of request 3 */
	put_record(&st, 5, 0x0101, 0, 0, 0);    /* the end of request 257 */
	put_record(&st, 5, ID, 10, 0, 'b');
	put_record(&st, 5, ID, 0, 0, 0);
	feed(&st, cut_whole, &whole);
	ck_assert_int_eq(whole.error, 0);
	ck_assert_int_eq(whole.eof, 1);
	ck_assert_uint_eq(whole.len, 20);
	ck_assert(memcmp(whole.body, "aaaaaaaaaabbbbbbbbbb", 20) == 0);
	check_all_ways(&st, &whole);
}
END_TEST

/* What nginx never sends ends the connection. */
static const struct bad_case {
	const char *what;
	unsigned ver, type, id;
} bad[] = {
	{ "version 0", 0, 5, ID },
	{ "version 2", 2, 5, ID },
	{ "FCGI_ABORT_REQUEST", 1, 2, ID },
	{ "FCGI_PARAMS of the request", 1, 4, ID },
	{ "FCGI_STDOUT from the client", 1, 6, ID },
	{ "FCGI_DATA", 1, 8, ID },
	{ "management record", 1, 9, 0 },
	{ "management record of stdin type", 1, 5, 0 },
	{ "FCGI_BEGIN_REQUEST of another id", 1, 1, 2 },
	{ "FCGI_BEGIN_REQUEST of the same id", 1, 1, ID },
	{ "type 0", 1, 0, ID },
	{ "type 255", 1, 255, ID },
};

START_TEST(test_protocol_errors)
{
	const struct bad_case *c = &bad[_i];

	st.len = 0;
	put_record(&st, 5, ID, 100, 4, 'a');
	put_header(&st, c->ver, c->type, c->id, 8, 0);
	memset(st.b + st.len, 'z', 8);
	st.len += 8;
	put_record(&st, 5, ID, 0, 0, 0);
	feed(&st, cut_whole, &whole);
	ck_assert_msg(whole.error == 1, "%s: not an error", c->what);
	ck_assert_uint_eq(whole.len, 0);        /* whole: error at once */
	ck_assert_int_eq(whole.eof, 0);
	/* Fed in parts, the body before the bad record comes out first. */
	{
		static struct outcome o;

		feed(&st, cut_byte, &o);
		ck_assert_int_eq(o.error, 1);
		ck_assert_uint_eq(o.len, 100);
		ck_assert_int_eq(o.eof, 0);
	}
}
END_TEST

/* Bytes after the end: consumed and flagged (the connection cannot be
 * reused), never taken as body. */
START_TEST(test_after_the_end)
{
	st.len = 0;
	put_record(&st, 5, ID, 5, 3, 'a');
	put_record(&st, 5, ID, 0, 2, 0);
	put_record(&st, 1, 2, 8, 0, 'n');       /* a next request's BEGIN */
	feed(&st, cut_whole, &whole);
	ck_assert_int_eq(whole.error, 0);
	ck_assert_int_eq(whole.eof, 1);
	ck_assert_int_eq(whole.extra, 1);
	ck_assert_uint_eq(whole.len, 5);
	check_all_ways(&st, &whole);
	{
		static struct outcome o;

		feed(&st, cut_byte, &o);
		ck_assert_uint_eq(o.unread, 16);    /* the next BEGIN */
	}
	/* The end's padding alone is not "extra". */
	st.len = 0;
	put_record(&st, 5, ID, 0, 7, 0);
	feed(&st, cut_whole, &whole);
	ck_assert_int_eq(whole.eof, 1);
	ck_assert_int_eq(whole.extra, 0);
	ck_assert_uint_eq(whole.len, 0);
	check_all_ways(&st, &whole);
}
END_TEST

/* The end record's padding is part of it: the body is over only once
 * the padding is in too (else it would be left on the connection and
 * taken for the next request's header). */
START_TEST(test_end_padding)
{
	static unsigned char buf[64];
	struct fcgirec r;
	size_t used;

	fcgirec_init(&r, ID);
	memcpy(buf, "\x01\x05\x00\x01\x00\x00\x06\x00", 8);
	ck_assert_int_eq(fcgirec_parse(&r, buf, 8, &used), 0);
	ck_assert_uint_eq(used, 8);
	ck_assert(r.eof);
	ck_assert_uint_eq(r.pad_left, 6);
	memset(buf, 0, 6);
	ck_assert_int_eq(fcgirec_parse(&r, buf, 6, &used), 0);
	ck_assert_uint_eq(used, 6);
	ck_assert_uint_eq(r.pad_left, 0);
	ck_assert(!r.extra);
}
END_TEST

/* Taking over from libfcgi mid-record: the state it leaves (content and
 * padding still to come, or another request's record being skipped). */
START_TEST(test_resume_mid_record)
{
	static unsigned char buf[64];
	struct fcgirec r;
	size_t used;
	long got;

	fcgirec_init(&r, ID);
	r.content_left = 5;
	r.pad_left = 3;
	memcpy(buf, "hello\xee\xee\xee", 8);
	memcpy(buf + 8, "\x01\x05\x00\x01\x00\x00\x00\x00", 8);
	got = fcgirec_parse(&r, buf, 16, &used);
	ck_assert_int_eq(got, 5);
	ck_assert_uint_eq(used, 16);
	ck_assert(memcmp(buf, "hello", 5) == 0);
	ck_assert(r.eof);

	fcgirec_init(&r, ID);
	r.content_left = 4;
	r.skip = true;
	memcpy(buf, "SKIP", 4);
	memcpy(buf + 4, "\x01\x05\x00\x01\x00\x02\x00\x00ok", 10);
	got = fcgirec_parse(&r, buf, 14, &used);
	ck_assert_int_eq(got, 2);
	ck_assert(memcmp(buf, "ok", 2) == 0);
	ck_assert(!r.eof);
}
END_TEST

Suite *
suite_fcgirec(void)
{
	Suite *s = suite_create("fcgirec");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_body_and_end);
	tcase_add_test(tc, test_largest_records);
	tcase_add_test(tc, test_other_ids_skipped);
	tcase_add_loop_test(tc, test_protocol_errors, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_after_the_end);
	tcase_add_test(tc, test_end_padding);
	tcase_add_test(tc, test_resume_mid_record);
	suite_add_tcase(s, tc);
	return s;
}
