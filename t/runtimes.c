/* runtimes.c — real language runtimes as functions under the built-in
 * default limits: Node, Python, Perl, PHP (php-cgi), Java and Go, each
 * behind real nginx, driven with curl.
 *
 * The manifest sets no limits, no defaults and no runtime memory option
 * (no -Xmx): what is tested is what a user gets out of the box, memory
 * 512M as RLIMIT_DATA and the other built-in limits. Per runtime, one
 * test: the hello function answers 200 with its body; a function that
 * allocates and touches 1 GiB in 16 MiB steps is stopped (a 5xx: the
 * daemon's 502, or the runtime's own error), leaves no process behind,
 * and the daemon (same pid) answers the next hello with 200. Each test
 * prints one "RUNTIME" line per request with the times it measured
 * (t/runtimes.log); there are no timing asserts.
 *
 * Go and Java are compiled by the test (go build, javac) into the temp
 * dir. A runtime that is not installed makes its test print
 * "SKIP: TEST: REASON" (skip() below). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* usleep, strcasestr */
#endif
#include "harness.h"
#include "harness_check.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct harness *H;

/* The function's PATH (SPEC 5): where its #! and exec find a runtime. */
#define FN_PATH "/usr/local/bin:/usr/bin:/bin"
/* Asked of every hello function; its body must echo it. */
#define QUERY "a=1&b=two"

/* ---- the functions --------------------------------------------------------
 * Per runtime: NAME-hello answers "hello from NAME: $QUERY_STRING";
 * NAME-alloc keeps 64 blocks of 16 MiB, writing every page, and only then
 * answers (so a stopped allocation never sends a header). Scripts are
 * written to bin/ as they are; Go and Java sources are built by build_go
 * and build_java into bin/NAME-hello and bin/NAME-alloc. */

enum { FN_HELLO, FN_ALLOC, FN_ALLOC_OWN, NFN };
static const char *const FN_SUFFIX[NFN] = { "hello", "alloc", "alloc-own" };

struct runtime {
	const char *name;      /* function names NAME-hello, NAME-alloc, ... */
	const char *test;      /* the Check test, for SKIP lines */
	const char *cmd;       /* runs the functions (on FN_PATH), or NULL */
	const char *compiler;  /* builds them (test-time), or NULL */
	const char *pkg;       /* Debian's package(s), for SKIP lines */
	const char *env;       /* manifest env of its functions, or NULL */
	const char *src[NFN];  /* script or source; NULL: no such function */
	void (*build)(const struct runtime *rt);
};

static const char NODE_HELLO[] =
    "#!/usr/bin/env node\n"
    "process.stdout.write('Content-Type: text/plain\\n\\n' +\n"
    "    'hello from node: ' + (process.env.QUERY_STRING || '') + '\\n');\n";
/* Buffer memory lives outside V8's heap (whose own limit is gigabytes
 * here); fill() writes every page. */
static const char NODE_ALLOC[] =
    "#!/usr/bin/env node\n"
    "const keep = [];\n"
    "for (let i = 0; i < 64; i++) {\n"
    "  const b = Buffer.alloc(16 << 20);\n"
    "  b.fill(1);\n"
    "  keep.push(b);\n"
    "}\n"
    "process.stdout.write('Content-Type: text/plain\\n\\n' +\n"
    "    'node allocated ' + keep.length * 16 + ' MiB\\n');\n";

static const char PY_HELLO[] =
    "#!/usr/bin/env python3\n"
    "import os, sys\n"
    "sys.stdout.write('Content-Type: text/plain\\n\\n'\n"
    "                 'hello from python3: %s\\n'"
    " % os.environ.get('QUERY_STRING', ''))\n";
/* bytes * n is a memset: every page written. */
static const char PY_ALLOC[] =
    "#!/usr/bin/env python3\n"
    "import sys\n"
    "keep = [b'\\x01' * (16 << 20) for i in range(64)]\n"
    "sys.stdout.write('Content-Type: text/plain\\n\\n'\n"
    "                 'python3 allocated %d MiB\\n' % (16 * len(keep)))\n";

static const char PERL_HELLO[] =
    "#!/usr/bin/env perl\n"
    "print \"Content-Type: text/plain\\n\\n\",\n"
    "    'hello from perl: ', $ENV{QUERY_STRING} // '', \"\\n\";\n";
