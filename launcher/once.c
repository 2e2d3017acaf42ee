/* once.c — see once.h. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "once.h"

#define NBUCKET 256

struct seen {
	struct seen *next;
	char key[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct seen *bucket[NBUCKET];
static size_t count;

bool
once(const char *kind, const char *name)
{
	size_t klen = strlen(kind), nlen = strlen(name);
	unsigned h = 2166136261u;       /* FNV-1a over KIND ":" NAME */
	struct seen *s, **pp;
	bool first = false;

	for (size_t i = 0; i < klen + 1 + nlen; i++) {
		char c = i < klen ? kind[i] : i == klen ? ':' : name[i - klen - 1];
		h = (h ^ (unsigned char)c) * 16777619u;
	}
	pthread_mutex_lock(&lock);
	for (pp = &bucket[h % NBUCKET]; *pp != NULL; pp = &(*pp)->next)
		if (strncmp((*pp)->key, kind, klen) == 0 &&
		    (*pp)->key[klen] == ':' &&
		    strcmp((*pp)->key + klen + 1, name) == 0)
			break;
	if (*pp == NULL && count < ONCE_MAX &&
	    (s = malloc(sizeof(*s) + klen + nlen + 2)) != NULL) {
		snprintf(s->key, klen + nlen + 2, "%s:%s", kind, name);
		s->next = NULL;
		*pp = s;
		count++;
		first = true;
	}
	pthread_mutex_unlock(&lock);
	return first;
}
