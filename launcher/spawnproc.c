/* spawnproc.c — the child side: everything between clone and execve.
 *
 * Between clone and execve only async-signal-safe system calls run: the
 * child shares the daemon's memory (CLONE_VM), so it must not take locks,
 * allocate, or touch stdio. Everything it needs is built by the parent. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawnclone.h"
#include "spawnproc.h"

/* The child's code runs on a stack of ours that sanitizers know nothing
 * about, under the function's rlimits, between clone and execve:
 * instrumentation there (ASan's no-return handling maps memory) would
 * fail or report what is not there. Only system calls run in it. */
#if defined(__GNUC__)
#define CHILD_CODE __attribute__((no_sanitize("address", "undefined")))
#else
#define CHILD_CODE
#endif

#define CHILD_STACK (64 * 1024)   /* the child's own stack, and ... */
#define GUARD (4096)               /* ... below it a page it cannot touch */

static const int rl_resource[FN_RLIMIT_COUNT] = {
	[FN_LIMIT_CPU] = RLIMIT_CPU,
	/* Memory is what a process writes, not the address space it
	 * reserves: Node, Go and Java reserve gigabytes up front (PROT_NONE)
	 * and die under RLIMIT_AS. RLIMIT_DATA counts private writable
	 * mappings (Linux >= 4.7), which is what they use. */
	[FN_LIMIT_MEMORY] = RLIMIT_DATA,
	[FN_LIMIT_NOFILE] = RLIMIT_NOFILE,
	[FN_LIMIT_NPROC] = RLIMIT_NPROC,
	[FN_LIMIT_FSIZE] = RLIMIT_FSIZE,
	[FN_LIMIT_STACK] = RLIMIT_STACK,
	[FN_LIMIT_CORE] = RLIMIT_CORE,
	[FN_LIMIT_ADDRESS_SPACE] = RLIMIT_AS,
};

/* The kernel's struct sigaction (x86-64 and most others). */
struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

/* Signals whose disposition is not SIG_DFL in the daemon, found once by
 * spawn_init(): the child resets only those (all of them would be some
 * 60 system calls per spawn). Unknown (never initialised): all. */
static int not_default[_NSIG];
static size_t n_not_default;
static bool initialised;

void
spawn_init(void)
{
	struct kernel_sigaction cur;

	n_not_default = 0;
	for (int sig = 1; sig < _NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (syscall(SYS_rt_sigaction, sig, NULL, &cur, _NSIG / 8) < 0 ||
		    cur.handler != SIG_DFL)
			not_default[n_not_default++] = sig;
	}
	initialised = true;
}

/* Shared between parent and child (CLONE_VM): the child writes err/step
 * only when a step fails, just before _exit. */
struct child_ctx {
	const struct spawn_req *req;
	char tmp_opts[64];        /* isolate tmp: the tmpfs's options */
	unsigned tmp_dirs;        /* bit i: child_isolate_tmp's dirs[i] */
	bool mount_mqueue;
	int procs_fd;             /* the leaf's cgroup.procs, when the child
	                           * must move itself there; else -1 */
	volatile int err;
	const char *volatile step;
};

/* A limit is at most the daemon's own hard limit ("unlimited" is that
 * hard limit): raising a hard limit needs CAP_SYS_RESOURCE, which root
 * in a container often lacks, and every spawn would fail with EPERM. */
void
spawn_limits(struct spawn_req *req, const uint64_t limits[FN_LIMIT_COUNT])
{
	for (size_t i = 0; i < FN_RLIMIT_COUNT; i++) {
		struct rlimit own;
		rlim_t v = limits[i] == FN_UNLIMITED ? RLIM_INFINITY
		    : (rlim_t)limits[i];
		if (getrlimit(rl_resource[i], &own) == 0 && v > own.rlim_max)
			v = own.rlim_max;
		req->rl[i].rlim_cur = v;
		req->rl[i].rlim_max = v;
	}
}

