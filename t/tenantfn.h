/* tenantfn.h — a hostile tenant's function, for t/containment: one
 * executable that the containment manifest runs as every function (the
 * victim, tenant B, and the attacker, tenant A), so that what tells the
 * functions apart is only their name and their manifest entry — exactly
 * what tells two tenants apart under the daemon's defaults.
 *
 * Command line: tenantfn SPOOL [ACT [ARG...]]. SPOOL is the harness's
 * spool/ folder (markers for the test). The act comes from argv[2], else
 * from the request header X-Act (HTTP_X_ACT), else "hold" (the victim's
 * act). Parameters come from request headers: X-Tag (names markers and
 * files), X-Pid (the victim's pid), X-Hold-Ms, ...
 *
 * Output: a CGI response (text/plain) whose body is one line per thing
 * the act tried, written as it goes (line-buffered), so that what was
 * done before a failure is there too. An attack that worked says so with
 * one of these verbs at the start of its line:
 *
 *   READ ATTACHED INJECTED STOPPED RENICED KILLED SEEN SQUATTED GOT
 *
 * and one that did not with "DENIED what: errno text" (or ABSENT,
 * REFUSED). The tests assert on those words, and print the body as the
 * evidence when an attack succeeds. Each act is one function in
 * tenantfn_*.c, listed in tenantfn.c. */
#ifndef FN_T_TENANTFN_H
#define FN_T_TENANTFN_H

#include <stddef.h>
#include <sys/types.h>

/* What every act gets. */
struct tfn {
	const char *spool;      /* argv[1] */
	const char *self;       /* /proc/self/exe's path, for re-exec */
	const char *tag;        /* X-Tag, or "" */
	char **argv;            /* argv[3..]: the act's own arguments */
	int argc;
};

/* One line to stdout (a newline is added). */
void tfn_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A request header's value (HTTP_X_name with '-' as '_' and upper
 * case: tfn_hdr("HOLD_MS")), or def when absent. */
const char *tfn_hdr(const char *name, const char *def);
/* The same as a number in [min, max]; def when absent or malformed. */
long tfn_hdr_num(const char *name, long def, long min, long max);
/* spool/NAME.TAG into buf; -1 if it does not fit. */
int tfn_spool_path(const struct tfn *t, const char *name, char *buf,
    size_t len);
/* Write text to path atomically (a temp file, then rename), mode 0644. */
int tfn_write_marker(const char *path, const char *text);
/* A small file's text (up to 4 KiB), NUL-terminated; the caller frees.
 * NULL if it cannot be read. */
char *tfn_read_small(const char *path);
/* Leave a process behind (see tfn_escape for how), running "linger"
 * with marker spool/NAME.TAG; waits up to 3 s for the marker. Its pid,
 * or -1. */
pid_t tfn_leave_behind(const struct tfn *t, const char *how,
    const char *name);
/* 1 if path exists. */
int tfn_exists(const char *path);
/* Sleep ms milliseconds (through EINTR). */
void tfn_sleep_ms(long ms);
/* Milliseconds on the monotonic clock. */
long long tfn_now_ms(void);
/* The victim's pid from X-Pid; -1 (and a DENIED line) when absent. */
pid_t tfn_target(void);

/* The acts (tenantfn_*.c). 0 when the act ran (whatever it achieved). */
int tfn_hold(struct tfn *t);       /* the victim */
int tfn_whoami(struct tfn *t);     /* REMOTE_ADDR, FN_NAME, uid */
int tfn_id(struct tfn *t);         /* uid, gid, groups */
int tfn_pid1(struct tfn *t);       /* own pid and the pids in /proc */
int tfn_netdev(struct tfn *t);     /* interfaces in /proc/net/dev */
int tfn_peek(struct tfn *t);       /* row 1: environ, mem */
int tfn_ptrace(struct tfn *t);     /* row 2 */
int tfn_pidfd(struct tfn *t);      /* row 3 */
int tfn_signal(struct tfn *t);     /* row 4 */
int tfn_bomb(struct tfn *t);       /* row 5 */
int tfn_tmpw(struct tfn *t);       /* row 6: write files */
int tfn_tmpr(struct tfn *t);       /* row 6: look for them */
int tfn_tmpmess(struct tfn *t);    /* the kept /tmp: leave a mess */
int tfn_tmpls(struct tfn *t);      /* the kept /tmp: what is left */
int tfn_squat(struct tfn *t);      /* row 6: plant 0666 files */
int tfn_shm(struct tfn *t);        /* row 7: leave a segment */
int tfn_shmr(struct tfn *t);       /* row 7: look for it */
int tfn_escape(struct tfn *t);     /* row 8 and the teardown tests */
int tfn_linger(struct tfn *t);     /* what an escapee runs */
int tfn_spin(struct tfn *t);       /* row 9 */
int tfn_fcgi(struct tfn *t);       /* row 10 */
int tfn_manifest(struct tfn *t);   /* row 11 */

/* Directories a function shares with the others unless it gets its own:
 * /tmp, /var/tmp, /dev/shm, /run/lock; NULL-terminated. */
extern const char *const tfn_shared_dirs[];

#endif
