/* nspool.c — see nspool.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fnlog.h"
#include "inflight.h"
#include "manifest.h"
#include "nspool.h"
#include "once.h"
#include "spawnproc.h"

#define NSPOOL_KEEP 32          /* scrubbed slots kept, at most (7 fds
                                 * each) */
#define SCRUB_DEPTH 64          /* folders deeper than this: thrown away */
#define SCRUB_ENTRIES 100000    /* more entries than this: thrown away */
#define NSPOOL_AGE 60           /* seconds a slot is used, at most */
#define NSPOOL_IDLE_MS 1000     /* a slot waits unused this long, at most */
#define MQ SPAWN_TMP_DIRS       /* root_fd[MQ]: the slot's mqueue fs */

struct nsslot {
	struct nsslot *next;
	char *key;                      /* "name\0path\0": whose it is */
	size_t keylen;
	uint64_t tmp_size;
	time_t born;                    /* CLOCK_MONOTONIC seconds */
	uint64_t given_ms;              /* when it came back, CLOCK_MONOTONIC */
	int mnt_fd;
	int ipc_fd;                     /* its IPC namespace */
	int root_fd[SPAWN_TMP_DIRS + 1];        /* -1: none; [MQ]: its
	                                         * IPC namespace's queues */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct nsslot *kept;
static size_t nkept;

static void
slot_free(struct nsslot *s)
{
	if (s == NULL)
		return;
	if (s->mnt_fd >= 0)
		close(s->mnt_fd);
	if (s->ipc_fd >= 0)
		close(s->ipc_fd);
	for (size_t i = 0; i <= SPAWN_TMP_DIRS; i++)
		if (s->root_fd[i] >= 0)
			close(s->root_fd[i]);
	free(s->key);
	free(s);
}

static time_t
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The holder: a child in a new mount and IPC namespace that mounts the
 * tmpfs (and, where the host has one, that IPC namespace's mqueue file
 * system on /dev/mqueue), says so on FD, and waits to be killed (the
 * namespaces outlive it through our fds). Between fork and exit: system
 * calls only. */
static void
holder(int fd, const char *opts, unsigned dirs, bool mq)
{
	char ok = 1;

	/* Not the daemon's sockets: a connection it closes must close. */
	if (fd > 3)
		(void)syscall(SYS_close_range, 3U, (unsigned)fd - 1, 0U);
	(void)syscall(SYS_close_range, (unsigned)fd + 1, ~0U, 0U);
	if (unshare(CLONE_NEWNS | CLONE_NEWIPC) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    spawn_mount_tmp(dirs, opts) < 0 ||
	    (mq && mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID |
	    MS_NODEV | MS_NOEXEC, NULL) < 0))
		ok = 0;
	(void)!write(fd, &ok, 1);
	for (;;)
		pause();
}

/* This thread into the IPC namespace FD (setns(2) moves only the calling
 * thread); *BACK: the daemon's own, to come back to. 0, or -1. */
static int
enter_ipc(int fd, int *back)
{
	/* The main thread's: it never leaves it. */
	if ((*back = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (setns(fd, CLONE_NEWIPC) < 0) {
		close(*back);
		return -1;
	}
	return 0;
}

/* Back into the daemon's: a thread left in a slot's would start
 * functions without isolate ipc there. Cannot fail but by running out
 * of memory; if it does, stop rather than go on wrong. */
static void
leave_ipc(int back)
{
	if (setns(back, CLONE_NEWIPC) < 0) {
		fnlog(FNLOG_ERROR, "isolate ipc: cannot return to the daemon's IPC namespace (%s): exiting",
		    strerror(errno));
		abort();
	}
	close(back);
}

/* A folder fd on the mqueue file system of the IPC namespace IPC_FD (a
 * mount of ours, attached nowhere): the slot's POSIX message queues, to
 * be removed after each invocation. -1 on failure. */
static int
mqueue_root(int ipc_fd)
{
	int fs, m, back, dir = -1;

	if (enter_ipc(ipc_fd, &back) < 0)
		return -1;
	fs = fsopen("mqueue", FSOPEN_CLOEXEC);
	leave_ipc(back);
	if (fs < 0)
		return -1;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0 &&
	    (m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID |
	    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)) >= 0) {
		dir = openat(m, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(m);
	}
	close(fs);
	return dir;
}

/* Remove every System V segment, semaphore set and message queue of
 * the slot's IPC namespace (nothing of its invocation runs: none is
 * attached). 0 when none is left, else -1. */
static int
scrub_ipc(const struct nsslot *s)
{
	struct shm_info shi;
	struct seminfo sei;
	struct msginfo msi;
	union { int val; struct semid_ds *buf; struct seminfo *info; } arg;
	struct shmid_ds shd;
	struct semid_ds sed;
	struct msqid_ds msd;
	int max, id, back, rc = 0;

	if (enter_ipc(s->ipc_fd, &back) < 0)
		return -1;
	if ((max = shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&shi)) >= 0)
		for (int i = 0; i <= max; i++)
			if ((id = shmctl(i, SHM_STAT_ANY, &shd)) >= 0)
				(void)shmctl(id, IPC_RMID, NULL);
	arg.info = &sei;
	if ((max = semctl(0, 0, SEM_INFO, arg)) >= 0)
		for (int i = 0; i <= max; i++) {
			arg.buf = &sed;
			if ((id = semctl(i, 0, SEM_STAT_ANY, arg)) >= 0)
				(void)semctl(id, 0, IPC_RMID);
		}
	if ((max = msgctl(0, MSG_INFO, (struct msqid_ds *)(void *)&msi)) >= 0)
		for (int i = 0; i <= max; i++)
			if ((id = msgctl(i, MSG_STAT_ANY, &msd)) >= 0)
				(void)msgctl(id, IPC_RMID, NULL);
	arg.info = &sei;
	if (shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&shi) < 0 ||
	    shi.used_ids != 0 || semctl(0, 0, SEM_INFO, arg) < 0 ||
	    sei.semusz != 0 ||
	    msgctl(0, MSG_INFO, (struct msqid_ds *)(void *)&msi) < 0 ||
	    msi.msgpool != 0)
		rc = -1;
	leave_ipc(back);
	return rc;
}

