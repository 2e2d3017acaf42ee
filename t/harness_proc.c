/* harness_proc.c — what /proc says: fds, threads, leftover processes and zombies, test users. See harness.h for the contract. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* pipe2, close_range, strcasecmp, nftw, mkdtemp,
                      memmem */
#endif
#include "harness.h"
#include "harness_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


/* ---- /proc --------------------------------------------------------------- */

int harness_fd_count(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* /proc/PID/stat into BUF; returns what follows "(comm)" (" S ppid
 * ..."), or NULL if pid is gone. comm may contain spaces and parens. */
static char *proc_stat(pid_t pid, char *buf, size_t size)
{
	char path[64], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL ? p + 1 : NULL;
}

/* State letter and parent of pid from /proc/PID/stat; -1 if gone. */
static int proc_state(pid_t pid, char *state, pid_t *ppid)
{
	char buf[1024], *p = proc_stat(pid, buf, sizeof(buf));
	int pp;

	if (p == NULL || sscanf(p, " %c %d", state, &pp) != 2)
		return -1;
	*ppid = pp;
	return 0;
}

/* Parent pid from /proc/PID/stat; -1 if gone. */
static pid_t proc_ppid(pid_t pid)
{
	pid_t ppid;
	char st;

	return proc_state(pid, &st, &ppid) == 0 ? ppid : -1;
}

static int has_ancestor(pid_t pid, pid_t anc)
{
	int depth;

	if (anc <= 0)
		return 0;
	for (depth = 0; depth < 128 && pid > 1; depth++) {
		pid = proc_ppid(pid);
		if (pid == anc)
			return 1;
	}
	return 0;
}

/* cmdline with NULs turned into spaces; "" for zombies and kernel
 * threads. */
static void proc_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n, i;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return;
	for (i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
}

/* Append "pid [cmdline]; " to desc. */
static void describe(pid_t pid, char *desc, size_t len, size_t *used)
{
	char cmd[256];
	int m;

	if (desc == NULL || *used >= len)
		return;
	proc_cmdline(pid, cmd, sizeof(cmd));
	m = snprintf(desc + *used, len - *used, "%ld [%s]; ", (long)pid, cmd);
	if (m > 0)
		*used += (size_t)m;
}

/* A test on one process of /proc: 1 to count it. */
typedef int (*proc_match)(pid_t pid, const void *arg);

/* One walk of /proc: the processes match accepts, described in desc
 * (may be NULL); -1 if /proc cannot be read. */
static int scan(proc_match match, const void *arg, char *desc, size_t len)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	size_t used = 0;
	int count = 0;
	pid_t pid;

	if (desc != NULL && len > 0)
		desc[0] = '\0';
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atol(de->d_name);
		if (!match(pid, arg))
			continue;
		count++;
		describe(pid, desc, len, &used);
	}
	closedir(d);
	return count;
}

/* scan until it counts none or wait_ms have passed; the last count. */
static int scan_until_none(proc_match match, const void *arg, int wait_ms,
    char *desc, size_t len)
{
	double end = harness_now() + wait_ms / 1000.0;
	int n;

	for (;;) {
		n = scan(match, arg, desc, len);
		if (n <= 0 || harness_now() >= end)
			return n;
		harness_sleep_ms(20);
	}
}

/* harness_leftovers: not us, our ancestry, nginx or the daemon; its
 * cmdline names the temp dir or the daemon is an ancestor; still there
 * after reading (/proc races with exit). */
static int is_leftover(pid_t pid, const void *arg)
{
	const struct harness *h = arg;
	pid_t self = getpid();
	char cmd[1024];

	if (pid == self || pid == h->nginx_pid || pid == h->daemon_pid ||
	    has_ancestor(self, pid))
		return 0;
	proc_cmdline(pid, cmd, sizeof(cmd));
	if (strstr(cmd, h->dir) == NULL && !has_ancestor(pid, h->daemon_pid))
		return 0;
	return proc_ppid(pid) != -1;
}

int harness_leftovers(const struct harness *h, int wait_ms_, char *desc,
    size_t len)
{
	return scan_until_none(is_leftover, h, wait_ms_, desc, len);
}

int harness_zombie_status(pid_t pid, int wait_ms_)
{
	double end = harness_now() + wait_ms_ / 1000.0;
	char buf[2048], *p, *tok, *save = NULL;
	int field;

	for (;;) {
		if ((p = proc_stat(pid, buf, sizeof(buf))) == NULL)
			return -1;
		if (p[0] == ' ' && p[1] == 'Z')
			break;
		if (harness_now() >= end)
			return -1;
		harness_sleep_ms(20);
	}
	/* Fields after "(comm)" start at 3 (state); exit_code is field 52
	 * (Linux 3.5+), in waitpid(2) status format. */
	for (field = 3, tok = strtok_r(p + 1, " ", &save); tok != NULL;
	    field++, tok = strtok_r(NULL, " ", &save))
		if (field == 52)
			return atoi(tok);
	return -1;
}

/* ---- process table (faults) ---------------------------------------------- */

long harness_proc_status(pid_t pid, const char *field)
{
	char path[64], *buf, *line;
	size_t fl = strlen(field);
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	buf = harness_read_file(path, NULL);
	if (buf == NULL)
		return -1;
	for (line = buf; line != NULL && *line != '\0'; ) {
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			v = strtol(line + fl + 1, NULL, 10);
			break;
		}
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	free(buf);
	return v;
}

