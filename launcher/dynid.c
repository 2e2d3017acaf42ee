/* dynid.c — see dynid.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dynid.h"
#include "manifest.h"
#include "units.h"

#define NBUCKET 1024

struct given {
	struct given *next_name, *next_id;
	uid_t id;
	char name[FN_NAME_MAX + 1];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct given *by_name[NBUCKET], *by_id[NBUCKET];

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;       /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct given *
find_name(const char *name)
{
	struct given *g = by_name[hash(name) % NBUCKET];

	while (g != NULL && strcmp(g->name, name) != 0)
		g = g->next_name;
	return g;
}

static struct given *
find_id(uid_t id)
{
	struct given *g = by_id[id % NBUCKET];

	while (g != NULL && g->id != id)
		g = g->next_id;
	return g;
}

/* A real account or group holds ID: never hand it out. */
static bool
in_user_db(uid_t id)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	char buf[16384];

	if (getpwuid_r(id, &pw, buf, sizeof(buf), &pwp) == 0 && pwp != NULL)
		return true;
	return getgrgid_r((gid_t)id, &gr, buf, sizeof(buf), &grp) == 0 &&
	    grp != NULL;
}

/* The first free id from NAME's hash on, wrapping within the range. */
static int
pick(const char *name, uint32_t first, uint32_t last, uid_t *id)
{
	uint64_t span = (uint64_t)last - first + 1;
	uint64_t start = hash(name) % span;

	for (uint64_t i = 0; i < span; i++) {
		uid_t cand = (uid_t)(first + (start + i) % span);
		if (find_id(cand) == NULL && !in_user_db(cand)) {
			*id = cand;
			return 0;
		}
	}
	errno = ENOSPC;
	return -1;
}

int
dynid_get(const char *name, uint32_t first, uint32_t last, uid_t *id)
{
	struct given *g;
	int rc = 0;

	pthread_mutex_lock(&lock);
	if ((g = find_name(name)) != NULL && g->id >= first && g->id <= last) {
		*id = g->id;
		goto out;
	}
	/* (an id from another range, after a reload changed it, is kept
	 * out of use: its processes may linger) */
	if ((rc = pick(name, first, last, id)) < 0)
		goto out;
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		rc = -1;
		goto out;
	}
	g->id = *id;
	strncpy(g->name, name, FN_NAME_MAX);
	g->next_name = by_name[hash(name) % NBUCKET];
	by_name[hash(name) % NBUCKET] = g;
	g->next_id = by_id[*id % NBUCKET];
	by_id[*id % NBUCKET] = g;
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The drop-ins of DIR that run as dynamic (all of them: they take the
 * defaults), sorted. */
static void
load_dropins(const struct manifest *m)
{
	char *names[4096];
	size_t n = 0;
	struct dirent *e;
	uid_t id;
	DIR *d;

	if (m->functions_dir == NULL || (d = opendir(m->functions_dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL && n < sizeof(names) / sizeof(names[0]))
		if (units_valid_name(e->d_name) &&
		    manifest_find(m, e->d_name) == NULL &&
		    (names[n] = strdup(e->d_name)) != NULL)
			n++;
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		(void)dynid_get(names[i], m->dynamic_first, m->dynamic_last, &id);
		free(names[i]);
	}
}

void
dynid_load(const struct manifest *m)
{
	uid_t id;

	for (size_t i = 0; i < m->nfunctions; i++)
		if (strcmp(m->functions[i].user, FN_USER_DYNAMIC) == 0)
			(void)dynid_get(m->functions[i].name, m->dynamic_first,
			    m->dynamic_last, &id);
	if (strcmp(m->defaults.user, FN_USER_DYNAMIC) == 0)
		load_dropins(m);
}

const char *
dynid_owner(uid_t id)
{
	pthread_mutex_lock(&lock);
	struct given *g = find_id(id);
	pthread_mutex_unlock(&lock);
	return g != NULL ? g->name : NULL;
}
