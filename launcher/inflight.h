/* inflight.h — the one registry of invocations in flight.
 *
 * Admission (the daemon's workers, each function's concurrency), the
 * reaper (is an orphan's request still running?), the drain (how many
 * are left?) and the metrics gauge all read this one table, so they can
 * never disagree. An entry lives inside its invocation; the registry
 * only links it in and out under one lock. */
#ifndef FN_INFLIGHT_H
#define FN_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include "manifest.h"

struct inflight_fn;

struct inflight {
	struct inflight *prev, *next;
	struct inflight_fn *fn;   /* the function's counter */
	char request_id[24];
};

enum inflight_admit {
	INFLIGHT_OK = 0,
	INFLIGHT_WORKERS,         /* the daemon is at its workers limit */
	INFLIGHT_CONCURRENCY,     /* the function is at its concurrency */
	INFLIGHT_NOMEM
};

/* Take a place for REQUEST_ID of FUNCTION when fewer than WORKERS run in
 * all and fewer than CONCURRENCY of FUNCTION. On INFLIGHT_OK E is
 * linked in until inflight_leave(E). */
enum inflight_admit inflight_enter(struct inflight *e, const char *function,
    unsigned concurrency, unsigned workers, const char *request_id);

/* Give E's place back. A no-op for an entry that never entered. */
void inflight_leave(struct inflight *e);

/* Invocations running now, in all. */
unsigned inflight_total(void);

/* Invocations of FUNCTION running now. */
unsigned inflight_count(const char *function);

/* true while an invocation with REQUEST_ID runs. */
bool inflight_has_id(const char *request_id);

#endif
