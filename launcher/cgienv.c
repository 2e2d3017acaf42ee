/* cgienv.c — the function's environment, built from scratch
 * (RFC 3875 section 4.1; SPEC.md section 5).
 *
 * Two layers: P holds the allowlisted CGI meta-variables from the params
 * (sorted by name, first occurrence kept); S holds what is set on top of
 * them, in order (fnlauncher's own variables, pass_params, pass_env,
 * env), a later set replacing an earlier one. S masks P by name. S is
 * bounded by the configuration, P by the request, so nothing here is
 * quadratic in the request's size. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cgienv.h"
#include "units.h"

#define CGIENV_PATH "/usr/local/bin:/usr/bin:/bin"

struct ent {
	const char *name;         /* not NUL-terminated at nlen */
	size_t nlen;
	const char *val;          /* NUL-terminated; NULL: dropped */
	size_t idx;               /* position in params, for a stable sort */
};

struct envb {
	struct ent *p;            /* CGI meta-variables from the params */
	size_t np;
	struct ent *s;            /* set on top, in order of precedence */
	size_t ns;
	size_t cap_s;
};

/* RFC 3875 section 4.1 meta-variables copied from the params as they
 * are. GATEWAY_INTERFACE is ours; SCRIPT_NAME, PATH_INFO and
 * SCRIPT_FILENAME are set by fnlauncher, never taken from nginx. */
static const char *const cgi_vars[] = {
	"SERVER_SOFTWARE", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL",
	"SERVER_ADDR", "REQUEST_METHOD", "REQUEST_URI", "REQUEST_SCHEME",
	"DOCUMENT_URI", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
	"REMOTE_ADDR", "REMOTE_PORT", "REMOTE_USER", "AUTH_TYPE", "HTTPS",
};

static int
name_is(const char *name, size_t nlen, const char *lit)
{
	return strlen(lit) == nlen && memcmp(name, lit, nlen) == 0;
}

/* true when a param named NAME may reach the function. HTTP_PROXY is
 * refused in any spelling (httpoxy, CVE-2016-5385). */
static int
allowed_param(const char *name, size_t nlen)
{
	char buf[256];
	size_t i;

	if (nlen > 5 && memcmp(name, "HTTP_", 5) == 0) {
		if (nlen >= sizeof(buf))
			return 0;
		memcpy(buf, name, nlen);
		buf[nlen] = '\0';
		if (strcasecmp(buf, "HTTP_PROXY") == 0)
			return 0;
		return units_valid_env_name(buf);
	}
	for (i = 0; i < sizeof(cgi_vars) / sizeof(cgi_vars[0]); i++)
		if (name_is(name, nlen, cgi_vars[i]))
			return 1;
	return 0;
}

static int
cmp_name(const struct ent *a, const struct ent *b)
{
	int c = memcmp(a->name, b->name, a->nlen < b->nlen ? a->nlen : b->nlen);

	if (c != 0)
		return c;
	return a->nlen < b->nlen ? -1 : a->nlen > b->nlen;
}

/* By name, then by position in the params, so the first occurrence of a
 * name sorts first. */
