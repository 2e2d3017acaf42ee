/* slots.c — a small hash table of per-function in-flight counts under
 * one mutex. Entries go away when their count drops to zero, so names
 * of removed drop-ins do not accumulate. */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "slots.h"

#define NBUCKET 256

struct slot {
	struct slot *next;
	unsigned used;
	char name[FN_NAME_MAX + 1];
};

struct slots {
	pthread_mutex_t lock;
	struct slot *bucket[NBUCKET];
};

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;       /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % NBUCKET;
}

struct slots *
slots_new(void)
{
	struct slots *s = calloc(1, sizeof(*s));

	if (s != NULL)
		pthread_mutex_init(&s->lock, NULL);
	return s;
}

void
slots_free(struct slots *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < NBUCKET; i++)
		while (s->bucket[i] != NULL) {
			struct slot *n = s->bucket[i]->next;
			free(s->bucket[i]);
			s->bucket[i] = n;
		}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* The slot of NAME, or NULL. Called with the lock held. */
static struct slot **
find(struct slots *s, const char *name)
{
	struct slot **pp = &s->bucket[hash(name)];

	while (*pp != NULL && strcmp((*pp)->name, name) != 0)
		pp = &(*pp)->next;
	return pp;
}

int
slots_take(struct slots *s, const char *name, unsigned limit)
{
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	struct slot **pp = find(s, name);
	if (*pp == NULL) {
		struct slot *n = calloc(1, sizeof(*n));
		if (n == NULL) {
			pthread_mutex_unlock(&s->lock);
			return -1;
		}
		strncpy(n->name, name, FN_NAME_MAX);
		*pp = n;
	}
	if ((*pp)->used >= limit)
		rc = -1;
	else
		(*pp)->used++;
	if ((*pp)->used == 0) {
		struct slot *dead = *pp;
		*pp = dead->next;
		free(dead);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void
slots_give(struct slots *s, const char *name)
{
	pthread_mutex_lock(&s->lock);
	struct slot **pp = find(s, name);
	if (*pp != NULL && (*pp)->used > 0 && --(*pp)->used == 0) {
		struct slot *dead = *pp;
		*pp = dead->next;
		free(dead);
	}
	pthread_mutex_unlock(&s->lock);
}

unsigned
slots_used(struct slots *s, const char *name)
{
	pthread_mutex_lock(&s->lock);
	struct slot **pp = find(s, name);
	unsigned n = *pp != NULL ? (*pp)->used : 0;
	pthread_mutex_unlock(&s->lock);
	return n;
}
