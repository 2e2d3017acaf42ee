/* systemd.c — the "systemd" Check suite: the README's section
 * "Deploying with systemd and nginx", step by step, on a Debian 12 booted
 * with systemd-nspawn (systemd_ct.c), then what the units promise:
 *
 *   readme_steps       the README's commands, as written there, exit 0
 *   socket_activation  enabling fnlauncher.socket starts nothing; the
 *                      first request through nginx starts the service
 *                      and gets 200; the README's health checks pass
 *   type_notify        the unit is Type=notify and gets active on READY=1
 *                      (a control unit whose daemon cannot notify times
 *                      out, so the check has teeth)
 *   reload             a changed manifest takes effect; a broken one is
 *                      refused by "systemctl reload" and, sent SIGHUP
 *                      directly, kept out with an error in the journal
 *   journal            daemon lines reach the journal at their priority
 *   stop_drains        a slow request in flight during "systemctl stop"
 *                      completes with 200, and a request arriving during
 *                      the drain waits in systemd's socket and is served
 *                      by the next instance
 *   restart_serves     the same across "systemctl restart"
 *   enable_service     enabling the service too makes multi-user.target
 *                      want it (start at boot)
 *
 * The tests run in order against one container and build on each other
 * (the first installs what the others use). They need root, systemd-nspawn
 * (Debian: systemd-container), debootstrap and the machine's Debian 12
 * mirror; where any of that is missing, or the container cannot boot,
 * the binary says "SKIP: systemd: <why>" and exits 77. The Debian tree is
 * cached (systemd_ct.c): a second run costs the boot and the steps. Each
 * phase's duration is printed as "TIME: ..." into t/systemd.log. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "harness_check.h"
#include "systemd.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "harness_check.h"

#define SRC_IN "/usr/src/fnlauncher"
#define MANIFEST "/etc/fnlauncher/fnlauncher.yaml"
/* The shipped site's server_name, as the README's curl lines send it. */
#define CURL "curl -sS -H 'Host: example.org'"

static char src_tar[PATH_MAX];
static const char *src_opts = "";

static double t_start;
static int booted;

/* ---- helpers -------------------------------------------------------------- */

/* After the body, "code=N rid=ID" (curl -w): the status and the
 * X-Request-Id, which fnlauncher sets on every answer it gives. */
#define CURL_TAIL " -w '\\ncode=%{http_code} rid=%header{x-request-id}\\n' "

/* Parse curl's output of CURL_TAIL: the status (0: none), the request id
 * into rid (64 bytes; "" when the answer is not fnlauncher's), and the
 * body, cut before the tail, left in out. */
static int parse_tail(char *out, char *rid)
{
	char *t = strstr(out, "\ncode=");
	int status = 0;

	rid[0] = '\0';
	if (t == NULL || sscanf(t + 1, "code=%d rid=%63s", &status, rid) < 1)
		return 0;
	while (t > out && t[-1] == '\n')
		t--;
	*t = '\0';
	return status;
}

/* One answer through the container's nginx. */
struct reply {
	int status;
	char rid[64];
	char body[1024];
};

static void get(const char *path, struct reply *r)
{
	int rc = ct_shf(r->body, sizeof(r->body), "%s'http://127.0.0.1%s'",
	    CURL CURL_TAIL, path);

	ck_assert_msg(rc == 0, "curl %s failed (%d): %s", path, rc, r->body);
	r->status = parse_tail(r->body, r->rid);
}

/* Run a command; it must exit 0. Its output into buf (may be NULL). */
static void must(char *buf, size_t len, const char *cmd)
{
	char local[2048];
	char *b = buf != NULL ? buf : local;
	size_t l = buf != NULL ? len : sizeof(local);
	int rc = ct_shf(b, l, "%s", cmd);

	ck_assert_msg(rc == 0, "%s: exit %d:\n%s", cmd, rc, b);
}

/* The service's MainPID (0 when it is not running). */
static long main_pid(void)
{
	char out[64];

	ct_shf(out, sizeof(out),
	    "systemctl show -p MainPID --value fnlauncher.service");
	return strtol(out, NULL, 10);
}

/* Poll cmd, which prints a count, until it is above 0 (up to ms): the
 * last count. */
