/* manifest.h — the YAML manifest as an immutable table of functions.
 *
 * manifest_parse() is pure: bytes in, struct manifest or a list of errors
 * (with line:col) out. manifest_load() is the thin I/O shell around it.
 * The contract is SPEC.md section 3. */
#ifndef FN_MANIFEST_H
#define FN_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FN_NAME_MAX 64                 /* [A-Za-z0-9][A-Za-z0-9._-]{0,63} */
#define FN_UNLIMITED UINT64_MAX        /* "unlimited" in limits */
#define MANIFEST_MAX_BYTES (1024 * 1024) /* larger manifests are refused */

enum fn_mode { FN_MODE_CGI = 0, FN_MODE_RAW = 1 };

/* Index into fn_spec.limits; order matches the manifest's "limits" keys. */
enum fn_limit {
	FN_LIMIT_CPU = 0, /* seconds, RLIMIT_CPU */
	FN_LIMIT_MEMORY,  /* bytes, RLIMIT_DATA (private writable memory) */
	FN_LIMIT_NOFILE,  /* count, RLIMIT_NOFILE */
	FN_LIMIT_NPROC,   /* count, RLIMIT_NPROC */
	FN_LIMIT_FSIZE,   /* bytes, RLIMIT_FSIZE */
	FN_LIMIT_STACK,   /* bytes, RLIMIT_STACK */
	FN_LIMIT_CORE,    /* bytes, RLIMIT_CORE */
	FN_LIMIT_ADDRESS_SPACE, /* bytes, RLIMIT_AS; unlimited by default */
	FN_RLIMIT_COUNT,  /* the ones above are rlimits; these are not: */
	FN_LIMIT_TMP = FN_RLIMIT_COUNT, /* bytes of the private /tmp tmpfs */
	FN_LIMIT_CPU_QUOTA, /* percent of one CPU, cgroup cpu.max */
	FN_LIMIT_COUNT
};

/* Namespaces per invocation (isolate:). tmp and ipc are the default
 * when the daemon is root. */
enum fn_isolate {
	FN_ISOLATE_PID = 1u << 0,  /* PID (and mount) namespace */
	FN_ISOLATE_NET = 1u << 1,  /* network namespace, lo only */
	FN_ISOLATE_TMP = 1u << 2,  /* a tmpfs on /tmp, /var/tmp, /dev/shm */
	FN_ISOLATE_IPC = 1u << 3,  /* IPC namespace: own SysV IPC, mqueues */
};
#define FN_ISOLATE_DEFAULT (FN_ISOLATE_TMP | FN_ISOLATE_IPC)

#define FN_USER_DYNAMIC "dynamic"      /* a uid of the function's own */
#define FN_DYNAMIC_FIRST 61184         /* as systemd's DynamicUser= */
#define FN_DYNAMIC_LAST 65519
#define FN_SPOOL_DIR "/var/spool/fnlauncher" /* spool_dir's default */

struct fn_kv {
	char *name;
	char *value;
};

/* auth: (auth.h). Strings are owned by the spec; NULL: not given. */
struct fn_auth {
	bool on;                  /* auth: given */
	char **token_files;       /* bearer: files of accepted tokens */
	size_t ntoken_files;
	char *scheme;             /* hmac: github, stripe, slack or generic */
	char *header;             /* hmac: the signature's header */
	char *algorithm;          /* hmac: sha256 or sha1 */
	char *prefix;             /* hmac: before the hex, e.g. "sha256=" */
	char *secret_file;        /* hmac: the key's file */
	char *timestamp_header;   /* hmac: a signed timestamp's header */
	uint64_t tolerance_ms;    /* hmac: how old a timestamp may be */
	/* read at load (auth_load), never written anywhere: */
	char **tokens;
	size_t ntokens;
	char *secret;
	size_t secret_len;
};

/* One function, fully resolved: built-in defaults < "defaults" < own keys.
 * Every string is owned by the spec. */
