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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest *m = NULL;
	struct manifest_errors errs = { 0 };
	char buf[512];
	size_t i;

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
