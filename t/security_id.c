/* security_id.c — the function's identity as root (SPEC.md section 5):
 * credentials, fds, no way back to root, the pre-exec checks (403
 * refused), and isolate: [pid, net]. Root only (SKIP otherwise, and
 * isolate also when namespaces cannot be made here); the fixture runs
 * the manifest of security.c with the tenant fnlsec. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "security.h"

#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- identity inside the function (root) -------------------------------- */

/* "Name:\tv1\tv2..." of /proc/PID/status text: up to max numbers. */
static int status_nums(const char *text, const char *name, long *v,
    int max)
{
	char key[32];
	const char *p;
	char *end;
	int n = 0;

	snprintf(key, sizeof(key), "\n%s:", name);
	if ((p = strstr(text, key)) == NULL)
		return -1;
	for (p += strlen(key); n < max; p = end) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n' || *p == '\0')
			break;
		v[n++] = strtol(p, &end, strcmp(name, "SigBlk") == 0 ||
		    strcmp(name, "SigIgn") == 0 || strncmp(name, "Cap", 3) ==
		    0 ? 16 : 10);
		if (end == p)
			return -1;
	}
	return n;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

START_TEST(tenant_credentials)
{
	static const char *const zero[] = { "NoNewPrivs" /* want 1 */,
	    "SigBlk", "SigIgn", "CapPrm", "CapEff", "CapAmb" };
	gid_t want_g[64];
	long v[64];
	int ng = 64, n, i;
	struct hresp r;

	harness_skip_if(harness_not_root());
	sec_req(&r, "/idstatus", NULL);
	SEC_ASSERT_STATUS(&r, 200, "idstatus");
	ck_assert_int_eq(status_nums(r.body, "Uid", v, 4), 4);
	for (i = 0; i < 4; i++)
		ck_assert_msg(v[i] == (long)sec_tenant_uid, "Uid: field %d is "
		    "%ld, want %ld\n%s", i, v[i], (long)sec_tenant_uid, r.body);
	ck_assert_int_eq(status_nums(r.body, "Gid", v, 4), 4);
	for (i = 0; i < 4; i++)
		ck_assert_msg(v[i] == (long)sec_tenant_gid, "Gid: field %d is "
		    "%ld, want %ld", i, v[i], (long)sec_tenant_gid);
	/* Exactly the tenant's groups: its primary and fnlsecx. */
	ck_assert_int_ge(getgrouplist(SEC_TENANT, sec_tenant_gid, want_g,
	    &ng), 0);
	n = status_nums(r.body, "Groups", v, 64);
	ck_assert_msg(n == ng, "Groups: %d entries, want %d\n%s", n, ng,
	    r.body);
	qsort(v, (size_t)n, sizeof(v[0]), cmp_long);
	{
		long w[64];

		for (i = 0; i < ng; i++)
			w[i] = want_g[i];
		qsort(w, (size_t)ng, sizeof(w[0]), cmp_long);
		for (i = 0; i < ng; i++)
			ck_assert_msg(v[i] == w[i], "Groups differ from "
			    "getgrouplist(%s)\n%s", SEC_TENANT, r.body);
		ck_assert_msg(bsearch(&(long){ (long)sec_xgroup_gid }, w,
		    (size_t)ng, sizeof(w[0]), cmp_long) != NULL,
		    "setup: %s is not in %s", SEC_TENANT, SEC_TENANT_XGROUP);
	}
	for (i = 0; i < (int)(sizeof(zero) / sizeof(zero[0])); i++) {
		ck_assert_msg(status_nums(r.body, zero[i], v, 1) == 1,
		    "no %s line\n%s", zero[i], r.body);
		ck_assert_msg(v[0] == (i == 0 ? 1 : 0), "%s: %lx, want %d",
		    zero[i], (unsigned long)v[0], i == 0);
	}
	hresp_free(&r);
}
END_TEST

START_TEST(tenant_only_fds_012)
{
	struct hresp r;

	harness_skip_if(harness_not_root());
	sec_req(&r, "/idfds", NULL);
	SEC_ASSERT_STATUS(&r, 200, "idfds");
	ck_assert_msg(strcmp(r.body, "0 1 2 ") == 0,
	    "open fds in the function: [%s], want [0 1 2 ]", r.body);
	hresp_free(&r);
}
END_TEST

