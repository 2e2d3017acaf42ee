/* inflight.c — see inflight.h. Per-function counters live in a small
 * hash table; a counter goes away when it drops to zero, so names of
 * removed drop-ins do not accumulate. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inflight.h"

#define NBUCKET 256

struct inflight_fn {
	struct inflight_fn *next;
	unsigned used;
	char name[FN_NAME_MAX + 1];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct inflight_fn *bucket[NBUCKET];
static struct inflight *head;
static unsigned total;

static struct inflight_fn **
chain(const char *name)
{
	unsigned h = 2166136261u;       /* FNV-1a */

	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &bucket[h % NBUCKET];
}

/* The counter of NAME (NULL when there is none and CREATE is false).
 * Called with the lock held. */
static struct inflight_fn *
counter(const char *name, bool create)
{
	struct inflight_fn **pp = chain(name);

	while (*pp != NULL && strcmp((*pp)->name, name) != 0)
		pp = &(*pp)->next;
	if (*pp == NULL && create && (*pp = calloc(1, sizeof(**pp))) != NULL)
		snprintf((*pp)->name, sizeof((*pp)->name), "%s", name);
	return *pp;
}

/* Unlink and free counter C, now unused. Called with the lock held. */
static void
counter_drop(struct inflight_fn *c)
{
	for (struct inflight_fn **pp = chain(c->name); *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			free(c);
			return;
		}
}

enum inflight_admit
inflight_enter(struct inflight *e, const char *function, unsigned concurrency,
    unsigned workers, const char *request_id)
{
	enum inflight_admit rc = INFLIGHT_OK;
	struct inflight_fn *c;

	memset(e, 0, sizeof(*e));
	pthread_mutex_lock(&lock);
	if (total >= workers)
		rc = INFLIGHT_WORKERS;
	else if ((c = counter(function, true)) == NULL)
		rc = INFLIGHT_NOMEM;
	else if (c->used >= concurrency) {
		rc = INFLIGHT_CONCURRENCY;
		if (c->used == 0)
			counter_drop(c);
	} else {
		c->used++;
		total++;
		e->fn = c;
		snprintf(e->request_id, sizeof(e->request_id), "%s", request_id);
		e->next = head;
		if (head != NULL)
			head->prev = e;
		head = e;
	}
	pthread_mutex_unlock(&lock);
	return rc;
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
	if (--e->fn->used == 0)
		counter_drop(e->fn);
	pthread_mutex_unlock(&lock);
	e->fn = NULL;
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
	struct inflight_fn *c = counter(function, false);
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
