/* identity.h — who a function runs as when the daemon is root: the uid,
 * gid and supplementary groups of its user/group (SPEC.md section 5). */
#ifndef FN_IDENTITY_H
#define FN_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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

#endif
