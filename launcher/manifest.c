/* manifest.c — the manifest as an immutable table of functions
 * (manifest.h, SPEC.md section 3).
 *
 * manifest_parse() runs three pure steps: yamltree (bytes to a bounded
 * tree), manifest_schema (tree to values, every problem with line:col),
 * then the merge here: built-in defaults < "defaults" < each function's
 * own keys, paths made absolute, functions sorted by name.
 * manifest_load() is the thin I/O shell: read the file, find its folder. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "envfiles.h"
#include "auth.h"
#include "manifest_schema.h"
#include "units.h"
#include "yamltree.h"

#define MAX_RESOLVED (64 << 20) /* bytes of defaults copied into functions */

/* ---- errors ------------------------------------------------------------ */

int
manifest_error_add(struct manifest_errors *errs, unsigned line, unsigned col,
    const char *fmt, ...)
{
	struct manifest_error *v;
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((v = realloc(errs->v, (errs->n + 1) * sizeof(*v))) == NULL) {
		free(msg);
		return -1;
	}
	errs->v = v;
	v[errs->n].line = line;
	v[errs->n].col = col;
	v[errs->n].msg = msg;
	errs->n++;
	return 0;
}

void
manifest_errors_clear(struct manifest_errors *errs)
{
	size_t i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->v[i].msg);
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}

const char *
manifest_error_format(const char *file, const struct manifest_error *e,
    char *buf, size_t size)
{
	int n;

	if (buf == NULL || size == 0)
		return buf;
	if (file == NULL)
		file = "-";
	if (e->line == 0)
		n = snprintf(buf, size, "%s: %s", file, e->msg);
	else
		n = snprintf(buf, size, "%s:%u:%u: %s", file, e->line, e->col,
		    e->msg);
	if (n < 0)
		buf[0] = '\0';
	else if ((size_t)n >= size && size > 4)
		memcpy(buf + size - 4, "...", 4);  /* show it was cut */
	return buf;
}

/* Errors from index FIRST on in file order (stable); those without a
 * place ("too many problems") last. At most ~100 of them: insertion. */
static void
sort_errors(struct manifest_errors *errs, size_t first)
{
	struct manifest_error t;
	size_t i, j;

	for (i = first + 1; i < errs->n; i++) {
		t = errs->v[i];
		for (j = i; j > first; j--) {
			const struct manifest_error *p = &errs->v[j - 1];
			unsigned pl = p->line ? p->line : UINT_MAX;
			unsigned tl = t.line ? t.line : UINT_MAX;

			if (pl < tl || (pl == tl && p->col <= t.col))
				break;
			errs->v[j] = *p;
		}
		errs->v[j] = t;
	}
}

/* ---- fn_spec ----------------------------------------------------------- */

void
manifest_strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
manifest_env_free(struct fn_kv *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
}

static int
dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (src != NULL && (*dst = strdup(src)) == NULL)
		return -1;
	return 0;
}

/* *DST = a deep copy of the N strings of SRC (NULL when N is 0). */
static int
dup_strv(char ***dst, char *const *src, size_t n)
{
	char **v;
	size_t i;

	*dst = NULL;
	if (n == 0)
		return 0;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((v[i] = strdup(src[i])) == NULL) {
			manifest_strv_free(v, i);
			return -1;
		}
	}
	*dst = v;
	return 0;
}

static int
dup_env(struct fn_kv **dst, const struct fn_kv *src, size_t n)
{
	struct fn_kv *v;
	size_t i;

	*dst = NULL;
	if (n == 0)
		return 0;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((v[i].name = strdup(src[i].name)) == NULL ||
		    (v[i].value = strdup(src[i].value)) == NULL) {
			manifest_env_free(v, i + 1);
			return -1;
		}
	}
	*dst = v;
	return 0;
}

void
fn_spec_clear(struct fn_spec *s)
{
	if (s == NULL)
		return;
	free(s->name);
	free(s->path);
	manifest_strv_free(s->args, s->nargs);
	manifest_strv_free(s->methods, s->nmethods);
	free(s->content_type);
	manifest_env_free(s->env, s->nenv);
	manifest_strv_free(s->pass_env, s->npass_env);
	manifest_strv_free(s->pass_params, s->npass_params);
	manifest_strv_free(s->env_files, s->nenv_files);
	free(s->user);
	free(s->group);
	free(s->cwd);
	free(s->tenant);
	free(s->schedule);
	free(s->schedule_method);
	free(s->schedule_body);
	free(s->schedule_tz);
	fn_auth_clear(&s->auth);
	memset(s, 0, sizeof(*s));
}

