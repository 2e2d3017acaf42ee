/* fuzz_route.c — libFuzzer target: route_parse() on params cut from the
 * input, under a few prefixes, then route_lookup() of the name found
 * against a hand-built manifest without functions_dir (so no file
 * system access happens). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_params.h"
#include "manifest.h"
#include "route.h"
#include "units.h"

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s_api[] = "api", s_echo[] = "echo", s_hello[] = "hello";
static char s_bin[] = "/bin/true", s_get[] = "GET";
static char *methods[] = { s_get };

/* Functions sorted by name, as manifest_parse leaves them. */
static struct fn_spec functions[] = {
	{ .name = s_api, .path = s_bin, .methods = methods, .nmethods = 1 },
	{ .name = s_echo, .path = s_bin, .methods = methods, .nmethods = 1 },
	{ .name = s_hello, .path = s_bin, .methods = methods, .nmethods = 1 },
};

static const struct manifest man = {
	.prefix = "/fn/",
	.functions = functions,
	.nfunctions = sizeof(functions) / sizeof(functions[0]),
	.functions_dir = NULL,
};

static void
lookup(const char *name)
{
	const struct fn_spec *out = NULL;
	struct fn_spec tmp;

	memset(&tmp, 0, sizeof(tmp));
	errno = 0;
	if (route_lookup(&man, name, &tmp, &out) == 0) {
		CHECK(out != NULL && out != &tmp);
		CHECK(strcmp(out->name, name) == 0);
	} else {
		CHECK(errno == ENOENT && out == NULL);
	}
}

static void
route(char *const *params, const char *prefix)
{
	struct route r;
	enum route_result rr;

	memset(&r, 0xa5, sizeof(r));
	rr = route_parse(params, prefix, &r);
	CHECK(r.path_info != NULL && r.uri != NULL);
	(void)strlen(r.path_info);
	(void)strlen(r.uri);
	switch (rr) {
	case ROUTE_OK:
		CHECK(strlen(r.name) <= FN_NAME_MAX);
		CHECK(units_valid_name(r.name));
		CHECK(r.by_param || r.path_info[0] == '\0' ||
		    r.path_info[0] == '/');
		lookup(r.name);
		break;
	case ROUTE_ADMIN:
		CHECK(r.name[0] == '\0' && !r.by_param);
		break;
	case ROUTE_NOT_FOUND:
		CHECK(r.name[0] == '\0');
		break;
	default:
		CHECK(!"unknown route_result");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **params;
	size_t n, i;

	params = fuzz_params_new(data, size, &n);
	if (params == NULL)
		return 0;
	route(params, "/");
	route(params, "/fn/");
	route(params, "/a/b/");
	route(params, NULL);
	/* route_lookup on raw text, valid name or not. */
	for (i = 0; i < n && i < 4; i++)
		lookup(params[i]);
	fuzz_params_free(params);
	return 0;
}
