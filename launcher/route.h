/* route.h — which function a request names (SPEC.md section 4).
 * route_parse() is pure; route_lookup() looks in the manifest and then
 * in functions_dir (one fstatat, never following symlinks). */
#ifndef FN_ROUTE_H
#define FN_ROUTE_H

#include <stdbool.h>

#include "manifest.h"

enum route_result {
	ROUTE_OK = 0,
	ROUTE_ADMIN,       /* prefix + "_/..." : admin endpoint, path in path_info */
	ROUTE_NOT_FOUND    /* outside prefix, or not a valid function name */
};

struct route {
	char name[FN_NAME_MAX + 1];
	char tenant[FN_NAME_MAX + 1]; /* PREFIX~TENANT/NAME; "" otherwise */
	const char *path_info;  /* points into a param; "" when none */
	const char *uri;        /* the path routed on (for messages) */
	bool by_param;          /* named by FN_FUNCTION */
};

/* Route a request from its FastCGI PARAMS ("NAME=value", NULL-ended):
 * FN_FUNCTION if set, else DOCUMENT_URI, else SCRIPT_NAME, under PREFIX
 * (which starts and ends with '/'). With FN_FUNCTION, path_info is the
 * PATH_INFO param (or ""). */
enum route_result route_parse(char *const *params, const char *prefix,
    struct route *r);

/* Find NAME: a manifest function, else a drop-in executable in M's
 * functions_dir (regular file, executable, not a symlink). For a drop-in
 * the defaults are copied into *TMP (caller clears it with fn_spec_clear)
 * and *OUT points at TMP. Returns 0, or -1 when there is no such function
 * (errno ENOENT) or memory ran out (ENOMEM). */
int route_lookup(const struct manifest *m, const char *name,
    struct fn_spec *tmp, const struct fn_spec **out);

/* What a "Location" without "Status" in a CGI response asks for
 * (RFC 3875 section 6.2): */
enum route_redirect {
	ROUTE_REDIRECT_CLIENT = 0, /* an absolute URI (or "//host"): 302 */
	ROUTE_REDIRECT_LOCAL,      /* a path under PREFIX: served here */
	ROUTE_REDIRECT_OUTSIDE     /* another local path, or an admin one */
};

/* Classify the Location value LOC for PREFIX (as route_parse's). The
 * path is compared percent-decoded, as nginx's $uri would be. */
enum route_redirect route_redirect_kind(const char *loc, const char *prefix);

/* LEN bytes of PATH percent-decoded into OUT (LEN + 1 bytes or more).
 * A broken escape, or one of NUL, stays as it is. */
void route_decode_path(const char *path, size_t len, char *out);

#endif