START_TEST(tenant_cannot_regain_root)
{
	char want[128];
	struct hresp r;

	harness_skip_if(harness_not_root());
	sec_req(&r, "/idsetuid", NULL);
	SEC_ASSERT_STATUS(&r, 200, "idsetuid");
	snprintf(want, sizeof(want), "setuid=%d seteuid=%d setresuid=%d "
	    "setgid=%d setgroups=%d\nresuid=%ld,%ld,%ld\n", EPERM, EPERM,
	    EPERM, EPERM, EPERM, (long)sec_tenant_uid, (long)sec_tenant_uid,
	    (long)sec_tenant_uid);
	ck_assert_str_eq(r.body, want);
	hresp_free(&r);
}
END_TEST

/* A setuid-root copy of id(1) gains nothing under no_new_privs. The
 * control runs it as the tenant without no_new_privs: there it must say
 * 0, or this test could not tell. */
START_TEST(setuid_binary_gains_nothing)
{
	char path[512], want[32], buf[64];
	const char *envp[] = { SEC_PATH_ENV, NULL };
	int pfd[2], st;
	ssize_t n = 0;
	struct statvfs vfs;
	struct hresp r;
	pid_t pid;

	harness_skip_if(harness_not_root());
	/* On a nosuid mount the control below cannot become root, and
	 * "gains nothing" would hold whatever the daemon does. */
	ck_assert_int_eq(statvfs(sec_h->dir, &vfs), 0);
	if (vfs.f_flag & ST_NOSUID)
		harness_skip("%s is on a nosuid mount: set TMPDIR to a folder "
		    "on a mount that honours setuid", sec_h->dir);
	ck_assert_int_eq(harness_path(sec_h, "suid/id", path, sizeof(path)), 0);
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		const char *argv[] = { path, "-u", NULL };

		if (setgroups(1, &sec_tenant_gid) != 0 ||
		    setgid(sec_tenant_gid) != 0 || setuid(sec_tenant_uid) != 0)
			_exit(126);
		dup2(pfd[1], 1);
		execve(path, (char *const *)argv, (char *const *)envp);
		_exit(127);
	}
	close(pfd[1]);
	n = read(pfd[0], buf, sizeof(buf) - 1);
	close(pfd[0]);
	waitpid(pid, &st, 0);
	buf[n > 0 ? n : 0] = '\0';
	ck_assert_msg(strcmp(buf, "0\n") == 0, "control: setuid-root id as "
	    "%s printed [%s], want 0 (nosuid mount?)", SEC_TENANT, buf);

	sec_req(&r, "/idsuid", NULL);
	SEC_ASSERT_STATUS(&r, 200, "idsuid");
	snprintf(want, sizeof(want), "%ld\n", (long)sec_tenant_uid);
	ck_assert_msg(strcmp(r.body, want) == 0, "setuid-root id in the "
	    "function printed [%s], want %s", r.body, want);
	hresp_free(&r);
}
END_TEST

/* ---- exec checks (root) ------------------------------------------------- */

static const char *const K_GROUP[] = { "group-writable", "group writable",
    "writable by group", "writable by its group", NULL };
static const char *const K_WORLD[] = { "world-writable", "world writable",
    "writable by others", "other-writable", "others-writable", NULL };
static const char *const K_SETID[] = { "setuid", "setgid", "set-user-id",
    "set-group-id", NULL };
static const char *const K_OWNER[] = { "owned by", "owner", NULL };
static const char *const K_FOLDER[] = { "folder", "directory", NULL };
static const char *const K_REGULAR[] = { "regular", NULL };

