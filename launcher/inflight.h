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
#include <stdint.h>

#include "manifest.h"

struct inflight_fn;
struct inflight_waiter;

struct inflight {
	struct inflight *prev, *next;
	struct inflight_fn *fn;   /* the function's counter */
	struct inflight_fn *group; /* its tenant's counter */
	char request_id[24];
};

enum inflight_admit {
	INFLIGHT_OK = 0,
	INFLIGHT_WORKERS,         /* at the workers limit, and the queue full */
	INFLIGHT_CONCURRENCY,     /* at the function's concurrency, queue full */
	INFLIGHT_BUDGET,          /* at the tenant's concurrency, queue full */
	INFLIGHT_TIMEOUT,         /* waited queue_timeout in the queue */
	INFLIGHT_HANGUP,          /* the client went away while it waited */
	INFLIGHT_CANCELLED,       /* the daemon stops: the queue was emptied */
	INFLIGHT_NOMEM
};

/* What a request asks for: a place among WORKERS in all, CONCURRENCY of
 * FUNCTION and, for a tenant's function, TENANT_CONCURRENCY of TENANT
 * (0: no budget). Over them it waits in a queue of at most QUEUE of the
 * function (and TENANT_QUEUE of the tenant, 0: no bound of its own) for
 * up to QUEUE_TIMEOUT_MS. */
struct inflight_want {
	const char *function;     /* the key: tenant functions are "~T/NAME" */
	const char *tenant;       /* "" for the main manifest's functions */
	const char *request_id;
	unsigned workers, concurrency, queue;
	unsigned tenant_concurrency, tenant_queue;
	uint64_t queue_timeout_ms;
	int hangup_fd;            /* -1, or the connection: its hangup ends a wait */
};

/* Take a place for W. Waiting requests are admitted as places free up:
 * first in first out within a function, and between tenants the one
 * with the fewest in flight first (so one tenant's burst cannot starve
 * another of the daemon's workers). On INFLIGHT_OK E is linked in until
 * inflight_leave(E). *WAITED_US: how long the request waited. */
enum inflight_admit inflight_enter(struct inflight *e,
    const struct inflight_want *w, uint64_t *waited_us);

/* The daemon stops (its drain is over): every request in the queue now
 * or later gets INFLIGHT_CANCELLED. */
void inflight_cancel_waiters(void);

/* Give E's place back. A no-op for an entry that never entered. */
void inflight_leave(struct inflight *e);

/* Invocations running now, in all. */
unsigned inflight_total(void);

/* Invocations of FUNCTION running now. */
unsigned inflight_count(const char *function);

/* Requests waiting in the queues now, in all; of FUNCTION. */
unsigned inflight_waiting(void);
unsigned inflight_waiting_fn(const char *function);

/* true while an invocation with REQUEST_ID runs. */
bool inflight_has_id(const char *request_id);

#endif