static int
cmp_ent(const void *va, const void *vb)
{
	const struct ent *a = va, *b = vb;
	int c = cmp_name(a, b);

	if (c != 0)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int
cmp_key(const void *va, const void *vb)
{
	return cmp_name(va, vb);
}

/* The entry of P named NAME, or NULL. */
static struct ent *
find_p(const struct envb *b, const char *name)
{
	struct ent key = { .name = name, .nlen = strlen(name) };

	if (b->np == 0)
		return NULL;
	return bsearch(&key, b->p, b->np, sizeof(key), cmp_key);
}

/* The value of the first "NAME=value" in V, or NULL. */
static const char *
lookup(char *const *v, const char *name)
{
	size_t nlen = strlen(name);

	for (; v != NULL && *v != NULL; v++)
		if (strncmp(*v, name, nlen) == 0 && (*v)[nlen] == '=')
			return *v + nlen + 1;
	return NULL;
}

const char *
cgienv_get(char *const *env, const char *name)
{
	return lookup(env, name);
}

/* Fill P with the allowlisted params, sorted by name, each name once (the
 * first occurrence, as FCGX_GetParam finds it). Returns 0 or -1. */
static int
collect_params(struct envb *b, char *const *params)
{
	size_t n = 0, i, j;

	while (params != NULL && params[n] != NULL)
		n++;
	b->p = calloc(n ? n : 1, sizeof(*b->p));
	if (b->p == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		const char *eq = strchr(params[i], '=');
		size_t nlen;

		if (eq == NULL)
			continue; /* not "NAME=value": ignored */
		nlen = (size_t)(eq - params[i]);
		if (!allowed_param(params[i], nlen))
			continue;
		b->p[b->np++] = (struct ent){ params[i], nlen, eq + 1, i };
	}
	qsort(b->p, b->np, sizeof(*b->p), cmp_ent);
	for (i = j = 0; i < b->np; i++)
		if (j == 0 || cmp_name(&b->p[j - 1], &b->p[i]) != 0)
			b->p[j++] = b->p[i];
	b->np = j;
	/* An empty CONTENT_LENGTH or CONTENT_TYPE means "no body" (nginx
	 * always sends both): leave it out (RFC 3875 4.1.2, 4.1.3). Done
	 * after the first-wins pass so we agree with FCGX_GetParam. */
	for (i = 0; i < b->np; i++)
		if (b->p[i].val[0] == '\0' &&
		    (name_is(b->p[i].name, b->p[i].nlen, "CONTENT_LENGTH") ||
		    name_is(b->p[i].name, b->p[i].nlen, "CONTENT_TYPE")))
			b->p[i].val = NULL;
	return 0;
}

/* Set NAME to VAL in S, replacing an earlier set of NAME. NAME must be a
 * valid environment variable name; others are skipped (the manifest
 * refuses them already). VAL NULL: nothing to set. */
static void
set(struct envb *b, const char *name, const char *val)
{
	size_t i, nlen;

	if (val == NULL || name == NULL || !units_valid_env_name(name))
		return;
	nlen = strlen(name);
	for (i = 0; i < b->ns; i++) {
		if (b->s[i].nlen == nlen &&
		    memcmp(b->s[i].name, name, nlen) == 0) {
			b->s[i].val = val;
			return;
		}
	}
	if (b->ns < b->cap_s)
		b->s[b->ns++] = (struct ent){ name, nlen, val, 0 };
}

static int
add_size(size_t *size, size_t x)
{
	if (x > SIZE_MAX - *size)
		return -1;
	*size += x;
	return 0;
}

/* Lay out the pointer array and every "NAME=value" in one allocation:
 * first S, then P (minus the names S masks). S starts with
 * FN_REQUEST_ID, so the reaper finds it in the first bytes of
 * /proc/PID/environ whatever the request's params. NULL on ENOMEM or when the
 * size does not fit in a size_t. */
static char **
pack(const struct envb *b)
{
	size_t count = 0, size = 0, i, k = 0;
	const struct ent *e;
	char **env, *w;

	for (i = 0; i < b->np + b->ns; i++) {
		e = i < b->ns ? &b->s[i] : &b->p[i - b->ns];
		if (e->val == NULL)
			continue;
		count++;
		if (add_size(&size, e->nlen) == -1 ||
		    add_size(&size, strlen(e->val)) == -1 ||
		    add_size(&size, 2) == -1)
			goto overflow;
	}
	if (count + 1 > (SIZE_MAX - size) / sizeof(char *))
		goto overflow;
	env = malloc((count + 1) * sizeof(char *) + size);
	if (env == NULL)
		return NULL;
	w = (char *)(env + count + 1);
	for (i = 0; i < b->np + b->ns; i++) {
		size_t vlen;

		e = i < b->ns ? &b->s[i] : &b->p[i - b->ns];
		if (e->val == NULL)
			continue;
		vlen = strlen(e->val);
		env[k++] = w;
		memcpy(w, e->name, e->nlen);
		w[e->nlen] = '=';
		memcpy(w + e->nlen + 1, e->val, vlen + 1);
		w += e->nlen + vlen + 2;
	}
	env[k] = NULL;
	return env;
overflow:
	errno = ENOMEM;
	return NULL;
}

/* The layers in order of precedence (SPEC.md section 5): CGI
 * meta-variables, fnlauncher's own, pass_params, pass_env, env. */
static void
set_layers(struct envb *b, const struct cgienv_in *in, const char *timeout)
{
	const struct fn_spec *fn = in->fn;
	size_t i;

	set(b, "FN_REQUEST_ID", in->request_id);    /* first: see pack() */
	set(b, "GATEWAY_INTERFACE", "CGI/1.1");
	if (find_p(b, "QUERY_STRING") == NULL)
		set(b, "QUERY_STRING", ""); /* RFC 3875 4.1.7: always set */
	set(b, "SCRIPT_NAME", in->script_name);
	if (in->path_info != NULL && in->path_info[0] != '\0')
		set(b, "PATH_INFO", in->path_info);
	set(b, "SCRIPT_FILENAME", fn->path);
	set(b, "FN_NAME", fn->name);
	set(b, "FN_TIMEOUT_MS", timeout);
	set(b, "FN_TRIGGER", in->trigger ? in->trigger : "http");
	if (in->job_id != NULL) {
		set(b, "FN_JOB_ID", in->job_id);
		set(b, "FN_JOB_ATTEMPT", in->attempt);
	}
	set(b, "PATH", CGIENV_PATH);
	for (i = 0; i < fn->npass_params; i++)
		set(b, fn->pass_params[i],
		    lookup(in->params, fn->pass_params[i]));
	for (i = 0; i < fn->npass_env; i++)
		set(b, fn->pass_env[i],
		    lookup(in->daemon_env, fn->pass_env[i]));
	for (i = 0; i < fn->nenv; i++)
		set(b, fn->env[i].name, fn->env[i].value);
}

/* See cgienv.h. Temporary tables are freed before returning; the result
 * is one allocation. */
char **
cgienv_build(const struct cgienv_in *in)
{
	const struct fn_spec *fn = in->fn;
	struct envb b = { 0 };
	char timeout[24];
	char **env = NULL;
	size_t i;
	int n;

	n = snprintf(timeout, sizeof(timeout), "%" PRIu64, in->timeout_ms);
	if (n < 0 || (size_t)n >= sizeof(timeout))
		return NULL;
	if (collect_params(&b, in->params) == -1)
		return NULL;
	b.cap_s = 12 + fn->npass_params + fn->npass_env + fn->nenv;
	b.s = calloc(b.cap_s, sizeof(*b.s));
	if (b.s == NULL)
		goto out;
	set_layers(&b, in, timeout);
	for (i = 0; i < b.ns; i++) {
		struct ent *e = find_p(&b, b.s[i].name);

		if (e != NULL)
			e->val = NULL; /* masked by a later layer */
	}
	env = pack(&b);
out:
	free(b.p);
	free(b.s);
	return env;
}
