/* envfiles.h — env_files: a function's secrets from root-only files
 * instead of the manifest (which every reader of it sees), read at load
 * and at every reload. A file holds NAME=value lines; blank lines and
 * lines starting with '#' are skipped; no quoting, the value is the rest
 * of the line. The files' variables come first, then the manifest's
 * env: (which wins for a name in both). */
#ifndef FN_ENVFILES_H
#define FN_ENVFILES_H

#include <stddef.h>

#include "manifest.h"

#define ENVFILES_MAX_BYTES (64 * 1024)  /* a larger file is refused */

/* Parse TEXT (LEN bytes) into *OUT (N entries, malloc'd, the caller
 * frees with manifest_env_free). Pure. 0, or -1 with the first problem
 * ("line 3: not NAME=value") in WHY (LEN bytes). */
int envfiles_parse(const char *text, size_t len, struct fn_kv **out,
    size_t *n, char *why, size_t wlen);

/* FILE's contents (malloc'd, NUL-terminated, *LEN bytes) when it is a
 * regular file of at most MAX bytes, owned by the daemon's user and not
 * readable or writable by group or others (never through a symlink);
 * else NULL and the reason in WHY. For secrets: env_files, auth:. */
char *envfiles_read_private(const char *file, size_t max, size_t *len,
    char *why, size_t wlen);

/* Read every env_files of M's defaults and functions into their env.
 * A file must be owned by the daemon's user (root) and not readable or
 * writable by group or others. 0, or -1 with each problem appended to
 * ERRS (line 0: they have no place in the manifest). */
int envfiles_load(struct manifest *m, struct manifest_errors *errs);

#endif
