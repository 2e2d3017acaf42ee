/* jsoncheck.c — see jsoncheck.h. */
#include <stdio.h>
#include <string.h>

#include "jsoncheck.h"

struct cur {
	const unsigned char *p, *end;
	const char *why;
};

static bool
bad(struct cur *c, const char *why)
{
	if (c->why == NULL)
		c->why = why;
	return false;
}

/* One UTF-8 character of a string, at least 0x20. */
static bool
utf8_char(struct cur *c)
{
	unsigned v = *c->p, cp, min;
	int n;

	if (v < 0x20)
		return bad(c, "control character in a string");
	if (v < 0x80) {
		c->p++;
		return true;
	}
	if (v >= 0xc2 && v <= 0xdf)
		n = 2, min = 0x80, cp = v & 0x1f;
	else if (v >= 0xe0 && v <= 0xef)
		n = 3, min = 0x800, cp = v & 0x0f;
	else if (v >= 0xf0 && v <= 0xf4)
		n = 4, min = 0x10000, cp = v & 0x07;
	else
		return bad(c, "not UTF-8");
	if (c->end - c->p < n)
		return bad(c, "cut UTF-8 sequence");
	for (int i = 1; i < n; i++) {
		if ((c->p[i] & 0xc0) != 0x80)
			return bad(c, "not UTF-8");
		cp = cp << 6 | (c->p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return bad(c, "not UTF-8 (overlong or surrogate)");
	c->p += n;
	return true;
}

static bool
string(struct cur *c)
{
	if (c->p >= c->end || *c->p != '"')
		return bad(c, "expected a string");
	c->p++;
	while (c->p < c->end && *c->p != '"') {
		if (*c->p != '\\') {
			if (!utf8_char(c))
				return false;
			continue;
		}
		if (c->end - c->p < 2)
			return bad(c, "cut escape");
		if (strchr("\"\\/bfnrt", c->p[1]) != NULL) {
			c->p += 2;
			continue;
		}
		if (c->p[1] != 'u' || c->end - c->p < 6)
			return bad(c, "bad escape");
		for (int i = 2; i < 6; i++)
			if (strchr("0123456789abcdefABCDEF", c->p[i]) == NULL)
				return bad(c, "bad \\u escape");
		c->p += 6;
	}
	if (c->p >= c->end)
		return bad(c, "unterminated string");
	c->p++;
	return true;
}

static bool
literal(struct cur *c, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return false;
	c->p += n;
	return true;
}

/* RFC 8259 number: -? int frac? exp? */
static bool
number(struct cur *c)
{
	const unsigned char *s = c->p;

	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p >= c->end || *c->p < '0' || *c->p > '9')
		return bad(c, "expected a value");
	if (*c->p == '0')
		c->p++;
	else
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (c->p >= c->end || *c->p < '0' || *c->p > '9')
			return bad(c, "bad fraction");
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	return c->p > s;
}

static bool
value(struct cur *c)
{
	if (c->p < c->end && *c->p == '"')
		return string(c);
	if (literal(c, "null") || literal(c, "true") || literal(c, "false"))
		return true;
	return number(c);
}

bool
jsoncheck_flat(const char *s, size_t len, const char **why)
{
	struct cur c = { (const unsigned char *)s,
	    (const unsigned char *)s + len, NULL };
	bool ok = false;

	if (len < 3 || s[len - 1] != '\n') {
		bad(&c, "no newline at the end");
		goto out;
	}
	c.end--;
	if (*c.p++ != '{') {
		bad(&c, "not an object");
		goto out;
	}
	for (;;) {
		if (!string(&c))
			goto out;
		if (c.p >= c.end || *c.p++ != ':') {
			bad(&c, "expected ':'");
			goto out;
		}
		if (!value(&c))
			goto out;
		if (c.p < c.end && *c.p == ',') {
			c.p++;
			continue;
		}
		break;
	}
	if (c.p >= c.end || *c.p++ != '}' || c.p != c.end) {
		bad(&c, "expected '}' and the end");
		goto out;
	}
	ok = true;
out:
	if (why != NULL)
		*why = c.why;
	return ok;
}

bool
jsoncheck_has(const char *s, const char *key)
{
	char pat[80];

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	return strstr(s, pat) != NULL;
}
