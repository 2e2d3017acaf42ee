/* record.c — see record.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "record.h"

#define STR_MAX 128             /* escaped bytes of other strings */

/* Length of the valid UTF-8 sequence at S (1..4), or 0 when S does not
 * start one (RFC 3629: no overlongs, no surrogates, at most U+10FFFF). */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned min, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* The escaped form of the character at S into OUT (at least 7 bytes);
 * *IN gets how many bytes of S it took. Returns the escaped length. */
static size_t
escape_one(const char *s, char *out, size_t *in)
{
	unsigned char c = (unsigned char)*s;
	size_t n = utf8_len((const unsigned char *)s);

	*in = n ? n : 1;
	if (n == 0) {
		memcpy(out, "\\ufffd", 6);
		return 6;
	}
	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (c < 0x20 || c == 0x7f) {
		snprintf(out, 7, "\\u%04x", c);
		return 6;
	}
	memcpy(out, s, n);
	return n;
}

/* Escaped length of S. */
static size_t
escaped_len(const char *s)
{
	size_t total = 0, in;
	char one[8];

	for (; *s != '\0'; s += in)
		total += escape_one(s, one, &in);
	return total;
}

void
record_json_str(char *buf, size_t size, size_t *pos, const char *s,
    size_t max)
{
	size_t p = *pos, used = 0, in, n, room;
	bool cut;
	char one[8];

	if (size == 0 || p >= size)
		return;
	if (max > size - 1 - p)
		max = size - 1 - p;
	if (s == NULL) {
		buf[p] = '\0';
		return;
	}
	cut = escaped_len(s) > max;
	room = cut ? (max >= 3 ? max - 3 : 0) : max;
	for (; *s != '\0'; s += in) {
		n = escape_one(s, one, &in);
		if (used + n > room)
			break;
		memcpy(buf + p, one, n);
		p += n;
		used += n;
	}
	if (cut && max >= 3) {
		memcpy(buf + p, "...", 3);
		p += 3;
	}
	buf[p] = '\0';
	*pos = p;
}

/* Append the text of FMT, if it fits (it always does within RECORD_MAX:
 * the caps below leave room for every number). */
static void
put(char *buf, size_t size, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
put(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < size - *pos)
		*pos += (size_t)n;
	else
		buf[*pos] = '\0';
}

/* "KEY":"VALUE", (escaped, at most MAX bytes) or "KEY":null, */
static void
field(char *buf, size_t size, size_t *pos, const char *key, const char *val,
    size_t max)
{
	if (val == NULL) {
		put(buf, size, pos, "\"%s\":null,", key);
		return;
	}
	put(buf, size, pos, "\"%s\":\"", key);
	record_json_str(buf, size, pos, val, max);
	put(buf, size, pos, "\",");
}

size_t
record_format(const struct fn_record *r, char *buf, size_t size)
{
	size_t pos = 0;
	char code[16], sig[16];

	snprintf(code, sizeof(code), "%d", r->exit_code);
	snprintf(sig, sizeof(sig), "%d", r->signal);
	put(buf, size, &pos, "{");
	field(buf, size, &pos, "ts", r->ts, 40);
	field(buf, size, &pos, "request_id", r->request_id, 32);
	field(buf, size, &pos, "function", r->function, STR_MAX);
	field(buf, size, &pos, "tenant", r->tenant ? r->tenant : "", STR_MAX);
	field(buf, size, &pos, "method", r->method, 32);
	field(buf, size, &pos, "uri", r->uri, RECORD_URI_MAX);
	put(buf, size, &pos,
	    "\"status\":%d,\"outcome\":\"%s\",\"exit_code\":%s,\"signal\":%s,"
	    "\"duration_ms\":%.3f,\"queue_ms\":%.3f,"
	    "\"cpu_user_ms\":%.3f,\"cpu_sys_ms\":%.3f,"
	    "\"max_rss_kb\":%ld,\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64 ",",
	    r->status, r->outcome ? r->outcome : "error",
	    r->exit_code >= 0 ? code : "null", r->signal > 0 ? sig : "null",
	    (double)r->duration_us / 1000.0, (double)r->queue_us / 1000.0,
	    (double)r->cpu_user_us / 1000.0,
	    (double)r->cpu_sys_us / 1000.0, r->max_rss_kb, r->bytes_in,
	    r->bytes_out);
	if (r->memory_peak_kb >= 0)
		put(buf, size, &pos, "\"memory_peak_kb\":%ld,\"oom_kills\":%ld,",
		    r->memory_peak_kb, r->oom_kills >= 0 ? r->oom_kills : 0);
	else
		put(buf, size, &pos, "\"memory_peak_kb\":null,\"oom_kills\":null,");
	field(buf, size, &pos, "error", r->error, 32);
	if (r->redirected_from != NULL)
		field(buf, size, &pos, "redirected_from", r->redirected_from,
		    STR_MAX);
	field(buf, size, &pos, "remote_addr", r->remote_addr, 64);
	field(buf, size, &pos, "trigger", r->trigger ? r->trigger : "http", 16);
	if (r->job_id != NULL)
		field(buf, size, &pos, "job_id", r->job_id, 40);
	if (r->attempt != NULL && strspn(r->attempt, "0123456789") ==
	    strlen(r->attempt) && *r->attempt != '\0' && strlen(r->attempt) < 6)
		put(buf, size, &pos, "\"attempt\":%s,", r->attempt);
	/* the last comma becomes the end of the object */
	buf[pos - 1] = '}';
	buf[pos++] = '\n';
	buf[pos] = '\0';
	return pos;
}

size_t
record_error_body(char *buf, size_t size, const char *code,
    const char *message, const char *function, const char *request_id)
{
	size_t pos = 0;

	put(buf, size, &pos, "{");
	field(buf, size, &pos, "error", code, 32);
	field(buf, size, &pos, "message", message, 512);
	field(buf, size, &pos, "function", function, STR_MAX);
	field(buf, size, &pos, "request_id", request_id, 32);
	buf[pos - 1] = '}';
	buf[pos++] = '\n';
	buf[pos] = '\0';
	return pos;
}
