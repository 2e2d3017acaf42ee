/* fuzz_fcgirec.c — libFuzzer target: the request body's record parser
 * must not depend on how the socket's bytes are split into reads.
 *
 * Input: byte 0 picks the number of cuts (0..15), the next bytes are the
 * read sizes (0..255 each), the rest is what came from the socket. It is
 * parsed once whole and once in those reads, carrying the unparsed start
 * of a header over and stopping once the end record (padding included)
 * is in, as the daemon does; and walked record by record by a reference
 * written for clarity, not speed. Body, end and error must agree with
 * the reference both ways (a read that fails drops its own body bytes:
 * then the parser's body is a prefix of the reference's), bytes after
 * the end are flagged only when they came in the same read, and no call
 * may leave 8 or more bytes unparsed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgirec.h"

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	unsigned char *body;
	size_t len;
	int error, eof, extra;
};

/* The reference: records one after another over the whole input. */
static void
reference(const uint8_t *in, size_t len, struct run *o)
{
	size_t pos = 0;

	o->body = malloc(len + 1);
	CHECK(o->body != NULL);
	o->len = 0;
	o->error = o->eof = o->extra = 0;
	while (len - pos >= 8) {
		const uint8_t *h = in + pos;
		unsigned type = h[1], id = (unsigned)(h[2] << 8 | h[3]);
		size_t clen = (size_t)(h[4] << 8 | h[5]), plen = h[6], c, p;
		int ours = id == 1 && type == 5;
		int other = id != 0 && id != 1 && type != 1;

		if (h[0] != 1 || (!ours && !other)) {
			o->error = 1;
			return;
		}
		pos += 8;
		c = clen < len - pos ? clen : len - pos;
		if (ours) {
			memcpy(o->body + o->len, in + pos, c);
			o->len += c;
		}
		pos += c;
		p = plen < len - pos ? plen : len - pos;
		pos += p;
		if (ours && clen == 0) {
			o->eof = p == plen;
			o->extra = pos < len;
			return;
		}
	}
}

static void
feed(const uint8_t *in, size_t len, const uint8_t *cuts, size_t ncuts,
    struct run *o)
{
	unsigned char *buf = malloc(len + 8);
	struct fcgirec r;
	size_t off = 0, part = 0, used, i;

	CHECK(buf != NULL);
	o->body = malloc(len + 1);
	CHECK(o->body != NULL);
	o->len = 0;
	o->error = 0;
	fcgirec_init(&r, 1);
	for (i = 0; i <= ncuts && !o->error && !(r.eof && r.pad_left == 0);
	    i++) {
		size_t n = i < ncuts ? cuts[i] : len - off;
		long got;

		if (n > len - off)
			n = len - off;
		memcpy(buf + part, in + off, n);
		off += n;
		got = fcgirec_parse(&r, buf, part + n, &used);
		if (got < 0) {
			o->error = 1;
			break;
		}
		CHECK(used <= part + n);
		CHECK(part + n - used < 8);
		CHECK((size_t)got <= part + n);
		memcpy(o->body + o->len, buf, (size_t)got);
		o->len += (size_t)got;
		part = part + n - used;
		memmove(buf, buf + used, part);
	}
	o->eof = r.eof && r.pad_left == 0;
	o->extra = r.extra;
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole, split, ref;
	const uint8_t *in;
	size_t ncuts, len;

	if (size < 1)
		return 0;
	ncuts = data[0] % 16;
	if (size < 1 + ncuts)
		return 0;
	in = data + 1 + ncuts;
	len = size - 1 - ncuts;
	reference(in, len, &ref);
	feed(in, len, NULL, 0, &whole);
	feed(in, len, data + 1, ncuts, &split);
	CHECK(whole.error == ref.error && split.error == ref.error);
	CHECK(whole.eof == ref.eof && split.eof == ref.eof);
	CHECK(whole.len <= ref.len && split.len <= ref.len);
	CHECK(memcmp(whole.body, ref.body, whole.len) == 0);
	CHECK(memcmp(split.body, ref.body, split.len) == 0);
	if (!ref.error) {
		CHECK(whole.len == ref.len && split.len == ref.len);
		CHECK(whole.extra == ref.extra);   /* one read: all of it */
		CHECK(!split.extra || ref.extra);
	}
	free(whole.body);
	free(split.body);
	free(ref.body);
	return 0;
}
