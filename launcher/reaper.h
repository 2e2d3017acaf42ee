/* reaper.h — find, kill and reap processes that escaped an invocation's
 * process group (setsid + double fork). See reaper.c. */
#ifndef FN_REAPER_H
#define FN_REAPER_H

#include <stdbool.h>

/* Make the daemon a child subreaper. Call once, from the main thread,
 * before any thread is started. Returns 0 or -1. */
int reaper_init(void);

/* Whether sweeps kill orphans (true, the default) or only reap the dead
 * ones (every invocation in a cgroup leaf: cgroup.kill does the rest). */
void reaper_kill_orphans(bool yes);

/* Kill and reap every orphan of REQUEST_ID, every orphan without one, and
 * every orphan whose invocation is no longer in flight (inflight.h). REQUEST_ID may be
 * NULL (housekeeping). */
void reaper_sweep(const char *request_id);

/* Kill and reap every child of the calling thread: call it after the
 * invocation's own process is reaped (it catches CLONE_PARENT). */
void reaper_sweep_thread(void);

#endif