CHILD_CODE static int
child_fail(struct child_ctx *c, const char *step)
{
	c->err = errno ? errno : EINVAL;
	c->step = step;
	_exit(127);
}

/* Make FD the child's descriptor TARGET (0, 1 or 2). */
CHILD_CODE static int
child_dup(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target) < 0 ? -1 : 0;
}

/* Groups, then gid, then uid, by raw system calls: glibc's wrappers
 * would signal every thread of the daemon (we share its memory). Then
 * verify: all three uids are the target's and root cannot come back. */
CHILD_CODE static int
child_identity(struct child_ctx *c, const struct identity *id)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;

	if (syscall(SYS_setgroups, id->ngroups, id->groups) < 0 ||
	    syscall(SYS_setresgid, id->gid, id->gid, id->gid) < 0 ||
	    syscall(SYS_setresuid, id->uid, id->uid, id->uid) < 0)
		return -1;
	if (syscall(SYS_getresuid, &r, &e, &s) < 0 ||
	    syscall(SYS_getresgid, &gr, &ge, &gs) < 0)
		return -1;
	if (r != id->uid || e != id->uid || s != id->uid || gr != id->gid ||
	    ge != id->gid || gs != id->gid) {
		errno = EPERM;
		return -1;
	}
	if (id->uid != 0 && syscall(SYS_setresuid, 0, 0, 0) == 0) {
		errno = EPERM;      /* could regain root: never exec */
		return -1;
	}
	return 0;
}

/* In a new PID (and mount) namespace, /proc must show that namespace. */
CHILD_CODE static int
child_isolate_pid(void)
{
	return mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    NULL);
}

const char *const spawn_tmp_names[SPAWN_TMP_DIRS] = { "/tmp", "/var/tmp",
    "/dev/shm", "/run/lock" };

/* isolate tmp: a tmpfs of the invocation's own on /tmp, and one each on
 * /var/tmp, /dev/shm and /run/lock where those are folders (not
 * symlinks to /tmp): nothing written there is seen by another
 * invocation. Each is a file system of its own, as on a normal system (a
 * file in /tmp is not one in /var/tmp). */
CHILD_CODE int
spawn_mount_tmp(unsigned dirs, const char *opts)
{
	for (size_t i = 0; i < SPAWN_TMP_DIRS; i++)
		if ((dirs & (1u << i)) && mount("tmpfs", spawn_tmp_names[i],
		    "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
			return -1;
	return 0;
}

void
spawn_tmp_opts(uint64_t size, char *buf, size_t len)
{
	if (size == FN_UNLIMITED)
		snprintf(buf, len, "mode=1777");
	else
		snprintf(buf, len, "size=%llu,mode=1777",
		    (unsigned long long)size);
}

/* isolate ipc: /dev/mqueue shows the IPC namespace that mounted it: a
 * fresh one shows the invocation's own message queues, not the host's. */
CHILD_CODE static int
child_isolate_ipc(const struct child_ctx *c)
{
	if (!c->mount_mqueue)
		return 0;
	return mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV |
	    MS_NOEXEC, NULL);
}

/* A new network namespace has only "lo", and it is down: bring it up. */
CHILD_CODE static int
child_isolate_net(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

	if (s < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	/* /sys/class/net shows the namespace that mounted sysfs. */
	if (rc == 0)
		rc = mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV |
		    MS_NOEXEC | MS_RDONLY, NULL);
	return rc;
}

/* The new session is a new autogroup of the scheduler (where it is in
 * effect): as nice as FN_AUTOGROUP_NICE, so that many functions weigh
 * like a few processes against nginx and the daemon, as a CGI server's
 * children do (they share its one session). Best effort: no autogroup,
 * no change; as root, before the identity changes (after it, the
 * process is not dumpable and /proc/self is root's). */
CHILD_CODE static void
child_autogroup(void)
{
	static const char nice[] = FN_AUTOGROUP_NICE;
	int fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		(void)!write(fd, nice, sizeof(nice) - 1);
		close(fd);
	}
}

