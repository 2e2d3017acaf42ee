/* test_manifest_invalid.c — manifests that must be refused: every kind
 * of problem with its exact "FILE:LINE:COL: message", several problems
 * at once, and hostile input (alias bombs, deep nesting, huge, binary)
 * that must fail fast with a clear error. Part of suite_manifest(). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"
#include "test_manifest.h"
#include "unit.h"

/* Parse LEN bytes of TEXT, expect failure; the joined errors. */
static char *
parse_bad(const char *text, size_t len)
{
	struct manifest_errors e = { 0 };
	struct manifest *m = (struct manifest *)&e;
	char *msg;

	ck_assert_int_eq(manifest_parse(text, len, TM_FILE, TM_DIR, &m,
	    &e), -1);
	ck_assert_ptr_null(m);
	ck_assert_uint_gt(e.n, 0);
	msg = tm_join_errors(&e);
	manifest_errors_clear(&e);
	return msg;
}

static void
expect_errors(const char *yaml, const char *want)
{
	char *got = parse_bad(yaml, strlen(yaml));

	ck_assert_msg(strcmp(got, want) == 0,
	    "manifest:\n%s\nwant:\n%s\ngot:\n%s", yaml, want, got);
	free(got);
}

/* ---- invalid manifests: each with its exact messages -------------------- */

struct bad_case {
	const char *yaml;
	const char *want;
};

