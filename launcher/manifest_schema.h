/* manifest_schema.h — internal to manifest.c and manifest_schema.c: the
 * schema walker that turns a yamltree into manifest values, collecting
 * every problem with its line:col. Not part of the public API. */
#ifndef FN_MANIFEST_SCHEMA_H
#define FN_MANIFEST_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"
#include "yamltree.h"

#define MANIFEST_MAX_ERRORS 100   /* then one "too many problems" */
#define MANIFEST_MAX_FUNCTIONS 4096

/* Keys of a function or of "defaults"; bit (1u << k) of mpart.set. */
enum mspec_key {
	MSPEC_PATH, MSPEC_ARGS, MSPEC_TIMEOUT, MSPEC_KILL_GRACE,
	MSPEC_CONCURRENCY, MSPEC_MAX_BODY, MSPEC_METHODS, MSPEC_MODE,
	MSPEC_CONTENT_TYPE, MSPEC_LIMITS, MSPEC_ENV, MSPEC_PASS_ENV,
	MSPEC_PASS_PARAMS, MSPEC_USER, MSPEC_GROUP, MSPEC_UMASK, MSPEC_CWD,
	MSPEC_ALLOW_ROOT, MSPEC_TRUST_ACCEL_HEADERS, MSPEC_ISOLATE,
	MSPEC_ENV_FILES, MSPEC_QUEUE, MSPEC_QUEUE_TIMEOUT, MSPEC_AUTH,
	MSPEC_SCHEDULE, MSPEC_SCHEDULE_METHOD, MSPEC_SCHEDULE_BODY,
	MSPEC_SCHEDULE_TZ, MSPEC_CATCH_UP, MSPEC_ASYNC, MSPEC_RETRIES,
	MSPEC_RETRY_BACKOFF,
	MSPEC_COUNT
};

/* A function or the defaults block as written: only the keys in SET are
 * meaningful. Kept apart so "defaults" may follow "functions". */
struct mpart {
	struct fn_spec s;
	uint32_t set;             /* bit (1u << MSPEC_x): key x given */
	unsigned limits_set;      /* bit i: s.limits[i] given */
	unsigned line, col;       /* the function's name (its key) */
};

struct mschema {
	struct manifest *m;       /* top-level values land here directly */
	struct manifest_errors *errs;
	size_t nerr;              /* problems added by this walk */
	struct mpart defaults;
	struct mpart *fns;        /* in file order */
	size_t nfns;
	struct mpart *cur;        /* the spec being walked */
	bool in_defaults;         /* "path" and "args" are unknown there */
	/* a tenant file (tenants_dir/NAME.yaml), checked against MAIN: */
	bool tenant;
	const struct manifest *main;
	struct mpart caps;        /* tenant_max, as written */
	uint32_t caps_set;        /* bit i: cap_fields[i] given */
};

/* Bits of mschema.caps_set, in cap_fields order. */
enum mcap_key { MCAP_TIMEOUT, MCAP_CONCURRENCY, MCAP_MAX_BODY, MCAP_LIMITS };

/* Walk ROOT (a mapping, or NULL for an empty file) into W. Returns the
 * number of problems found (0: W->m, W->defaults and W->fns are set). */
size_t manifest_schema_walk(struct mschema *w, const struct ynode *root);

/* Append one problem to ERRS. Returns 0 or -1 (ENOMEM). */
int manifest_error_add(struct manifest_errors *errs, unsigned line,
    unsigned col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* String lists and env arrays, freed (NULL-safe). */
void manifest_strv_free(char **v, size_t n);
void manifest_env_free(struct fn_kv *v, size_t n);

#endif
