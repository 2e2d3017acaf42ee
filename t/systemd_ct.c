/* systemd_ct.c — the container of t/systemd: a Debian 12 tree made once
 * with debootstrap and cached, the tree under test as a tar, a boot with
 * systemd-nspawn, and commands run inside. See systemd.h.
 *
 * The container is booted with
 *   systemd-nspawn -b --register=no --keep-unit --private-network
 *       --volatile=overlay -D IMAGE
 * --register=no and --keep-unit: nspawn asks neither machined nor the
 * host's systemd for anything (the host need not run systemd at all).
 * --private-network: only "lo", so the container's nginx on port 80
 * meets nobody else's. --volatile=overlay: the cached tree is the
 * read-only lower layer of an overlay whose upper layer is a tmpfs that
 * vanishes with the container, so the cache stays clean without a copy.
 *
 * Commands run with nsenter into the namespaces of the container's
 * PID 1 (mount, PID, network, IPC, UTS, cgroup) and its root. With
 * --register=no there is no machined, so neither "machinectl shell" nor
 * "systemd-run -M" can reach the container, and "systemd-nspawn --pipe"
 * would start a second container instead of entering the booted one.
 * nsenter needs nothing inside the container, and what it starts is a
 * child of the test: it ends with the test, and its exit code and output
 * come back directly. Inside, systemctl talks to the container's systemd
 * over its private socket, as root does on any Debian host. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "systemd.h"

#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NSPAWN "/usr/bin/systemd-nspawn"
#define NSENTER "/usr/bin/nsenter"
#define DEBOOTSTRAP "/usr/sbin/debootstrap"
#define SUITE "bookworm"
/* Override with FNL_SYSTEMD_CACHE (a folder outside the source tree). */
#define CACHE_DEFAULT "/var/cache/fnlauncher-test/" SUITE
/* What the README's steps need on a Debian 12 host besides the base
 * system (debootstrap's default variant: Priority required and
 * important, as a Debian install has): the build dependencies of
 * "Building from source" but check (no "make check" here), nginx for the
 * site and curl for its health check. */
#define PACKAGES "build-essential,autoconf,automake,pkg-config," \
	"libfcgi-dev,libyaml-dev,libssl-dev,nginx-light,curl"
#define HOST_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:" \
	"/sbin:/bin"

struct ct ct;
char ct_why[1024];

double ct_now(void)
{
	return harness_now();
}

void ct_time(const char *what, double since)
{
	printf("TIME: %s: %.1f s\n", what, ct_now() - since);
	fflush(stdout);
}

static void why(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void why(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ct_why, sizeof(ct_why), fmt, ap);
	va_end(ap);
}

/* The last n lines of text (a pointer into it). */
static const char *tail_lines(const char *text, int n)
{
	const char *p = text + strlen(text);

	while (p > text && (p[-1] == '\n' || p[-1] == ' '))
		p--;
	while (p > text && n > 0)
		if (*--p == '\n')
			n--;
	return p == text ? p : p + 1;
}

/* Run argv; its output (stdout then stderr) goes to work/log_name too.
 * Returns the exit code, or -1 (killed, timed out, did not run); *out,
 * if not NULL, gets the output (the caller frees). */
static int run_logged(const char *const *argv, const char *log_name,
    int timeout_ms, char **out)
{
	char *o = NULL, *e = NULL, path[256], *all;
	int st = harness_run(argv, NULL, NULL, &o, NULL, &e, timeout_ms);
	size_t lo = o ? strlen(o) : 0, le = e ? strlen(e) : 0;

	all = malloc(lo + le + 1);
	if (all != NULL) {
		memcpy(all, o ? o : "", lo);
		memcpy(all + lo, e ? e : "", le + 1);
		snprintf(path, sizeof(path), "%s/%s", ct.work, log_name);
		if (log_name != NULL)
			harness_write_file(path, all, lo + le, 0644);
	}
	free(o);
	free(e);
	if (out != NULL)
		*out = all;
	else
		free(all);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- the Debian mirror ---------------------------------------------------- */

/* 1 if the space-separated list has word. */
static int has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ' || p[-1] == '\t') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\t' ||
		    p[n] == '\n'))
			return 1;
	return 0;
}

