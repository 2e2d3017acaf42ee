/* faults_teardown.c — the invocation's processes go, whatever they do:
 * one that ignores SIGTERM (4), a fork bomb under nproc (5), a setsid
 * grandchild holding stdout (6), a function that closes stdout and
 * lives on (7), a client that goes away mid-stream (16). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "faults.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- 4: ignores SIGTERM ---------------------------------------------- */

START_TEST(f4_ignores_sigterm)
{
	char rid[64], env[96], desc[1024];
	const char *const one[] = { env, NULL };
	struct faults_snap b;
	struct hresp r;
	double t0 = harness_now(), secs, gone;
	int n;

	faults_snap(&b);
	faults_curl(&r, "/noterm", NULL, &secs);
	faults_assert_answer("fault 4", &r, 504, "timeout", NULL);
	faults_rid_of(&r, rid, sizeof(rid));
	hresp_free(&r);
	snprintf(env, sizeof(env), "FN_REQUEST_ID=%s", rid);
	n = harness_procs(one, -1, 5000, desc, sizeof(desc));
	gone = harness_now() - t0;
	faults_report(4, "ignores_sigterm", "answered in %.0f ms, processes "
	    "gone at %.0f ms", secs * 1000, gone * 1000);
	ck_assert_msg(secs >= 0.9 && secs < 4, "504 after %.3f s, want ~1 s",
	    secs);
	/* Without SIGKILL after the grace it would never go. */
	ck_assert_msg(n == 0 && gone < 5, "%d process(es) left %.3f s after "
	    "the request (timeout 1 s + kill_grace 1 s): %s", n, gone, desc);
	faults_settle("fault 4", rid, &b);
}
END_TEST

/* ---- 5: fork bomb under nproc (root only) ------------------------------ */

/* Under the test user: RLIMIT_NPROC counts every process of a uid and
 * never applies to root, and creating the user needs root. */
START_TEST(f5_fork_bomb)
{
	char rid[64], desc[2048];
	uid_t uid;
	gid_t gid;
	struct faults_snap b;
	struct hresp r;
	double secs;
	int stop[2], res[2], max = 0, n;
	pid_t sampler;

	harness_skip_if(harness_not_root());
	ck_assert_int_eq(harness_ensure_user(FAULTS_USER, &uid, &gid), 0);
	harness_procs_kill(NULL, (long)uid);
	n = harness_procs(NULL, (long)uid, FAULTS_SETTLE_MS, desc,
	    sizeof(desc));
	ck_assert_msg(n == 0, "processes of %s before the test: %s",
	    FAULTS_USER, desc);
	faults_snap(&b);
	/* A sampler counts the user's processes while the request runs,
	 * zombies too: the bomb's shells exec sleep and never reap. */
	ck_assert_int_eq(pipe(stop), 0);
	ck_assert_int_eq(pipe(res), 0);
	sampler = fork();
	ck_assert_int_ne(sampler, -1);
	if (sampler == 0) {
		struct pollfd pfd = { .fd = stop[0], .events = POLLIN };

		close(stop[1]);
		while (poll(&pfd, 1, 5) == 0) {
			n = harness_uid_tasks((long)uid);
			max = n > max ? n : max;
		}
		_exit(write(res[1], &max, sizeof(max)) == sizeof(max) ? 0 : 1);
	}
	close(stop[0]);
	close(res[1]);
	faults_curl(&r, "/bomb", NULL, &secs);
	close(stop[1]);
	ck_assert_int_eq(read(res[0], &max, sizeof(max)), sizeof(max));
	close(res[0]);
	waitpid(sampler, NULL, 0);
	faults_report(5, "fork_bomb", "answered in %.0f ms (%d), at most %d "
	    "processes of %s", secs * 1000, r.status, max, FAULTS_USER);
	faults_assert_answer("fault 5", &r, 504, "timeout", NULL);
	faults_rid_of(&r, rid, sizeof(rid));
	hresp_free(&r);
	ck_assert_msg(secs >= 2.9 && secs < 6, "504 after %.3f s, want ~3 s",
	    secs);
	ck_assert_msg(max <= 20, "%d processes of %s at once, nproc is 20",
	    max, FAULTS_USER);
	ck_assert_msg(max >= 10, "only %d processes of %s: the bomb did not "
	    "go off", max, FAULTS_USER);
	faults_assert_gone("fault 5 (user " FAULTS_USER ")", NULL, (long)uid);
	faults_settle("fault 5", rid, &b);
}
END_TEST

/* ---- 6, 7: the answer comes, what was left running goes --------------- */

