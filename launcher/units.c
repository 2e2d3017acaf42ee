/* units.c — pure parsers for the manifest's scalar types (units.h).
 * Numbers are read digit by digit with explicit overflow checks: no
 * locale, no leading whitespace or sign, no base prefixes. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "units.h"

static int
fail(const char **err, const char *msg)
{
	if (err != NULL)
		*err = msg;
	return -1;
}

/* Read the leading decimal digits of S into *V; *END points after them.
 * Returns 0, or -1 when there is no digit or the value overflows. */
static int
read_decimal(const char *s, const char **end, uint64_t *v, bool *overflow)
{
	uint64_t acc = 0;
	const char *p = s;

	*overflow = false;
	while (*p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');

		if (acc > (UINT64_MAX - d) / 10)
			*overflow = true;
		else
			acc = acc * 10 + d;
		p++;
	}
	*end = p;
	*v = acc;
	return (p == s || *overflow) ? -1 : 0;
}

/* Common front of the number parsers: S must start with a digit.
 * WHAT names the kind for the messages, which are static. */
static int
leading_number(const char *s, const char **end, uint64_t *v,
    const char *const msgs[4], const char **err)
{
	bool overflow;

	if (s == NULL || *s == '\0')
		return fail(err, msgs[0]);
	if (*s == '-')
		return fail(err, msgs[1]);
	if (*s < '0' || *s > '9')
		return fail(err, msgs[2]);
	if (read_decimal(s, end, v, &overflow) < 0)
		return fail(err, msgs[3]);
	if (**end == '.' || **end == ',')
		return fail(err, "fractions are not allowed");
	return 0;
}

static int
scale(uint64_t v, uint64_t mul, uint64_t *out)
{
	if (mul != 0 && v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

int
units_duration_ms(const char *s, uint64_t *ms, const char **err)
{
	static const char *const msgs[4] = {
		"empty duration", "negative duration",
		"not a duration (e.g. 250ms, 10s, 2m, 1h)",
		"duration too large",
	};
	const char *end;
	uint64_t v, mul;

	if (leading_number(s, &end, &v, msgs, err) < 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mul = 60 * 60 * 1000;
	else
		return fail(err, "unknown duration unit (use ms, s, m or h)");
	if (scale(v, mul, ms) < 0)
		return fail(err, msgs[3]);
	return 0;
}

int
units_size(const char *s, uint64_t *bytes, const char **err)
{
	static const char *const msgs[4] = {
		"empty size", "negative size",
		"not a size (e.g. 512, 64K, 8M, 1G)", "size too large",
	};
	const char *end;
	uint64_t v, mul;

	if (leading_number(s, &end, &v, msgs, err) < 0)
		return -1;
	if (*end == '\0')
		mul = 1;
	else if (strcmp(end, "K") == 0)
		mul = 1024;
	else if (strcmp(end, "M") == 0)
		mul = 1024 * 1024;
	else if (strcmp(end, "G") == 0)
		mul = 1024 * 1024 * 1024;
	else
		return fail(err, "unknown size unit (use K, M or G)");
	if (scale(v, mul, bytes) < 0)
		return fail(err, msgs[3]);
	return 0;
}

int
units_uint(const char *s, uint64_t min, uint64_t max, uint64_t *v,
    const char **err)
{
	static const char *const msgs[4] = {
		"empty number", "negative number", "not a number",
		"number out of range",
	};
	const char *end;
	uint64_t n;

	if (leading_number(s, &end, &n, msgs, err) < 0)
		return -1;
	if (*end != '\0')
		return fail(err, msgs[2]);
	if (n < min || n > max)
		return fail(err, msgs[3]);
	*v = n;
	return 0;
}

int
units_mode(const char *s, mode_t *mode, const char **err)
{
	uint64_t v = 0;
	const char *p;

	if (s == NULL || *s == '\0')
		return fail(err, "empty mode");
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '7')
			return fail(err, "not an octal mode (e.g. 0660)");
		v = v * 8 + (uint64_t)(*p - '0');
		if (v > 0777)
			return fail(err, "mode above 0777");
	}
	*mode = (mode_t)v;
	return 0;
}

static bool
is_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9');
}

