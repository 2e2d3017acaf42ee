/* fuzz_cgiresp.c — libFuzzer target: the incremental CGI response
 * header parser must not depend on how its input is split.
 *
 * Input: byte 0 picks the header limit and the number of cuts (0..7),
 * the next bytes are the chunk sizes (0..255 each), the rest is what a
 * function wrote. The rest is fed once whole and once in those chunks;
 * state, bytes used, error message, status and headers must agree, and
 * DONE must never claim more bytes than it was given. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgiresp.h"

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Feed BUF (LEN bytes) to P in the chunks of CUTS; returns the final
 * state and sets *USED to the header bytes consumed in all. */
static enum cgiresp_state
feed_split(struct cgiresp *p, const char *buf, size_t len,
    const uint8_t *cuts, size_t ncuts, size_t *used)
{
	enum cgiresp_state st = CGIRESP_MORE, prev;
	size_t off = 0, i, u, n;
	int settled = 0;

	*used = 0;
	for (i = 0; i <= ncuts; i++) {
		n = i < ncuts ? cuts[i] : len - off;
		if (n > len - off)
			n = len - off;
		prev = st;
		st = cgiresp_feed(p, buf + off, n, &u);
		CHECK(u <= n);
		if (settled) { /* DONE or ERROR stay put and take nothing */
			CHECK(st == prev && u == 0);
		} else if (st == CGIRESP_MORE) {
			CHECK(u == n); /* all of it belongs to the header */
		}
		*used += u;
		settled = st != CGIRESP_MORE;
		off += n;
	}
	CHECK(off == len);
	return st;
}

static void
compare(const struct cgiresp *a, const struct cgiresp *b)
{
	const char *ra, *rb;
	size_t i, n = cgiresp_count(a);

	CHECK(cgiresp_status(a, &ra) == cgiresp_status(b, &rb));
	CHECK(same_str(ra, rb));
	CHECK(n == cgiresp_count(b));
	for (i = 0; i < n; i++) {
		const struct cgiresp_header *ha = cgiresp_get(a, i);
		const struct cgiresp_header *hb = cgiresp_get(b, i);

		CHECK(ha != NULL && hb != NULL);
		CHECK(strcmp(ha->name, hb->name) == 0);
		CHECK(strcmp(ha->value, hb->value) == 0);
		CHECK(cgiresp_find(a, ha->name) != NULL);
	}
	CHECK(cgiresp_get(a, n) == NULL);
	if (n > 0)
		(void)cgiresp_find(a, "Content-Type");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[] = { CGIRESP_MAX_HEADER, 1, 16, 64 };
	struct cgiresp *whole, *split;
	enum cgiresp_state sw, ss;
	const uint8_t *cuts;
	const char *buf;
	size_t ncuts, len, uw, us;

	if (size < 1)
		return 0;
	ncuts = (data[0] >> 2) & 7;
	if (ncuts > size - 1)
		ncuts = size - 1;
	cuts = data + 1;
	buf = (const char *)data + 1 + ncuts;
	len = size - 1 - ncuts;

	whole = cgiresp_new(limits[data[0] & 3]);
	split = cgiresp_new(limits[data[0] & 3]);
	CHECK(whole != NULL && split != NULL);

	sw = cgiresp_feed(whole, buf, len, &uw);
	CHECK(uw <= len);
	if (sw == CGIRESP_MORE)
		CHECK(uw == len);
	ss = feed_split(split, buf, len, cuts, ncuts, &us);
	CHECK(sw == ss);
	if (sw == CGIRESP_DONE) {
		CHECK(uw == us);
		compare(whole, split);
	}
	CHECK(same_str(cgiresp_error(whole), cgiresp_error(split)));
	CHECK(cgiresp_eof(whole) == cgiresp_eof(split));
	CHECK(same_str(cgiresp_error(whole), cgiresp_error(split)));
	/* Once settled, a feed takes nothing. */
	CHECK(cgiresp_feed(whole, "x\n\n", 3, &uw) != CGIRESP_MORE && uw == 0);

	cgiresp_free(whole);
	cgiresp_free(split);
	cgiresp_free(NULL);
	return 0;
}
