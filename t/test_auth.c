/* test_auth.c — auth: before spawning: the documented signatures of
 * GitHub (X-Hub-Signature-256) and Slack (X-Slack-Signature with its
 * timestamp), Stripe's scheme (t=...,v1=... over "t.body"; Stripe
 * documents the algorithm, not a fixed vector: this one was computed
 * with Python's hmac), RFC 2202-style SHA-1, bearer tokens; and each
 * way to fail: a flipped byte, a stale timestamp, a missing header, a
 * wrong token. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "unit.h"

#define GH_SECRET "It's a Secret to Everybody"
#define GH_SIG "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
#define SLACK_SECRET "8f742231b10e8888abcd99yyyzzz85a5"
#define SLACK_TS "1531420618"
#define SLACK_BODY "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
#define SLACK_SIG "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
#define STRIPE_SECRET "whsec_test_secret_for_fnlauncher"
#define STRIPE_BODY "{\"id\":\"evt_1\",\"object\":\"event\"}"
#define STRIPE_SIG "939dd8e86d918e3952a282da0ede3df9f70f2a7e8d083f94358aff165c313fdc"

static struct fn_auth
hmac_auth(const char *scheme, const char *header, const char *prefix,
    const char *ts_header, const char *secret)
{
	struct fn_auth a = { .on = true, .tolerance_ms = 300000 };

	a.scheme = (char *)scheme;
	a.header = (char *)header;
	a.prefix = (char *)prefix;
	a.timestamp_header = (char *)ts_header;
	a.algorithm = (char *)"sha256";
	a.secret = (char *)secret;
	a.secret_len = strlen(secret);
	return a;
}

static enum auth_result
check(const struct fn_auth *a, char **params, const char *body, time_t now)
{
	char why[128];

	return auth_check(a, params, body, strlen(body), now, why, sizeof(why));
}

START_TEST(github_vector)
{
	struct fn_auth a = hmac_auth("github", "X-Hub-Signature-256", "sha256=",
	    NULL, GH_SECRET);
	char *ok[] = { "HTTP_X_HUB_SIGNATURE_256=" GH_SIG, NULL };
	char *upper[] = { "HTTP_X_HUB_SIGNATURE_256=sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17", NULL };
	char *flip[] = { "HTTP_X_HUB_SIGNATURE_256=sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18", NULL };
	char *noprefix[] = { "HTTP_X_HUB_SIGNATURE_256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", NULL };
	char *none[] = { "HTTP_X_OTHER=1", NULL };
	char *shortsig[] = { "HTTP_X_HUB_SIGNATURE_256=sha256=7571", NULL };

	ck_assert_int_eq(check(&a, ok, "Hello, World!", 0), AUTH_OK);
	ck_assert_int_eq(check(&a, upper, "Hello, World!", 0), AUTH_OK);
	ck_assert_int_eq(check(&a, ok, "Hello, World?", 0), AUTH_BAD);
	ck_assert_int_eq(check(&a, flip, "Hello, World!", 0), AUTH_BAD);
	ck_assert_int_eq(check(&a, noprefix, "Hello, World!", 0), AUTH_BAD);
	ck_assert_int_eq(check(&a, shortsig, "Hello, World!", 0), AUTH_BAD);
	ck_assert_int_eq(check(&a, none, "Hello, World!", 0), AUTH_MISSING);
}
END_TEST

START_TEST(slack_vector)
{
	struct fn_auth a = hmac_auth("slack", "X-Slack-Signature", "v0=",
	    "X-Slack-Request-Timestamp", SLACK_SECRET);
	char *ok[] = { "HTTP_X_SLACK_SIGNATURE=" SLACK_SIG,
	    "HTTP_X_SLACK_REQUEST_TIMESTAMP=" SLACK_TS, NULL };
	char *nots[] = { "HTTP_X_SLACK_SIGNATURE=" SLACK_SIG, NULL };
	char *badts[] = { "HTTP_X_SLACK_SIGNATURE=" SLACK_SIG,
	    "HTTP_X_SLACK_REQUEST_TIMESTAMP=1531420619", NULL };
	time_t then = 1531420618 + 60;

	ck_assert_int_eq(check(&a, ok, SLACK_BODY, then), AUTH_OK);
	/* 5 minutes and one second later: a replay */
	ck_assert_int_eq(check(&a, ok, SLACK_BODY, 1531420618 + 301),
	    AUTH_STALE);
	ck_assert_int_eq(check(&a, ok, SLACK_BODY, 1531420618 - 301),
	    AUTH_STALE);
	ck_assert_int_eq(check(&a, nots, SLACK_BODY, then), AUTH_MISSING);
	/* the timestamp is signed: another one does not match */
	ck_assert_int_eq(check(&a, badts, SLACK_BODY, then), AUTH_BAD);
	ck_assert_int_eq(check(&a, ok, SLACK_BODY "x", then), AUTH_BAD);
}
END_TEST