struct fn_spec {
	char *name;      /* function name; NULL for the defaults block */
	char *path;      /* absolute path of the executable; NULL in defaults */
	char **args;     /* extra argv after the executable */
	size_t nargs;
	uint64_t timeout_ms;
	uint64_t kill_grace_ms;
	unsigned concurrency;
	unsigned queue;           /* requests waiting over concurrency */
	uint64_t queue_timeout_ms; /* then 503 busy */
	uint64_t max_body;        /* bytes */
	char **methods;           /* upper-case tokens, e.g. "GET" */
	size_t nmethods;
	enum fn_mode mode;
	char *content_type;
	uint64_t limits[FN_LIMIT_COUNT]; /* FN_UNLIMITED or a value */
	struct fn_kv *env;        /* extra environment, merged by name */
	size_t nenv;
	char **env_files;         /* NAME=value files read into env at load */
	size_t nenv_files;
	char **pass_env;
	size_t npass_env;
	char **pass_params;
	size_t npass_params;
	char *user;               /* a user name, or "dynamic" */
	char *group;              /* NULL: the user's own (dynamic: its gid) */
	mode_t umask;
	char *cwd;                /* NULL: the executable's folder */
	bool allow_root;
	bool trust_accel_headers;
	unsigned isolate;         /* enum fn_isolate bits */
	bool isolate_set;         /* isolate given (else the default) */
	bool dropin;              /* true: served from functions_dir */
	char *tenant;             /* its tenant's name; NULL: the main manifest's */
	struct fn_auth auth;      /* auth: before spawning (functions only) */
	char *schedule;           /* cron.h expression; NULL: none (functions only) */
	char *schedule_method;    /* NULL: GET */
	char *schedule_body;      /* NULL: none */
	char *schedule_tz;        /* an IANA zone name; NULL: UTC */
	bool catch_up;            /* run once at start-up for a missed time */
	bool async;               /* every request is spooled (async.h) */
	unsigned retries;         /* async: attempts after the first (3) */
	uint64_t retry_backoff_ms; /* async: before the first retry (10 s) */
};

/* An allow_from entry: address and prefix length, IPv4 or IPv6. */
struct fn_cidr {
	int family;               /* AF_INET or AF_INET6 */
	unsigned char addr[16];   /* network byte order; 4 bytes used for v4 */
	unsigned prefix;          /* 0..32 or 0..128 */
};

/* A tenant's budget (tenant files, budget:); 0 / FN_UNLIMITED: none. */
struct tenant_budget {
	unsigned concurrency;     /* in flight across the tenant's functions */
	unsigned queue;           /* waiting across them (0: no bound of its own) */
	uint64_t memory;          /* bytes: cgroup memory.max of its parent */
	uint64_t pids;            /* cgroup pids.max */
	uint64_t cpu_quota;       /* percent of one CPU: cgroup cpu.max */
};

/* The admin's caps on what a tenant file may ask (tenant_max:);
 * 0 / FN_UNLIMITED: no cap. */
struct tenant_caps {
	uint64_t timeout_ms;
	unsigned concurrency;
	uint64_t max_body;
	uint64_t limits[FN_LIMIT_COUNT];
};

struct manifest {
	char *file;               /* as given to manifest_parse */
	char *dir;                /* folder of the manifest (absolute) */
	char *listen;             /* NULL when absent */
	mode_t socket_mode;       /* default 0660 */
	char *socket_owner;       /* NULL: unchanged */
	char *socket_group;       /* NULL: unchanged */
	struct fn_cidr *allow_from; /* default 127.0.0.0/8 and ::1/128 */
	size_t nallow_from;
	bool allow_from_set;      /* given: a TCP listener needs it */
	bool inline_env;          /* env: values in the manifest itself */
	unsigned workers;         /* default 64 */
	char *functions_dir;      /* absolute; NULL: drop-in disabled */
	char *prefix;             /* starts and ends with '/'; default "/" */
	bool admin;               /* default true */
	uint64_t shutdown_timeout_ms; /* default 10 s */
	char *log_invocations;    /* "stderr" (default), "off", or a path */
	uint64_t stderr_max;      /* default 64 KiB */
	char *cgroup;             /* "auto" (default), "off", or a path */
	uint32_t dynamic_first;   /* dynamic_ids: uids/gids for "dynamic" */
	uint32_t dynamic_last;
	char *spool_dir;          /* async jobs (async.h) */
	uint64_t async_keep_ms;   /* results kept (24 h) */
	uint64_t async_result_max; /* bytes of a result's body kept (1 MiB) */
	unsigned async_max_jobs;  /* jobs not finished, at most (10000) */
	struct fn_spec defaults;  /* built-ins merged with "defaults" */
	struct fn_spec *functions; /* sorted by name */
	size_t nfunctions;
	/* main manifest: */
	char *tenants_dir;        /* absolute; NULL: no tenants */
	struct tenant_caps tenant_max;
	struct manifest **tenants; /* loaded tenants, sorted by name */
	size_t ntenants;
	/* a tenant's manifest (a file of tenants_dir): */
	char *tenant;             /* its name; NULL for the main manifest */
	char *tenant_user;        /* a user name, or "dynamic" */
	char **hosts;             /* Host names routed to it */
	size_t nhosts;
	struct tenant_budget budget;
};

