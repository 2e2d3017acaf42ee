/* test_cgienv.c — the function's environment (SPEC.md section 5):
 * an allowlist, and precedence CGI < fnlauncher < pass_params <
 * pass_env < env. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgienv.h"
#include "unit.h"

#define NFIXED 9

/* What every environment of the base function holds, besides the
 * table's own entries. */
static const char *const fixed[NFIXED] = {
	"GATEWAY_INTERFACE=CGI/1.1", "SCRIPT_NAME=/fn/hello",
	"PATH_INFO=/x/y", "SCRIPT_FILENAME=/srv/fn/hello.sh",
	"FN_NAME=hello", "FN_REQUEST_ID=req-1", "FN_TIMEOUT_MS=2500",
	"PATH=/usr/local/bin:/usr/bin:/bin", "FN_TRIGGER=http",
};

static char *daemon_environ[] = {
	"HOME=/root", "LD_PRELOAD=/tmp/evil.so", "SECRET=hunter2",
	"PATH=/sbin:/bin", "LANG=C.UTF-8", "TZ=UTC", NULL,
};

static struct fn_spec
base_fn(void)
{
	static char name[] = "hello", path[] = "/srv/fn/hello.sh";
	struct fn_spec fn = { 0 };

	fn.name = name;
	fn.path = path;
	fn.timeout_ms = 2500;
	return fn;
}

static struct cgienv_in
base_in(char *const *params, const struct fn_spec *fn)
{
	struct cgienv_in in = {
		.params = params, .fn = fn, .script_name = "/fn/hello",
		.path_info = "/x/y", .request_id = "req-1", .timeout_ms = 2500,
		.daemon_env = daemon_environ,
	};

	return in;
}

