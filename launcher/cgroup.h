/* cgroup.h — a cgroup v2 leaf per invocation.
 *
 * Every invocation starts directly in a new leaf (clone3 with
 * CLONE_INTO_CGROUP), is torn down with one write to its cgroup.kill —
 * every process in it, whatever its session, process group or
 * environment — and is waited for on cgroup.events ("populated 0")
 * before its slot is released; then the leaf's cpu.stat (every
 * descendant, reaped or not) and, where the memory controller is on,
 * memory.peak and memory.events give its usage, and the leaf goes.
 * Where the controllers are enabled in the subtree, the function's
 * limits become memory.max (memory.swap.max 0, memory.oom.group 1),
 * pids.max and cpu.max.
 *
 * Where leaves go (manifest "cgroup"):
 *   auto  the daemon's own cgroup. Under systemd with Delegate=yes it is
 *         the unit's: the daemon moves itself into a leaf "daemon" (a
 *         cgroup with processes may not enable controllers for its
 *         children) and enables what it may. In the root cgroup (no
 *         systemd), a folder "fnlauncher.PID" of its own. `invoke` never
 *         moves itself: it uses "fnlauncher.PID" under its cgroup.
 *   off   none.
 *   PATH  that folder (made if missing).
 * Without a cgroup v2 folder it may write, the daemon says once why, and
 * falls back to process groups, the subreaper and FN_REQUEST_ID. */
#ifndef FN_CGROUP_H
#define FN_CGROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "manifest.h"
#include "preflight.h"

struct cgleaf {
	int dirfd;                /* the leaf; -1: none (no cgroup) */
	int events_fd;            /* its cgroup.events */
	int parent_fd;            /* the folder it is in, to remove it */
	char name[48];
};

struct cgroup_usage {
	uint64_t user_us, sys_us; /* cpu.stat */
	bool memory;              /* the memory controller is on: */
	uint64_t memory_peak;     /*   memory.peak, bytes */
	uint64_t oom_kills;       /*   memory.events oom_kill */
};

/* Where leaves go from now on, after M's "cgroup" (start-up, reload).
 * Logs what it uses, or once per cause why none. DAEMON: may move this
 * process into a leaf of its own cgroup (not for invoke). */
void cgroup_setup(const struct manifest *m, bool daemon);

/* Leaves are made (false: the fallback is in use). */
bool cgroup_active(void);

/* Remove the folder cgroup_setup made, if any (at exit). */
void cgroup_cleanup(void);

/* For -t: what the daemon would use (a PREFLIGHT_INFO line), or what it
 * would fall back to (a warning). */
void cgroup_describe(const struct manifest *m, preflight_report report,
    void *arg);

/* Each tenant of M gets a folder "t-NAME" for its leaves, with its
 * budget (memory.max, pids.max, cpu.max) where the controllers are on.
 * At start-up and on reload, after cgroup_setup. */
void cgroup_tenants_setup(const struct manifest *m);

/* A new leaf for request REQUEST_ID of FN, with FN's limits. With no
 * cgroup in use, L->dirfd is -1 and 0 is returned. -1 (logged) when the
 * leaf could not be made. */
int cgroup_leaf_new(struct cgleaf *l, const char *request_id,
    const struct fn_spec *fn);

/* true while a process is in L. */
bool cgroup_leaf_populated(const struct cgleaf *l);

/* Kill every process in L, and wait up to TIMEOUT_MS until none is
 * left (REAP(ARG), called meanwhile, reaps what comes to the daemon).
 * 0 when L is empty, 1 when it was already (nothing was killed), -1
 * when it is not empty in time. */
int cgroup_leaf_kill(struct cgleaf *l, int timeout_ms,
    void (*reap)(void *), void *arg);

/* What L's processes used. */
void cgroup_leaf_usage(const struct cgleaf *l, struct cgroup_usage *u);

/* Remove L (it must be empty). A no-op for dirfd -1. */
void cgroup_leaf_free(struct cgleaf *l);

#endif
