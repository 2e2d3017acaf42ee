/* test_route.c — routing (SPEC.md section 4) and drop-in lookup
 * (SPEC.md section 3) in a temporary folder. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "route.h"
#include "unit.h"

#define N64 "a123456789b123456789c123456789d123456789e123456789f123456789wxyz"
#define DU "DOCUMENT_URI="
#define OK ROUTE_OK
#define NF ROUTE_NOT_FOUND
#define ADM ROUTE_ADMIN

struct route_case {
	const char *prefix;
	char *params[6];
	enum route_result want;
	const char *name;       /* for ROUTE_OK */
	const char *path_info;
	bool by_param;
};

static const struct route_case cases[] = {
	/* FN_FUNCTION */
	{ "/", { "FN_FUNCTION=hello", "PATH_INFO=/a/b", DU "/x/y", NULL },
	  OK, "hello", "/a/b", 1 },
	{ "/fn/", { "FN_FUNCTION=hello", DU "/elsewhere", NULL },
	  OK, "hello", "", 1 },
	{ "/fn/", { "FN_FUNCTION=a", "FN_FUNCTION=b", NULL },
	  OK, "a", "", 1 },
	{ "/", { "FN_FUNCTION=", DU "/hello/z", NULL },
	  OK, "hello", "/z", 0 },
	{ "/", { "FN_FUNCTION=../etc/passwd", NULL }, NF, "", "", 1 },
	{ "/", { "FN_FUNCTION=..", NULL }, NF, "", "", 1 },
	{ "/", { "FN_FUNCTION=.hidden", NULL }, NF, "", "", 1 },
	{ "/", { "FN_FUNCTION=a/b", NULL }, NF, "", "", 1 },
	{ "/", { "FN_FUNCTION=_", NULL }, NF, "", "", 1 },
	{ "/", { "FN_FUNCTION=" N64 "x", NULL }, NF, "", "", 1 },
	{ "/", { "FN_FUNCTION=" N64, NULL }, OK, N64, "", 1 },
	/* prefix "/" */
	{ "/", { DU "/hello", NULL }, OK, "hello", "", 0 },
	{ "/", { DU "/hello/", NULL }, OK, "hello", "/", 0 },
	{ "/", { DU "/hello/a/b", NULL }, OK, "hello", "/a/b", 0 },
	{ "/", { DU "/hello.v2-x_y", NULL }, OK, "hello.v2-x_y", "", 0 },
	{ "/", { DU "/", NULL }, NF, "", "", 0 },
	{ "/", { DU "hello", NULL }, NF, "", "", 0 },
	/* prefix "/fn/" */
	{ "/fn/", { DU "/fn/hello", NULL }, OK, "hello", "", 0 },
	{ "/fn/", { DU "/fn/hello/x", NULL }, OK, "hello", "/x", 0 },
	{ "/fn/", { DU "/fn", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/fn/", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/fnhello", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/fnx/hello", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/FN/hello", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/other/hello", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/hello", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/fn//hello", NULL }, NF, "", "", 0 },
	{ "/a/b/", { DU "/a/b/hello/c", NULL }, OK, "hello", "/c", 0 },
	/* DOCUMENT_URI, else SCRIPT_NAME; PATH_INFO only with FN_FUNCTION */
	{ "/fn/", { "SCRIPT_NAME=/fn/hello", NULL }, OK, "hello", "", 0 },
	{ "/fn/", { "SCRIPT_NAME=/fn/other", DU "/fn/hello", NULL },
	  OK, "hello", "", 0 },
	{ "/fn/", { DU "", "SCRIPT_NAME=/fn/hello/p", NULL },
	  OK, "hello", "/p", 0 },
	{ "/fn/", { DU "/fn/hello", "PATH_INFO=/ignored", NULL },
	  OK, "hello", "", 0 },
	{ "/fn/", { "SCRIPT_FILENAME=/srv/fn/hello", "REQUEST_URI=/fn/hello",
	    NULL },
	  NF, "", "", 0 },
	{ "/fn/", { NULL }, NF, "", "", 0 },
	/* admin */
	{ "/fn/", { DU "/fn/_/health", NULL }, ADM, "", "/health", 0 },
	{ "/", { DU "/_/metrics", NULL }, ADM, "", "/metrics", 0 },
	{ "/", { DU "/_", NULL }, ADM, "", "", 0 },
	{ "/", { DU "/__/health", NULL }, NF, "", "", 0 },
	{ "/", { DU "/_x", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/_/health", NULL }, NF, "", "", 0 },
	/* invalid names */
	{ "/", { DU "/../etc/passwd", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/fn/../x", NULL }, NF, "", "", 0 },
	{ "/", { DU "/.hidden", NULL }, NF, "", "", 0 },
	{ "/", { DU "/.", NULL }, NF, "", "", 0 },
	{ "/", { DU "/-x", NULL }, NF, "", "", 0 },
	{ "/", { DU "/a b", NULL }, NF, "", "", 0 },
	{ "/", { DU "/a%2Fb", NULL }, NF, "", "", 0 },
	{ "/", { DU "/h\xc3\xa9llo", NULL }, NF, "", "", 0 },
	{ "/", { DU "/" N64 "x", NULL }, NF, "", "", 0 },
	{ "/", { DU "/" N64 "/x", NULL }, OK, N64, "/x", 0 },
	/* a tenant's: PREFIX~TENANT/NAME[/PATH_INFO] (tenant in r.tenant) */
	{ "/fn/", { DU "/fn/~alice/report", NULL }, OK, "report", "", 0 },
	{ "/fn/", { DU "/fn/~alice/report/2026/x", NULL },
	  OK, "report", "/2026/x", 0 },
	{ "/fn/", { DU "/fn/~alice", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/fn/~alice/", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/fn/~/report", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/fn/~Alice/report", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/fn/~_main/report", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/fn/~a.b/report", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/fn/~alice/../x", NULL }, NF, "", "", 0 },
	{ "/fn/", { DU "/fn/~alice/~bob/x", NULL }, NF, "", "", 0 },
};

START_TEST(test_parse)
{
	const struct route_case *c = &cases[_i];
	struct route r;
	enum route_result got;

	memset(&r, 0x5a, sizeof(r));
	got = route_parse(c->params, c->prefix, &r);
	ck_assert_msg(got == c->want, "case %d: got %d", _i, (int)got);
	ck_assert_str_eq(r.name, c->want == ROUTE_OK ? c->name : "");
	ck_assert_str_eq(r.tenant, c->want == ROUTE_OK &&
	    strncmp(c->params[0], DU "/fn/~", strlen(DU) + 5) == 0 ?
	    "alice" : "");
	ck_assert_str_eq(r.path_info, c->path_info);
	ck_assert_int_eq(r.by_param, c->by_param);
	ck_assert_ptr_nonnull(r.uri);
}
END_TEST

/* path_info and uri point into the params, not into a copy. */
START_TEST(test_parse_pointers)
{
	char *params[] = { "SCRIPT_NAME=/fn/x", "DOCUMENT_URI=/fn/hello/rest",
	    NULL };
	struct route r;

	ck_assert_int_eq(route_parse(params, "/fn/", &r), ROUTE_OK);
	ck_assert_ptr_eq(r.uri, params[1] + strlen("DOCUMENT_URI="));
	ck_assert_ptr_eq(r.path_info,
	    params[1] + strlen("DOCUMENT_URI=/fn/hello"));
	ck_assert_int_eq(route_parse(params, "/other/", &r), ROUTE_NOT_FOUND);
	ck_assert_str_eq(r.uri, "/fn/hello/rest");
}
END_TEST

/* ---- drop-in lookup ---------------------------------------------------- */

static char tmpdir[64];
static char s_get[] = "GET", s_post[] = "POST", s_ct[] = "text/plain";
static char s_shadow[] = "shadow", s_echo[] = "/bin/echo";
static char s_zeta[] = "zeta", s_true[] = "/bin/true";
static char *methods[] = { s_get, s_post };
static struct fn_spec functions[2];
static struct manifest man;

static void
make(const char *name, mode_t mode)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "#!/bin/sh\n", 10), 10);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void
setup(void)
{
	char path[128];

	strcpy(tmpdir, "/tmp/fnl-route-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	make("exe", 0755);
	make("only-user", 0700);
	make("only-group", 0610);
	make("only-other", 0601);
	make("noexec", 0644);
	make("setuid-noexec", 04644);
	make(".hidden", 0755);
	make("shadow", 0755);
	snprintf(path, sizeof(path), "%s/link", tmpdir);
	ck_assert_int_eq(symlink("exe", path), 0);
	snprintf(path, sizeof(path), "%s/abslink", tmpdir);
	ck_assert_int_eq(symlink("/bin/true", path), 0);
	snprintf(path, sizeof(path), "%s/dangling", tmpdir);
	ck_assert_int_eq(symlink("nowhere", path), 0);
	snprintf(path, sizeof(path), "%s/dir", tmpdir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	ck_assert_int_eq(mkfifo(path, 0755), 0);

	memset(&man, 0, sizeof(man));
	memset(functions, 0, sizeof(functions));
	man.defaults.timeout_ms = 1234;
	man.defaults.methods = methods;
	man.defaults.nmethods = 2;
	man.defaults.content_type = s_ct;
	functions[0].name = s_shadow;
	functions[0].path = s_echo;
	functions[1].name = s_zeta;
	functions[1].path = s_true;
	man.functions = functions;
	man.nfunctions = 2;
	man.functions_dir = tmpdir;
	man.prefix = "/";
}

static void
teardown(void)
{
	static const char *const names[] = { "exe", "only-user", "only-group",
	    "only-other", "noexec", "setuid-noexec", ".hidden", "shadow",
	    "link", "abslink", "dangling", "fifo", "later" };
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/dir", tmpdir);
	rmdir(path);
	ck_assert_int_eq(rmdir(tmpdir), 0);
}

struct lookup_case {
	const char *name;
	bool found;
};

static const struct lookup_case lookups[] = {
	{ "exe", true }, { "only-user", true }, { "only-group", true },
	{ "only-other", true }, { "noexec", false }, { "setuid-noexec", false },
	{ ".hidden", false }, { "link", false }, { "abslink", false },
	{ "dangling", false }, { "dir", false }, { "fifo", false },
	{ "missing", false }, { "..", false }, { ".", false }, { "", false },
	{ "exe/", false }, { "../exe", false }, { "_", false },
};

START_TEST(test_lookup_dropin)
{
	const struct lookup_case *c = &lookups[_i];
	struct fn_spec tmp;
	const struct fn_spec *out = (const void *)&man;
	char want[128];
	int rc;

	memset(&tmp, 0x5a, sizeof(tmp));
	errno = 0;
	rc = route_lookup(&man, c->name, &tmp, &out);
	if (!c->found) {
		ck_assert_msg(rc == -1, "%s found", c->name);
		ck_assert_int_eq(errno, ENOENT);
		ck_assert_ptr_null(out);
		return;
	}
	ck_assert_msg(rc == 0, "%s not found", c->name);
	ck_assert_ptr_eq(out, &tmp);
	ck_assert_str_eq(tmp.name, c->name);
	snprintf(want, sizeof(want), "%s/%s", tmpdir, c->name);
	ck_assert_str_eq(tmp.path, want);
	ck_assert(tmp.dropin);
	ck_assert_uint_eq(tmp.timeout_ms, 1234);
	ck_assert_uint_eq(tmp.nmethods, 2);
	ck_assert_str_eq(tmp.methods[1], "POST");
	ck_assert_ptr_ne(tmp.methods, methods);
	ck_assert_str_eq(tmp.content_type, "text/plain");
	fn_spec_clear(&tmp);
}
END_TEST

/* The manifest comes first; a drop-in never shadows it. */
START_TEST(test_lookup_manifest)
{
	struct fn_spec tmp = { 0 };
	const struct fn_spec *out = NULL;

	ck_assert_int_eq(route_lookup(&man, "shadow", &tmp, &out), 0);
	ck_assert_ptr_eq(out, &functions[0]);
	ck_assert_str_eq(out->path, "/bin/echo");
	ck_assert(!out->dropin);
	ck_assert_int_eq(route_lookup(&man, "zeta", &tmp, &out), 0);
	ck_assert_ptr_eq(out, &functions[1]);
	ck_assert_ptr_null(tmp.name);
	/* drop-in disabled: manifest functions only */
	man.functions_dir = NULL;
	ck_assert_int_eq(route_lookup(&man, "zeta", &tmp, &out), 0);
	ck_assert_int_eq(route_lookup(&man, "exe", &tmp, &out), -1);
	ck_assert_int_eq(errno, ENOENT);
	man.functions_dir = tmpdir;
}
END_TEST

/* A file added is served at once; removed, it is gone at once. */
START_TEST(test_lookup_add_remove)
{
	struct fn_spec tmp = { 0 };
	const struct fn_spec *out = NULL;
	char path[128], dir[160];

	ck_assert_int_eq(route_lookup(&man, "later", &tmp, &out), -1);
	ck_assert_int_eq(errno, ENOENT);
	make("later", 0755);
	ck_assert_int_eq(route_lookup(&man, "later", &tmp, &out), 0);
	ck_assert_ptr_eq(out, &tmp);
	fn_spec_clear(&tmp);
	/* a trailing slash on functions_dir does not double the slash */
	snprintf(dir, sizeof(dir), "%s/", tmpdir);
	man.functions_dir = dir;
	ck_assert_int_eq(route_lookup(&man, "later", &tmp, &out), 0);
	snprintf(path, sizeof(path), "%s/later", tmpdir);
	ck_assert_str_eq(tmp.path, path);
	fn_spec_clear(&tmp);
	man.functions_dir = tmpdir;
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(route_lookup(&man, "later", &tmp, &out), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* executable bit removed: gone too */
	snprintf(path, sizeof(path), "%s/exe", tmpdir);
	ck_assert_int_eq(route_lookup(&man, "exe", &tmp, &out), 0);
	fn_spec_clear(&tmp);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(route_lookup(&man, "exe", &tmp, &out), -1);
}
END_TEST

Suite *
suite_route(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("parse");
	TCase *td = tcase_create("lookup");

	tcase_add_loop_test(tc, test_parse, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_parse_pointers);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(td, setup, teardown);
	tcase_add_loop_test(td, test_lookup_dropin, 0,
	    (int)(sizeof(lookups) / sizeof(lookups[0])));
	tcase_add_test(td, test_lookup_manifest);
	tcase_add_test(td, test_lookup_add_remove);
	suite_add_tcase(s, td);
	return s;
}
