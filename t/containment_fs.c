/* containment_fs.c — what one request leaves for the next, and the
 * secrets at rest (issue 12, rows 6, 7 and 11): files in the folders
 * every process may write (/tmp, /var/tmp, /dev/shm, and /run/lock,
 * which Debian also makes 1777), a file planted under a name the victim
 * opens, SysV shared memory, the installed manifest. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* strcasestr */
#endif
#include "containment.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/random.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

/* The folders of row 6, and one more that Debian makes world-writable. */
static const char *const ROW6_DIRS[] = { "/tmp", "/var/tmp", "/dev/shm",
    NULL };
static const char *const LOCK_DIRS[] = { "/run/lock", NULL };
/* Every folder tenantfn writes to (tfn_shared_dirs). */
static const char *const ALL_DIRS[] = { "/tmp", "/var/tmp", "/dev/shm",
    "/run/lock", NULL };

/* A request to fn with X-Act, X-Tag and X-Name (may be NULL). */
static void act(struct hresp *r, const char *fn, const char *what,
    const char *tag, const char *name)
{
	char act_h[64], tag_h[96], name_h[64];
	const char *args[] = { "-H", act_h, "-H", tag_h, "-H", name_h, NULL };

	snprintf(act_h, sizeof(act_h), "X-Act: %s", what);
	snprintf(tag_h, sizeof(tag_h), "X-Tag: %s", tag);
	snprintf(name_h, sizeof(name_h), "X-Name: %s", name ? name : "");
	ct_req(r, fn, args);
	ck_assert_msg(r->status == 200, "%s %s: status %d\n%s\n%s", fn, what,
	    r->status, r->body, ct_log_tail());
}

/* 1 if body has a line "WORD DIR/ct-..." for one of dirs; the first such
 * line (up to its end) into line. */