int
fn_spec_copy(struct fn_spec *dst, const struct fn_spec *src)
{
	struct fn_spec t;

	if (dst == NULL || src == NULL) {
		errno = EINVAL;
		return -1;
	}
	/* Scalars and counts from SRC; every pointer is then owned by T. */
	t = *src;
	t.name = t.path = t.content_type = t.user = t.group = t.cwd = NULL;
	t.args = t.methods = t.pass_env = t.pass_params = t.env_files = NULL;
	t.env = NULL;
	t.tenant = t.schedule = t.schedule_method = t.schedule_body = NULL;
	t.schedule_tz = NULL;
	memset(&t.auth, 0, sizeof(t.auth));
	if (dup_str(&t.name, src->name) < 0 ||
	    dup_str(&t.tenant, src->tenant) < 0 ||
	    dup_str(&t.schedule, src->schedule) < 0 ||
	    dup_str(&t.schedule_method, src->schedule_method) < 0 ||
	    dup_str(&t.schedule_body, src->schedule_body) < 0 ||
	    dup_str(&t.schedule_tz, src->schedule_tz) < 0 ||
	    dup_str(&t.path, src->path) < 0 ||
	    dup_strv(&t.args, src->args, src->nargs) < 0 ||
	    dup_strv(&t.methods, src->methods, src->nmethods) < 0 ||
	    dup_str(&t.content_type, src->content_type) < 0 ||
	    dup_env(&t.env, src->env, src->nenv) < 0 ||
	    dup_strv(&t.pass_env, src->pass_env, src->npass_env) < 0 ||
	    dup_strv(&t.pass_params, src->pass_params, src->npass_params) < 0 ||
	    dup_strv(&t.env_files, src->env_files, src->nenv_files) < 0 ||
	    dup_str(&t.user, src->user) < 0 ||
	    dup_str(&t.group, src->group) < 0 ||
	    dup_str(&t.cwd, src->cwd) < 0 ||
	    fn_auth_copy(&t.auth, &src->auth) < 0)
		goto fail;
	*dst = t;
	return 0;
fail:
	fn_spec_clear(&t);
	errno = ENOMEM;
	return -1;
}

void
fn_auth_clear(struct fn_auth *a)
{
	manifest_strv_free(a->token_files, a->ntoken_files);
	manifest_strv_free(a->tokens, a->ntokens);
	free(a->scheme);
	free(a->header);
	free(a->algorithm);
	free(a->prefix);
	free(a->secret_file);
	free(a->timestamp_header);
	if (a->secret != NULL)
		explicit_bzero(a->secret, a->secret_len);
	free(a->secret);
	memset(a, 0, sizeof(*a));
}

int
fn_auth_copy(struct fn_auth *dst, const struct fn_auth *src)
{
	struct fn_auth t = *src;

	t.token_files = t.tokens = NULL;
	t.scheme = t.header = t.algorithm = t.prefix = t.secret_file = NULL;
	t.timestamp_header = t.secret = NULL;
	if (dup_strv(&t.token_files, src->token_files, src->ntoken_files) < 0 ||
	    dup_strv(&t.tokens, src->tokens, src->ntokens) < 0 ||
	    dup_str(&t.scheme, src->scheme) < 0 ||
	    dup_str(&t.header, src->header) < 0 ||
	    dup_str(&t.algorithm, src->algorithm) < 0 ||
	    dup_str(&t.prefix, src->prefix) < 0 ||
	    dup_str(&t.secret_file, src->secret_file) < 0 ||
	    dup_str(&t.timestamp_header, src->timestamp_header) < 0)
		goto fail;
	if (src->secret != NULL) {
		if ((t.secret = malloc(src->secret_len + 1)) == NULL)
			goto fail;
		memcpy(t.secret, src->secret, src->secret_len + 1);
	}
	*dst = t;
	return 0;
fail:
	fn_auth_clear(&t);
	errno = ENOMEM;
	return -1;
}

const char *
fn_spec_key(const struct fn_spec *s, char *buf, size_t size)
{
	if (s->tenant != NULL)
		snprintf(buf, size, "~%s/%s", s->tenant, s->name ? s->name : "");
	else
		snprintf(buf, size, "%s", s->name ? s->name : "");
	return buf;
}