/* One-line style (sources.list(5)): "deb [opts] URI SUITE COMPONENT...".
 * The URI of the first enabled "deb" line for SUITE into uri. */
static int pick_oneline(char *text, char *uri, size_t len)
{
	char *save = NULL, *line, *tok[8], *s2;
	int n;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#');

		if (hash != NULL)
			*hash = '\0';
		n = 0;
		for (char *t = strtok_r(line, " \t", &s2); t != NULL && n < 8;
		    t = strtok_r(NULL, " \t", &s2))
			tok[n++] = t;
		int i = 1;
		if (n > 1 && tok[1][0] == '[') {
			/* "[opts]", or "[ opts ]" over several tokens. */
			while (i < n && strchr(tok[i], ']') == NULL)
				i++;
			i++;
		}
		if (n >= i + 2 && strcmp(tok[0], "deb") == 0 &&
		    strcmp(tok[i + 1], SUITE) == 0) {
			snprintf(uri, len, "%s", tok[i]);
			return 0;
		}
	}
	return -1;
}

/* deb822 style (sources.list(5)): stanzas of "Field: value". The first
 * URI of the first enabled "deb" stanza whose Suites has SUITE, and its
 * Signed-By when that is a file. */
static int pick_deb822(char *text, char *uri, size_t len, char *key,
    size_t klen)
{
	char types[128] = "", uris[512] = "", suites[256] = "",
	    enabled[16] = "yes", signed_by[256] = "";
	char *p = text;

	for (;;) {
		char *nl = strchr(p, '\n'), *colon;
		int end = nl == NULL;

		if (nl != NULL)
			*nl = '\0';
		if (p[0] == '\0' || end) {
			if (has_word(types, "deb") && has_word(suites, SUITE) &&
			    strcasecmp(enabled, "no") != 0 && uris[0] != '\0') {
				uris[strcspn(uris, " \t")] = '\0';
				snprintf(uri, len, "%s", uris);
				if (signed_by[0] == '/')
					snprintf(key, klen, "%s", signed_by);
				return 0;
			}
			types[0] = uris[0] = suites[0] = signed_by[0] = '\0';
			snprintf(enabled, sizeof(enabled), "yes");
		} else if (p[0] != '#' && p[0] != ' ' && p[0] != '\t' &&
		    (colon = strchr(p, ':')) != NULL) {
			const char *v = colon + 1;

			*colon = '\0';
			v += strspn(v, " \t");
			if (strcasecmp(p, "Types") == 0)
				snprintf(types, sizeof(types), "%s", v);
			else if (strcasecmp(p, "URIs") == 0)
				snprintf(uris, sizeof(uris), "%s", v);
			else if (strcasecmp(p, "Suites") == 0)
				snprintf(suites, sizeof(suites), "%s", v);
			else if (strcasecmp(p, "Enabled") == 0)
				snprintf(enabled, sizeof(enabled), "%s", v);
			else if (strcasecmp(p, "Signed-By") == 0)
				snprintf(signed_by, sizeof(signed_by), "%s", v);
		}
		if (end)
			return -1;
		p = nl + 1;
	}
}

/* The machine's own Debian 12 mirror, from /etc/apt/sources.list*: the
 * only archive this machine (and CI) can reach. */
static int find_mirror(char *uri, size_t len, char *key, size_t klen)
{
	static const char *const pats[] = { "/etc/apt/sources.list",
	    "/etc/apt/sources.list.d/*.list",
	    "/etc/apt/sources.list.d/*.sources" };
	glob_t g;
	int found = -1;

	key[0] = '\0';
	for (size_t i = 0; i < 3 && found != 0; i++) {
		if (glob(pats[i], 0, NULL, &g) != 0)
			continue;
		for (size_t j = 0; j < g.gl_pathc && found != 0; j++) {
			char *text = harness_read_file(g.gl_pathv[j], NULL);

			if (text == NULL)
				continue;
			found = i == 2 ? pick_deb822(text, uri, len, key, klen) :
			    pick_oneline(text, uri, len);
			free(text);
		}
		globfree(&g);
	}
	if (found != 0)
		why("no Debian 12 (%s) mirror in /etc/apt/sources.list*, "
		    "the only archive this test may use", SUITE);
	return found;
}