bool
units_valid_name(const char *s)
{
	size_t i;

	if (s == NULL || !is_alnum(s[0]))
		return false;
	for (i = 1; s[i] != '\0'; i++) {
		if (i >= 64)
			return false;
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' &&
		    s[i] != '-')
			return false;
	}
	return true;
}

bool
units_valid_method(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= 32 || s[i] < 'A' || s[i] > 'Z')
			return false;
	return true;
}

bool
units_valid_env_name(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (i >= 255 || (!is_alnum(s[i]) && s[i] != '_'))
			return false;
	return true;
}

/* Parse the prefix length after '/': 1..3 digits, at most MAX. */
static int
cidr_prefix(const char *s, unsigned max, unsigned *prefix, const char **err)
{
	uint64_t v;

	if (strlen(s) > 3 || units_uint(s, 0, UINT64_MAX, &v, NULL) < 0)
		return fail(err, "bad prefix length");
	if (v > max)
		return fail(err, "prefix length out of range");
	*prefix = (unsigned)v;
	return 0;
}

int
units_cidr(const char *s, int *family, unsigned char addr[16],
    unsigned *prefix, const char **err)
{
	char host[INET6_ADDRSTRLEN];
	unsigned char buf[16] = { 0 };
	const char *slash;
	size_t hlen, i;
	unsigned max, plen;
	int fam;

	if (s == NULL || *s == '\0')
		return fail(err, "empty address");
	slash = strchr(s, '/');
	hlen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (hlen == 0 || hlen >= sizeof(host))
		return fail(err, "not an IP address");
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	fam = strchr(host, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(fam, host, buf) != 1)
		return fail(err, "not an IP address");
	max = fam == AF_INET ? 32 : 128;
	plen = max;
	if (slash != NULL && cidr_prefix(slash + 1, max, &plen, err) < 0)
		return -1;
	/* Clear the host bits so matching is a plain prefix compare. */
	for (i = 0; i < 16; i++) {
		unsigned bits = plen > i * 8 ? plen - (unsigned)i * 8 : 0;

		if (bits < 8)
			buf[i] &= (unsigned char)(0xff00u >> bits);
	}
	*family = fam;
	memcpy(addr, buf, 16);
	*prefix = plen;
	return 0;
}

static int
listen_port(const char *s, const char **err)
{
	uint64_t port;

	if (units_uint(s, 1, 65535, &port, NULL) < 0)
		return fail(err, "must have a port between 1 and 65535");
	return 0;
}

int
units_listen(const char *s, const char **err)
{
	static const char *usage =
	    "must be unix:/absolute/path, HOST:PORT or [V6]:PORT";
	struct sockaddr_un sun;
	char host[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	const char *colon, *p;

	if (s == NULL)
		return fail(err, usage);
	if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] != '/')
			return fail(err, usage);
		if (strlen(s + 5) >= sizeof(sun.sun_path))
			return fail(err, "must have a socket path under 108 "
			    "bytes");
		return 0;
	}
	if (*s == '[') {
		p = strchr(s, ']');
		if (p == NULL || p[1] != ':' ||
		    (size_t)(p - s - 1) >= sizeof(host))
			return fail(err, usage);
		memcpy(host, s + 1, (size_t)(p - s - 1));
		host[p - s - 1] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1)
			return fail(err, usage);
		return listen_port(p + 2, err);
	}
	colon = strrchr(s, ':');
	if (colon == NULL || colon == s)
		return fail(err, usage);
	for (p = s; p < colon; p++)
		if (!is_alnum(*p) && *p != '.' && *p != '-' && *p != '_' &&
		    *p != '*')
			return fail(err, usage);
	return listen_port(colon + 1, err);
}

int
units_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