bool
manifest_valid_tenant(const char *name)
{
	size_t n = 0;

	for (; name[n] != '\0'; n++)
		if (!((name[n] >= 'a' && name[n] <= 'z') ||
		    (name[n] >= '0' && name[n] <= '9') || name[n] == '_' ||
		    name[n] == '-'))
			return false;
	/* "_main" names the main manifest's log file (FNLOG_MAIN_TENANT) */
	return n >= 1 && n <= FN_NAME_MAX && name[0] != '_' && name[0] != '-';
}

bool
fn_spec_allows(const struct fn_spec *s, const char *method)
{
	size_t i;

	if (s == NULL || method == NULL)
		return false;
	for (i = 0; i < s->nmethods; i++)
		if (strcmp(s->methods[i], method) == 0)
			return true;
	return false;
}

/* ---- built-in defaults (SPEC section 3, the "defaults" example) -------- */

static int
builtin_spec(struct fn_spec *s)
{
	static const char *const methods[] = {
		"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
	};
	static const uint64_t limits[FN_LIMIT_COUNT] = {
		[FN_LIMIT_CPU] = 10,
		[FN_LIMIT_MEMORY] = 512ull << 20,
		[FN_LIMIT_NOFILE] = 256,
		[FN_LIMIT_NPROC] = 64,
		[FN_LIMIT_FSIZE] = 64ull << 20,
		[FN_LIMIT_STACK] = 8ull << 20,
		[FN_LIMIT_CORE] = 0,
		[FN_LIMIT_ADDRESS_SPACE] = FN_UNLIMITED,
		[FN_LIMIT_TMP] = 64ull << 20,
		[FN_LIMIT_CPU_QUOTA] = FN_UNLIMITED,
	};

	memset(s, 0, sizeof(*s));
	s->timeout_ms = 30 * 1000;
	s->kill_grace_ms = 2 * 1000;
	s->concurrency = 16;
	s->queue = 256;
	s->queue_timeout_ms = 5 * 1000;
	s->max_body = 8ull << 20;
	s->retries = 3;
	s->retry_backoff_ms = 10 * 1000;
	s->mode = FN_MODE_CGI;
	memcpy(s->limits, limits, sizeof(limits));
	s->umask = 0022;
	s->isolate = FN_ISOLATE_DEFAULT;
	s->nmethods = sizeof(methods) / sizeof(methods[0]);
	if (dup_strv(&s->methods, (char *const *)methods, s->nmethods) < 0 ||
	    dup_str(&s->content_type, "application/octet-stream") < 0 ||
	    dup_str(&s->user, FN_USER_DYNAMIC) < 0)
		return -1;
	return 0;
}

static struct manifest *
manifest_new(const char *file, const char *dir)
{
	static const char *const allow[] = { "127.0.0.0/8", "::1/128" };
	struct manifest *m;
	size_t i;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->socket_mode = 0660;
	m->workers = 64;
	m->admin = true;
	m->shutdown_timeout_ms = 10 * 1000;
	m->stderr_max = 64 * 1024;
	m->async_keep_ms = 24ull * 3600 * 1000;
	m->async_result_max = 1ull << 20;
	m->async_max_jobs = 10000;
	m->dynamic_first = FN_DYNAMIC_FIRST;
	m->dynamic_last = FN_DYNAMIC_LAST;
	m->nallow_from = 2;
	if (builtin_spec(&m->defaults) < 0 ||
	    dup_str(&m->file, file ? file : "") < 0 ||
	    dup_str(&m->dir, dir ? dir : ".") < 0 ||
	    dup_str(&m->prefix, "/") < 0 ||
	    dup_str(&m->log_invocations, "stderr") < 0 ||
	    dup_str(&m->cgroup, "auto") < 0 ||
	    dup_str(&m->spool_dir, FN_SPOOL_DIR) < 0 ||
	    (m->allow_from = calloc(2, sizeof(*m->allow_from))) == NULL) {
		manifest_free(m);
		return NULL;
	}
	for (i = 0; i < 2; i++)
		(void)units_cidr(allow[i], &m->allow_from[i].family,
		    m->allow_from[i].addr, &m->allow_from[i].prefix, NULL);
	return m;
}