long harness_busy_threads(pid_t pid)
{
	char path[96], *comm;
	struct dirent *e;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%.20s/comm",
		    (long)pid, e->d_name);
		if ((comm = harness_read_file(path, NULL)) == NULL)
			continue;       /* ended meanwhile */
		if (strcmp(comm, "fnl-idle\n") != 0)
			n++;
		free(comm);
	}
	closedir(d);
	return n;
}


/* 1 if one entry of pid's environ equals one of env_any. */
static int env_has(pid_t pid, const char *const *env_any)
{
	char path[64], *buf, *p;
	size_t n, i;
	int found = 0;

	if (env_any == NULL || env_any[0] == NULL)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
	buf = harness_read_file(path, &n);
	if (buf == NULL)
		return 0;
	for (p = buf; p < buf + n && !found; p += strlen(p) + 1)
		for (i = 0; env_any[i] != NULL && !found; i++)
			found = strcmp(p, env_any[i]) == 0;
	free(buf);
	return found;
}

/* harness_procs: live, not us, with one of env_any or of uid. */
struct selection {
	const char *const *env_any;
	long uid;
};

static int is_selected(pid_t pid, const void *arg)
{
	const struct selection *sel = arg;
	pid_t ppid;
	char st;

	if (pid == getpid() || proc_state(pid, &st, &ppid) == -1 || st == 'Z')
		return 0;
	return env_has(pid, sel->env_any) || (sel->uid >= 0 &&
	    harness_proc_status(pid, "Uid") == sel->uid);
}

static int is_selected_killed(pid_t pid, const void *arg)
{
	if (!is_selected(pid, arg))
		return 0;
	kill(pid, SIGKILL);
	return 1;
}

int harness_procs(const char *const *env_any, long uid, int wait_ms_,
    char *desc, size_t len)
{
	const struct selection sel = { env_any, uid };

	return scan_until_none(is_selected, &sel, wait_ms_, desc, len);
}

int harness_procs_kill(const char *const *env_any, long uid)
{
	const struct selection sel = { env_any, uid };

	return scan(is_selected_killed, &sel, NULL, 0);
}

/* Of uid, zombies included. */
static int is_of_uid(pid_t pid, const void *arg)
{
	return harness_proc_status(pid, "Uid") == *(const long *)arg;
}

int harness_uid_tasks(long uid)
{
	return scan(is_of_uid, &uid, NULL, 0);
}

/* A zombie whose parent is *arg. */
static int is_zombie_of(pid_t pid, const void *arg)
{
	pid_t pp;
	char st;

	return proc_state(pid, &st, &pp) == 0 && st == 'Z' &&
	    pp == *(const pid_t *)arg;
}

int harness_zombies(pid_t ppid, int wait_ms_, char *desc, size_t len)
{
	return scan_until_none(is_zombie_of, &ppid, wait_ms_, desc, len);
}

int harness_proc_running(pid_t pid)
{
	pid_t ppid;
	char st;

	return proc_state(pid, &st, &ppid) == 0 && st != 'Z' && st != 'X';
}

/* ---- test identities ----------------------------------------------------- */

/* Run argv to completion (output to our stderr); its exit code or -1. */
static int run_tool(const char *const argv[])
{
	const char *envp[] = { PATH_ENV, NULL };
	pid_t pid = harness_spawn(argv, envp, -1, STDERR_FILENO, STDERR_FILENO);
	int status;

	if (pid == -1 || harness_wait_ms(pid, 30000, &status) != 1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Run argv until have(name, extra) holds, five times at most: another
 * suite may be adding the same entry, or hold the lock on /etc/group.
 * 0 once it holds, -1 (with a message) if it never does. */
static int until(const char *const argv[], int (*have)(const char *,
    const char *), const char *name, const char *extra)
{
	int i;

	for (i = 0; i < 5 && !have(name, extra); i++) {
		if (i > 0)
			harness_sleep_ms(200);
		(void)run_tool(argv);
	}
	if (have(name, extra))
		return 0;
	hint_fail("%s %s%s%s failed", argv[0], name, extra ? " " : "",
	    extra ? extra : "");
	return -1;
}

static int group_exists(const char *name, const char *unused)
{
	(void)unused;
	return getgrnam(name) != NULL;
}

static int user_exists(const char *name, const char *unused)
{
	(void)unused;
	return getpwnam(name) != NULL;
}

/* User name is in the member list of group `group`. */
static int user_in(const char *name, const char *group)
{
	struct group *gr = getgrnam(group);
	char **m;

	for (m = gr != NULL ? gr->gr_mem : NULL; m != NULL && *m != NULL; m++)
		if (strcmp(*m, name) == 0)
			return 1;
	return 0;
}

int harness_ensure_group(const char *name, gid_t *gid)
{
	const char *add[] = { "/usr/sbin/groupadd", "--system", name, NULL };
	struct group *gr;

	if (until(add, group_exists, name, NULL) != 0 ||
	    (gr = getgrnam(name)) == NULL)
		return -1;
	*gid = gr->gr_gid;
	return 0;
}

int harness_ensure_user(const char *name, uid_t *uid, gid_t *gid)
{
	const char *add[] = { "/usr/sbin/useradd", "--system",
	    "--no-create-home", "--home-dir", "/nonexistent", "--shell",
	    "/usr/sbin/nologin", "--gid", name, name, NULL };
	struct passwd *pw;
	gid_t g;

	if (harness_ensure_group(name, &g) != 0 ||
	    until(add, user_exists, name, NULL) != 0 ||
	    (pw = getpwnam(name)) == NULL)
		return -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int harness_ensure_member(const char *name, const char *group)
{
	const char *mod[] = { "/usr/sbin/usermod", "-a", "-G", group, name,
	    NULL };

	return until(mod, user_in, name, group);
}
