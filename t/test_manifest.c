/* test_manifest.c — manifest.c (with yamltree.c and manifest_schema.c):
 * valid manifests and the values they give, the loader, the accessors.
 * Invalid and hostile manifests are in test_manifest_invalid.c. Files
 * the tests write go to a mkdtemp() folder under /tmp. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "test_manifest.h"
#include "unit.h"

/* ---- helpers shared with test_manifest_invalid.c ------------------------ */

char *
tm_join_errors(const struct manifest_errors *e)
{
	char line[512], *out = NULL;
	size_t len = 0, i, n;

	out = calloc(1, 1);
	ck_assert_ptr_nonnull(out);
	for (i = 0; i < e->n; i++) {
		manifest_error_format(TM_FILE, &e->v[i], line, sizeof(line));
		n = strlen(line);
		out = realloc(out, len + n + 2);
		ck_assert_ptr_nonnull(out);
		if (len > 0)
			out[len++] = '\n';
		memcpy(out + len, line, n + 1);
		len += n;
	}
	return out;
}

struct manifest *
tm_parse_ok(const char *yaml)
{
	struct manifest_errors e = { 0 };
	struct manifest *m = NULL;
	int rc = manifest_parse(yaml, strlen(yaml), TM_FILE, TM_DIR, &m,
	    &e);
	char *msg = tm_join_errors(&e);

	ck_assert_msg(rc == 0, "unexpected errors:\n%s", msg);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(e.n, 0);
	free(msg);
	manifest_errors_clear(&e);
	return m;
}

