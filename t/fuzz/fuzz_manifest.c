/* fuzz_manifest.c — libFuzzer target: manifest_parse() on arbitrary bytes.
 *
 * The parser is pure, so the input is handed over as is (not
 * NUL-terminated: an over-read is an ASan report). On success the table
 * is walked the way the daemon uses it; on failure every error is
 * formatted. Either way everything is freed (LeakSanitizer checks). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "manifest.h"
#include "units.h"

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #c); \
	abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the daemon does with a loaded manifest: find each function by
 * name, copy the defaults for a drop-in, check a peer address. */
static void
walk(const struct manifest *m)
{
	static const unsigned char lo4[16] = { 127, 0, 0, 1 };
	static const unsigned char lo6[16] = { [15] = 1 };
	struct fn_spec copy;
	size_t i;

	CHECK(m->prefix != NULL && m->prefix[0] == '/');
	CHECK(m->prefix[strlen(m->prefix) - 1] == '/');
	for (i = 0; i < m->nfunctions; i++) {
		const struct fn_spec *f = &m->functions[i];

		CHECK(f->name != NULL && units_valid_name(f->name));
		CHECK(f->path != NULL && f->path[0] == '/');
		CHECK(i == 0 || strcmp(m->functions[i - 1].name, f->name) < 0);
		CHECK(manifest_find(m, f->name) == f);
		(void)fn_spec_allows(f, "GET");
	}
	CHECK(manifest_find(m, "no such function") == NULL);
	memset(&copy, 0, sizeof(copy));
	if (fn_spec_copy(&copy, &m->defaults) == 0)
		fn_spec_clear(&copy);
	(void)manifest_peer_allowed(m, AF_INET, lo4);
	(void)manifest_peer_allowed(m, AF_INET6, lo6);
}

/* The input as a tenant file, against a main manifest with caps: it
 * parses, or says why; a tenant's functions are its user's. */
static void
as_tenant(const uint8_t *data, size_t size)
{
	static const char main_yaml[] = "tenants_dir: /t\n"
	    "tenant_max: { timeout: 30s, concurrency: 8, max_body: 1M,"
	    " limits: { memory: 1G } }\n";
	static struct manifest *main;
	struct manifest_errors errs = { 0 };
	struct manifest *t = NULL;

	if (main == NULL && manifest_parse(main_yaml, strlen(main_yaml),
	    "main.yaml", "/etc/fn", &main, &errs) < 0)
		abort();
	if (manifest_parse_tenant((const char *)data, size, "/t/x.yaml", "x",
	    main, &t, &errs) == 0) {
		walk(t);
		for (size_t i = 0; i < t->nfunctions; i++) {
			CHECK(strcmp(t->functions[i].user, t->tenant_user) == 0);
			CHECK(t->functions[i].timeout_ms <= 30000);
			CHECK(!t->functions[i].allow_root);
		}
		manifest_free(t);
	} else {
		CHECK(errs.n > 0);
	}
	manifest_errors_clear(&errs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest *m = NULL;
	struct manifest_errors errs = { 0 };
	char buf[512];
	size_t i;

	as_tenant(data, size);
	if (manifest_parse((const char *)data, size, "fuzz.yaml", "/srv/fn",
	    &m, &errs) == 0) {
		CHECK(m != NULL);
		walk(m);
		manifest_free(m);
	} else {
		CHECK(errs.n > 0);
		for (i = 0; i < errs.n; i++) {
			CHECK(errs.v[i].msg != NULL);
			(void)manifest_error_format("fuzz.yaml", &errs.v[i],
			    buf, sizeof(buf));
		}
	}
	manifest_errors_clear(&errs);
	return 0;
}
