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

/* The folder of P (a copy cut at its last '/') must not be writable by
 * group or others. */
static int
folder_ok(const char *p, char *why, size_t len)
{
	char dir[PATH_MAX];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", p);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) < 0) {
		snprintf(why, len, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return why_fail(why, len, dir, "folder writable by group or others");
	return 0;
}

/* Every symlink on the way to PATH (the file or a folder) must sit in a
 * folder that group and others cannot write: otherwise they could point
 * it elsewhere after the checks. */
static int
symlinks_ok(const char *path, char *why, size_t len)
{
	char part[PATH_MAX];
	struct stat st;
	size_t n = strlen(path);

	if (n >= sizeof(part))
		return why_fail(why, len, path, "path too long");
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		memcpy(part, path, i);
		part[i] = '\0';
		if (lstat(part, &st) == 0 && S_ISLNK(st.st_mode) &&
		    folder_ok(part, why, len) < 0)
			return -1;
	}
	return 0;
}

int
execcheck(const char *path, uid_t uid, char *real, char *why, size_t len)
{
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
	if (folder_ok(real, why, len) < 0)
		return -1;
	return strcmp(real, path) == 0 ? 0 : symlinks_ok(path, why, len);
}
