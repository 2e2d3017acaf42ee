/* fcgiclient.h — a raw FastCGI client for the security tests: it writes
 * whatever records it is told to, including ones nginx would never send
 * (FastCGI spec 1.0, "FastCGI Specification", Open Market 1996).
 *
 * Encoding is pure (bytes appended to a growing buffer); I/O is a thin
 * shell: connect, write everything, read records until FCGI_END_REQUEST,
 * EOF or a deadline. Functions return 0 / -1 unless they say otherwise. */
#ifndef FN_T_FCGICLIENT_H
#define FN_T_FCGICLIENT_H

#include <stddef.h>

/* Record types and constants (spec section 8). */
enum {
	FCGIC_VERSION_1 = 1,
	FCGIC_BEGIN_REQUEST = 1,
	FCGIC_ABORT_REQUEST = 2,
	FCGIC_END_REQUEST = 3,
	FCGIC_PARAMS = 4,
	FCGIC_STDIN = 5,
	FCGIC_STDOUT = 6,
	FCGIC_STDERR = 7,
	FCGIC_DATA = 8,
	FCGIC_GET_VALUES = 9,
	FCGIC_GET_VALUES_RESULT = 10,
	FCGIC_UNKNOWN_TYPE = 11,
	FCGIC_RESPONDER = 1,
	FCGIC_KEEP_CONN = 1,
	FCGIC_MAX_CONTENT = 65535
};

/* A growing byte buffer; zero-initialise, release with fcgic_buf_free. */
struct fcgic_buf {
	unsigned char *p;
	size_t len, cap;
};
void fcgic_buf_free(struct fcgic_buf *b);
int fcgic_buf_put(struct fcgic_buf *b, const void *data, size_t len);

/* One record header (spec 3.3) with any version byte and any content
 * length (even one that the data that follows does not match). */
int fcgic_header(struct fcgic_buf *b, unsigned version, unsigned type,
    unsigned id, unsigned content_len, unsigned padding_len);
/* One well-formed record: header, content (len <= 65535), padding to a
 * multiple of 8 bytes (spec 3.3 recommends it). */
int fcgic_record(struct fcgic_buf *b, unsigned type, unsigned id,
    const void *data, size_t len);
/* A stream (PARAMS, STDIN, ...): data cut into records of at most
 * 65535 bytes, then the empty record that ends the stream unless
 * end == 0. */
int fcgic_stream(struct fcgic_buf *b, unsigned type, unsigned id,
    const void *data, size_t len, int end);
/* FCGI_BEGIN_REQUEST body (spec 5.1). */
int fcgic_begin(struct fcgic_buf *b, unsigned id, unsigned role,
    unsigned flags);
/* One name-value pair (spec 3.4): lengths < 128 in one byte, else four
 * with the high bit set. */
int fcgic_nv(struct fcgic_buf *b, const char *name, size_t nlen,
    const char *value, size_t vlen);
/* "NAME=value" strings (n of them) as name-value pairs, then as a
 * complete PARAMS stream (records + the empty one). */
int fcgic_params(struct fcgic_buf *b, unsigned id, const char *const *nv,
    size_t n);
/* BEGIN (responder, flags), the params, the body as a complete STDIN
 * stream. */
int fcgic_request(struct fcgic_buf *b, unsigned id, unsigned flags,
    const char *const *nv, size_t n, const void *body, size_t body_len);

/* Connect to a unix socket; fd (blocking, close-on-exec) or -1. */
int fcgic_connect_unix(const char *path);
/* Connect to IPv4 addr:port, first binding the client socket to
 * bind_addr (NULL: any); fd or -1. */
int fcgic_connect_tcp(const char *bind_addr, const char *addr, int port);
/* Write all of buf; -1 on error (EPIPE included: SIGPIPE is not raised). */
int fcgic_send(int fd, const void *buf, size_t len);

/* What came back. */
struct fcgic_resp {
	struct fcgic_buf out;    /* FCGI_STDOUT content, in order */
	struct fcgic_buf err;    /* FCGI_STDERR content */
	size_t raw_bytes;        /* every byte read from the socket */
	int ended;               /* an FCGI_END_REQUEST for id came */
	unsigned app_status;     /* from FCGI_END_REQUEST */
	unsigned proto_status;
	int unknown_type;        /* type named by an FCGI_UNKNOWN_TYPE, or 0 */
	int eof;                 /* the peer closed (0 bytes read) */
	int reset;               /* ECONNRESET */
	int timed_out;           /* the deadline passed first */
	int bad;                 /* a record we could not parse */
};
/* Read records for id until FCGI_END_REQUEST, EOF, reset or timeout_ms.
 * Returns 0 (see the flags in r) or -1 on another error. */
int fcgic_read(int fd, unsigned id, struct fcgic_resp *r, int timeout_ms);
void fcgic_resp_free(struct fcgic_resp *r);
/* The CGI status of r->out: "Status: NNN" in the header block, else 200
 * when a header block is there, 0 when there is none. body (may be
 * NULL) points after the blank line, NUL-terminated. */
int fcgic_status(struct fcgic_resp *r, const char **body);

#endif