void
manifest_free(struct manifest *m)
{
	size_t i;

	if (m == NULL)
		return;
	free(m->file);
	free(m->dir);
	free(m->listen);
	free(m->socket_owner);
	free(m->socket_group);
	free(m->allow_from);
	free(m->functions_dir);
	free(m->prefix);
	free(m->log_invocations);
	free(m->cgroup);
	free(m->spool_dir);
	free(m->tenants_dir);
	for (i = 0; i < m->ntenants; i++)
		manifest_free(m->tenants[i]);
	free(m->tenants);
	free(m->tenant);
	free(m->tenant_user);
	manifest_strv_free(m->hosts, m->nhosts);
	fn_spec_clear(&m->defaults);
	for (i = 0; i < m->nfunctions; i++)
		fn_spec_clear(&m->functions[i]);
	free(m->functions);
	free(m);
}

/* ---- merge ------------------------------------------------------------- */

/* REL against BASE (both strings only, no realpath): an absolute REL is
 * kept; leading "./" are dropped; trailing slashes are trimmed. */
static char *
path_join(const char *base, const char *rel)
{
	size_t blen = strlen(base), len;
	char *out;

	if (*rel != '/') {
		while (rel[0] == '.' && rel[1] == '/')
			for (rel += 2; *rel == '/'; rel++)
				;
		if (strcmp(rel, ".") == 0)
			rel = "";
		while (blen > 1 && base[blen - 1] == '/')
			blen--;
		if (asprintf(&out, "%.*s%s%s", (int)blen, base,
		    (*rel == '\0' || base[blen - 1] == '/') ? "" : "/",
		    rel) < 0)
			return NULL;
	} else if ((out = strdup(rel)) == NULL) {
		return NULL;
	}
	for (len = strlen(out); len > 1 && out[len - 1] == '/'; len--)
		out[len - 1] = '\0';
	return out;
}

