/* containment_proc.c — issue 12, rows 1 to 5: the attacker's function
 * goes for the victim's process while the victim runs (it holds until
 * the test releases it): its environment and memory, ptrace, its pipes
 * through pidfd_getfd(2), signals and nice, and the process budget.
 * Each test asserts that the attacker achieved nothing and that the
 * victim's response is exactly what the victim wrote.
 *
 * The same attacks with a user of its own for each tenant (user: in the
 * manifest) must fail too: that is what separate users already stop
 * (users_*), and a named user must still be the function's identity. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "containment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The victim holds (with vargs, may be NULL) while the attacker runs
 * act on it; then the attacker must have achieved nothing, and the
 * victim's response must be what it wrote (middle: the lines it adds). */
static void attack(const char *victim, const char *attacker,
    const char *act, const char *const *vargs, const char *middle,
    const char *what)
{
	struct ct_victim v;
	struct hresp a, b;
	char ph[64], act_h[64];

	ct_victim_start(&v, victim, act, vargs);
	snprintf(act_h, sizeof(act_h), "X-Act: %s", act);
	{
		const char *args[] = { "-H", act_h, "-H",
		    ct_pid_header(&v, ph, sizeof(ph)), NULL };

		ct_req(&a, attacker, args);
	}
	ct_victim_end(&v, &b);
	ct_assert_attack_failed(&a, what);
	ct_assert_victim_intact(&v, &b, middle, what);
	hresp_free(&a);
	hresp_free(&b);
}

/* Row 1: env: secrets from /proc/PID/environ, /proc/PID/mem and
 * process_vm_readv. */
static void attack_peek(const char *victim, const char *attacker)
{
	attack(victim, attacker, "peek", NULL, "",
	    "row 1: the victim's environ and memory");
}

/* Row 2: ptrace the victim, make it write into its own response. */
static void attack_ptrace(const char *victim, const char *attacker)
{
	attack(victim, attacker, "ptrace", NULL, "", "row 2: ptrace");
}

/* Row 3: take the victim's stdin (its POST body) and stdout (its
 * response) with pidfd_getfd(2). The body is a secret of its own: the
 * attacker's output must not have it either (ct_assert_attack_failed
 * looks for READ). */
static void attack_pidfd(const char *victim, const char *attacker)
{
	char body[64], middle[128];
	const char *vargs[] = { "-H", "X-Read-Body: 1", "--data-binary", body,
	    NULL };

	ct_tag(body, sizeof(body), "post-body-secret");
	snprintf(middle, sizeof(middle), "body=%s\n", body);
	attack(victim, attacker, "pidfd", vargs, middle,
	    "row 3: pidfd_getfd");
}

/* Row 4: renice, SIGSTOP (then SIGCONT), SIGKILL. */
static void attack_signal(const char *victim, const char *attacker)
{
	attack(victim, attacker, "signal", NULL, "",
	    "row 4: kill, SIGSTOP, renice");
}

START_TEST(row1_environ_and_mem)
{
	attack_peek("victim", "attacker");
}
END_TEST

START_TEST(row2_ptrace_writes_response)
{
	attack_ptrace("victim", "attacker");
}
END_TEST

START_TEST(row3_pidfd_getfd_pipes)
{
	attack_pidfd("victim", "attacker");
}
END_TEST

START_TEST(row4_kill_stop_renice)
{
	attack_signal("victim", "attacker");
}
END_TEST

/* Row 5: the attacker forks until the kernel refuses (nproc) and holds
 * its children; meanwhile the victim forks once. The victim's fork must
 * work: one tenant's bomb must not reach another's budget. Bounded: at
 * most 512 children, all gone 3 s after they started. */
START_TEST(row5_fork_bomb_nproc)
{
	struct ct_victim v;
	struct ct_bg abg;
	struct hresp a, b;
	char tag[64], tag_h[96];
	long forked;

	{
		const char *args[] = { "-H", "X-Fork: 1", NULL };

		ct_victim_start(&v, "victim", "bomb-victim", args);
	}
	ct_tag(tag, sizeof(tag), "bomb");
	snprintf(tag_h, sizeof(tag_h), "X-Tag: %s", tag);
	{
		const char *args[] = { "-H", "X-Act: bomb", "-H", tag_h, "-H",
		    "X-Hold-Ms: 3000", NULL };

		ct_bg_start(&abg, "attacker", args);
	}
	ck_assert_msg(ct_spool_wait("bomb", tag, 15000), "the bomb did not "
	    "go off");
	forked = ct_spool_num("bomb", tag);
	ct_victim_end(&v, &b);         /* the victim forks now */
	ct_bg_wait(&abg, &a, 30000);
	ck_assert_msg(ct_has_line(a.body, "BOMB"), "the bomb said nothing: %d "
	    "%s", a.status, a.body);
	ck_assert_msg(strstr(b.body, "fork=ok\n") != NULL, "row 5: the "
	    "attacker's fork bomb (%ld children) took the victim's process "
	    "budget; the victim said:\n%s\n--- the attacker said:\n%s", forked,
	    b.body, a.body);
	ct_assert_victim_intact(&v, &b, "fork=ok\n", "row 5: fork bomb");
	hresp_free(&a);
	hresp_free(&b);
}
END_TEST

/* ---- separate users (still stops rows 1-4) ------------------------------ */

static void (*const USER_ROWS[])(const char *, const char *) = {
	attack_peek, attack_ptrace, attack_pidfd, attack_signal,
};

START_TEST(users_rows_1_to_4)
{
	USER_ROWS[_i]("victim_u", "attacker_u");
}
END_TEST

/* A function that names a user runs as that user, not as a uid of its
 * own (the default for functions that name none). */
START_TEST(users_named_user_is_used)
{
	char want[64];
	struct hresp r;
	const char *args[] = { "-H", "X-Act: id", NULL };

	ct_req(&r, "attacker_u", args);
	snprintf(want, sizeof(want), "uid=%ld euid=%ld ", (long)ct_uid_a,
	    (long)ct_uid_a);
	ck_assert_msg(r.status == 200 && strncmp(r.body, want, strlen(want)) ==
	    0, "user: %s: want %s..., got %d %s", CT_USER_A, want, r.status,
	    r.body);
	hresp_free(&r);
}
END_TEST

void ct_add_proc(TCase *tc)
{
	tcase_add_test(tc, row1_environ_and_mem);
	tcase_add_test(tc, row2_ptrace_writes_response);
	tcase_add_test(tc, row3_pidfd_getfd_pipes);
	tcase_add_test(tc, row4_kill_stop_renice);
	tcase_add_test(tc, row5_fork_bomb_nproc);
}

void ct_add_users(TCase *tc)
{
	tcase_add_loop_test(tc, users_rows_1_to_4, 0,
	    (int)(sizeof(USER_ROWS) / sizeof(USER_ROWS[0])));
	tcase_add_test(tc, users_named_user_is_used);
}