/* A new slot, or NULL (errno). */
static struct nsslot *
slot_new(const char *key, size_t keylen, uint64_t tmp_size)
{
	struct nsslot *s = calloc(1, sizeof(*s));
	unsigned dirs = spawn_tmp_dirs();
	bool mq = spawn_needs_mqueue();
	char opts[64], path[64];
	struct pollfd pfd;
	int p[2], st;
	char ok = 0;
	pid_t pid;

	if (s == NULL)
		return NULL;
	s->tmp_size = tmp_size;
	s->born = mono_s();
	s->mnt_fd = s->ipc_fd = -1;
	for (size_t i = 0; i <= SPAWN_TMP_DIRS; i++)
		s->root_fd[i] = -1;
	if ((s->key = malloc(keylen)) == NULL) {
		free(s);
		return NULL;
	}
	memcpy(s->key, key, keylen);
	s->keylen = keylen;
	spawn_tmp_opts(tmp_size, opts, sizeof(opts));
	if (pipe2(p, O_CLOEXEC) < 0) {
		slot_free(s);
		return NULL;
	}
	if ((pid = fork()) == 0) {
		close(p[0]);
		holder(p[1], opts, dirs, mq);
		_exit(1);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (pid > 0 && poll(&pfd, 1, 5000) == 1 && read(p[0], &ok, 1) == 1 &&
	    ok) {
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
		s->mnt_fd = open(path, O_RDONLY | O_CLOEXEC);
		snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)pid);
		s->ipc_fd = open(path, O_RDONLY | O_CLOEXEC);
		for (size_t i = 0; i < SPAWN_TMP_DIRS; i++)
			if (dirs & (1u << i)) {
				snprintf(path, sizeof(path), "/proc/%d/root%s",
				    (int)pid, spawn_tmp_names[i]);
				s->root_fd[i] = open(path, O_RDONLY |
				    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (s->root_fd[i] < 0)
					ok = 0;
			}
	}
	close(p[0]);
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (ok && s->ipc_fd >= 0)
		s->root_fd[MQ] = mqueue_root(s->ipc_fd);
	if (pid < 0 || !ok || s->mnt_fd < 0 || s->ipc_fd < 0 ||
	    s->root_fd[MQ] < 0) {
		slot_free(s);
		errno = errno ? errno : EIO;
		return NULL;
	}
	return s;
}

static void
free_list(struct nsslot *s)
{
	while (s != NULL) {
		struct nsslot *next = s->next;

		slot_free(s);
		s = next;
	}
}

static bool
slot_is(const struct nsslot *s, const char *key, size_t keylen,
    uint64_t tmp_size)
{
	return s->tmp_size == tmp_size && s->keylen == keylen &&
	    memcmp(s->key, key, keylen) == 0;
}