static const char PERL_ALLOC[] =
    "#!/usr/bin/env perl\n"
    "my @keep;\n"
    "push @keep, \"\\x01\" x (16 << 20) for 1 .. 64;\n"
    "print \"Content-Type: text/plain\\n\\n\",\n"
    "    'perl allocated ', 16 * @keep, \" MiB\\n\";\n";

/* php-cgi runs the script named by SCRIPT_FILENAME (the executable, set
 * by fnlauncher) and skips its #! line; it answers only when
 * REDIRECT_STATUS is set (cgi.force_redirect): the manifest sets it. */
static const char PHP_HELLO[] =
    "#!/usr/bin/env php-cgi\n"
    "<?php\n"
    "header('Content-Type: text/plain');\n"
    "echo 'hello from php: ', $_SERVER['QUERY_STRING'] ?? '', \"\\n\";\n";
/* memory_limit lifted: RLIMIT_DATA is what stops it. */
static const char PHP_ALLOC[] =
    "#!/usr/bin/env php-cgi\n"
    "<?php\n"
    "ini_set('memory_limit', '-1');\n"
    "$keep = [];\n"
    "for ($i = 0; $i < 64; $i++)\n"
    "    $keep[] = str_repeat(\"\\x01\", 16 << 20);\n"
    "header('Content-Type: text/plain');\n"
    "echo 'php allocated ', 16 * count($keep), \" MiB\\n\";\n";
/* As php.ini has it (Debian: memory_limit 128M, then PHP's own 500);
 * if php.ini lifts it, RLIMIT_DATA stops it all the same. */
static const char PHP_ALLOC_OWN[] =
    "#!/usr/bin/env php-cgi\n"
    "<?php\n"
    "$keep = [];\n"
    "for ($i = 0; $i < 64; $i++)\n"
    "    $keep[] = str_repeat(\"\\x01\", 16 << 20);\n"
    "header('Content-Type: text/plain');\n"
    "echo 'php allocated ', 16 * count($keep), \" MiB\\n\";\n";

static const char JAVA_HELLO[] =
    "public class Hello {\n"
    "    public static void main(String[] args) {\n"
    "        String q = System.getenv(\"QUERY_STRING\");\n"
    "        System.out.print(\"Content-Type: text/plain\\n\\n\"\n"
    "            + \"hello from java: \" + (q == null ? \"\" : q) + \"\\n\");\n"
    "        System.out.flush();\n"
    "    }\n"
    "}\n";
/* The JVM zeroes each array (every page written) and fill() writes it
 * again. */
static const char JAVA_ALLOC[] =
    "import java.util.ArrayList;\n"
    "import java.util.Arrays;\n"
    "public class Alloc {\n"
    "    public static void main(String[] args) {\n"
    "        ArrayList<byte[]> keep = new ArrayList<>();\n"
    "        for (int i = 0; i < 64; i++) {\n"
    "            byte[] b = new byte[16 << 20];\n"
    "            Arrays.fill(b, (byte) 1);\n"
    "            keep.add(b);\n"
    "        }\n"
    "        System.out.print(\"Content-Type: text/plain\\n\\n\"\n"
    "            + \"java allocated \" + 16 * keep.size() + \" MiB\\n\");\n"
    "        System.out.flush();\n"
    "    }\n"
    "}\n";
/* The wrapper a user would write. No heap option: the JVM sizes its heap
 * from the machine's RAM (initial RAM/64, max RAM/4). The JVM writes its
 * warnings (e.g. a thread it could not start) and the head of a fatal
 * error report to stdout, where they would be read as CGI headers:
 * -Xlog sends the warnings to stderr (the daemon logs it), and
 * ErrorFileToStderr the crash report, instead of hs_err_pidN.log files
 * in the working folder or /tmp. */
static const char JAVA_WRAPPER[] =
    "#!/bin/sh\n"
    "exec java -Xlog:disable -Xlog:all=warning:stderr "
    "-XX:+ErrorFileToStderr \\\n"
    "    -cp @DIR@/bin/java %s\n";