char *
tm_tmpdir(void)
{
	char *d = strdup("/tmp/fnl-manifest-XXXXXX");

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

void
tm_write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* ---- valid manifests ---------------------------------------------------- */

static void
check_builtin_spec(const struct fn_spec *s)
{
	static const char *const methods[] = {
		"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
	};
	size_t i;

	ck_assert_uint_eq(s->timeout_ms, 30000);
	ck_assert_uint_eq(s->kill_grace_ms, 2000);
	ck_assert_uint_eq(s->concurrency, 16);
	ck_assert_uint_eq(s->max_body, 8 * MIB);
	ck_assert_uint_eq(s->nmethods, NELEM(methods));
	for (i = 0; i < NELEM(methods); i++)
		ck_assert_str_eq(s->methods[i], methods[i]);
	ck_assert_int_eq(s->mode, FN_MODE_CGI);
	ck_assert_str_eq(s->content_type, "application/octet-stream");
	ck_assert_uint_eq(s->limits[FN_LIMIT_CPU], 10);
	ck_assert_uint_eq(s->limits[FN_LIMIT_MEMORY], 512 * MIB);
	ck_assert_uint_eq(s->limits[FN_LIMIT_NOFILE], 256);
	ck_assert_uint_eq(s->limits[FN_LIMIT_NPROC], 64);
	ck_assert_uint_eq(s->limits[FN_LIMIT_FSIZE], 64 * MIB);
	ck_assert_uint_eq(s->limits[FN_LIMIT_STACK], 8 * MIB);
	ck_assert_uint_eq(s->limits[FN_LIMIT_CORE], 0);
	ck_assert_uint_eq(s->limits[FN_LIMIT_ADDRESS_SPACE], FN_UNLIMITED);
	ck_assert_uint_eq(s->nenv, 0);
	ck_assert_uint_eq(s->npass_env, 0);
	ck_assert_uint_eq(s->npass_params, 0);
	ck_assert_uint_eq(s->limits[FN_LIMIT_TMP], 64 * MIB);
	ck_assert_uint_eq(s->limits[FN_LIMIT_CPU_QUOTA], FN_UNLIMITED);
	ck_assert_str_eq(s->user, "dynamic");
	ck_assert_ptr_null(s->group);
	ck_assert_uint_eq(s->umask, 0022);
	ck_assert_ptr_null(s->cwd);
	ck_assert(!s->allow_root);
	ck_assert(!s->trust_accel_headers);
	ck_assert_uint_eq(s->isolate, FN_ISOLATE_TMP | FN_ISOLATE_IPC);
	ck_assert(!s->isolate_set);
	ck_assert_ptr_null(s->name);
	ck_assert_ptr_null(s->path);
	ck_assert_uint_eq(s->nargs, 0);
}

static void
check_builtin_top(const struct manifest *m)
{
	char a[INET6_ADDRSTRLEN];

	ck_assert_ptr_null(m->listen);
	ck_assert_uint_eq(m->socket_mode, 0660);
	ck_assert_ptr_null(m->socket_owner);
	ck_assert_ptr_null(m->socket_group);
	ck_assert_uint_eq(m->nallow_from, 2);
	ck_assert_int_eq(m->allow_from[0].family, AF_INET);
	inet_ntop(AF_INET, m->allow_from[0].addr, a, sizeof(a));
	ck_assert_str_eq(a, "127.0.0.0");
	ck_assert_uint_eq(m->allow_from[0].prefix, 8);
	ck_assert_int_eq(m->allow_from[1].family, AF_INET6);
	inet_ntop(AF_INET6, m->allow_from[1].addr, a, sizeof(a));
	ck_assert_str_eq(a, "::1");
	ck_assert_uint_eq(m->allow_from[1].prefix, 128);
	ck_assert_uint_eq(m->workers, 64);
	ck_assert_ptr_null(m->functions_dir);
	ck_assert_str_eq(m->prefix, "/");
	ck_assert(m->admin);
	ck_assert_uint_eq(m->shutdown_timeout_ms, 10000);
	ck_assert_str_eq(m->log_invocations, "stderr");
	ck_assert_str_eq(m->cgroup, "auto");
	ck_assert_uint_eq(m->dynamic_first, 61184);
	ck_assert_uint_eq(m->dynamic_last, 65519);
	ck_assert_uint_eq(m->stderr_max, 64 * 1024);
}

static const char *const empty_manifests[] = {
	"", "\n", "# only a comment\n\n# and another\n", "---\n", "--- ~\n",
	"---\n...\n", "{}\n",
};

START_TEST(test_empty_manifest)
{
	struct manifest *m = tm_parse_ok(empty_manifests[_i]);

	ck_assert_uint_eq(m->nfunctions, 0);
	ck_assert_str_eq(m->file, TM_FILE);
	ck_assert_str_eq(m->dir, TM_DIR);
	check_builtin_top(m);
	check_builtin_spec(&m->defaults);
	ck_assert_ptr_null(manifest_find(m, "hello"));
	manifest_free(m);
}
END_TEST

/* The example of SPEC.md section 3, read from t/data by the loader. */
START_TEST(test_spec_example)
{
	struct manifest_errors e = { 0 };
	struct manifest *m = NULL;
	const struct fn_spec *h, *r;
	char a[INET_ADDRSTRLEN];

	ck_assert_int_eq(manifest_load(TEST_DATADIR "/manifest-spec.yaml", &m,
	    &e), 0);
	ck_assert_uint_eq(e.n, 0);
	ck_assert_str_eq(m->dir, TEST_DATADIR);
	ck_assert_str_eq(m->listen, "unix:/run/fnlauncher/fnlauncher.sock");
	ck_assert_uint_eq(m->socket_mode, 0660);
	ck_assert_str_eq(m->socket_owner, "root");
	ck_assert_str_eq(m->socket_group, "www-data");
	ck_assert_uint_eq(m->nallow_from, 1);
	inet_ntop(AF_INET, m->allow_from[0].addr, a, sizeof(a));
	ck_assert_str_eq(a, "127.0.0.1");
	ck_assert_uint_eq(m->allow_from[0].prefix, 32);
	ck_assert_uint_eq(m->workers, 64);
	ck_assert_str_eq(m->functions_dir, TEST_DATADIR "/functions");
	ck_assert_str_eq(m->prefix, "/fn/");
	ck_assert(m->admin);
	ck_assert_uint_eq(m->shutdown_timeout_ms, 10000);
	ck_assert_str_eq(m->log_invocations, "stderr");
	ck_assert_uint_eq(m->stderr_max, 65536);
	ck_assert_str_eq(m->defaults.cwd, "/srv/www");
	ck_assert_uint_eq(m->nfunctions, 2);
	h = manifest_find(m, "hello");
	r = manifest_find(m, "report");
	ck_assert(h == &m->functions[0] && r == &m->functions[1]);
	ck_assert_str_eq(h->name, "hello");
	ck_assert_str_eq(h->path, TEST_DATADIR "/functions/hello.sh");
	ck_assert_uint_eq(h->nargs, 2);
	ck_assert_str_eq(h->args[0], "--greeting");
	ck_assert_str_eq(h->args[1], "hi");
	ck_assert_uint_eq(h->nmethods, 1);
	ck_assert_str_eq(h->methods[0], "GET");
	ck_assert_uint_eq(h->timeout_ms, 2000);
	ck_assert_uint_eq(h->limits[FN_LIMIT_MEMORY], 64 * MIB);
	ck_assert_uint_eq(h->limits[FN_LIMIT_CPU], 10);
	ck_assert_uint_eq(h->limits[FN_LIMIT_STACK], 8 * MIB);
	ck_assert_str_eq(h->cwd, "/srv/www");
	ck_assert_str_eq(h->user, "nobody");
	ck_assert_str_eq(r->path, "/srv/alice/bin/report");
	ck_assert_str_eq(r->user, "alice");
	ck_assert_str_eq(r->group, "nogroup");
	ck_assert_int_eq(r->mode, FN_MODE_RAW);
	ck_assert_str_eq(r->content_type, "application/json");
	ck_assert_uint_eq(r->nmethods, 7);
	ck_assert_uint_eq(r->timeout_ms, 30000);
	ck_assert(!r->dropin && !h->dropin);
	manifest_free(m);
}
END_TEST

/* "defaults" after "functions"; limits and env merge, lists replace. */
static const char precedence_yaml[] =
    "functions:\n"
    "  b:\n"
    "    path: b.sh\n"
    "    methods: [POST]\n"
    "    limits: {memory: 64M, nofile: unlimited, address_space: 2G,"
    " cpu_quota: 50%, tmp: 16M}\n"
    "    env: {B: fn, C: fn}\n"
    "    pass_env: [HOME]\n"
    "    user: alice\n"
    "    isolate: [pid, net, pid]\n"
    "    cwd: /srv\n"
    "  a:\n"
    "    path: /opt/a\n"
    "    args: [--x, \"1\", 2]\n"
    "    timeout: 250ms\n"
    "    mode: raw\n"
    "    content_type: application/json; charset=utf-8\n"
    "    allow_root: true\n"
    "    trust_accel_headers: true\n"
    "    umask: 077\n"
    "    max_body: 0\n"
    "    concurrency: 1\n"
    "    kill_grace: 0\n"
    "defaults:\n"
    "  timeout: 5s\n"
    "  methods: [GET, HEAD]\n"
    "  limits: {cpu: 1500ms, memory: 128M, core: unlimited, cpu_quota: 1.5}\n"
    "  env: {A: def, B: def}\n"
    "  pass_env: [TZ, LANG]\n"
    "  pass_params: [HTTP_X_ID]\n"
    "  group: www-data\n"
    "  cwd: /var/empty\n"
    "prefix: /fn\n"
    "cgroup: /sys/fs/cgroup/fnl\n"
    "dynamic_ids: 70000-70099\n"
    "functions_dir: ./functions/\n";

static void
check_fn_a(const struct fn_spec *a)
{
	ck_assert_str_eq(a->path, "/opt/a");
	ck_assert_uint_eq(a->nargs, 3);
	ck_assert_str_eq(a->args[1], "1");
	ck_assert_str_eq(a->args[2], "2");
	ck_assert_uint_eq(a->timeout_ms, 250);
	ck_assert_int_eq(a->mode, FN_MODE_RAW);
	ck_assert_str_eq(a->content_type, "application/json; charset=utf-8");
	ck_assert(a->allow_root && a->trust_accel_headers);
	ck_assert_uint_eq(a->umask, 077);
	ck_assert_uint_eq(a->max_body, 0);
	ck_assert_uint_eq(a->concurrency, 1);
	ck_assert_uint_eq(a->kill_grace_ms, 0);
	ck_assert_uint_eq(a->nmethods, 2);
	ck_assert_str_eq(a->methods[1], "HEAD");
	ck_assert_uint_eq(a->limits[FN_LIMIT_CPU], 2);
	ck_assert_uint_eq(a->limits[FN_LIMIT_MEMORY], 128 * MIB);
	ck_assert_uint_eq(a->limits[FN_LIMIT_NOFILE], 256);
	ck_assert_uint_eq(a->limits[FN_LIMIT_CORE], FN_UNLIMITED);
	ck_assert_uint_eq(a->limits[FN_LIMIT_ADDRESS_SPACE], FN_UNLIMITED);
	ck_assert_uint_eq(a->limits[FN_LIMIT_CPU_QUOTA], 150);
	ck_assert_uint_eq(a->limits[FN_LIMIT_TMP], 64 * MIB);
	ck_assert_uint_eq(a->nenv, 2);
	ck_assert_str_eq(a->env[1].name, "B");
	ck_assert_str_eq(a->env[1].value, "def");
	ck_assert_uint_eq(a->npass_env, 2);
	ck_assert_str_eq(a->pass_params[0], "HTTP_X_ID");
	ck_assert_str_eq(a->user, "dynamic");
	ck_assert_str_eq(a->group, "www-data");
	ck_assert_str_eq(a->cwd, "/var/empty");
	ck_assert_uint_eq(a->isolate, FN_ISOLATE_TMP | FN_ISOLATE_IPC);
	ck_assert(!a->isolate_set);
}

static void
check_fn_b(const struct fn_spec *b)
{
	static const char *const env[][2] = {
		{ "A", "def" }, { "B", "fn" }, { "C", "fn" },
	};
	size_t i;

	ck_assert_str_eq(b->path, "/etc/fn/functions/b.sh");
	ck_assert_uint_eq(b->nargs, 0);
	ck_assert_uint_eq(b->nmethods, 1);
	ck_assert_str_eq(b->methods[0], "POST");
	ck_assert_uint_eq(b->timeout_ms, 5000);
	ck_assert_uint_eq(b->limits[FN_LIMIT_CPU], 2);
	ck_assert_uint_eq(b->limits[FN_LIMIT_MEMORY], 64 * MIB);
	ck_assert_uint_eq(b->limits[FN_LIMIT_NOFILE], FN_UNLIMITED);
	ck_assert_uint_eq(b->limits[FN_LIMIT_NPROC], 64);
	ck_assert_uint_eq(b->limits[FN_LIMIT_CORE], FN_UNLIMITED);
	ck_assert_uint_eq(b->limits[FN_LIMIT_ADDRESS_SPACE], 2048 * MIB);
	ck_assert_uint_eq(b->limits[FN_LIMIT_CPU_QUOTA], 50);
	ck_assert_uint_eq(b->limits[FN_LIMIT_TMP], 16 * MIB);
	ck_assert_uint_eq(b->nenv, NELEM(env));
	for (i = 0; i < NELEM(env); i++) {
		ck_assert_str_eq(b->env[i].name, env[i][0]);
		ck_assert_str_eq(b->env[i].value, env[i][1]);
	}
	ck_assert_uint_eq(b->npass_env, 1);
	ck_assert_str_eq(b->pass_env[0], "HOME");
	ck_assert_uint_eq(b->npass_params, 1);
	ck_assert_str_eq(b->user, "alice");
	ck_assert_str_eq(b->group, "www-data");
	ck_assert_str_eq(b->cwd, "/srv");
	ck_assert_uint_eq(b->isolate, FN_ISOLATE_PID | FN_ISOLATE_NET);
	ck_assert(b->isolate_set);
}

START_TEST(test_precedence_and_merge)
{
	struct manifest *m = tm_parse_ok(precedence_yaml);

	ck_assert_str_eq(m->prefix, "/fn/");
	ck_assert_str_eq(m->functions_dir, "/etc/fn/functions");
	ck_assert_uint_eq(m->nfunctions, 2);
	ck_assert_str_eq(m->functions[0].name, "a");   /* sorted by name */
	ck_assert_str_eq(m->functions[1].name, "b");
	check_fn_a(manifest_find(m, "a"));
	check_fn_b(manifest_find(m, "b"));
	/* The drop-in template: built-ins merged with "defaults" only. */
	ck_assert_ptr_null(m->defaults.name);
	ck_assert_ptr_null(m->defaults.path);
	ck_assert_uint_eq(m->defaults.timeout_ms, 5000);
	ck_assert_uint_eq(m->defaults.nenv, 2);
	ck_assert_uint_eq(m->defaults.limits[FN_LIMIT_MEMORY], 128 * MIB);
	ck_assert_uint_eq(m->defaults.limits[FN_LIMIT_STACK], 8 * MIB);
	ck_assert_str_eq(m->defaults.user, "dynamic");
	ck_assert_str_eq(m->cgroup, "/sys/fs/cgroup/fnl");
	ck_assert_uint_eq(m->dynamic_first, 70000);
	ck_assert_uint_eq(m->dynamic_last, 70099);
	manifest_free(m);
}
END_TEST

START_TEST(test_dropin_defaults_copy)
{
	struct manifest *m = tm_parse_ok(precedence_yaml);
	struct fn_spec d;

	ck_assert_int_eq(fn_spec_copy(&d, &m->defaults), 0);
	ck_assert(d.methods != m->defaults.methods);
	ck_assert(d.env != m->defaults.env);
	ck_assert_str_eq(d.env[0].value, "def");
	ck_assert_str_eq(d.pass_env[1], "LANG");
	ck_assert_str_eq(d.cwd, "/var/empty");
	ck_assert(fn_spec_allows(&d, "HEAD"));
	ck_assert(!fn_spec_allows(&d, "POST"));
	ck_assert(!fn_spec_allows(&d, "head"));
	ck_assert(!fn_spec_allows(NULL, "GET"));
	manifest_free(m);              /* the copy owns its strings */
	ck_assert_str_eq(d.methods[0], "GET");
	fn_spec_clear(&d);
	ck_assert_ptr_null(d.methods);
	ck_assert_uint_eq(d.nmethods, 0);
	fn_spec_clear(&d);             /* twice is fine */
	fn_spec_clear(NULL);
	ck_assert_int_eq(fn_spec_copy(&d, NULL), -1);
	ck_assert_int_eq(fn_spec_copy(NULL, &d), -1);
	manifest_free(NULL);
	manifest_errors_clear(NULL);
}
END_TEST

struct norm_case {
	const char *yaml;
	const char *prefix;
	const char *path;     /* of function "f" */
	const char *functions_dir;
};

static const struct norm_case norms[] = {
	{ "prefix: /\nfunctions: {f: {path: x}}\n", "/", "/etc/fn/x", NULL },
	{ "prefix: /fn\nfunctions: {f: {path: ./x}}\n", "/fn/",
	    "/etc/fn/x", NULL },
	{ "prefix: /a/b/\nfunctions: {f: {path: bin/x}}\n", "/a/b/",
	    "/etc/fn/bin/x", NULL },
	{ "functions_dir: /srv/fn/\nfunctions: {f: {path: x}}\n", "/",
	    "/srv/fn/x", "/srv/fn" },
	{ "functions_dir: .\nfunctions: {f: {path: x}}\n", "/",
	    "/etc/fn/x", "/etc/fn" },
	{ "functions_dir: fns\nfunctions: {f: {path: /usr/bin/env}}\n", "/",
	    "/usr/bin/env", "/etc/fn/fns" },
	{ "functions: {f: {path: \"././/sub/x\"}}\nfunctions_dir: d\n", "/",
	    "/etc/fn/d/sub/x", "/etc/fn/d" },
};

START_TEST(test_normalization)
{
	const struct norm_case *c = &norms[_i];
	struct manifest *m = tm_parse_ok(c->yaml);

	ck_assert_str_eq(m->prefix, c->prefix);
	ck_assert_str_eq(manifest_find(m, "f")->path, c->path);
	if (c->functions_dir == NULL)
		ck_assert_ptr_null(m->functions_dir);
	else
		ck_assert_str_eq(m->functions_dir, c->functions_dir);
	manifest_free(m);
}
END_TEST

START_TEST(test_scalar_forms)
{
	struct manifest *m = tm_parse_ok(
	    "socket_mode: 0600\n"          /* unquoted: read as octal text */
	    "workers: \"8\"\n"
	    "admin: false\n"
	    "allow_from: [10.0.0.0/8, \"fd00::/8\", 192.168.1.7]\n"
	    "listen: \"[::1]:9000\"\n"
	    "shutdown_timeout: 0\n"
	    "log: {invocations: /var/log/fn.jsonl, stderr_max: 0}\n"
	    "defaults:\n"
	    "  umask: 22\n"
	    "  limits: {cpu: 1ms, fsize: 0, stack: unlimited, nproc: 1}\n"
	    "  env: {EMPTY: \"\", NUM: 42, T: true}\n"
	    "  pass_params: []\n"
	    "functions:\n"
	    "  f:\n"
	    "    path: /bin/true\n"
	    "    args: []\n");

	ck_assert_uint_eq(m->socket_mode, 0600);
	ck_assert_uint_eq(m->workers, 8);
	ck_assert(!m->admin);
	ck_assert_uint_eq(m->nallow_from, 3);
	ck_assert_uint_eq(m->allow_from[1].family, AF_INET6);
	ck_assert_str_eq(m->listen, "[::1]:9000");
	ck_assert_uint_eq(m->shutdown_timeout_ms, 0);
	ck_assert_str_eq(m->log_invocations, "/var/log/fn.jsonl");
	ck_assert_uint_eq(m->stderr_max, 0);
	ck_assert_uint_eq(m->defaults.umask, 022);
	ck_assert_uint_eq(m->defaults.limits[FN_LIMIT_CPU], 1);
	ck_assert_uint_eq(m->defaults.limits[FN_LIMIT_FSIZE], 0);
	ck_assert_uint_eq(m->defaults.limits[FN_LIMIT_STACK], FN_UNLIMITED);
	ck_assert_uint_eq(m->defaults.limits[FN_LIMIT_NPROC], 1);
	ck_assert_uint_eq(m->defaults.nenv, 3);
	ck_assert_str_eq(m->defaults.env[0].value, "");
	ck_assert_str_eq(m->defaults.env[1].value, "42");
	ck_assert_str_eq(m->defaults.env[2].value, "true");
	ck_assert_uint_eq(m->functions[0].nargs, 0);
	manifest_free(m);
}
END_TEST

START_TEST(test_find_sorted)
{
	static const char *const names[] = {
		"zeta", "Alpha", "m.2", "m-1", "0day", "m_3", "beta",
	};
	char yaml[1024] = "functions:\n";
	struct manifest *m;
	size_t i;

	for (i = 0; i < NELEM(names); i++) {
		strcat(yaml, "  ");
		strcat(yaml, names[i]);
		strcat(yaml, ": {path: /bin/true}\n");
	}
	m = tm_parse_ok(yaml);
	ck_assert_uint_eq(m->nfunctions, NELEM(names));
	for (i = 1; i < m->nfunctions; i++)
		ck_assert(strcmp(m->functions[i - 1].name,
		    m->functions[i].name) < 0);
	for (i = 0; i < NELEM(names); i++)
		ck_assert_str_eq(manifest_find(m, names[i])->name, names[i]);
	ck_assert_ptr_null(manifest_find(m, "alpha"));
	ck_assert_ptr_null(manifest_find(m, "m"));
	ck_assert_ptr_null(manifest_find(m, ""));
	ck_assert_ptr_null(manifest_find(m, NULL));
	ck_assert_ptr_null(manifest_find(NULL, "zeta"));
	manifest_free(m);
}
END_TEST

struct peer_case {
	int family;
	const char *addr;
	bool allowed;
};

static const struct peer_case default_peers[] = {
	{ AF_INET, "127.0.0.1", true },
	{ AF_INET, "127.255.0.9", true },
	{ AF_INET, "128.0.0.1", false },
	{ AF_INET, "10.0.0.1", false },
	{ AF_INET6, "::1", true },
	{ AF_INET6, "::2", false },
	{ AF_INET6, "::ffff:127.0.0.1", true },
	{ AF_INET6, "::ffff:10.0.0.1", false },
	{ AF_INET6, "fe80::1", false },
};

static const struct peer_case custom_peers[] = {
	{ AF_INET, "192.168.1.7", true },
	{ AF_INET, "192.168.1.8", false },
	{ AF_INET, "10.20.30.40", true },
	{ AF_INET, "11.0.0.1", false },
	{ AF_INET, "127.0.0.1", false },
	{ AF_INET6, "::ffff:10.1.2.3", true },
	{ AF_INET6, "fd12:3456::1", true },
	{ AF_INET6, "fe00::1", false },
	{ AF_INET6, "::1", false },
};

static void
check_peers(const struct manifest *m, const struct peer_case *c, size_t n)
{
	unsigned char a[16];
	size_t i;

	for (i = 0; i < n; i++) {
		ck_assert_int_eq(inet_pton(c[i].family, c[i].addr, a), 1);
		ck_assert_msg(manifest_peer_allowed(m, c[i].family, a) ==
		    c[i].allowed, "%s", c[i].addr);
	}
}

START_TEST(test_peer_allowed)
{
	struct manifest *m = tm_parse_ok("workers: 1\n");
	unsigned char a[16] = { 127, 0, 0, 1 };

	check_peers(m, default_peers, NELEM(default_peers));
	ck_assert(!manifest_peer_allowed(m, AF_UNIX, a));
	ck_assert(!manifest_peer_allowed(m, AF_INET, NULL));
	ck_assert(!manifest_peer_allowed(NULL, AF_INET, a));
	manifest_free(m);
	m = tm_parse_ok("allow_from: [192.168.1.7, 10.0.0.0/8, fd00::/8]\n");
	check_peers(m, custom_peers, NELEM(custom_peers));
	manifest_free(m);
	m = tm_parse_ok("allow_from: []\n");
	ck_assert(!manifest_peer_allowed(m, AF_INET, a));
	manifest_free(m);
	m = tm_parse_ok("allow_from: [0.0.0.0/0]\n");
	ck_assert(manifest_peer_allowed(m, AF_INET, a));
	manifest_free(m);
}
END_TEST

START_TEST(test_error_format)
{
	struct manifest_error e = { 3, 7, "bad thing" };
	char buf[64], small[12];

	ck_assert_str_eq(manifest_error_format("f.yaml", &e, buf, sizeof(buf)),
	    "f.yaml:3:7: bad thing");
	e.line = 0;
	ck_assert_str_eq(manifest_error_format("f.yaml", &e, buf, sizeof(buf)),
	    "f.yaml: bad thing");
	e.line = 3;
	ck_assert_str_eq(manifest_error_format("f.yaml", &e, small,
	    sizeof(small)), "f.yaml:3...");
}
END_TEST

/* manifest_parse appends to the caller's list and keeps what was there. */
START_TEST(test_errors_append)
{
	struct manifest_errors e = { 0 };
	struct manifest *m;
	const char *yaml = "workers: 0\n";

	ck_assert_int_eq(manifest_parse(yaml, strlen(yaml), TM_FILE, NULL,
	    &m, &e), -1);
	ck_assert_int_eq(manifest_parse(yaml, strlen(yaml), TM_FILE, NULL,
	    &m, &e), -1);
	ck_assert_uint_eq(e.n, 2);
	ck_assert_str_eq(e.v[0].msg, "\"workers\" must be between 1 and 4096");
	ck_assert_str_eq(e.v[1].msg, e.v[0].msg);
	manifest_errors_clear(&e);
	ck_assert_uint_eq(e.n, 0);
	ck_assert_ptr_null(e.v);
}
END_TEST

/* ---- manifest_load ------------------------------------------------------ */

/* A relative file name: its folder is found under the current one. */
START_TEST(test_load_relative)
{
	static const char yaml[] = "functions: {f: {path: f.sh}}\n";
	char *dir = tm_tmpdir(), old[PATH_MAX], here[PATH_MAX];
	char want[PATH_MAX + 32];
	struct manifest_errors e = { 0 };
	struct manifest *m;

	ck_assert_ptr_nonnull(getcwd(old, sizeof(old)));
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_ptr_nonnull(getcwd(here, sizeof(here)));
	ck_assert_int_eq(mkdir("sub", 0700), 0);
	tm_write_file("fn.yaml", yaml, sizeof(yaml) - 1);
	tm_write_file("sub/fn.yaml", yaml, sizeof(yaml) - 1);
	ck_assert_int_eq(manifest_load("fn.yaml", &m, &e), 0);
	ck_assert_str_eq(m->dir, here);
	ck_assert_str_eq(m->file, "fn.yaml");
	snprintf(want, sizeof(want), "%s/f.sh", here);
	ck_assert_str_eq(manifest_find(m, "f")->path, want);
	manifest_free(m);
	ck_assert_int_eq(manifest_load("./sub/fn.yaml", &m, &e), 0);
	snprintf(want, sizeof(want), "%s/sub", here);
	ck_assert_str_eq(m->dir, want);
	manifest_free(m);
	ck_assert_uint_eq(e.n, 0);
	ck_assert_int_eq(unlink("sub/fn.yaml"), 0);
	ck_assert_int_eq(unlink("fn.yaml"), 0);
	ck_assert_int_eq(rmdir("sub"), 0);
	ck_assert_int_eq(chdir(old), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	free(dir);
}
END_TEST

/* ---- tenant files ---------------------------------------------------------- */

static struct manifest *
tenant_main(void)
{
	return tm_parse_ok(
	    "tenants_dir: tenants.d\n"
	    "tenant_max: { timeout: 30s, concurrency: 8, max_body: 1M,"
	    " limits: { memory: 1G, cpu: 20s } }\n"
	    "defaults:\n"
	    "  timeout: 60s\n"
	    "  env: { SECRET: admins }\n"
	    "  pass_env: [HOME]\n"
	    "  group: staff\n"
	    "  queue: 10\n");
}

/* The defaults a tenant starts from: the main manifest's, less the
 * admin's own, cut down to tenant_max; its user everywhere. */
START_TEST(test_tenant_inherits)
{
	static const char yaml[] =
	    "user: alice\n"
	    "functions_dir: /home/alice/fn\n"
	    "hosts: [alice.example.org, www.alice.example.org]\n"
	    "budget: { concurrency: 4, queue: 12, memory: 1G, pids: 100,"
	    " cpu_quota: 150% }\n"
	    "defaults: { timeout: 10s }\n"
	    "functions:\n"
	    "  report: { path: report.py, limits: { memory: 512M } }\n"
	    "  abs: { path: /usr/bin/env, timeout: 30s }\n";
	struct manifest *main = tenant_main(), *t = NULL;
	struct manifest_errors e = { 0 };
	const struct fn_spec *f;
	char key[FN_KEY_MAX];

	ck_assert_uint_eq(main->tenant_max.timeout_ms, 30000);
	ck_assert_uint_eq(main->tenant_max.concurrency, 8);
	ck_assert_uint_eq(main->tenant_max.limits[FN_LIMIT_MEMORY], 1ull << 30);
	ck_assert_uint_eq(main->tenant_max.limits[FN_LIMIT_NOFILE], FN_UNLIMITED);
	ck_assert_str_eq(main->tenants_dir, TM_DIR "/tenants.d");
	ck_assert_int_eq(manifest_parse_tenant(yaml, strlen(yaml),
	    "/etc/fnl/tenants.d/alice.yaml", "alice", main, &t, &e), 0);
	ck_assert_str_eq(t->tenant, "alice");
	ck_assert_str_eq(t->tenant_user, "alice");
	ck_assert_uint_eq(t->nhosts, 2);
	ck_assert_uint_eq(t->budget.concurrency, 4);
	ck_assert_uint_eq(t->budget.queue, 10);      /* the main defaults' queue */
	ck_assert_uint_eq(t->budget.pids, 100);
	ck_assert_uint_eq(t->budget.cpu_quota, 150);
	f = manifest_find(t, "report");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->path, "/home/alice/fn/report.py");
	ck_assert_str_eq(f->user, "alice");
	ck_assert_ptr_null(f->group);
	ck_assert_str_eq(f->tenant, "alice");
	ck_assert_str_eq(fn_spec_key(f, key, sizeof(key)), "~alice/report");
	ck_assert_uint_eq(f->timeout_ms, 10000);      /* its defaults */
	ck_assert_uint_eq(f->limits[FN_LIMIT_MEMORY], 512ull << 20);
	ck_assert_uint_eq(f->limits[FN_LIMIT_CPU], 10); /* built-in, < cap */
	ck_assert_uint_eq(f->max_body, 1 << 20);     /* 8M cut to the cap */
	ck_assert_uint_eq(f->queue, 10);             /* the main defaults' */
	ck_assert_uint_eq(f->nenv, 0);               /* not the admin's env */
	ck_assert_uint_eq(f->npass_env, 0);
	f = manifest_find(t, "abs");
	ck_assert_uint_eq(f->timeout_ms, 30000);
	/* its defaults too: for drop-ins */
	ck_assert_str_eq(t->defaults.user, "alice");
	ck_assert_str_eq(t->defaults.tenant, "alice");
	manifest_free(t);
	manifest_free(main);
}
END_TEST

static const struct {
	const char *yaml, *want;
} tenant_bad[] = {
	{ "functions: {}\n", "a tenant file needs \"user\"" },
	{ "user: a\nfunctions:\n  f: { path: x, timeout: 31s }\n",
	  "3:26: \"timeout\" 31s is above tenant_max (30s)" },
	{ "user: a\ndefaults: { max_body: 2M }\n",
	  "2:23: \"max_body\" 2M is above tenant_max (1M)" },
	{ "user: a\ndefaults: { limits: { cpu: 1m } }\n",
	  "2:28: \"cpu\" 60s is above tenant_max (20s)" },
	{ "user: a\ndefaults: { limits: { memory: unlimited } }\n",
	  "\"memory\" unlimited is above tenant_max (1G)" },
	{ "user: a\nfunctions:\n  f: { path: x, concurrency: 9 }\n",
	  "\"concurrency\" 9 is above tenant_max (8)" },
	{ "user: a\nbudget: { concurrency: 9 }\n",
	  "budget \"concurrency\" 9 is above tenant_max (8)" },
	{ "user: a\nfunctions:\n  f: { path: x, user: root }\n",
	  "3:17: \"user\" is not allowed in a tenant file" },
	{ "user: a\ndefaults: { allow_root: true }\n",
	  "2:13: \"allow_root\" is not allowed in a tenant file" },
	{ "user: a\ndefaults: { trust_accel_headers: false }\n",
	  "\"trust_accel_headers\" is not allowed in a tenant file" },
	{ "user: a\ndefaults: { env_files: [/etc/shadow] }\n",
	  "\"env_files\" is not allowed in a tenant file" },
	{ "user: a\ndefaults: { pass_env: [HOME] }\n",
	  "\"pass_env\" is not allowed in a tenant file" },
	{ "user: a\ndefaults: { isolate: [tmp] }\n",
	  "\"isolate\" in a tenant file must keep" },
	{ "user: a\nhosts: [Alice.Example.org]\n", "invalid host name" },
	{ "user: a\nfunctions_dir: relative\n", "must be an absolute path" },
	{ "user: a\nbudget: { memory: 1K }\n", "at least 1M" },
	{ "user: a\nlisten: unix:/x\n", "unknown key \"listen\" at top level" },
	{ "user: a\ntenants_dir: /x\n", "unknown key \"tenants_dir\"" },
	{ "user: a\ndefaults: { kill_grace: 1h }\n",
	  "\"kill_grace\" 3600s is above the main manifest's defaults (2s)" },
	{ "user: a\nfunctions:\n  f: { path: x, queue: 11 }\n",
	  "\"queue\" 11 is above the main manifest's defaults (10)" },
	{ "user: a\ndefaults: { queue_timeout: 1m }\n",
	  "\"queue_timeout\" 60s is above the main manifest's defaults (5s)" },
};

START_TEST(test_tenant_refused)
{
	struct manifest *main = tenant_main(), *t = NULL;
	struct manifest_errors e = { 0 };
	const char *yaml = tenant_bad[_i].yaml;
	char *msg;

	ck_assert_int_eq(manifest_parse_tenant(yaml, strlen(yaml),
	    TM_FILE, "x", main, &t, &e), -1);
	ck_assert_ptr_null(t);
	msg = tm_join_errors(&e);
	ck_assert_msg(strstr(msg, tenant_bad[_i].want) != NULL,
	    "case %d: no \"%s\" in:\n%s", _i, tenant_bad[_i].want, msg);
	free(msg);
	manifest_errors_clear(&e);
	manifest_free(main);
}
END_TEST

START_TEST(test_tenant_names)
{
	ck_assert(manifest_valid_tenant("alice"));
	ck_assert(manifest_valid_tenant("a-b_c9"));
	ck_assert(!manifest_valid_tenant(""));
	ck_assert(!manifest_valid_tenant("_main"));
	ck_assert(!manifest_valid_tenant("-x"));
	ck_assert(!manifest_valid_tenant("Alice"));
	ck_assert(!manifest_valid_tenant("a.b"));
	ck_assert(!manifest_valid_tenant("a/b"));
	ck_assert(manifest_valid_tenant(
	    "a123456789b123456789c123456789d123456789e123456789f123456789wxyz"));
	ck_assert(!manifest_valid_tenant(
	    "a123456789b123456789c123456789d123456789e123456789f123456789wxyz1"));
}
END_TEST

/* auth: as written, completed by its scheme; what is missing said. */
START_TEST(test_auth_keys)
{
	struct manifest *m = tm_parse_ok(
	    "functions:\n"
	    "  gh: { path: /x, auth: { hmac: { scheme: github,"
	    " secret_file: /etc/s } } }\n"
	    "  sl: { path: /x, auth: { hmac: { scheme: slack,"
	    " secret_file: /etc/s, tolerance: 1m } } }\n"
	    "  tok: { path: /x, auth: { bearer: { token_files: [/etc/t] } } }\n"
	    "  gen: { path: /x, auth: { hmac: { header: X-Sig, algorithm: sha1,"
	    " prefix: \"sha1=\", secret_file: /etc/s,"
	    " timestamp_header: X-Ts } } }\n");
	const struct fn_spec *f = manifest_find(m, "gh");
	struct fn_spec copy = { 0 };

	ck_assert(f->auth.on);
	ck_assert_str_eq(f->auth.header, "X-Hub-Signature-256");
	ck_assert_str_eq(f->auth.prefix, "sha256=");
	ck_assert_str_eq(f->auth.algorithm, "sha256");
	ck_assert_uint_eq(f->auth.tolerance_ms, 300000);
	f = manifest_find(m, "sl");
	ck_assert_str_eq(f->auth.timestamp_header, "X-Slack-Request-Timestamp");
	ck_assert_uint_eq(f->auth.tolerance_ms, 60000);
	f = manifest_find(m, "tok");
	ck_assert_uint_eq(f->auth.ntoken_files, 1);
	ck_assert_ptr_null(f->auth.scheme);
	f = manifest_find(m, "gen");
	ck_assert_str_eq(f->auth.scheme, "generic");
	ck_assert_str_eq(f->auth.algorithm, "sha1");
	ck_assert_int_eq(fn_spec_copy(&copy, f), 0);
	ck_assert_str_eq(copy.auth.timestamp_header, "X-Ts");
	fn_spec_clear(&copy);
	ck_assert(!manifest_find(m, "nope"));
	ck_assert(!m->defaults.auth.on);
	manifest_free(m);
}
END_TEST

static const struct {
	const char *yaml, *want;
} auth_bad[] = {
	{ "defaults: { auth: { bearer: { token_files: [/t] } } }\n",
	  "unknown key \"auth\" in defaults" },
	{ "functions:\n  f: { path: /x, auth: {} }\n",
	  "\"auth\" needs \"bearer\" or \"hmac\"" },
	{ "functions:\n  f: { path: /x, auth: { hmac: { scheme: github } } }\n",
	  "auth.hmac needs \"secret_file\"" },
	{ "functions:\n  f: { path: /x, auth: { hmac: { secret_file: /s } } }\n",
	  "scheme generic needs \"header\"" },
	{ "functions:\n  f: { path: /x, auth: { hmac: { scheme: gitlab,"
	  " secret_file: /s } } }\n", "must be github, stripe, slack or generic" },
	{ "functions:\n  f: { path: /x, auth: { hmac: { scheme: github,"
	  " algorithm: sha1, secret_file: /s } } }\n", "github signs with sha256" },
	{ "functions:\n  f: { path: /x, auth: { hmac: { header: \"X Sig\","
	  " secret_file: /s } } }\n", "must be a header name" },
	{ "functions:\n  f: { path: /x, auth: { bearer: { token_files: [] } } }\n",
	  "token_files" },
	{ "functions:\n  f: { path: /x, auth: { bearer: {} } }\n",
	  "auth.bearer needs \"token_files\"" },
	/* events: schedules and async */
	{ "functions:\n  f: { path: /x, schedule: \"@daily\","
	  " schedule_tz: Mars/Olympus }\n", "no time zone Mars/Olympus" },
	{ "functions:\n  f: { path: /x, schedule: \"@daily\","
	  " schedule_tz: \"../../etc/passwd\" }\n", "must be a time zone name" },
	{ "functions:\n  f: { path: /x, schedule_tz: Europe/Paris }\n",
	  "\"schedule_tz\" needs \"schedule\"" },
	{ "functions:\n  f: { path: /x, catch_up: true }\n",
	  "\"catch_up\" needs \"schedule\"" },
	{ "defaults: { catch_up: true }\n", "unknown key \"catch_up\" in defaults" },
	{ "functions:\n  f: { path: /x, retries: 101 }\n", "between 0 and 100" },
	{ "functions:\n  f: { path: /x, async: maybe }\n", "\"async\" must be" },
	{ "spool_dir: spool\n", "\"spool_dir\" must be an absolute path" },
	{ "async_keep: 0s\n", "between 1s and 365d" },
	{ "async_result_max: 1G\n", "at most 64M" },
	{ "async_max_jobs: 0\n", "between 1 and 10000000" },
};

/* async, retries, retry_backoff (also from defaults), schedule_tz,
 * catch_up; spool_dir, async_keep, async_result_max and their defaults. */
START_TEST(test_event_keys)
{
	struct manifest *m = tm_parse_ok(
	    "spool_dir: /srv/spool\n"
	    "async_keep: 2h\n"
	    "async_result_max: 64K\n"
	    "async_max_jobs: 500\n"
	    "defaults: { retries: 5 }\n"
	    "functions:\n"
	    "  a: { path: /x, async: true, retry_backoff: 2s }\n"
	    "  s: { path: /x, schedule: \"0 9 * * mon-fri\","
	    " schedule_tz: Europe/Paris, catch_up: true }\n");
	const struct fn_spec *f = manifest_find(m, "a");

	ck_assert_str_eq(m->spool_dir, "/srv/spool");
	ck_assert_uint_eq(m->async_keep_ms, 2 * 3600 * 1000);
	ck_assert_uint_eq(m->async_result_max, 64 * 1024);
	ck_assert_uint_eq(m->async_max_jobs, 500);
	ck_assert(f->async);
	ck_assert_uint_eq(f->retries, 5);
	ck_assert_uint_eq(f->retry_backoff_ms, 2000);
	f = manifest_find(m, "s");
	ck_assert(!f->async);
	ck_assert_uint_eq(f->retry_backoff_ms, 10000);
	ck_assert_str_eq(f->schedule_tz, "Europe/Paris");
	ck_assert(f->catch_up);
	manifest_free(m);
	m = tm_parse_ok("functions: {}\n");
	ck_assert_str_eq(m->spool_dir, "/var/spool/fnlauncher");
	ck_assert_uint_eq(m->async_keep_ms, 24 * 3600 * 1000);
	ck_assert_uint_eq(m->async_result_max, 1 << 20);
	ck_assert_uint_eq(m->defaults.retries, 3);
	ck_assert_uint_eq(m->async_max_jobs, 10000);
	manifest_free(m);
}
END_TEST

START_TEST(test_auth_bad)
{
	struct manifest_errors e = { 0 };
	struct manifest *m = NULL;
	const char *y = auth_bad[_i].yaml;
	char *msg;

	ck_assert_int_eq(manifest_parse(y, strlen(y), TM_FILE, TM_DIR, &m, &e),
	    -1);
	msg = tm_join_errors(&e);
	ck_assert_msg(strstr(msg, auth_bad[_i].want) != NULL,
	    "case %d: no \"%s\" in:\n%s", _i, auth_bad[_i].want, msg);
	free(msg);
	manifest_errors_clear(&e);
}
END_TEST

Suite *
suite_manifest(void)
{
	Suite *s = suite_create("manifest");
	TCase *ok = tcase_create("valid");
	TCase *load = tcase_create("load");

	tcase_add_loop_test(ok, test_empty_manifest, 0,
	    NELEM(empty_manifests));
	tcase_add_test(ok, test_spec_example);
	tcase_add_test(ok, test_precedence_and_merge);
	tcase_add_test(ok, test_dropin_defaults_copy);
	tcase_add_loop_test(ok, test_normalization, 0, NELEM(norms));
	tcase_add_test(ok, test_scalar_forms);
	tcase_add_test(ok, test_find_sorted);
	tcase_add_test(ok, test_peer_allowed);
	tcase_add_test(ok, test_error_format);
	tcase_add_test(ok, test_errors_append);
	tcase_add_test(load, test_load_relative);
	tcase_add_test(ok, test_tenant_inherits);
	tcase_add_loop_test(ok, test_tenant_refused, 0, NELEM(tenant_bad));
	tcase_add_test(ok, test_tenant_names);
	tcase_add_test(ok, test_auth_keys);
	tcase_add_loop_test(ok, test_auth_bad, 0, NELEM(auth_bad));
	tcase_add_test(ok, test_event_keys);
	suite_add_tcase(s, ok);
	suite_add_tcase(s, load);
	tm_add_invalid_tcases(s);
	return s;
}