/* ---- the image ------------------------------------------------------------ */

/* Detach whatever a killed debootstrap left mounted below dir (its
 * /proc, /sys, /dev/pts), deepest first, so that it can be removed. */
static void umount_below(const char *dir)
{
	char *mounts = harness_read_file("/proc/self/mounts", NULL), *save;
	char *list[64];
	int n = 0;
	size_t dl = strlen(dir);

	if (mounts == NULL)
		return;
	for (char *l = strtok_r(mounts, "\n", &save); l != NULL && n < 64;
	    l = strtok_r(NULL, "\n", &save)) {
		char *mp = strchr(l, ' ');

		if (mp == NULL)
			continue;
		mp++;
		mp[strcspn(mp, " ")] = '\0';
		if (strncmp(mp, dir, dl) == 0 && mp[dl] == '/')
			list[n++] = mp;
	}
	while (n-- > 0)
		umount2(list[n], MNT_DETACH);
	free(mounts);
}

static int remove_tree(const char *dir)
{
	const char *argv[] = { "/bin/rm", "-rf", "--one-file-system", dir,
	    NULL };

	umount_below(dir);
	return run_logged(argv, NULL, 120000, NULL) == 0 ? 0 : -1;
}

/* One debootstrap into image.new, renamed into place when complete; the
 * stamp file says what it holds. */
static int debootstrap(const char *stamp_path, const char *stamp)
{
	char uri[512], key[256], inc[256], fresh[300], *out = NULL;
	const char *argv[8];
	size_t n = 0;
	double t0 = ct_now();
	int rc;

	if (find_mirror(uri, sizeof(uri), key, sizeof(key)) != 0)
		return -1;
	/* A quick look first: without a way to the archive, debootstrap
	 * would retry for many minutes before giving up. */
	{
		char release[600];
		const char *probe[] = { "/usr/bin/curl", "-sSf", "-o",
		    "/dev/null", "--max-time", "30", release, NULL };

		snprintf(release, sizeof(release), "%s/dists/%s/Release", uri,
		    SUITE);

		if (run_logged(probe, "probe.log", 60000, &out) != 0) {
			why("cannot reach the Debian mirror %s: %s", uri,
			    out ? out : "");
			free(out);
			return -1;
		}
		free(out);
		out = NULL;
	}
	snprintf(inc, sizeof(inc), "--include=%s", PACKAGES);
	snprintf(fresh, sizeof(fresh), "%s.new", ct.image);
	if (remove_tree(fresh) != 0 || remove_tree(ct.image) != 0) {
		why("cannot clear %s or %s", fresh, ct.image);
		return -1;
	}
	argv[n++] = DEBOOTSTRAP;
	argv[n++] = inc;
	char keyopt[300];
	if (key[0] != '\0') {
		snprintf(keyopt, sizeof(keyopt), "--keyring=%s", key);
		argv[n++] = keyopt;
	}
	argv[n++] = SUITE;
	argv[n++] = fresh;
	argv[n++] = uri;
	argv[n] = NULL;
	printf("debootstrap %s from %s into %s (%s)\n", SUITE, uri, fresh,
	    PACKAGES);
	fflush(stdout);
	rc = run_logged(argv, "debootstrap.log", 30 * 60 * 1000, &out);
	if (rc != 0) {
		why("debootstrap %s from %s failed (exit %d; no network to the "
		    "Debian archive?); its last lines:\n%s", SUITE, uri, rc,
		    out ? tail_lines(out, 8) : "");
		free(out);
		remove_tree(fresh);
		return -1;
	}
	free(out);
	if (rename(fresh, ct.image) != 0 ||
	    harness_write_file(stamp_path, stamp, strlen(stamp), 0644) != 0) {
		why("cannot put the new tree at %s: %s", ct.image,
		    strerror(errno));
		return -1;
	}
	ct_time("debootstrap (first run: download and install)", t0);
	return 0;
}