static int said_in(const char *body, const char *word, const char *const *dirs,
    char *line, size_t len)
{
	char key[64];
	const char *p;

	for (size_t i = 0; dirs[i] != NULL; i++) {
		snprintf(key, sizeof(key), "%s %s/ct-", word, dirs[i]);
		for (p = body; p != NULL && *p != '\0';
		    p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
			if (strncmp(p, key, strlen(key)) == 0) {
				snprintf(line, len, "%.*s",
				    (int)strcspn(p, "\n"), p);
				return 1;
			}
	}
	return 0;
}

/* Remove what the functions wrote into the host's folders (we are
 * root), so that the next run starts clean. */
static void remove_files(const char *tag)
{
	char path[256];

	for (size_t i = 0; ALL_DIRS[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/ct-%s", ALL_DIRS[i], tag);
		unlink(path);
		snprintf(path, sizeof(path), "%s/ct-squat-%s", ALL_DIRS[i],
		    tag);
		unlink(path);
	}
}

/* The victim writes a file with its secret into each folder; neither the
 * attacker nor the victim's own next invocation may find them. */
static void not_shared(const char *const *dirs, const char *what)
{
	struct hresp w, r1, r2;
	char tag[64], line[512];
	int wrote, seen_a, seen_b;

	ct_tag(tag, sizeof(tag), "tmp");
	act(&w, "victim", "tmpw", tag, NULL);
	act(&r1, "attacker", "tmpr", tag, NULL);
	act(&r2, "victim", "tmpr", tag, NULL);
	remove_files(tag);
	wrote = said_in(w.body, "WROTE", dirs, line, sizeof(line));
	ck_assert_msg(wrote, "%s: the victim could not write there:\n%s",
	    what, w.body);
	seen_a = said_in(r1.body, "SEEN", dirs, line, sizeof(line));
	ck_assert_msg(!seen_a, "%s: another tenant's later request found the "
	    "victim's file: %s\n--- the attacker said:\n%s", what, line,
	    r1.body);
	seen_b = said_in(r2.body, "SEEN", dirs, line, sizeof(line));
	ck_assert_msg(!seen_b, "%s: the function's next request found its "
	    "last one's file: %s\n--- it said:\n%s", what, line, r2.body);
	hresp_free(&w);
	hresp_free(&r1);
	hresp_free(&r2);
}

START_TEST(row6_tmp_not_shared)
{
	not_shared(ROW6_DIRS, "row 6: /tmp, /var/tmp, /dev/shm");
}
END_TEST

/* Debian's /run/lock is 1777 too: the same leak unless it is private
 * (or not writable) as well. Not in the list: a path to cover. */
START_TEST(row6_run_lock_not_shared)
{
	struct stat st;

	if (stat("/run/lock", &st) != 0 || (st.st_mode & 0002) == 0)
		ct_skip("/run/lock is not a world-writable folder here");
	not_shared(LOCK_DIRS, "row 6: /run/lock");
}
END_TEST

/* The attacker plants 0666 files under the names the victim will open
 * (O_CREAT, no O_EXCL, as naive code does); the victim must not open
 * the attacker's file, and the attacker must not read what the victim
 * wrote. */
START_TEST(row6_tmp_squat)
{
	struct hresp s, w, r;
	char tag[64], line[512];
	int squatted, seen;

	ct_tag(tag, sizeof(tag), "squat");
	act(&s, "attacker", "squat", tag, "squat");
	act(&w, "victim", "tmpw", tag, "squat");
	act(&r, "attacker", "tmpr", tag, "squat");
	remove_files(tag);
	ck_assert_msg(said_in(s.body, "PLANTED", ROW6_DIRS, line,
	    sizeof(line)), "row 6: the attacker could not plant a file "
	    "anywhere:\n%s", s.body);
	squatted = said_in(w.body, "SQUATTED", ROW6_DIRS, line, sizeof(line));
	ck_assert_msg(!squatted, "row 6: the victim wrote its secret into the "
	    "attacker's file: %s\n--- the victim said:\n%s", line, w.body);
	seen = said_in(r.body, "SEEN", ROW6_DIRS, line, sizeof(line));
	ck_assert_msg(!seen, "row 6: the attacker read the victim's file: "
	    "%s\n--- the attacker said:\n%s", line, r.body);
	hresp_free(&s);
	hresp_free(&w);
	hresp_free(&r);
}
END_TEST

/* The value after "DIR D ... dev " in body, or 0. */
static unsigned long dir_dev(const char *body, const char *d)
{
	char key[64];
	const char *p;

	snprintf(key, sizeof(key), "DIR %s uid ", d);
	if ((p = strstr(body, key)) == NULL || (p = strstr(p, " dev ")) == NULL)
		return 0;
	return strtoul(p + 5, NULL, 10);
}

/* The kept namespaces (launcher/nspool.h): a function leaves folders
 * five deep, a folder of mode 0, a fifo, a symlink, a hard link and a
 * socket in each shared folder, a System V segment, semaphore set and
 * message queue and a POSIX message queue; its next requests find each
 * folder empty, root's, mode 1777, and no IPC object — and, where
 * invocations have a cgroup leaf (the pool needs one), on the same
 * tmpfs and in the same IPC namespace, which shows that the kept ones
 * were scrubbed rather than new ones made (namespaces are kept while
 * another invocation of the function runs: one holds meanwhile). */
START_TEST(row6_kept_tmp_scrubbed)
{
	static const char *const leaf[] = { "a leaf per invocation", NULL };
	struct hresp m, r1, r2, h;
	struct ct_victim v;
	char tag[64], key[96];
	int pooled = 0;

	/* Slots are for bursts: one invocation of the victim holds while
	 * the others run. */
	ct_victim_start(&v, "victim", "hold", NULL);
	ct_tag(tag, sizeof(tag), "mess");
	act(&m, "victim", "tmpmess", tag, NULL);
	ck_assert_msg(ct_has_line(m.body, "MESSED") && strstr(m.body,
	    "MESSED sysv") && strstr(m.body, "MESSED mqueue"), "the victim "
	    "could not leave everything:\n%s", m.body);
	act(&r1, "victim", "tmpls", tag, NULL);
	act(&r2, "victim", "tmpls", tag, NULL);
	ct_victim_end(&v, &h);
	remove_files(tag);
	for (size_t i = 0; ROW6_DIRS[i] != NULL; i++) {
		snprintf(key, sizeof(key), "DIR %s uid 0 mode 1777 ",
		    ROW6_DIRS[i]);
		ck_assert_msg(strstr(r1.body, key) != NULL && strstr(r2.body,
		    key) != NULL, "%s is not root's, mode 1777:\n%s\n%s",
		    ROW6_DIRS[i], r1.body, r2.body);
		snprintf(key, sizeof(key), "DEV %s %lu", ROW6_DIRS[i],
		    dir_dev(r1.body, ROW6_DIRS[i]));
		pooled += strstr(m.body, key) != NULL;
	}
	ck_assert_msg(!ct_has_line(r1.body, "LEFT") &&
	    !ct_has_line(r2.body, "LEFT"), "the function's next requests "
	    "found what its last one left:\n%s\n%s", r1.body, r2.body);
	/* The pool is used where there is a leaf per invocation. */
	if (harness_log_has(ct_h, leaf)) {
		const char *ns = strstr(m.body, "IPCNS ");

		ck_assert_msg(pooled > 0, "each request had a new tmpfs: the "
		    "kept mount namespaces are not used:\n%s\n%s", m.body,
		    r1.body);
		snprintf(key, sizeof(key), "%.*s", ns ? (int)strcspn(ns, "\n")
		    : 0, ns ? ns : "");
		ck_assert_msg(ns != NULL && strstr(r1.body, key) != NULL,
		    "each request had a new IPC namespace: the kept ones are "
		    "not used:\n%s\n%s", m.body, r1.body);
	}
	hresp_free(&m);
	hresp_free(&r1);
	hresp_free(&r2);
	hresp_free(&h);
}
END_TEST

/* A SysV key nobody uses on the host: 0x4354xxxx ("CT"). */
static key_t free_key(void)
{
	unsigned short r = 0;
	key_t key;

	do {
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (unsigned short)getpid();
		key = (key_t)(0x43540000u | r);
	} while (shmget(key, 0, 0) >= 0);
	return key;
}

/* Row 7: the attacker creates a 1 MiB segment and leaves it. After its
 * request, the segment must be gone (the host's IPC namespace does not
 * have it) and a later request must not find it. */
START_TEST(row7_sysv_shm_outlives_request)
{
	key_t key = free_key();
	char key_h[64], tag[64], *shm;
	struct hresp a, b;
	double end;
	int id = -1;

	ct_tag(tag, sizeof(tag), "shm");
	snprintf(key_h, sizeof(key_h), "X-Key: 0x%x", (unsigned)key);
	{
		const char *args[] = { "-H", "X-Act: shm", "-H", key_h, NULL };

		ct_req(&a, "attacker", args);
	}
	ck_assert_msg(ct_has_line(a.body, "CREATED"), "row 7: the attacker "
	    "could not create a segment (nothing to test):\n%s", a.body);
	/* The request is over: give an IPC namespace's end a moment. */
	for (end = harness_now() + 2; harness_now() < end &&
	    (id = shmget(key, 0, 0)) >= 0; )
		harness_sleep_ms(50);
	{
		const char *args[] = { "-H", "X-Act: shmr", "-H", key_h, NULL };

		ct_req(&b, "victim", args);
	}
	shm = harness_read_file("/proc/sysvipc/shm", NULL);
	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);
	ck_assert_msg(id < 0, "row 7: the attacker's segment (key 0x%x, id "
	    "%d, 1 MiB) outlived its request in the host's IPC namespace; "
	    "the attacker said:\n%s--- /proc/sysvipc/shm:\n%s", (unsigned)key,
	    id, a.body, shm ? shm : "");
	ct_assert_attack_failed(&b, "row 7: a later request read the segment");
	free(shm);
	hresp_free(&a);
	hresp_free(&b);
}
END_TEST

/* ---- row 11: the manifest ------------------------------------------------ */

/* The daemon's manifest has the mode `make install` gives it; a
 * function must not be able to read it (every function's env: values
 * are in it). */
START_TEST(row11_manifest_unreadable)
{
	char path[512], path_h[600];
	struct hresp a;

	ck_assert_msg(ct_install_mode >= 0, "cannot tell the mode `make "
	    "install` gives the manifest: %s", ct_install_err);
	ck_assert_int_eq(harness_path(ct_h, "manifest.yaml", path,
	    sizeof(path)), 0);
	snprintf(path_h, sizeof(path_h), "X-Path: %s", path);
	{
		const char *args[] = { "-H", "X-Act: manifest", "-H", path_h,
		    NULL };

		ct_req(&a, "attacker", args);
	}
	ck_assert_msg(!ct_has_line(a.body, "READ") && strstr(a.body,
	    CT_SECRET) == NULL, "row 11: a function read the daemon's "
	    "manifest, installed with mode %04o as `make install` gives it "
	    "(%s):\n%s", (unsigned)ct_install_mode, ct_install_err, a.body);
	hresp_free(&a);
}
END_TEST

/* -t's output for a manifest text written with mode; the caller frees. */
static char *check_output(const char *rel, const char *text, mode_t mode)
{
	const char *bin = getenv("FNL_BIN");
	char path[512], *out = NULL, *err = NULL, *all;
	size_t n;

	ck_assert_ptr_nonnull(bin);
	ck_assert_int_eq(harness_write(ct_h, rel, text, mode), 0);
	ck_assert_int_eq(harness_path(ct_h, rel, path, sizeof(path)), 0);
	{
		const char *argv[] = { bin, "-t", "-c", path, NULL };

		(void)harness_run(argv, NULL, NULL, &out, NULL, &err, 20000);
	}
	n = strlen(out ? out : "") + strlen(err ? err : "") + 2;
	all = malloc(n);
	ck_assert_ptr_nonnull(all);
	snprintf(all, n, "%s\n%s", out ? out : "", err ? err : "");
	free(out);
	free(err);
	return all;
}

/* 1 if a line of out is a warning that the file may be read by others
 * ("readable", "read by", "can read"). */
static int warns_readable(char *out)
{
	char *line, *save = NULL;

	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strcasestr(line, "warning") != NULL &&
		    (strcasestr(line, "readable") != NULL ||
		    strcasestr(line, "read by") != NULL ||
		    strcasestr(line, "can read") != NULL))
			return 1;
	return 0;
}

