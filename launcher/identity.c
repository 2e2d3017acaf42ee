/* identity.c — user and group names to ids, in the parent, so the child
 * (which shares our memory until exec) never calls NSS. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "identity.h"

int
identity_resolve(const char *user, const char *group, struct identity *id,
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
