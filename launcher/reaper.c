/* reaper.c — processes that escaped their invocation's process group.
 *
 * kill(-pgid) misses a grandchild that called setsid() and whose parent
 * died. The daemon is a child subreaper (PR_SET_CHILD_SUBREAPER), so such
 * orphans become its children; the kernel hands them to the first live
 * thread of the process, the main thread, which never spawns anything.
 * (With a cgroup leaf per invocation, cgroup.kill ends them all; the
 * sweep then only reaps. Without one, it is the teardown.)
 * So /proc/self/task/<pid>/children lists exactly the orphans.
 *
 * Which invocation an orphan belongs to is read from FN_REQUEST_ID in its
 * /proc/PID/environ (its environment as of its last exec). An orphan of
 * this invocation, one with no FN_REQUEST_ID at all, or one whose
 * invocation is no longer in flight is killed and reaped; one that belongs
 * to another invocation still running is left to that one's teardown. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inflight.h"
#include "reaper.h"

#define MAX_ORPHANS 4096
#define ID_LEN 16

/* false once every invocation has a cgroup leaf: cgroup.kill ends its
 * processes, whatever their environment, and orphans are only reaped
 * (killing by FN_REQUEST_ID could hit another invocation's detached
 * helper that wiped its environment). */
static atomic_bool kill_orphans = true;

void
reaper_kill_orphans(bool yes)
{
	atomic_store(&kill_orphans, yes);
}

int
reaper_init(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

/* The children of thread TID (the main thread's are the orphans).
 * Returns how many. */
static size_t
list_children(pid_t tid, pid_t *pids, size_t max)
{
	char path[64], buf[16384];
	size_t n = 0, len = 0;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	while (len < sizeof(buf) - 1 &&
	    (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = '\0';
	for (char *p = buf, *end; n < max; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		pids[n++] = (pid_t)v;
	}
	return n;
}

/* FN_REQUEST_ID of PID into ID; false when it has none (or is a zombie). */
static bool
orphan_id(pid_t pid, char id[ID_LEN + 1])
{
	static const char key[] = "FN_REQUEST_ID=";
	char path[64], buf[4096];   /* cgienv puts FN_REQUEST_ID first */
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	for (char *p = buf; p < buf + len; p += strlen(p) + 1)
		if (strncmp(p, key, sizeof(key) - 1) == 0) {
			snprintf(id, ID_LEN + 1, "%s", p + sizeof(key) - 1);
			return true;
		}
	return false;
}

/* One pass; returns how many orphans were killed and reaped. */
static size_t
sweep_once(const char *mine)
{
	static pid_t pids[MAX_ORPHANS];   /* guarded by sweep_lock */
	char id[ID_LEN + 1];
	size_t n = list_children(getpid(), pids, MAX_ORPHANS), killed = 0;

	for (size_t i = 0; i < n; i++) {
		if (!atomic_load(&kill_orphans)) {
			if (waitpid(pids[i], NULL, WNOHANG) > 0)
				killed++;
			continue;
		}
		bool has = orphan_id(pids[i], id);
		if (has && (mine == NULL || strcmp(id, mine) != 0) && inflight_has_id(id))
			continue;       /* another invocation's, still running */
		/* Our child (zombie or not) until reaped: the pid is ours. A
		 * process stuck in the kernel is left for a later sweep rather
		 * than blocking every teardown. */
		kill(pids[i], SIGKILL);
		for (int t = 0; t < 50; t++) {
			pid_t w = waitpid(pids[i], NULL, WNOHANG);
			if (w != 0 && !(w < 0 && errno == EINTR))
				break;
			usleep(200);
		}
		killed++;
	}
	return killed;
}

static pthread_mutex_t sweep_lock = PTHREAD_MUTEX_INITIALIZER;

void
reaper_sweep_thread(void)
{
	pid_t pids[256];
	size_t n = list_children((pid_t)gettid(), pids, 256);

	/* clone(CLONE_PARENT) makes a sibling of the function, a child of
	 * this thread: after the function is reaped, whatever is left here
	 * is its escapee. */
	for (size_t i = 0; i < n; i++) {
		kill(pids[i], SIGKILL);
		while (waitpid(pids[i], NULL, __WALL) < 0 && errno == EINTR)
			;
	}
}

void
reaper_sweep(const char *request_id)
{
	/* Killing one orphan can orphan its children: go until none is
	 * left (bounded: a fork bomb under RLIMIT_NPROC is finite). */
	pthread_mutex_lock(&sweep_lock);
	for (int round = 0; round < 64 && sweep_once(request_id) > 0; round++)
		;
	pthread_mutex_unlock(&sweep_lock);
}
