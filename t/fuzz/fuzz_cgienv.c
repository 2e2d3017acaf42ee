/* fuzz_cgienv.c — libFuzzer target: cgienv_build() on params cut from
 * the input (see fuzz_params.h) with a hand-built fn_spec using
 * pass_params, pass_env and env. Byte 0 says how many of the first
 * pieces are taken as extra pass_params names (0..3), which need not be
 * valid names. Every entry of the result must be "NAME=value" with a
 * valid, unique NAME, and the spec's env must win. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cgienv.h"
#include "fuzz_params.h"
#include "manifest.h"
#include "units.h"

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *daemon_env[] = {
	(char *)"HOME=/root", (char *)"LANG=C.UTF-8", (char *)"TZ=UTC",
	(char *)"PATH=/sbin:/bin", (char *)"SECRET=never", NULL,
};

static int
cmp_name(const void *va, const void *vb)
{
	const char *a = *(char *const *)va, *b = *(char *const *)vb;
	size_t la = strcspn(a, "="), lb = strcspn(b, "=");
	int c = memcmp(a, b, la < lb ? la : lb);

	return c != 0 ? c : (la > lb) - (la < lb);
}

/* HTTP_PROXY never comes from the request (httpoxy), only when the
 * spec names it in pass_params. */
static void
check_env(char **env, int proxy_ok)
{
	char name[512];
	size_t n, i, len;

	for (n = 0; env[n] != NULL; n++) {
		const char *eq = strchr(env[n], '=');

		CHECK(eq != NULL);
		len = (size_t)(eq - env[n]);
		CHECK(len > 0 && len < sizeof(name));
		memcpy(name, env[n], len);
		name[len] = '\0';
		CHECK(units_valid_env_name(name));
		CHECK(strcmp(name, "SECRET") != 0);
		CHECK(proxy_ok || strcasecmp(name, "HTTP_PROXY") != 0);
		CHECK(cgienv_get(env, name) == eq + 1);
	}
	/* The spec's env is the last layer: it wins over everything. */
	CHECK(cgienv_get(env, "APP_MODE") != NULL &&
	    strcmp(cgienv_get(env, "APP_MODE"), "fuzz") == 0);
	CHECK(cgienv_get(env, "PATH") != NULL &&
	    strcmp(cgienv_get(env, "PATH"), "/opt/fn/bin") == 0);
	CHECK(cgienv_get(env, "GATEWAY_INTERFACE") != NULL);
	CHECK(cgienv_get(env, "QUERY_STRING") != NULL);
	CHECK(cgienv_get(env, "TZ") != NULL);

	/* Names are unique: sort a copy of the pointers, compare neighbours. */
	if (n > 1) {
		char **sorted = malloc(n * sizeof(*sorted));

		CHECK(sorted != NULL);
		memcpy(sorted, env, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), cmp_name);
		for (i = 1; i < n; i++)
			CHECK(cmp_name(&sorted[i - 1], &sorted[i]) != 0);
		free(sorted);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *pass_params[3 + 3] = {
		(char *)"HTTP_X_TOKEN", (char *)"FN_FUNCTION",
		(char *)"QUERY_STRING",
	};
	char *pass_env[] = { (char *)"TZ", (char *)"LANG", (char *)"NOPE" };
	struct fn_kv env_kv[] = {
		{ (char *)"APP_MODE", (char *)"fuzz" },
		{ (char *)"PATH", (char *)"/opt/fn/bin" },
		{ (char *)"SCRIPT_NAME", (char *)"/fn/override" },
		{ (char *)"APP_MODE", (char *)"fuzz" },
	};
	struct fn_spec fn;
	struct cgienv_in in;
	char **params, **env;
	size_t n, extra, i;
	int proxy_ok = 0;

	if (size < 1)
		return 0;
	params = fuzz_params_new(data + 1, size - 1, &n);
	if (params == NULL)
		return 0;
	extra = data[0] & 3;
	if (extra > n)
		extra = n;
	for (i = 0; i < extra; i++) {
		pass_params[3 + i] = params[i];
		if (strcasecmp(params[i], "HTTP_PROXY") == 0)
			proxy_ok = 1;
	}

	memset(&fn, 0, sizeof(fn));
	fn.name = (char *)"fuzz";
	fn.path = (char *)"/srv/fn/fuzz";
	fn.pass_params = pass_params;
	fn.npass_params = 3 + extra;
	fn.pass_env = pass_env;
	fn.npass_env = sizeof(pass_env) / sizeof(pass_env[0]);
	fn.env = env_kv;
	fn.nenv = sizeof(env_kv) / sizeof(env_kv[0]);

	memset(&in, 0, sizeof(in));
	in.params = params + extra;
	in.fn = &fn;
	in.script_name = "/fn/fuzz";
	in.path_info = n > extra ? params[extra] : NULL;
	in.request_id = "0123456789abcdef";
	in.timeout_ms = (uint64_t)data[0] << 56 | size;
	in.daemon_env = daemon_env;

	env = cgienv_build(&in);
	CHECK(env != NULL);
	check_env(env, proxy_ok);
	free(env);
	fuzz_params_free(params);
	return 0;
}