/* Wait up to 20 minutes for the image lock (another run of this test
 * may be making or using the image); the fd stays open until exit. */
static int lock_image(void)
{
	char path[300];
	int fd;
	double end = ct_now() + 20 * 60;

	snprintf(path, sizeof(path), "%s.lock", ct.image);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		why("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK || ct_now() > end) {
			why("cannot lock %s: %s (another run holds it?)", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		harness_sleep_ms(1000);
	}
	return 0;
}

int ct_image(int *cached)
{
	const char *cache = getenv("FNL_SYSTEMD_CACHE");
	char stamp_path[300], stamp[512], *have, parent[256], *slash;
	struct stat st;

	snprintf(ct.image, sizeof(ct.image), "%s",
	    cache != NULL && cache[0] == '/' ? cache : CACHE_DEFAULT);
	snprintf(parent, sizeof(parent), "%s", ct.image);
	slash = strrchr(parent, '/');
	if (slash != NULL && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0755) != 0 && errno != EEXIST) {
			why("cannot make %s: %s", parent, strerror(errno));
			return -1;
		}
	}
	if (lock_image() != 0)
		return -1;
	/* Complete when the stamp written after a successful debootstrap
	 * is there and names this suite and package list. */
	snprintf(stamp_path, sizeof(stamp_path), "%s.ok", ct.image);
	snprintf(stamp, sizeof(stamp), "suite=%s packages=%s\n", SUITE,
	    PACKAGES);
	have = harness_read_file(stamp_path, NULL);
	*cached = have != NULL && strcmp(have, stamp) == 0 &&
	    stat(ct.image, &st) == 0 && S_ISDIR(st.st_mode);
	free(have);
	if (*cached)
		return 0;
	unlink(stamp_path);
	return debootstrap(stamp_path, stamp);
}

/* ---- the source ----------------------------------------------------------- */

/* The files git tracks, or would track (untracked, not ignored), that
 * exist now, NUL-separated into list_path. */
static int git_file_list(const char *src, const char *list_path)
{
	const char *argv[] = { "/usr/bin/git", "-C", src, "ls-files", "-z",
	    "--cached", "--others", "--exclude-standard", NULL };
	char *out = NULL, path[PATH_MAX];
	size_t len = 0, kept = 0;
	int st = harness_run(argv, NULL, NULL, &out, &len, NULL, 60000), rc;
	struct stat sb;

	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		free(out);
		return -1;
	}
	/* Compact in place: drop deleted files, which tar would miss. */
	for (size_t i = 0; i < len; ) {
		size_t n = strlen(out + i) + 1;

		snprintf(path, sizeof(path), "%s/%s", src, out + i);
		if (lstat(path, &sb) == 0) {
			memmove(out + kept, out + i, n);
			kept += n;
		}
		i += n;
	}
	rc = harness_write_file(list_path, out, kept, 0644);
	free(out);
	return rc;
}

int ct_source_tar(char *tar, size_t len, const char **opts)
{
	const char *src = getenv("FNL_SRCDIR"), *build = getenv("FNL_BUILDDIR");
	char *top = NULL, real[PATH_MAX], list[300];
	const char *git_top[] = { "/usr/bin/git", "-C", src, "rev-parse",
	    "--show-toplevel", NULL };

	if (src == NULL || build == NULL || realpath(src, real) == NULL) {
		why("FNL_SRCDIR and FNL_BUILDDIR must name the source and "
		    "build folders");
		return -1;
	}
	/* A git checkout of its own (not a tarball unpacked inside one, as
	 * "make distcheck" does): the files as they are in the working tree,
	 * uncommitted changes included. */
	if (access(git_top[0], X_OK) == 0 &&
	    run_logged(git_top, NULL, 60000, &top) == 0 &&
	    strncmp(top, real, strlen(real)) == 0 &&
	    (top[strlen(real)] == '\n' || top[strlen(real)] == '\0')) {
		const char *argv[] = { "/bin/tar", "-C", src, "--null", "-T",
		    list, "-cf", tar, NULL };

		free(top);
		snprintf(list, sizeof(list), "%s/src.list", ct.work);
		snprintf(tar, len, "%s/src.tar", ct.work);
		*opts = "";
		if (git_file_list(src, list) == 0 &&
		    run_logged(argv, "tar.log", 120000, NULL) == 0)
			return 0;
		why("cannot tar the files of %s (see %s/tar.log)", src,
		    ct.work);
		return -1;
	}
	free(top);
	/* A release tarball: make one from the build folder. */
	{
		const char *argv[] = { "/usr/bin/make", "-C", build,
		    "dist-gzip", NULL };

		snprintf(tar, len, "%s/%s-%s.tar.gz", build, PACKAGE_TARNAME,
		    PACKAGE_VERSION);
		*opts = "-z --strip-components=1";
		if (run_logged(argv, "dist.log", 300000, NULL) == 0 &&
		    access(tar, R_OK) == 0)
			return 0;
	}
	why("not a git checkout, and make dist failed (see %s/dist.log)",
	    ct.work);
	return -1;
}