CHILD_CODE static int
child_main(void *arg)
{
	struct child_ctx *c = arg;
	const struct spawn_req *rq = c->req;
	struct kernel_sigaction dfl = { 0 };   /* SIG_DFL, no flags */
	sigset_t none;

	/* Dispositions back to default: the daemon ignores SIGPIPE, and no
	 * handler of ours may run here. The raw call, because glibc's
	 * sigaction() refuses its own signals 32 and 33, which may arrive
	 * ignored. */
	/* Into the invocation's cgroup before anything else, when clone3
	 * could not put us there (our code only has run until now). */
	if (c->procs_fd >= 0 && write(c->procs_fd, "0", 1) != 1)
		child_fail(c, "cgroup: join the invocation's leaf");
	for (size_t i = 0; i < n_not_default; i++)
		(void)syscall(SYS_rt_sigaction, not_default[i], &dfl, NULL,
		    _NSIG / 8);
	if (setsid() < 0)
		child_fail(c, "setsid");
	child_autogroup();
	if (child_dup(rq->fd_in, 0) < 0 || child_dup(rq->fd_out, 1) < 0 ||
	    child_dup(rq->fd_err, 2) < 0)
		child_fail(c, "dup2");
	/* A kept mount namespace with its tmpfs, and IPC namespace
	 * (nspool.h), entered before their fds are closed; else, below,
	 * ones of our own. */
	if (rq->mnt_fd >= 0 && setns(rq->mnt_fd, CLONE_NEWNS) < 0)
		child_fail(c, "isolate tmp: enter the kept mount namespace");
	if (rq->ipc_fd >= 0 && setns(rq->ipc_fd, CLONE_NEWIPC) < 0)
		child_fail(c, "isolate ipc: enter the kept IPC namespace");
	/* libfcgi's sockets are not close-on-exec: close everything else. */
	if (syscall(SYS_close_range, 3U, ~0U, 0) < 0)
		child_fail(c, "close_range");
	/* Our mounts must not leak back into the daemon's namespace. */
	if (((rq->isolate & ~FN_ISOLATE_IPC) != 0 || c->mount_mqueue) &&
	    rq->mnt_fd < 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail(c, "isolate: private mounts");
	if ((rq->isolate & FN_ISOLATE_PID) && child_isolate_pid() < 0)
		child_fail(c, "isolate pid: mount /proc");
	if ((rq->isolate & FN_ISOLATE_TMP) && rq->mnt_fd < 0 &&
	    spawn_mount_tmp(c->tmp_dirs, c->tmp_opts) < 0)
		child_fail(c, "isolate tmp: mount a tmpfs on /tmp");
	if ((rq->isolate & FN_ISOLATE_IPC) && child_isolate_ipc(c) < 0)
		child_fail(c, "isolate ipc: mount /dev/mqueue");
	if ((rq->isolate & FN_ISOLATE_NET) && child_isolate_net() < 0)
		child_fail(c, "isolate net: loopback up");
	for (size_t i = 0; i < FN_RLIMIT_COUNT; i++)
		if (setrlimit(rl_resource[i], &rq->rl[i]) < 0)
			child_fail(c, "setrlimit");
	umask(rq->umask);
	if (rq->id != NULL && child_identity(c, rq->id) < 0)
		child_fail(c, "setuid");
	if (rq->cwd != NULL && chdir(rq->cwd) < 0)
		child_fail(c, "chdir");
	/* Die with the daemon's thread that waits for us (after the
	 * identity change, which clears it). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(c, "prctl");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(c, "no_new_privs");
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail(c, "sigprocmask");
	execve(rq->path, rq->argv, rq->envp);
	child_fail(c, "execve");
	return 127;
}

/* PATH is a folder, not a symlink (to /tmp, as on some systems). */
static bool
is_real_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Which of /tmp, /var/tmp, /dev/shm and /run/lock get a tmpfs, and
 * whether there is a /dev/mqueue: looked at once (these folders do not
 * come and go under a running daemon). */
static unsigned tmp_dirs;
static bool have_mqueue;
static pthread_once_t dirs_once = PTHREAD_ONCE_INIT;

static void find_dirs(void);

unsigned
spawn_tmp_dirs(void)
{
	pthread_once(&dirs_once, find_dirs);
	return tmp_dirs;
}

bool
spawn_needs_mqueue(void)
{
	pthread_once(&dirs_once, find_dirs);
	return have_mqueue;
}

static void
find_dirs(void)
{
	/* /tmp always; the others where they are folders of their own
	 * (/run/lock is 1777 on Debian too) */
	tmp_dirs = 1u | (is_real_dir("/var/tmp") ? 2u : 0) |
	    (is_real_dir("/dev/shm") ? 4u : 0) |
	    (is_real_dir("/run/lock") ? 8u : 0);
	have_mqueue = is_real_dir("/dev/mqueue");
}

int
spawn_start(const struct spawn_req *req, struct spawn_res *res)
{
	if (!initialised)
		spawn_init();
	struct child_ctx ctx = { .req = req, .procs_fd = -1, .err = 0,
	    .step = NULL };
	/* The child runs on this stack while we are suspended (CLONE_VFORK).
	 * A page below it is PROT_NONE, so an overflow faults in the child
	 * instead of writing over our thread's memory (CLONE_VM). */
	char *stack = mmap(NULL, GUARD + CHILD_STACK, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	sigset_t all, old;
	int pidfd = -1, status;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	res->pidfd = -1;
	if (stack == MAP_FAILED || mprotect(stack, GUARD, PROT_NONE) < 0) {
		res->err = errno;
		res->step = "clone";
		if (stack != MAP_FAILED)
			munmap(stack, GUARD + CHILD_STACK);
		return -1;
	}
	/* No handler of ours may run on the child's stack. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int flags = 0;
	/* A PID namespace makes teardown total: when its first process
	 * (the function, pid 1 there) exits, the kernel kills the rest. */
	if (req->isolate & FN_ISOLATE_PID)
		flags |= CLONE_NEWPID | CLONE_NEWNS;
	if (req->isolate & FN_ISOLATE_NET)
		flags |= CLONE_NEWNET | CLONE_NEWNS;
	if ((req->isolate & FN_ISOLATE_TMP) && req->mnt_fd < 0) {
		flags |= CLONE_NEWNS;
		spawn_tmp_opts(req->tmp_size, ctx.tmp_opts,
		    sizeof(ctx.tmp_opts));
		ctx.tmp_dirs = spawn_tmp_dirs();
	}
	/* SysV IPC and POSIX message queues of its own, gone with it. */
	if ((req->isolate & FN_ISOLATE_IPC) && req->ipc_fd < 0) {
		flags |= CLONE_NEWIPC;
		/* A kept namespace has a /dev/mqueue of its own already. */
		if ((ctx.mount_mqueue = spawn_needs_mqueue() &&
		    req->mnt_fd < 0))
			flags |= CLONE_NEWNS;
	}
	pid = spawn_clone(child_main, &ctx, stack + GUARD, CHILD_STACK,
	    (unsigned long)flags, req->cgroup_fd, &ctx.procs_fd, &pidfd);
	int saved = errno;
	if (ctx.procs_fd >= 0)
		close(ctx.procs_fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	munmap(stack, GUARD + CHILD_STACK);     /* the child has exec'd or died */
	if (pid < 0) {
		res->err = saved;
		res->step = "clone";
		return -1;
	}
	if (ctx.err != 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		close(pidfd);
		res->err = ctx.err;
		res->step = ctx.step;
		return -1;
	}
	res->pid = pid;
	res->pidfd = pidfd;
	res->started = true;
	return 0;
}
