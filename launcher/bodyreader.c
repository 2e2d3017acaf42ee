/* bodyreader.c — see bodyreader.h. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fastcgi.h>

#include "bodyreader.h"
#include "fcgirec.h"
#include "fnlog.h"
#include "metrics.h"
#include "once.h"

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
	unsigned char part[FCGI_HEADER_LEN]; /* a header's start, for next time */
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
	    d->type != FCGI_STDIN || d->buffStop < d->buff ||
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

		if (h[0] != FCGI_VERSION_1)
			return false;
		if (h[1] == FCGI_STDIN && hid == id)
			return clen == 0 || (avail > pos + 8 && !stale_skip);
		if (hid == id || hid == 0 || avail < pos + rec)
			return false;
		if (h[1] != FCGI_BEGIN_REQUEST && clen == 0)
			stale_skip = true;
		pos += rec;
	}
	return false;
}

/* A request found libfcgi's stream state other than the layout this
 * build knows (the start-up probe passed, so something changed under
 * us): say so once, count it, and read through libfcgi. */
static void
layout_unknown(void)
{
	if (once("bodyreader", "layout"))
		fnlog(FNLOG_WARN, "request bodies: libfcgi's stream state is not "
		    "the layout of libfcgi " LIBFCGI_BUILT_VERSION " this build knows: "
		    "reading them through libfcgi (slower for large bodies)");
	metrics_body_fallback();
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
		layout_unknown();
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

/* The probe's request: FastCGI records (spec sections 3.3, 5.1) as nginx
 * sends them, with a body larger than libfcgi's 8 KiB buffer, in
 * records of PROBE_REC bytes. */
#define PROBE_BODY 20000
#define PROBE_REC 4000

static size_t
probe_record(unsigned char *out, int type, const void *data, size_t len)
{
	unsigned char h[FCGI_HEADER_LEN] = { FCGI_VERSION_1, (unsigned char)type,
	    0, 1, (unsigned char)(len >> 8), (unsigned char)len, 0, 0 };

	memcpy(out, h, sizeof(h));
	if (len > 0)
		memcpy(out + sizeof(h), data, len);
	return sizeof(h) + len;
}

static size_t
probe_request(unsigned char *out, const char *body)
{
	static const unsigned char begin[8] = { 0, FCGI_RESPONDER, 0 };
	static const char params[] = "\016\004REQUEST_METHODPOST"
	    "\016\005CONTENT_LENGTH20000";
	size_t n = 0;

	n += probe_record(out + n, FCGI_BEGIN_REQUEST, begin, sizeof(begin));
	n += probe_record(out + n, FCGI_PARAMS, params, sizeof(params) - 1);
	n += probe_record(out + n, FCGI_PARAMS, NULL, 0);
	for (size_t off = 0; off < PROBE_BODY; off += PROBE_REC)
		n += probe_record(out + n, FCGI_STDIN, body + off, PROBE_REC);
	n += probe_record(out + n, FCGI_STDIN, NULL, 0);
	return n;
}

/* Read the probe's body with a reader on REQ: true when all of it came
 * back, whole and in order, and the reader took over from libfcgi. */
static bool
probe_read(FCGX_Request *req, const char *body)
{
	struct bodyreader *in = bodyreader_new(req);
	size_t got = 0;
	bool ok = in != NULL;

	for (int rounds = 0; ok && !bodyreader_eof(in) && rounds < 1000;
	    rounds++) {
		const char *data;
		long n;
		if (!bodyreader_ready(in)) {
			struct pollfd pfd = { .fd = req->ipcFd, .events = POLLIN };
			if (poll(&pfd, 1, 1000) <= 0)
				ok = false;
		}
		if (!ok || (n = bodyreader_next(in, &data)) < 0) {
			ok = false;
			break;
		}
		if (got + (size_t)n > PROBE_BODY ||
		    memcmp(data, body + got, (size_t)n) != 0)
			ok = false;
		got += (size_t)n;
	}
	ok = ok && bodyreader_eof(in) && got == PROBE_BODY &&
	    in->mode == M_OWN;
	bodyreader_free(in);
	return ok;
}

bool
bodyreader_probe(void)
{
	static char body[PROBE_BODY];
	unsigned char *wire = malloc(PROBE_BODY + 512);
	FCGX_Request req;
	bool ok = false;
	int sv[2];

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (char)('a' + i % 26);
	if (wire == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free(wire);
		return false;
	}
	size_t len = probe_request(wire, body);
	if (write(sv[0], wire, len) == (ssize_t)len &&
	    FCGX_InitRequest(&req, -1, 0) == 0) {
		req.ipcFd = sv[1];
		req.keepConnection = 1;
		if (FCGX_Accept_r(&req) == 0)
			ok = probe_read(&req, body);
		/* Closed first, so libfcgi's close sees EOF at once. */
		close(sv[0]);
		sv[0] = -1;
		req.keepConnection = 0;
		FCGX_Finish_r(&req);
		FCGX_Free(&req, 1);
	}
	if (sv[0] >= 0)
		close(sv[0]);
	free(wire);
	return ok;
}
