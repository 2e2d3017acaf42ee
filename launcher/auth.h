/* auth.h — request authentication before spawning (a function's
 * `auth:`): a bearer token, or an HMAC signature over the raw body as
 * webhook senders sign (GitHub, Stripe, Slack, or a generic header).
 *
 * The daemon reads the whole body first, checks it here, and only then
 * starts the function; a failure is 401 and nothing runs. Comparisons
 * are in constant time (CRYPTO_memcmp); HMAC is OpenSSL's libcrypto.
 * The checks are pure: the secrets and tokens come in, read at load
 * from root-only files (auth_load); nothing here logs them. */
#ifndef FN_AUTH_H
#define FN_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "manifest.h"

#define AUTH_MAX_SIGS 8          /* signatures in one header (Stripe: v1=...) */
#define AUTH_FILE_MAX (16 * 1024) /* a token or secret file, at most */

enum auth_result {
	AUTH_OK = 0,
	AUTH_MISSING,        /* no Authorization / signature header */
	AUTH_BAD,            /* wrong token, wrong signature, bad header */
	AUTH_STALE,          /* timestamp outside the tolerance (a replay?) */
};

/* A Stripe-Signature value "t=TS,v1=HEX[,v1=HEX...][,v0=...]": TS into
 * *T and up to AUTH_MAX_SIGS v1 signatures (pointers into a copy in
 * BUF, SIZE bytes) into SIGS. 0, or -1 when it is not one. */
int auth_parse_stripe(const char *value, char *buf, size_t size,
    long long *t, const char **sigs, size_t *nsigs);

/* HMAC (ALG "sha256" or "sha1") with KEY over the concatenation of the
 * N parts (PARTS[i], LENS[i] bytes), compared in constant time with the
 * lower- or upper-case hex in HEX. */
bool auth_hmac_matches(const char *alg, const void *key, size_t keylen,
    const void *const *parts, const size_t *lens, size_t n,
    const char *hex);

/* Check the request of FN (its FastCGI PARAMS: HTTP_* headers) with BODY
 * (LEN bytes) at time NOW. WHY (a short reason, no secret) is set when
 * it fails. */
enum auth_result auth_check(const struct fn_auth *a, char *const *params,
    const void *body, size_t len, time_t now, char *why, size_t wlen);

/* The WWW-Authenticate value for a 401 of A, into BUF. */
const char *auth_challenge(const struct fn_auth *a, char *buf, size_t size);

/* Read the token and secret files of every auth of M (owned by the
 * daemon's user, not readable by group or others). 0, or -1 with each
 * problem appended to ERRS. */
int auth_load(struct manifest *m, struct manifest_errors *errs);

#endif
