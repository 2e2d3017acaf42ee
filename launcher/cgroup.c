/* cgroup.c — see cgroup.h. The cgroup v2 interface files are in the
 * kernel's Documentation/admin-guide/cgroup-v2.rst. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroup.h"
#include "fnlog.h"
#include "once.h"

enum { CG_MEMORY = 1, CG_PIDS = 2, CG_CPU = 4 };

#define CPU_PERIOD_US 100000    /* cpu.max period: 100 ms */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int parent_fd = -1;      /* where leaves go; -1: no cgroup */
static char parent[PATH_MAX];
static char made[PATH_MAX];     /* a folder we made, removed at exit */
static unsigned ctrl;           /* controllers on for the leaves */
static char setting[PATH_MAX];  /* the manifest's "cgroup" it is for */
static atomic_uint seq;

/* ---- small file I/O ----------------------------------------------------- */

static int
write_at(int dirfd, const char *name, const char *value)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, value, strlen(value));
	close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

/* Up to SIZE - 1 bytes of DIRFD/NAME, NUL-terminated. -1 on error. */
static int
read_at(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The number after "KEY " on a line of TEXT (as in cpu.stat), or 0. */
static uint64_t
key_value(const char *text, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = text; p != NULL && *p != '\0';
	    p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return strtoull(p + klen + 1, NULL, 10);
	return 0;
}

/* ---- where the cgroup v2 hierarchy is, and where we are in it ---------- */

/* The mount point of the first cgroup2 file system (mountinfo, proc(5)). */
static int
cgroup2_mount(char *out, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int rc = -1;

	if (f == NULL)
		return -1;
	while (rc < 0 && fgets(line, sizeof(line), f) != NULL) {
		char *sep = strstr(line, " - "), *mnt;
		if (sep == NULL || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		/* fields: id parent major:minor root mountpoint ... */
		mnt = line;
		for (int i = 0; i < 4 && mnt != NULL; i++)
			if ((mnt = strchr(mnt, ' ')) != NULL)
				mnt++;
		if (mnt == NULL)
			continue;
		size_t len = strcspn(mnt, " ");
		if (len < size) {
			memcpy(out, mnt, len);
			out[len] = '\0';
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

/* This process's cgroup v2 path ("0::/path" in /proc/self/cgroup). */
static int
own_cgroup(char *out, size_t size)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[PATH_MAX + 16];
	int rc = -1;

	if (f == NULL)
		return -1;
	while (rc < 0 && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			if (strlen(line + 3) < size) {
				strcpy(out, line + 3);
				rc = 0;
			}
		}
	fclose(f);
	return rc;
}

/* Enable what DIR offers of memory, pids and cpu for its children. */
static unsigned
enable_controllers(int dirfd)
{
	static const char *const names[] = { "memory", "pids", "cpu" };
	char avail[512], on[512], word[16];
	unsigned bits = 0;

	if (read_at(dirfd, "cgroup.controllers", avail, sizeof(avail)) < 0)
		return 0;
	for (unsigned i = 0; i < 3; i++) {
		snprintf(word, sizeof(word), "+%s", names[i]);
		if (strstr(avail, names[i]) != NULL)
			(void)write_at(dirfd, "cgroup.subtree_control", word);
	}
	if (read_at(dirfd, "cgroup.subtree_control", on, sizeof(on)) < 0)
		return 0;
	for (unsigned i = 0; i < 3; i++) {
		const char *p = strstr(on, names[i]);
		size_t n = strlen(names[i]);
		if (p != NULL && (p == on || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			bits |= 1u << i;
	}
	return bits;
}

/* Empty "fnlauncher.PID" folders in DIR whose daemon is gone (it was
 * killed before it could remove its own). */
static void
remove_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];
	long pid;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end;
		if (strncmp(e->d_name, "fnlauncher.", 11) != 0)
			continue;
		pid = strtol(e->d_name + 11, &end, 10);
		if (*end != '\0' || pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    e->d_name) < sizeof(path))
			(void)rmdir(path);      /* only if empty */
	}
	closedir(d);
}

/* The folder leaves go in, for SETTING ("auto" or a path), into OUT;
 * with MAY_MOVE, auto may move this process into OWN/daemon first.
 * Side effects only when ACT. 0, or -1 with the reason in WHY. */
static int
choose(const char *setting_, bool may_move, bool act, char *out, size_t size,
    char *why, size_t wlen)
{
	char mnt[PATH_MAX], own[PATH_MAX], path[PATH_MAX];
	int n;

	if (strcmp(setting_, "auto") != 0) {
		if ((size_t)snprintf(out, size, "%s", setting_) >= size)
			return snprintf(why, wlen, "%s: path too long", setting_), -1;
		if (act && mkdir(out, 0755) < 0 && errno != EEXIST)
			return snprintf(why, wlen, "mkdir %s: %s", out,
			    strerror(errno)), -1;
		return 0;
	}
	if (cgroup2_mount(mnt, sizeof(mnt)) < 0)
		return snprintf(why, wlen, "no cgroup2 file system is mounted"), -1;
	if (own_cgroup(own, sizeof(own)) < 0)
		return snprintf(why, wlen, "no cgroup v2 line in /proc/self/cgroup"), -1;
	/* fnlauncher -t as systemd's ExecReload runs in the unit's ".control"
	 * group: say what the daemon, in the unit's own, would do. */
	size_t olen = strlen(own);
	if (!act && olen > 9 && strcmp(own + olen - 9, "/.control") == 0)
		own[olen - 9] = '\0';
	n = snprintf(path, sizeof(path), "%s%s", mnt, strcmp(own, "/") == 0 ?
	    "" : own);
	if (n < 0 || (size_t)n >= sizeof(path))
		return snprintf(why, wlen, "cgroup path too long"), -1;
	if (access(path, W_OK) < 0)
		return snprintf(why, wlen, "%s: %s (systemd: Delegate=yes, and no ProtectControlGroups=)",
		    path, strerror(errno)), -1;
	if (strcmp(own, "/") == 0 || !may_move) {
		/* The root cgroup may hold processes and children alike; a
		 * folder of our own keeps our leaves together. Those that
		 * daemons killed before they could remove theirs left behind
		 * go first. */
		if (act)
			remove_stale(path);
		if ((size_t)snprintf(out, size, "%s/fnlauncher.%ld", path,
		    (long)getpid()) >= size)
			return snprintf(why, wlen, "cgroup path too long"), -1;
		if (act && mkdir(out, 0755) < 0 && errno != EEXIST)
			return snprintf(why, wlen, "mkdir %s: %s", out,
			    strerror(errno)), -1;
		if (act)
			snprintf(made, sizeof(made), "%s", out);
		return 0;
	}
	/* Our own cgroup, under a manager (systemd): ours only when it
	 * was delegated (Delegate=yes marks it with the xattr
	 * trusted.delegate or user.delegate, systemd 251 and later). */
	if (getxattr(path, "trusted.delegate", NULL, 0) < 0 &&
	    getxattr(path, "user.delegate", NULL, 0) < 0)
		return snprintf(why, wlen, "%s is not delegated to us (systemd: Delegate=yes in the unit; or give cgroup: PATH)",
		    path), -1;
	/* Delegated: move into a leaf, so that controllers can be enabled
	 * for our children. */
	if (act) {
		char leaf[PATH_MAX + 16];
		snprintf(leaf, sizeof(leaf), "%s/daemon", path);
		if ((mkdir(leaf, 0755) < 0 && errno != EEXIST) ||
		    write_at(AT_FDCWD, strcat(leaf, "/cgroup.procs"), "0") < 0)
			return snprintf(why, wlen, "moving into %s/daemon: %s",
			    path, strerror(errno)), -1;
	}
	if ((size_t)snprintf(out, size, "%s", path) >= size)
		return snprintf(why, wlen, "cgroup path too long"), -1;
	return 0;
}

static const char *
ctrl_words(unsigned bits, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s", bits & CG_MEMORY ? " memory" : "",
	    bits & CG_PIDS ? " pids" : "", bits & CG_CPU ? " cpu" : "",
	    bits ? "" : " none");
	return buf + 1;
}

void
cgroup_setup(const struct manifest *m, bool daemon)
{
	char path[PATH_MAX], why[PATH_MAX + 128], words[64];
	int fd = -1;
	unsigned bits = 0;

	pthread_mutex_lock(&lock);
	if (strcmp(setting, m->cgroup) == 0 && setting[0] != '\0') {
		pthread_mutex_unlock(&lock);
		return;                 /* a reload that changed nothing here */
	}
	snprintf(setting, sizeof(setting), "%s", m->cgroup);
	if (strcmp(m->cgroup, "off") == 0) {
		snprintf(why, sizeof(why), "cgroup: off");
	} else if (choose(m->cgroup, daemon, true, path, sizeof(path), why,
	    sizeof(why)) == 0 &&
	    (fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(why, sizeof(why), "%s: %s", path, strerror(errno));
	}
	if (fd >= 0) {
		bits = enable_controllers(fd);
		if (parent_fd >= 0)
			close(parent_fd);
		parent_fd = fd;
		ctrl = bits;
		snprintf(parent, sizeof(parent), "%s", path);
		if (daemon)
			fnlog(FNLOG_INFO, "cgroup: a leaf per invocation under %s (controllers:%s%s)",
		    path, " ", ctrl_words(bits, words, sizeof(words)));
		if (daemon && bits != (CG_MEMORY | CG_PIDS | CG_CPU) &&
		    once("cgroup", "controllers"))
			fnlog(FNLOG_WARN, "cgroup: controllers missing under %s:%s%s%s",
			    path, bits & CG_MEMORY ? "" : " no memory (memory is RLIMIT_DATA only, per process);",
			    bits & CG_PIDS ? "" : " no pids (nproc is RLIMIT_NPROC only, per uid);",
			    bits & CG_CPU ? "" : " no cpu (cpu_quota does nothing)");
	} else {
		if (parent_fd >= 0)
			close(parent_fd);
		parent_fd = -1;
		ctrl = 0;
		if (daemon)
			fnlog(FNLOG_WARN, "%s: no cgroup per invocation; teardown falls back to process groups, the subreaper and FN_REQUEST_ID, and CPU is counted from wait4 only",
		    why);
	}
	pthread_mutex_unlock(&lock);
}

bool
cgroup_active(void)
{
	pthread_mutex_lock(&lock);
	bool on = parent_fd >= 0;
	pthread_mutex_unlock(&lock);
	return on;
}

void
cgroup_cleanup(void)
{
	DIR *d;
	struct dirent *de;

	if (made[0] == '\0')
		return;
	/* the tenants' folders first (empty by now) */
	if ((d = opendir(made)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, "t-", 2) == 0)
				(void)unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
		closedir(d);
	}
	(void)rmdir(made);
}

void
cgroup_describe(const struct manifest *m, preflight_report report, void *arg)
{
	char path[PATH_MAX], why[PATH_MAX + 128], msg[2 * PATH_MAX + 256];

	if (strcmp(m->cgroup, "off") == 0) {
		report(PREFLIGHT_WARNING, "cgroup: off: no cgroup per invocation; teardown falls back to process groups, the subreaper and FN_REQUEST_ID", arg);
		return;
	}
	if (choose(m->cgroup, true, false, path, sizeof(path), why,
	    sizeof(why)) < 0) {
		snprintf(msg, sizeof(msg), "cgroup: %s: the daemon would fall back to process groups, the subreaper and FN_REQUEST_ID", why);
		report(PREFLIGHT_WARNING, msg, arg);
		return;
	}
	snprintf(msg, sizeof(msg), "cgroup: the daemon would put a leaf per invocation under %s", path);
	report(PREFLIGHT_INFO, msg, arg);
}

/* ---- one leaf per invocation --------------------------------------------- */

/* A limit for a controller file: the number, or "max". */
static void
limit_str(uint64_t v, char *buf, size_t size)
{
	if (v == FN_UNLIMITED)
		snprintf(buf, size, "max");
	else
		snprintf(buf, size, "%" PRIu64, v);
}

static int
apply_limits(int dirfd, unsigned bits, const struct fn_spec *fn)
{
	char v[64];

	if (bits & CG_MEMORY) {
		limit_str(fn->limits[FN_LIMIT_MEMORY], v, sizeof(v));
		if (write_at(dirfd, "memory.max", v) < 0 ||
		    write_at(dirfd, "memory.swap.max", "0") < 0 ||
		    write_at(dirfd, "memory.oom.group", "1") < 0)
			return -1;
	}
	if (bits & CG_PIDS) {
		limit_str(fn->limits[FN_LIMIT_NPROC], v, sizeof(v));
		if (write_at(dirfd, "pids.max", v) < 0)
			return -1;
	}
	if ((bits & CG_CPU) && fn->limits[FN_LIMIT_CPU_QUOTA] != FN_UNLIMITED) {
		snprintf(v, sizeof(v), "%" PRIu64 " %d",
		    fn->limits[FN_LIMIT_CPU_QUOTA] * (CPU_PERIOD_US / 100),
		    CPU_PERIOD_US);
		if (write_at(dirfd, "cpu.max", v) < 0)
			return -1;
	}
	return 0;
}

/* The folder of tenant T's leaves, "t-NAME", under DIRFD: made if
 * missing, its children given the controllers, its budget written. */
static int
tenant_dir(int dirfd, const struct manifest *t, unsigned bits)
{
	char name[FN_NAME_MAX + 8], v[64];
	int fd;

	snprintf(name, sizeof(name), "t-%s", t->tenant);
	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
		return -1;
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (bits != 0)
		(void)enable_controllers(fd);
	if (bits & CG_MEMORY) {
		limit_str(t->budget.memory ? t->budget.memory : FN_UNLIMITED,
		    v, sizeof(v));
		(void)write_at(fd, "memory.max", v);
		(void)write_at(fd, "memory.swap.max", "0");
	}
	if (bits & CG_PIDS) {
		limit_str(t->budget.pids ? t->budget.pids : FN_UNLIMITED, v,
		    sizeof(v));
		(void)write_at(fd, "pids.max", v);
	}
	if (bits & CG_CPU) {
		if (t->budget.cpu_quota && t->budget.cpu_quota != FN_UNLIMITED)
			snprintf(v, sizeof(v), "%" PRIu64 " %d",
			    t->budget.cpu_quota * (CPU_PERIOD_US / 100),
			    CPU_PERIOD_US);
		else
			snprintf(v, sizeof(v), "max %d", CPU_PERIOD_US);
		(void)write_at(fd, "cpu.max", v);
	}
	return fd;
}

void
cgroup_tenants_setup(const struct manifest *m)
{
	int pfd, fd;
	unsigned bits;

	pthread_mutex_lock(&lock);
	pfd = parent_fd >= 0 ? fcntl(parent_fd, F_DUPFD_CLOEXEC, 3) : -1;
	bits = ctrl;
	pthread_mutex_unlock(&lock);
	if (pfd < 0)
		return;
	for (size_t i = 0; i < m->ntenants; i++) {
		if ((fd = tenant_dir(pfd, m->tenants[i], bits)) < 0)
			fnlog(FNLOG_ERROR, "tenant %s: cgroup %s/t-%s: %s",
			    m->tenants[i]->tenant, parent,
			    m->tenants[i]->tenant, strerror(errno));
		else
			close(fd);
	}
	close(pfd);
}

int
cgroup_leaf_new(struct cgleaf *l, const char *request_id,
    const struct fn_spec *fn)
{
	int pfd;
	unsigned bits;

	l->dirfd = l->events_fd = l->parent_fd = -1;
	pthread_mutex_lock(&lock);
	pfd = parent_fd >= 0 ? fcntl(parent_fd, F_DUPFD_CLOEXEC, 3) : -1;
	bits = ctrl;
	pthread_mutex_unlock(&lock);
	if (pfd < 0)
		return 0;       /* no cgroup in use */
	if (fn->tenant != NULL) {
		/* the tenant's own folder, made at load (cgroup_tenants_setup) */
		char tname[FN_NAME_MAX + 8];
		int tfd;

		snprintf(tname, sizeof(tname), "t-%s", fn->tenant);
		tfd = openat(pfd, tname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (tfd < 0) {
			fnlog(FNLOG_ERROR, "function=%s request_id=%s: cgroup %s/%s: %s",
			    fn->name, request_id, parent, tname, strerror(errno));
			close(pfd);
			return -1;
		}
		close(pfd);
		pfd = tfd;
	}
	snprintf(l->name, sizeof(l->name), "i-%s.%u", request_id,
	    atomic_fetch_add(&seq, 1));
	if (mkdirat(pfd, l->name, 0755) < 0 ||
	    (l->dirfd = openat(pfd, l->name, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0 ||
	    apply_limits(l->dirfd, bits, fn) < 0 ||
	    (l->events_fd = openat(l->dirfd, "cgroup.events", O_RDONLY |
	    O_CLOEXEC)) < 0) {
		fnlog(FNLOG_ERROR, "function=%s request_id=%s: cgroup leaf %s/%s: %s",
		    fn->name, request_id, parent, l->name, strerror(errno));
		if (l->dirfd >= 0)
			close(l->dirfd);
		l->dirfd = -1;
		(void)unlinkat(pfd, l->name, AT_REMOVEDIR);
		close(pfd);
		return -1;
	}
	l->parent_fd = pfd;
	return 0;
}

bool
cgroup_leaf_populated(const struct cgleaf *l)
{
	char buf[256];
	ssize_t n;

	if (l->dirfd < 0)
		return false;
	n = pread(l->events_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return true;            /* cannot tell: assume so */
	buf[n] = '\0';
	return key_value(buf, "populated") != 0;
}

/* Without cgroup.kill (Linux < 5.14): SIGKILL each process listed. */
static void
kill_listed(const struct cgleaf *l)
{
	char buf[8192];

	if (read_at(l->dirfd, "cgroup.procs", buf, sizeof(buf)) < 0)
		return;
	for (char *p = buf, *end; *p != '\0'; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0)
			kill((pid_t)pid, SIGKILL);
	}
}

int
cgroup_leaf_kill(struct cgleaf *l, int timeout_ms, void (*reap)(void *),
    void *arg)
{
	struct pollfd pfd = { .fd = l->events_fd, .events = POLLPRI };

	if (l->dirfd < 0 || !cgroup_leaf_populated(l))
		return 1;
	for (int waited = 0; ; waited += 5) {
		if (!cgroup_leaf_populated(l))
			return 0;
		if (waited >= timeout_ms)
			return -1;
		if (write_at(l->dirfd, "cgroup.kill", "1") < 0)
			kill_listed(l);
		if (reap != NULL)
			reap(arg);
		/* "populated" changing is a file-modified event (POLLPRI) */
		(void)poll(&pfd, 1, 5);
	}
}

void
cgroup_leaf_usage(const struct cgleaf *l, struct cgroup_usage *u)
{
	char buf[1024];

	memset(u, 0, sizeof(*u));
	if (l->dirfd < 0)
		return;
	if (read_at(l->dirfd, "cpu.stat", buf, sizeof(buf)) == 0) {
		u->user_us = key_value(buf, "user_usec");
		u->sys_us = key_value(buf, "system_usec");
	}
	if (read_at(l->dirfd, "memory.peak", buf, sizeof(buf)) == 0) {
		u->memory = true;
		u->memory_peak = strtoull(buf, NULL, 10);
		if (read_at(l->dirfd, "memory.events", buf, sizeof(buf)) == 0)
			u->oom_kills = key_value(buf, "oom_kill");
	}
}

void
cgroup_leaf_free(struct cgleaf *l)
{
	if (l->dirfd < 0)
		return;
	close(l->events_fd);
	close(l->dirfd);
	if (unlinkat(l->parent_fd, l->name, AT_REMOVEDIR) < 0)
		fnlog(FNLOG_WARN, "cgroup leaf %s not removed: %s", l->name,
		    strerror(errno));
	close(l->parent_fd);
	l->dirfd = l->events_fd = l->parent_fd = -1;
}
