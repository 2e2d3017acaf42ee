/* security.c — the "security" Check suite: what a tenant's function, a
 * hostile request or a bad manifest can do to the daemon and to the host
 * (SPEC.md sections 3, 5, 6, 7), through real nginx and through a raw
 * FastCGI client (fcgiclient.c) for what nginx would never send. This
 * file holds the fixtures, the test users, shared helpers and the suite;
 * the tests are in security_*.c (see security.h).
 *
 * Tests that switch identities need root (they say SKIP otherwise): the
 * binary's setup creates the users fnlsec (primary group fnlsec,
 * supplementary group fnlsecx) and fnlsec2.
 * Each TCase starts nginx + the daemon once (unchecked fixture); after
 * every test nothing of an invocation may be left running. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* memmem, strcasestr */
#endif
#include "security.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fcgiclient.h"

struct harness *sec_h;
uid_t sec_tenant_uid, sec_other_uid;
gid_t sec_tenant_gid, sec_xgroup_gid, sec_other_gid;

/* ---- small helpers ------------------------------------------------------- */

/* 1 if a daemon message line ("fnlauncher: ...", not an invocation
 * record) names fn ("function=fn ") and contains one of any_of
 * (case-insensitive) and also `also` (NULL: not needed). */
int sec_log_says(const char *fn, const char *const *any_of,
    const char *also)
{
	char *log = harness_daemon_log(sec_h), *line, *save = NULL, key[128];
	int found = 0;
	size_t i;

	snprintf(key, sizeof(key), "function=%s ", fn);
	for (line = strtok_r(log, "\n", &save); line != NULL && !found;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "fnlauncher:", 11) != 0 ||
		    strstr(line, key) == NULL)
			continue;
		if (also != NULL && strcasestr(line, also) == NULL)
			continue;
		for (i = 0; any_of[i] != NULL && !found; i++)
			found = strcasestr(line, any_of[i]) != NULL;
	}
	free(log);
	return found;
}

/* The daemon that the fixture started still runs (same pid) and a
 * normal request through nginx answers 200. */
void sec_assert_daemon_serves(const char *after)
{
	struct hresp r;

	ck_assert_msg(harness_proc_running(sec_h->daemon_pid),
	    "after %s: daemon (pid %ld) is gone\n%s", after,
	    (long)sec_h->daemon_pid, harness_log_tail(sec_h));
	sec_req(&r, "/hello", NULL);
	ck_assert_msg(r.status == 200 && strcmp(r.body, "hello\n") == 0,
	    "after %s: GET /hello -> %d %s\n%s", after, r.status, r.body,
	    harness_log_tail(sec_h));
	hresp_free(&r);
}

/* Wait up to ms for the daemon's busy threads to come back to at most
 * base (a connection's thread is parked, named fnl-idle, once the
 * connection ends). */
long sec_threads_settle(long base, int ms)
{
	double end = harness_now() + ms / 1000.0;
	long n;

	for (;;) {
		n = harness_busy_threads(sec_h->daemon_pid);
		if (n <= base || harness_now() >= end)
			return n;
		harness_sleep_ms(50);
	}
}

/* fork/execve argv with env; stdout to out_fd (-1: /dev/null), stderr
 * to /dev/null; RLIMIT_AS as_limit when non-zero. Returns the pid. */
