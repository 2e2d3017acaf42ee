/* containment.h — the "containment" Check suite (issue 12): one
 * tenant's function (the attacker, tenant A) against another's (the
 * victim, tenant B) under the daemon's default manifest, one test per
 * attack of the table, each asserting that the attack FAILS.
 * Against a daemon without per-function uids, cgroups, private /tmp and
 * IPC namespaces, and a socket only nginx may use, these tests fail:
 * that is the attack working, and the failure message prints what the
 * attacker's function achieved (its body) as the evidence.
 *
 * Both functions are t/tenantfn (see tenantfn.h), copied into the temp
 * dir; the manifest's entries for them name only path, args and (the
 * victim's) env: no user, no isolate, no limits. The daemon runs as
 * root (the suite skips otherwise). The temp dir is made outside /tmp,
 * /var/tmp and /dev/shm, which the functions may get private copies of.
 *
 * containment.c holds the fixture, helpers and main(); the tests are in
 * containment_proc.c (rows 1-5, and separate users), containment_fs.c
 * (rows 6, 7, 11), containment_teardown.c (rows 8, 9, teardown, isolate)
 * and containment_net.c (row 10). */
#ifndef FN_T_CONTAINMENT_H
#define FN_T_CONTAINMENT_H

#include <check.h>
#include <stddef.h>
#include <sys/types.h>

#include "harness.h"
#include "harness_check.h"

/* The victim's env: secret, in the manifest. */
#define CT_SECRET "s3cret-of-the-victim-ct12"
/* Test users for the functions that name a user. */
#define CT_USER_A "fnlcta"
#define CT_USER_B "fnlctb"

/* The manifest every TCase's daemon runs (harness text: @DIR@). */
extern const char ct_manifest[];
/* The fixture's servers. */
extern struct harness *ct_h;
/* The mode `make install` gives the manifest (-1: unknown, see
 * ct_install_err). */
extern int ct_install_mode;
extern char ct_install_err[512];
extern uid_t ct_uid_a, ct_uid_b;

/* SKIP: harness_skip (harness_check.h); the tests here are not loop
 * tests. */
#define ct_skip(...) \
	do { \
		const int _i = 0; \
		harness_skip(__VA_ARGS__); \
	} while (0)

/* A tag no other test uses: what-XXXXXXXX. */
void ct_tag(char *buf, size_t len, const char *what);
/* The last part of the daemon log, for failure messages (static). */
#define ct_log_tail() harness_log_tail(ct_h)
/* GET /fn with curl args (NULL-terminated, may be NULL; e.g. "-H",
 * "X-Act: peek"); curl must have run. */
void ct_req(struct hresp *r, const char *fn, const char *const *args);
/* containment_cgroup.c */
void ct_add_cgroup(TCase *tc);

/* A request running in the background (a forked curl). */
struct ct_bg {
	pid_t pid;
	char file[512];
};
void ct_bg_start(struct ct_bg *bg, const char *fn, const char *const *args);
/* Wait (at most timeout_ms) and fill r: status, X-Request-Id in
 * r->headers ("X-Request-Id: ..."), body. */
void ct_bg_wait(struct ct_bg *bg, struct hresp *r, int timeout_ms);

/* The victim, running: its tag, pid and request id (from its marker). */
struct ct_victim {
	char tag[64];
	char fn[64];
	pid_t pid;
	char rid[40];
	struct ct_bg bg;
};
/* Start fn (the victim's act: hold) with tag `what`-..., extra curl args
 * (may be NULL), and wait until it runs. */
void ct_victim_start(struct ct_victim *v, const char *fn, const char *what,
    const char *const *args);
/* Let it finish and take its response. */
void ct_victim_end(struct ct_victim *v, struct hresp *r);
/* Its response is exactly what it wrote: 200, "victim TAG start",
 * middle (lines it adds as asked; may be ""), "nice=0", "victim TAG
 * end". */
void ct_assert_victim_intact(const struct ct_victim *v,
    const struct hresp *r, const char *middle, const char *what);
/* "X-Pid: PID" of the victim into buf, for the attacker. */
const char *ct_pid_header(const struct ct_victim *v, char *buf, size_t len);

/* The attacker's body has no line that starts with a verb of success
 * (tenantfn.h) and does not contain CT_SECRET; else fail with what and
 * the body. */
void ct_assert_attack_failed(const struct hresp *a, const char *what);
/* 1 if a line of text starts with word. */
int ct_has_line(const char *text, const char *word);

/* CPU of the invocation record of request rid (user + sys, ms), waiting
 * up to 3 s for it in the daemon log; -1 if absent. */
double ct_record_cpu_ms(const char *rid);
/* X-Request-Id of r into buf ("" if absent). */
const char *ct_rid(const struct hresp *r, char *buf, size_t len);
/* Number in spool/NAME.TAG's first line; -1 if absent. */
long ct_spool_num(const char *name, const char *tag);
/* Wait up to ms for spool/NAME.TAG; 1 if it is there. */
int ct_spool_wait(const char *name, const char *tag, int ms);
/* 1 if pid runs (not a zombie). */
int ct_alive(pid_t pid);
/* SIGKILL what a test left of its functions: every process whose
 * command line names the temp dir's bin/ (only ours are there). */
int ct_kill_leftovers(void);

/* Each file adds its tests. */
void ct_add_proc(TCase *tc);       /* rows 1-5 */
void ct_add_users(TCase *tc);      /* rows 1-4 with separate users */
void ct_add_fs(TCase *tc);         /* rows 6, 7 */
void ct_add_secrets(TCase *tc);    /* row 11 */
void ct_add_teardown(TCase *tc);   /* rows 8, 9, the teardown tests */
void ct_add_isolate(TCase *tc);    /* isolate still works */
void ct_add_net(TCase *tc);        /* row 10 */

#endif
