/* manifest_schema.c — the manifest's schema (SPEC.md section 3) walked
 * over a yamltree. Every problem is collected with the line:col of the
 * offending node: the key for unknown or duplicate keys, the value for bad
 * values. Keys are described by tables; one parser per kind of value.
 *
 * Ranges (chosen here, documented in the man page):
 *   workers, concurrency 1..4096; timeout 1ms..24h; kill_grace 0..1h;
 *   queue 0..65536; queue_timeout 0..1h;
 *   shutdown_timeout 0..24h; max_body, stderr_max 0..1G;
 *   limits: cpu, memory, stack > 0; nofile 1..1048576 (Linux nr_open);
 *   nproc 1..4194304 (pid_max); fsize, core any; all accept "unlimited".
 * Sizes of lists (they are copied into every function): methods 1..64
 * entries; args, env, pass_env, pass_params at most 256; allow_from at
 * most 1024; at most MANIFEST_MAX_FUNCTIONS functions. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_schema.h"
#include "cron.h"
#include "tz.h"
#include "units.h"

#define HOUR_MS (60ull * 60 * 1000)
#define GIB (1024ull * 1024 * 1024)
#define LIST_MAX 256
#define AT(base, off) ((void *)((char *)(base) + (off)))

enum kind {
	K_DURATION,    /* uint64_t ms */
	K_SIZE,        /* uint64_t bytes */
	K_UINT,        /* unsigned */
	K_MODE,        /* mode_t, octal */
	K_BOOL,        /* bool: true or false */
	K_STR,         /* char *, checked by f->check */
	K_STRLIST,     /* char ** + size_t count, entries checked by f->valid */
	K_FNMODE,      /* enum fn_mode */
	K_ISOLATE,     /* unsigned, enum fn_isolate bits */
	K_LIM_SECONDS, /* uint64_t: a duration stored in seconds, rounded up */
	K_LIM_SIZE,    /* uint64_t: a size */
	K_LIM_COUNT,   /* uint64_t: a count */
	K_LIM_QUOTA,   /* uint64_t: percent of one CPU ("50%", "2", "1.5") */
	K_IDRANGE,     /* two uint32_t: "FIRST-LAST" */
	K_LIMITS, K_ENV, K_CIDRS, K_LOG, K_DEFAULTS, K_FUNCTIONS,
	K_BUDGET, K_CAPS, K_AUTH, K_AUTH_BEARER, K_AUTH_HMAC,
};

struct field {
	const char *key;
	enum kind kind;
	size_t off;                 /* value in the base struct */
	size_t noff;                /* count of a list */
	uint64_t min, max;          /* value range, or list length range */
	const char *range;          /* "between 1 and 4096", for messages */
	const char *(*check)(const char *s);   /* K_STR: NULL or the problem */
	bool (*valid)(const char *s);          /* K_STRLIST: entry check */
	const char *noun;           /* K_STRLIST: what an entry is */
};

/* ---- checks of string values: NULL when fine, else what is wrong -------- */

static const char *
check_nonempty(const char *s)
{
	return *s == '\0' ? "must not be empty" : NULL;
}

static const char *
check_ident(const char *s)
{
	if (*s == '\0')
		return "must not be empty";
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == ':')
			return "must be a name without spaces or ':'";
	return NULL;
}

static const char *
check_abs(const char *s)
{
	return *s != '/' ? "must be an absolute path" : NULL;
}

static const char *
check_invocations(const char *s)
{
	if (strcmp(s, "stderr") == 0 || strcmp(s, "off") == 0 || *s == '/')
		return NULL;
	return "must be stderr, off or an absolute path";
}

/* A media type goes into a response header: printable, no CR/LF. */
static const char *
check_ctype(const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			break;
	if (*p != '\0' || strchr(s, '/') == NULL || *s == ' ' || *s == '/' ||
	    p[-1] == ' ')
		return "must be a media type like text/plain";
	return NULL;
}

static const char *
check_cgroup(const char *s)
{
	if (strcmp(s, "auto") == 0 || strcmp(s, "off") == 0 ||
	    (s[0] == '/' && strstr(s, "/../") == NULL &&
	    strcmp(s + strlen(s) - (strlen(s) >= 3 ? 3 : 0), "/..") != 0))
		return NULL;
	return "must be auto, off or an absolute path";
}

static const char *
check_listen(const char *s)
{
	const char *err = NULL;

	return units_listen(s, &err) < 0 ? err : NULL;
}

/* A prefix is compared with nginx's normalized $uri: it must be a clean
 * absolute path, or it could never match. */
static const char *
check_prefix(const char *s)
{
	size_t len = strlen(s), i;

	if (*s != '/')
		return "must start with '/'";
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f ||
		    s[i] == '?' || s[i] == '#')
			return "must not contain spaces, '?' or '#'";
	if (strstr(s, "//") != NULL || strstr(s, "/./") != NULL ||
	    strstr(s, "/../") != NULL ||
	    (len >= 2 && strcmp(s + len - 2, "/.") == 0) ||
	    (len >= 3 && strcmp(s + len - 3, "/..") == 0))
		return "must not contain \"//\", \".\" or \"..\" segments";
	return NULL;
}

static bool
valid_abs_path(const char *s)
{
	return s[0] == '/' && strlen(s) < 4096;
}

/* A schedule (cron.h); the message is kept for the error. */
static const char *
check_schedule(const char *s)
{
	static __thread char why[200];
	struct cron c;

	return cron_parse(s, &c, why, sizeof(why)) == 0 ? NULL : why;
}

/* An IANA time zone name (tz.h reads it at load). */
static const char *
check_tz(const char *s)
{
	static __thread char why[200];

	return tz_check(s, why, sizeof(why)) == 0 ? NULL : why;
}

static const char *
check_any(const char *s)
{
	(void)s;
	return NULL;
}

static const char *
check_method(const char *s)
{
	return units_valid_method(s) ? NULL : "must be a method (GET, POST...)";
}

static const char *
check_scheme(const char *s)
{
	return strcmp(s, "github") && strcmp(s, "stripe") &&
	    strcmp(s, "slack") && strcmp(s, "generic") ?
	    "must be github, stripe, slack or generic" : NULL;
}