static long wait_count(const char *cmd, int ms)
{
	double end = ct_now() + ms / 1000.0;
	char out[64];
	long n;

	for (;;) {
		ct_shf(out, sizeof(out), "%s", cmd);
		n = strtol(out, NULL, 10);
		if (n > 0 || ct_now() >= end)
			return n;
		harness_sleep_ms(100);
	}
}

/* Journal lines (journalctl -o cat, entries matching match) that
 * contain needle (no single quotes), polled up to ms: journald stores
 * the lines of a stream a moment after they are written. */
static long journal_lines(const char *match, const char *needle, int ms)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "journalctl -q %s -o cat | "
	    "grep -cF -- '%s' || :", match, needle);
	return wait_count(cmd, ms);
}

/* ... of the service at exactly priority prio (e.g. "err"). */
static long journal_count(const char *prio, const char *needle, int ms)
{
	char match[128];

	snprintf(match, sizeof(match), "-u fnlauncher.service -p %s..%s",
	    prio, prio);
	return journal_lines(match, needle, ms);
}

/* ... of process pid. */
static long pid_lines(long pid, const char *needle, int ms)
{
	char match[64];

	snprintf(match, sizeof(match), "_PID=%ld", pid);
	return journal_lines(match, needle, ms);
}

/* ---- the README's steps --------------------------------------------------- */

/* "Deploying with systemd and nginx", as the README writes each command
 * (the test fails when the README no longer has one): run as root from
 * the source folder, a git checkout without ./configure. */
static const char *const STEPS[] = {
	"autoreconf -fi",
	"./configure --prefix=/usr --sysconfdir=/etc "
	    "--with-systemdsystemunitdir=yes",
	"make && make install",
	"systemctl daemon-reload",
	"fnlauncher -t -c /etc/fnlauncher/fnlauncher.yaml",
	"systemctl enable --now fnlauncher.socket",
	"cp /usr/share/fnlauncher/nginx.conf "
	    "/etc/nginx/sites-available/fnlauncher",
	"ln -s ../sites-available/fnlauncher /etc/nginx/sites-enabled/",
	"nginx -t && systemctl reload nginx",
};

START_TEST(readme_steps)
{
	char path[PATH_MAX], script[512], *readme, *out = NULL;
	const char *src = getenv("FNL_SRCDIR");
	double t0 = ct_now(), t;
	size_t i;
	int rc;

	snprintf(path, sizeof(path), "%s/README", src ? src : ".");
	readme = harness_read_file(path, NULL);
	ck_assert_msg(readme != NULL, "cannot read %s", path);
	for (i = 0; i < sizeof(STEPS) / sizeof(STEPS[0]); i++)
		ck_assert_msg(strstr(readme, STEPS[i]) != NULL, "the README "
		    "no longer says \"%s\": bring STEPS in t/systemd.c in line "
		    "with it", STEPS[i]);
	free(readme);

	snprintf(script, sizeof(script), "mkdir -p %s && tar -C %s %s -xf -",
	    SRC_IN, SRC_IN, src_opts);
	rc = ct_sh(script, src_tar, &out, 120000);
	ck_assert_msg(rc == 0, "unpacking the source: exit %d\n%s", rc, out);
	free(out);
	ct_time("copy the source into the container", t0);

	for (i = 0; i < sizeof(STEPS) / sizeof(STEPS[0]); i++) {
		t = ct_now();
		snprintf(script, sizeof(script), "cd %s && %s", SRC_IN,
		    STEPS[i]);
		rc = ct_sh(script, NULL, &out, 600000);
		ck_assert_msg(rc == 0, "README step \"%s\": exit %d; last "
		    "output:\n%s", STEPS[i], rc, strlen(out) > 3000 ?
		    out + strlen(out) - 3000 : out);
		free(out);
		snprintf(script, sizeof(script), "step: %s", STEPS[i]);
		ct_time(script, t);
	}
	ct_time("the README's steps, in all", t0);
}
END_TEST

/* ---- socket activation ---------------------------------------------------- */

