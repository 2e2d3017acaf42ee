/* fuzz_fcgirec.c — libFuzzer target: the request body's record parser
 * must not depend on how the socket's bytes are split into reads.
 *
 * Input: byte 0 picks the number of cuts (0..15), the next bytes are the
 * read sizes (0..255 each), the rest is what came from the socket. It is
 * parsed once whole and once in those reads, carrying the unparsed start
 * of a header over as the daemon does: the body bytes must be the same
 * (up to an error), an error must be an error both ways, the end must be
 * seen both ways, and no call may leave 8 or more bytes unparsed. */
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
	int error, eof;
};

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
	for (i = 0; i <= ncuts && !o->error; i++) {
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
	o->eof = r.eof;
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole, split;
	size_t ncuts;

	if (size < 1)
		return 0;
	ncuts = data[0] % 16;
	if (size < 1 + ncuts)
		return 0;
	feed(data + 1 + ncuts, size - 1 - ncuts, NULL, 0, &whole);
	feed(data + 1 + ncuts, size - 1 - ncuts, data + 1, ncuts, &split);
	CHECK(whole.error == split.error);
	if (!whole.error) {
		CHECK(whole.len == split.len);
		CHECK(memcmp(whole.body, split.body, whole.len) == 0);
		CHECK(whole.eof == split.eof);
	} else {
		/* Whole, the error drops that read's bytes; split, what came
		 * before the bad record is out already: a prefix, no more. */
		CHECK(whole.len <= split.len);
	}
	free(whole.body);
	free(split.body);
	return 0;
}
