/* route.c — which function a request names (SPEC.md section 4).
 *
 * Nothing the request says becomes a file path except a name that passed
 * units_valid_name(): no '/', no leading '.', at most 64 bytes. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "route.h"
#include "units.h"

/* The value of the first param named NAME, or NULL (as FCGX_GetParam). */
static const char *
param(char *const *params, const char *name)
{
	size_t nlen = strlen(name);

	for (; params != NULL && *params != NULL; params++)
		if (strncmp(*params, name, nlen) == 0 && (*params)[nlen] == '=')
			return *params + nlen + 1;
	return NULL;
}

/* Copy NAME (LEN bytes) into R if it is a valid function name. */
static enum route_result
take_name(struct route *r, const char *name, size_t len)
{
	if (len == 0 || len > FN_NAME_MAX)
		return ROUTE_NOT_FOUND;
	memcpy(r->name, name, len);
	r->name[len] = '\0';
	if (!units_valid_name(r->name)) {
		r->name[0] = '\0';
		return ROUTE_NOT_FOUND;
	}
	return ROUTE_OK;
}

/* See route.h. R is always fully set: on ROUTE_NOT_FOUND and ROUTE_ADMIN
 * name is ""; uri is the request path (DOCUMENT_URI, else SCRIPT_NAME)
 * or "" when there is none. */
enum route_result
route_parse(char *const *params, const char *prefix, struct route *r)
{
	const char *fn = param(params, "FN_FUNCTION");
	const char *path = param(params, "DOCUMENT_URI");
	const char *seg, *end;
	size_t plen;

	if (path == NULL || path[0] == '\0')
		path = param(params, "SCRIPT_NAME");
	memset(r, 0, sizeof(*r));
	r->uri = path != NULL ? path : "";
	r->path_info = "";
	if (fn != NULL && fn[0] != '\0') {
		const char *pi = param(params, "PATH_INFO");

		r->by_param = true;
		if (take_name(r, fn, strlen(fn)) != ROUTE_OK)
			return ROUTE_NOT_FOUND;
		r->path_info = pi != NULL ? pi : "";
		return ROUTE_OK;
	}
	if (prefix == NULL)
		prefix = "/";
	plen = strlen(prefix);
	if (path == NULL || strncmp(path, prefix, plen) != 0)
		return ROUTE_NOT_FOUND;
	seg = path + plen;
	end = strchr(seg, '/');
	if (end == NULL)
		end = seg + strlen(seg);
	if (end - seg == 1 && seg[0] == '_') {
		r->path_info = end; /* e.g. "/health" */
		return ROUTE_ADMIN;
	}
	/* PREFIX~TENANT/NAME[/PATH_INFO] */
	if (seg[0] == '~') {
		size_t tlen = (size_t)(end - seg) - 1;
		if (tlen == 0 || tlen > FN_NAME_MAX || *end != '/')
			return ROUTE_NOT_FOUND;
		memcpy(r->tenant, seg + 1, tlen);
		r->tenant[tlen] = '\0';
		if (!manifest_valid_tenant(r->tenant)) {
			r->tenant[0] = '\0';
			return ROUTE_NOT_FOUND;
		}
		seg = end + 1;
		if ((end = strchr(seg, '/')) == NULL)
			end = seg + strlen(seg);
	}
	if (take_name(r, seg, (size_t)(end - seg)) != ROUTE_OK) {
		r->tenant[0] = '\0';
		return ROUTE_NOT_FOUND;
	}
	r->path_info = end;
	return ROUTE_OK;
}

/* DIR + "/" + NAME, in a new allocation, or NULL. */
static char *
join(const char *dir, const char *name)
{
	size_t dlen = strlen(dir), nlen = strlen(name);
	char *s;

	while (dlen > 0 && dir[dlen - 1] == '/')
		dlen--; /* "/srv/fn/" -> "/srv/fn/NAME", "/" -> "/NAME" */
	s = malloc(dlen + nlen + 2);
	if (s == NULL)
		return NULL;
	memcpy(s, dir, dlen);
	s[dlen] = '/';
	memcpy(s + dlen + 1, name, nlen + 1);
	return s;
}

/* A drop-in is a regular file with an execute bit, looked at without
 * following a symlink (SPEC.md section 3). Returns the path or NULL. */
static char *
dropin_path(const char *dir, const char *name)
{
	struct stat st;
	char *path = join(dir, name);

	if (path == NULL)
		return NULL;
	if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode) ||
	    (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) {
		free(path);
		errno = ENOENT;
		return NULL;
	}
	return path;
}

/* See route.h. On -1, *TMP is left cleared (nothing to free). */
int
route_lookup(const struct manifest *m, const char *name,
    struct fn_spec *tmp, const struct fn_spec **out)
{
	const struct fn_spec *f;
	char *path;

	*out = NULL;
	if (name == NULL || !units_valid_name(name)) {
		errno = ENOENT;
		return -1;
	}
	f = manifest_find(m, name);
	if (f != NULL) {
		*out = f;
		return 0;
	}
	if (m->functions_dir == NULL) {
		errno = ENOENT;
		return -1;
	}
	path = dropin_path(m->functions_dir, name);
	if (path == NULL)
		return -1;
	memset(tmp, 0, sizeof(*tmp));
	if (fn_spec_copy(tmp, &m->defaults) == -1)
		goto nomem;
	free(tmp->name);
	free(tmp->path);
	tmp->path = path;
	path = NULL;
	tmp->name = strdup(name);
	if (tmp->name == NULL)
		goto nomem;
	tmp->dropin = true;
	*out = tmp;
	return 0;
nomem:
	free(path);
	fn_spec_clear(tmp);
	memset(tmp, 0, sizeof(*tmp));
	errno = ENOMEM;
	return -1;
}

void
route_decode_path(const char *path, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		if (path[i] == '%' && i + 2 < len &&
		    (hi = units_hexval(path[i + 1])) >= 0 &&
		    (lo = units_hexval(path[i + 2])) >= 0 && (hi | lo) != 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			out[o++] = path[i];
	}
	out[o] = '\0';
}

enum route_redirect
route_redirect_kind(const char *loc, const char *prefix)
{
	size_t len = strcspn(loc, "?#"), plen;
	enum route_redirect kind = ROUTE_REDIRECT_OUTSIDE;
	char *path;

	if (loc[0] != '/' || loc[1] == '/')
		return ROUTE_REDIRECT_CLIENT;
	if ((path = malloc(len + 1)) == NULL)
		return ROUTE_REDIRECT_OUTSIDE;
	route_decode_path(loc, len, path);
	prefix = prefix != NULL ? prefix : "/";
	plen = strlen(prefix);
	/* Under the prefix, and not prefix + "_" (the admin endpoints,
	 * which nginx may allow only from some addresses). */
	if (strncmp(path, prefix, plen) == 0 &&
	    !(path[plen] == '_' && (path[plen + 1] == '/' ||
	    path[plen + 1] == '\0')))
		kind = ROUTE_REDIRECT_LOCAL;
	free(path);
	return kind;
}
