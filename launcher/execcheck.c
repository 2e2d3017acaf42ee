/* execcheck.c — see execcheck.h. The file is judged after symlinks are
 * resolved (a manifest may name /usr/local/bin/x -> ...), and so is its
 * folder; drop-ins never get here through a symlink (route.c). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "execcheck.h"

static int
why_fail(char *why, size_t len, const char *path, const char *what)
{
	snprintf(why, len, "%s: %s", path, what);
	return -1;
}

int
execcheck(const char *path, uid_t uid, char *why, size_t len)
{
	char real[PATH_MAX], *slash;
	struct stat st;

	if (realpath(path, real) == NULL || stat(real, &st) < 0) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return why_fail(why, len, real, "not a regular file");
	if (st.st_mode & S_IWOTH)
		return why_fail(why, len, real, "writable by others");
	if (st.st_mode & S_IWGRP)
		return why_fail(why, len, real, "writable by its group");
	if (st.st_mode & (S_ISUID | S_ISGID))
		return why_fail(why, len, real, "setuid or setgid bit set");
	if (st.st_uid != 0 && st.st_uid != uid) {
		snprintf(why, len, "%s: owned by uid %u, not by root or the function's user (uid %u)",
		    real, (unsigned)st.st_uid, (unsigned)uid);
		return -1;
	}
	slash = strrchr(real, '/');
	if (slash == real)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(real, &st) < 0) {
		snprintf(why, len, "%s: %s", real, strerror(errno));
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return why_fail(why, len, real, "folder writable by group or others");
	return 0;
}
