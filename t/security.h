/* security.h — shared parts of the "security" Check suite: the servers
 * the fixtures start, the test users, and helpers. One file per area adds
 * its tests: security_id.c (identity, exec checks, isolate),
 * security_env.c (environment), security_raw.c (raw FastCGI, TCP
 * allow_from), security_manifest.c (fnlauncher -t on bad input). */
#ifndef FN_T_SECURITY_H
#define FN_T_SECURITY_H

#include <check.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "harness_check.h"

#define SEC_TENANT "fnlsec"          /* primary group fnlsec, + fnlsecx */
#define SEC_TENANT_XGROUP "fnlsecx"
#define SEC_OTHER_USER "fnlsec2"
#define SEC_PATH_ENV \
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The fixture's servers (NULL outside a TCase that has them). */
extern struct harness *sec_h;
/* Test identities, set by the binary's setup when root. */
extern uid_t sec_tenant_uid, sec_other_uid;
extern gid_t sec_tenant_gid, sec_xgroup_gid, sec_other_gid;

/* 1 if a daemon message line ("fnlauncher: ...", not an invocation
 * record) names function fn and contains one of any_of (NULL terminated)
 * and `also` (NULL: not needed), case-insensitively. */
int sec_log_says(const char *fn, const char *const *any_of,
    const char *also);
/* curl through nginx; the request itself must complete. */
#define sec_req(r, path, args) harness_req(sec_h, (r), (path), (args))
#define SEC_ASSERT_STATUS(r, want, what) \
	ck_assert_msg((r)->status == (want), \
	    "%s: status %d, want %d; body:\n%.600s\nlog tail:\n%s", (what), \
	    (r)->status, (want), (r)->body, harness_log_tail(sec_h))
/* SPEC 7 (harness_assert_error on the fixture's servers). */
#define sec_assert_error(r, status, code, what) \
	harness_assert_error(sec_h, (r), (status), (code), (what))
/* The daemon still runs (same pid) and GET /hello through nginx is 200. */
void sec_assert_daemon_serves(const char *after);
/* Poll up to ms for the daemon's thread count to drop to base or less;
 * returns the last count. */
long sec_threads_settle(long base, int ms);

/* fork + execve with stdin and stderr on /dev/null, stdout on out_fd
 * (-1: /dev/null), RLIMIT_AS as_limit if non-zero; dies with us.
 * Returns the pid (-1 on error). */
pid_t sec_run_child(const char *const *argv, const char *const *envp,
    int out_fd, rlim_t as_limit);
/* Wait up to ms for pid: 1 with *status; 0 after SIGKILL on timeout. */
int sec_wait_bounded(pid_t pid, int ms, int *status);
/* `$FNL_BIN -t -c file` under RLIMIT_AS 512 MiB (none for a sanitizer
 * build) for at most 5 s: *out (caller frees) gets stdout, *status the
 * wait status. Returns 1 when it ended, 0 when it had to be killed. */
int sec_check_manifest(const char *file, char **out, int *status);

/* Each area adds its tests to a TCase the suite set up. */
void sec_add_identity(TCase *tc);   /* root */
void sec_add_exec_checks(TCase *tc); /* root */
void sec_add_isolate(TCase *tc);    /* root */
void sec_add_env(TCase *tc);
void sec_add_raw(TCase *tc);
void sec_add_manifest(TCase *tc);

#endif
