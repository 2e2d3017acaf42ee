/* launch.h — start an invocation's process: when the daemon is root,
 * its user and group and the suEXEC-style checks of the executable
 * (execcheck.h); its three pipes; the spawn (spawnproc.h) with the
 * function's limits, umask, working folder and isolation. */
#ifndef FN_LAUNCH_H
#define FN_LAUNCH_H

#include <sys/types.h>

#include "pump.h"

struct launch {
	pid_t pid;
	int pidfd;
	/* Its kept mount namespace (nspool.h), or NULL: the caller gives it
	 * back once nothing of the invocation runs. */
	struct nsslot *slot;
	int in_fd, out_fd, err_fd;      /* our ends, non-blocking */
	/* When it did not start: the answer to give. */
	int status;                     /* 403, 500 or 502 */
	const char *code;               /* refused, spawn_failed, exec_failed */
	char msg[512];
};

/* Start INV->fn's process, in the cgroup leaf CGROUP_FD (-1: none).
 * 0, or -1 (logged, INV->outcome set) with L's answer filled in. */
int launch_start(struct invocation *inv, int cgroup_fd, struct launch *l);

#endif