static const char GO_MOD[] = "module fnltest\n\ngo 1.19\n";
static const char GO_HELLO[] =
    "package main\n\n"
    "import (\n\t\"fmt\"\n\t\"os\"\n)\n\n"
    "func main() {\n"
    "\tfmt.Printf(\"Content-Type: text/plain\\n\\nhello from go: %s\\n\",\n"
    "\t\tos.Getenv(\"QUERY_STRING\"))\n"
    "}\n";
static const char GO_ALLOC[] =
    "package main\n\n"
    "import \"fmt\"\n\n"
    "func main() {\n"
    "\tvar keep [][]byte\n"
    "\tfor i := 0; i < 64; i++ {\n"
    "\t\tb := make([]byte, 16<<20)\n"
    "\t\tfor j := 0; j < len(b); j += 4096 {\n"
    "\t\t\tb[j] = 1\n"
    "\t\t}\n"
    "\t\tkeep = append(keep, b)\n"
    "\t}\n"
    "\tfmt.Printf(\"Content-Type: text/plain\\n\\ngo allocated %d MiB\\n\",\n"
    "\t\t16*len(keep))\n"
    "}\n";

static void build_java(const struct runtime *rt);
static void build_go(const struct runtime *rt);

enum { RT_NODE, RT_PYTHON, RT_PERL, RT_PHP, RT_JAVA, RT_GO, NRT };
static const struct runtime RUNTIMES[NRT] = {
	[RT_NODE] = { .name = "node", .test = "node", .cmd = "node",
	    .pkg = "nodejs", .src = { NODE_HELLO, NODE_ALLOC } },
	[RT_PYTHON] = { .name = "python3", .test = "python3",
	    .cmd = "python3", .pkg = "python3",
	    .src = { PY_HELLO, PY_ALLOC } },
	[RT_PERL] = { .name = "perl", .test = "perl", .cmd = "perl",
	    .pkg = "perl", .src = { PERL_HELLO, PERL_ALLOC } },
	[RT_PHP] = { .name = "php", .test = "php_cgi", .cmd = "php-cgi",
	    .pkg = "php-cgi", .env = "{ REDIRECT_STATUS: \"200\" }",
	    .src = { PHP_HELLO, PHP_ALLOC, PHP_ALLOC_OWN } },
	[RT_JAVA] = { .name = "java", .test = "java", .cmd = "java",
	    .compiler = "javac", .pkg = "default-jdk-headless",
	    .src = { JAVA_HELLO, JAVA_ALLOC }, .build = build_java },
	[RT_GO] = { .name = "go", .test = "go", .compiler = "go",
	    .pkg = "golang-go", .src = { GO_HELLO, GO_ALLOC },
	    .build = build_go },
};

/* ---- fixture ------------------------------------------------------------- */

/* The manifest: every function of every runtime (the missing ones only
 * draw a warning), nothing else: no limits, no defaults. The caller
 * frees; NULL if it does not fit. */
static char *manifest_text(void)
{
	const size_t cap = 4096;
	char *m = malloc(cap), *p = m;
	size_t left = cap, r, f;
	int n;

	if (m == NULL)
		return NULL;
	n = snprintf(p, left, "# generated by t/runtimes.c: no limits, the "
	    "built-in defaults apply\nfunctions:\n");
	for (r = 0; r < NRT; r++)
		for (f = 0; f < NFN; f++) {
			if (n < 0 || (size_t)n >= left)
				goto full;
			p += n;
			left -= (size_t)n;
			n = 0;
			if (RUNTIMES[r].src[f] == NULL)
				continue;
			n = snprintf(p, left, "  %s-%s: { path: @DIR@/bin/%s-%s"
			    "%s%s }\n", RUNTIMES[r].name, FN_SUFFIX[f],
			    RUNTIMES[r].name, FN_SUFFIX[f],
			    RUNTIMES[r].env ? ", env: " : "",
			    RUNTIMES[r].env ? RUNTIMES[r].env : "");
		}
	if (n >= 0 && (size_t)n < left)
		return m;
full:
	free(m);
	return NULL;
}

static void servers_up(void)
{
	char *manifest;

	H = harness_new();
	ck_assert_msg(H != NULL, "cannot make the temp dir");
	manifest = manifest_text();
	if (manifest == NULL ||
	    harness_write(H, "manifest.yaml", manifest, 0644) != 0 ||
	    harness_start_daemon(H, "manifest.yaml", NULL) != 0 ||
	    harness_start_nginx(H, NULL) != 0) {
		free(manifest);
		harness_free(H);
		H = NULL;
		ck_abort_msg("could not start nginx and the daemon (see stderr)");
	}
	free(manifest);
}