static const struct exec_case {
	const char *fn;
	const char *why;
	int status;                  /* 200, 403 or 404 */
	const char *const *log_any;  /* 403: the check in the log */
	const char *log_also;
} CHECKS[] = {
	{ "ck_ok", "root:root 0755", 200, NULL, NULL },
	{ "ck_self", "owned by the function's user", 200, NULL, NULL },
	{ "ck_gw", "0775", 403, K_GROUP, NULL },
	{ "ck_ww", "0757", 403, K_WORLD, NULL },
	{ "ck_suid", "04755", 403, K_SETID, NULL },
	{ "ck_sgid", "02755", 403, K_SETID, NULL },
	{ "ck_uid2", "owned by " SEC_OTHER_USER, 403, K_OWNER, NULL },
	{ "ck_dg", "folder 0775", 403, K_FOLDER, "writable" },
	{ "ck_do", "folder 0757", 403, K_FOLDER, "writable" },
	{ "ck_nreg", "a directory", 403, K_REGULAR, NULL },
	{ "ckdrop", "regular drop-in", 200, NULL, NULL },
	{ "cklink", "symlink drop-in", 404, NULL, NULL },
	/* The path the manifest names is a symlink in a folder anyone may
	 * write: whoever writes there picks what runs as the tenant (swap
	 * the link between the check and execve). */
	{ "ck_wlink", "symlink in a folder 0777", 403, K_FOLDER, "writable" },
	/* The same one level up: wdir/dl -> bin, path wdir/dl/ck_ok. */
	{ "ck_wdlink", "folder symlink in a folder 0777", 403, K_FOLDER,
	    "writable" },
};

/* One row per test: status and error code, whether the executable ran
 * (each leaves spool/ran.$FN_NAME), and the log line naming the check. */
START_TEST(exec_checks)
{
	const struct exec_case *c = &CHECKS[_i];
	char path[128], marker[512], what[160];
	struct hresp r;

	harness_skip_if(harness_not_root());
	snprintf(path, sizeof(path), "/%s", c->fn);
	snprintf(what, sizeof(what), "GET %s (%s)", path, c->why);
	snprintf(marker, sizeof(marker), "%s/spool/ran.%s", sec_h->dir, c->fn);
	sec_req(&r, path, NULL);
	if (c->status == 200) {
		SEC_ASSERT_STATUS(&r, 200, what);
		ck_assert_str_eq(r.body, "ran\n");
	} else {
		sec_assert_error(&r, c->status, c->status == 403 ? "refused" :
		    "not_found", what);
	}
	hresp_free(&r);
	ck_assert_msg((access(marker, F_OK) == 0) == (c->status == 200),
	    "%s: the executable %s", what, c->status == 200 ? "did not run" :
	    "ran");
	if (c->log_any != NULL)
		ck_assert_msg(sec_log_says(c->fn, c->log_any, c->log_also),
		    "%s: no log line for function=%s naming the check (e.g. "
		    "\"%s\")\n%s", what, c->fn, c->log_any[0],
		    harness_log_tail(sec_h));
}
END_TEST


/* fnlauncher -t warns, per function, about what requests will get 403
 * for; no warning for the executables that pass. */
START_TEST(exec_checks_preflight)
{
	char file[512], key[96], *out = NULL, *line;
	size_t i;
	int st, found;

	harness_skip_if(harness_not_root());
	ck_assert_int_eq(harness_path(sec_h, "manifest.yaml", file,
	    sizeof(file)), 0);
	ck_assert_msg(sec_check_manifest(file, &out, &st) == 1, "-t hung");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "-t: wait status "
	    "0x%x (warnings only)\n%s", (unsigned)st, out);
	for (i = 0; i < sizeof(CHECKS) / sizeof(CHECKS[0]); i++) {
		if (CHECKS[i].status == 404 || strncmp(CHECKS[i].fn, "ck_", 3))
			continue;       /* drop-ins: not in the manifest */
		snprintf(key, sizeof(key), "function %s:", CHECKS[i].fn);
		found = 0;
		for (line = out; line != NULL && *line != '\0' && !found;
		    line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
			char one[1024];
			snprintf(one, sizeof(one), "%.*s",
			    (int)strcspn(line, "\n"), line);
			found = strncmp(one, file, strlen(file)) == 0 &&
			    strstr(one, ": warning: ") != NULL &&
			    strstr(one, key) != NULL;
		}
		ck_assert_msg(found == (CHECKS[i].status == 403), "-t: %s "
		    "warning for %s\n%s", found ? "a" : "no", CHECKS[i].fn,
		    out);
	}
	free(out);
}
END_TEST

/* ---- isolate ------------------------------------------------------------ */

/* The mount table of the test's own namespace (the daemon's too). */
static char *host_mounts(void)
{
	char *m = harness_read_file("/proc/self/mountinfo", NULL);

	ck_assert_ptr_nonnull(m);
	return m;
}

