/* mref.c — see mref.h. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "mref.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct mref *cur;

int
mref_set(struct manifest *m)
{
	struct mref *r = calloc(1, sizeof(*r)), *old;

	if (r == NULL) {
		manifest_free(m);
		return -1;
	}
	r->m = m;
	atomic_init(&r->refs, 1);
	pthread_mutex_lock(&lock);
	old = cur;
	cur = r;
	pthread_mutex_unlock(&lock);
	mref_put(old);
	return 0;
}

struct mref *
mref_get(void)
{
	pthread_mutex_lock(&lock);
	struct mref *r = cur;
	atomic_fetch_add(&r->refs, 1);
	pthread_mutex_unlock(&lock);
	return r;
}

void
mref_put(struct mref *r)
{
	if (r != NULL && atomic_fetch_sub(&r->refs, 1) == 1) {
		manifest_free(r->m);
		free(r);
	}
}
