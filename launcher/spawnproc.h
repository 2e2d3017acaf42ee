/* spawnproc.h — start one function process (the child side of SPEC.md
 * section 5): own session, fds 0/1/2 only, rlimits, umask, cwd, signal
 * mask and dispositions reset, then execve.
 *
 * The child is started with clone(CLONE_VM | CLONE_VFORK): no page tables
 * are copied, so the cost does not grow with the daemon's size, and an
 * exec failure is reported synchronously through shared memory. */
#ifndef FN_SPAWNPROC_H
#define FN_SPAWNPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "identity.h"
#include "manifest.h"

struct spawn_req {
	const char *path;          /* executable */
	char *const *argv;
	char *const *envp;
	const char *cwd;           /* NULL: stay in the daemon's cwd */
	mode_t umask;
	struct rlimit rl[FN_RLIMIT_COUNT]; /* applied soft = hard */
	int fd_in, fd_out, fd_err; /* become the child's 0, 1, 2 */
	const struct identity *id; /* NULL: keep the daemon's identity */
	unsigned isolate;          /* enum fn_isolate bits (root) */
	uint64_t tmp_size;         /* isolate tmp: bytes of the tmpfs */
	int cgroup_fd;             /* the invocation's cgroup leaf; -1: none */
	int mnt_fd;                /* a kept mount namespace to enter (isolate
	                            * tmp from nspool.h); -1: none */
	int ipc_fd;                /* a kept IPC namespace to enter (isolate
	                            * ipc from nspool.h); -1: a new one */
};

struct spawn_res {
	pid_t pid;
	int pidfd;                 /* readable when the child exits */
	int err;                   /* errno of the failed step, else 0 */
	const char *step;          /* which step failed ("execve", ...) */
	bool started;              /* false: nothing runs (fork/exec failed) */
};

/* Note which signal dispositions the child must reset. Call again after
 * the daemon changes any (spawn_start calls it once if nobody did). */
void spawn_init(void);

/* Fill REQ's rlimits from a function's limits (FN_UNLIMITED -> infinity). */
void spawn_limits(struct spawn_req *req, const uint64_t limits[FN_LIMIT_COUNT]);

/* Start the process. Returns 0 with RES->pid/pidfd set; -1 when clone
 * failed (RES->step "clone", errno in RES->err) or when a step in the
 * child failed (RES->step names it, RES->err its errno; the child has
 * been reaped). Safe to call from any thread. */
int spawn_start(const struct spawn_req *req, struct spawn_res *res);

/* isolate tmp's folders: /tmp, /var/tmp, /dev/shm, /run/lock. */
#define SPAWN_TMP_DIRS 4

/* The nice value of each function's autogroup (its session). */
#ifndef FN_AUTOGROUP_NICE
#define FN_AUTOGROUP_NICE "10"
#endif
extern const char *const spawn_tmp_names[SPAWN_TMP_DIRS];
/* Which of them get a tmpfs here (bit i: spawn_tmp_names[i]): /tmp
 * always, the others where they are folders, not symlinks. */
unsigned spawn_tmp_dirs(void);
/* A /dev/mqueue is there (isolate ipc mounts a fresh one). */
bool spawn_needs_mqueue(void);
/* The tmpfs options for SIZE bytes (FN_UNLIMITED: none) into BUF. */
void spawn_tmp_opts(uint64_t size, char *buf, size_t len);
/* Mount a tmpfs with OPTS on each of DIRS (system calls only: for a
 * child between fork and exec). 0, or -1 (errno). */
int spawn_mount_tmp(unsigned dirs, const char *opts);

#endif