struct nsslot *
nspool_take(const char *name, const char *path, uint64_t tmp_size,
    bool busy)
{
	struct nsslot *s = NULL, **pp, *old = NULL;
	size_t nlen = strlen(name) + 1, keylen = nlen + strlen(path) + 1;
	char *key = malloc(keylen);
	time_t now = mono_s();

	if (key == NULL)
		return NULL;
	memcpy(key, name, nlen);
	memcpy(key + nlen, path, keylen - nlen);
	pthread_mutex_lock(&lock);
	for (pp = &kept; *pp != NULL; ) {
		struct nsslot *c = *pp;

		if (now - c->born >= NSPOOL_AGE) {      /* too old: out */
			*pp = c->next;
			nkept--;
			c->next = old;
			old = c;
		} else if (slot_is(c, key, keylen, tmp_size)) {
			*pp = c->next;
			nkept--;
			s = c;
			break;
		} else
			pp = &c->next;
	}
	pthread_mutex_unlock(&lock);
	free_list(old);
	if (s == NULL && busy && (s = slot_new(key, keylen, tmp_size)) == NULL &&
	    once("nspool", "new"))
		fnlog(FNLOG_WARN, "isolate tmp: cannot keep mount namespaces (%s): each invocation makes its own",
		    strerror(errno));
	free(key);
	return s;
}

int
nspool_mnt_fd(const struct nsslot *slot)
{
	return slot->mnt_fd;
}

int
nspool_ipc_fd(const struct nsslot *slot)
{
	return slot->ipc_fd;
}

/* Remove everything in the folder DFD (not the folder). 0, or -1 when
 * something could not be removed or there was too much of it. */
static int
empty_dir(int dfd, int depth, size_t *budget)
{
	int fd = dup(dfd), rc = 0;
	struct dirent *e;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((*budget)-- == 0) {
			rc = -1;
			break;
		}
		if (unlinkat(dfd, e->d_name, 0) == 0)
			continue;
		if (errno != EISDIR || depth >= SCRUB_DEPTH) {
			rc = -1;
			break;
		}
		int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 || empty_dir(sub, depth + 1, budget) < 0 ||
		    unlinkat(dfd, e->d_name, AT_REMOVEDIR) < 0)
			rc = -1;
		if (sub >= 0)
			close(sub);
	}
	closedir(d);
	return rc;
}

/* Each tmpfs as new: empty, root's, mode 1777 (a function may neither
 * chmod nor chown the roots, but say so rather than trust it). */
static int
scrub(struct nsslot *s)
{
	size_t budget = SCRUB_ENTRIES;
	struct stat st;

	for (size_t i = 0; i <= SPAWN_TMP_DIRS; i++) {
		if (s->root_fd[i] < 0)
			continue;
		if (empty_dir(s->root_fd[i], 0, &budget) < 0 ||
		    fstat(s->root_fd[i], &st) < 0 || st.st_uid != 0 ||
		    (st.st_mode & 07777) != 01777)
			return -1;
	}
	return scrub_ipc(s);
}

void
nspool_give(struct nsslot *s, bool busy)
{
	if (s == NULL)
		return;
	if (!busy) {            /* the last of a burst: not kept */
		slot_free(s);
		return;
	}
	if (mono_s() - s->born >= NSPOOL_AGE) {
		slot_free(s);
		return;
	}
	if (scrub(s) < 0) {
		if (once("nspool", "scrub"))
			fnlog(FNLOG_WARN, "isolate tmp: a function's /tmp could not be emptied whole: that mount namespace is thrown away (said once)");
		slot_free(s);
		return;
	}
	/* Full: the one given back longest ago goes. */
	s->given_ms = mono_ms();
	pthread_mutex_lock(&lock);
	s->next = kept;
	kept = s;
	s = NULL;
	if (++nkept > NSPOOL_KEEP) {
		struct nsslot **pp = &kept;

		while ((*pp)->next != NULL)
			pp = &(*pp)->next;
		s = *pp;
		*pp = NULL;
		nkept--;
	}
	pthread_mutex_unlock(&lock);
	slot_free(s);
}

void
nspool_drop(struct nsslot *s)
{
	slot_free(s);
}

void
nspool_sweep(bool all)
{
	struct nsslot *old = NULL, **pp;
	time_t now = mono_s();
	uint64_t now_ms = mono_ms();

	pthread_mutex_lock(&lock);
	for (pp = &kept; *pp != NULL; ) {
		struct nsslot *c = *pp;

		/* c->key starts with the function's name. */
		if (all || now_ms - c->given_ms >= NSPOOL_IDLE_MS ||
		    now - c->born >= NSPOOL_AGE ||
		    inflight_count(c->key) == 0) {
			*pp = c->next;
			nkept--;
			c->next = old;
			old = c;
		} else
			pp = &c->next;
	}
	pthread_mutex_unlock(&lock);
	free_list(old);
}
