/* harness_http.c — a raw HTTP/1.1 client (keepalive, chunked) for the tests. See harness.h for the contract. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* pipe2, close_range, strcasecmp, nftw, mkdtemp,
                      memmem */
#endif
#include "harness.h"
#include "harness_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


/* ---- raw HTTP/1.1 client ------------------------------------------------- */

int harness_http_connect(const struct harness *h)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd == -1)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)h->port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		hint_fail("connect 127.0.0.1:%d: %s", h->port, strerror(errno));
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int harness_http_send(int fd, const char *path, const char *extra,
    int keep_alive)
{
	char req[2048];
	size_t off = 0;
	ssize_t w;
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n"
	    "Host: localhost\r\n%s%s\r\n", path, extra ? extra : "",
	    keep_alive ? "" : "Connection: close\r\n");

	if (n < 0 || (size_t)n >= sizeof(req))
		return -1;
	while (off < (size_t)n) {
		w = send(fd, req + off, (size_t)n - off, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* Copy the value of header line "name: value" (line without CRLF, llen
 * bytes) into buf if the name matches; 1 if it did. */
static int head_value(const char *line, size_t llen, const char *name,
    char *buf, size_t len)
{
	size_t nl = strlen(name), vl;
	const char *v;

	if (llen <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return 0;
	for (v = line + nl + 1; v < line + llen && (*v == ' ' || *v == '\t');
	    v++)
		;
	vl = (size_t)(line + llen - v);
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (vl >= len)
		vl = len - 1;
	memcpy(buf, v, vl);
	buf[vl] = '\0';
	return 1;
}

/* Head state the body reader needs beyond struct hhttp. */
struct hhead {
	long long clen;       /* -1: none */
	int chunked;
};

static int parse_head(const char *buf, size_t len, struct hhttp *r,
    struct hhead *hh, size_t *head_len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4), *line, *nl;
	char v[64];
	int minor;

	memset(r, 0, sizeof(*r));
	hh->clen = -1;
	hh->chunked = 0;
	if (end == NULL)
		return len > 65536 ? -1 : 1;
	*head_len = (size_t)(end - buf) + 4;
	if (sscanf(buf, "HTTP/1.%d %d", &minor, &r->status) != 2)
		return -1;
	r->keep = minor >= 1;
	for (line = memchr(buf, '\n', len) + 1; line < end; line = nl + 1) {
		size_t ll;

		nl = memchr(line, '\n', (size_t)(end + 2 - line));
		if (nl == NULL)
			break;
		ll = (size_t)(nl - line);
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		head_value(line, ll, "X-Request-Id", r->rid, sizeof(r->rid));
		head_value(line, ll, "Retry-After", r->retry_after,
		    sizeof(r->retry_after));
		if (head_value(line, ll, "Content-Length", v, sizeof(v)))
			hh->clen = atoll(v);
		if (head_value(line, ll, "Transfer-Encoding", v, sizeof(v)))
			hh->chunked = strcasecmp(v, "chunked") == 0;
		if (head_value(line, ll, "Connection", v, sizeof(v)))
			r->keep = strcasecmp(v, "close") != 0;
	}
	return 0;
}

int harness_http_head(const char *buf, size_t len, struct hhttp *r,
    size_t *head_len)
{
	struct hhead hh;

	return parse_head(buf, len, r, &hh, head_len);
}

/* Buffered reader with one deadline. */
struct hrd {
	int fd;
	double deadline;
	size_t pos, len;
	char buf[65536];
};

/* More bytes into an empty buffer: 1, 0 at EOF, -1 on error/time out. */
static int rd_fill(struct hrd *rd)
{
	struct pollfd pfd = { .fd = rd->fd, .events = POLLIN };
	double left;
	ssize_t n;

	for (;;) {
		left = rd->deadline - harness_now();
		if (left <= 0)
			return -1;
		n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n == -1 && errno != EINTR)
			return -1;
		if (n <= 0)
			continue;
		n = read(rd->fd, rd->buf, sizeof(rd->buf));
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -1;
		rd->pos = 0;
		rd->len = (size_t)n;
		return 1;
	}
}

/* Discard n bytes (n < 0: to EOF); the count discarded. */
static long long rd_skip(struct hrd *rd, long long n)
{
	long long done = 0;
	size_t k;

	while (n < 0 || done < n) {
		if (rd->pos == rd->len && rd_fill(rd) != 1)
			break;
		k = rd->len - rd->pos;
		if (n >= 0 && (long long)k > n - done)
			k = (size_t)(n - done);
		rd->pos += k;
		done += (long long)k;
	}
	return done;
}

/* One line without its CRLF into line; 0, or -1 at EOF/error. */
static int rd_line(struct hrd *rd, char *line, size_t cap)
{
	size_t n = 0;
	char c;

	for (;;) {
		if (rd->pos == rd->len && rd_fill(rd) != 1)
			return -1;
		c = rd->buf[rd->pos++];
		if (c == '\n')
			break;
		if (n + 1 < cap)
			line[n++] = c;
	}
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	return 0;
}

/* Chunked body (RFC 9112 7.1): decoded bytes into r->body_len; 1 if the
 * last chunk and the trailer section came. */
static int rd_chunked(struct hrd *rd, struct hhttp *r)
{
	char line[256];
	long long size;

	for (;;) {
		if (rd_line(rd, line, sizeof(line)) == -1)
			return 0;
		size = strtoll(line, NULL, 16);
		if (size < 0)
			return 0;
		if (size == 0)
			break;
		if (rd_skip(rd, size) != size)
			return 0;
		r->body_len += (size_t)size;
		if (rd_line(rd, line, sizeof(line)) == -1 || line[0] != '\0')
			return 0;
	}
	do {
		if (rd_line(rd, line, sizeof(line)) == -1)
			return 0;
	} while (line[0] != '\0');
	return 1;
}

int harness_http_read(int fd, struct hhttp *r, int timeout_ms)
{
	struct hrd *rd = malloc(sizeof(*rd));
	struct hhead hh;
	size_t have = 0, head_len = 0;
	char *head = malloc(65536 + 1);
	int rc = -1, p = 1;

	memset(r, 0, sizeof(*r));
	if (rd == NULL || head == NULL)
		goto out;
	rd->fd = fd;
	rd->deadline = harness_now() + timeout_ms / 1000.0;
	rd->pos = rd->len = 0;
	/* The head, byte by byte out of the buffer (it is small). */
	while (p == 1 && have < 65536) {
		if (rd->pos == rd->len && rd_fill(rd) != 1)
			break;
		head[have++] = rd->buf[rd->pos++];
		if (have >= 4 && memcmp(head + have - 4, "\r\n\r\n", 4) == 0)
			p = parse_head(head, have, r, &hh, &head_len);
	}
	if (p != 0)
		goto out;
	rc = 0;
	if (r->status == 204 || r->status == 304 || (r->status >= 100 &&
	    r->status < 200)) {
		r->complete = 1;
	} else if (hh.chunked) {
		r->complete = rd_chunked(rd, r);
	} else if (hh.clen >= 0) {
		r->body_len = (size_t)rd_skip(rd, hh.clen);
		r->complete = (long long)r->body_len == hh.clen;
	} else {
		r->body_len = (size_t)rd_skip(rd, -1);
		r->complete = 1;      /* delimited by the close */
		r->keep = 0;
	}
	if (!r->complete)
		r->keep = 0;
out:
	free(head);
	free(rd);
	return rc;
}