START_TEST(socket_activation)
{
	char out[4096];
	struct reply r;
	double end, t0;
	int nginx_only = 0;

	/* Enabling the socket alone starts nothing but the socket. */
	ct_shf(out, sizeof(out), "systemctl is-enabled fnlauncher.socket "
	    "fnlauncher.service; systemctl is-active fnlauncher.socket "
	    "fnlauncher.service");
	ck_assert_msg(strcmp(out, "enabled\ndisabled\nactive\ninactive") == 0,
	    "after \"systemctl enable --now fnlauncher.socket\", "
	    "is-enabled/is-active socket, service:\n%s", out);
	ct_shf(out, sizeof(out), "ls -l /run/fnlauncher/fnlauncher.sock");
	ck_assert_msg(strncmp(out, "srw-rw---- 1 root www-data", 26) == 0,
	    "socket: %s", out);

	/* "systemctl reload nginx" returns before nginx's new workers run:
	 * until they do, the default site answers (404, no X-Request-Id)
	 * and nothing reaches fnlauncher. The first answer from fnlauncher
	 * is the request that started it. */
	t0 = ct_now();
	end = t0 + 20;
	for (;;) {
		get("/fn/hello?name=you", &r);
		if (r.rid[0] != '\0' || ct_now() > end)
			break;
		nginx_only++;
		harness_sleep_ms(100);
	}
	ck_assert_msg(r.rid[0] != '\0', "no answer from fnlauncher through "
	    "nginx in 20 s (last: %d %s)", r.status, r.body);
	ck_assert_msg(r.status == 200 && strcmp(r.body, "Hello, you!") == 0,
	    "first request: %d %s", r.status, r.body);
	printf("first request through nginx: 200 after %d answer(s) of the "
	    "default site while nginx reloaded\n", nginx_only);
	ct_time("first request (starts the service)", t0);

	ck_assert_msg(main_pid() > 0, "no MainPID after the first request");
	ck_assert_msg(journal_count("info", "info: listening on systemd "
	    "socket (fd 3)", 5000) == 1, "the daemon did not take the "
	    "socket from systemd");

	/* The README's health check. */
	must(out, sizeof(out), "curl -fsS -H 'Host: example.org' "
	    "http://127.0.0.1/fn/_/health");
	ck_assert_str_eq(out, "ok");
	must(out, sizeof(out), "curl -fsS -H 'Host: example.org' "
	    "http://127.0.0.1/fn/_/metrics | grep -c '^fnlauncher_build_info'");
	ck_assert_str_eq(out, "1");
	/* (the invocation record goes to stderr) */
	must(out, sizeof(out), "fnlauncher invoke 'hello?name=you' "
	    "2>/dev/null");
	ck_assert_str_eq(out, "Hello, you!");
}
END_TEST

/* ---- Type=notify ---------------------------------------------------------- */

/* The shipped daemon, as a Type=notify unit that cannot reach
 * NOTIFY_SOCKET: systemd must not call it started. */
static const char NO_READY_UNIT[] =
    "cat > /run/systemd/system/fnl-no-ready.service <<'EOF'\n"
    "[Service]\n"
    "Type=notify\n"
    "TimeoutStartSec=3s\n"
    "ExecStart=/usr/bin/env -u NOTIFY_SOCKET /usr/sbin/fnlauncher "
    "-c " MANIFEST " -s unix:/run/fnl-no-ready.sock\n"
    "EOF\n"
    "systemctl daemon-reload";

START_TEST(type_notify)
{
	char out[1024];
	double t0;
	int rc;

	must(out, sizeof(out),
	    "systemctl show -p Type --value fnlauncher.service");
	ck_assert_str_eq(out, "notify");

	/* Type=notify: "systemctl start" returns once the daemon says
	 * READY=1; without it, the job would wait for TimeoutStartSec
	 * (90 s) and fail. */
	must(NULL, 0, "systemctl stop fnlauncher.service");
	t0 = ct_now();
	must(out, sizeof(out), "systemctl start fnlauncher.service && "
	    "systemctl show -p ActiveState -p SubState --value "
	    "fnlauncher.service");
	ck_assert_msg(strcmp(out, "active\nrunning") == 0, "after start: %s",
	    out);
	ck_assert_msg(ct_now() - t0 < 10, "start took %.1f s",
	    ct_now() - t0);
	ct_time("systemctl start (until READY=1)", t0);

	/* Control: the same daemon, listening, but its READY=1 cannot
	 * reach systemd: the start times out. */
	must(out, sizeof(out), NO_READY_UNIT);
	rc = ct_shf(out, sizeof(out), "systemctl start fnl-no-ready.service");
	ck_assert_msg(rc != 0, "a unit that never sends READY=1 started: %s",
	    out);
	ct_shf(out, sizeof(out), "systemctl show -p Result --value "
	    "fnl-no-ready.service; journalctl -q -u fnl-no-ready.service -o "
	    "cat | grep -c 'listening on'");
	ck_assert_msg(strcmp(out, "timeout\n1") == 0, "control unit: result "
	    "and \"listening on\" lines: %s", out);
	must(NULL, 0, "systemctl reset-failed fnl-no-ready.service; "
	    "rm -f /run/systemd/system/fnl-no-ready.service "
	    "/run/fnl-no-ready.sock; systemctl daemon-reload");
}
END_TEST