#define A40 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A65 A40 "aaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct bad_case bad[] = {
	/* top level */
	{ "foo: 1\n", "m.yaml:1:1: unknown key \"foo\" at top level" },
	{ "workers: abc\n", "m.yaml:1:10: \"workers\" must be a number" },
	{ "workers: 0\n",
	    "m.yaml:1:10: \"workers\" must be between 1 and 4096" },
	{ "workers: 99999999999999999999999\n",
	    "m.yaml:1:10: \"workers\" must be between 1 and 4096" },
	{ "workers: [1]\n", "m.yaml:1:10: \"workers\" must be a number" },
	{ "workers:\n", "m.yaml:1:9: \"workers\" must be a number" },
	{ "workers: 1\nworkers: 2\n", "m.yaml:2:1: duplicate key \"workers\"" },
	{ "workers: \"6\\04\"\n",
	    "m.yaml:1:10: \"workers\" must not contain NUL bytes" },
	{ "listen: localhost\n", "m.yaml:1:9: \"listen\" must be "
	    "unix:/absolute/path, HOST:PORT or [V6]:PORT" },
	{ "listen: 127.0.0.1:70000\n",
	    "m.yaml:1:9: \"listen\" must have a port between 1 and 65535" },
	{ "listen: unix:fn.sock\n", "m.yaml:1:9: \"listen\" must be "
	    "unix:/absolute/path, HOST:PORT or [V6]:PORT" },
	{ "socket_mode: \"0999\"\n",
	    "m.yaml:1:14: \"socket_mode\": not an octal mode (e.g. 0660)" },
	{ "socket_mode: 01777\n",
	    "m.yaml:1:14: \"socket_mode\": mode above 0777" },
	{ "socket_owner: \"www data\"\n", "m.yaml:1:15: \"socket_owner\" "
	    "must be a name without spaces or ':'" },
	{ "allow_from: 127.0.0.1\n",
	    "m.yaml:1:13: \"allow_from\" must be a list" },
	{ "allow_from: [127.0.0.1, 10.0.0.0/33, example.com]\n",
	    "m.yaml:1:25: invalid address \"10.0.0.0/33\" in \"allow_from\": "
	    "prefix length out of range\n"
	    "m.yaml:1:38: invalid address \"example.com\" in \"allow_from\": "
	    "not an IP address" },
	{ "functions_dir: \"\"\n",
	    "m.yaml:1:16: \"functions_dir\" must not be empty" },
	{ "prefix: fn\n", "m.yaml:1:9: \"prefix\" must start with '/'" },
	{ "prefix: /a/../b\n", "m.yaml:1:9: \"prefix\" must not contain "
	    "\"//\", \".\" or \"..\" segments" },
	{ "prefix: \"/a b\"\n",
	    "m.yaml:1:9: \"prefix\" must not contain spaces, '?' or '#'" },
	{ "admin: yes\n", "m.yaml:1:8: \"admin\" must be true or false" },
	{ "shutdown_timeout: 10x\n", "m.yaml:1:19: \"shutdown_timeout\": "
	    "unknown duration unit (use ms, s, m or h)" },
	{ "shutdown_timeout: 25h\n",
	    "m.yaml:1:19: \"shutdown_timeout\" must be at most 24h" },
	{ "log:\n  invocations: log.jsonl\n", "m.yaml:2:16: \"invocations\" "
	    "must be stderr, off or an absolute path" },
	{ "log:\n  stderr_max: 2G\n",
	    "m.yaml:2:15: \"stderr_max\" must be at most 1G" },
	{ "log:\n  level: debug\n",
	    "m.yaml:2:3: unknown key \"level\" in log" },
	{ "log: stderr\n", "m.yaml:1:6: \"log\" must be a mapping" },
	/* defaults */
	{ "defaults: []\n", "m.yaml:1:11: \"defaults\" must be a mapping" },
	{ "defaults:\n  path: /bin/true\n  args: [x]\n",
	    "m.yaml:2:3: unknown key \"path\" in defaults\n"
	    "m.yaml:3:3: unknown key \"args\" in defaults" },
	{ "defaults:\n  timeout: 0\n",
	    "m.yaml:2:12: \"timeout\" must be between 1ms and 24h" },
	{ "defaults:\n  timeout: -5s\n",
	    "m.yaml:2:12: \"timeout\": negative duration" },
	{ "defaults:\n  timeout: 1.5s\n",
	    "m.yaml:2:12: \"timeout\": fractions are not allowed" },
	{ "defaults:\n  kill_grace: 2h\n",
	    "m.yaml:2:15: \"kill_grace\" must be at most 1h" },
	{ "defaults:\n  concurrency: 5000\n",
	    "m.yaml:2:16: \"concurrency\" must be between 1 and 4096" },
	{ "defaults:\n  max_body: 8 M\n", "m.yaml:2:13: \"max_body\": "
	    "unknown size unit (use K, M or G)" },
	{ "defaults:\n  methods: GET\n",
	    "m.yaml:2:12: \"methods\" must be a list" },
	{ "defaults:\n  methods: []\n",
	    "m.yaml:2:12: \"methods\" must not be empty" },
	{ "defaults:\n  methods: [GET, get, \"PO ST\", GET]\n",
	    "m.yaml:2:18: invalid method \"get\"\n"
	    "m.yaml:2:23: invalid method \"PO ST\"\n"
	    "m.yaml:2:32: duplicate method \"GET\"" },
	{ "defaults:\n  mode: fast\n",
	    "m.yaml:2:9: \"mode\" must be cgi or raw" },
	{ "defaults:\n  content_type: \"text/plain\\r\\nX-Evil: 1\"\n",
	    "m.yaml:2:17: \"content_type\" must be a media type like "
	    "text/plain" },
	{ "defaults:\n  limits:\n    address_space: 0\n", "m.yaml:3:20: "
	    "\"address_space\" must be more than 0" },
	{ "defaults:\n  limits:\n    memory: lots\n", "m.yaml:3:13: "
	    "\"memory\": not a size (e.g. 512, 64K, 8M, 1G)" },
	{ "defaults:\n  limits:\n    nofile: 0\n    nproc: 5000000\n",
	    "m.yaml:3:13: \"nofile\" must be between 1 and 1048576\n"
	    "m.yaml:4:12: \"nproc\" must be between 1 and 4194304" },
	{ "defaults:\n  limits:\n    rss: 1M\n    cpu: 0\n",
	    "m.yaml:3:5: unknown key \"rss\" in defaults.limits\n"
	    "m.yaml:4:10: \"cpu\" must be more than 0" },
	{ "defaults:\n  limits: 64M\n",
	    "m.yaml:2:11: \"limits\" must be a mapping" },
	{ "defaults:\n  env:\n    1BAD: x\n    OK: [a]\n",
	    "m.yaml:3:5: invalid environment variable name \"1BAD\"\n"
	    "m.yaml:4:9: env \"OK\" must be a string" },
	{ "defaults:\n  env:\n    A: 1\n    A: 2\n",
	    "m.yaml:4:5: duplicate key \"A\"" },
	{ "defaults:\n  env: [A]\n", "m.yaml:2:8: \"env\" must be a mapping" },
	{ "defaults:\n  pass_env: [HOME, \"MY-VAR\"]\n",
	    "m.yaml:2:20: invalid environment variable name \"MY-VAR\"" },
	{ "defaults:\n  pass_params: {a: b}\n",
	    "m.yaml:2:16: \"pass_params\" must be a list" },
	{ "defaults:\n  user: \"\"\n",
	    "m.yaml:2:9: \"user\" must not be empty" },
	{ "defaults:\n  group: ~\n",
	    "m.yaml:2:10: \"group\" must be a string" },
	{ "defaults:\n  umask: \"0o22\"\n",
	    "m.yaml:2:10: \"umask\": not an octal mode (e.g. 0660)" },
	{ "defaults:\n  cwd: srv/www\n",
	    "m.yaml:2:8: \"cwd\" must be an absolute path" },
	{ "defaults:\n  allow_root: 1\n",
	    "m.yaml:2:15: \"allow_root\" must be true or false" },
	{ "defaults:\n  trust_accel_headers: False\n",
	    "m.yaml:2:24: \"trust_accel_headers\" must be true or false" },
	{ "defaults:\n  isolate: [pid, uts]\n",
	    "m.yaml:2:18: unknown isolate entry \"uts\" (use tmp, ipc, pid or net)" },
	{ "defaults:\n  limits: {cpu_quota: 0%, tmp: 1K}\n",
	    "m.yaml:2:23: \"cpu_quota\" must be between 1% and 1000 CPUs\n"
	    "m.yaml:2:32: \"tmp\" must be at least 4K" },
	{ "defaults:\n  limits: {cpu_quota: fast}\n  isolate: [tmp, ipc, x]\n",
	    "m.yaml:2:23: \"cpu_quota\" must be a share of CPUs like 50% or 2, "
	    "or unlimited\n"
	    "m.yaml:3:23: unknown isolate entry \"x\" (use tmp, ipc, pid or net)" },
	{ "cgroup: sys/fs\ndynamic_ids: 100-105\n",
	    "m.yaml:1:9: \"cgroup\" must be auto, off or an absolute path\n"
	    "m.yaml:2:14: \"dynamic_ids\" must be a range FIRST-LAST of at least "
	    "16 ids between 1 and 2147483646" },
	{ "dynamic_ids: 70000\n",
	    "m.yaml:1:14: \"dynamic_ids\" must be a range FIRST-LAST" },
	{ "defaults:\n  isolate: pid\n",
	    "m.yaml:2:12: \"isolate\" must be a list" },
	/* functions */
	{ "functions: [a, b]\n",
	    "m.yaml:1:12: \"functions\" must be a mapping" },
	{ "functions:\n  hello:\n    args: [a]\n",
	    "m.yaml:2:3: function \"hello\" has no \"path\"" },
	{ "functions:\n  a:\n", "m.yaml:2:3: function \"a\" has no \"path\"" },
	{ "functions:\n  .hidden: {path: /bin/true}\n",
	    "m.yaml:2:3: invalid function name \".hidden\"" },
	{ "functions:\n  \"\": {path: /x}\n",
	    "m.yaml:2:3: invalid function name \"\"" },
	{ "functions:\n  " A65 ": {path: /x}\n",
	    "m.yaml:2:3: invalid function name \"" A40 "...\"" },
	{ "functions:\n  a: {path: /bin/true}\n  a: {path: /bin/false}\n",
	    "m.yaml:3:3: duplicate function \"a\"" },
	{ "functions:\n  a: /bin/true\n",
	    "m.yaml:2:6: function \"a\" must be a mapping" },
	{ "functions:\n  a: {path: \"\"}\n",
	    "m.yaml:2:13: \"path\" must not be empty" },
	{ "functions:\n  a: {path: /x, bogus: 1}\n",
	    "m.yaml:2:17: unknown key \"bogus\" in functions.a" },
	{ "functions:\n  a: {path: /x, limits: {cpu: 0}}\n",
	    "m.yaml:2:31: \"cpu\" must be more than 0" },
	{ "functions:\n  a: {path: /x, content_type: \"\"}\n",
	    "m.yaml:2:31: \"content_type\" must be a media type like "
	    "text/plain" },
	{ "functions:\n  a:\n    path: /x\n    methods: [GET]\n"
	    "    methods: [POST]\n", "m.yaml:5:5: duplicate key \"methods\"" },
	{ "functions:\n  a: {path: /x, args: [a, [b]]}\n",
	    "m.yaml:2:27: \"args\" entries must be strings" },
	{ "functions:\n  a: {path: /x, timeout: 1s}\ndefaults: {timeout: 0}\n",
	    "m.yaml:3:21: \"timeout\" must be between 1ms and 24h" },
	/* shape and YAML itself */
	{ "- a\n- b\n", "m.yaml:1:1: the top level must be a mapping" },
	{ "just a string\n", "m.yaml:1:1: the top level must be a mapping" },
	{ "a: b\n---\nc: d\n",
	    "m.yaml:2:1: only one YAML document is allowed" },
	{ "? [a]\n: b\n", "m.yaml:1:3: keys must be strings" },
	{ "workers: !!int 5\ntimeout: 1\n",
	    "m.yaml:2:1: unknown key \"timeout\" at top level" },
	{ "workers: [1, 2\n", "m.yaml:2:1: did not find expected ',' or ']'" },
	{ "\"unterminated\n", "m.yaml:2:1: found unexpected end of stream" },
	{ "workers: 1\n  bad: indent\n",
	    "m.yaml:2:6: mapping values are not allowed in this context" },
	{ "workers: 1\n\x01\n",
	    "m.yaml:2:1: control characters are not allowed" },
	{ "a: \xff\n", "m.yaml:1:4: invalid leading UTF-8 octet" },
	{ "a: &x 1\nb: *x\n",
	    "m.yaml:1:4: anchors and aliases are not supported" },
	{ "? &k a\n: 1\n",
	    "m.yaml:1:3: anchors and aliases are not supported" },
	{ "x:\n  <<: *base\n",
	    "m.yaml:2:7: anchors and aliases are not supported" },
	{ "&top\nworkers: 1\n",
	    "m.yaml:1:1: anchors and aliases are not supported" },
};

