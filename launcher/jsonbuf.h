/* jsonbuf.h — a growing buffer for the JSON documents fnlauncher
 * writes itself (async jobs' states and results): printf-style parts,
 * strings escaped, UTF-8 checked, times in RFC 3339. Out of memory is
 * remembered (oom) and every later call does nothing. */
#ifndef FN_JSONBUF_H
#define FN_JSONBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jsonbuf {
	char *p;                  /* NUL-terminated once anything was added */
	size_t len, cap;
	bool oom;
};

/* Room for N more bytes (and the NUL). */
void jsonbuf_need(struct jsonbuf *b, size_t n);

void jsonbuf_add(struct jsonbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Are the N bytes at S UTF-8 (no overlong forms, no surrogates)? */
bool jsonbuf_is_utf8(const char *s, size_t n);

/* S (N bytes of UTF-8) as a JSON string, quotes included. */
void jsonbuf_str_n(struct jsonbuf *b, const char *s, size_t n);

/* S as a JSON string, or null for NULL. */
void jsonbuf_str(struct jsonbuf *b, const char *s);

/* ,"NAME":"2026-12-06T10:00:00.123Z" for MS (realtime, milliseconds). */
void jsonbuf_time(struct jsonbuf *b, const char *name, int64_t ms);

#endif