/* ---- reload --------------------------------------------------------------- */

#define ADD_FN "printf '  added:\\n    path: hello.sh\\n' >> " MANIFEST

START_TEST(reload)
{
	char out[2048];
	struct reply r;
	long pid;
	double t0, end;
	int at_once;

	must(NULL, 0, "cp " MANIFEST " /root/fnlauncher.yaml.orig");
	pid = main_pid();
	ck_assert_msg(pid > 0, "the service is not running");
	get("/fn/added", &r);
	ck_assert_msg(r.status == 404 && r.rid[0] != '\0', "before: %d %s",
	    r.status, r.body);

	/* A new function, then "systemctl reload". */
	must(NULL, 0, ADD_FN);
	t0 = ct_now();
	must(out, sizeof(out), "systemctl reload fnlauncher");
	get("/fn/added", &r);
	at_once = r.status == 200;
	/* ExecReload's kill returns once the signal is sent; systemd 252
	 * ends the reload job then. The daemon's swap follows at once. */
	for (end = ct_now() + 5; r.status != 200 && ct_now() < end; ) {
		harness_sleep_ms(50);
		get("/fn/added", &r);
	}
	ck_assert_msg(r.status == 200, "after reload: %d %s", r.status,
	    r.body);
	printf("reload: the new manifest served %s\n", at_once ?
	    "as soon as systemctl returned" : "only a moment after "
	    "systemctl returned");
	ct_time("systemctl reload until the new function answers", t0);
	ck_assert_int_eq(main_pid(), pid);

	/* A broken manifest: "systemctl reload" runs fnlauncher -t first and
	 * fails; the daemon keeps running the old one. */
	must(NULL, 0, "printf 'bogus_key: 1\\n' >> " MANIFEST);
	ck_assert_msg(ct_shf(out, sizeof(out), "systemctl reload fnlauncher")
	    != 0, "reload of a broken manifest succeeded: %s", out);
	ck_assert_int_eq(main_pid(), pid);
	get("/fn/added", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(journal_count("err", "unknown key \"bogus_key\"",
	    5000) >= 1, "fnlauncher -t's complaint is not in the journal at "
	    "priority err");

	/* The same manifest by SIGHUP alone: the daemon keeps the old one
	 * and logs why, as errors. */
	must(NULL, 0, "systemctl kill -s HUP --kill-whom=main "
	    "fnlauncher.service");
	ck_assert_msg(journal_count("err", "error: reload failed: keeping "
	    "the running manifest", 5000) == 1, "no error in the journal "
	    "after SIGHUP with a broken manifest");
	ck_assert_int_eq(main_pid(), pid);
	get("/fn/added", &r);
	ck_assert_int_eq(r.status, 200);

	/* A valid manifest whose "listen" changed: reloaded, with a warning
	 * (the socket stays until a restart). */
	must(NULL, 0, "sed 's|^listen: .*|listen: unix:/run/fnlauncher/x.sock|'"
	    " /root/fnlauncher.yaml.orig > " MANIFEST " && " ADD_FN);
	must(out, sizeof(out), "systemctl reload fnlauncher");
	ck_assert_msg(journal_count("warning", "changed; it takes effect at "
	    "the next restart", 5000) == 1,
	    "no warning in the journal for a changed listen");

	must(NULL, 0, "cp /root/fnlauncher.yaml.orig " MANIFEST
	    " && systemctl reload fnlauncher");
}
END_TEST

/* ---- the journal ---------------------------------------------------------- */

START_TEST(journal)
{
	char out[4096];

	/* Under systemd, stderr is a journal stream (JOURNAL_STREAM): each
	 * line's "<N>" prefix sets its priority and is not shown. */
	ck_assert_msg(journal_count("info", "fnlauncher: info: listening on",
	    0) >= 1, "no info line at priority info");
	ct_shf(out, sizeof(out), "journalctl -q -u fnlauncher.service "
	    "-p warning -o cat | grep -F 'fnlauncher: info:' || :");
	ck_assert_msg(out[0] == '\0', "info lines at priority warning or "
	    "above:\n%s", out);
	ct_shf(out, sizeof(out), "journalctl -q -u fnlauncher.service "
	    "-o cat | grep '^<[0-9]>' || :");
	ck_assert_msg(out[0] == '\0', "priority prefixes left in the "
	    "messages:\n%s", out);
	/* The lines of the reload test, each at its own priority. */
	ck_assert_msg(journal_count("err", "fnlauncher: error: reload failed",
	    0) >= 1, "no error line at priority err");
	ck_assert_msg(journal_count("warning", "fnlauncher: warn: reload:",
	    0) >= 1, "no warning line at priority warning");
}
END_TEST

/* Delegate=yes: the daemon moved itself into the leaf "daemon" of its
 * unit's cgroup and makes a leaf per invocation beside it (no fallback
 * to process groups), and a function runs in such a leaf. */
START_TEST(cgroup_delegated)
{
	char out[4096];

	ct_shf(out, sizeof(out), "journalctl -q -u fnlauncher.service -o cat "
	    "| grep -F 'cgroup' | tail -n 5");
	/* (/sys/fs/cgroup/unified/... on a host with the hybrid layout) */
	ck_assert_msg(strstr(out, "fnlauncher: info: cgroup: a leaf per "
	    "invocation under /sys/fs/cgroup/") != NULL &&
	    strstr(out, "system.slice/fnlauncher.service (") != NULL,
	    "no cgroup leaves under the unit's cgroup; the daemon said:\n%s",
	    out);
	ck_assert_msg(strstr(out, "not delegated") == NULL,
	    "a cgroup said to be not delegated:\n%s", out);
	ct_shf(out, sizeof(out), "cat /proc/$(systemctl show -p MainPID "
	    "--value fnlauncher.service)/cgroup");
	ck_assert_msg(strstr(out, "fnlauncher.service/daemon") != NULL,
	    "the daemon is in %s", out);
	ct_shf(out, sizeof(out), "cat > /etc/fnlauncher/functions/cg <<'EOF'\n"
	    "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\n"
	    "cat /proc/self/cgroup\nEOF\n"
	    "chmod 755 /etc/fnlauncher/functions/cg\n"
	    CURL " http://127.0.0.1/fn/cg");
	ck_assert_msg(strstr(out, "fnlauncher.service/i-") != NULL,
	    "a function runs in %s", out);
}
END_TEST

/* ---- stop and restart ----------------------------------------------------- */

/* A drop-in function that answers after 3 s. */
static const char SLOW_FN[] =
    "cat > /etc/fnlauncher/functions/slow <<'EOF'\n"
    "#!/bin/sh\n"
    "sleep 3\n"
    "printf 'Content-Type: text/plain\\n\\n'\n"
    "echo slow done\n"
    "EOF\n"
    "chmod 755 /etc/fnlauncher/functions/slow";

/* verb ("stop" or "restart") while a slow request is in flight: that
 * request completes with 200 from the old daemon, and one sent during
 * the drain waits in the socket systemd holds and is answered 200 by
 * the next instance. */
static void drain_case(const char *verb)
{
	char slow_out[PATH_MAX], verb_out[PATH_MAX], cmd[512], out[4096];
	char rid_slow[64], rid_mid[64], cursor[256], *text;
	long old, new_pid;
	pid_t slow, stop;
	double t0, t_mid;
	int st, status;

	must(NULL, 0, SLOW_FN);
	if (main_pid() <= 0)
		must(NULL, 0, CURL " -f -o /dev/null "
		    "http://127.0.0.1/fn/_/health");
	old = main_pid();
	ck_assert_msg(old > 0, "the service is not running");
	must(cursor, sizeof(cursor), "journalctl -q -n 0 --show-cursor | "
	    "sed -n 's/^-- cursor: //p'");

	snprintf(slow_out, sizeof(slow_out), "%s/slow.out", ct.work);
	slow = ct_sh_bg(CURL CURL_TAIL "http://127.0.0.1/fn/slow", slow_out);
	ck_assert_msg(slow > 0, "cannot start curl");
	/* In flight: the old daemon has started the function. (-x -f: the
	 * whole command line, so this shell's own does not match.) */
	snprintf(cmd, sizeof(cmd), "pgrep -c -P %ld -x -f "
	    "'/bin/sh /etc/fnlauncher/functions/slow' || :", old);
	ck_assert_msg(wait_count(cmd, 10000) == 1, "the slow function did "
	    "not start");

	t0 = ct_now();
	snprintf(verb_out, sizeof(verb_out), "%s/%s.out", ct.work, verb);
	snprintf(cmd, sizeof(cmd), "systemctl %s fnlauncher.service", verb);
	stop = ct_sh_bg(cmd, verb_out);
	ck_assert_msg(stop > 0, "cannot start systemctl %s", verb);
	/* The old daemon drains: it has closed its copy of the socket. */
	ck_assert_msg(pid_lines(old, "info: draining: 1 in flight", 10000)
	    == 1, "the daemon did not start draining");

	/* A request now waits in the socket unit's backlog. */
	t_mid = ct_now();
	ct_shf(out, sizeof(out), "%s", CURL CURL_TAIL
	    "'http://127.0.0.1/fn/hello?name=mid'");
	t_mid = ct_now() - t_mid;
	status = parse_tail(out, rid_mid);
	ck_assert_msg(status == 200 && strcmp(out, "Hello, mid!") == 0,
	    "request during the drain: %d %s", status, out);

	ck_assert_msg(harness_wait_ms(stop, 40000, &st) == 1 &&
	    WIFEXITED(st) && WEXITSTATUS(st) == 0, "systemctl %s failed",
	    verb);
	ck_assert_msg(harness_wait_ms(slow, 20000, &st) == 1, "slow request "
	    "did not end");
	text = harness_read_file(slow_out, NULL);
	ck_assert_msg(text != NULL, "no output of the slow request");
	status = parse_tail(text, rid_slow);
	ck_assert_msg(status == 200 && strcmp(text, "slow done") == 0,
	    "the request in flight: %d %s", status, text);
	free(text);
	printf("%s: the request in flight finished 200; one sent during the "
	    "drain waited %.1f s and got 200\n", verb, t_mid);
	snprintf(cmd, sizeof(cmd), "systemctl %s with a request in flight",
	    verb);
	ct_time(cmd, t0);

	/* Who answered what: the old daemon the slow one, the next
	 * instance the one sent during the drain. */
	new_pid = main_pid();
	ck_assert_msg(new_pid > 0 && new_pid != old, "MainPID %ld -> %ld",
	    old, new_pid);
	snprintf(cmd, sizeof(cmd), "\"request_id\":\"%s\"", rid_slow);
	ck_assert_msg(pid_lines(old, cmd, 5000) == 1, "the slow request "
	    "was not answered by the old daemon (%ld)", old);
	snprintf(cmd, sizeof(cmd), "\"request_id\":\"%s\"", rid_mid);
	ck_assert_msg(pid_lines(new_pid, cmd, 5000) == 1, "the request "
	    "during the drain was not answered by the next instance (%ld)",
	    new_pid);
	ck_assert_msg(pid_lines(old, "fnlauncher: info: stopped", 5000) == 1,
	    "the old daemon did not say \"stopped\"");
	/* It exited by itself, in time: systemd killed nothing. */
	ct_shf(out, sizeof(out), "journalctl -q -u fnlauncher.service "
	    "--after-cursor='%s' -o cat | grep -E 'Killing|timed out|"
	    "Failed with result' || :", cursor);
	ck_assert_msg(out[0] == '\0', "systemd had to step in:\n%s", out);
}

START_TEST(stop_drains)
{
	drain_case("stop");
}
END_TEST

START_TEST(restart_serves)
{
	drain_case("restart");
}
END_TEST

/* ---- start at boot -------------------------------------------------------- */

/* Enabling the service as well (the README's "start at boot"): it is
 * then wanted by multi-user.target, the socket stays enabled. */
START_TEST(enable_service)
{
	char out[1024];

	must(out, sizeof(out), "systemctl -q enable fnlauncher.service && "
	    "systemctl is-enabled fnlauncher.service fnlauncher.socket && "
	    "systemctl list-dependencies --plain multi-user.target | "
	    "grep -c ' fnlauncher.service$'");
	ck_assert_msg(strcmp(out, "enabled\nenabled\n1") == 0,
	    "after systemctl enable fnlauncher.service:\n%s", out);
}
END_TEST

/* ---- main ----------------------------------------------------------------- */

static Suite *suite_systemd(void)
{
	Suite *s = suite_create("systemd");
	TCase *tc = tcase_create("deploy");

	/* The build in the container takes a minute or two on a busy
	 * machine; the rest take seconds. */
	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, readme_steps);
	tcase_add_test(tc, socket_activation);
	tcase_add_test(tc, type_notify);
	tcase_add_test(tc, reload);
	tcase_add_test(tc, journal);
	tcase_add_test(tc, cgroup_delegated);
	tcase_add_test(tc, stop_drains);
	tcase_add_test(tc, restart_serves);
	tcase_add_test(tc, enable_service);
	suite_add_tcase(s, tc);
	return s;
}