START_TEST(test_invalid)
{
	expect_errors(bad[_i].yaml, bad[_i].want);
}
END_TEST

/* Every problem of a file is reported, in file order, not just the first. */
START_TEST(test_all_problems_reported)
{
	expect_errors(
	    "functions:\n"
	    "  ok: {path: /bin/true}\n"
	    "  -no: {path: /x}\n"
	    "  nopath: {timeout: 1s}\n"
	    "  ok: {path: /bin/false, mode: fast}\n"
	    "workers: 0\n"
	    "colour: blue\n"
	    "defaults:\n"
	    "  methods: [get]\n"
	    "  limits: {cpu: forever}\n"
	    "log: {invocations: relative.log}\n",
	    "m.yaml:3:3: invalid function name \"-no\"\n"
	    "m.yaml:4:3: function \"nopath\" has no \"path\"\n"
	    "m.yaml:5:3: duplicate function \"ok\"\n"
	    "m.yaml:5:32: \"mode\" must be cgi or raw\n"
	    "m.yaml:6:10: \"workers\" must be between 1 and 4096\n"
	    "m.yaml:7:1: unknown key \"colour\" at top level\n"
	    "m.yaml:9:13: invalid method \"get\"\n"
	    "m.yaml:10:17: \"cpu\": not a duration (e.g. 250ms, 10s, 2m, 1h)\n"
	    "m.yaml:11:20: \"invocations\" must be stderr, off or an absolute "
	    "path");
}
END_TEST