static void servers_down(void)
{
	harness_free(H);
	H = NULL;
}

/* ---- helpers ------------------------------------------------------------- */

/* The executable cmd on FN_PATH into buf: 0, or -1 when there is none. */
static int on_path(const char *cmd, char *buf, size_t len)
{
	const char *dir = FN_PATH, *end;
	struct stat st;
	int n;

	for (; *dir != '\0'; dir = *end ? end + 1 : end) {
		end = strchr(dir, ':');
		if (end == NULL)
			end = dir + strlen(dir);
		n = snprintf(buf, len, "%.*s/%s", (int)(end - dir), dir, cmd);
		if (n > 0 && (size_t)n < len && stat(buf, &st) == 0 &&
		    S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
			return 0;
	}
	return -1;
}

/* Run argv (argv[0] looked up on FN_PATH) with extra_env; assert that it
 * succeeded, showing its output if not. */
static void run_tool(const char *const *argv, const char *const *extra_env)
{
	char exe[512], *out = NULL, *err = NULL;
	const char *av[16];
	size_t i;
	int st;

	ck_assert_msg(on_path(argv[0], exe, sizeof(exe)) == 0, "no %s",
	    argv[0]);
	av[0] = exe;
	for (i = 1; argv[i] != NULL && i < 15; i++)
		av[i] = argv[i];
	av[i] = NULL;
	st = harness_run(av, extra_env, NULL, &out, NULL, &err, 180000);
	ck_assert_msg(st == 0, "%s failed (wait status %d):\n%s%s", exe, st,
	    out ? out : "", err ? err : "");
	free(out);
	free(err);
}

/* Write text (expanded) to dir/rel, after making rel's folder (0755). */
static void put(const char *rel, const char *text, mode_t mode)
{
	char path[512], *slash;

	ck_assert_int_eq(harness_path(H, rel, path, sizeof(path)), 0);
	for (slash = strchr(path + strlen(H->dir) + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST,
		    "mkdir %s: %s", path, strerror(errno));
		*slash = '/';
	}
	ck_assert_int_eq(harness_write(H, rel, text, mode), 0);
}

/* javac into bin/java/; bin/java-hello and bin/java-alloc exec the JVM. */
static void build_java(const struct runtime *rt)
{
	static const char *const cls[] = { "Hello", "Alloc" };
	char src[2][512], out[512], rel[64], wrapper[256];
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(rel, sizeof(rel), "src/java/%s.java", cls[i]);
		put(rel, rt->src[i], 0644);
		ck_assert_int_eq(harness_path(H, rel, src[i], sizeof(src[i])), 0);
		snprintf(rel, sizeof(rel), "bin/java-%s", FN_SUFFIX[i]);
		snprintf(wrapper, sizeof(wrapper), JAVA_WRAPPER, cls[i]);
		put(rel, wrapper, 0755);
	}
	ck_assert_int_eq(harness_path(H, "bin/java", out, sizeof(out)), 0);
	{
		const char *const argv[] = { "javac", "-d", out, src[0],
		    src[1], NULL };
		run_tool(argv, NULL);
	}
}

/* go build, stdlib only, offline, with its caches in the temp dir. */
static void build_go(const struct runtime *rt)
{
	char mod[512], env[3][600], out[512], rel[64];
	const char *const extra[] = { env[0], env[1], env[2],
	    "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "CGO_ENABLED=0",
	    "GOPROXY=off", NULL };
	size_t i;
	int here;

	put("src/go/go.mod", GO_MOD, 0644);
	ck_assert_int_eq(harness_path(H, "src/go", mod, sizeof(mod)), 0);
	snprintf(env[0], sizeof(env[0]), "GOCACHE=%s/go/cache", H->dir);
	snprintf(env[1], sizeof(env[1]), "GOPATH=%s/go/path", H->dir);
	snprintf(env[2], sizeof(env[2]), "HOME=%s/go", H->dir);
	for (i = 0; i < 2; i++) {
		snprintf(rel, sizeof(rel), "src/go/%s/main.go", FN_SUFFIX[i]);
		put(rel, rt->src[i], 0644);
	}
	/* go build ./PKG works in the module's folder; this is the test's
	 * own (forked) process, and it goes back afterwards. */
	here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_msg(here != -1 && chdir(mod) == 0, "chdir %s: %s", mod,
	    strerror(errno));
	for (i = 0; i < 2; i++) {
		snprintf(rel, sizeof(rel), "bin/go-%s", FN_SUFFIX[i]);
		ck_assert_int_eq(harness_path(H, rel, out, sizeof(out)), 0);
		snprintf(rel, sizeof(rel), "./%s", FN_SUFFIX[i]);
		{
			const char *const argv[] = { "go", "build", "-o", out,
			    rel, NULL };
			run_tool(argv, extra);
		}
	}
	ck_assert_msg(fchdir(here) == 0, "fchdir: %s", strerror(errno));
	close(here);
}