pid_t sec_run_child(const char *const *argv, const char *const *envp,
    int out_fd, rlim_t as_limit)
{
	pid_t pid = fork();
	int null;

	if (pid != 0)
		return pid;
	null = open("/dev/null", O_RDWR);
	dup2(null, 0);
	dup2(out_fd >= 0 ? out_fd : null, 1);
	dup2(null, 2);
	if (as_limit != 0) {
		struct rlimit rl = { as_limit, as_limit };
		setrlimit(RLIMIT_AS, &rl);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	execve(argv[0], (char *const *)argv, (char *const *)envp);
	_exit(127);
}

/* Wait up to ms for pid; 1 with *status, 0 on timeout (pid killed). */
int sec_wait_bounded(pid_t pid, int ms, int *status)
{
	if (harness_wait_ms(pid, ms, status) == 1)
		return 1;
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return 0;
}

/* A sanitizer build reserves terabytes of shadow memory: no RLIMIT_AS. */
static int sanitized(const char *bin)
{
	size_t len;
	char *data = harness_read_file(bin, &len);
	int yes = data != NULL && memmem(data, len, "__asan_init", 11) != NULL;

	free(data);
	return yes || getenv("ASAN_OPTIONS") != NULL;
}

int sec_check_manifest(const char *file, char **out, int *status)
{
	const char *bin = getenv("FNL_BIN");
	const char *envp[] = { SEC_PATH_ENV, NULL };
	const char *argv[] = { bin, "-t", "-c", file, NULL };
	struct fcgic_buf o = { 0 };
	double end = harness_now() + 5;
	char buf[4096];
	ssize_t n;
	int pfd[2], left;
	pid_t pid;

	*out = NULL;
	if (bin == NULL || pipe2(pfd, O_CLOEXEC) != 0)
		return 0;
	pid = sec_run_child(argv, envp, pfd[1], sanitized(bin) ? 0 :
	    (rlim_t)512 << 20);
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	/* Until EOF (the child is gone) or the deadline (a hang). */
	while (pid > 0 && harness_now() < end) {
		n = read(pfd[0], buf, sizeof(buf));
		if (n == 0)
			break;
		if (n > 0 && o.len < (1u << 20))
			fcgic_buf_put(&o, buf, (size_t)n);
		else if (n < 0)
			harness_sleep_ms(10);
	}
	close(pfd[0]);
	fcgic_buf_put(&o, "", 0);
	*out = (char *)o.p;
	left = (int)((end - harness_now()) * 1000);
	return pid > 0 && sec_wait_bounded(pid, left > 100 ? left : 100,
	    status);
}

/* ---- test users (root) -------------------------------------------------- */

/* fnlsec (primary group fnlsec, also in fnlsecx) and fnlsec2. */
static int setup_users(void)
{
	return harness_ensure_group(SEC_TENANT_XGROUP, &sec_xgroup_gid) == 0 &&
	    harness_ensure_user(SEC_TENANT, &sec_tenant_uid,
	    &sec_tenant_gid) == 0 &&
	    harness_ensure_member(SEC_TENANT, SEC_TENANT_XGROUP) == 0 &&
	    harness_ensure_user(SEC_OTHER_USER, &sec_other_uid,
	    &sec_other_gid) == 0 ? 0 : -1;
}

/* ---- functions, manifests, nginx locations ----------------------------- */

#define CT_TEXT "printf 'Content-Type: text/plain\\n\\n'\n"
/* A refused executable must never run: each leaves spool/ran.$FN_NAME. */
#define RAN "#!/bin/sh\n: > @DIR@/spool/ran.$FN_NAME\n" CT_TEXT "echo ran\n"

enum owner { OWN_ROOT, OWN_TENANT, OWN_OTHER };

struct script {
	const char *rel;
	const char *text;        /* NULL: a directory */
	mode_t mode;
	enum owner owner;
	int root_only;
};

static const struct script SCRIPTS[] = {
	{ "bin/hello", "#!/bin/sh\n" CT_TEXT "echo hello\n", 0755, 0, 0 },
	/* X-Accel-* in any spelling nginx accepts (names are
	 * case-insensitive); $1 picks the spelling. */
	{ "bin/accel", "#!/bin/sh\nprintf 'Content-Type: text/plain\\n"
	    "%s: /sec-internal\\n\\nfunction body\\n' \"$1\"\n", 0755, 0,
	    0 },
	{ "bin/shock", "#!/bin/bash\n" CT_TEXT "id -u >/dev/null\n"
	    "printf 'shock=%s\\n' \"$HTTP_X_SHOCK\"\n", 0755, 0, 0 },
	{ "bin/dup", "#!/bin/sh\n" CT_TEXT
	    "printf '%s|%s\\n' \"$HTTP_X_DUP\" \"$REQUEST_METHOD\"\n", 0755, 0,
	    0 },
	{ "bin/countx", "#!/bin/sh\n" CT_TEXT "env | grep -c '^HTTP_X_P'\n",
	    0755, 0, 0 },
	/* Says where it is (pid in spool/slurp.TAG), then reads its stdin. */
	{ "bin/slurp", "#!/bin/sh\nf=@DIR@/spool/slurp.$HTTP_X_TAG\n"
	    "echo $$ > \"$f.tmp\" && mv \"$f.tmp\" \"$f\"\ncat >/dev/null\n"
	    CT_TEXT "echo done\n", 0755, 0, 0 },
	/* identity (root) */
	{ "bin/setuid0", "#!/usr/bin/python3\nimport os\nout = []\n"
	    "for name, f in ((\"setuid\", lambda: os.setuid(0)),\n"
	    "        (\"seteuid\", lambda: os.seteuid(0)),\n"
	    "        (\"setresuid\", lambda: os.setresuid(0, 0, 0)),\n"
	    "        (\"setgid\", lambda: os.setgid(0)),\n"
	    "        (\"setgroups\", lambda: os.setgroups([0]))):\n"
	    "    try:\n        f()\n        out.append(name + \"=ok\")\n"
	    "    except OSError as e:\n"
	    "        out.append(name + \"=\" + str(e.errno))\n"
	    "print(\"Content-Type: text/plain\\n\")\n"
	    "print(\" \".join(out))\n"
	    "print(\"resuid=%d,%d,%d\" % os.getresuid())\n", 0755, 0, 1 },
	{ "suid", NULL, 0755, 0, 1 },
	{ "bin/suidrun", "#!/bin/sh\n" CT_TEXT "@DIR@/suid/id -u\n", 0755, 0,
	    1 },
	/* exec checks (root) */
	{ "bin/ck_ok", RAN, 0755, OWN_ROOT, 1 },
	{ "bin/ck_self", RAN, 0755, OWN_TENANT, 1 },
	{ "bin/ck_gw", RAN, 0775, OWN_ROOT, 1 },
	{ "bin/ck_ww", RAN, 0757, OWN_ROOT, 1 },
	{ "bin/ck_suid", RAN, 04755, OWN_ROOT, 1 },
	{ "bin/ck_sgid", RAN, 02755, OWN_ROOT, 1 },
	{ "bin/ck_uid2", RAN, 0755, OWN_OTHER, 1 },
	{ "bin/ck_nreg", NULL, 0755, OWN_ROOT, 1 },
	{ "dirg", NULL, 0775, OWN_ROOT, 1 },
	{ "dirg/ck_dg", RAN, 0755, OWN_ROOT, 1 },
	{ "diro", NULL, 0757, OWN_ROOT, 1 },
	{ "diro/ck_do", RAN, 0755, OWN_ROOT, 1 },
	{ "drop/ckdrop", RAN, 0755, OWN_ROOT, 1 },
	{ "wdir", NULL, 0777, OWN_ROOT, 1 },
	/* isolate (root): a setsid grandchild that says it has started */
	{ "bin/gc", "#!/bin/sh\nm=@DIR@/spool/gc.$FN_REQUEST_ID\n"
	    "setsid sh -c 'echo $$ > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"; "
	    "exec sleep 60' gc \"$m\" </dev/null >/dev/null 2>&1 &\n"
	    "n=0; while [ ! -s \"$m\" ] && [ $n -lt 100 ]; do sleep 0.05; "
	    "n=$((n+1)); done\n" CT_TEXT "echo started\n", 0755, 0, 1 },
	{ "bin/netfn", "#!/bin/sh\ncat /proc/net/dev\n"
	    "/usr/bin/python3 -c 'import socket\n"
	    "s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(1)\n"
	    "c = socket.create_connection(s.getsockname(), timeout=2)\n"
	    "print(\"loopback-ok\")' 2>&1\n", 0755, 0, 1 },
};

/* "fds": lstat()s /proc/$$/fd/N without opening anything (see
 * integration.c). */
#define FDS_SCRIPT "'n=0; while [ $n -lt 1024 ]; do if [ -L /proc/$$/fd/$n ];" \
    " then printf \"%s \" $n; fi; n=$((n+1)); done'"

/* "defaults" ends with ROOT_DEFAULTS when root: functions run as
 * fnlsec2, not as nobody, whose RLIMIT_NPROC other suites running at the
 * same time may use up (execve then fails with EAGAIN). */
static const char COMMON_HEAD[] =
    "# generated by t/security.c\n"
    "functions_dir: @DIR@/drop\n"
    "defaults:\n"
    "  timeout: 20s\n";

static const char ROOT_DEFAULTS[] =
    "  user: " SEC_OTHER_USER "\n"
    "  group: " SEC_OTHER_USER "\n";

static const char COMMON_MANIFEST[] =
    "functions:\n"
    "  hello: { path: @DIR@/bin/hello }\n"
    "  acc_lower: { path: @DIR@/bin/accel, args: [x-accel-redirect] }\n"
    "  acc_upper: { path: @DIR@/bin/accel, args: [X-ACCEL-REDIRECT] }\n"
    "  acc_mixed: { path: @DIR@/bin/accel, args: [x-AcCeL-rEdIrEcT] }\n"
    "  acc_trusted: { path: @DIR@/bin/accel, args: [x-accel-redirect],"
    " trust_accel_headers: true }\n"
    "  envall: { path: /usr/bin/env, mode: raw }\n"
    "  envpass: { path: /usr/bin/env, mode: raw,"
    " pass_params: [SECRET_PARAM] }\n"
    "  shock: { path: @DIR@/bin/shock }\n"
    "  dup: { path: @DIR@/bin/dup, methods: [GET] }\n"
    "  countx: { path: @DIR@/bin/countx }\n"
    "  slurp: { path: @DIR@/bin/slurp, max_body: 64M }\n"
    "  cat: { path: /usr/bin/cat, mode: raw, max_body: 64M }\n";

static const char ROOT_FUNCTIONS[] =
    "  idstatus: { path: /usr/bin/cat, args: [/proc/self/status],"
    " mode: raw, user: " SEC_TENANT ", group: " SEC_TENANT " }\n"
    "  idfds: { path: @SH@, args: [-c, " FDS_SCRIPT "], mode: raw,"
    " user: " SEC_TENANT " }\n"
    "  idsetuid: { path: @DIR@/bin/setuid0, user: " SEC_TENANT " }\n"
    "  idsuid: { path: @DIR@/bin/suidrun, user: " SEC_TENANT " }\n"
    "  ck_ok: { path: @DIR@/bin/ck_ok, user: " SEC_TENANT " }\n"
    "  ck_self: { path: @DIR@/bin/ck_self, user: " SEC_TENANT " }\n"
    "  ck_gw: { path: @DIR@/bin/ck_gw, user: " SEC_TENANT " }\n"
    "  ck_ww: { path: @DIR@/bin/ck_ww, user: " SEC_TENANT " }\n"
    "  ck_suid: { path: @DIR@/bin/ck_suid, user: " SEC_TENANT " }\n"
    "  ck_sgid: { path: @DIR@/bin/ck_sgid, user: " SEC_TENANT " }\n"
    "  ck_uid2: { path: @DIR@/bin/ck_uid2, user: " SEC_TENANT " }\n"
    "  ck_nreg: { path: @DIR@/bin/ck_nreg, user: " SEC_TENANT " }\n"
    "  ck_dg: { path: @DIR@/dirg/ck_dg, user: " SEC_TENANT " }\n"
    "  ck_do: { path: @DIR@/diro/ck_do, user: " SEC_TENANT " }\n"
    "  ck_wlink: { path: @DIR@/wdir/fn, user: " SEC_TENANT " }\n"
    "  ck_wdlink: { path: @DIR@/wdir/dl/ck_ok, user: " SEC_TENANT " }\n"
    "  isopid: { path: @SH@, args: [-c, 'echo $$; for d in /proc/[0-9]*;"
    " do echo \"${d#/proc/}\"; done'], mode: raw, isolate: [pid],"
    " user: " SEC_TENANT " }\n"
    "  isogc: { path: @DIR@/bin/gc, isolate: [pid], user: " SEC_TENANT " }\n"
    "  isonet: { path: @DIR@/bin/netfn, mode: raw, isolate: [net],"
    " user: " SEC_TENANT " }\n";

/* SECRET_PARAM: an nginx param no allowlist knows. /sec-internal: where
 * an X-Accel-Redirect that got through would land. */
static const char LOCATIONS[] =
    "    location ~ ^/(envall|envpass)$ {\n"
    "      include /etc/nginx/fastcgi_params;\n"
    "      fastcgi_param SECRET_PARAM x;\n"
    "      fastcgi_pass unix:@SOCK@;\n"
    "    }\n"
    "    location = /sec-internal {\n"
    "      internal;\n"
    "      return 418 \"redirected\\n\";\n"
    "    }\n";

/* Seen by the daemon, never by a function. */
static const char *const DAEMON_ENV[] = { "FNL_SECRET=leak",
    "LD_PRELOAD=/nonexistent.so", NULL };

/* Copy src to dst (mode applied after). */
static int copy_file(const char *src, const char *dst, mode_t mode)
{
	size_t len;
	char *data = harness_read_file(src, &len);
	int rc;

	if (data == NULL)
		return -1;
	rc = harness_write_file(dst, data, len, 0700);
	free(data);
	return rc == 0 && chmod(dst, mode) == 0 ? 0 : -1;
}

static int write_script(const struct script *s)
{
	char path[512];
	uid_t uid = s->owner == OWN_TENANT ? sec_tenant_uid :
	    s->owner == OWN_OTHER ? sec_other_uid : 0;
	gid_t gid = s->owner == OWN_TENANT ? sec_tenant_gid :
	    s->owner == OWN_OTHER ? sec_other_gid : 0;

	if (harness_path(sec_h, s->rel, path, sizeof(path)) != 0)
		return -1;
	if (s->text == NULL) {
		if (mkdir(path, 0700) != 0)
			return -1;
	} else if (harness_write(sec_h, s->rel, s->text, 0700) != 0) {
		return -1;
	}
	/* chown first: it clears setuid/setgid bits. */
	if (geteuid() == 0 && chown(path, uid, gid) != 0)
		return -1;
	return chmod(path, s->mode);
}

/* Write the scripts (root-only ones when root), the manifest, the
 * symlinks (a drop-in and wdir/fn to bin/ck_ok, wdir/dl to bin), the
 * setuid-root copy of id(1); start both servers. */
static void servers_up(int root)
{
	char *manifest = NULL, path[512], target[512];
	size_t i, n;

	sec_h = harness_new();
	ck_assert_msg(sec_h != NULL, "cannot make the temp dir");
	for (i = 0; i < sizeof(SCRIPTS) / sizeof(SCRIPTS[0]); i++)
		if ((root || !SCRIPTS[i].root_only) &&
		    write_script(&SCRIPTS[i]) != 0)
			goto fail;
	n = sizeof(COMMON_HEAD) + sizeof(ROOT_DEFAULTS) +
	    sizeof(COMMON_MANIFEST) + sizeof(ROOT_FUNCTIONS);
	if ((manifest = malloc(n)) == NULL)
		goto fail;
	snprintf(manifest, n, "%s%s%s%s", COMMON_HEAD, root ? ROOT_DEFAULTS :
	    "", COMMON_MANIFEST, root ? ROOT_FUNCTIONS : "");
	if (root && (harness_path(sec_h, "suid/id", path, sizeof(path)) != 0 ||
	    copy_file("/usr/bin/id", path, 04755) != 0 ||
	    harness_path(sec_h, "drop/cklink", path, sizeof(path)) != 0 ||
	    harness_path(sec_h, "bin/ck_ok", target, sizeof(target)) != 0 ||
	    symlink(target, path) != 0 ||
	    harness_path(sec_h, "wdir/fn", path, sizeof(path)) != 0 ||
	    symlink(target, path) != 0 ||
	    harness_path(sec_h, "wdir/dl", path, sizeof(path)) != 0 ||
	    harness_path(sec_h, "bin", target, sizeof(target)) != 0 ||
	    symlink(target, path) != 0))
		goto fail;
	if (harness_serve(sec_h, manifest, DAEMON_ENV, LOCATIONS) != 0)
		goto fail;
	free(manifest);
	return;
fail:
	free(manifest);
	harness_abort(&sec_h, "could not start nginx and the daemon");
}

static void common_up(void)
{
	servers_up(0);
}

/* Not root: no servers; every test of the TCase says SKIP. */
static void root_up(void)
{
	if (geteuid() == 0)
		servers_up(1);
}

static void servers_down(void)
{
	harness_free(sec_h);
	sec_h = NULL;
}

static void no_leftovers(void)
{
	harness_assert_clean(sec_h);
}

static void tmpdir_up(void)
{
	sec_h = harness_new();
	ck_assert_msg(sec_h != NULL, "cannot make the temp dir");
}

/* ---- suite --------------------------------------------------------------- */

static TCase *tcase(const char *name, void (*up)(void), int timeout)
{
	return harness_tcase(name, timeout, up, servers_down, NULL,
	    up != tmpdir_up ? no_leftovers : NULL);
}

static Suite *suite_security(void)
{
	Suite *s = suite_create("security");
	TCase *tc;

	tc = tcase("identity", root_up, 60);
	sec_add_identity(tc);
	sec_add_exec_checks(tc);
	sec_add_isolate(tc);
	suite_add_tcase(s, tc);
	tc = tcase("environment", common_up, 60);
	sec_add_env(tc);
	suite_add_tcase(s, tc);
	tc = tcase("raw_fastcgi", common_up, 60);
	sec_add_raw(tc);
	suite_add_tcase(s, tc);
	tc = tcase("manifest_check", tmpdir_up, 30);
	sec_add_manifest(tc);
	suite_add_tcase(s, tc);
	return s;
}

/* As root: the test users exist (created if need be). */
static int security_setup(char *why, size_t len)
{
	if (geteuid() != 0 || setup_users() == 0)
		return 0;
	snprintf(why, len, "cannot create the test users " SEC_TENANT ", "
	    SEC_OTHER_USER ", group " SEC_TENANT_XGROUP);
	return -1;
}

HARNESS_BINARY(security, HARNESS_NEEDS_NGINX | HARNESS_NEEDS_CURL,
    .setup = security_setup, .suite = suite_security);