/* 150 unknown keys: 100 reported, then one line that says so. */
START_TEST(test_too_many_problems)
{
	struct manifest_errors e = { 0 };
	struct manifest *m;
	char *yaml = malloc(150 * 16), *p = yaml;
	int i;

	ck_assert_ptr_nonnull(yaml);
	for (i = 0; i < 150; i++)
		p += sprintf(p, "k%d: 1\n", i);
	ck_assert_int_eq(manifest_parse(yaml, strlen(yaml), TM_FILE, TM_DIR,
	    &m, &e), -1);
	ck_assert_uint_eq(e.n, 101);
	ck_assert_str_eq(e.v[99].msg, "unknown key \"k99\" at top level");
	ck_assert_uint_eq(e.v[100].line, 0);
	ck_assert_str_eq(e.v[100].msg, "too many problems, not all are shown");
	manifest_errors_clear(&e);
	free(yaml);
}
END_TEST

/* ---- hostile input: bounded time and memory, a clear error ------------- */

START_TEST(test_alias_bomb)
{
	expect_errors(
	    "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	    "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n",
	    "m.yaml:1:4: anchors and aliases are not supported");
}
END_TEST

/* LEN bytes: PREFIX, then N copies of OPEN, then N of CLOSE (if any). */
static char *
nested(const char *prefix, size_t n, char open, char close, size_t *len)
{
	size_t p = strlen(prefix);
	char *s = malloc(p + 2 * n + 2);

	ck_assert_ptr_nonnull(s);
	memcpy(s, prefix, p);
	memset(s + p, open, n);
	*len = p + n;
	if (close != '\0') {
		memset(s + p + n, close, n);
		*len += n;
	}
	s[(*len)++] = '\n';
	s[*len] = '\0';
	return s;
}