START_TEST(stripe_scheme)
{
	struct fn_auth a = hmac_auth("stripe", "Stripe-Signature", "", NULL,
	    STRIPE_SECRET);
	char *ok[] = { "HTTP_STRIPE_SIGNATURE=t=1700000000,v1=" STRIPE_SIG
	    ",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39",
	    NULL };
	char *second[] = { "HTTP_STRIPE_SIGNATURE=t=1700000000,v1=00ff,v1="
	    STRIPE_SIG, NULL };
	char *wrong[] = { "HTTP_STRIPE_SIGNATURE=t=1700000001,v1=" STRIPE_SIG,
	    NULL };
	char *not[] = { "HTTP_STRIPE_SIGNATURE=v1=" STRIPE_SIG, NULL };
	char buf[256];
	const char *sigs[AUTH_MAX_SIGS];
	long long t;
	size_t n;

	ck_assert_int_eq(check(&a, ok, STRIPE_BODY, 1700000100), AUTH_OK);
	/* the secret being rolled: any v1 may match */
	ck_assert_int_eq(check(&a, second, STRIPE_BODY, 1700000100), AUTH_OK);
	ck_assert_int_eq(check(&a, wrong, STRIPE_BODY, 1700000100), AUTH_BAD);
	ck_assert_int_eq(check(&a, ok, STRIPE_BODY, 1700000000 + 600),
	    AUTH_STALE);
	ck_assert_int_eq(check(&a, not, STRIPE_BODY, 1700000100), AUTH_BAD);
	ck_assert_int_eq(auth_parse_stripe("t=12,v1=ab, v1=cd,v0=ef", buf,
	    sizeof(buf), &t, sigs, &n), 0);
	ck_assert_int_eq(t, 12);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(sigs[1], "cd");
	ck_assert_int_eq(auth_parse_stripe("t=x,v1=ab", buf, sizeof(buf), &t,
	    sigs, &n), -1);
	ck_assert_int_eq(auth_parse_stripe("t=1", buf, sizeof(buf), &t, sigs,
	    &n), -1);
	ck_assert_int_eq(auth_parse_stripe("", buf, sizeof(buf), &t, sigs,
	    &n), -1);
}
END_TEST

START_TEST(sha1_and_generic)
{
	static const char *const parts[] = {
	    "The quick brown fox jumps over the lazy dog" };
	size_t lens[] = { strlen(parts[0]) };
	struct fn_auth a = hmac_auth("generic", "X-Signature", "", NULL, "key");
	char *ok[] = { "HTTP_X_SIGNATURE=de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9",
	    NULL };

	ck_assert(auth_hmac_matches("sha1", "key", 3, (const void *const *)parts,
	    lens, 1, "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"));
	ck_assert(!auth_hmac_matches("sha1", "kez", 3,
	    (const void *const *)parts, lens, 1,
	    "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"));
	a.algorithm = (char *)"sha1";
	ck_assert_int_eq(check(&a, ok, parts[0], 0), AUTH_OK);
	ck_assert_int_eq(check(&a, ok, "the quick brown fox jumps over the "
	    "lazy dog", 0), AUTH_BAD);
}
END_TEST

START_TEST(bearer_tokens)
{
	char *tokens[] = { "s3cret-one", "s3cret-two", NULL };
	struct fn_auth a = { .on = true, .tokens = tokens, .ntokens = 2,
	    .ntoken_files = 1 };
	char *ok[] = { "HTTP_AUTHORIZATION=Bearer s3cret-two", NULL };
	char *lower[] = { "HTTP_AUTHORIZATION=bearer s3cret-one", NULL };
	char *wrong[] = { "HTTP_AUTHORIZATION=Bearer s3cret-three", NULL };
	char *prefix[] = { "HTTP_AUTHORIZATION=Bearer s3cret", NULL };
	char *basic[] = { "HTTP_AUTHORIZATION=Basic czNjcmV0LW9uZQ==", NULL };
	char *none[] = { NULL };
	char chal[128];

	ck_assert_int_eq(check(&a, ok, "", 0), AUTH_OK);
	ck_assert_int_eq(check(&a, lower, "", 0), AUTH_OK);
	ck_assert_int_eq(check(&a, wrong, "", 0), AUTH_BAD);
	ck_assert_int_eq(check(&a, prefix, "", 0), AUTH_BAD);
	ck_assert_int_eq(check(&a, basic, "", 0), AUTH_MISSING);
	ck_assert_int_eq(check(&a, none, "", 0), AUTH_MISSING);
	ck_assert_str_eq(auth_challenge(&a, chal, sizeof(chal)),
	    "Bearer realm=\"fnlauncher\"");
}
END_TEST

Suite *
suite_auth(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("auth");

	tcase_add_test(tc, github_vector);
	tcase_add_test(tc, slack_vector);
	tcase_add_test(tc, stripe_scheme);
	tcase_add_test(tc, sha1_and_generic);
	tcase_add_test(tc, bearer_tokens);
	suite_add_tcase(s, tc);
	return s;
}
