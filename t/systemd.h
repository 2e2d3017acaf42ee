/* systemd.h — t/systemd: the README's "Deploying with systemd and nginx"
 * in a booted Debian 12 container (systemd-nspawn). systemd_ct.c makes
 * and boots the container and runs commands in it; systemd.c has the
 * tests and main(). */
#ifndef FN_T_SYSTEMD_H
#define FN_T_SYSTEMD_H

#include <stddef.h>
#include <sys/types.h>

/* The one container of this run. */
struct ct {
	char image[256];    /* the cached debootstrap tree (read-only lower) */
	char work[128];     /* temp dir on the host: logs, the source tar */
	pid_t nspawn;       /* systemd-nspawn, our child; 0 when not running */
	pid_t init;         /* the container's PID 1, as the host sees it */
};
extern struct ct ct;

/* Seconds on the monotonic clock, and a "TIME: what: N.N s" line in the
 * test log. */
double ct_now(void);
void ct_time(const char *what, double since);

/* Why the container cannot be had here, for the SKIP line. */
extern char ct_why[1024];

/* Each returns 0, or -1 with ct_why set. ct_image: the cached Debian 12
 * tree (debootstrapped when missing or incomplete; *cached tells
 * which). ct_boot: boot it with a throw-away overlay and wait until
 * systemd is up. */
int ct_image(int *cached);
int ct_boot(void);
/* Power the container off (SIGTERM to systemd-nspawn: an orderly
 * shutdown), wait, and remove the work dir. The image stays. */
void ct_poweroff(void);

/* The tree under test as a tar on the host (the files git tracks or
 * would track, as they are in the working tree; else "make dist"):
 * 0 with its path in tar and the tar option that strips its top folder
 * ("" or "--strip-components=1") in strip; -1 with ct_why set. */
int ct_source_tar(char *tar, size_t len, const char **strip);

/* Run script with /bin/sh inside the container as root, stdin from
 * in_path (NULL: /dev/null), for at most timeout_ms. *out (may be NULL;
 * the caller frees) gets stdout and stderr together. Returns the exit
 * code, or -1 if it could not run, was killed or timed out. */
int ct_sh(const char *script, const char *in_path, char **out,
    int timeout_ms);
/* The same in the background, stdout and stderr to the host file
 * out_path. Returns the pid (reap it with harness_wait_ms) or -1. */
pid_t ct_sh_bg(const char *script, const char *out_path);
/* Run printf-formatted script; its output, trimmed of the last newline,
 * into buf (truncated to len). Returns the exit code as ct_sh does. */
int ct_shf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
