/* fcgibuf.c — see fcgibuf.h. */
#include "config.h"

#include <stddef.h>

#include "fcgibuf.h"

#define FCGI_STDIN_TYPE 5   /* FastCGI spec section 8: FCGI_STDIN */

/* libfcgi 2.4.2 fcgiapp.c: typedef struct FCGX_Stream_Data. */
struct libfcgi_stream_data {
	unsigned char *buff;
	int bufflen;
	unsigned char *mBuff;
	unsigned char *buffStop;
	int type;
	int eorStop;
	int skip;
	int contentLen;
	int paddingLen;
	int isAnythingWritten;
	int rawWrite;
	FCGX_Request *reqDataPtr;
};

/* Would FillBuffProc deliver from its buffer (AVAIL bytes at P) without
 * reading the socket? It first skips the current record's rest, then
 * needs an 8-byte record header (FastCGI spec section 3.3) and, unless
 * that record is empty, one byte of its content. */
static int
fill_is_local(const struct libfcgi_stream_data *d, size_t avail,
    const unsigned char *p)
{
	size_t skip;

	if (d->contentLen > 0)
		return avail > 0;
	skip = (size_t)d->paddingLen;
	if (avail < skip + 8)
		return 0;
	if (avail > skip + 8)
		return 1;
	/* Exactly a header: local only if its content length is 0. */
	return p[skip + 4] == 0 && p[skip + 5] == 0;
}

int
fcgibuf_unread(const FCGX_Stream *in, const FCGX_Request *req)
{
	const struct libfcgi_stream_data *d = in->data;

	if (d == NULL || d->reqDataPtr != req || d->buff == NULL ||
	    d->bufflen <= 0 || d->bufflen > 70000 ||
	    d->type != FCGI_STDIN_TYPE || d->buffStop < d->buff ||
	    d->buffStop > d->buff + d->bufflen ||
	    in->rdNext < d->buff || in->rdNext > d->buffStop)
		return -1;
	return fill_is_local(d, (size_t)(d->buffStop - in->rdNext), in->rdNext);
}
