/* cluster_client.c — the client side of the cluster tests: one HTTP
 * request to nginx at a time, recorded with the host that answered and
 * the upstreams nginx tried, and client loops in threads of their own. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void cluster_sleep_until(double t)
{
	double left = t - harness_now();

	if (left > 0)
		harness_sleep_ms((int)(left * 1000) + 1);
}

/* ---- the client ---------------------------------------------------------- */

/* One request over a new connection to nginx (HTTP/1.0: the response
 * ends with the connection), answered within timeout_ms. */
void cluster_http_req(const char *method, const char *path, const char *body,
    int timeout_ms, struct cluster_result *r)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char req[512], buf[16384], *p, *e;
	size_t got = 0, off = 0;
	struct pollfd pfd;
	double end = harness_now() + timeout_ms / 1000.0;
	ssize_t n;
	int fd, len;

	r->status = 0;
	r->host[0] = r->up[0] = r->err[0] = '\0';
	if (body != NULL)
		len = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\n"
		    "Host: cluster\r\nContent-Type: text/plain\r\n"
		    "Content-Length: %zu\r\n\r\n%s", method, path, strlen(body),
		    body);
	else
		len = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\n"
		    "Host: cluster\r\n\r\n", method, path);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)cluster.h->port);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		snprintf(r->err, sizeof(r->err), "connect: %s",
		    strerror(errno));
		goto out;
	}
	while (off < (size_t)len) {
		n = send(fd, req + off, (size_t)len - off, MSG_NOSIGNAL);
		if (n <= 0) {
			snprintf(r->err, sizeof(r->err), "send: %s",
			    strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		int left = (int)((end - harness_now()) * 1000);

		if (left <= 0) {
			snprintf(r->err, sizeof(r->err), "no answer within "
			    "%d ms", timeout_ms);
			goto out;
		}
		if (poll(&pfd, 1, left) <= 0)
			continue;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(r->err, sizeof(r->err), "read: %s",
			    strerror(errno));
			goto out;
		}
		if (n == 0 || got + (size_t)n == sizeof(buf) - 1) {
			got += (size_t)n;
			break;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
		snprintf(r->err, sizeof(r->err), "no status line");
		r->status = 0;
		goto out;
	}
	e = strstr(buf, "\r\n\r\n");
	if ((p = strcasestr(buf, "\r\nX-Upstream: ")) != NULL &&
	    (e == NULL || p < e)) {
		p += 14;
		n = (ssize_t)strcspn(p, "\r\n");
		snprintf(r->up, sizeof(r->up), "%.*s", (int)n, p);
	}
	if (e != NULL && (p = strstr(e, "host=")) != NULL) {
		p += 5;
		n = (ssize_t)strcspn(p, " \r\n");
		snprintf(r->host, sizeof(r->host), "%.*s", (int)n, p);
	}
out:
	if (fd != -1)
		close(fd);
}


static void *loop_main(void *arg)
{
	struct cluster_loop *l = arg;
	size_t i;

	for (i = 0; i < CLUSTER_MAX_RESULTS && !atomic_load(&l->stop); i++) {
		struct cluster_result *r = &l->res[i];

		memset(r, 0, sizeof(*r));
		r->post = l->alternate && i % 2 == 1;
		r->t0 = harness_now();
		if (r->post) {
			snprintf(r->marker, sizeof(r->marker), "%s-%zu",
			    l->name, i);
			cluster_http_req("POST", "/post", r->marker,
			    CLUSTER_POST_MS, r);
		} else
			cluster_http_req("GET", "/hello", NULL,
			    CLUSTER_GET_MS, r);
		r->t1 = harness_now();
		atomic_store(&l->n, i + 1);
	}
	return NULL;
}

struct cluster_loop *cluster_loop_start(const char *name, int alternate)
{
	struct cluster_loop *l = calloc(1, sizeof(*l));

	ck_assert_ptr_nonnull(l);
	l->res = calloc(CLUSTER_MAX_RESULTS, sizeof(*l->res));
	ck_assert_ptr_nonnull(l->res);
	l->name = name;
	l->alternate = alternate;
	atomic_init(&l->stop, 0);
	atomic_init(&l->n, 0);
	ck_assert_int_eq(pthread_create(&l->thread, NULL, loop_main, l), 0);
	return l;
}

void cluster_loop_stop(struct cluster_loop *l)
{
	atomic_store(&l->stop, 1);
	pthread_join(l->thread, NULL);
}

void cluster_loop_free(struct cluster_loop *l)
{
	free(l->res);
	free(l);
}

/* A response is good: 200 with the host's ID (and, for a POST, its own
 * marker echoed). */
int cluster_good(const struct cluster_result *r)
{
	return r->status == 200 && r->host[0] != '\0';
}

/* Failures of l into desc (the first few); their count. */
int cluster_failures(const struct cluster_loop *l, double t_base, char *desc,
    size_t len)
{
	size_t i, n = atomic_load(&l->n), used = 0;
	int bad = 0, m;

	desc[0] = '\0';
	for (i = 0; i < n; i++) {
		const struct cluster_result *r = &l->res[i];

		if (cluster_good(r))
			continue;
		if (bad++ < 5 && used < len) {
			m = snprintf(desc + used, len - used, "\n  %s #%zu "
			    "%s at %.2f s: status %d, %s, upstreams [%s]",
			    l->name, i,
			    r->post ? "POST" : "GET", r->t0 - t_base, r->status,
			    r->err[0] ? r->err : "no host in body", r->up);
			if (m > 0)
				used += (size_t)m;
		}
	}
	return bad;
}

/* Requests of l that nginx passed to more than one upstream (a retry),
 * answered after t. */
int cluster_retried_after(const struct cluster_loop *l, double t)
{
	size_t i, n = atomic_load(&l->n);
	int c = 0;

	for (i = 0; i < n; i++)
		if (l->res[i].t1 > t && strchr(l->res[i].up, ',') != NULL)
			c++;
	return c;
}