START_TEST(f6_setsid_grandchild)
{
	char rid[64], rel[128], path[512], *pidtxt;
	struct faults_snap b;
	struct hresp r;
	double secs;

	faults_snap(&b);
	faults_curl(&r, "/escape", NULL, &secs);
	faults_assert_answer("fault 6", &r, 200, NULL, NULL);
	ck_assert_str_eq(r.body, "parent done\n");
	faults_rid_of(&r, rid, sizeof(rid));
	hresp_free(&r);
	snprintf(rel, sizeof(rel), "spool/escape.%s", rid);
	ck_assert_int_eq(harness_path(faults_h, rel, path, sizeof(path)), 0);
	pidtxt = harness_read_file(path, NULL);
	ck_assert_msg(pidtxt != NULL, "the grandchild never ran");
	pidtxt[strcspn(pidtxt, "\n")] = '\0';
	faults_report(6, "setsid_grandchild", "answered in %.0f ms "
	    "(grandchild pid %s)", secs * 1000, pidtxt);
	free(pidtxt);
	ck_assert_msg(secs < FAULTS_PROMPT_S, "answered after %.3f s: held by "
	    "the grandchild's stdout", secs);
	faults_settle("fault 6", rid, &b);
}
END_TEST

START_TEST(f7_closes_stdout)
{
	char rid[64], env[96], desc[1024];
	const char *const one[] = { env, NULL };
	struct faults_snap b;
	struct hresp r;
	double secs, t_answer, gone;
	int n;

	faults_snap(&b);
	faults_curl(&r, "/closer", NULL, &secs);
	t_answer = harness_now();
	faults_assert_answer("fault 7", &r, 200, NULL, NULL);
	ck_assert_str_eq(r.body, "closed early\n");
	faults_rid_of(&r, rid, sizeof(rid));
	hresp_free(&r);
	snprintf(env, sizeof(env), "FN_REQUEST_ID=%s", rid);
	n = harness_procs(one, -1, FAULTS_PROMPT_S * 1000, desc, sizeof(desc));
	gone = harness_now() - t_answer;
	faults_report(7, "closes_stdout", "answered in %.0f ms, process gone "
	    "%.0f ms later%s", secs * 1000, gone * 1000,
	    n ? " (NOT gone)" : "");
	ck_assert_msg(secs < FAULTS_PROMPT_S, "answered after %.3f s", secs);
	ck_assert_msg(n == 0 && gone < FAULTS_PROMPT_S, "%d process(es) still "
	    "running %.1f s after the response ended (kill_grace 1 s, timeout "
	    "20 s): %s", n, gone, desc);
	faults_settle("fault 7", rid, &b);
}
END_TEST

/* ---- 16: the client goes away ---------------------------------------- */

START_TEST(f16_client_disconnects)
{
	static const char *const args[] = { "--max-time", "1", NULL };
	char rid[64], env[96], desc[1024];
	const char *const one[] = { env, NULL };
	struct faults_snap b;
	struct hresp r;
	double secs, t_gaveup, gone;
	int n;

	faults_snap(&b);
	faults_curl(&r, "/ticker", args, &secs);
	t_gaveup = harness_now();
	ck_assert_msg(r.curl_rc == 28, "curl exited %d, want 28 (time out)",
	    r.curl_rc);
	faults_assert_answer("fault 16", &r, 200, NULL, NULL);
	ck_assert_msg(strstr(r.body, "tick 0\n") != NULL, "no tick streamed: "
	    "%s", r.body);
	faults_rid_of(&r, rid, sizeof(rid));
	hresp_free(&r);
	snprintf(env, sizeof(env), "FN_REQUEST_ID=%s", rid);
	n = harness_procs(one, -1, FAULTS_PROMPT_S * 1000, desc, sizeof(desc));
	gone = harness_now() - t_gaveup;
	faults_report(16, "client_disconnects", "curl gave up after %.0f ms, "
	    "processes gone %.0f ms later", secs * 1000, gone * 1000);
	ck_assert_msg(n == 0 && gone < FAULTS_PROMPT_S, "%d process(es) left "
	    "%.3f s after the client went away: %s", n, gone, desc);
	faults_assert_record(rid, "\"outcome\":\"client_abort\"");
	faults_settle("fault 16", rid, &b);
}
END_TEST

void faults_add_teardown(TCase *tc)
{
	tcase_add_test(tc, f4_ignores_sigterm);
	tcase_add_test(tc, f6_setsid_grandchild);
	tcase_add_test(tc, f7_closes_stdout);
	tcase_add_test(tc, f16_client_disconnects);
}

void faults_add_user(TCase *tc)
{
	tcase_add_test(tc, f5_fork_bomb);
}