START_TEST(test_deep_nesting)
{
	static const char *const want =
	    "m.yaml:1:33: nesting deeper than 32 levels";
	size_t len;
	char *s, *got;

	s = nested("", 10000, '[', '\0', &len);     /* never closed */
	got = parse_bad(s, len);
	ck_assert_str_eq(got, want);
	free(got);
	free(s);
	s = nested("", 10000, '[', ']', &len);
	got = parse_bad(s, len);
	ck_assert_str_eq(got, want);
	free(got);
	free(s);
	s = nested("", 10000, '{', '\0', &len);
	got = parse_bad(s, len);
	ck_assert_str_eq(got, want);
	free(got);
	free(s);
	/* 32 levels in all are fine for the reader: the schema speaks. */
	s = nested("a: ", 31, '[', ']', &len);
	got = parse_bad(s, len);
	ck_assert_str_eq(got, "m.yaml:1:1: unknown key \"a\" at top level");
	free(got);
	free(s);
	s = nested("a: ", 32, '[', ']', &len);
	got = parse_bad(s, len);
	ck_assert_str_eq(got, "m.yaml:1:35: nesting deeper than 32 levels");
	free(got);
	free(s);
}
END_TEST

START_TEST(test_deep_block_nesting)
{
	char yaml[4096] = "", *p = yaml;
	char *got;
	int i;

	for (i = 0; i < 40; i++)
		p += sprintf(p, "%*sk%d:\n", i, "", i);
	got = parse_bad(yaml, strlen(yaml));
	ck_assert_str_eq(got, "m.yaml:33:33: nesting deeper than 32 levels");
	free(got);
}
END_TEST

/* 100001 nodes: the map, its key, the list, then 99998 entries. */
START_TEST(test_too_many_nodes)
{
	size_t n = 150000, i, len;
	char *s = malloc(4 + 2 * n + 3), *got;

	ck_assert_ptr_nonnull(s);
	memcpy(s, "a: [", 4);
	for (i = 0; i < n; i++)
		memcpy(s + 4 + 2 * i, "1,", 2);
	len = 4 + 2 * n;
	memcpy(s + len, "]\n", 3);
	len += 2;
	got = parse_bad(s, len);
	ck_assert_str_eq(got,
	    "m.yaml:1:199999: too many nodes (more than 100000)");
	free(got);
	free(s);
}
END_TEST

/* Large defaults copied into many functions: refused before copying. */
START_TEST(test_defaults_amplification)
{
	char *s = malloc(256 * 1024), *p = s, *got;
	int i;

	ck_assert_ptr_nonnull(s);
	p += sprintf(p, "defaults:\n  env:\n");
	for (i = 0; i < 256; i++)
		p += sprintf(p, "    V%d: %0200d\n", i, i);
	p += sprintf(p, "functions:\n");
	for (i = 0; i < 4096; i++)
		p += sprintf(p, "  f%d: {path: /x}\n", i);
	got = parse_bad(s, (size_t)(p - s));
	ck_assert_str_eq(got, "m.yaml: functions and their defaults would "
	    "take more than 64 MiB");
	free(got);
	free(s);
}
END_TEST

/* A buffer of LEN bytes of comment lines. */
static char *
comments(size_t len)
{
	char *s = malloc(len + 1);
	size_t i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < len; i++)
		s[i] = (i % 64 == 63) ? '\n' : (i % 64 == 0 ? '#' : 'x');
	s[len] = '\0';
	return s;
}