/* Root, the tools, a work dir. 0, or HARNESS_SKIP_ALL with WHY. */
static int preflight(char *why, size_t len)
{
	static const struct { const char *path, *pkg; } tools[] = {
		{ "/usr/bin/systemd-nspawn", "systemd-container" },
		{ "/usr/sbin/debootstrap", "debootstrap" },
		{ "/usr/bin/nsenter", "util-linux" },
		{ "/usr/bin/curl", "curl" },
	};
	const char *tmp = getenv("TMPDIR");

	if (geteuid() != 0) {
		snprintf(why, len, "needs root (debootstrap, systemd-nspawn)");
		return HARNESS_SKIP_ALL;
	}
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (access(tools[i].path, X_OK) != 0) {
			snprintf(why, len, "needs %s (Debian package %s)",
			    tools[i].path, tools[i].pkg);
			return HARNESS_SKIP_ALL;
		}
	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 80)
		tmp = "/tmp";
	snprintf(ct.work, sizeof(ct.work), "%s/fnl-systemd-XXXXXX", tmp);
	if (mkdtemp(ct.work) == NULL) {
		ct.work[0] = '\0';
		snprintf(why, len, "cannot make a temp dir in %s: %s", tmp,
		    strerror(errno));
		return HARNESS_SKIP_ALL;
	}
	return 0;
}