/* The function's /proc and /sys mounts stay in its own namespace. */
static void assert_mounts_unchanged(const char *before, const char *what)
{
	char *after = host_mounts();

	ck_assert_msg(strcmp(before, after) == 0, "%s: the host's mount table "
	    "changed:\nbefore:\n%s\nafter:\n%s", what, before, after);
	free(after);
}

START_TEST(isolate_pid_sees_itself_as_1)
{
	char *before;
	struct hresp r;

	harness_skip_if(harness_not_root());
	harness_skip_if(harness_no_unshare(CLONE_NEWPID | CLONE_NEWNS));
	before = host_mounts();
	sec_req(&r, "/isopid", NULL);
	SEC_ASSERT_STATUS(&r, 200, "isopid");
	/* echo $$, then every /proc/<pid> (a shell glob: no other process). */
	ck_assert_msg(strcmp(r.body, "1\n1\n") == 0, "isolate [pid]: want "
	    "[1\\n1\\n] (pid 1, alone), got [%s]", r.body);
	hresp_free(&r);
	assert_mounts_unchanged(before, "isolate [pid]");
	free(before);
}
END_TEST

START_TEST(isolate_pid_setsid_grandchild_dies)
{
	char rid[64], entry[96], marker[512], desc[512];
	const char *env_any[] = { entry, NULL };
	struct hresp r;
	int n;

	harness_skip_if(harness_not_root());
	harness_skip_if(harness_no_unshare(CLONE_NEWPID | CLONE_NEWNS));
	sec_req(&r, "/isogc", NULL);
	SEC_ASSERT_STATUS(&r, 200, "isogc");
	ck_assert_str_eq(r.body, "started\n");
	ck_assert_ptr_nonnull(hresp_header(&r, "X-Request-Id", rid,
	    sizeof(rid)));
	hresp_free(&r);
	snprintf(marker, sizeof(marker), "%s/spool/gc.%s", sec_h->dir, rid);
	ck_assert_msg(access(marker, F_OK) == 0, "the grandchild never ran");
	snprintf(entry, sizeof(entry), "FN_REQUEST_ID=%s", rid);
	n = harness_procs(env_any, -1, 3000, desc, sizeof(desc));
	ck_assert_msg(n == 0, "%d process(es) of request %s still run: %s", n,
	    rid, desc);
}
END_TEST

START_TEST(isolate_net_only_lo)
{
	char *before, name[64];
	const char *p;
	struct hresp r;
	int lines = 0;

	harness_skip_if(harness_not_root());
	harness_skip_if(harness_no_unshare(CLONE_NEWNET | CLONE_NEWNS));
	before = host_mounts();
	sec_req(&r, "/isonet", NULL);
	SEC_ASSERT_STATUS(&r, 200, "isonet");
	/* /proc/net/dev: two header lines, then "  name: counters". */
	for (p = r.body; (p = strchr(p, '\n')) != NULL; p++) {
		if (sscanf(p + 1, " %63[^:]:", name) != 1 ||
		    strchr(name, '|') != NULL || strncmp(name, "loopback", 8) ==
		    0)
			continue;
		lines++;
		ck_assert_msg(strcmp(name, "lo") == 0, "isolate [net]: "
		    "interface %s is visible\n%s", name, r.body);
	}
	ck_assert_msg(lines == 1, "isolate [net]: want only lo\n%s", r.body);
	ck_assert_msg(strstr(r.body, "loopback-ok\n") != NULL,
	    "isolate [net]: lo is not up\n%s", r.body);
	hresp_free(&r);
	assert_mounts_unchanged(before, "isolate [net]");
	free(before);
}
END_TEST


void sec_add_identity(TCase *tc)
{
	tcase_add_test(tc, tenant_credentials);
	tcase_add_test(tc, tenant_only_fds_012);
	tcase_add_test(tc, tenant_cannot_regain_root);
	tcase_add_test(tc, setuid_binary_gains_nothing);
}

void sec_add_exec_checks(TCase *tc)
{
	tcase_add_loop_test(tc, exec_checks, 0, (int)(sizeof(CHECKS) /
	    sizeof(CHECKS[0])));
	tcase_add_test(tc, exec_checks_preflight);
}

void sec_add_isolate(TCase *tc)
{
	tcase_add_test(tc, isolate_pid_sees_itself_as_1);
	tcase_add_test(tc, isolate_pid_setsid_grandchild_dies);
	tcase_add_test(tc, isolate_net_only_lo);
}