/* ---- commands inside ------------------------------------------------------ */

/* nsenter argv for script into argv (16 entries); pid into pidbuf. */
static void ct_argv(const char **argv, char *pidbuf, size_t plen,
    const char *script)
{
	size_t n = 0;

	snprintf(pidbuf, plen, "%ld", (long)ct.init);
	argv[n++] = NSENTER;
	argv[n++] = "-t";
	argv[n++] = pidbuf;
	argv[n++] = "-a";       /* every namespace of the container's PID 1 */
	argv[n++] = "-r";       /* its root */
	argv[n++] = "-w";       /* its working directory (/) */
	argv[n++] = "/usr/bin/env";
	argv[n++] = "-i";       /* an environment of its own, as a login */
	argv[n++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"
	    ":/sbin:/bin";
	argv[n++] = "HOME=/root";
	argv[n++] = "LANG=C.UTF-8";
	argv[n++] = "MAKEFLAGS=-j2";    /* the README's "make", on 2 cores */
	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = script;
	argv[n] = NULL;
}

int ct_sh(const char *script, const char *in_path, char **out,
    int timeout_ms)
{
	const char *argv[16];
	char pid[32], *full, *o = NULL;
	size_t n = strlen(script) + 16;
	int st;

	full = malloc(n);
	if (full == NULL)
		return -1;
	snprintf(full, n, "exec 2>&1\n%s", script);
	ct_argv(argv, pid, sizeof(pid), full);
	st = harness_run(argv, NULL, in_path, &o, NULL, NULL, timeout_ms);
	free(full);
	if (out != NULL)
		*out = o != NULL ? o : strdup("");
	else
		free(o);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

pid_t ct_sh_bg(const char *script, const char *out_path)
{
	const char *argv[16], *envp[] = { HOST_PATH, NULL };
	char pid[32];
	int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644);
	pid_t p;

	if (fd == -1)
		return -1;
	ct_argv(argv, pid, sizeof(pid), script);
	p = harness_spawn(argv, envp, -1, fd, fd);
	close(fd);
	return p;
}

int ct_shf(char *buf, size_t len, const char *fmt, ...)
{
	char script[4096], *out = NULL;
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(script, sizeof(script), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(script)) {
		snprintf(buf, len, "(script too long)");
		return -1;
	}
	rc = ct_sh(script, NULL, &out, 120000);
	n = (int)strlen(out);
	while (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	snprintf(buf, len, "%s", out);
	free(out);
	return rc;
}

/* ---- boot and power-off --------------------------------------------------- */

static char *console_tail(void)
{
	char path[256], *log;
	static char buf[800];

	snprintf(path, sizeof(path), "%s/console.log", ct.work);
	log = harness_read_file(path, NULL);
	snprintf(buf, sizeof(buf), "%s", log ? tail_lines(log, 10) : "");
	free(log);
	return buf;
}

/* The container's PID 1: the child of systemd-nspawn that runs systemd.
 * Waits up to 30 s. */
static int find_init(void)
{
	char path[96], *kids, *comm;
	double end = ct_now() + 30;
	int st;

	while (ct_now() < end) {
		if (waitpid(ct.nspawn, &st, WNOHANG) == ct.nspawn) {
			ct.nspawn = 0;
			why("systemd-nspawn exited (status 0x%x) before the "
			    "container's systemd started; console:\n%s",
			    (unsigned)st, console_tail());
			return -1;
		}
		snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
		    (long)ct.nspawn, (long)ct.nspawn);
		kids = harness_read_file(path, NULL);
		for (char *p = kids; p != NULL && *p != '\0'; ) {
			long pid = strtol(p, &p, 10);

			snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
			comm = harness_read_file(path, NULL);
			if (pid > 0 && comm != NULL &&
			    strcmp(comm, "systemd\n") == 0)
				ct.init = (pid_t)pid;
			free(comm);
			p += strspn(p, " \n");
		}
		free(kids);
		if (ct.init > 0)
			return 0;
		harness_sleep_ms(50);
	}
	why("no systemd inside the container after 30 s; console:\n%s",
	    console_tail());
	return -1;
}

/* Until "systemctl is-system-running --wait" says the boot is over. */
static int await_systemd(void)
{
	char state[512], failed[2048];
	double end = ct_now() + 120;

	while (ct_now() < end) {
		ct_shf(state, sizeof(state),
		    "systemctl is-system-running --wait");
		if (strcmp(state, "running") == 0)
			return 0;
		if (strcmp(state, "degraded") == 0) {
			/* Some unit of the base system failed: say which, and
			 * go on; the tests look at fnlauncher's and nginx's. */
			ct_shf(failed, sizeof(failed),
			    "systemctl --failed --no-legend --plain");
			printf("container is degraded; failed units:\n%s\n",
			    failed);
			return 0;
		}
		harness_sleep_ms(200);
	}
	why("the container's systemd did not finish booting in 120 s "
	    "(is-system-running: %s); console:\n%s", state, console_tail());
	return -1;
}

int ct_boot(void)
{
	char name[64], log[256];
	const char *argv[] = { NSPAWN, "-b", "--register=no", "--keep-unit",
	    "--private-network", "--volatile=overlay", "-M", name, "-D",
	    ct.image, NULL };
	const char *envp[] = { HOST_PATH, NULL };
	double t0 = ct_now();
	int fd;

	snprintf(name, sizeof(name), "fnl-test-%ld", (long)getpid());
	snprintf(log, sizeof(log), "%s/console.log", ct.work);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		why("cannot open %s: %s", log, strerror(errno));
		return -1;
	}
	/* Our child, with PR_SET_PDEATHSIG: if the test dies, nspawn gets
	 * SIGTERM and powers the container off. */
	ct.nspawn = harness_spawn(argv, envp, -1, fd, fd);
	close(fd);
	if (ct.nspawn == -1) {
		ct.nspawn = 0;
		why("cannot start %s", NSPAWN);
		return -1;
	}
	if (find_init() != 0 || await_systemd() != 0)
		return -1;
	ct_time("boot (systemd-nspawn until is-system-running)", t0);
	return 0;
}

void ct_poweroff(void)
{
	const char *keep = getenv("FNL_KEEP_TMP");
	double t0 = ct_now();
	int st;

	if (ct.nspawn > 0) {
		/* nspawn turns SIGTERM into SIGRTMIN+3 for the container's
		 * systemd: an orderly poweroff. */
		kill(ct.nspawn, SIGTERM);
		if (harness_wait_ms(ct.nspawn, 60000, &st) != 1) {
			printf("container still up 60 s after SIGTERM: "
			    "SIGKILL\n");
			kill(ct.nspawn, SIGKILL);
			harness_wait_ms(ct.nspawn, 10000, &st);
		}
		ct.nspawn = 0;
		ct_time("poweroff", t0);
	}
	if (ct.work[0] == '\0')
		return;
	if (keep != NULL && strcmp(keep, "1") == 0)
		printf("kept %s\n", ct.work);
	else
		remove_tree(ct.work);
}