struct manifest_error {
	unsigned line;            /* 1-based; 0 when the error has no place */
	unsigned col;             /* 1-based */
	char *msg;
};

struct manifest_errors {
	struct manifest_error *v;
	size_t n;
};

/* Parse TEXT (LEN bytes). FILE is used for messages only; DIR is the
 * folder relative paths (functions_dir, path) resolve against.
 * Returns 0 and sets *OUT, or -1 and appends every problem found to ERRS
 * (the caller frees them with manifest_errors_clear). Pure: no I/O. */
int manifest_parse(const char *text, size_t len, const char *file,
    const char *dir, struct manifest **out, struct manifest_errors *errs);

/* Parse TEXT as tenant NAME's file FILE (an absolute path), checked
 * against the main manifest MAIN: its tenant_max, its defaults (the
 * tenant's start from them), what a tenant may not ask for. Pure. */
int manifest_parse_tenant(const char *text, size_t len, const char *file,
    const char *name, const struct manifest *main, struct manifest **out,
    struct manifest_errors *errs);

/* Read FILE (at most MANIFEST_MAX_BYTES) into *TEXT (malloc'd,
 * NUL-terminated). 0, or -1 with the problem appended to ERRS. */
int manifest_read(const char *file, char **text, size_t *len,
    struct manifest_errors *errs);

/* Read FILE (at most MANIFEST_MAX_BYTES) and parse it. Errors about the
 * file itself (missing, too large) are appended with line 0. */
int manifest_load(const char *file, struct manifest **out,
    struct manifest_errors *errs);

void manifest_free(struct manifest *m);
void manifest_errors_clear(struct manifest_errors *errs);

/* Format one error as "FILE:LINE:COL: message" (or "FILE: message" for
 * line 0) into BUF; returns BUF. */
const char *manifest_error_format(const char *file,
    const struct manifest_error *e, char *buf, size_t size);

/* The function named NAME in the manifest, or NULL. */
const struct fn_spec *manifest_find(const struct manifest *m,
    const char *name);

/* Deep copy and release of an auth. */
int fn_auth_copy(struct fn_auth *dst, const struct fn_auth *src);
void fn_auth_clear(struct fn_auth *a);

/* Deep copy of SRC into DST (used for drop-ins, which start from the
 * defaults). Returns 0 or -1 (ENOMEM). */
int fn_spec_copy(struct fn_spec *dst, const struct fn_spec *src);
void fn_spec_clear(struct fn_spec *s);

#define FN_KEY_MAX (2 * FN_NAME_MAX + 3)
/* S's name daemon-wide into BUF (FN_KEY_MAX bytes): NAME for the main
 * manifest's functions, "~TENANT/NAME" for a tenant's. Returns BUF. */
const char *fn_spec_key(const struct fn_spec *s, char *buf, size_t size);

/* true when NAME is a valid tenant name: [a-z0-9][a-z0-9_-]{0,63}. */
bool manifest_valid_tenant(const char *name);

/* true when METHOD is one of S's methods. */
bool fn_spec_allows(const struct fn_spec *s, const char *method);

/* true when the peer address matches one entry of M's allow_from. */
bool manifest_peer_allowed(const struct manifest *m, int family,
    const void *addr);

#endif
