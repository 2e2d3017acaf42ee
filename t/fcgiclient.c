/* fcgiclient.c — see fcgiclient.h. Section numbers are those of the
 * FastCGI Specification 1.0. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fcgiclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- encoding (pure) ---------------------------------------------------- */

void fcgic_buf_free(struct fcgic_buf *b)
{
	if (b == NULL)
		return;
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int fcgic_buf_put(struct fcgic_buf *b, const void *data, size_t len)
{
	unsigned char *np;
	size_t cap;

	if (len > (size_t)-1 / 2 - b->len)
		return -1;
	if (b->len + len + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + len + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (np == NULL)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';   /* room kept: text users get a C string */
	return 0;
}

int fcgic_header(struct fcgic_buf *b, unsigned version, unsigned type,
    unsigned id, unsigned content_len, unsigned padding_len)
{
	/* 3.3: version, type, requestIdB1, B0, contentLengthB1, B0,
	 * paddingLength, reserved. */
	unsigned char h[8] = {
		(unsigned char)version, (unsigned char)type,
		(unsigned char)(id >> 8), (unsigned char)id,
		(unsigned char)(content_len >> 8), (unsigned char)content_len,
		(unsigned char)padding_len, 0,
	};

	return fcgic_buf_put(b, h, sizeof(h));
}

int fcgic_record(struct fcgic_buf *b, unsigned type, unsigned id,
    const void *data, size_t len)
{
	static const unsigned char zero[8];
	unsigned pad = (unsigned)((8 - len % 8) % 8);

	if (len > FCGIC_MAX_CONTENT)
		return -1;
	if (fcgic_header(b, FCGIC_VERSION_1, type, id, (unsigned)len, pad) ||
	    fcgic_buf_put(b, data, len) || fcgic_buf_put(b, zero, pad))
		return -1;
	return 0;
}

int fcgic_stream(struct fcgic_buf *b, unsigned type, unsigned id,
    const void *data, size_t len, int end)
{
	const unsigned char *p = data;
	size_t n;

	while (len > 0) {
		n = len > FCGIC_MAX_CONTENT ? FCGIC_MAX_CONTENT : len;
		if (fcgic_record(b, type, id, p, n) == -1)
			return -1;
		p += n;
		len -= n;
	}
	return end ? fcgic_record(b, type, id, NULL, 0) : 0;
}

int fcgic_begin(struct fcgic_buf *b, unsigned id, unsigned role,
    unsigned flags)
{
	/* 5.1: roleB1, roleB0, flags, reserved[5]. */
	unsigned char body[8] = { (unsigned char)(role >> 8),
	    (unsigned char)role, (unsigned char)flags, 0, 0, 0, 0, 0 };

	return fcgic_record(b, FCGIC_BEGIN_REQUEST, id, body, sizeof(body));
}

static int put_len(struct fcgic_buf *b, size_t len)
{
	unsigned char l[4];

	if (len < 128) {
		l[0] = (unsigned char)len;
		return fcgic_buf_put(b, l, 1);
	}
	if (len > 0x7fffffffu)
		return -1;
	l[0] = (unsigned char)((len >> 24) | 0x80);
	l[1] = (unsigned char)(len >> 16);
	l[2] = (unsigned char)(len >> 8);
	l[3] = (unsigned char)len;
	return fcgic_buf_put(b, l, 4);
}

int fcgic_nv(struct fcgic_buf *b, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	/* 3.4: nameLength, valueLength, nameData, valueData. */
	if (put_len(b, nlen) || put_len(b, vlen) ||
	    fcgic_buf_put(b, name, nlen) || fcgic_buf_put(b, value, vlen))
		return -1;
	return 0;
}

int fcgic_params(struct fcgic_buf *b, unsigned id, const char *const *nv,
    size_t n)
{
	struct fcgic_buf pairs = { 0 };
	const char *eq;
	size_t i;
	int rc = -1;

	for (i = 0; i < n; i++) {
		eq = strchr(nv[i], '=');
		if (eq == NULL || fcgic_nv(&pairs, nv[i], (size_t)(eq - nv[i]),
		    eq + 1, strlen(eq + 1)) == -1)
			goto out;
	}
	rc = fcgic_stream(b, FCGIC_PARAMS, id, pairs.p, pairs.len, 1);
out:
	fcgic_buf_free(&pairs);
	return rc;
}

int fcgic_request(struct fcgic_buf *b, unsigned id, unsigned flags,
    const char *const *nv, size_t n, const void *body, size_t body_len)
{
	if (fcgic_begin(b, id, FCGIC_RESPONDER, flags) ||
	    fcgic_params(b, id, nv, n) ||
	    fcgic_stream(b, FCGIC_STDIN, id, body, body_len, 1))
		return -1;
	return 0;
}

/* ---- I/O ---------------------------------------------------------------- */

int fcgic_connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int fcgic_connect_tcp(const char *bind_addr, const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET }, me = sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return -1;
	if (bind_addr != NULL && (inet_pton(AF_INET, bind_addr,
	    &me.sin_addr) != 1 || bind(fd, (struct sockaddr *)&me,
	    sizeof(me)) == -1))
		goto fail;
	sa.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

int fcgic_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Take the complete records at the front of in (consumed bytes in
 * *used). 1 when FCGI_END_REQUEST for id was seen, 0 to read more, -1 on
 * a record we cannot parse. */
static int take_records(const unsigned char *in, size_t len, size_t *used,
    unsigned id, struct fcgic_resp *r)
{
	size_t off = 0, clen, total;
	unsigned type, rid;
	const unsigned char *c;

	while (len - off >= 8) {
		c = in + off;
		if (c[0] != FCGIC_VERSION_1)
			return -1;
		type = c[1];
		rid = (unsigned)c[2] << 8 | c[3];
		clen = (size_t)c[4] << 8 | c[5];
		total = 8 + clen + c[6];
		if (len - off < total)
			break;
		c += 8;
		off += total;
		if (type == FCGIC_UNKNOWN_TYPE && rid == 0 && clen >= 1) {
			r->unknown_type = c[0];
			continue;
		}
		if (rid != id)
			continue;
		if (type == FCGIC_STDOUT && fcgic_buf_put(&r->out, c, clen))
			return -1;
		if (type == FCGIC_STDERR && fcgic_buf_put(&r->err, c, clen))
			return -1;
		if (type == FCGIC_END_REQUEST && clen >= 8) {
			r->app_status = (unsigned)c[0] << 24 |
			    (unsigned)c[1] << 16 | (unsigned)c[2] << 8 | c[3];
			r->proto_status = c[4];
			r->ended = 1;
			*used = off;
			return 1;
		}
	}
	*used = off;
	return 0;
}

int fcgic_read(int fd, unsigned id, struct fcgic_resp *r, int timeout_ms)
{
	struct fcgic_buf in = { 0 };
	double end = now_s() + timeout_ms / 1000.0;
	unsigned char buf[65536];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t used;
	ssize_t n;
	int left, rc = 0, k;

	memset(r, 0, sizeof(*r));
	for (;;) {
		left = (int)((end - now_s()) * 1000);
		if (left <= 0) {
			r->timed_out = 1;
			break;
		}
		k = poll(&pfd, 1, left);
		if (k == -1 && errno == EINTR)
			continue;
		if (k == -1) {
			rc = -1;
			break;
		}
		if (k == 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == ECONNRESET) {
			r->reset = 1;
			break;
		}
		if (n == -1) {
			rc = -1;
			break;
		}
		if (n == 0) {
			r->eof = 1;
			break;
		}
		r->raw_bytes += (size_t)n;
		if (fcgic_buf_put(&in, buf, (size_t)n) == -1) {
			rc = -1;
			break;
		}
		k = take_records(in.p, in.len, &used, id, r);
		if (k == -1) {
			r->bad = 1;
			break;
		}
		memmove(in.p, in.p + used, in.len - used);
		in.len -= used;
		if (k == 1)
			break;
	}
	fcgic_buf_free(&in);
	return rc;
}

void fcgic_resp_free(struct fcgic_resp *r)
{
	if (r == NULL)
		return;
	fcgic_buf_free(&r->out);
	fcgic_buf_free(&r->err);
}

int fcgic_status(struct fcgic_resp *r, const char **body)
{
	static char empty[] = "";
	char *text, *crlf, *lf, *end, *line, *next;
	size_t skip;
	int status = 200;

	if (body != NULL)
		*body = empty;
	if (r->out.len == 0 || fcgic_buf_put(&r->out, "", 0) == -1)
		return 0;
	text = (char *)r->out.p;
	crlf = strstr(text, "\r\n\r\n");
	lf = strstr(text, "\n\n");
	if (crlf == NULL && lf == NULL)
		return 0;
	if (crlf != NULL && (lf == NULL || crlf < lf)) {
		end = crlf;
		skip = 4;
	} else {
		end = lf;
		skip = 2;
	}
	if (body != NULL)
		*body = end + skip;
	for (line = text; line < end; line = next) {
		next = memchr(line, '\n', (size_t)(end - line));
		next = next != NULL ? next + 1 : end;
		if (strncasecmp(line, "Status:", 7) == 0)
			status = atoi(line + 7);
	}
	return status;
}
