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
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fnlog.h"
#include "manifest.h"
#include "nspool.h"
#include "once.h"
#include "spawnproc.h"

#define NSPOOL_KEEP 64          /* scrubbed slots kept, at most */
#define SCRUB_DEPTH 64          /* folders deeper than this: thrown away */
#define SCRUB_ENTRIES 100000    /* more entries than this: thrown away */
#define NSPOOL_AGE 60           /* seconds a slot is used, at most */
#define MQ SPAWN_TMP_DIRS       /* root_fd[MQ]: the slot's /dev/mqueue */

struct nsslot {
	struct nsslot *next;
	char *key;                      /* "name\0path\0": whose it is */
	size_t keylen;
	uint64_t tmp_size;
	time_t born;                    /* CLOCK_MONOTONIC seconds */
	int mnt_fd;
	int root_fd[SPAWN_TMP_DIRS + 1];        /* -1: none */
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

/* The holder: a child in a new mount namespace that mounts the tmpfs
 * (and, where the host has one, on /dev/mqueue the mqueue file system
 * of an IPC namespace of its own, dead with it: see nspool.h), says so
 * on FD, and waits to be killed (the namespace outlives it through our
 * fds). Between fork and exit: system calls only. */
static void
holder(int fd, const char *opts, unsigned dirs, bool mq)
{
	char ok = 1;

	if (unshare(CLONE_NEWNS | (mq ? CLONE_NEWIPC : 0)) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    spawn_mount_tmp(dirs, opts) < 0 ||
	    (mq && mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID |
	    MS_NODEV | MS_NOEXEC, NULL) < 0))
		ok = 0;
	(void)!write(fd, &ok, 1);
	for (;;)
		pause();
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
	s->mnt_fd = -1;
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
		for (size_t i = 0; i < SPAWN_TMP_DIRS; i++)
			if (dirs & (1u << i)) {
				snprintf(path, sizeof(path), "/proc/%d/root%s",
				    (int)pid, spawn_tmp_names[i]);
				s->root_fd[i] = open(path, O_RDONLY |
				    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (s->root_fd[i] < 0)
					ok = 0;
			}
		if (mq) {
			snprintf(path, sizeof(path), "/proc/%d/root/dev/mqueue",
			    (int)pid);
			if ((s->root_fd[MQ] = open(path, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
				ok = 0;
		}
	}
	close(p[0]);
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (pid < 0 || !ok || s->mnt_fd < 0) {
		slot_free(s);
		errno = errno ? errno : EIO;
		return NULL;
	}
	return s;
}

static bool
slot_is(const struct nsslot *s, const char *key, size_t keylen,
    uint64_t tmp_size)
{
	return s->tmp_size == tmp_size && s->keylen == keylen &&
	    memcmp(s->key, key, keylen) == 0;
}

struct nsslot *
nspool_take(const char *name, const char *path, uint64_t tmp_size)
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
	while (old != NULL) {
		struct nsslot *next = old->next;

		slot_free(old);
		old = next;
	}
	if (s == NULL && (s = slot_new(key, keylen, tmp_size)) == NULL &&
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
	return 0;
}

void
nspool_give(struct nsslot *s)
{
	if (s == NULL)
		return;
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