/* Put the runtime's functions in place: scripts as they are, or built. */
static void install(const struct runtime *rt)
{
	char rel[64];
	size_t f;
	double t0 = harness_now();

	if (rt->build != NULL) {
		rt->build(rt);
		printf("RUNTIME %s: built with %s in %.0f ms\n", rt->name,
		    rt->compiler, (harness_now() - t0) * 1000);
		return;
	}
	for (f = 0; f < NFN; f++) {
		if (rt->src[f] == NULL)
			continue;
		snprintf(rel, sizeof(rel), "bin/%s-%s", rt->name, FN_SUFFIX[f]);
		put(rel, rt->src[f], 0755);
	}
}

/* The value of "key" in the record rec, or "?" if absent. */
static const char *field(const char *rec, const char *key, char *buf,
    size_t len)
{
	const char *v = harness_json_value(rec, key, buf, len);

	return v != NULL ? v : "?";
}

/* The runtimes' own words for "out of memory", as they print them on
 * stderr (Node 18; Node 20, Perl and Go; Python; php-cgi; PHP's
 * memory_limit; Java). */
static const char *const OOM_WORDS[] = { "allocation failed",
    "out of memory", "MemoryError", "Cannot allocate memory",
    "memory size", "commit_memory", NULL };

/* 1 if line names running out of memory (OOM_WORDS, any case). */
static int says_oom(const char *line)
{
	size_t i;

	for (i = 0; OOM_WORDS[i] != NULL; i++)
		if (strcasestr(line, OOM_WORDS[i]) != NULL)
			return 1;
	return 0;
}

/* What the daemon logged about request rid: its invocation record
 * (polled: written once the process is reaped) into rec, and into err
 * the function's first stderr line that says it ran out of memory (the
 * runtime's own message), else its last one. */
static void logged(const char *rid, char *rec, size_t rlen, char *err,
    size_t elen)
{
	char key[96], *log, *line, *save = NULL, *s;
	double end = harness_now() + 3.0;
	int named;

	snprintf(key, sizeof(key), "\"request_id\":\"%s\"", rid);
	for (;;) {
		rec[0] = err[0] = '\0';
		named = 0;
		log = harness_daemon_log(H);
		for (line = strtok_r(log, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			if (strstr(line, key) != NULL)
				snprintf(rec, rlen, "%s", line);
			else if (!named && strstr(line, rid) != NULL &&
			    (s = strstr(line, " stderr: ")) != NULL &&
			    s[9] != '\0') {
				snprintf(err, elen, "%s", s + 9);
				named = says_oom(s + 9);
			}
		}
		free(log);
		if (rec[0] != '\0' || harness_now() >= end)
			return;
		usleep(50000);
	}
}

/* GET /FN(?QUERY) through nginx, timed, with what the daemon logged. */
struct call {
	struct hresp r;
	double ms;
	char rid[64];
	char rec[1024];
	char err[800];
};

static void call(struct call *c, const char *fn)
{
	char path[128];
	double t0;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "/%s?%s", fn, QUERY);
	t0 = harness_now();
	ck_assert_msg(harness_curl(H, &c->r, path, NULL) == 0,
	    "curl did not run");
	c->ms = (harness_now() - t0) * 1000;
	ck_assert_msg(c->r.curl_rc == 0, "curl %s exited %d", path,
	    c->r.curl_rc);
	ck_assert_msg(hresp_header(&c->r, "X-Request-Id", c->rid,
	    sizeof(c->rid)) != NULL && c->rid[0] != '\0', "%s: no "
	    "X-Request-Id:\n%s", path, c->r.headers);
	logged(c->rid, c->rec, sizeof(c->rec), c->err, sizeof(c->err));
}

