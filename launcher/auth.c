/* auth.c — see auth.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "auth.h"
#include "envfiles.h"
#include "units.h"
#include "manifest_schema.h"

/* ---- pure parts ---------------------------------------------------------- */

/* The value of the FastCGI param for HTTP header NAME ("X-Hub-Signature"
 * → HTTP_X_HUB_SIGNATURE), or NULL. */
static const char *
header_of(char *const *params, const char *name)
{
	char key[128];
	size_t n = 0;

	n = (size_t)snprintf(key, sizeof(key), "HTTP_");
	for (const char *p = name; *p != '\0' && n + 2 < sizeof(key); p++)
		key[n++] = *p == '-' ? '_' : (char)((*p >= 'a' && *p <= 'z') ?
		    *p - 'a' + 'A' : *p);
	key[n++] = '=';
	key[n] = '\0';
	for (; params != NULL && *params != NULL; params++)
		if (strncmp(*params, key, n) == 0)
			return *params + n;
	return NULL;
}

bool
auth_hmac_matches(const char *alg, const void *key, size_t keylen,
    const void *const *parts, const size_t *lens, size_t n, const char *hex)
{
	unsigned char mac[EVP_MAX_MD_SIZE], want[EVP_MAX_MD_SIZE];
	size_t maclen = 0, hexlen = strlen(hex);
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[2];
	bool ok = false;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(strcmp(alg, "sha1") == 0 ? "SHA1" : "SHA256"), 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx == NULL || EVP_MAC_init(ctx, key, keylen, params) != 1)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (EVP_MAC_update(ctx, parts[i], lens[i]) != 1)
			goto out;
	if (EVP_MAC_final(ctx, mac, &maclen, sizeof(mac)) != 1 ||
	    hexlen != 2 * maclen)
		goto out;
	for (size_t i = 0; i < maclen; i++) {
		int hi = units_hexval(hex[2 * i]);
		int lo = units_hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto out;
		want[i] = (unsigned char)(hi << 4 | lo);
	}
	ok = CRYPTO_memcmp(mac, want, maclen) == 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	return ok;
}

int
auth_parse_stripe(const char *value, char *buf, size_t size, long long *t,
    const char **sigs, size_t *nsigs)
{
	char *save = NULL, *item, *end;
	bool have_t = false;

	*nsigs = 0;
	if (strlen(value) >= size)
		return -1;
	strcpy(buf, value);
	for (item = strtok_r(buf, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		while (*item == ' ')
			item++;
		if (strncmp(item, "t=", 2) == 0) {
			errno = 0;
			*t = strtoll(item + 2, &end, 10);
			if (errno != 0 || end == item + 2 || *end != '\0')
				return -1;
			have_t = true;
		} else if (strncmp(item, "v1=", 3) == 0 &&
		    *nsigs < AUTH_MAX_SIGS) {
			sigs[(*nsigs)++] = item + 3;
		}
	}
	return have_t && *nsigs > 0 ? 0 : -1;
}

/* A timestamp header's value: whole seconds since the epoch. */
static int
parse_ts(const char *s, long long *t)
{
	char *end;

	errno = 0;
	*t = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' ? 0 : -1;
}

static enum auth_result
fail(enum auth_result r, char *why, size_t wlen, const char *msg)
{
	snprintf(why, wlen, "%s", msg);
	return r;
}

static bool
fresh(long long ts, time_t now, uint64_t tolerance_ms)
{
	long long d = (long long)now - ts;

	if (d < 0)
		d = -d;
	return (uint64_t)d * 1000u <= tolerance_ms;
}

static enum auth_result
check_bearer(const struct fn_auth *a, char *const *params, char *why,
    size_t wlen)
{
	const char *h = header_of(params, "Authorization");
	bool ok = false;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return fail(AUTH_MISSING, why, wlen, "no Authorization: Bearer");
	h += 7;
	while (*h == ' ')
		h++;
	size_t hl = strlen(h);
	/* every token compared, in constant time for its length */
	for (size_t i = 0; i < a->ntokens; i++) {
		size_t tl = strlen(a->tokens[i]);
		if (tl == hl && CRYPTO_memcmp(a->tokens[i], h, tl) == 0)
			ok = true;
	}
	return ok ? AUTH_OK : fail(AUTH_BAD, why, wlen, "wrong bearer token");
}

static enum auth_result
check_hmac(const struct fn_auth *a, char *const *params, const void *body,
    size_t len, time_t now, char *why, size_t wlen)
{
	const char *sig = header_of(params, a->header), *tsv = NULL;
	const void *parts[4];
	size_t lens[4], n = 0, plen = a->prefix ? strlen(a->prefix) : 0;
	char tsbuf[32];
	long long ts = 0;

	if (sig == NULL)
		return fail(AUTH_MISSING, why, wlen, "no signature header");
	if (strcmp(a->scheme, "stripe") == 0) {
		char buf[1024];
		const char *sigs[AUTH_MAX_SIGS];
		size_t ns;

		if (auth_parse_stripe(sig, buf, sizeof(buf), &ts, sigs, &ns) < 0)
			return fail(AUTH_BAD, why, wlen, "bad Stripe-Signature");
		if (!fresh(ts, now, a->tolerance_ms))
			return fail(AUTH_STALE, why, wlen, "timestamp outside "
			    "the tolerance");
		snprintf(tsbuf, sizeof(tsbuf), "%lld.", ts);
		parts[0] = tsbuf;
		lens[0] = strlen(tsbuf);
		parts[1] = body;
		lens[1] = len;
		bool ok = false;
		for (size_t i = 0; i < ns; i++)
			ok |= auth_hmac_matches("sha256", a->secret,
			    a->secret_len, parts, lens, 2, sigs[i]);
		return ok ? AUTH_OK : fail(AUTH_BAD, why, wlen,
		    "signature does not match");
	}
	if (strncmp(sig, a->prefix ? a->prefix : "", plen) != 0)
		return fail(AUTH_BAD, why, wlen, "signature without its prefix");
	if (a->timestamp_header != NULL) {
		if ((tsv = header_of(params, a->timestamp_header)) == NULL)
			return fail(AUTH_MISSING, why, wlen,
			    "no timestamp header");
		if (parse_ts(tsv, &ts) < 0)
			return fail(AUTH_BAD, why, wlen, "bad timestamp");
		if (!fresh(ts, now, a->tolerance_ms))
			return fail(AUTH_STALE, why, wlen, "timestamp outside "
			    "the tolerance");
		if (strcmp(a->scheme, "slack") == 0) {
			parts[n] = "v0:";
			lens[n++] = 3;
			parts[n] = tsv;
			lens[n++] = strlen(tsv);
			parts[n] = ":";
			lens[n++] = 1;
		} else {
			parts[n] = tsv;
			lens[n++] = strlen(tsv);
			parts[n] = ".";
			lens[n++] = 1;
		}
	}
	parts[n] = body;
	lens[n++] = len;
	return auth_hmac_matches(a->algorithm, a->secret, a->secret_len, parts,
	    lens, n, sig + plen) ? AUTH_OK : fail(AUTH_BAD, why, wlen,
	    "signature does not match");
}

enum auth_result
auth_check(const struct fn_auth *a, char *const *params, const void *body,
    size_t len, time_t now, char *why, size_t wlen)
{
	enum auth_result r = AUTH_OK;

	why[0] = '\0';
	if (!a->on)
		return AUTH_OK;
	/* both given: both must pass */
	if (a->ntokens > 0 || a->ntoken_files > 0)
		r = check_bearer(a, params, why, wlen);
	if (r == AUTH_OK && a->scheme != NULL)
		r = check_hmac(a, params, body, len, now, why, wlen);
	return r;
}

const char *
auth_challenge(const struct fn_auth *a, char *buf, size_t size)
{
	if (a->ntoken_files > 0)
		snprintf(buf, size, "Bearer realm=\"fnlauncher\"");
	else
		snprintf(buf, size, "HMAC header=\"%s\"",
		    a->header ? a->header : "");
	return buf;
}

/* ---- loading ------------------------------------------------------------- */

/* Lines of TEXT that are tokens (blank and '#' lines skipped, blanks
 * around them trimmed) appended to A's tokens. */
static int
add_tokens(struct fn_auth *a, char *text)
{
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save)) {
		size_t n;
		while (*l == ' ' || *l == '\t')
			l++;
		n = strlen(l);
		while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t' ||
		    l[n - 1] == '\r'))
			l[--n] = '\0';
		if (n == 0 || *l == '#')
			continue;
		char **v = realloc(a->tokens, (a->ntokens + 2) * sizeof(*v));
		if (v == NULL)
			return -1;
		a->tokens = v;
		if ((v[a->ntokens] = strdup(l)) == NULL)
			return -1;
		v[++a->ntokens] = NULL;
	}
	return 0;
}

