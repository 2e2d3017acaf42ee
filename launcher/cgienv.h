/* cgienv.h — the function's environment, built from scratch from the
 * FastCGI params (CGI/1.1, RFC 3875 section 4.1) and the function's spec.
 * Pure: no I/O, no globals; SPEC.md section 5. */
#ifndef FN_CGIENV_H
#define FN_CGIENV_H

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

struct cgienv_in {
	char *const *params;        /* FastCGI params, "NAME=value", NULL-ended */
	const struct fn_spec *fn;
	const char *script_name;    /* prefix + name */
	const char *path_info;      /* NULL or "" when none */
	const char *request_id;
	uint64_t timeout_ms;
	char *const *daemon_env;    /* the daemon's environ, for pass_env */
	const char *trigger;        /* FN_TRIGGER: NULL is "http" */
	const char *job_id;         /* FN_JOB_ID, FN_JOB_ATTEMPT: async */
	const char *attempt;
};

/* A NULL-terminated "NAME=value" array, in one allocation: free it with
 * free(). Returns NULL on ENOMEM.
 *
 * Order of precedence (later wins): CGI meta-variables from the params,
 * the variables fnlauncher sets, pass_params, pass_env, env. Params with
 * the same name: the first one wins (as FCGX_GetParam does). */
char **cgienv_build(const struct cgienv_in *in);

/* The value of NAME in a "NAME=value" array, or NULL. */
const char *cgienv_get(char *const *env, const char *name);

#endif
