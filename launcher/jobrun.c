/* jobrun.c — see jobrun.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fastcgi.h>

#include "jobrun.h"

static void
on_stdout(struct jobrun *r, const char *data, size_t len)
{
	size_t used = 0, keep;

	if (r->bad)
		return;
	if (!r->headers_done) {
		enum cgiresp_state st = cgiresp_feed(r->cgi, data, len, &used);
		if (st == CGIRESP_MORE)
			return;
		if (st == CGIRESP_ERROR) {
			r->bad = true;
			return;
		}
		r->headers_done = true;
	}
	data += used;
	len -= used;
	r->btotal += len;
	keep = r->result_max - r->blen;
	if (keep > len)
		keep = len;
	if (keep > 0) {
		char *b = realloc(r->body, r->blen + keep + 1);
		if (b == NULL)
			return;
		r->body = b;
		memcpy(b + r->blen, data, keep);
		r->blen += keep;
	}
}

/* Whole records at the front of BUF (*LEN bytes) handled and removed. */
static void
take_records(struct jobrun *r, unsigned char *buf, size_t *len)
{
	size_t pos = 0;

	while (*len - pos >= FCGI_HEADER_LEN) {
		unsigned char *h = buf + pos;
		size_t clen = (size_t)h[4] << 8 | h[5], plen = h[6];
		if (*len - pos < FCGI_HEADER_LEN + clen + plen)
			break;
		if (h[1] == FCGI_STDOUT)
			on_stdout(r, (char *)h + FCGI_HEADER_LEN, clen);
		else if (h[1] == FCGI_END_REQUEST)
			r->ended = true;
		pos += FCGI_HEADER_LEN + clen + plen;
	}
	memmove(buf, buf + pos, *len - pos);
	*len -= pos;
}

/* The job file (after its first line) to the socket while the answer
 * is read: both at once, as nginx does, so a function that answers
 * before it has read its body never stalls. */
void
jobrun_exchange(struct jobrun *r, int jf, off_t from)
{
	static const size_t inmax = FCGI_HEADER_LEN + 65535 + 255;
	unsigned char *in = malloc(inmax), *out = malloc(65536);
	size_t ilen = 0, olen = 0, opos = 0;
	bool file_done = false;

	if (in == NULL || out == NULL)
		goto done;
	if (lseek(jf, from, SEEK_SET) < 0)
		file_done = true;
	(void)fcntl(r->fd, F_SETFL, fcntl(r->fd, F_GETFL) | O_NONBLOCK);
	while (!r->ended) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		ssize_t n;

		if (opos == olen && !file_done) {
			n = read(jf, out, 65536);
			if (n <= 0)
				file_done = true;
			else {
				olen = (size_t)n;
				opos = 0;
			}
		}
		if (opos < olen)
			p.events |= POLLOUT;
		int64_t left = r->deadline_ms - jobrun_now_ms();
		if (left <= 0) {
			r->timed_out = true;
			break;
		}
		n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;       /* or break: checked above */
		if (p.revents & POLLOUT) {
			n = send(r->fd, out + opos, olen - opos, MSG_NOSIGNAL);
			if (n > 0)
				opos += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				file_done = true, opos = olen;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(r->fd, in + ilen, inmax - ilen);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				break;
			if (n > 0) {
				ilen += (size_t)n;
				take_records(r, in, &ilen);
			}
		}
	}
done:
	free(in);
	free(out);
}

/* The function's status, or what its answer's absence means. */
int
jobrun_status(const struct jobrun *r)
{
	const char *reason;
	int st;

	if (r->timed_out)
		return 504;
	if (!r->ended || r->bad || !r->headers_done)
		return 502;
	if ((st = cgiresp_status(r->cgi, &reason)) == 0)
		st = cgiresp_find(r->cgi, "Location") ? 302 : 200;
	return st;
}
