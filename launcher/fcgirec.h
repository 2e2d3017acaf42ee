/* fcgirec.h — the request body's FastCGI records, parsed in place.
 *
 * Once libfcgi's 8 KiB buffer is used up, the daemon reads the rest of
 * a request body from nginx's socket itself, in large reads, and this
 * turns those bytes into body bytes: FCGI_STDIN records (FastCGI spec
 * section 3.3 and 5.3) of the request lose their headers and padding,
 * records of other request ids are skipped (as libfcgi does), and the
 * empty FCGI_STDIN record ends the body. Anything else — another
 * version, another record type of this request (FCGI_ABORT_REQUEST
 * included), a management record, a new FCGI_BEGIN_REQUEST — is a
 * protocol error: nginx sends none of them, and the connection is
 * dropped. Pure: no I/O, so it is unit tested and fuzzed alone. */
#ifndef FN_FCGIREC_H
#define FN_FCGIREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fcgirec {
	uint16_t id;            /* the request's id */
	uint32_t content_left;  /* of the current record, still to come */
	uint32_t pad_left;      /* its padding, still to come */
	bool skip;              /* the current record is another request's */
	bool eof;               /* the empty FCGI_STDIN record was seen */
	bool extra;             /* bytes followed it (the connection cannot
	                         * be reused: they would be lost) */
};

/* Start parsing the records of request ID at a record boundary. */
void fcgirec_init(struct fcgirec *r, uint16_t id);

/* Parse the HAVE raw bytes at BUF. Body bytes are moved to the front of
 * BUF: returns how many (0: only headers or padding yet), or -1 on a
 * protocol error. *USED is set to the raw bytes consumed; the rest
 * (fewer than 8, the start of a record header) must be passed again,
 * in front of the next bytes read. Bytes after the end of the body are
 * consumed and flagged in extra. */
long fcgirec_parse(struct fcgirec *r, unsigned char *buf, size_t have,
    size_t *used);

#endif