static int
load_one(struct fn_spec *s, struct manifest_errors *errs)
{
	struct fn_auth *a = &s->auth;
	char why[256];
	size_t len;
	int rc = 0;

	if (!a->on)
		return 0;
	for (size_t i = 0; i < a->ntoken_files; i++) {
		char *text = envfiles_read_private(a->token_files[i],
		    AUTH_FILE_MAX, &len, why, sizeof(why));
		if (text == NULL || add_tokens(a, text) < 0) {
			(void)manifest_error_add(errs, 0, 0, "function %s: "
			    "auth.bearer token_files %s: %s", s->name,
			    a->token_files[i], text ? "out of memory" : why);
			rc = -1;
		}
		if (text != NULL) {
			explicit_bzero(text, len);
			free(text);
		}
	}
	if (a->ntoken_files > 0 && a->ntokens == 0 && rc == 0) {
		(void)manifest_error_add(errs, 0, 0, "function %s: "
		    "auth.bearer: no token in its files", s->name);
		rc = -1;
	}
	if (a->secret_file != NULL) {
		char *sec = envfiles_read_private(a->secret_file,
		    AUTH_FILE_MAX, &len, why, sizeof(why));
		if (sec == NULL) {
			(void)manifest_error_add(errs, 0, 0, "function %s: "
			    "auth.hmac secret_file %s: %s", s->name,
			    a->secret_file, why);
			return -1;
		}
		/* one trailing newline is the file's, not the key's */
		if (len > 0 && sec[len - 1] == '\n')
			sec[--len] = '\0';
		if (len > 0 && sec[len - 1] == '\r')
			sec[--len] = '\0';
		if (len == 0) {
			free(sec);
			(void)manifest_error_add(errs, 0, 0, "function %s: "
			    "auth.hmac secret_file %s: the key is empty",
			    s->name, a->secret_file);
			return -1;
		}
		a->secret = sec;
		a->secret_len = len;
	}
	return rc;
}

int
auth_load(struct manifest *m, struct manifest_errors *errs)
{
	int rc = 0;

	for (size_t i = 0; i < m->nfunctions; i++)
		if (load_one(&m->functions[i], errs) < 0)
			rc = -1;
	return rc;
}
