/* fuzz_auth.c — libFuzzer target: the signature-header parsers and
 * checks of auth: (auth.h) on arbitrary headers. The input is cut into
 * FastCGI params (fuzz_params.h); the first is also given to
 * auth_parse_stripe alone. Invariants: nothing crashes or over-reads;
 * a parsed Stripe header has at most AUTH_MAX_SIGS signatures and each
 * is within the copy; no HMAC scheme ever accepts a request (the
 * fuzzer cannot forge HMAC-SHA256 of a secret it does not know), and a
 * refusal always says why. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "fuzz_params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_one(struct fn_auth *a, char **params, bool may_pass)
{
	static const char body[] = "{\"fuzz\":true}";
	char why[128] = "";
	enum auth_result r = auth_check(a, params, body, sizeof(body) - 1,
	    1796551350, why, sizeof(why));

	if (r != AUTH_OK && r != AUTH_MISSING && r != AUTH_BAD &&
	    r != AUTH_STALE)
		abort();
	if (r == AUTH_OK && !may_pass)
		abort();
	if (r != AUTH_OK && why[0] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char secret[] = "It's a Secret to Everybody";
	static char tok[] = "tok-fuzz";
	static char *tokens[] = { tok };
	static const struct {
		const char *scheme, *header, *alg, *prefix, *ts;
	} hm[] = {
		{ "github", "X-Hub-Signature-256", "sha256", "sha256=", NULL },
		{ "stripe", "Stripe-Signature", "sha256", NULL, NULL },
		{ "slack", "X-Slack-Signature", "sha256", "v0=",
		  "X-Slack-Request-Timestamp" },
		{ "generic", "X-Sig", "sha1", "sha1=", "X-Ts" },
		{ "generic", "X-Sig", "sha256", NULL, NULL },
	};
	size_t n = 0, nsigs = 0;
	char **params = fuzz_params_new(data, size, &n);
	char buf[4096];
	const char *sigs[AUTH_MAX_SIGS + 1];
	long long t = 0;

	if (params == NULL)
		return 0;
	if (n > 0 && auth_parse_stripe(params[0], buf, sizeof(buf), &t, sigs,
	    &nsigs) == 0) {
		if (nsigs > AUTH_MAX_SIGS)
			abort();
		for (size_t i = 0; i < nsigs; i++)
			if (sigs[i] < buf || sigs[i] >= buf + sizeof(buf) ||
			    strlen(sigs[i]) >= sizeof(buf))
				abort();
	}
	for (size_t i = 0; i < sizeof(hm) / sizeof(hm[0]); i++) {
		struct fn_auth a = { .on = true, .scheme = (char *)hm[i].scheme,
		    .header = (char *)hm[i].header, .algorithm = (char *)hm[i].alg,
		    .prefix = (char *)hm[i].prefix,
		    .timestamp_header = (char *)hm[i].ts,
		    .tolerance_ms = 300000, .secret = secret,
		    .secret_len = sizeof(secret) - 1 };
		check_one(&a, params, false);
	}
	{
		struct fn_auth a = { .on = true, .tokens = tokens, .ntokens = 1 };
		check_one(&a, params, true);
	}
	fuzz_params_free(params);
	return 0;
}