static const char NO_ENV[] =
    "functions:\n"
    "  attacker: { path: @DIR@/bin/tenantfn, args: [@DIR@/spool] }\n";

/* fnlauncher -t warns when a manifest with env: values may be read by
 * other users; not when it is 0600, nor when it has no env: values. */
START_TEST(row11_check_warns_readable)
{
	char *o644 = check_output("m-env-644.yaml", ct_manifest, 0644);
	char *o600 = check_output("m-env-600.yaml", ct_manifest, 0600);
	char *onoenv = check_output("m-noenv-644.yaml", NO_ENV, 0644);
	char *copy = strdup(o644);

	ck_assert_ptr_nonnull(copy);
	ck_assert_msg(warns_readable(copy), "row 11: fnlauncher -t does not "
	    "warn that a manifest with env: values is readable by others "
	    "(mode 0644):\n%s", o644);
	free(copy);
	copy = strdup(o600);
	ck_assert_msg(!warns_readable(copy), "fnlauncher -t warns about a "
	    "manifest of mode 0600:\n%s", o600);
	free(copy);
	copy = strdup(onoenv);
	ck_assert_msg(!warns_readable(copy), "fnlauncher -t warns about a "
	    "readable manifest without env: values:\n%s", onoenv);
	free(copy);
	free(o644);
	free(o600);
	free(onoenv);
}
END_TEST

void ct_add_fs(TCase *tc)
{
	tcase_add_test(tc, row6_tmp_not_shared);
	tcase_add_test(tc, row6_run_lock_not_shared);
	tcase_add_test(tc, row6_tmp_squat);
	tcase_add_test(tc, row6_kept_tmp_scrubbed);
	tcase_add_test(tc, row7_sysv_shm_outlives_request);
}

void ct_add_secrets(TCase *tc)
{
	tcase_add_test(tc, row11_manifest_unreadable);
	tcase_add_test(tc, row11_check_warns_readable);
}
