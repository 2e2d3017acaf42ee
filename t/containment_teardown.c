/* containment_teardown.c — what a function starts ends with its request
 * (issue 12, rows 8 and 9 and the teardown list of "Testing here"):
 * escapees in every disguise are gone within 3 s of their request's
 * end, whatever FN_REQUEST_ID they carry; the CPU that forked children
 * burn is in the invocation record. And isolate: [pid] / [net] still
 * work under the new defaults. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "containment.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define GONE_MS 3000    /* an escapee must be gone this soon */

/* Poll up to ms for pid to be gone; 1 if it is. */
static int gone_within(pid_t pid, int ms)
{
	double end = harness_now() + ms / 1000.0;

	while (ct_alive(pid)) {
		if (harness_now() >= end)
			return 0;
		harness_sleep_ms(50);
	}
	return 1;
}

/* Request the attacker's escape act (how; adopt: the id to take) with
 * tag; the escapee's pid (from its marker), or -1 with the body in r. */
static pid_t escape(struct hresp *r, const char *how, const char *adopt,
    const char *tag)
{
	char how_h[64], tag_h[96], adopt_h[96];
	const char *args[] = { "-H", "X-Act: escape", "-H", how_h, "-H",
	    tag_h, "-H", adopt_h, NULL };

	snprintf(how_h, sizeof(how_h), "X-How: %s", how);
	snprintf(tag_h, sizeof(tag_h), "X-Tag: %s", tag);
	snprintf(adopt_h, sizeof(adopt_h), "X-Adopt: %s", adopt ? adopt : "-");
	ct_req(r, "attacker", args);
	ck_assert_msg(r->status == 200, "escape %s: status %d\n%s\n%s", how,
	    r->status, r->body, ct_log_tail());
	return (pid_t)ct_spool_num("esc", tag);
}

/* Row 8: the escapee double-forks, calls setsid() and takes the
 * FN_REQUEST_ID of the tenant's next request, in flight (here: the
 * id read from that request's marker; a real one reads it from
 * /proc/PID/environ of its own tenant's processes). It must still be
 * gone within 3 s of its own request's end, while that other request
 * runs on. */
START_TEST(row8_escapee_adopts_inflight_id)
{
	struct ct_victim next;
	struct hresp a, b;
	char tag[64];
	pid_t pid;
	int gone;

	{
		const char *args[] = { "-H", "X-Act: hold", NULL };

		ct_victim_start(&next, "attacker", "row8-next", args);
	}
	ct_tag(tag, sizeof(tag), "row8");
	pid = escape(&a, "adopt", next.rid, tag);
	if (pid <= 0) {
		ct_victim_end(&next, &b);
		ck_abort_msg("row 8: no escapee started:\n%s", a.body);
	}
	gone = gone_within(pid, GONE_MS);
	ct_victim_end(&next, &b);
	if (!gone)
		kill(pid, SIGKILL);
	ck_assert_msg(gone, "row 8: the escapee (pid %ld, FN_REQUEST_ID=%s of "
	    "the request still in flight) still ran %d ms after its own "
	    "request ended; the attacker said:\n%s", (long)pid, next.rid,
	    GONE_MS, a.body);
	ct_assert_victim_intact(&next, &b, "", "row 8: the request in flight");
	hresp_free(&a);
	hresp_free(&b);
}
END_TEST

/* The other side of teardown: one request's end ends only what that
 * request started. The victim leaves a helper behind (double fork,
 * setsid) that is its own until the victim's request ends; another
 * tenant's request that ends meanwhile must not kill it, and the
 * victim's end must. */
START_TEST(teardown_spares_other_requests)
{
	struct ct_victim v;
	struct hresp a, b;
	int alive, gone;
	pid_t helper;

	{
		const char *args[] = { "-H", "X-Helper: 1", NULL };

		ct_victim_start(&v, "victim", "helper", args);
	}
	helper = (pid_t)ct_spool_num("helper", v.tag);
	{
		const char *args[] = { "-H", "X-Act: id", NULL };

		ct_req(&a, "attacker", args);
	}
	harness_sleep_ms(1000);
	alive = helper > 0 && ct_alive(helper);
	ct_victim_end(&v, &b);
	gone = helper > 0 && gone_within(helper, GONE_MS);
	if (helper > 0 && !gone)
		kill(helper, SIGKILL);
	ck_assert_msg(helper > 0, "the victim left no helper:\n%s", b.body);
	ck_assert_msg(alive, "another tenant's request (GET /attacker, %d) "
	    "ended and took the victim's helper (pid %ld) with it while the "
	    "victim's request was in flight", a.status, (long)helper);
	ck_assert_msg(gone, "the victim's helper (pid %ld) still ran %d ms "
	    "after the victim's request ended", (long)helper, GONE_MS);
	ct_assert_victim_intact(&v, &b, "", "teardown of another request");
	hresp_free(&a);
	hresp_free(&b);
}
END_TEST

/* The teardown list: each way out, gone within 3 s of its request's
 * end. */
static const struct {
	const char *how;
	const char *what;
} WAYS[] = {
	{ "envi", "double fork + setsid + env -i" },
	{ "setpgid", "a process group of its own" },
	{ "rewrite", "FN_REQUEST_ID rewritten to an unknown id" },
	{ "userns", "unshare -U -r (a user namespace)" },
};

