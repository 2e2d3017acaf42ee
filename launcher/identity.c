/* identity.c — user and group names to ids, in the parent, so the child
 * (which shares our memory until exec) never calls NSS. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <time.h>
#include <stdio.h>
#include <string.h>

#include "dynid.h"
#include "identity.h"

static int identity_lookup(const char *user, const char *group,
    struct identity *id, char *err, size_t errlen);

/* Lookups read /etc/passwd and /etc/group (or ask NSS) every time: the
 * largest share of the daemon's own CPU per request. A small cache keeps
 * each answer for CACHE_MS, so a change to a user or its groups takes
 * effect within that time. */
#define CACHE_SLOTS 64
#define CACHE_MS 2000

struct cached {
	char user[64], group[64];
	uint64_t at_ms;
	struct identity id;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cached cache[CACHE_SLOTS];

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct cached *
slot_of(const char *user, const char *group)
{
	unsigned h = 2166136261u;

	for (const char *p = user; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (const char *p = group ? group : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &cache[h % CACHE_SLOTS];
}

int
identity_resolve(const char *user, const char *group, struct identity *id,
    char *err, size_t errlen)
{
	const char *g = group ? group : "";
	struct cached *c = slot_of(user, group);
	uint64_t now = now_ms();
	bool fits = strlen(user) < sizeof(c->user) && strlen(g) < sizeof(c->group);

	pthread_mutex_lock(&cache_lock);
	if (fits && c->at_ms != 0 && now - c->at_ms < CACHE_MS &&
	    strcmp(c->user, user) == 0 && strcmp(c->group, g) == 0) {
		*id = c->id;
		pthread_mutex_unlock(&cache_lock);
		return 0;
	}
	pthread_mutex_unlock(&cache_lock);
	if (identity_lookup(user, group, id, err, errlen) < 0)
		return -1;
	if (fits) {
		pthread_mutex_lock(&cache_lock);
		snprintf(c->user, sizeof(c->user), "%s", user);
		snprintf(c->group, sizeof(c->group), "%s", g);
		c->id = *id;
		c->at_ms = now;
		pthread_mutex_unlock(&cache_lock);
	}
	return 0;
}

/* The lookups themselves. */
static int
identity_lookup(const char *user, const char *group, struct identity *id,
    char *err, size_t errlen)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	char buf[16384];
	int n = IDENTITY_MAX_GROUPS;

	if (getpwnam_r(user, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL) {
		snprintf(err, errlen, "no such user: %s", user);
		return -1;
	}
	id->uid = pw.pw_uid;
	id->gid = pw.pw_gid;
	if (group != NULL) {
		char gbuf[16384];
		if (getgrnam_r(group, &gr, gbuf, sizeof(gbuf), &grp) != 0 ||
		    grp == NULL) {
			snprintf(err, errlen, "no such group: %s", group);
			return -1;
		}
		id->gid = gr.gr_gid;
	}
	/* The user's own supplementary groups, plus the function's group. */
	if (getgrouplist(user, id->gid, id->groups, &n) < 0) {
		snprintf(err, errlen, "user %s is in more than %d groups", user,
		    IDENTITY_MAX_GROUPS);
		return -1;
	}
	id->ngroups = (size_t)n;
	return 0;
}

int
identity_of(const struct manifest *m, const struct fn_spec *fn,
    struct identity *id, char *err, size_t errlen)
{
	uid_t uid;

	if (strcmp(fn->user, FN_USER_DYNAMIC) != 0)
		return identity_resolve(fn->user, fn->group, id, err, errlen);
	char key[FN_KEY_MAX];

	/* a tenant's functions share the tenant's id */
	if (fn->tenant != NULL)
		snprintf(key, sizeof(key), "~%s", fn->tenant);
	else
		snprintf(key, sizeof(key), "%s", fn->name);
	if (dynid_get(key, m->dynamic_first, m->dynamic_last, &uid) < 0) {
		snprintf(err, errlen, "no dynamic id left in %u-%u (dynamic_ids)",
		    m->dynamic_first, m->dynamic_last);
		return -1;
	}
	id->uid = uid;
	id->gid = (gid_t)uid;
	id->ngroups = 0;
	if (fn->group != NULL) {
		struct group gr, *grp = NULL;
		char buf[16384];
		if (getgrnam_r(fn->group, &gr, buf, sizeof(buf), &grp) != 0 ||
		    grp == NULL) {
			snprintf(err, errlen, "no such group: %s", fn->group);
			return -1;
		}
		id->gid = gr.gr_gid;
	}
	return 0;
}
