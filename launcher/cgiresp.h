/* cgiresp.h — incremental parser of a CGI response header block
 * (RFC 3875 section 6). Pure: bytes in, headers or an error out; the
 * caller may split the input at any byte boundary. */
#ifndef FN_CGIRESP_H
#define FN_CGIRESP_H

#include <stdbool.h>
#include <stddef.h>

#define CGIRESP_MAX_HEADER (64 * 1024) /* a larger block is a bad response */

enum cgiresp_state {
	CGIRESP_MORE = 0,  /* header block not complete yet: feed more */
	CGIRESP_DONE,      /* blank line seen: headers available */
	CGIRESP_ERROR      /* bad response: see cgiresp_error() */
};

struct cgiresp_header {
	char *name;        /* as sent (case kept) */
	char *value;       /* leading/trailing blanks trimmed */
};

struct cgiresp;

/* A parser accepting at most MAX_HEADER bytes of header block (including
 * the blank line). Returns NULL on ENOMEM. */
struct cgiresp *cgiresp_new(size_t max_header);
void cgiresp_free(struct cgiresp *p);

/* Feed LEN bytes. *USED is set to the number of bytes that belonged to
 * the header block; after CGIRESP_DONE the remaining LEN - *USED bytes
 * are the start of the body. Once DONE or ERROR, further feeds return
 * the same state with *USED = 0. */
enum cgiresp_state cgiresp_feed(struct cgiresp *p, const char *buf,
    size_t len, size_t *used);

/* End of input: returns CGIRESP_DONE if the block was complete, else
 * CGIRESP_ERROR ("end of output before the blank line"). */
enum cgiresp_state cgiresp_eof(struct cgiresp *p);

/* A static or parser-owned message describing the error, or NULL. */
const char *cgiresp_error(const struct cgiresp *p);

/* After DONE: the status from a "Status:" header (100..599), or 0 if
 * there was none. REASON (may be NULL) gets the reason phrase or "". */
int cgiresp_status(const struct cgiresp *p, const char **reason);

/* After DONE: true when the status came from an HTTP status line
 * ("HTTP/1.1 404 Not Found") as a non-parsed-header script's first line
 * (RFC 3875 section 5.1). */
bool cgiresp_nph(const struct cgiresp *p);

/* After DONE: the headers other than "Status", in order. */
size_t cgiresp_count(const struct cgiresp *p);
const struct cgiresp_header *cgiresp_get(const struct cgiresp *p, size_t i);

/* After DONE: the value of the first header named NAME (case-insensitive),
 * or NULL. */
const char *cgiresp_find(const struct cgiresp *p, const char *name);

#endif