START_TEST(teardown_escapees)
{
	struct hresp a;
	char tag[64];
	pid_t pid;
	int gone;

	ct_tag(tag, sizeof(tag), WAYS[_i].how);
	pid = escape(&a, WAYS[_i].how, NULL, tag);
	if (pid <= 0 && strcmp(WAYS[_i].how, "userns") == 0) {
		hresp_free(&a);
		ct_skip("the function could not make a user namespace "
		    "(unshare -U -r), so nothing escaped");
	}
	ck_assert_msg(pid > 0, "%s: no escapee started:\n%s", WAYS[_i].what,
	    a.body);
	gone = gone_within(pid, GONE_MS);
	if (!gone)
		kill(pid, SIGKILL);
	ck_assert_msg(gone, "%s: the escapee (pid %ld) still ran %d ms after "
	    "its request ended:\n%s", WAYS[_i].what, (long)pid, GONE_MS,
	    a.body);
	hresp_free(&a);
}
END_TEST

/* 1 if a cgroup2 file system is mounted (records take their CPU from a
 * leaf's cpu.stat, which needs no controller). */
static int have_cgroup2(void)
{
	char *m = harness_read_file("/proc/self/mountinfo", NULL);
	int yes = m != NULL && strstr(m, " - cgroup2 ") != NULL;

	free(m);
	return yes;
}

/* Sum of the spinners' spool/spin.I.TAG files (ms of CPU). */
static long spun_ms(const char *tag, long n)
{
	char name[32];
	long sum = 0, v;

	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "spin.%ld", i);
		if ((v = ct_spool_num(name, tag)) > 0)
			sum += v;
	}
	return sum;
}

/* Row 9: the attacker forks 4 children that each burn 1 s of CPU, and
 * never reaps them (it waits until they are done, then ends: its wait4
 * rusage has none of their CPU; the daemon inherits the zombies). The
 * invocation record must count the CPU they burned (the leaf cgroup's
 * cpu.stat counts every descendant, reaped or not); what they burned
 * they wrote into spool files up to their end. Children killed at the
 * request's end would have burned less, and the same must hold. */
START_TEST(row9_cpu_of_forked_spinners)
{
	struct hresp a;
	char tag[64], tag_h[96], rid[64];
	long burned = -1, last;
	double cpu, end;

	if (!have_cgroup2())
		ct_skip("no cgroup2 file system: records cannot take CPU "
		    "from a cgroup here");
	ct_tag(tag, sizeof(tag), "spin");
	snprintf(tag_h, sizeof(tag_h), "X-Tag: %s", tag);
	{
		const char *args[] = { "-H", "X-Act: spin", "-H", tag_h, "-H",
		    "X-N: 4", "-H", "X-Ms: 1000", NULL };

		ct_req(&a, "attacker", args);
	}
	ck_assert_msg(a.status == 200 && ct_has_line(a.body, "SPUN"),
	    "spin: %d %s\n%s", a.status, a.body, ct_log_tail());
	ct_rid(&a, rid, sizeof(rid));
	/* Until the files stop growing: the spinners are done or dead. */
	for (end = harness_now() + 10; harness_now() < end; ) {
		last = burned;
		harness_sleep_ms(300);
		burned = spun_ms(tag, 4);
		if (burned == last)
			break;
	}
	cpu = ct_record_cpu_ms(rid);
	ck_assert_msg(cpu >= 0, "no invocation record for %s\n%s", rid,
	    ct_log_tail());
	ck_assert_msg(burned > 0, "the spinners burned nothing: nothing to "
	    "check");
	ck_assert_msg(cpu + 20 >= (double)burned, "row 9: the attacker's "
	    "children burned %ld ms of CPU, its record says %.1f ms "
	    "(cpu_user_ms + cpu_sys_ms of request %s)", burned, cpu, rid);
	hresp_free(&a);
}
END_TEST

/* ---- isolate still works ------------------------------------------------- */

/* NULL if this process may unshare(flags) (tried in a child), else why
 * not. */
static const char *no_unshare(int flags)
{
	int st = 0;
	pid_t pid = fork();

	if (pid == 0)
		_exit(unshare(flags) == 0 ? 0 : 1);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return "unshare() of that namespace fails here";
	return NULL;
}

START_TEST(isolate_pid_still_works)
{
	const char *why = no_unshare(CLONE_NEWPID | CLONE_NEWNS);
	struct hresp r;

	if (why != NULL)
		ct_skip("%s", why);
	ct_req(&r, "isopid", NULL);
	ck_assert_msg(r.status == 200 && strcmp(r.body, "pid=1 procs=1\n") ==
	    0, "isolate [pid]: want pid 1 alone, got %d %s\n%s", r.status,
	    r.body, ct_log_tail());
	hresp_free(&r);
}
END_TEST

START_TEST(isolate_net_still_works)
{
	const char *why = no_unshare(CLONE_NEWNET);
	struct hresp r;

	if (why != NULL)
		ct_skip("%s", why);
	ct_req(&r, "isonet", NULL);
	ck_assert_msg(r.status == 200 && strcmp(r.body, "if lo\n") == 0,
	    "isolate [net]: want only lo, got %d %s\n%s", r.status, r.body,
	    ct_log_tail());
	hresp_free(&r);
}
END_TEST

void ct_add_teardown(TCase *tc)
{
	tcase_add_test(tc, row8_escapee_adopts_inflight_id);
	tcase_add_test(tc, row9_cpu_of_forked_spinners);
	tcase_add_loop_test(tc, teardown_escapees, 0,
	    (int)(sizeof(WAYS) / sizeof(WAYS[0])));
	tcase_add_test(tc, teardown_spares_other_requests);
}

void ct_add_isolate(TCase *tc)
{
	tcase_add_test(tc, isolate_pid_still_works);
	tcase_add_test(tc, isolate_net_still_works);
}