static int
replace_str(char **dst, const char *src)
{
	char *s;

	if (dup_str(&s, src) < 0)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

static int
replace_strv(char ***dst, size_t *n, char *const *src, size_t srcn)
{
	char **v;

	if (dup_strv(&v, src, srcn) < 0)
		return -1;
	manifest_strv_free(*dst, *n);
	*dst = v;
	*n = srcn;
	return 0;
}

/* DST's env, then SRC's: a name already there gets SRC's value in place,
 * new names are appended (SPEC: env merges key by key). */
static int
env_merge(struct fn_spec *dst, const struct fn_spec *src)
{
	struct fn_kv *kv;
	size_t i, j, n = 0;

	if ((kv = calloc(dst->nenv + src->nenv + 1, sizeof(*kv))) == NULL)
		return -1;
	for (i = 0; i < dst->nenv + src->nenv; i++) {
		const struct fn_kv *e = i < dst->nenv ? &dst->env[i] :
		    &src->env[i - dst->nenv];

		for (j = 0; j < n && strcmp(kv[j].name, e->name) != 0; j++)
			;
		if (j == n && (kv[n++].name = strdup(e->name)) == NULL)
			goto fail;
		free(kv[j].value);
		if ((kv[j].value = strdup(e->value)) == NULL)
			goto fail;
	}
	manifest_env_free(dst->env, dst->nenv);
	dst->env = kv;
	dst->nenv = n;
	return 0;
fail:
	manifest_env_free(kv, n);
	return -1;
}

#define HAS(p, k) ((p)->set & (1u << MSPEC_##k))

/* Overlay the keys P sets onto D: scalars and lists replace, limits and
 * env merge key by key. "path" is resolved by the caller. */
static int
spec_apply(struct fn_spec *d, const struct mpart *p)
{
	const struct fn_spec *s = &p->s;
	size_t i;

	if (HAS(p, TIMEOUT)) d->timeout_ms = s->timeout_ms;
	if (HAS(p, KILL_GRACE)) d->kill_grace_ms = s->kill_grace_ms;
	if (HAS(p, CONCURRENCY)) d->concurrency = s->concurrency;
	if (HAS(p, QUEUE)) d->queue = s->queue;
	if (HAS(p, QUEUE_TIMEOUT)) d->queue_timeout_ms = s->queue_timeout_ms;
	if (HAS(p, MAX_BODY)) d->max_body = s->max_body;
	if (HAS(p, CATCH_UP)) d->catch_up = s->catch_up;
	if (HAS(p, ASYNC)) d->async = s->async;
	if (HAS(p, RETRIES)) d->retries = s->retries;
	if (HAS(p, RETRY_BACKOFF)) d->retry_backoff_ms = s->retry_backoff_ms;
	if (HAS(p, MODE)) d->mode = s->mode;
	if (HAS(p, UMASK)) d->umask = s->umask;
	if (HAS(p, ALLOW_ROOT)) d->allow_root = s->allow_root;
	if (HAS(p, TRUST_ACCEL_HEADERS))
		d->trust_accel_headers = s->trust_accel_headers;
	if (HAS(p, ISOLATE)) {
		d->isolate = s->isolate;
		d->isolate_set = true;
	}
	for (i = 0; i < FN_LIMIT_COUNT; i++)
		if (p->limits_set & (1u << i))
			d->limits[i] = s->limits[i];
	if (HAS(p, AUTH)) {
		fn_auth_clear(&d->auth);
		if (fn_auth_copy(&d->auth, &s->auth) < 0)
			return -1;
	}
	if ((HAS(p, CONTENT_TYPE) &&
	    replace_str(&d->content_type, s->content_type) < 0) ||
	    (HAS(p, USER) && replace_str(&d->user, s->user) < 0) ||
	    (HAS(p, GROUP) && replace_str(&d->group, s->group) < 0) ||
	    (HAS(p, CWD) && replace_str(&d->cwd, s->cwd) < 0) ||
	    (HAS(p, SCHEDULE) && replace_str(&d->schedule, s->schedule) < 0) ||
	    (HAS(p, SCHEDULE_METHOD) &&
	    replace_str(&d->schedule_method, s->schedule_method) < 0) ||
	    (HAS(p, SCHEDULE_BODY) &&
	    replace_str(&d->schedule_body, s->schedule_body) < 0) ||
	    (HAS(p, SCHEDULE_TZ) &&
	    replace_str(&d->schedule_tz, s->schedule_tz) < 0) ||
	    (HAS(p, ARGS) &&
	    replace_strv(&d->args, &d->nargs, s->args, s->nargs) < 0) ||
	    (HAS(p, METHODS) && replace_strv(&d->methods, &d->nmethods,
	    s->methods, s->nmethods) < 0) ||
	    (HAS(p, ENV_FILES) && replace_strv(&d->env_files, &d->nenv_files,
	    s->env_files, s->nenv_files) < 0) ||
	    (HAS(p, PASS_ENV) && replace_strv(&d->pass_env, &d->npass_env,
	    s->pass_env, s->npass_env) < 0) ||
	    (HAS(p, PASS_PARAMS) && replace_strv(&d->pass_params,
	    &d->npass_params, s->pass_params, s->npass_params) < 0) ||
	    (HAS(p, ENV) && env_merge(d, s) < 0))
		return -1;
	return 0;
}

static int
cmp_spec(const void *a, const void *b)
{
	return strcmp(((const struct fn_spec *)a)->name,
	    ((const struct fn_spec *)b)->name);
}

/* One function: the resolved defaults, then its own keys. A relative
 * path is relative to functions_dir (SPEC), else to the manifest's folder. */
static int
resolve_function(struct manifest *m, const struct mpart *p)
{
	struct fn_spec *f = &m->functions[m->nfunctions];
	const char *base = m->functions_dir ? m->functions_dir : m->dir;

	if (fn_spec_copy(f, &m->defaults) < 0)
		return -1;
	m->nfunctions++;
	if (spec_apply(f, p) < 0 || (f->name = strdup(p->s.name)) == NULL ||
	    (f->path = path_join(base, p->s.path)) == NULL)
		return -1;
	return 0;
}

static size_t
str_bytes(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static size_t
strv_bytes(char *const *v, size_t n)
{
	size_t b = (n + 1) * sizeof(*v), i;

	for (i = 0; i < n; i++)
		b += strlen(v[i]) + 1;
	return b;
}

/* About what one copy of S takes in memory. */
static size_t
spec_bytes(const struct fn_spec *s)
{
	size_t b = sizeof(*s), i;

	for (i = 0; i < s->nenv; i++)
		b += sizeof(*s->env) + str_bytes(s->env[i].name) +
		    str_bytes(s->env[i].value);
	return b + str_bytes(s->content_type) + str_bytes(s->user) +
	    str_bytes(s->group) + str_bytes(s->cwd) +
	    strv_bytes(s->methods, s->nmethods) +
	    strv_bytes(s->pass_env, s->npass_env) +
	    strv_bytes(s->pass_params, s->npass_params);
}

/* tenant_max as written into the manifest's caps. */
static void
resolve_caps(struct mschema *w)
{
	struct tenant_caps *c = &w->m->tenant_max;
	const struct fn_spec *s = &w->caps.s;

	c->timeout_ms = w->caps_set & (1u << MCAP_TIMEOUT) ? s->timeout_ms : 0;
	c->concurrency = w->caps_set & (1u << MCAP_CONCURRENCY) ?
	    s->concurrency : 0;
	c->max_body = w->caps_set & (1u << MCAP_MAX_BODY) ? s->max_body :
	    FN_UNLIMITED;
	for (size_t i = 0; i < FN_LIMIT_COUNT; i++)
		c->limits[i] = w->caps.limits_set & (1u << i) ? s->limits[i] :
		    FN_UNLIMITED;
}

/* A tenant's defaults start from the main manifest's, less what is the
 * admin's own (identity, environment, files, the folder), cut down to
 * tenant_max; the tenant's user replaces the identity. */
static int
tenant_defaults(struct mschema *w)
{
	struct fn_spec *d = &w->m->defaults;
	const struct tenant_caps *c = &w->main->tenant_max;

	if (w->m->tenant_user == NULL) {
		(void)manifest_error_add(w->errs, 0, 0, "a tenant file needs "
		    "\"user\" (an account, or dynamic)");
		return -2;
	}
	fn_spec_clear(d);
	if (fn_spec_copy(d, &w->main->defaults) < 0)
		return -1;
	free(d->group);
	free(d->cwd);
	d->group = d->cwd = NULL;
	manifest_env_free(d->env, d->nenv);
	manifest_strv_free(d->env_files, d->nenv_files);
	manifest_strv_free(d->pass_env, d->npass_env);
	manifest_strv_free(d->pass_params, d->npass_params);
	d->env = NULL;
	d->env_files = d->pass_env = d->pass_params = NULL;
	d->nenv = d->nenv_files = d->npass_env = d->npass_params = 0;
	d->allow_root = d->trust_accel_headers = false;
	if (c->timeout_ms > 0 && d->timeout_ms > c->timeout_ms)
		d->timeout_ms = c->timeout_ms;
	if (c->concurrency > 0 && d->concurrency > c->concurrency)
		d->concurrency = c->concurrency;
	if (d->max_body > c->max_body)
		d->max_body = c->max_body;
	for (size_t i = 0; i < FN_LIMIT_COUNT; i++)
		if (d->limits[i] > c->limits[i])
			d->limits[i] = c->limits[i];
	/* waiting holds a connection thread: bounded as the admin's */
	if (w->m->budget.queue == 0 || w->m->budget.queue > d->queue)
		w->m->budget.queue = d->queue;
	if (replace_str(&d->user, w->m->tenant_user) < 0 ||
	    replace_str(&d->tenant, w->m->tenant) < 0)
		return -1;
	return 0;
}

/* The merge, once every key of the file is known ("defaults" may come
 * after "functions"). Every function holds a copy of the defaults: a
 * small file with large defaults and many functions could take GiBs, so
 * the copies are capped at MAX_RESOLVED bytes. Returns 0, -1 (no memory)
 * or -2 (over the cap, reported). */
static int
resolve(struct mschema *w)
{
	struct manifest *m = w->m;
	size_t i, len = strlen(m->prefix);
	char *s;
	int rc;

	if (m->prefix[len - 1] != '/') {
		if (asprintf(&s, "%s/", m->prefix) < 0)
			return -1;
		free(m->prefix);
		m->prefix = s;
	}
	if (m->functions_dir != NULL) {
		if ((s = path_join(m->dir, m->functions_dir)) == NULL)
			return -1;
		free(m->functions_dir);
		m->functions_dir = s;
	}
	if (m->tenants_dir != NULL) {
		if ((s = path_join(m->dir, m->tenants_dir)) == NULL)
			return -1;
		free(m->tenants_dir);
		m->tenants_dir = s;
	}
	resolve_caps(w);
	if (w->tenant && (rc = tenant_defaults(w)) < 0)
		return rc;
	if (spec_apply(&m->defaults, &w->defaults) < 0)
		return -1;
	if (w->nfns > 0 && spec_bytes(&m->defaults) > MAX_RESOLVED / w->nfns) {
		(void)manifest_error_add(w->errs, 0, 0, "functions and their "
		    "defaults would take more than %d MiB", MAX_RESOLVED >> 20);
		return -2;
	}
	if ((m->functions = calloc(w->nfns + 1, sizeof(*m->functions))) == NULL)
		return -1;
	for (i = 0; i < w->nfns; i++)
		if (resolve_function(m, &w->fns[i]) < 0)
			return -1;
	for (i = 0; w->tenant && i < m->nfunctions; i++)
		if (replace_str(&m->functions[i].user, m->tenant_user) < 0)
			return -1;
	qsort(m->functions, m->nfunctions, sizeof(*m->functions), cmp_spec);
	return 0;
}

/* ---- parse and load ---------------------------------------------------- */

static void
schema_clear(struct mschema *w)
{
	size_t i;

	fn_spec_clear(&w->defaults.s);
	for (i = 0; i < w->nfns; i++)
		fn_spec_clear(&w->fns[i].s);
	free(w->fns);
	manifest_free(w->m);
}

/* A main manifest (MAIN NULL) or tenant TENANT's file, checked against
 * MAIN. */
static int
parse(const char *text, size_t len, const char *file, const char *dir,
    const struct manifest *main, const char *tenant, struct manifest **out,
    struct manifest_errors *errs)
{
	static const struct manifest none;
	struct mschema w = { .errs = errs, .tenant = main != NULL,
	    .main = main ? main : &none };
	struct ytree_error ye;
	struct ynode *root = NULL;
	size_t first = errs->n;
	int rc = -1;

	if (out == NULL || errs == NULL) {
		errno = EINVAL;
		return -1;
	}
	*out = NULL;
	if (len > MANIFEST_MAX_BYTES) {
		(void)manifest_error_add(errs, 0, 0, "manifest is larger than "
		    "%d bytes", MANIFEST_MAX_BYTES);
		return -1;
	}
	if (ytree_parse(text ? text : "", text ? len : 0, &root, &ye) < 0) {
		(void)manifest_error_add(errs, ye.line, ye.col, "%s", ye.msg);
		return -1;
	}
	if ((w.m = manifest_new(file, dir)) == NULL ||
	    (tenant != NULL && dup_str(&w.m->tenant, tenant) < 0)) {
		(void)manifest_error_add(errs, 0, 0, "out of memory");
	} else if (manifest_schema_walk(&w, root) == 0) {
		if ((rc = resolve(&w)) == 0) {
			*out = w.m;
			w.m = NULL;
		} else if (rc == -1) {
			(void)manifest_error_add(errs, 0, 0, "out of memory");
		}
	}
	sort_errors(errs, first);
	schema_clear(&w);
	ytree_free(root);
	return rc == 0 ? 0 : -1;
}

int
manifest_parse(const char *text, size_t len, const char *file,
    const char *dir, struct manifest **out, struct manifest_errors *errs)
{
	return parse(text, len, file, dir, NULL, NULL, out, errs);
}

int
manifest_parse_tenant(const char *text, size_t len, const char *file,
    const char *name, const struct manifest *main, struct manifest **out,
    struct manifest_errors *errs)
{
	const char *slash = file ? strrchr(file, '/') : NULL;
	char *dir = slash && slash != file ? strndup(file,
	    (size_t)(slash - file)) : strdup("/");
	int rc;

	if (dir == NULL || main == NULL || name == NULL) {
		free(dir);
		(void)manifest_error_add(errs, 0, 0, "out of memory");
		return -1;
	}
	rc = parse(text, len, file, dir, main, name, out, errs);
	free(dir);
	return rc;
}

/* Read at most MANIFEST_MAX_BYTES of FILE into *TEXT (NUL-terminated). */
static int
read_file(const char *file, char **text, size_t *len,
    struct manifest_errors *errs)
{
	struct stat st;
	size_t n = 0;
	ssize_t r = 0;
	char *buf = NULL;
	int fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		goto fail;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (S_ISREG(st.st_mode) && st.st_size > MANIFEST_MAX_BYTES)
		goto too_big;
	if ((buf = malloc(MANIFEST_MAX_BYTES + 2)) == NULL)
		goto fail;
	/* Read one byte more than allowed to notice a file that grew. */
	while (n <= MANIFEST_MAX_BYTES && (r = read(fd, buf + n,
	    MANIFEST_MAX_BYTES + 1 - n)) != 0) {
		if (r < 0 && errno != EINTR)
			goto fail;
		if (r > 0)
			n += (size_t)r;
	}
	if (n > MANIFEST_MAX_BYTES)
		goto too_big;
	close(fd);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
too_big:
	(void)manifest_error_add(errs, 0, 0, "manifest is larger than %d "
	    "bytes", MANIFEST_MAX_BYTES);
	errno = 0;
fail:
	if (errno != 0)
		(void)manifest_error_add(errs, 0, 0, "cannot read: %s",
		    strerror(errno));
	if (fd >= 0)
		close(fd);
	free(buf);
	return -1;
}

int
manifest_read(const char *file, char **text, size_t *len,
    struct manifest_errors *errs)
{
	return read_file(file, text, len, errs);
}

/* The absolute folder of FILE: its dirname, under getcwd() if relative. */
static char *
file_dir(const char *file, struct manifest_errors *errs)
{
	const char *slash = strrchr(file, '/');
	char cwd[PATH_MAX], *rel, *dir;

	if (slash == file)
		return strdup("/");
	if (file[0] == '/')
		return strndup(file, (size_t)(slash - file));
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		(void)manifest_error_add(errs, 0, 0, "cannot find the current "
		    "folder: %s", strerror(errno));
		return NULL;
	}
	if ((rel = strndup(file, slash ? (size_t)(slash - file) : 0)) == NULL)
		return NULL;
	dir = path_join(cwd, rel);
	free(rel);
	return dir;
}

int
manifest_load(const char *file, struct manifest **out,
    struct manifest_errors *errs)
{
	char *text = NULL, *dir = NULL;
	size_t len = 0;
	int rc = -1;

	if (file == NULL || out == NULL || errs == NULL) {
		errno = EINVAL;
		return -1;
	}
	*out = NULL;
	if (read_file(file, &text, &len, errs) < 0)
		return -1;
	if ((dir = file_dir(file, errs)) == NULL) {
		if (errs->n == 0)
			(void)manifest_error_add(errs, 0, 0, "out of memory");
	} else if ((rc = manifest_parse(text, len, file, dir, out,
	    errs)) == 0 && ((rc = envfiles_load(*out, errs)) < 0 ||
	    (rc = auth_load(*out, errs)) < 0)) {
		manifest_free(*out);
		*out = NULL;
	}
	free(text);
	free(dir);
	return rc;
}

/* ---- lookups ----------------------------------------------------------- */

static int
cmp_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct fn_spec *)elem)->name);
}

