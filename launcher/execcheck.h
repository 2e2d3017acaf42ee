/* execcheck.h — the checks before a function is run as another user
 * (SPEC.md section 5, in the spirit of Apache suEXEC). */
#ifndef FN_EXECCHECK_H
#define FN_EXECCHECK_H

#include <stddef.h>
#include <sys/types.h>

/* PATH must be a regular file, not writable by group or others, without
 * setuid/setgid bits, owned by root or UID, in a folder not writable by
 * group or others, and every symlink on the way must sit in such a
 * folder. Returns 0 with the resolved path in REAL (PATH_MAX bytes):
 * execute that, not PATH, so no symlink can be swapped after the check.
 * Else -1 with the failed check in WHY. */
int execcheck(const char *path, uid_t uid, char *real, char *why,
    size_t len);

#endif
