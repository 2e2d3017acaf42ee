/* cluster_drain.c — a host drained (SIGTERM) while a POST runs on it:
 * nothing fails, that POST completes there, the host exits 0, and every
 * POST's side effect happened once, where it was answered. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cluster.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

START_TEST(drain)
{
	struct cluster_loop *lp, *lg;
	char desc[1600], desc2[1600], inflight[24] = "";
	char last[CLUSTER_HOSTS][24];
	double t0, t_term, t_exit, end;
	size_t i, n;
	int st, got, bad, bad2, retries, after = 0, j, total;
	int posts = 0, wrong = 0;
	char effect[256] = "";
	int victim = -1;
	const struct cluster_result *ir = NULL;

	lp = cluster_loop_start("post", 1);
	lg = cluster_loop_start("get", 0);
	t0 = harness_now();
	/* After at least 1 s of traffic, SIGTERM the host on which a POST
	 * runs now: its side effect written, its 1 s sleep begun. */
	cluster_sleep_until(t0 + 1.0);
	for (j = 0; j < CLUSTER_HOSTS; j++)
		if (!cluster_last_post(j, last[j], sizeof(last[j])))
			last[j][0] = '\0';
	for (end = t0 + 10; victim < 0 && harness_now() < end;
	    harness_sleep_ms(5))
		for (j = 0; j < CLUSTER_HOSTS && victim < 0; j++)
			if (cluster_last_post(j, inflight, sizeof(inflight)) &&
			    strcmp(inflight, last[j]) != 0)
				victim = j;
	ck_assert_msg(victim >= 0, "no POST ran within 10 s");
	t_term = harness_now();
	ck_assert_int_eq(kill(cluster.host[victim].pid, SIGTERM), 0);
	got = harness_wait_ms(cluster.host[victim].pid, 5000 + 3000, &st);
	t_exit = harness_now();
	if (got == 1)
		cluster.host[victim].pid = 0;
	/* The others keep serving, the victim stays away. */
	cluster_sleep_until(t_exit + 2.0);
	cluster_loop_stop(lp);
	cluster_loop_stop(lg);

	n = atomic_load(&lp->n);
	for (i = 0; i < n; i++)
		if (strcmp(lp->res[i].marker, inflight) == 0)
			ir = &lp->res[i];
	bad = cluster_failures(lp, t0, desc, sizeof(desc));
	bad2 = cluster_failures(lg, t0, desc2, sizeof(desc2));
	retries = cluster_retried_after(lp, t_term) +
	    cluster_retried_after(lg, t_term);
	for (i = 0; i < atomic_load(&lg->n); i++)
		if (lg->res[i].t0 > t_exit &&
		    strcmp(lg->res[i].host, cluster.host[victim].id) == 0)
			after++;
	/* Every POST answered 200 did its work exactly once, where it said. */
	for (i = 0; i < n; i++) {
		const struct cluster_result *r = &lp->res[i];

		if (!r->post || !cluster_good(r))
			continue;
		posts++;
		for (total = 0, j = 0; j < CLUSTER_HOSTS; j++)
			total += cluster_marker_count(j, r->marker);
		if (total == 1 && cluster_marker_count(
		    cluster_host_index(r->host), r->marker) == 1)
			continue;
		if (wrong++ == 0)
			snprintf(effect, sizeof(effect), "POST %s (answered by "
			    "%s): its side effect happened %d times, %d on %s",
			    r->marker, r->host, total, cluster_marker_count(
			    cluster_host_index(r->host), r->marker), r->host);
	}
	printf("cluster: drain: %zu + %zu requests, SIGTERM to %s at %.2f s "
	    "with POST %s in flight, exit after %.2f s (status 0x%x), %d + %d "
	    "failed, %d retried on another host after the SIGTERM\n",
	    n, atomic_load(&lg->n), cluster.host[victim].id, t_term - t0,
	    inflight, t_exit - t_term,
	    got == 1 ? (unsigned)st : 0xdead, bad, bad2, retries);
	ck_assert_msg(bad == 0 && bad2 == 0, "%d + %d requests failed around "
	    "the drain (SIGTERM at %.2f s):%s%s", bad, bad2, t_term - t0,
	    desc, desc2);
	ck_assert_msg(got == 1, "%s still running %.1f s after SIGTERM\n%s",
	    cluster.host[victim].id, t_exit - t_term, cluster_log_tail(victim));
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: wait status "
	    "0x%x after SIGTERM\n%s", cluster.host[victim].id, (unsigned)st,
	    cluster_log_tail(victim));
	ck_assert_msg(ir != NULL && ir->status == 200 &&
	    strcmp(ir->host, cluster.host[victim].id) == 0, "the POST in "
	    "flight at the SIGTERM (%s) did not complete on %s: status %d, "
	    "host %s, %s",
	    inflight, cluster.host[victim].id, ir ? ir->status : -1,
	    ir ? ir->host : "-", ir ? ir->err : "not sent");
	ck_assert_msg(posts > 0 && wrong == 0, "%d POSTs answered 200, %d "
	    "with the wrong side effects; first: %s", posts, wrong, effect);
	ck_assert_msg(retries > 0, "no request was retried after the "
	    "SIGTERM: nginx never tried the draining host?");
	ck_assert_msg(after == 0, "%d requests answered by %s after it exited",
	    after, cluster.host[victim].id);
	cluster_loop_free(lp);
	cluster_loop_free(lg);
}
END_TEST

void cluster_add_drain(TCase *tc)
{
	tcase_add_test(tc, drain);
}
