/* identity.h — who a function runs as when the daemon is root: the uid,
 * gid and supplementary groups of its user/group (SPEC.md section 5). */
#ifndef FN_IDENTITY_H
#define FN_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "manifest.h"

#define IDENTITY_MAX_GROUPS 256

struct identity {
	uid_t uid;
	gid_t gid;
	gid_t groups[IDENTITY_MAX_GROUPS];
	size_t ngroups;
};

/* Look up USER and GROUP. Returns 0, or -1 with a message in ERR. */
int identity_resolve(const char *user, const char *group,
    struct identity *id, char *err, size_t errlen);

/* Who FN of M runs as when the daemon is root: its user and group, or
 * for user "dynamic" an id of its own (dynid.h) as uid and gid, without
 * supplementary groups (FN's group, if it names one, as gid). Returns
 * 0, or -1 with a message in ERR. */
int identity_of(const struct manifest *m, const struct fn_spec *fn,
    struct identity *id, char *err, size_t errlen);

#endif