/* One line for the test log: status, time, and the record's verdict. */
static void print_call(const char *what, const struct call *c)
{
	char v[5][64];

	printf("RUNTIME %s: %d in %.0f ms (outcome %s, exit_code %s, "
	    "signal %s, duration_ms %s, max_rss_kb %s)%s%s\n", what,
	    c->r.status, c->ms, field(c->rec, "outcome", v[0], 64),
	    field(c->rec, "exit_code", v[1], 64),
	    field(c->rec, "signal", v[2], 64),
	    field(c->rec, "duration_ms", v[3], 64),
	    field(c->rec, "max_rss_kb", v[4], 64),
	    c->err[0] ? "; stderr: " : "", c->err);
	fflush(stdout);
}

/* Processes of uid nobody (RLIMIT_NPROC counts them all, threads too), for
 * the messages of a runtime that did not start. */
static int nobody_tasks(void)
{
	struct passwd *pw = getpwnam("nobody");

	return pw != NULL ? harness_uid_tasks((long)pw->pw_uid) : -1;
}

/* NAME-hello answers 200, text/plain, "hello from NAME: QUERY". */
static void assert_hello(const struct runtime *rt, const char *what)
{
	char fn[64], want[128], ct[128];
	struct call c;

	snprintf(fn, sizeof(fn), "%s-hello", rt->name);
	snprintf(want, sizeof(want), "hello from %s: %s\n", rt->name, QUERY);
	call(&c, fn);
	print_call(what, &c);
	ck_assert_msg(c.r.status == 200, "%s: status %d, want 200 (%d tasks "
	    "of nobody now)\nbody:\n%.600s\nrecord: %s\nstderr: %s", what,
	    c.r.status, nobody_tasks(), c.r.body, c.rec, c.err);
	ck_assert_msg(hresp_header(&c.r, "Content-Type", ct, sizeof(ct)) &&
	    strncmp(ct, "text/plain", 10) == 0, "%s: Content-Type %s", what,
	    hresp_header(&c.r, "Content-Type", ct, sizeof(ct)) ? ct : "none");
	ck_assert_msg(strcmp(c.r.body, want) == 0, "%s: body \"%s\", want "
	    "\"%s\"", what, c.r.body, want);
	hresp_free(&c.r);
}

/* NAME-SUFFIX allocates 1 GiB: stopped with a 5xx other than a timeout;
 * fnlauncher's own answer is 502 crashed or bad_response. Nothing of it
 * is left, and the daemon is the same live process. */
static void assert_stopped(const struct runtime *rt, const char *suffix)
{
	static const char *const asan[] = { "ERROR: AddressSanitizer", NULL };
	static const char *const ubsan[] = { "runtime error:", NULL };
	char fn[64], what[96], ct[128], env[96], desc[2048];
	const char *const mine[] = { env, NULL };
	pid_t daemon = H->daemon_pid;
	struct call c;
	int n;

	snprintf(fn, sizeof(fn), "%s-%s", rt->name, suffix);
	snprintf(what, sizeof(what), "%s (1 GiB in 16 MiB steps)", fn);
	call(&c, fn);
	print_call(what, &c);
	ck_assert_msg(c.r.status != 200, "%s: answered 200, the memory "
	    "limit did not stop it:\n%.300s", what, c.r.body);
	ck_assert_msg(c.r.status >= 500 && c.r.status <= 599 &&
	    c.r.status != 504, "%s: status %d, want a 5xx that is not 504 "
	    "(a timeout)\nbody:\n%.600s\nrecord: %s", what, c.r.status,
	    c.r.body, c.rec);
	if (hresp_header(&c.r, "Content-Type", ct, sizeof(ct)) != NULL &&
	    strncmp(ct, "application/json", 16) == 0)
		ck_assert_msg(c.r.status == 502 &&
		    (strstr(c.r.body, "\"error\":\"crashed\"") != NULL ||
		    strstr(c.r.body, "\"error\":\"bad_response\"") != NULL),
		    "%s: want 502 crashed or bad_response, got %d %s", what,
		    c.r.status, c.r.body);
	hresp_free(&c.r);

	snprintf(env, sizeof(env), "FN_REQUEST_ID=%s", c.rid);
	n = harness_procs(mine, -1, 3000, desc, sizeof(desc));
	ck_assert_msg(n == 0, "%s: %d process(es) of the request still "
	    "running: %s", what, n, desc);
	n = harness_leftovers(H, 3000, desc, sizeof(desc));
	ck_assert_msg(n == 0, "%s: %d process(es) left behind: %s", what, n,
	    desc);
	ck_assert_msg(H->daemon_pid == daemon && kill(daemon, 0) == 0 &&
	    harness_zombie_status(daemon, 0) == -1, "%s: the daemon (pid "
	    "%ld) is gone", what, (long)daemon);
	ck_assert_msg(!harness_log_has(H, asan) && !harness_log_has(H, ubsan),
	    "%s: sanitizer report in the daemon log", what);
}