START_TEST(test_huge_input)
{
	static const char *const want =
	    "m.yaml: manifest is larger than 1048576 bytes";
	char *s = comments(10 * MIB), *got;
	struct manifest *m;

	got = parse_bad(s, 10 * MIB);
	ck_assert_str_eq(got, want);
	free(got);
	got = parse_bad(s, MANIFEST_MAX_BYTES + 1);
	ck_assert_str_eq(got, want);
	free(got);
	s[MANIFEST_MAX_BYTES - 1] = '\n';
	s[MANIFEST_MAX_BYTES] = '\0';
	m = tm_parse_ok(s);                 /* exactly the limit: fine */
	ck_assert_uint_eq(m->nfunctions, 0);
	manifest_free(m);
	free(s);
}
END_TEST

static uint32_t
lcg(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return *state >> 8;
}

START_TEST(test_binary_garbage)
{
	uint32_t seed = 0x5eed0000u + (uint32_t)_i;
	size_t len = 64 * 1024, i;
	char *s = malloc(len), *got;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < len; i++)
		s[i] = (char)(lcg(&seed) & 0xff);
	got = parse_bad(s, len);
	ck_assert(strncmp(got, "m.yaml:", 7) == 0);
	free(got);
	free(s);
}
END_TEST

/* Random text from YAML's own punctuation: any outcome but a crash. */
START_TEST(test_yaml_soup)
{
	static const char alphabet[] = "[]{}:,-?&*!|>#'\"\n\n  ab1~";
	struct manifest_errors e = { 0 };
	struct manifest *m;
	uint32_t seed = 42;
	char s[512];
	int round;
	size_t i;

	for (round = 0; round < 2000; round++) {
		for (i = 0; i < sizeof(s); i++)
			s[i] = alphabet[lcg(&seed) % (sizeof(alphabet) - 1)];
		if (manifest_parse(s, lcg(&seed) % sizeof(s), TM_FILE,
		    TM_DIR, &m, &e) == 0)
			manifest_free(m);
		else
			ck_assert_uint_gt(e.n, 0);
		manifest_errors_clear(&e);
	}
}
END_TEST

static char *
load_bad(const char *file)
{
	struct manifest_errors e = { 0 };
	struct manifest *m = NULL;
	char buf[512], *msg;

	ck_assert_int_eq(manifest_load(file, &m, &e), -1);
	ck_assert_ptr_null(m);
	ck_assert_uint_eq(e.n, 1);
	msg = strdup(manifest_error_format(file, &e.v[0], buf, sizeof(buf)));
	manifest_errors_clear(&e);
	return msg;
}

START_TEST(test_load_errors)
{
	char *dir = tm_tmpdir(), path[256], *got, *s;

	got = load_bad("/nonexistent/fn.yaml");
	ck_assert_str_eq(got, "/nonexistent/fn.yaml: cannot read: "
	    "No such file or directory");
	free(got);
	got = load_bad(dir);
	ck_assert_str_eq(got + strlen(dir), ": cannot read: Is a directory");
	free(got);
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	s = comments(10 * MIB);
	tm_write_file(path, s, 10 * MIB);
	free(s);
	got = load_bad(path);
	ck_assert_str_eq(got + strlen(path),
	    ": manifest is larger than 1048576 bytes");
	free(got);
	ck_assert_int_eq(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/bad.yaml", dir);
	tm_write_file(path, "workers: 0\n", 11);
	got = load_bad(path);
	ck_assert_str_eq(got + strlen(path),
	    ":1:10: \"workers\" must be between 1 and 4096");
	free(got);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	free(dir);
}
END_TEST

void
tm_add_invalid_tcases(Suite *s)
{
	TCase *badc = tcase_create("invalid");
	TCase *hostile = tcase_create("hostile");

	tcase_add_loop_test(badc, test_invalid, 0, NELEM(bad));
	tcase_add_test(badc, test_all_problems_reported);
	tcase_add_test(badc, test_too_many_problems);
	tcase_add_test(hostile, test_alias_bomb);
	tcase_add_test(hostile, test_deep_nesting);
	tcase_add_test(hostile, test_deep_block_nesting);
	tcase_add_test(hostile, test_too_many_nodes);
	tcase_add_test(hostile, test_huge_input);
	tcase_add_test(hostile, test_defaults_amplification);
	tcase_add_loop_test(hostile, test_binary_garbage, 0, 8);
	tcase_add_test(hostile, test_yaml_soup);
	tcase_add_test(hostile, test_load_errors);
	tcase_set_timeout(hostile, 60);
	suite_add_tcase(s, badc);
	suite_add_tcase(s, hostile);
}
