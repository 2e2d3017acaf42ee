/* cgiresp.c — incremental parser of a CGI response header block
 * (RFC 3875 section 6; SPEC.md section 6).
 *
 * Bytes are collected into the current line only; a line is judged when
 * its LF arrives, so the result never depends on how the input was split,
 * and every byte is copied once (O(n) overall). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cgiresp.h"

struct cgiresp {
	size_t max;               /* largest header block accepted */
	size_t total;             /* header block bytes consumed so far */
	enum cgiresp_state state;
	const char *err;          /* static message, or errbuf */
	char errbuf[64];
	char *line;               /* current line, without its LF */
	size_t linelen;
	size_t linecap;
	struct cgiresp_header *h; /* headers other than Status, in order */
	size_t n;
	size_t cap;
	int status;               /* 0: no Status header */
	char *reason;             /* NULL until a Status header is seen */
	size_t lines;             /* lines judged so far */
	bool nph;                 /* the status came from an HTTP status line */
};

/* A parser for a header block of at most MAX_HEADER bytes. */
struct cgiresp *
cgiresp_new(size_t max_header)
{
	struct cgiresp *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->max = max_header;
	p->state = CGIRESP_MORE;
	return p;
}

void
cgiresp_free(struct cgiresp *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		free(p->h[i].name); /* value lives in the same allocation */
	free(p->h);
	free(p->line);
	free(p->reason);
	free(p);
}

static enum cgiresp_state
fail(struct cgiresp *p, const char *msg)
{
	p->state = CGIRESP_ERROR;
	p->err = msg;
	return p->state;
}

/* RFC 7230 section 3.2.6: tchar. */
static int
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* "NNN" or "NNN reason": exactly three digits, 100..599 (RFC 3875
 * section 6.3.3). VALUE is already trimmed. Returns 0, -1 when the value
 * is invalid, -2 when memory ran out. */
static int
parse_status(struct cgiresp *p, const char *value)
{
	const char *r = value + 3;
	int code;

	if (!(value[0] >= '0' && value[0] <= '9') ||
	    !(value[1] >= '0' && value[1] <= '9') ||
	    !(value[2] >= '0' && value[2] <= '9'))
		return -1;
	if (*r != '\0' && !is_blank(*r))
		return -1;
	code = (value[0] - '0') * 100 + (value[1] - '0') * 10 +
	    (value[2] - '0');
	if (code < 100 || code > 599)
		return -1;
	while (is_blank(*r))
		r++;
	p->reason = strdup(r);
	if (p->reason == NULL)
		return -2;
	p->status = code;
	return 0;
}

/* Store NAME (NLEN bytes) and VALUE (VLEN bytes) in one allocation. */
static int
add_header(struct cgiresp *p, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	struct cgiresp_header *nh;
	char *s;

	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;

		nh = reallocarray(p->h, ncap, sizeof(*nh));
		if (nh == NULL)
			return -1;
		p->h = nh;
		p->cap = ncap;
	}
	s = malloc(nlen + vlen + 2); /* both are below max_header */
	if (s == NULL)
		return -1;
	memcpy(s, name, nlen);
	s[nlen] = '\0';
	memcpy(s + nlen + 1, value, vlen);
	s[nlen + 1 + vlen] = '\0';
	p->h[p->n].name = s;
	p->h[p->n].value = s + nlen + 1;
	p->n++;
	return 0;
}

/* A non-parsed-header script's first line (RFC 3875 section 5.1, a
 * MAY): "HTTP/1.x NNN reason" gives the status. 1 when LINE is one,
 * 0 when it is not, or a state when it is one that failed. */
static int
nph_line(struct cgiresp *p, const char *line, size_t len)
{
	if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 ||
	    line[7] < '0' || line[7] > '9' || line[8] != ' ')
		return 0;
	switch (parse_status(p, line + 9)) {
	case 0:
		p->nph = true;
		return 1;
	case -1:
		fail(p, "invalid status line");
		return -1;
	default:
		fail(p, "out of memory");
		return -1;
	}
}

/* A byte a header value may not hold: a control character other than
 * tab (RFC 7230 section 3.2: field-vchar, obs-text, SP, HTAB). A CR or
 * LF there would split the header for nginx or the client. */