const struct fn_spec *
manifest_find(const struct manifest *m, const char *name)
{
	if (m == NULL || name == NULL || m->nfunctions == 0)
		return NULL;
	return bsearch(name, m->functions, m->nfunctions,
	    sizeof(*m->functions), cmp_name);
}

static bool
prefix_match(const unsigned char *net, const unsigned char *a, unsigned bits)
{
	size_t full = bits / 8;
	unsigned rest = bits % 8;
	unsigned char mask = (unsigned char)(0xff00u >> rest);

	if (memcmp(net, a, full) != 0)
		return false;
	return rest == 0 || (net[full] & mask) == (a[full] & mask);
}

/* An IPv4-mapped IPv6 peer (::ffff:a.b.c.d, a dual-stack socket) also
 * matches IPv4 entries. Other families never match. */
bool
manifest_peer_allowed(const struct manifest *m, int family,
    const void *addr)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};
	unsigned char a[16], v4[4];
	bool is_v4;
	size_t i;

	if (m == NULL || addr == NULL ||
	    (family != AF_INET && family != AF_INET6))
		return false;
	memcpy(a, addr, family == AF_INET ? 4 : 16);
	is_v4 = family == AF_INET || memcmp(a, mapped, 12) == 0;
	memcpy(v4, family == AF_INET ? a : a + 12, 4);
	for (i = 0; i < m->nallow_from; i++) {
		const struct fn_cidr *c = &m->allow_from[i];

		if ((c->family == AF_INET && is_v4 &&
		    prefix_match(c->addr, v4, c->prefix)) ||
		    (c->family == AF_INET6 && family == AF_INET6 &&
		    prefix_match(c->addr, a, c->prefix)))
			return true;
	}
	return false;
}
