/* reaper.h — find, kill and reap processes that escaped an invocation's
 * process group (setsid + double fork). See reaper.c. */
#ifndef FN_REAPER_H
#define FN_REAPER_H

#include <stdbool.h>

/* Make the daemon a child subreaper. Call once, from the main thread,
 * before any thread is started. Returns 0 or -1. */
int reaper_init(void);

/* An invocation with this FN_REQUEST_ID is (no longer) in flight. */
void reaper_register(const char *request_id);
void reaper_unregister(const char *request_id);

/* Kill and reap every orphan of REQUEST_ID, every orphan without one, and
 * every orphan whose invocation is no longer in flight. REQUEST_ID may be
 * NULL (housekeeping). */
void reaper_sweep(const char *request_id);

/* Kill and reap every child of the calling thread: call it after the
 * invocation's own process is reaped (it catches CLONE_PARENT). */
void reaper_sweep_thread(void);

#endif