static const char *
check_algorithm(const char *s)
{
	return strcmp(s, "sha256") && strcmp(s, "sha1") ?
	    "must be sha256 or sha1" : NULL;
}

/* An HTTP header name: a token. */
static const char *
check_header(const char *s)
{
	if (*s == '\0')
		return "must not be empty";
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return "must be a header name (letters, digits, '-')";
	return NULL;
}

static const char *
check_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x21 || *s == 0x7f)
			return "must be printable, without spaces";
	return NULL;
}

/* A Host name as nginx passes it, lower case, without a port. */
static bool
valid_host(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '.' || *s == '-'))
			return false;
	return true;
}

#define SF(m) offsetof(struct fn_spec, m)
#define MF(m) offsetof(struct manifest, m)
#define LF(i) ((size_t)(i) * sizeof(uint64_t))

#define NUM(key, kind, off, lo, hi, range) \
	{ key, kind, off, 0, lo, hi, range, NULL, NULL, NULL }
#define STR(key, off, check) \
	{ key, K_STR, off, 0, 0, 0, NULL, check, NULL, NULL }
#define LIST(key, off, noff, lo, hi, valid, noun) \
	{ key, K_STRLIST, off, noff, lo, hi, NULL, NULL, valid, noun }
#define OTHER(key, kind, off, hi) \
	{ key, kind, off, 0, 0, hi, NULL, NULL, NULL, NULL }

/* Keys of a function; bit (1u << MSPEC_x) of mpart.set. "path" and
 * "args" are not allowed in "defaults". */
static const struct field spec_fields[MSPEC_COUNT] = {
	[MSPEC_PATH] = STR("path", SF(path), check_nonempty),
	[MSPEC_ARGS] = LIST("args", SF(args), SF(nargs), 0, LIST_MAX, NULL,
	    NULL),
	[MSPEC_TIMEOUT] = NUM("timeout", K_DURATION, SF(timeout_ms), 1,
	    24 * HOUR_MS, "between 1ms and 24h"),
	[MSPEC_KILL_GRACE] = NUM("kill_grace", K_DURATION, SF(kill_grace_ms),
	    0, HOUR_MS, "at most 1h"),
	[MSPEC_CONCURRENCY] = NUM("concurrency", K_UINT, SF(concurrency), 1,
	    4096, "between 1 and 4096"),
	[MSPEC_MAX_BODY] = NUM("max_body", K_SIZE, SF(max_body), 0, GIB,
	    "at most 1G"),
	[MSPEC_METHODS] = LIST("methods", SF(methods), SF(nmethods), 1, 64,
	    units_valid_method, "method"),
	[MSPEC_MODE] = OTHER("mode", K_FNMODE, SF(mode), 0),
	[MSPEC_CONTENT_TYPE] = STR("content_type", SF(content_type),
	    check_ctype),
	[MSPEC_LIMITS] = OTHER("limits", K_LIMITS, 0, 0),
	[MSPEC_ENV] = OTHER("env", K_ENV, 0, LIST_MAX),
	[MSPEC_PASS_ENV] = LIST("pass_env", SF(pass_env), SF(npass_env), 0,
	    LIST_MAX, units_valid_env_name, "environment variable name"),
	[MSPEC_PASS_PARAMS] = LIST("pass_params", SF(pass_params),
	    SF(npass_params), 0, LIST_MAX, units_valid_env_name,
	    "parameter name"),
	[MSPEC_USER] = STR("user", SF(user), check_ident),
	[MSPEC_GROUP] = STR("group", SF(group), check_ident),
	[MSPEC_UMASK] = OTHER("umask", K_MODE, SF(umask), 0),
	[MSPEC_CWD] = STR("cwd", SF(cwd), check_abs),
	[MSPEC_ALLOW_ROOT] = OTHER("allow_root", K_BOOL, SF(allow_root), 0),
	[MSPEC_TRUST_ACCEL_HEADERS] = OTHER("trust_accel_headers", K_BOOL,
	    SF(trust_accel_headers), 0),
	[MSPEC_ISOLATE] = OTHER("isolate", K_ISOLATE, SF(isolate), 0),
	[MSPEC_ENV_FILES] = LIST("env_files", SF(env_files), SF(nenv_files), 0,
	    16, valid_abs_path, "absolute path"),
	[MSPEC_QUEUE] = NUM("queue", K_UINT, SF(queue), 0, 65536,
	    "between 0 and 65536"),
	[MSPEC_QUEUE_TIMEOUT] = NUM("queue_timeout", K_DURATION,
	    SF(queue_timeout_ms), 0, HOUR_MS, "at most 1h"),
	[MSPEC_AUTH] = OTHER("auth", K_AUTH, 0, 0),
	[MSPEC_SCHEDULE] = STR("schedule", SF(schedule), check_schedule),
	[MSPEC_SCHEDULE_METHOD] = STR("schedule_method", SF(schedule_method),
	    check_method),
	[MSPEC_SCHEDULE_BODY] = STR("schedule_body", SF(schedule_body),
	    check_any),
	[MSPEC_SCHEDULE_TZ] = STR("schedule_tz", SF(schedule_tz), check_tz),
	[MSPEC_CATCH_UP] = OTHER("catch_up", K_BOOL, SF(catch_up), 0),
	[MSPEC_ASYNC] = OTHER("async", K_BOOL, SF(async), 0),
	[MSPEC_RETRIES] = NUM("retries", K_UINT, SF(retries), 0, 100,
	    "between 0 and 100"),
	[MSPEC_RETRY_BACKOFF] = NUM("retry_backoff", K_DURATION,
	    SF(retry_backoff_ms), 1, 24 * HOUR_MS, "between 1ms and 24h"),
};

