/* security_manifest.c — fnlauncher -t on hostile manifests (SPEC.md
 * sections 2, 3): each ends in a clear FILE:LINE:COL: or FILE: message
 * and exit code 1, within 5 s and 512 MiB, never a signal. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "security.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* ---- bad manifests through fnlauncher -t -------------------------------- */

static char *repeat(const char *head, const char *unit, size_t n,
    const char *tail, size_t *len)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char *s = malloc(hl + ul * n + tl + 1), *p;

	if (s == NULL)
		return NULL;
	memcpy(s, head, hl);
	for (p = s + hl, i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl + 1);
	*len = hl + ul * n + tl;
	return s;
}

static char *m_text(const char *text, size_t *len)
{
	*len = strlen(text);
	return strdup(text);
}

static char *m_malformed(size_t *len)
{
	return m_text("functions:\n  hello: { path: /bin/true\n"
	    "  other: [1, 2\n", len);
}

/* Billion laughs: nine levels of nine aliases. */
static char *m_alias_bomb(size_t *len)
{
	char *s = malloc(4096), *p;
	int lvl, i;

	if (s == NULL)
		return NULL;
	p = s + sprintf(s, "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, "
	    "lol]\n");
	for (lvl = 1; lvl < 10; lvl++) {
		p += sprintf(p, "a%d: &a%d [", lvl, lvl);
		for (i = 0; i < 9; i++)
			p += sprintf(p, "%s*a%d", i ? ", " : "", lvl - 1);
		p += sprintf(p, "]\n");
	}
	*len = (size_t)(p - s);
	return s;
}

static char *m_deep_seq(size_t *len)
{
	char *open = repeat("functions: ", "[", 10000, "", len), *s;
	size_t l2;

	if (open == NULL)
		return NULL;
	s = repeat(open, "]", 10000, "\n", &l2);
	free(open);
	*len = l2;
	return s;
}

static char *m_deep_map(size_t *len)
{
	char *open = repeat("defaults: ", "{a: ", 10000, "1", len), *s;
	size_t l2;

	if (open == NULL)
		return NULL;
	s = repeat(open, "}", 10000, "\n", &l2);
	free(open);
	*len = l2;
	return s;
}

static char *m_10mb(size_t *len)
{
	return repeat("functions:\n", "  # padding padding padding padding\n",
	    (10u << 20) / 36 + 1, "", len);
}

static char *m_garbage(size_t *len)
{
	size_t n = 64 * 1024, i;
	unsigned char *s = malloc(n + 1);
	uint32_t x = 2463534242u;

	if (s == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		s[i] = (unsigned char)x;
	}
	s[n] = '\0';
	*len = n;
	return (char *)s;
}

/* Random YAML punctuation and words: gets deeper into the parser than
 * random bytes, which fail at the first invalid UTF-8 octet. */
static char *m_garbage_yaml(size_t *len)
{
	static const char *const tok[] = { "{", "}", "[", "]", ": ", ", ",
	    "- ", "\n", "\n  ", "&a ", "*a ", "!t ", "|\n", ">\n", "'x'",
	    "\"y\"", "# c\n", "? ", "functions", "path", "defaults",
	    "%YAML 1.1\n", "---\n", "...\n", "~", "1", "\t", "@", "`", "\\" };
	size_t n = 0, cap = 64 * 1024, tl;
	char *s = malloc(cap + 32);
	uint32_t x = 88172645u;

	if (s == NULL)
		return NULL;
	while (n < cap) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		tl = strlen(tok[x % (sizeof(tok) / sizeof(tok[0]))]);
		memcpy(s + n, tok[x % (sizeof(tok) / sizeof(tok[0]))], tl);
		n += tl;
	}
	s[n] = '\0';
	*len = n;
	return s;
}

static char *m_anchor_key(size_t *len)
{
	return m_text("functions:\n  &k hello: { path: /bin/true }\n"
	    "  *k : { path: /bin/true }\n", len);
}

static char *m_nul(size_t *len)
{
	static const char t[] = "functions:\n  hello: { path: /bin/\0true }\n";

	char *s = malloc(sizeof(t));

	*len = sizeof(t) - 1;
	return s != NULL ? memcpy(s, t, sizeof(t)) : NULL;
}

static char *m_valid(size_t *len)
{
	return m_text("functions:\n  hello: { path: /bin/true }\n", len);
}

static const struct {
	const char *name;
	char *(*make)(size_t *);
	int rc;                  /* exit code: 1, or 0 for the control */
} BAD_MANIFEST[] = {
	{ "malformed", m_malformed, 1 },
	{ "alias bomb", m_alias_bomb, 1 },
	{ "10000-deep sequences", m_deep_seq, 1 },
	{ "10000-deep mappings", m_deep_map, 1 },
	{ "10 MB file", m_10mb, 1 },
	{ "random bytes", m_garbage, 1 },
	{ "random YAML tokens", m_garbage_yaml, 1 },
	{ "anchor as a key", m_anchor_key, 1 },
	{ "NUL byte", m_nul, 1 },
	{ "control: valid", m_valid, 0 },
};

/* Every line is "FILE:LINE:COL: message" or "FILE: message". */
static int line_ok(const char *line, const char *file)
{
	size_t fl = strlen(file);
	unsigned l, c;
	int n = 0;

	if (strncmp(line, file, fl) != 0 || line[fl] != ':')
		return 0;
	line += fl + 1;
	if (line[0] == ' ' && line[1] != '\0')
		return 1;
	return sscanf(line, "%u:%u: %n", &l, &c, &n) == 2 && n > 0 && l > 0 &&
	    c > 0 && line[n] != '\0';
}

START_TEST(manifest_check_bad_input)
{
	const char *name = BAD_MANIFEST[_i].name;
	char file[512], rel[64], *text, *out, *line, *save = NULL;
	size_t len;
	int st = 0, lines = 0;

	text = BAD_MANIFEST[_i].make(&len);
	ck_assert_ptr_nonnull(text);
	snprintf(rel, sizeof(rel), "bad-%d.yaml", _i);
	ck_assert_int_eq(harness_path(sec_h, rel, file, sizeof(file)), 0);
	ck_assert_int_eq(harness_write_file(file, text, len, 0644), 0);
	free(text);
	ck_assert_msg(sec_check_manifest(file, &out, &st) == 1,
	    "%s: fnlauncher -t still running after 5 s", name);
	ck_assert_ptr_nonnull(out);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == BAD_MANIFEST[_i].rc,
	    "%s: wait status 0x%x (signal %d), want exit %d\n%.500s", name,
	    (unsigned)st, WIFSIGNALED(st) ? WTERMSIG(st) : 0,
	    BAD_MANIFEST[_i].rc, out);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), lines++)
		ck_assert_msg(line_ok(line, file), "%s: line \"%.200s\" is not "
		    "FILE:LINE:COL: or FILE: message", name, line);
	ck_assert_msg(lines >= 1 && lines <= 50, "%s: %d lines of output",
	    name, lines);
	free(out);
}
END_TEST

void sec_add_manifest(TCase *tc)
{
	tcase_add_loop_test(tc, manifest_check_bad_input, 0,
	    (int)(sizeof(BAD_MANIFEST) / sizeof(BAD_MANIFEST[0])));
}
