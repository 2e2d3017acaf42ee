/* bodyreader.c — see bodyreader.h. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bodyreader.h"
#include "fcgirec.h"

#define FCGI_STDIN_TYPE 5   /* FastCGI spec section 8: FCGI_STDIN */
#define OWN_BUF (128 * 1024)

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

enum mode {
	M_LIBFCGI,      /* libfcgi's buffer still holds body bytes */
	M_OWN,          /* we read and parse the records */
	M_BLIND         /* unknown libfcgi layout: its blocking fills */
};

struct bodyreader {
	FCGX_Request *req;
	FCGX_Stream *in;
	enum mode mode;
	struct fcgirec rec;
	unsigned char *buf;
	size_t have;            /* M_OWN: raw bytes at buf not parsed yet */
	unsigned char part[8];  /* start of a record header, for next time */
	size_t partlen;
	bool eof;
};

struct bodyreader *
bodyreader_new(FCGX_Request *req)
{
	struct bodyreader *in = calloc(1, sizeof(*in));

	if (in == NULL)
		return NULL;
	in->req = req;
	in->in = req->in;
	in->eof = in->in->isClosed && in->in->rdNext == in->in->stop;
	return in;
}

void
bodyreader_free(struct bodyreader *in)
{
	if (in == NULL)
		return;
	free(in->buf);
	free(in);
}

bool
bodyreader_eof(const struct bodyreader *in)
{
	return in->eof;
}

bool
bodyreader_extra(const struct bodyreader *in)
{
	return in->rec.extra;
}

/* libfcgi's stream data, or NULL when its layout is not the one we
 * know. */
static struct libfcgi_stream_data *
layout(const struct bodyreader *in)
{
	struct libfcgi_stream_data *d = in->in->data;
	const FCGX_Stream *s = in->in;

	if (d == NULL || d->reqDataPtr != in->req || d->buff == NULL ||
	    d->bufflen <= 0 || d->bufflen > 70000 ||
	    d->type != FCGI_STDIN_TYPE || d->buffStop < d->buff ||
	    d->buffStop > d->buff + d->bufflen ||
	    s->rdNext < d->buff || s->rdNext > d->buffStop ||
	    d->contentLen < 0 || d->contentLen > 65535 ||
	    d->paddingLen < 0 || d->paddingLen > 255 || d->eorStop != 0)
		return NULL;
	return d;
}

/* Would FillBuffProc deliver this request's body (or its end) from its
 * buffer (AVAIL bytes at P) without reading the socket? It first skips
 * the current record's rest, then needs an 8-byte record header
 * (FastCGI spec section 3.3) of this request's FCGI_STDIN and, unless
 * that record is empty, one byte of its content. On the way it may pass
 * whole records of other request ids: it skips them, and answers an
 * FCGI_BEGIN_REQUEST with FCGI_CANT_MPX_CONN (spec 5.5). Not a record
 * it would have to read on for (blocking), nor a management record
 * (which it would answer itself), nor our record after an empty record
 * of another id (libfcgi 2.4.2 then stays in its skip state and would
 * drop our next record's content): those are left to fcgirec. */
static bool
fill_is_local(const struct libfcgi_stream_data *d, size_t avail,
    const unsigned char *p, int id)
{
	bool stale_skip = false;
	size_t pos;

	if (d->contentLen > 0)
		return avail > 0 && !d->skip;
	for (pos = (size_t)d->paddingLen; avail >= pos + 8;) {
		const unsigned char *h = p + pos;
		int hid = h[2] << 8 | h[3];
		size_t clen = (size_t)(h[4] << 8 | h[5]), rec = 8 + clen + h[6];

		if (h[0] != 1)
			return false;
		if (h[1] == FCGI_STDIN_TYPE && hid == id)
			return clen == 0 || (avail > pos + 8 && !stale_skip);
		if (hid == id || hid == 0 || avail < pos + rec)
			return false;
		if (h[1] != 1 /* BEGIN_REQUEST */ && clen == 0)
			stale_skip = true;
		pos += rec;
	}
	return false;
}

/* libfcgi's buffer is used up: go on from where its parser stands, with
 * what it read but did not parse. */
static int
take_over(struct bodyreader *in, struct libfcgi_stream_data *d)
{
	size_t raw = (size_t)(d->buffStop - in->in->rdNext);

	if ((in->buf = malloc(OWN_BUF)) == NULL)
		return -1;
	fcgirec_init(&in->rec, (uint16_t)in->req->requestId);
	in->rec.content_left = (uint32_t)d->contentLen;
	in->rec.pad_left = (uint32_t)d->paddingLen;
	in->rec.skip = d->skip != 0;
	memcpy(in->buf, in->in->rdNext, raw);
	in->have = raw;
	/* libfcgi holds nothing of the body any more. */
	in->in->rdNext = in->in->stop = in->in->stopUnget = d->buffStop;
	d->contentLen = d->paddingLen = 0;
	in->mode = M_OWN;
	return 0;
}

int
bodyreader_ready(struct bodyreader *in)
{
	struct libfcgi_stream_data *d;

	if (in->eof)
		return 0;
	switch (in->mode) {
	case M_OWN:
		return in->have > 0;
	case M_BLIND:
		return 1;
	case M_LIBFCGI:
		break;
	}
	if ((d = layout(in)) == NULL) {
		in->mode = M_BLIND;
		return 1;
	}
	if (fill_is_local(d, (size_t)(d->buffStop - in->in->rdNext),
	    in->in->rdNext, in->req->requestId))
		return 1;
	if (take_over(in, d) < 0) {
		in->mode = M_BLIND;     /* out of memory: libfcgi's way */
		return 1;
	}
	return in->have > 0;
}

/* M_LIBFCGI, M_BLIND: one fill of libfcgi's buffer. */
static long
next_libfcgi(struct bodyreader *in, const char **data)
{
	FCGX_Stream *s = in->in;
	long n;

	s->fillBuffProc(s);
	s->stopUnget = s->rdNext;
	if (FCGX_GetError(s) != 0)
		return -1;
	n = (long)(s->stop - s->rdNext);
	*data = (const char *)s->rdNext;
	s->rdNext = s->stop;
	if (s->isClosed)
		in->eof = true;
	return n;
}

long
bodyreader_next(struct bodyreader *in, const char **data)
{
	size_t used;
	long n;

	*data = NULL;
	if (in->eof)
		return 0;
	if (in->mode != M_OWN)
		return next_libfcgi(in, data);
	if (in->have == 0) {
		/* What was left of a record header goes in front. */
		memcpy(in->buf, in->part, in->partlen);
		ssize_t r = recv(in->req->ipcFd, in->buf + in->partlen,
		    OWN_BUF - in->partlen, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (r <= 0)
			return -1;      /* closed mid-body, or failed */
		in->have = in->partlen + (size_t)r;
	}
	n = fcgirec_parse(&in->rec, in->buf, in->have, &used);
	if (n < 0)
		return -1;
	in->partlen = in->have - used;
	memcpy(in->part, in->buf + used, in->partlen);
	in->have = 0;
	/* The end record's padding is read too: left on the socket, it
	 * would be taken for the next request's first header. */
	if (in->rec.eof && in->rec.pad_left == 0) {
		in->eof = true;
		in->in->isClosed = 1;
	}
	*data = (const char *)in->buf;
	return n;
}
