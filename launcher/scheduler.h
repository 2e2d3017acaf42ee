/* scheduler.h — functions run on a schedule (`schedule:`, cron.h):
 * each run is a FastCGI request the daemon writes into a socketpair
 * whose other end a connection thread serves as it serves nginx's, so
 * it takes the request's path: limits, identity, containment, teardown
 * and a record (with "trigger": "schedule"). A run still going when the
 * next is due makes that one skipped (logged, counted in the metrics);
 * no run is made up for after a downtime. Times are UTC. */
#ifndef FN_SCHEDULER_H
#define FN_SCHEDULER_H

#include "manifest.h"
#include "preflight.h"

/* The thread; 0 or -1. */
int scheduler_start(void);
void scheduler_stop(void);

/* The schedules of M and its tenants, from now on (start-up, reload):
 * an unchanged one keeps its next time. */
void scheduler_load(const struct manifest *m);

/* The value of the FN_TRIGGER_KEY param of the scheduler's requests
 * (random per daemon): a request with FN_TRIGGER but not this key is
 * an HTTP one. */
const char *scheduler_key(void);

/* For -t: each schedule's next three times (PREFLIGHT_INFO lines). */
void scheduler_describe(const struct manifest *m, preflight_report report,
    void *arg);

#endif