/* auth: (base: fn_spec.auth) */
#define AF(m) offsetof(struct fn_auth, m)
static const struct field auth_fields[] = {
	OTHER("bearer", K_AUTH_BEARER, 0, 0),
	OTHER("hmac", K_AUTH_HMAC, 0, 0),
};
static const struct field bearer_fields[] = {
	LIST("token_files", AF(token_files), AF(ntoken_files), 1, 16,
	    valid_abs_path, "absolute path"),
};
static const struct field hmac_fields[] = {
	STR("scheme", AF(scheme), check_scheme),
	STR("header", AF(header), check_header),
	STR("algorithm", AF(algorithm), check_algorithm),
	STR("prefix", AF(prefix), check_printable),
	STR("secret_file", AF(secret_file), check_abs),
	STR("timestamp_header", AF(timestamp_header), check_header),
	NUM("tolerance", K_DURATION, AF(tolerance_ms), 1000, 24 * HOUR_MS,
	    "between 1s and 24h"),
};

/* Keys of "limits", in enum fn_limit order; base is fn_spec.limits. */
static const struct field limit_fields[] = {
	NUM("cpu", K_LIM_SECONDS, LF(FN_LIMIT_CPU), 1, UINT64_MAX,
	    "more than 0"),
	NUM("memory", K_LIM_SIZE, LF(FN_LIMIT_MEMORY), 1, UINT64_MAX,
	    "more than 0"),
	NUM("nofile", K_LIM_COUNT, LF(FN_LIMIT_NOFILE), 1, 1048576,
	    "between 1 and 1048576"),
	NUM("nproc", K_LIM_COUNT, LF(FN_LIMIT_NPROC), 1, 4194304,
	    "between 1 and 4194304"),
	NUM("fsize", K_LIM_SIZE, LF(FN_LIMIT_FSIZE), 0, UINT64_MAX, NULL),
	NUM("stack", K_LIM_SIZE, LF(FN_LIMIT_STACK), 1, UINT64_MAX,
	    "more than 0"),
	NUM("core", K_LIM_SIZE, LF(FN_LIMIT_CORE), 0, UINT64_MAX, NULL),
	NUM("address_space", K_LIM_SIZE, LF(FN_LIMIT_ADDRESS_SPACE), 1,
	    UINT64_MAX, "more than 0"),
	NUM("tmp", K_LIM_SIZE, LF(FN_LIMIT_TMP), 4096, UINT64_MAX,
	    "at least 4K"),
	NUM("cpu_quota", K_LIM_QUOTA, LF(FN_LIMIT_CPU_QUOTA), 1, 100000,
	    "between 1% and 1000 CPUs"),
};

/* Top-level keys; base is struct manifest. */
static const struct field top_fields[] = {
	STR("listen", MF(listen), check_listen),
	OTHER("socket_mode", K_MODE, MF(socket_mode), 0),
	STR("socket_owner", MF(socket_owner), check_ident),
	STR("socket_group", MF(socket_group), check_ident),
	OTHER("allow_from", K_CIDRS, 0, 1024),
	NUM("workers", K_UINT, MF(workers), 1, 4096, "between 1 and 4096"),
	STR("functions_dir", MF(functions_dir), check_nonempty),
	STR("prefix", MF(prefix), check_prefix),
	OTHER("admin", K_BOOL, MF(admin), 0),
	NUM("shutdown_timeout", K_DURATION, MF(shutdown_timeout_ms), 0,
	    24 * HOUR_MS, "at most 24h"),
	OTHER("log", K_LOG, 0, 0),
	STR("cgroup", MF(cgroup), check_cgroup),
	OTHER("dynamic_ids", K_IDRANGE, 0, 0),
	OTHER("defaults", K_DEFAULTS, 0, 0),
	OTHER("functions", K_FUNCTIONS, 0, 0),
	STR("tenants_dir", MF(tenants_dir), check_nonempty),
	OTHER("tenant_max", K_CAPS, 0, 0),
	STR("spool_dir", MF(spool_dir), check_abs),
	NUM("async_keep", K_DURATION, MF(async_keep_ms), 1000,
	    365 * 24 * HOUR_MS, "between 1s and 365d"),
	NUM("async_result_max", K_SIZE, MF(async_result_max), 0, 64ull << 20,
	    "at most 64M"),
	NUM("async_max_jobs", K_UINT, MF(async_max_jobs), 1, 10000000,
	    "between 1 and 10000000"),
};

/* Top-level keys of a tenant file; base is the tenant's manifest. */
static const struct field tenant_fields[] = {
	STR("user", MF(tenant_user), check_ident),
	STR("functions_dir", MF(functions_dir), check_abs),
	LIST("hosts", MF(hosts), MF(nhosts), 0, 64, valid_host, "host name"),
	OTHER("budget", K_BUDGET, 0, 0),
	OTHER("defaults", K_DEFAULTS, 0, 0),
	OTHER("functions", K_FUNCTIONS, 0, 0),
};

#define BF(m) offsetof(struct tenant_budget, m)
static const struct field budget_fields[] = {
	NUM("concurrency", K_UINT, BF(concurrency), 1, 4096,
	    "between 1 and 4096"),
	NUM("queue", K_UINT, BF(queue), 0, 65536, "between 0 and 65536"),
	NUM("memory", K_LIM_SIZE, BF(memory), 1 << 20, UINT64_MAX,
	    "at least 1M"),
	NUM("pids", K_LIM_COUNT, BF(pids), 1, 4194304,
	    "between 1 and 4194304"),
	NUM("cpu_quota", K_LIM_QUOTA, BF(cpu_quota), 1, 100000,
	    "between 1% and 1000 CPUs"),
};

/* tenant_max: in enum mcap_key order; base is mschema.caps.s. */
static const struct field cap_fields[] = {
	NUM("timeout", K_DURATION, SF(timeout_ms), 1, 24 * HOUR_MS,
	    "between 1ms and 24h"),
	NUM("concurrency", K_UINT, SF(concurrency), 1, 4096,
	    "between 1 and 4096"),
	NUM("max_body", K_SIZE, SF(max_body), 0, GIB, "at most 1G"),
	OTHER("limits", K_LIMITS, 0, 0),
};