/* Before the suite: root and the tools, the Debian tree, the boot. 0,
 * or HARNESS_SKIP_ALL (why says why), or -1. */
static int systemd_setup(char *why, size_t len)
{
	int cached = 0, rc;

	t_start = ct_now();
#if defined(__SANITIZE_ADDRESS__)
	/* The container builds fnlauncher from source with the README's
	 * plain flags: this instrumented binary would only repeat the
	 * normal build's run (the boot and the steps, about a minute). */
	snprintf(why, len, "ASan build: the container builds its own "
	    "fnlauncher from source, so this run would repeat the normal "
	    "build's");
	return HARNESS_SKIP_ALL;
#endif
	if ((rc = preflight(why, len)) != 0)
		return rc;
	if (ct_image(&cached) != 0) {
		ct_poweroff();
		snprintf(why, len, "no Debian 12 tree at %s: %s", ct.image,
		    ct_why);
		return HARNESS_SKIP_ALL;
	}
	printf("image: %s (%s)\n", ct.image, cached ? "cached" :
	    "made by this run");
	if (ct_source_tar(src_tar, sizeof(src_tar), &src_opts) != 0) {
		/* Not a limit of this machine: a failure. */
		snprintf(why, len, "%s", ct_why);
		ct_poweroff();
		return -1;
	}
	if (ct_boot() != 0) {
		ct_poweroff();
		snprintf(why, len, "the container cannot boot here: %s", ct_why);
		return HARNESS_SKIP_ALL;
	}
	booted = 1;
	return 0;
}

static void systemd_teardown(void)
{
	if (booted)
		ct_poweroff();
	ct_time("t/systemd in all", t_start);
}

HARNESS_BINARY(systemd, 0, .setup = systemd_setup, .suite = suite_systemd,
    .teardown = systemd_teardown);