static bool
bad_value_byte(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Judge one complete line (LF removed, one trailing CR removed). */
static enum cgiresp_state
parse_line(struct cgiresp *p, char *line, size_t len)
{
	char *colon, *v, *end;
	size_t nlen, i;

	if (len == 0)
		return p->state = CGIRESP_DONE;
	if (p->lines++ == 0)
		switch (nph_line(p, line, len)) {
		case 1:
			return p->state;
		case -1:
			return p->state;
		}
	if (is_blank(line[0]))
		return fail(p, "continuation lines are not allowed");
	colon = memchr(line, ':', len);
	if (colon == NULL)
		return fail(p, "header line without a colon");
	nlen = (size_t)(colon - line);
	if (nlen == 0)
		return fail(p, "invalid header name");
	for (i = 0; i < nlen; i++)
		if (!is_tchar((unsigned char)line[i]))
			return fail(p, "invalid header name");
	v = colon + 1;
	end = line + len;
	for (const char *c = v; c < end; c++)
		if (bad_value_byte((unsigned char)*c))
			return fail(p, "control character in header value");
	while (v < end && is_blank(*v))
		v++;
	while (end > v && is_blank(end[-1]))
		end--;
	*end = '\0';
	if (nlen == 6 && strncasecmp(line, "Status", 6) == 0) {
		if (p->reason != NULL)
			return fail(p, "duplicate Status header");
		switch (parse_status(p, v)) {
		case 0:
			return p->state;
		case -1:
			return fail(p, "invalid Status");
		default:
			return fail(p, "out of memory");
		}
	}
	if (add_header(p, line, nlen, v, (size_t)(end - v)) == -1)
		return fail(p, "out of memory");
	return p->state;
}

/* Append LEN bytes to the current line; the caller has checked that the
 * block stays within max, so the line never grows beyond max bytes. */
static int
line_append(struct cgiresp *p, const char *buf, size_t len)
{
	if (p->linelen + len + 1 > p->linecap) {
		size_t ncap = p->linecap ? p->linecap : 128;
		char *nl;

		while (ncap < p->linelen + len + 1)
			ncap *= 2;
		nl = realloc(p->line, ncap);
		if (nl == NULL)
			return -1;
		p->line = nl;
		p->linecap = ncap;
	}
	memcpy(p->line + p->linelen, buf, len);
	p->linelen += len;
	p->line[p->linelen] = '\0';
	return 0;
}

static enum cgiresp_state
too_large(struct cgiresp *p)
{
	int n = snprintf(p->errbuf, sizeof(p->errbuf),
	    "header block larger than %zu bytes", p->max);

	if (n < 0 || (size_t)n >= sizeof(p->errbuf))
		return fail(p, "header block too large");
	return fail(p, p->errbuf);
}

/* Consume bytes up to and including each LF, judging each line, until
 * the blank line, an error, or the end of BUF. */
enum cgiresp_state
cgiresp_feed(struct cgiresp *p, const char *buf, size_t len, size_t *used)
{
	size_t off = 0;

	if (used != NULL)
		*used = 0;
	while (p->state == CGIRESP_MORE && off < len) {
		const char *lf = memchr(buf + off, '\n', len - off);
		size_t take = lf ? (size_t)(lf - (buf + off)) + 1 : len - off;

		if (take > p->max - p->total) {
			off += p->max - p->total + 1;
			too_large(p);
			break;
		}
		p->total += take;
		if (line_append(p, buf + off, lf ? take - 1 : take) == -1) {
			fail(p, "out of memory");
			break;
		}
		off += take;
		if (lf == NULL)
			break;
		if (p->linelen > 0 && p->line[p->linelen - 1] == '\r')
			p->line[--p->linelen] = '\0';
		parse_line(p, p->line, p->linelen);
		p->linelen = 0;
	}
	if (p->state != CGIRESP_MORE) { /* the line buffer is done with */
		free(p->line);
		p->line = NULL;
		p->linelen = p->linecap = 0;
	}
	if (used != NULL)
		*used = off;
	return p->state;
}

enum cgiresp_state
cgiresp_eof(struct cgiresp *p)
{
	if (p->state == CGIRESP_MORE)
		return fail(p, "end of output before the blank line");
	return p->state;
}

const char *
cgiresp_error(const struct cgiresp *p)
{
	return p->state == CGIRESP_ERROR ? p->err : NULL;
}

bool
cgiresp_nph(const struct cgiresp *p)
{
	return p->nph;
}

int
cgiresp_status(const struct cgiresp *p, const char **reason)
{
	if (reason != NULL)
		*reason = p->reason != NULL ? p->reason : "";
	return p->status;
}

size_t
cgiresp_count(const struct cgiresp *p)
{
	return p->n;
}

const struct cgiresp_header *
cgiresp_get(const struct cgiresp *p, size_t i)
{
	return i < p->n ? &p->h[i] : NULL;
}

/* The first header named NAME, ignoring case (RFC 7230 section 3.2). */
const char *
cgiresp_find(const struct cgiresp *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcasecmp(p->h[i].name, name) == 0)
			return p->h[i].value;
	return NULL;
}