static size_t
count(char *const *v)
{
	size_t n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

/* ENV holds every "NAME=value" name appears at most once, and every
 * string lies inside the one allocation, after the pointer array. */
static void
check_shape(char **env)
{
	size_t n = count(env), i, j;
	const char *lo = (const char *)(env + n + 1);
	const char *hi = (const char *)env + malloc_usable_size(env);

	for (i = 0; i < n; i++) {
		size_t nl = strcspn(env[i], "=");

		ck_assert_msg(env[i][nl] == '=', "no '=' in %s", env[i]);
		ck_assert(env[i] >= lo && env[i] + strlen(env[i]) < hi);
		/* ck_assert marks a point on success too: only on failure */
		for (j = i + 1; j < n; j++)
			if (strncmp(env[i], env[j], nl + 1) == 0)
				ck_abort_msg("duplicate %.*s", (int)nl, env[i]);
	}
}

static int
has(char *const *env, const char *entry)
{
	for (; *env != NULL; env++)
		if (strcmp(*env, entry) == 0)
			return 1;
	return 0;
}

/* ENV is exactly FIXED plus WANT: nothing more. */
static void
check_exact(char **env, const char *const *want)
{
	size_t i, nwant = 0;

	check_shape(env);
	for (i = 0; i < NFIXED; i++)
		ck_assert_msg(has(env, fixed[i]), "missing %s", fixed[i]);
	for (; want[nwant] != NULL; nwant++)
		ck_assert_msg(has(env, want[nwant]), "missing %s", want[nwant]);
	for (i = 0; env[i] != NULL; i++) {
		size_t j;
		int ok = 0;

		for (j = 0; j < NFIXED && !ok; j++)
			ok = strcmp(env[i], fixed[j]) == 0;
		for (j = 0; j < nwant && !ok; j++)
			ok = strcmp(env[i], want[j]) == 0;
		ck_assert_msg(ok, "unexpected %s", env[i]);
	}
}

struct env_case {
	const char *desc;
	char *params[24];
	const char *want[24];
};

static const struct env_case cases[] = {
	{ "no params", { NULL }, { "QUERY_STRING=", NULL } },
	{ "every CGI meta-variable",
	  { "SERVER_SOFTWARE=nginx/1.22.1", "SERVER_NAME=example.org",
	    "SERVER_PORT=443", "SERVER_PROTOCOL=HTTP/1.1",
	    "SERVER_ADDR=10.0.0.1", "REQUEST_METHOD=POST",
	    "REQUEST_URI=/fn/hello/x/y?a=1", "REQUEST_SCHEME=https",
	    "DOCUMENT_URI=/fn/hello/x/y", "QUERY_STRING=a=1",
	    "CONTENT_TYPE=text/plain", "CONTENT_LENGTH=5",
	    "REMOTE_ADDR=192.0.2.7", "REMOTE_PORT=50123",
	    "REMOTE_USER=alice", "AUTH_TYPE=Basic", "HTTPS=on",
	    "HTTP_HOST=example.org", "HTTP_X_FORWARDED_FOR=192.0.2.1", NULL },
	  { "SERVER_SOFTWARE=nginx/1.22.1", "SERVER_NAME=example.org",
	    "SERVER_PORT=443", "SERVER_PROTOCOL=HTTP/1.1",
	    "SERVER_ADDR=10.0.0.1", "REQUEST_METHOD=POST",
	    "REQUEST_URI=/fn/hello/x/y?a=1", "REQUEST_SCHEME=https",
	    "DOCUMENT_URI=/fn/hello/x/y", "QUERY_STRING=a=1",
	    "CONTENT_TYPE=text/plain", "CONTENT_LENGTH=5",
	    "REMOTE_ADDR=192.0.2.7", "REMOTE_PORT=50123",
	    "REMOTE_USER=alice", "AUTH_TYPE=Basic", "HTTPS=on",
	    "HTTP_HOST=example.org", "HTTP_X_FORWARDED_FOR=192.0.2.1", NULL } },
	{ "unknown and dangerous params stay out",
	  { "FOO=bar", "LD_PRELOAD=/tmp/x.so", "SCRIPT_FILENAME=/etc/passwd",
	    "SCRIPT_NAME=/evil", "PATH_INFO=/evil", "GATEWAY_INTERFACE=CGI/9",
	    "PATH=/tmp", "FN_NAME=other", "DOCUMENT_ROOT=/srv/www",
	    "HTTP_PROXY=http://evil:8080", "HTTP_Proxy=http://evil",
	    "http_x=1", "HTTP_=1", "HTTP_BAD-NAME=1", "HTTP_A B=1",
	    "BASH_FUNC_f%%=() { :; }", "() { :; }=x", "NOEQUALS",
	    "=novalue", "HTTP_OK=1", NULL },
	  { "QUERY_STRING=", "HTTP_OK=1", NULL } },
	{ "duplicates: the first wins",
	  { "QUERY_STRING=a", "HTTP_X=1", "QUERY_STRING=b", "HTTP_X=2",
	    "REQUEST_METHOD=GET", "REQUEST_METHOD=POST", NULL },
	  { "QUERY_STRING=a", "HTTP_X=1", "REQUEST_METHOD=GET", NULL } },
	{ "values pass verbatim",
	  { "HTTP_COOKIE=a=b; c=d==", "HTTP_USER_AGENT=() { :; }; /bin/id",
	    "HTTP_REFERER=", "REMOTE_USER=", "HTTP_X_SPACES=  a  b  ",
	    "QUERY_STRING=x=%00&y=$(id)", NULL },
	  { "HTTP_COOKIE=a=b; c=d==", "HTTP_USER_AGENT=() { :; }; /bin/id",
	    "HTTP_REFERER=", "REMOTE_USER=", "HTTP_X_SPACES=  a  b  ",
	    "QUERY_STRING=x=%00&y=$(id)", NULL } },
	{ "empty CONTENT_LENGTH and CONTENT_TYPE mean no body",
	  { "CONTENT_LENGTH=", "CONTENT_TYPE=", "QUERY_STRING=", NULL },
	  { "QUERY_STRING=", NULL } },
	{ "the first CONTENT_LENGTH wins even when empty",
	  { "CONTENT_LENGTH=", "CONTENT_LENGTH=5", "CONTENT_TYPE=",
	    "CONTENT_TYPE=text/plain", NULL },
	  { "QUERY_STRING=", NULL } },
	{ "CONTENT_LENGTH 0 is passed",
	  { "CONTENT_LENGTH=0", "CONTENT_TYPE=application/json", NULL },
	  { "CONTENT_LENGTH=0", "CONTENT_TYPE=application/json",
	    "QUERY_STRING=", NULL } },
};

START_TEST(test_table)
{
	const struct env_case *c = &cases[_i];
	struct fn_spec fn = base_fn();
	struct cgienv_in in = base_in(c->params, &fn);
	char **env = cgienv_build(&in);

	ck_assert_msg(env != NULL, "%s", c->desc);
	check_exact(env, c->want);
	free(env);
}
END_TEST

/* The daemon's environment reaches the function only through pass_env. */
START_TEST(test_daemon_env)
{
	static char home[] = "HOME", lang[] = "LANG", nope[] = "NOT_SET";
	char *pass[] = { home, lang, nope };
	struct fn_spec fn = base_fn();
	struct cgienv_in in = base_in(NULL, &fn);
	char **env = cgienv_build(&in);
	static const char *const none[] = { "QUERY_STRING=", NULL };
	static const char *const some[] = { "QUERY_STRING=", "HOME=/root",
	    "LANG=C.UTF-8", NULL };

	ck_assert_ptr_nonnull(env);
	check_exact(env, none);
	free(env);
	fn.pass_env = pass;
	fn.npass_env = 3;
	env = cgienv_build(&in);
	ck_assert_ptr_nonnull(env);
	check_exact(env, some);
	ck_assert_ptr_null(cgienv_get(env, "LD_PRELOAD"));
	ck_assert_ptr_null(cgienv_get(env, "SECRET"));
	free(env);
	in.daemon_env = NULL;
	env = cgienv_build(&in);
	ck_assert_ptr_nonnull(env);
	check_exact(env, none);
	free(env);
}
END_TEST

/* Every combination of the layers that may set one variable: env beats
 * pass_env beats pass_params beats the CGI meta-variable and ours. */
START_TEST(test_precedence)
{
	static const char *const vars[] = { "X_P", "REQUEST_METHOD", "PATH" };
	const char *var = vars[_i / 32];
	unsigned bits = (unsigned)_i % 32;
	char pparam[64], pdaemon[64], nm[32], val[] = "from-env";
	char *params[] = { pparam, "HTTP_A=1", NULL };
	char *denv[] = { "HOME=/root", pdaemon, NULL };
	char *names[] = { nm };
	struct fn_kv kv = { nm, val };
	struct fn_spec fn = base_fn();
	struct cgienv_in in = base_in(params, &fn);
	const char *want;
	char **env;

	snprintf(nm, sizeof(nm), "%s", var);
	snprintf(pparam, sizeof(pparam), "%s=from-param", var);
	snprintf(pdaemon, sizeof(pdaemon), "%s=from-daemon", var);
	if (!(bits & 1))
		params[0] = "HTTP_B=2";     /* no such param */
	if (!(bits & 2))
		denv[1] = NULL;             /* not in the daemon's env */
	if (bits & 4) {
		fn.pass_params = names;
		fn.npass_params = 1;
	}
	if (bits & 8) {
		fn.pass_env = names;
		fn.npass_env = 1;
	}
	if (bits & 16) {
		fn.env = &kv;
		fn.nenv = 1;
	}
	in.daemon_env = denv;
	if (bits & 16)
		want = "from-env";
	else if ((bits & 8) && (bits & 2))
		want = "from-daemon";
	else if ((bits & 4) && (bits & 1))
		want = "from-param";
	else if (strcmp(var, "PATH") == 0)
		want = "/usr/local/bin:/usr/bin:/bin";
	else if (strcmp(var, "REQUEST_METHOD") == 0 && (bits & 1))
		want = "from-param";
	else
		want = NULL;
	env = cgienv_build(&in);
	ck_assert_ptr_nonnull(env);
	check_shape(env);
	if (want == NULL)
		ck_assert_ptr_null(cgienv_get(env, var));
	else
		ck_assert_str_eq(cgienv_get(env, var), want);
	ck_assert_ptr_null(cgienv_get(env, "HOME"));
	free(env);
}
END_TEST

/* What fnlauncher sets may be replaced by the function's own env. */
START_TEST(test_env_replaces_ours)
{
	static char n1[] = "SCRIPT_NAME", v1[] = "/mine", n2[] = "PATH",
	    v2[] = "/opt/bin", n3[] = "GATEWAY_INTERFACE", v3[] = "x",
	    n4[] = "QUERY_STRING", v4[] = "q", n5[] = "PATH", v5[] = "/last";
	struct fn_kv kv[] = { { n1, v1 }, { n2, v2 }, { n3, v3 }, { n4, v4 },
	    { n5, v5 } };
	char *params[] = { "QUERY_STRING=from-request", NULL };
	struct fn_spec fn = base_fn();
	struct cgienv_in in = base_in(params, &fn);
	char **env;

	fn.env = kv;
	fn.nenv = 5;
	env = cgienv_build(&in);
	ck_assert_ptr_nonnull(env);
	check_shape(env);
	ck_assert_str_eq(cgienv_get(env, "SCRIPT_NAME"), "/mine");
	ck_assert_str_eq(cgienv_get(env, "PATH"), "/last");
	ck_assert_str_eq(cgienv_get(env, "GATEWAY_INTERFACE"), "x");
	ck_assert_str_eq(cgienv_get(env, "QUERY_STRING"), "q");
	ck_assert_uint_eq(count(env), NFIXED + 1);
	free(env);
}
END_TEST

/* pass_params copies by exact name, first occurrence; an invalid name
 * in the spec is skipped rather than producing a broken entry. */
START_TEST(test_pass_params)
{
	static char a[] = "DOCUMENT_ROOT", b[] = "SCRIPT_FILENAME",
	    c[] = "MISSING", d[] = "BAD=NAME", e[] = "document_root";
	char *names[] = { a, b, c, d, e };
	char *params[] = { "DOCUMENT_ROOT=/srv/www", "DOCUMENT_ROOT=/other",
	    "SCRIPT_FILENAME=/nginx/says", "BAD=NAME=1", NULL };
	static const char *const want[] = { "QUERY_STRING=",
	    "DOCUMENT_ROOT=/srv/www", NULL };
	struct fn_spec fn = base_fn();
	struct cgienv_in in = base_in(params, &fn);
	char **env;

	fn.pass_params = names;
	fn.npass_params = 1;
	env = cgienv_build(&in);
	ck_assert_ptr_nonnull(env);
	check_exact(env, want);
	free(env);
	fn.npass_params = 5; /* SCRIPT_FILENAME: the admin asked for it */
	env = cgienv_build(&in);
	ck_assert_ptr_nonnull(env);
	check_shape(env);
	ck_assert_str_eq(cgienv_get(env, "SCRIPT_FILENAME"), "/nginx/says");
	ck_assert_str_eq(cgienv_get(env, "DOCUMENT_ROOT"), "/srv/www");
	ck_assert_ptr_null(cgienv_get(env, "BAD"));
	ck_assert_uint_eq(count(env), NFIXED + 2);
	free(env);
}
END_TEST

START_TEST(test_ours)
{
	struct fn_spec fn = base_fn();
	struct cgienv_in in = base_in(NULL, &fn);
	char **env;

	in.path_info = "";
	in.timeout_ms = UINT64_MAX;
	env = cgienv_build(&in);
	ck_assert_ptr_nonnull(env);
	check_shape(env);
	ck_assert_ptr_null(cgienv_get(env, "PATH_INFO"));
	ck_assert_str_eq(cgienv_get(env, "FN_TIMEOUT_MS"),
	    "18446744073709551615");
	ck_assert_str_eq(cgienv_get(env, "SCRIPT_FILENAME"),
	    "/srv/fn/hello.sh");
	ck_assert_str_eq(cgienv_get(env, "FN_NAME"), "hello");
	ck_assert_str_eq(cgienv_get(env, "FN_REQUEST_ID"), "req-1");
	free(env);
	in.path_info = NULL;
	in.timeout_ms = 0;
	env = cgienv_build(&in);
	ck_assert_ptr_nonnull(env);
	ck_assert_ptr_null(cgienv_get(env, "PATH_INFO"));
	ck_assert_str_eq(cgienv_get(env, "FN_TIMEOUT_MS"), "0");
	ck_assert_uint_eq(count(env), NFIXED);
	ck_assert_ptr_null(cgienv_get(env, "FN_JOB_ID"));
	free(env);
	/* an async job's run: what it is, which job, which attempt */
	in.trigger = "async";
	in.job_id = "0123456789abcdef0123456789abcdef";
	in.attempt = "2";
	env = cgienv_build(&in);
	ck_assert_ptr_nonnull(env);
	ck_assert_str_eq(cgienv_get(env, "FN_TRIGGER"), "async");
	ck_assert_str_eq(cgienv_get(env, "FN_JOB_ID"), in.job_id);
	ck_assert_str_eq(cgienv_get(env, "FN_JOB_ATTEMPT"), "2");
	ck_assert_uint_eq(count(env), NFIXED + 2);
	free(env);
}
END_TEST

START_TEST(test_get)
{
	char *env[] = { "PATH_INFO=/a", "PATH=/bin", "EMPTY=", "EQ=a=b",
	    "NOEQ", NULL };

	ck_assert_str_eq(cgienv_get(env, "PATH"), "/bin");
	ck_assert_str_eq(cgienv_get(env, "PATH_INFO"), "/a");
	ck_assert_str_eq(cgienv_get(env, "EMPTY"), "");
	ck_assert_str_eq(cgienv_get(env, "EQ"), "a=b");
	ck_assert_ptr_null(cgienv_get(env, "PAT"));
	ck_assert_ptr_null(cgienv_get(env, "NOEQ"));
	ck_assert_ptr_null(cgienv_get(env, "MISSING"));
	ck_assert_ptr_null(cgienv_get(NULL, "PATH"));
}
END_TEST

/* Many headers, most of them repeated: each name once, the first value. */
START_TEST(test_many_params)
{
	size_t n = 20000, i;
	char **params = calloc(n + 1, sizeof(*params));
	struct fn_spec fn = base_fn();
	struct cgienv_in in = base_in(params, &fn);
	char **env;

	ck_assert_ptr_nonnull(params);
	for (i = 0; i < n; i++)
		if (asprintf(&params[i], "HTTP_X_%zu=%zu", i % 1000, i) < 0)
			ck_abort_msg("asprintf");
	env = cgienv_build(&in);
	ck_assert_ptr_nonnull(env);
	ck_assert_uint_eq(count(env), NFIXED + 1 + 1000);
	ck_assert_str_eq(cgienv_get(env, "HTTP_X_999"), "999");
	ck_assert_str_eq(cgienv_get(env, "HTTP_X_0"), "0");
	check_shape(env);
	free(env);
	for (i = 0; i < n; i++)
		free(params[i]);
	free(params);
}
END_TEST

/* The reaper reads FN_REQUEST_ID from the start of /proc/PID/environ:
 * it comes first, however large the params (nginx allows 64 KiB), and
 * an env: override keeps it first. */
START_TEST(test_request_id_first)
{
	char *big = malloc(70000), *params[] = { big, "REQUEST_METHOD=GET",
	    NULL };
	struct fn_spec fn = base_fn();
	struct fn_kv kv = { "FN_REQUEST_ID", "mine" };
	struct cgienv_in in = base_in(params, &fn);
	char **env;

	ck_assert_ptr_nonnull(big);
	memcpy(big, "HTTP_X_BIG=", 11);
	memset(big + 11, 'x', 70000 - 12);
	big[70000 - 1] = '\0';
	env = cgienv_build(&in);
	ck_assert_ptr_nonnull(env);
	ck_assert_str_eq(env[0], "FN_REQUEST_ID=req-1");
	free(env);
	fn.env = &kv;
	fn.nenv = 1;
	env = cgienv_build(&in);
	ck_assert_ptr_nonnull(env);
	ck_assert_str_eq(env[0], "FN_REQUEST_ID=mine");
	free(env);
	free(big);
}
END_TEST

Suite *
suite_cgienv(void)
{
	Suite *s = suite_create("cgienv");
	TCase *tc = tcase_create("build");

	tcase_add_loop_test(tc, test_table, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_daemon_env);
	tcase_add_loop_test(tc, test_precedence, 0, 3 * 32);
	tcase_add_test(tc, test_env_replaces_ours);
	tcase_add_test(tc, test_pass_params);
	tcase_add_test(tc, test_ours);
	tcase_add_test(tc, test_get);
	tcase_add_test(tc, test_many_params);
	tcase_add_test(tc, test_request_id_first);
	suite_add_tcase(s, tc);
	return s;
}
