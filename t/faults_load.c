/* faults_load.c — more requests than the function may run: 200 at once
 * against concurrency 4 get 503 busy at once while another function is
 * served (17), and 10 000 in a row leave the daemon as they found it
 * (18). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "faults.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- 17: 200 at once against concurrency 4 ------------------------------ */

#define BURST 200

struct bconn {
	int fd;
	double t_sent, t_done;
	size_t len;
	char buf[2048];
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Read whatever is ready on c; close it at EOF. */
static void bconn_read(struct bconn *c)
{
	char tmp[4096];
	ssize_t n = read(c->fd, tmp, sizeof(tmp));
	size_t k;

	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(c->fd);
		c->fd = -1;
		c->t_done = harness_now();
		return;
	}
	k = (size_t)n;
	if (k > sizeof(c->buf) - 1 - c->len)
		k = sizeof(c->buf) - 1 - c->len;
	memcpy(c->buf + c->len, tmp, k);
	c->len += k;
	c->buf[c->len] = '\0';
}

/* All connections to completion (or 20 s); returns how many finished. */
static int burst_run(struct bconn *c, int n)
{
	struct pollfd *pfd = calloc((size_t)n, sizeof(*pfd));
	double end = harness_now() + 20;
	int i, open_n = n, done = 0;

	ck_assert_ptr_nonnull(pfd);
	while (open_n > 0 && harness_now() < end) {
		for (i = 0; i < n; i++) {
			pfd[i].fd = c[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, (nfds_t)n, 100) <= 0)
			continue;
		for (i = 0; i < n; i++)
			if (pfd[i].revents != 0 && c[i].fd >= 0)
				bconn_read(&c[i]);
		for (open_n = 0, i = 0; i < n; i++)
			open_n += c[i].fd >= 0;
	}
	for (i = 0; i < n; i++) {
		done += c[i].fd < 0;
		if (c[i].fd >= 0)
			close(c[i].fd);
	}
	free(pfd);
	return done;
}

START_TEST(f17_burst_503)
{
	struct bconn *c = calloc(BURST + 1, sizeof(*c));
	double lat[BURST], first200 = 0, last503 = 0, t0;
	char extra[200], bad[256] = "";
	int i, done, n200 = 0, n503 = 0, nlat = 0;
	struct hhttp r;
	struct faults_snap b;
	size_t hl;

	ck_assert_ptr_nonnull(c);
	faults_snap(&b);
	snprintf(extra, sizeof(extra), "%s\r\n", faults_tag_hdr);
	t0 = harness_now();
	for (i = 0; i <= BURST; i++) {
		c[i].fd = harness_http_connect(faults_h);
		ck_assert_msg(c[i].fd >= 0, "connection %d refused", i);
		c[i].t_sent = harness_now();
		/* The last one is another function, while the naps run. */
		ck_assert_int_eq(harness_http_send(c[i].fd, i < BURST ? "/nap" :
		    "/hello", extra, 0), 0);
		fcntl(c[i].fd, F_SETFL, O_NONBLOCK);
	}
	done = burst_run(c, BURST + 1);
	ck_assert_msg(done == BURST + 1, "%d of %d requests unanswered after "
	    "20 s", BURST + 1 - done, BURST + 1);
	for (i = 0; i < BURST; i++) {
		if (harness_http_head(c[i].buf, c[i].len, &r, &hl) != 0)
			r.status = 0;
		if (r.status == 200) {
			n200++;
			if (first200 == 0 || c[i].t_done < first200)
				first200 = c[i].t_done;
		} else if (r.status == 503 && strcmp(r.retry_after, "1") == 0 &&
		    strstr(c[i].buf + hl, "\"error\":\"busy\"") != NULL) {
			n503++;
			lat[nlat++] = c[i].t_done - c[i].t_sent;
			if (c[i].t_done > last503)
				last503 = c[i].t_done;
		} else if (bad[0] == '\0')
			snprintf(bad, sizeof(bad), "%.200s", c[i].buf);
	}
	qsort(lat, (size_t)nlat, sizeof(lat[0]), cmp_double);
	ck_assert_int_eq(harness_http_head(c[BURST].buf, c[BURST].len, &r, &hl),
	    0);
	faults_report(17, "burst_503", "%d x 200, %d x 503 in %.0f ms; 503 "
	    "latency p50 %.1f ms, p99 %.1f ms, max %.1f ms; other function %d "
	    "in %.1f ms", n200, n503, (harness_now() - t0) * 1000,
	    nlat ? lat[nlat / 2] * 1000 : -1,
	    nlat ? lat[(nlat * 99) / 100] * 1000 : -1,
	    nlat ? lat[nlat - 1] * 1000 : -1, r.status,
	    (c[BURST].t_done - c[BURST].t_sent) * 1000);
	ck_assert_msg(n200 == 4 && n503 == BURST - 4, "%d x 200, %d x 503 "
	    "(with Retry-After: 1 and busy), want 4 and %d; first other: %s",
	    n200, n503, BURST - 4, bad);
	/* At once: before the first of the 2 s naps ended, not queued. */
	ck_assert_msg(last503 < first200, "a 503 came %.3f s after the first "
	    "nap ended (slowest 503: %.3f s)", last503 - first200,
	    lat[nlat - 1]);
	ck_assert_msg(r.status == 200 && c[BURST].t_done < first200,
	    "other function: %d, done %.3f s after the first nap finished",
	    r.status, c[BURST].t_done - first200);
	free(c);
	faults_settle("fault 17", "", &b);
}
END_TEST

