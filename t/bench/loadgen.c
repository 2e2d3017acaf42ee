/* loadgen.c — a closed-loop HTTP/1.1 load client that keeps the status
 * and latency of every response, so the latency of one kind of answer
 * (e.g. the 503s of an overloaded function) can be told apart. Each of
 * CONNS keepalive connections sends GET PATH, waits for the whole
 * response, and sends the next, for SECONDS (answers still in flight at
 * the end are not counted, as with wrk). With -n, each connection sends
 * N requests and stops; the run ends when all are answered (or after
 * SECONDS).
 *
 * usage: loadgen -c CONNS -d SECONDS [-n N] HOST PORT PATH
 * prints: "responses R errors E seconds S" then, per status,
 *         "status CODE count N p50_ms A p99_ms B max_ms C" */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ (64 * 1024)

struct conn {
	int fd;
	size_t len;
	long sent;              /* requests sent */
	double t0;              /* when the request in flight was sent (-r:
	                         * when it was due) */
	bool busy;              /* a request is in flight */
	char buf[BUFSZ];
};

struct lat {
	float *v;
	size_t n, cap;
};

static struct lat by_status[600];
static long errors, responses;
static struct sockaddr_in addr;
static char request[2048];
static size_t request_len;
static int ep;
static double rate;             /* -r: requests per second, all conns */
static double start;
static int nconns;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
record(int status, double ms)
{
	struct lat *l = &by_status[status >= 100 && status < 600 ? status : 0];

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = realloc(l->v, l->cap * sizeof(float));
		if (l->v == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	l->v[l->n++] = (float)ms;
	responses++;
}

static int
open_conn(struct conn *c)
{
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	c->len = 0;
	c->busy = false;
	return 0;
}

static void
close_conn(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->busy = false;
	c->len = 0;
}

/* -r: when connection C's next request is due. */
static double
due(const struct conn *c, int i)
{
	return start + ((double)c->sent * nconns + i) / rate;
}

static int
send_req(struct conn *c, double when)
{
	if (c->fd < 0 && open_conn(c) < 0)
		return -1;
	c->t0 = when;
	if (write(c->fd, request, request_len) != (ssize_t)request_len)
		return -1;
	c->busy = true;
	c->sent++;
	return 0;
}

/* Length of the complete response at the start of buf, 0 if incomplete,
 * -1 if malformed. *status, *closing are set. */
static long
parse(struct conn *c, int *status, bool *closing)
{
	char *b = c->buf, *end = c->buf + c->len;
	char *hend = memmem(b, c->len, "\r\n\r\n", 4);
	long clen = -1;
	bool chunked = false;

	if (hend == NULL)
		return c->len == BUFSZ ? -1 : 0;
	if (c->len < 12 || strncmp(b, "HTTP/1.", 7) != 0)
		return -1;
	*status = atoi(b + 9);
	*closing = false;
	for (char *p = memchr(b, '\n', (size_t)(hend - b)); p && p < hend;
	    p = memchr(p, '\n', (size_t)(hend - p))) {
		p++;
		if (strncasecmp(p, "content-length:", 15) == 0)
			clen = atol(p + 15);
		else if (strncasecmp(p, "transfer-encoding:", 18) == 0)
			chunked = strcasestr(p, "chunked") != NULL &&
			    strcasestr(p, "chunked") < strchr(p, '\n');
		else if (strncasecmp(p, "connection:", 11) == 0) {
			char *nl = strchr(p, '\n'), *cl = strcasestr(p, "close");
			*closing = cl != NULL && cl < nl;
		}
	}
	char *body = hend + 4;
	if (clen >= 0)
		return end - body >= clen ? (body - b) + clen : 0;
	if (!chunked)
		return -1;
	for (char *p = body;;) {
		char *nl = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (nl == NULL)
			return 0;
		long sz = strtol(p, NULL, 16);
		if (sz < 0)
			return -1;
		p = nl + 2;
		if (sz == 0) {           /* no trailers: one more CRLF */
			if (end - p < 2)
				return 0;
			return (p + 2) - b;
		}
		if (end - p < sz + 2)
			return 0;
		p += sz + 2;
	}
}

static int
cmp(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	int conns = 16, opt;
	double secs = 10;
	long per_conn = 0;

	while ((opt = getopt(argc, argv, "c:d:n:r:")) != -1)
		switch (opt) {
		case 'c': conns = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'n': per_conn = atol(optarg); break;
		case 'r': rate = atof(optarg); break;
		default: goto usage;
		}
	if (argc - optind != 3 || conns < 1 || secs <= 0 || rate < 0) {
usage:
		fprintf(stderr, "usage: loadgen -c CONNS -d SECONDS [-n N] [-r RATE] HOST PORT PATH\n");
		return 2;
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
	if (inet_pton(AF_INET, argv[optind], &addr.sin_addr) != 1)
		goto usage;
	request_len = (size_t)snprintf(request, sizeof(request),
	    "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: fnlauncher-loadgen\r\n\r\n",
	    argv[optind + 2], argv[optind]);
	ep = epoll_create1(EPOLL_CLOEXEC);
	struct conn *cs = calloc((size_t)conns, sizeof(*cs));
	if (ep < 0 || cs == NULL)
		return 1;
	nconns = conns;
	for (int i = 0; i < conns; i++) {
		cs[i].fd = -1;
		if (rate > 0 && open_conn(&cs[i]) < 0) {
			perror("connect");
			return 1;
		}
	}
	start = now();
	double stop = start + secs;
	for (int i = 0; i < conns && rate == 0; i++)
		if (send_req(&cs[i], now()) < 0) {
			perror("connect/send");
			return 1;
		}
	struct epoll_event evs[256];
	for (;;) {
		double t = now(), next = stop;
		if (t >= stop)
			break;
		/* -r: send what is due; sleep until the next is. */
		for (int i = 0; i < conns && rate > 0; i++) {
			struct conn *c = &cs[i];
			double d = due(c, i);
			if (c->busy || (per_conn > 0 && c->sent >= per_conn))
				continue;
			if (d <= t) {
				if (send_req(c, d) < 0) {
					errors++;
					close_conn(c);
					c->sent++;
				}
			} else if (d < next) {
				next = d;
			}
		}
		if (per_conn > 0) {
			bool any = false;
			for (int i = 0; i < conns && !any; i++)
				any = cs[i].busy || cs[i].sent < per_conn;
			if (!any)
				break;
		}
		struct timespec wait = { 0, 10000000 };
		if (rate > 0) {
			double w = next - now();
			w = w < 0 ? 0 : w > 0.01 ? 0.01 : w;
			wait.tv_nsec = (long)(w * 1e9);
		}
		int n = epoll_pwait2(ep, evs, 256, &wait, NULL);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r = read(c->fd, c->buf + c->len, BUFSZ - c->len);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				if (c->busy)
					errors++;
				close_conn(c);
				goto next;
			}
			c->len += (size_t)r;
			for (;;) {
				int status = 0;
				bool closing = false;
				long used = parse(c, &status, &closing);
				if (used == 0)
					break;
				if (used < 0) {
					errors++;
					close_conn(c);
					goto next;
				}
				record(status, (now() - c->t0) * 1e3);
				c->busy = false;
				memmove(c->buf, c->buf + used, c->len - (size_t)used);
				c->len -= (size_t)used;
				if (closing)
					close_conn(c);
				break;
			}
next:
			if (rate == 0 && !c->busy && now() < stop &&
			    (per_conn == 0 || c->sent < per_conn) &&
			    send_req(c, now()) < 0) {
				errors++;
				close_conn(c);
				if (per_conn > 0)
					c->sent++;    /* counted as done */
			}
		}
	}
	double took = now() - start;
	printf("responses %ld errors %ld seconds %.3f\n", responses, errors, took);
	for (int s = 0; s < 600; s++) {
		struct lat *l = &by_status[s];
		if (l->n == 0)
			continue;
		qsort(l->v, l->n, sizeof(float), cmp);
		printf("status %d count %zu p50_ms %.3f p99_ms %.3f max_ms %.3f\n",
		    s, l->n, l->v[(l->n - 1) * 50 / 100], l->v[(l->n - 1) * 99 / 100],
		    l->v[l->n - 1]);
	}
	return 0;
}