/* The JVM sizes its heap from the machine's RAM (no -Xms/-Xmx given):
 * initial RAM/64, committed at start and so counted by RLIMIT_DATA,
 * max RAM/4. Printed for the log, since whether the JVM starts under
 * limits.memory depends on it. */
static void java_ergonomics(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	double mib = pages > 0 && psz > 0 ? (double)pages * (double)psz /
	    (1024.0 * 1024.0) : 0;

	printf("RUNTIME java: RAM %.0f MiB: default initial heap (RAM/64, "
	    "committed at start) %.0f MiB, max heap (RAM/4) %.0f MiB\n", mib,
	    mib / 64, mib / 4);
}

/* The whole test of one runtime; see the top of the file. */
static void run_runtime(int which)
{
	const struct runtime *rt = &RUNTIMES[which];
	char exe[512], what[96];
	size_t f;

	const int _i = 0;       /* for harness_skip: not a loop test */

	if (rt->cmd != NULL && on_path(rt->cmd, exe, sizeof(exe)) != 0)
		harness_skip("%s is not installed (not on %s; Debian "
		    "package %s)", rt->cmd, FN_PATH, rt->pkg);
	if (rt->compiler != NULL && on_path(rt->compiler, exe,
	    sizeof(exe)) != 0)
		harness_skip("%s is not installed (not on %s; Debian "
		    "package %s)", rt->compiler, FN_PATH, rt->pkg);
	install(rt);
	if (which == RT_JAVA)
		java_ergonomics();
	snprintf(what, sizeof(what), "%s-hello", rt->name);
	assert_hello(rt, what);
	for (f = FN_ALLOC; f < NFN; f++)
		if (rt->src[f] != NULL)
			assert_stopped(rt, FN_SUFFIX[f]);
	snprintf(what, sizeof(what), "%s-hello again", rt->name);
	assert_hello(rt, what);
}

START_TEST(node) { run_runtime(RT_NODE); } END_TEST
START_TEST(python3) { run_runtime(RT_PYTHON); } END_TEST
START_TEST(perl) { run_runtime(RT_PERL); } END_TEST
START_TEST(php_cgi) { run_runtime(RT_PHP); } END_TEST
START_TEST(java) { run_runtime(RT_JAVA); } END_TEST
START_TEST(go) { run_runtime(RT_GO); } END_TEST

static Suite *suite_runtimes(void)
{
	Suite *s = suite_create("runtimes");
	TCase *tc = tcase_create("defaults");

	tcase_add_unchecked_fixture(tc, servers_up, servers_down);
	/* go build and javac run inside the tests. */
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, node);
	tcase_add_test(tc, python3);
	tcase_add_test(tc, perl);
	tcase_add_test(tc, php_cgi);
	tcase_add_test(tc, java);
	tcase_add_test(tc, go);
	suite_add_tcase(s, tc);
	return s;
}

/* Built executables and class files: 0755/0644 whatever umask make
 * runs with (the daemon refuses group- or other-writable ones). */
static int runtimes_setup(char *why, size_t len)
{
	(void)why;
	(void)len;
	umask(022);
	setvbuf(stdout, NULL, _IOLBF, 0);
	return 0;
}

HARNESS_BINARY(runtimes, HARNESS_NEEDS_NGINX | HARNESS_NEEDS_CURL,
    .setup = runtimes_setup, .suite = suite_runtimes);
