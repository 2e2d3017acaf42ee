/* jsonbuf.c — see jsonbuf.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonbuf.h"

void
jsonbuf_need(struct jsonbuf *b, size_t n)
{
	char *p;
	size_t c;

	if (b->oom || b->len + n + 1 <= b->cap)
		return;
	c = b->cap ? b->cap : 1024;
	while (c < b->len + n + 1)
		c *= 2;
	if ((p = realloc(b->p, c)) == NULL) {
		b->oom = true;
		return;
	}
	b->p = p;
	b->cap = c;
}

void
jsonbuf_add(struct jsonbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	jsonbuf_need(b, (size_t)n);
	if (b->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* The length of the UTF-8 sequence at S (N bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t k;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (k == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return k;
}

bool
jsonbuf_is_utf8(const char *s, size_t n)
{
	for (size_t i = 0, k; i < n; i += k)
		if ((k = utf8_len((const unsigned char *)s + i, n - i)) == 0)
			return false;
	return true;
}

/* S (N bytes of UTF-8) as a JSON string, quotes included. */
void
jsonbuf_str_n(struct jsonbuf *b, const char *s, size_t n)
{
	jsonbuf_need(b, n * 6 + 2);
	if (b->oom)
		return;
	b->p[b->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			b->p[b->len++] = '\\';
			b->p[b->len++] = (char)c;
		} else if (c == '\n') {
			memcpy(b->p + b->len, "\\n", 2);
			b->len += 2;
		} else if (c < 0x20 || c == 0x7f) {
			b->len += (size_t)snprintf(b->p + b->len, 7, "\\u%04x", c);
		} else
			b->p[b->len++] = (char)c;
	}
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
}

void
jsonbuf_str(struct jsonbuf *b, const char *s)
{
	if (s == NULL)
		jsonbuf_add(b, "null");
	else
		jsonbuf_str_n(b, s, strlen(s));
}

void
jsonbuf_time(struct jsonbuf *b, const char *name, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char ts[40];

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	jsonbuf_add(b, ",\"%s\":\"%s.%03dZ\"", name, ts, (int)(ms % 1000));
}
