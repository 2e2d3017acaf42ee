/* inflight.c — see inflight.h. Per-function counters live in a small
 * hash table; a counter goes away when it drops to zero, so names of
 * removed drop-ins do not accumulate. */
#include "config.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inflight.h"

#define NBUCKET 256
#define WAIT_SLICE_MS 500   /* how often a waiter looks for a hangup */

/* A function's (or a tenant's) counters. */
struct inflight_fn {
	struct inflight_fn *next;
	unsigned used;            /* in flight */
	unsigned waiting;         /* in the queue */
	char name[FN_NAME_MAX * 2 + 8];
};

/* A request in the queue; lives on its thread's stack. */
struct inflight_waiter {
	struct inflight_waiter *prev, *next;
	struct inflight *e;
	const struct inflight_want *w;
	struct inflight_fn *fn, *group;
	pthread_cond_t cond;
	bool granted;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct inflight_fn *bucket[NBUCKET], *groups[NBUCKET];
static struct inflight *head;
static struct inflight_waiter *qhead, *qtail;   /* arrival order */
static unsigned total, waiting;
static bool cancelled;

static struct inflight_fn **
chain(struct inflight_fn **table, const char *name)
{
	unsigned h = 2166136261u;       /* FNV-1a */

	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &table[h % NBUCKET];
}

/* The counter of NAME in TABLE (NULL when there is none and CREATE is
 * false). Called with the lock held. */
static struct inflight_fn *
counter(struct inflight_fn **table, const char *name, bool create)
{
	struct inflight_fn **pp = chain(table, name);

	while (*pp != NULL && strcmp((*pp)->name, name) != 0)
		pp = &(*pp)->next;
	if (*pp == NULL && create && (*pp = calloc(1, sizeof(**pp))) != NULL)
		snprintf((*pp)->name, sizeof((*pp)->name), "%s", name);
	return *pp;
}

/* Unlink and free counter C of TABLE once nothing uses or waits for it
 * (so names of removed drop-ins do not accumulate). Called with the
 * lock held. */
static void
counter_release(struct inflight_fn **table, struct inflight_fn *c)
{
	if (c == NULL || c->used > 0 || c->waiting > 0)
		return;
	for (struct inflight_fn **pp = chain(table, c->name); *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			free(c);
			return;
		}
}

/* Link E in for FN of GROUP. Called with the lock held. */
static void
link_in(struct inflight *e, struct inflight_fn *fn, struct inflight_fn *group,
    const char *request_id)
{
	fn->used++;
	group->used++;
	total++;
	e->fn = fn;
	e->group = group;
	snprintf(e->request_id, sizeof(e->request_id), "%s", request_id);
	e->prev = NULL;
	e->next = head;
	if (head != NULL)
		head->prev = e;
	head = e;
}

static bool
fits(const struct inflight_want *w, const struct inflight_fn *fn,
    const struct inflight_fn *group)
{
	return total < w->workers && fn->used < w->concurrency &&
	    (w->tenant_concurrency == 0 || group->used < w->tenant_concurrency);
}

static void
queue_unlink(struct inflight_waiter *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		qhead = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		qtail = q->prev;
	q->fn->waiting--;
	q->group->waiting--;
	waiting--;
}

/* Admit waiters while places are free: of those that fit, the one whose
 * tenant has the fewest in flight, the earliest among equals. Called
 * with the lock held. */
static void
grant(void)
{
	/* the drain is over: waiters leave with INFLIGHT_CANCELLED */
	while (!cancelled) {
		struct inflight_waiter *best = NULL;

		for (struct inflight_waiter *q = qhead; q != NULL; q = q->next)
			if (fits(q->w, q->fn, q->group) &&
			    (best == NULL || q->group->used < best->group->used))
				best = q;
		if (best == NULL)
			return;
		queue_unlink(best);
		link_in(best->e, best->fn, best->group, best->w->request_id);
		best->granted = true;
		pthread_cond_signal(&best->cond);
	}
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool
hung_up(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

	return fd >= 0 && poll(&pfd, 1, 0) > 0 &&
	    (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* Over a limit: the reason a full queue gives. */
static enum inflight_admit
why_full(const struct inflight_want *w, const struct inflight_fn *fn,
    const struct inflight_fn *group)
{
	if (w->tenant_concurrency > 0 && group->used >= w->tenant_concurrency)
		return INFLIGHT_BUDGET;
	if (fn->used >= w->concurrency)
		return INFLIGHT_CONCURRENCY;
	return INFLIGHT_WORKERS;
}

/* Wait in the queue for Q's place. Called with the lock held. */
static enum inflight_admit
wait_turn(struct inflight_waiter *q, uint64_t start)
{
	const struct inflight_want *w = q->w;
	uint64_t end = start + w->queue_timeout_ms * 1000u;

	while (!q->granted) {
		uint64_t now = now_us(), slice = now + WAIT_SLICE_MS * 1000u;
		struct timespec ts;

		if (now >= end) {
			queue_unlink(q);
			return INFLIGHT_TIMEOUT;
		}
		if (slice > end)
			slice = end;
		/* the condition's clock is CLOCK_MONOTONIC */
		ts.tv_sec = (time_t)(slice / 1000000u);
		ts.tv_nsec = (long)(slice % 1000000u) * 1000;
		(void)pthread_cond_timedwait(&q->cond, &lock, &ts);
		if (!q->granted && cancelled) {
			queue_unlink(q);
			return INFLIGHT_CANCELLED;
		}
		if (!q->granted && hung_up(w->hangup_fd)) {
			queue_unlink(q);
			return INFLIGHT_HANGUP;
		}
	}
	return INFLIGHT_OK;
}

enum inflight_admit
inflight_enter(struct inflight *e, const struct inflight_want *w,
    uint64_t *waited_us)
{
	enum inflight_admit rc = INFLIGHT_OK;
	struct inflight_waiter q = { .e = e, .w = w };
	uint64_t start = now_us();
	pthread_condattr_t ca;

	memset(e, 0, sizeof(*e));
	*waited_us = 0;
	pthread_mutex_lock(&lock);
	q.fn = counter(bucket, w->function, true);
	q.group = counter(groups, w->tenant, true);
	if (q.fn == NULL || q.group == NULL) {
		counter_release(bucket, q.fn);
		counter_release(groups, q.group);
		pthread_mutex_unlock(&lock);
		return INFLIGHT_NOMEM;
	}
	/* Nobody waits and there is room: in at once. */
	if (qhead == NULL && fits(w, q.fn, q.group)) {
		link_in(e, q.fn, q.group, w->request_id);
		pthread_mutex_unlock(&lock);
		return INFLIGHT_OK;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q.cond, &ca);
	pthread_condattr_destroy(&ca);
	q.prev = qtail;
	if (qtail != NULL)
		qtail->next = &q;
	else
		qhead = &q;
	qtail = &q;
	q.fn->waiting++;
	q.group->waiting++;
	waiting++;
	grant();                /* it may be its turn already */
	if (q.granted)
		;
	else if (cancelled) {
		queue_unlink(&q);
		rc = INFLIGHT_CANCELLED;
	}
	else if (q.fn->waiting > w->queue ||
	    (w->tenant_queue > 0 && q.group->waiting > w->tenant_queue)) {
		queue_unlink(&q);       /* the queue is full: 503 at once */
		rc = why_full(w, q.fn, q.group);
	} else
		rc = wait_turn(&q, start);
	if (rc != INFLIGHT_OK) {
		counter_release(bucket, q.fn);
		counter_release(groups, q.group);
	}
	pthread_mutex_unlock(&lock);
	pthread_cond_destroy(&q.cond);
	*waited_us = now_us() - start;
	return rc;
}

void
inflight_cancel_waiters(void)
{
	pthread_mutex_lock(&lock);
	cancelled = true;
	for (struct inflight_waiter *q = qhead; q != NULL; q = q->next)
		pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&lock);
}

void
inflight_leave(struct inflight *e)
{
	if (e == NULL || e->fn == NULL)
		return;
	pthread_mutex_lock(&lock);
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	total--;
	e->fn->used--;
	e->group->used--;
	counter_release(bucket, e->fn);
	counter_release(groups, e->group);
	grant();
	pthread_mutex_unlock(&lock);
	e->fn = e->group = NULL;
	e->prev = e->next = NULL;
}

unsigned
inflight_total(void)
{
	pthread_mutex_lock(&lock);
	unsigned n = total;
	pthread_mutex_unlock(&lock);
	return n;
}

unsigned
inflight_count(const char *function)
{
	pthread_mutex_lock(&lock);
	struct inflight_fn *c = counter(bucket, function, false);
	unsigned n = c != NULL ? c->used : 0;
	pthread_mutex_unlock(&lock);
	return n;
}

bool
inflight_has_id(const char *request_id)
{
	bool found = false;

	pthread_mutex_lock(&lock);
	for (struct inflight *e = head; e != NULL && !found; e = e->next)
		found = strcmp(e->request_id, request_id) == 0;
	pthread_mutex_unlock(&lock);
	return found;
}

unsigned
inflight_waiting(void)
{
	pthread_mutex_lock(&lock);
	unsigned n = waiting;
	pthread_mutex_unlock(&lock);
	return n;
}

unsigned
inflight_waiting_fn(const char *function)
{
	pthread_mutex_lock(&lock);
	struct inflight_fn *c = counter(bucket, function, false);
	unsigned n = c != NULL ? c->waiting : 0;
	pthread_mutex_unlock(&lock);
	return n;
}