/* ---- 18: 10 000 in a row ------------------------------------------------ */

#define SEQUENTIAL 10000

START_TEST(f18_ten_thousand)
{
	char extra[200], first_bad[128] = "", bad_rid[64] = "";
	struct faults_snap b, a;
	struct hhttp r;
	double t0, secs, end;
	int i, fd = -1, ok = 0, conns = 0;

	faults_snap(&b);
	snprintf(extra, sizeof(extra), "%s\r\n", faults_tag_hdr);
	t0 = harness_now();
	for (i = 0; i < SEQUENTIAL; i++) {
		if (fd < 0) {
			fd = harness_http_connect(faults_h);
			ck_assert_int_ge(fd, 0);
			conns++;
		}
		if (harness_http_send(fd, "/hello", extra, 1) != 0 ||
		    harness_http_read(fd, &r, 10000) != 0)
			r.status = 0;
		if (r.status == 200 && r.complete && r.body_len == 6)
			ok++;
		else if (first_bad[0] == '\0') {
			snprintf(first_bad, sizeof(first_bad), "request %d: "
			    "status %d, %zu bytes, complete %d", i, r.status,
			    r.body_len, r.complete);
			snprintf(bad_rid, sizeof(bad_rid), "%s", r.rid);
		}
		if (!r.keep || r.status == 0) {
			close(fd);
			fd = -1;
		}
	}
	secs = harness_now() - t0;
	if (fd >= 0)
		close(fd);
	/* A connection's thread is parked (fnl-idle) once nginx closes it. */
	for (end = harness_now() + FAULTS_SETTLE_MS / 1000.0;
	    harness_now() < end;) {
		faults_snap(&a);
		if (a.threads == b.threads && a.fds == b.fds)
			break;
		usleep(50000);
	}
	faults_report(18, "ten_thousand", "%d requests in %.1f s (%.0f/s, %d "
	    "connections); daemon fds %d -> %d, busy threads %ld -> %ld, VmRSS "
	    "%ld -> %ld kB%s", SEQUENTIAL, secs, SEQUENTIAL / secs, conns,
	    b.fds, a.fds, b.threads, a.threads, b.rss_kb, a.rss_kb,
	    faults_sanitized() ? " (sanitizer build: RSS not checked)" : "");
	ck_assert_msg(ok == SEQUENTIAL, "%d of %d answered 200; first bad: "
	    "%s; its log:\n%s", ok, SEQUENTIAL, first_bad,
	    faults_log_about(bad_rid));
	ck_assert_msg(a.threads == b.threads, "daemon busy threads %ld -> %ld",
	    b.threads, a.threads);
	ck_assert_msg(faults_sanitized() || a.rss_kb - b.rss_kb < 8 * 1024,
	    "daemon VmRSS %ld -> "
	    "%ld kB", b.rss_kb, a.rss_kb);
	faults_settle("fault 18", "", &b);
}
END_TEST

void faults_add_load(TCase *tc)
{
	tcase_add_test(tc, f17_burst_503);
	tcase_add_test(tc, f18_ten_thousand);
}