static const struct field log_fields[] = {
	STR("invocations", MF(log_invocations), check_invocations),
	NUM("stderr_max", K_SIZE, MF(stderr_max), 0, GIB, "at most 1G"),
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void werr(struct mschema *w, const struct ynode *at, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* Report one problem at AT's place (or without a place for NULL). After
 * MANIFEST_MAX_ERRORS, one last line says the rest were left out. */
static void
werr(struct mschema *w, const struct ynode *at, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (w->nerr > MANIFEST_MAX_ERRORS)
		return;
	if (w->nerr++ == MANIFEST_MAX_ERRORS) {
		(void)manifest_error_add(w->errs, 0, 0,
		    "too many problems, not all are shown");
		return;
	}
	va_start(ap, fmt);
	/* A truncated message is still a message. */
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)manifest_error_add(w->errs, at ? at->line : 0, at ? at->col : 0,
	    "%s", msg);
}

/* S shortened and made printable for a message: at most 40 bytes of it,
 * other bytes as '?', "..." when cut. */
static const char *
q(char *buf, size_t size, const char *s)
{
	size_t i, max = size > 44 ? 40 : size - 4;

	for (i = 0; s[i] != '\0' && i < max; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ?
		    s[i] : '?';
	if (s[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* ---- getters: the node as the wanted type, or a problem ---------------- */

/* The text of V when it is a non-null scalar without NUL bytes; else
 * report that KEY must be WHAT and return NULL. */
static const char *
scalar(struct mschema *w, const struct ynode *v, const char *key,
    const char *what)
{
	if (v->kind != YNODE_SCALAR || ynode_is_null(v)) {
		werr(w, v, "\"%s\" must be %s", key, what);
		return NULL;
	}
	if (strlen(v->text) != v->len) {
		werr(w, v, "\"%s\" must not contain NUL bytes", key);
		return NULL;
	}
	return v->text;
}

/* true when V is a mapping to walk; an empty value counts as {}. */
static bool
as_map(struct mschema *w, const struct ynode *v, const char *key)
{
	if (v->kind == YNODE_MAP)
		return true;
	if (!ynode_is_null(v))
		werr(w, v, "\"%s\" must be a mapping", key);
	return false;
}

/* true when V is a sequence of MIN..MAX entries, else reports. */
static bool
as_list(struct mschema *w, const struct ynode *v, const char *key,
    uint64_t min, uint64_t max)
{
	if (v->kind != YNODE_SEQ) {
		werr(w, v, "\"%s\" must be a list", key);
		return false;
	}
	if (v->nkids < min) {
		werr(w, v, "\"%s\" must not be empty", key);
		return false;
	}
	if (v->nkids > max) {
		werr(w, v, "\"%s\" must have at most %llu entries", key,
		    (unsigned long long)max);
		return false;
	}
	return true;
}

static bool
oom(struct mschema *w, const void *p)
{
	if (p == NULL)
		werr(w, NULL, "out of memory");
	return p == NULL;
}

/* ---- values ------------------------------------------------------------ */

static const char *const number_what[] = {
	[K_DURATION] = "a duration", [K_SIZE] = "a size", [K_UINT] = "a number",
	[K_LIM_SECONDS] = "a duration or unlimited",
	[K_LIM_SIZE] = "a size or unlimited",
	[K_LIM_COUNT] = "a number or unlimited",
	[K_LIM_QUOTA] = "a share of CPUs like 50% or 2, or unlimited",
};

/* cpu_quota: "N%" of one CPU, or "N" / "N.D" / "N.DD" CPUs, as percent
 * of one CPU; -1 when S is none of these. */
static int
parse_quota(const char *s, uint64_t *pct)
{
	uint64_t n = 0;
	unsigned frac = 0, digits = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((n = n * 10 + (uint64_t)(*p - '0')) > 1000000)
			return -1;
	if (*p == '%') {
		*pct = n;
		return p[1] == '\0' ? 0 : -1;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9' && digits < 2; p++, digits++)
			frac = frac * 10 + (unsigned)(*p - '0');
		if (digits == 0)
			return -1;
		if (digits == 1)
			frac *= 10;
	}
	if (*p != '\0')
		return -1;
	*pct = n * 100 + frac;
	return 0;
}

/* Durations, sizes and counts: parse, check F's range, store. */
static void
parse_number(struct mschema *w, const struct field *f, const struct ynode *v,
    void *base)
{
	bool limit = f->kind == K_LIM_SECONDS || f->kind == K_LIM_SIZE ||
	    f->kind == K_LIM_COUNT || f->kind == K_LIM_QUOTA;
	const char *s, *err = NULL;
	uint64_t n = 0;

	if ((s = scalar(w, v, f->key, number_what[f->kind])) == NULL)
		return;
	if (limit && strcmp(s, "unlimited") == 0) {
		*(uint64_t *)AT(base, f->off) = FN_UNLIMITED;
		return;
	}
	if (f->kind == K_LIM_QUOTA) {
		if (parse_quota(s, &n) < 0) {
			werr(w, v, "\"%s\" must be %s", f->key,
			    number_what[f->kind]);
			return;
		}
	} else if (f->kind == K_DURATION || f->kind == K_LIM_SECONDS) {
		if (units_duration_ms(s, &n, &err) == 0 &&
		    f->kind == K_LIM_SECONDS)
			n = n / 1000 + (n % 1000 != 0); /* RLIMIT_CPU: s */
	} else if (f->kind == K_SIZE || f->kind == K_LIM_SIZE) {
		(void)units_size(s, &n, &err);
	} else if (units_uint(s, 0, UINT64_MAX, &n, &err) < 0) {
		werr(w, v, "\"%s\" must be %s", f->key,
		    strcmp(err, "number out of range") == 0 ? f->range :
		    number_what[f->kind]);
		return;
	}
	if (err != NULL) {
		werr(w, v, "\"%s\": %s", f->key, err);
		return;
	}
	if (n < f->min || n > f->max) {
		werr(w, v, "\"%s\" must be %s", f->key, f->range);
		return;
	}
	if (f->kind == K_UINT)
		*(unsigned *)AT(base, f->off) = (unsigned)n;
	else
		*(uint64_t *)AT(base, f->off) = n;
}

/* The text of scalar V, or "" for anything else (matches no keyword). */
static const char *
plain_text(const struct ynode *v)
{
	if (v->kind != YNODE_SCALAR || strlen(v->text) != v->len)
		return "";
	return v->text;
}

/* socket_mode, umask, admin, allow_root, trust_accel_headers, mode. */
static void
parse_small(struct mschema *w, const struct field *f, const struct ynode *v,
    void *base)
{
	const char *s, *err;
	mode_t mode;

	switch (f->kind) {
	case K_MODE:
		if ((s = scalar(w, v, f->key, "an octal mode")) == NULL)
			return;
		if (units_mode(s, &mode, &err) < 0)
			werr(w, v, "\"%s\": %s", f->key, err);
		else
			*(mode_t *)AT(base, f->off) = mode;
		return;
	case K_BOOL:
		s = plain_text(v);
		if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
			*(bool *)AT(base, f->off) = s[0] == 't';
		else
			werr(w, v, "\"%s\" must be true or false", f->key);
		return;
	default: /* K_FNMODE */
		s = plain_text(v);
		if (strcmp(s, "cgi") == 0 || strcmp(s, "raw") == 0)
			*(enum fn_mode *)AT(base, f->off) = s[0] == 'c' ?
			    FN_MODE_CGI : FN_MODE_RAW;
		else
			werr(w, v, "\"%s\" must be cgi or raw", f->key);
		return;
	}
}

static void
parse_str(struct mschema *w, const struct field *f, const struct ynode *v,
    void *base)
{
	const char *s, *why;
	char **dst = AT(base, f->off), *copy;

	if ((s = scalar(w, v, f->key, "a string")) == NULL)
		return;
	if ((why = f->check(s)) != NULL) {
		werr(w, v, "\"%s\" %s", f->key, why);
		return;
	}
	if (oom(w, copy = strdup(s)))
		return;
	free(*dst);
	*dst = copy;
}

/* Entry I of list V: a non-null scalar without NUL bytes, or NULL. */
static const char *
entry(struct mschema *w, const struct ynode *v, size_t i, const char *key)
{
	const struct ynode *e = v->kids[i];

	if (e->kind != YNODE_SCALAR || ynode_is_null(e) ||
	    strlen(e->text) != e->len) {
		werr(w, e, "\"%s\" entries must be strings", key);
		return NULL;
	}
	return e->text;
}

/* An entry of a checked list already seen before index I? */
static bool
seen_before(const struct ynode *v, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (v->kids[j]->kind == YNODE_SCALAR &&
		    strcmp(v->kids[j]->text, v->kids[i]->text) == 0)
			return true;
	return false;
}

static void
parse_strlist(struct mschema *w, const struct field *f, const struct ynode *v,
    void *base)
{
	char qb[48], **list;
	const char *s;
	size_t i, n = 0, bad = 0;

	if (!as_list(w, v, f->key, f->min, f->max))
		return;
	if (oom(w, list = calloc(v->nkids + 1, sizeof(*list))))
		return;
	for (i = 0; i < v->nkids; i++) {
		if ((s = entry(w, v, i, f->key)) == NULL) {
			bad++;
		} else if (f->valid != NULL && !f->valid(s)) {
			werr(w, v->kids[i], "invalid %s \"%s\"", f->noun,
			    q(qb, sizeof(qb), s));
			bad++;
		} else if (f->valid != NULL && seen_before(v, i)) {
			werr(w, v->kids[i], "duplicate %s \"%s\"", f->noun,
			    q(qb, sizeof(qb), s));
			bad++;
		} else if (oom(w, list[n] = strdup(s))) {
			bad++;
		} else {
			n++;
		}
	}
	if (bad > 0) {
		manifest_strv_free(list, n);
		return;
	}
	manifest_strv_free(*(char ***)AT(base, f->off),
	    *(size_t *)AT(base, f->noff));
	*(char ***)AT(base, f->off) = list;
	*(size_t *)AT(base, f->noff) = n;
}

static void
parse_isolate(struct mschema *w, const struct field *f, const struct ynode *v,
    void *base)
{
	unsigned bits = 0;
	const char *s;
	char qb[48];
	size_t i;

	if (!as_list(w, v, f->key, 0, 8))
		return;
	for (i = 0; i < v->nkids; i++) {
		if ((s = entry(w, v, i, f->key)) == NULL)
			continue;
		if (strcmp(s, "pid") == 0)
			bits |= FN_ISOLATE_PID;
		else if (strcmp(s, "net") == 0)
			bits |= FN_ISOLATE_NET;
		else if (strcmp(s, "tmp") == 0)
			bits |= FN_ISOLATE_TMP;
		else if (strcmp(s, "ipc") == 0)
			bits |= FN_ISOLATE_IPC;
		else
			werr(w, v->kids[i], "unknown isolate entry \"%s\" "
			    "(use tmp, ipc, pid or net)", q(qb, sizeof(qb), s));
	}
	*(unsigned *)AT(base, f->off) = bits;
}

/* dynamic_ids: "FIRST-LAST", 1 <= FIRST <= LAST < 2^31 - 1, at least 16
 * ids (every function takes one). */
static void
parse_idrange(struct mschema *w, const struct field *f, const struct ynode *v)
{
	const char *s, *dash, *err;
	uint64_t a, b;
	char first[24];

	if ((s = scalar(w, v, f->key, "a range FIRST-LAST")) == NULL)
		return;
	dash = strchr(s, '-');
	if (dash == NULL || (size_t)(dash - s) >= sizeof(first)) {
		werr(w, v, "\"%s\" must be a range FIRST-LAST", f->key);
		return;
	}
	memcpy(first, s, (size_t)(dash - s));
	first[dash - s] = '\0';
	if (units_uint(first, 1, 0x7ffffffe, &a, &err) < 0 ||
	    units_uint(dash + 1, 1, 0x7ffffffe, &b, &err) < 0 || b < a ||
	    b - a < 15) {
		werr(w, v, "\"%s\" must be a range FIRST-LAST of at least 16 "
		    "ids between 1 and 2147483646", f->key);
		return;
	}
	w->m->dynamic_first = (uint32_t)a;
	w->m->dynamic_last = (uint32_t)b;
}

static void
parse_cidrs(struct mschema *w, const struct field *f, const struct ynode *v)
{
	struct fn_cidr *c;
	const char *s, *err;
	char qb[48];
	size_t i, bad = 0;

	if (!as_list(w, v, f->key, f->min, f->max))
		return;
	if (oom(w, c = calloc(v->nkids + 1, sizeof(*c))))
		return;
	for (i = 0; i < v->nkids; i++) {
		if ((s = entry(w, v, i, f->key)) == NULL) {
			bad++;
		} else if (units_cidr(s, &c[i].family, c[i].addr,
		    &c[i].prefix, &err) < 0) {
			werr(w, v->kids[i], "invalid address \"%s\" in "
			    "\"%s\": %s", q(qb, sizeof(qb), s), f->key, err);
			bad++;
		}
	}
	if (bad > 0) {
		free(c);
		return;
	}
	free(w->m->allow_from);
	w->m->allow_from = c;
	w->m->nallow_from = v->nkids;
	w->m->allow_from_set = true;
}

/* ---- mappings ---------------------------------------------------------- */

/* A usable key: a scalar without NUL bytes. */
static bool
key_ok(struct mschema *w, const struct ynode *k)
{
	if (k->kind == YNODE_SCALAR && strlen(k->text) == k->len)
		return true;
	werr(w, k, "keys must be strings");
	return false;
}

/* Report every repeated key of MAP (at the later one) as "duplicate NOUN". */
static void
report_dup_keys(struct mschema *w, const struct ynode *map, const char *noun)
{
	const struct ynode **dups;
	char qb[48];
	ssize_t i, n;

	if (map->nkids < 4 || oom(w, dups = calloc(map->nkids / 2,
	    sizeof(*dups))))
		return;
	if ((n = ytree_dup_keys(map, dups)) < 0)
		werr(w, NULL, "out of memory");
	for (i = 0; i < n; i++)
		werr(w, dups[i], "duplicate %s \"%s\"", noun,
		    q(qb, sizeof(qb), dups[i]->text));
	free(dups);
}

static void parse_field(struct mschema *w, const struct field *f,
    const struct ynode *v, void *base, const char *ctx);

static bool
set_default(struct mschema *w, char **dst, const char *value)
{
	return *dst != NULL || value == NULL || !oom(w, *dst = strdup(value));
}

/* An auth as written, completed from its scheme's conventions: GitHub
 * signs the body (X-Hub-Signature-256: sha256=HEX), Stripe "TS.BODY"
 * (Stripe-Signature: t=TS,v1=HEX), Slack "v0:TS:BODY"
 * (X-Slack-Signature: v0=HEX, X-Slack-Request-Timestamp: TS); generic:
 * HEADER with PREFIX and HEX over the body, or over "TS.BODY" with a
 * timestamp_header. Timestamps are refused beyond tolerance (5m). */
static void
auth_complete(struct mschema *w, const struct ynode *v, struct fn_auth *a)
{
	const char *header = NULL, *prefix = NULL, *ts = NULL;

	a->on = true;
	if (a->ntoken_files == 0 && a->scheme == NULL) {
		werr(w, v, "\"auth\" needs \"bearer\" or \"hmac\"");
		return;
	}
	if (a->scheme == NULL)
		return;
	if (strcmp(a->scheme, "github") == 0) {
		header = "X-Hub-Signature-256";
		prefix = "sha256=";
	} else if (strcmp(a->scheme, "stripe") == 0) {
		header = "Stripe-Signature";
	} else if (strcmp(a->scheme, "slack") == 0) {
		header = "X-Slack-Signature";
		prefix = "v0=";
		ts = "X-Slack-Request-Timestamp";
	} else if (a->header == NULL) {
		werr(w, v, "auth.hmac with scheme generic needs \"header\"");
	}
	if (!set_default(w, &a->header, header) ||
	    !set_default(w, &a->prefix, prefix ? prefix : "") ||
	    !set_default(w, &a->timestamp_header, ts) ||
	    !set_default(w, &a->algorithm, "sha256"))
		return;
	if (a->tolerance_ms == 0)
		a->tolerance_ms = 5 * 60 * 1000;
	if (a->secret_file == NULL)
		werr(w, v, "auth.hmac needs \"secret_file\"");
	if (strcmp(a->scheme, "generic") != 0 &&
	    strcmp(a->algorithm, "sha256") != 0)
		werr(w, v, "auth.hmac: %s signs with sha256", a->scheme);
}

/* Keys of a function a tenant file may not use, and why (or NULL). */
static const char *
tenant_refused(size_t key)
{
	switch (key) {
	case MSPEC_USER: case MSPEC_GROUP:
		return "a tenant's functions run as the tenant's user";
	case MSPEC_ALLOW_ROOT:
		return "a tenant's functions never run as root";
	case MSPEC_TRUST_ACCEL_HEADERS:
		return "X-Accel-Redirect and the like are the admin's";
	case MSPEC_ENV_FILES: case MSPEC_PASS_ENV:
		return "the daemon's files and environment are the admin's";
	}
	return NULL;
}

static void
fmt_value(const struct field *f, uint64_t v, char *buf, size_t size)
{
	if (v == FN_UNLIMITED)
		snprintf(buf, size, "unlimited");
	else if (f->kind == K_DURATION)
		snprintf(buf, size, v % 1000 ? "%llums" : "%llus",
		    (unsigned long long)(v % 1000 ? v : v / 1000));
	else if ((f->kind == K_SIZE || f->kind == K_LIM_SIZE) && v > 0 &&
	    v % 1024 == 0) {
		static const char unit[] = "KMG";
		int u = 0;
		v /= 1024;
		while (u < 2 && v % 1024 == 0) {
			v /= 1024;
			u++;
		}
		snprintf(buf, size, "%llu%c", (unsigned long long)v, unit[u]);
	}
	else if (f->kind == K_LIM_SECONDS)
		snprintf(buf, size, "%llus", (unsigned long long)v);
	else if (f->kind == K_LIM_QUOTA)
		snprintf(buf, size, "%llu%%", (unsigned long long)v);
	else
		snprintf(buf, size, "%llu", (unsigned long long)v);
}

/* A tenant file's value of key J of FIELDS (just parsed into BASE) is
 * at most the main manifest's tenant_max, and keeps its isolate. */
static void
tenant_cap(struct mschema *w, const struct field *fields, size_t j,
    const struct ynode *v, void *base)
{
	const struct tenant_caps *c = &w->main->tenant_max;
	const struct fn_spec *s = base;
	uint64_t val = 0, cap = FN_UNLIMITED;
	char vb[32], cb[32];

	if (fields == limit_fields) {
		val = ((const uint64_t *)base)[j];
		cap = c->limits[j];
	} else if (j == MSPEC_TIMEOUT && c->timeout_ms > 0) {
		val = s->timeout_ms;
		cap = c->timeout_ms;
	} else if (j == MSPEC_CONCURRENCY && c->concurrency > 0) {
		val = s->concurrency;
		cap = c->concurrency;
	} else if (j == MSPEC_MAX_BODY) {
		val = s->max_body;
		cap = c->max_body;
	} else if (j == MSPEC_KILL_GRACE || j == MSPEC_QUEUE ||
	    j == MSPEC_QUEUE_TIMEOUT) {
		/* what keeps a thread or a slot: at most the admin's defaults */
		const struct fn_spec *d = &w->main->defaults;
		char vb2[32], cb2[32];
		val = j == MSPEC_KILL_GRACE ? s->kill_grace_ms : j == MSPEC_QUEUE ?
		    s->queue : s->queue_timeout_ms;
		cap = j == MSPEC_KILL_GRACE ? d->kill_grace_ms : j == MSPEC_QUEUE ?
		    d->queue : d->queue_timeout_ms;
		if (val > cap) {
			fmt_value(&fields[j], val, vb2, sizeof(vb2));
			fmt_value(&fields[j], cap, cb2, sizeof(cb2));
			werr(w, v, "\"%s\" %s is above the main manifest's "
			    "defaults (%s)", fields[j].key, vb2, cb2);
		}
		return;
	} else if (j == MSPEC_ISOLATE) {
		unsigned need = w->main->defaults.isolate;
		if ((s->isolate & need) != need)
			werr(w, v, "\"isolate\" in a tenant file must keep "
			    "what the main manifest's defaults isolate");
		return;
	}
	if (cap == FN_UNLIMITED || val <= cap)
		return;
	fmt_value(&fields[j], val, vb, sizeof(vb));
	fmt_value(&fields[j], cap, cb, sizeof(cb));
	werr(w, v, "\"%s\" %s is above tenant_max (%s)", fields[j].key, vb,
	    cb);
}

/* Walk MAP against the N FIELDS, storing into BASE. CTX names the mapping
 * in messages (NULL: the top level); SEEN collects the keys given. */
static void
walk_fields(struct mschema *w, const struct ynode *map,
    const struct field *fields, size_t n, void *base, const char *ctx,
    uint32_t *seen)
{
	const struct ynode *k;
	char qb[48];
	size_t i, j;

	for (i = 0; i + 1 < map->nkids; i += 2) {
		if (!key_ok(w, k = map->kids[i]))
			continue;
		for (j = 0; j < n && strcmp(fields[j].key, k->text) != 0; j++)
			;
		if (j == n || (w->in_defaults && fields == spec_fields &&
		    (j == MSPEC_PATH || j == MSPEC_ARGS || j == MSPEC_AUTH ||
		    j == MSPEC_SCHEDULE || j == MSPEC_SCHEDULE_METHOD ||
		    j == MSPEC_SCHEDULE_BODY || j == MSPEC_SCHEDULE_TZ ||
		    j == MSPEC_CATCH_UP))) {
			werr(w, k, "unknown key \"%s\" %s%s",
			    q(qb, sizeof(qb), k->text),
			    ctx ? "in " : "at top level", ctx ? ctx : "");
			continue;
		}
		if (*seen & (1u << j)) {
			werr(w, k, "duplicate key \"%s\"", fields[j].key);
			continue;
		}
		*seen |= 1u << j;
		if (w->tenant && fields == spec_fields && tenant_refused(j)) {
			werr(w, k, "\"%s\" is not allowed in a tenant file: %s",
			    fields[j].key, tenant_refused(j));
			continue;
		}
		parse_field(w, &fields[j], map->kids[i + 1], base, ctx);
		if (w->tenant && (fields == spec_fields ||
		    fields == limit_fields))
			tenant_cap(w, fields, j, map->kids[i + 1], base);
	}
}

static void
parse_env(struct mschema *w, const struct field *f, const struct ynode *v)
{
	struct fn_kv *kv;
	const struct ynode *k, *val;
	char qb[48];
	size_t i, n = 0, bad = 0;

	if (!as_map(w, v, f->key))
		return;
	if (v->nkids / 2 > f->max) {
		werr(w, v, "\"%s\" must have at most %llu entries", f->key,
		    (unsigned long long)f->max);
		return;
	}
	report_dup_keys(w, v, "key");
	if (oom(w, kv = calloc(v->nkids / 2 + 1, sizeof(*kv))))
		return;
	for (i = 0; i + 1 < v->nkids; i += 2) {
		if (!key_ok(w, k = v->kids[i])) {
			bad++;
		} else if (!units_valid_env_name(k->text)) {
			werr(w, k, "invalid environment variable name \"%s\"",
			    q(qb, sizeof(qb), k->text));
			bad++;
		} else if ((val = v->kids[i + 1])->kind != YNODE_SCALAR ||
		    ynode_is_null(val) || strlen(val->text) != val->len) {
			werr(w, val, "env \"%s\" must be a string", k->text);
			bad++;
		} else if (oom(w, kv[n].name = strdup(k->text)) ||
		    oom(w, kv[n].value = strdup(val->text))) {
			free(kv[n].name);
			kv[n].name = NULL;
			bad++;
		} else {
			n++;
		}
	}
	if (bad > 0) {
		manifest_env_free(kv, n);
		return;
	}
	manifest_env_free(w->cur->s.env, w->cur->s.nenv);
	w->cur->s.env = kv;
	w->cur->s.nenv = n;
}

/* The body of function KEY: VALUE, or a problem. */
static void
parse_function(struct mschema *w, const struct ynode *key,
    const struct ynode *value)
{
	struct mpart *p = &w->fns[w->nfns];
	char qb[48], ctx[80];

	if (!units_valid_name(key->text)) {
		werr(w, key, "invalid function name \"%s\"",
		    q(qb, sizeof(qb), key->text));
		return;
	}
	if (value->kind != YNODE_MAP && !ynode_is_null(value)) {
		werr(w, value, "function \"%s\" must be a mapping", key->text);
		return;
	}
	if (oom(w, p->s.name = strdup(key->text)))
		return;
	w->nfns++;
	p->line = key->line;
	p->col = key->col;
	/* Names are at most 64 bytes: ctx cannot be cut. */
	(void)snprintf(ctx, sizeof(ctx), "functions.%s", key->text);
	w->cur = p;
	if (value->kind == YNODE_MAP)
		walk_fields(w, value, spec_fields, NELEM(spec_fields), &p->s,
		    ctx, &p->set);
	if (!(p->set & (1u << MSPEC_PATH)))
		werr(w, key, "function \"%s\" has no \"path\"", key->text);
	/* what only a schedule uses, without one, is a mistake */
	if (!(p->set & (1u << MSPEC_SCHEDULE)))
		for (int k = MSPEC_SCHEDULE_METHOD; k <= MSPEC_CATCH_UP; k++)
			if (p->set & (1u << k))
				werr(w, key, "function \"%s\": \"%s\" needs "
				    "\"schedule\"", key->text, spec_fields[k].key);
}

static void
parse_functions(struct mschema *w, const struct ynode *v)
{
	size_t i;

	if (!as_map(w, v, "functions"))
		return;
	if (v->nkids / 2 > MANIFEST_MAX_FUNCTIONS) {
		werr(w, v, "\"functions\" must have at most %d entries",
		    MANIFEST_MAX_FUNCTIONS);
		return;
	}
	report_dup_keys(w, v, "function");
	if (oom(w, w->fns = calloc(v->nkids / 2 + 1, sizeof(*w->fns))))
		return;
	for (i = 0; i + 1 < v->nkids; i += 2)
		if (key_ok(w, v->kids[i]))
			parse_function(w, v->kids[i], v->kids[i + 1]);
}

static void
parse_field(struct mschema *w, const struct field *f, const struct ynode *v,
    void *base, const char *ctx)
{
	uint32_t seen = 0;
	char sub[96];

	switch (f->kind) {
	case K_DURATION: case K_SIZE: case K_UINT:
	case K_LIM_SECONDS: case K_LIM_SIZE: case K_LIM_COUNT: case K_LIM_QUOTA:
		parse_number(w, f, v, base);
		break;
	case K_IDRANGE:
		parse_idrange(w, f, v);
		break;
	case K_MODE: case K_BOOL: case K_FNMODE:
		parse_small(w, f, v, base);
		break;
	case K_STR:
		parse_str(w, f, v, base);
		break;
	case K_STRLIST:
		parse_strlist(w, f, v, base);
		break;
	case K_ISOLATE:
		parse_isolate(w, f, v, base);
		break;
	case K_CIDRS:
		parse_cidrs(w, f, v);
		break;
	case K_ENV:
		parse_env(w, f, v);
		break;
	case K_LIMITS:
		/* ctx is at most "functions." and a 64-byte name: fits. */
		(void)snprintf(sub, sizeof(sub), "%s.limits", ctx);
		if (as_map(w, v, f->key))
			walk_fields(w, v, limit_fields, NELEM(limit_fields),
			    w->cur->s.limits, sub, &w->cur->limits_set);
		break;
	case K_LOG:
		if (as_map(w, v, f->key))
			walk_fields(w, v, log_fields, NELEM(log_fields), w->m,
			    "log", &seen);
		break;
	case K_DEFAULTS:
		w->cur = &w->defaults;
		w->in_defaults = true;
		if (as_map(w, v, f->key))
			walk_fields(w, v, spec_fields, NELEM(spec_fields),
			    &w->defaults.s, "defaults", &w->defaults.set);
		w->in_defaults = false;
		break;
	case K_FUNCTIONS:
		parse_functions(w, v);
		break;
	case K_AUTH:
		if (as_map(w, v, f->key)) {
			struct fn_auth *a = &w->cur->s.auth;
			walk_fields(w, v, auth_fields, NELEM(auth_fields), a,
			    "auth", &seen);
			auth_complete(w, v, a);
		}
		break;
	case K_AUTH_BEARER:
		if (as_map(w, v, f->key))
			walk_fields(w, v, bearer_fields, NELEM(bearer_fields),
			    base, "auth.bearer", &seen);
		if (((struct fn_auth *)base)->ntoken_files == 0)
			werr(w, v, "auth.bearer needs \"token_files\"");
		break;
	case K_AUTH_HMAC:
		if (as_map(w, v, f->key))
			walk_fields(w, v, hmac_fields, NELEM(hmac_fields),
			    base, "auth.hmac", &seen);
		if (((struct fn_auth *)base)->scheme == NULL &&
		    oom(w, ((struct fn_auth *)base)->scheme = strdup("generic")))
			break;
		break;
	case K_BUDGET:
		if (as_map(w, v, f->key))
			walk_fields(w, v, budget_fields, NELEM(budget_fields),
			    &w->m->budget, "budget", &seen);
		if (w->main->tenant_max.concurrency > 0 &&
		    w->m->budget.concurrency > w->main->tenant_max.concurrency)
			werr(w, v, "budget \"concurrency\" %u is above tenant_max "
			    "(%u)", w->m->budget.concurrency,
			    w->main->tenant_max.concurrency);
		break;
	case K_CAPS:
		w->cur = &w->caps;
		if (as_map(w, v, f->key))
			walk_fields(w, v, cap_fields, NELEM(cap_fields),
			    &w->caps.s, "tenant_max", &w->caps_set);
		break;
	}
}

size_t
manifest_schema_walk(struct mschema *w, const struct ynode *root)
{
	uint32_t seen = 0;

	if (root == NULL || ynode_is_null(root))
		return w->nerr;     /* an empty manifest: no functions */
	if (root->kind != YNODE_MAP) {
		werr(w, root, "the top level must be a mapping");
		return w->nerr;
	}
	if (w->tenant)
		walk_fields(w, root, tenant_fields, NELEM(tenant_fields), w->m,
		    NULL, &seen);
	else
		walk_fields(w, root, top_fields, NELEM(top_fields), w->m, NULL,
		    &seen);
	return w->nerr;
}
