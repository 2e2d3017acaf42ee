/* cluster_failover.c — a host dies under load: SIGKILL and restart
 * with GETs flowing (none fails, nginx retries, the host comes back),
 * and a POST whose host is killed while it runs (502, never replayed on
 * another host). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cluster.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

START_TEST(kill_restart)
{
	const int victim = 1;
	struct cluster_loop *l;
	char desc[1600];
	double t0, t_kill, t_restart, t_back = -1, end;
	size_t i, n, per[CLUSTER_HOSTS] = { 0 };
	int st, bad, during = 0, retries;

	l = cluster_loop_start("get", 0);
	t0 = harness_now();
	cluster_sleep_until(t0 + 1.5);
	t_kill = harness_now();
	ck_assert_int_eq(kill(cluster.host[victim].pid, SIGKILL), 0);
	ck_assert_int_eq(harness_wait_ms(cluster.host[victim].pid, 5000,
	    &st), 1);
	cluster.host[victim].pid = 0;
	cluster_sleep_until(t0 + 3.0);
	t_restart = harness_now();
	ck_assert_msg(cluster_start_host(victim) == 0, "restart of %s "
	    "failed:\n%s", cluster.host[victim].id, cluster_log_tail(victim));
	/* Back once nginx tries it again: after fail_timeout, bounded. */
	end = t_restart + 3 * CLUSTER_FAIL_TIMEOUT_S + 10;
	while (harness_now() < end) {
		n = atomic_load(&l->n);
		for (i = 0; i < n && t_back < 0; i++)
			if (l->res[i].t0 > t_restart &&
			    strcmp(l->res[i].host,
			    cluster.host[victim].id) == 0)
				t_back = l->res[i].t1;
		if (t_back > 0 && harness_now() >= t0 + 6.0)
			break;
		harness_sleep_ms(50);
	}
	cluster_loop_stop(l);

	n = atomic_load(&l->n);
	for (i = 0; i < n; i++) {
		int h = cluster_host_index(l->res[i].host);

		if (h >= 0)
			per[h]++;
		if (h == victim && l->res[i].t0 > t_kill &&
		    l->res[i].t1 < t_restart)
			during++;
	}
	bad = cluster_failures(l, t0, desc, sizeof(desc));
	retries = cluster_retried_after(l, t_kill);
	printf("cluster: kill_restart: %zu GETs in %.1f s (h1 %zu, h2 %zu, "
	    "h3 %zu), %d failed, %d retried on another host after the "
	    "SIGKILL, h2 back %.1f s after its restart\n", n,
	    harness_now() - t0, per[0], per[1], per[2], bad, retries,
	    t_back > 0 ? t_back - t_restart : -1.0);
	ck_assert_msg(bad == 0, "%d of %zu GETs failed (SIGKILL at %.2f s, "
	    "restart at %.2f s):%s", bad, n, t_kill - t0, t_restart - t0,
	    desc);
	ck_assert_msg(during == 0, "%d GETs answered by %s while it was "
	    "dead", during, cluster.host[victim].id);
	ck_assert_msg(retries > 0, "no request was retried after the SIGKILL:"
	    " nginx never tried the dead host?");
	ck_assert_msg(t_back > 0, "%s took no traffic within %.0f s of its "
	    "restart\n%s", cluster.host[victim].id, end - t_restart,
	    cluster_log_tail(victim));
	cluster_loop_free(l);
}
END_TEST

struct one_post {
	char marker[24];
	struct cluster_result r;
};

static void *post_main(void *arg)
{
	struct one_post *op = arg;

	op->r.t0 = harness_now();
	cluster_http_req("POST", "/post", op->marker, 10000, &op->r);
	op->r.t1 = harness_now();
	return NULL;
}

START_TEST(post_no_replay)
{
	struct one_post op;
	pthread_t t;
	double end;
	int i, victim = -1, st, total, counts[CLUSTER_HOSTS];

	memset(&op, 0, sizeof(op));
	snprintf(op.marker, sizeof(op.marker), "c-%ld", (long)getpid());
	ck_assert_int_eq(pthread_create(&t, NULL, post_main, &op), 0);
	/* Where did it land? The function has written its side effect and
	 * sleeps: kill that host. */
	for (end = harness_now() + 5; victim < 0 && harness_now() < end;
	    harness_sleep_ms(5))
		for (i = 0; i < CLUSTER_HOSTS; i++)
			if (cluster_marker_count(i, op.marker) > 0)
				victim = i;
	ck_assert_msg(victim >= 0, "POST %s reached no host within 5 s",
	    op.marker);
	ck_assert_int_eq(kill(cluster.host[victim].pid, SIGKILL), 0);
	ck_assert_int_eq(harness_wait_ms(cluster.host[victim].pid, 5000,
	    &st), 1);
	cluster.host[victim].pid = 0;
	pthread_join(t, NULL);
	/* A replay would run at once; leave time for the orphaned function
	 * to finish too. */
	harness_sleep_ms(1500);
	for (total = 0, i = 0; i < CLUSTER_HOSTS; i++)
		total += counts[i] = cluster_marker_count(i, op.marker);
	printf("cluster: post_no_replay: POST %s ran on %s, killed: client "
	    "got %d after %.2f s, upstreams [%s]; side effects h1 %d, h2 %d, "
	    "h3 %d\n", op.marker, cluster.host[victim].id, op.r.status,
	    op.r.t1 - op.r.t0, op.r.up, counts[0], counts[1], counts[2]);
	ck_assert_msg(op.r.status == 502, "client got %d (%s), upstreams [%s],"
	    " not 502", op.r.status, op.r.err, op.r.up);
	ck_assert_msg(total == 1 && counts[victim] == 1, "POST %s ran %d "
	    "times (h1 %d, h2 %d, h3 %d): replayed", op.marker, total,
	    counts[0], counts[1], counts[2]);
	ck_assert_msg(strchr(op.r.up, ',') == NULL, "nginx passed the POST "
	    "to several upstreams: %s", op.r.up);
}
END_TEST

void cluster_add_failover(TCase *tc)
{
	tcase_add_test(tc, kill_restart);
	tcase_add_test(tc, post_no_replay);
}
