/* tenantfn_esc.c — processes that try to outlive their request (issue
 * 12, row 8 and the teardown tests) and children that burn CPU the
 * invocation record should count (row 9). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tenantfn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define LINGER_S "30"       /* an escapee lives this long at most */
#define ID_KEY "FN_REQUEST_ID="

/* environ with FN_REQUEST_ID=id instead of ours (static storage). */
static char **env_with_id(const char *id)
{
	static char *env[512], entry[128];
	size_t n = 0;

	snprintf(entry, sizeof(entry), ID_KEY "%s", id);
	env[n++] = entry;
	for (char **e = environ; *e != NULL && n < 511; e++)
		if (strncmp(*e, ID_KEY, strlen(ID_KEY)) != 0)
			env[n++] = *e;
	env[n] = NULL;
	return env;
}

/* stdin, stdout, stderr on /dev/null, as a daemon does. */
static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/* In the escapee (the grandchild, or the child for setpgid): become
 * what `how` says, then run "linger" (marker spool/NAME.TAG). Never
 * returns. */
static void become(const struct tfn *t, const char *how, const char *name)
{
	const char *argv_l[] = { t->self, t->spool, "linger", t->tag,
	    LINGER_S, name, NULL };
	const char *argv_env[] = { "/usr/bin/env", "-i", t->self, t->spool,
	    "linger", t->tag, LINGER_S, name, NULL };
	const char *argv_uns[] = { "/usr/bin/unshare", "-U", "-r", t->self,
	    t->spool, "linger", t->tag, LINGER_S, name, NULL };
	unsigned long long r = 0;
	char id[32];

	detach_stdio();
	if (strcmp(how, "envi") == 0)
		execve(argv_env[0], (char *const *)argv_env, environ);
	else if (strcmp(how, "userns") == 0)
		execve(argv_uns[0], (char *const *)argv_uns, environ);
	else if (strcmp(how, "rewrite") == 0) {
		/* An id no request has: the daemon's are 16 hex digits. */
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (unsigned long long)time(NULL);
		snprintf(id, sizeof(id), "%016llx", r);
		execve(t->self, (char *const *)argv_l, env_with_id(id));
	} else if (strcmp(how, "adopt") == 0)
		execve(t->self, (char *const *)argv_l,
		    env_with_id(tfn_hdr("ADOPT", "")));
	else
		execve(t->self, (char *const *)argv_l, environ);
	_exit(127);
}

pid_t tfn_leave_behind(const struct tfn *t, const char *how,
    const char *name)
{
	char marker[PATH_MAX], *text;
	pid_t pid, left = -1;
	int i;

	if (tfn_spool_path(t, name, marker, sizeof(marker)) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		if (strcmp(how, "setpgid") == 0) {
			setpgid(0, 0);
			become(t, how, name);
		}
		setsid();
		if (fork() == 0)
			become(t, how, name);
		_exit(0);
	}
	if (pid < 0)
		return -1;
	if (strcmp(how, "setpgid") != 0)
		waitpid(pid, NULL, 0);
	for (i = 0; i < 150 && !tfn_exists(marker); i++)
		tfn_sleep_ms(20);
	if ((text = tfn_read_small(marker)) != NULL)
		left = (pid_t)strtol(text, NULL, 10);
	free(text);
	return left;
}

/* Leave a process behind, by X-How:
 *   envi     double fork, setsid, exec through `env -i` (no environment)
 *   setpgid  a child in a process group of its own (same session)
 *   rewrite  double fork, setsid, FN_REQUEST_ID set to a random id
 *   adopt    double fork, setsid, FN_REQUEST_ID set to X-Adopt: the id of
 *            another request, in flight (row 8)
 *   userns   double fork, setsid, `unshare -U -r` (a user namespace)
 *   (else)   double fork, setsid, environment kept: a daemon-like helper
 * The escapee writes its pid to spool/esc.TAG; this waits for that (3 s
 * at most), says ESCAPED and ends at once. */
int tfn_escape(struct tfn *t)
{
	const char *how = tfn_hdr("HOW", "envi");
	int adopt = strcmp(how, "adopt") == 0;
	pid_t pid;

	printf("Content-Type: text/plain\n\n");
	pid = tfn_leave_behind(t, how, "esc");
	if (pid <= 0)
		tfn_say("escape %s: no escapee (%s)", how, strerror(errno));
	else
		tfn_say("ESCAPED %ld (%s%s%s)", (long)pid, how, adopt ? " " :
		    "", adopt ? tfn_hdr("ADOPT", "") : "");
	return 0;
}

/* The escapee: tenantfn SPOOL linger TAG SECONDS NAME. Its pid to
 * spool/NAME.TAG, then sleep (at most 30 s). */
int tfn_linger(struct tfn *t)
{
	char marker[PATH_MAX], text[32];
	long secs;

	if (t->argc < 3)
		return 2;
	t->tag = t->argv[0];
	secs = strtol(t->argv[1], NULL, 10);
	detach_stdio();
	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (tfn_spool_path(t, t->argv[2], marker, sizeof(marker)) == 0)
		tfn_write_marker(marker, text);
	tfn_sleep_ms((secs > 0 && secs <= 30 ? secs : 30) * 1000);
	return 0;
}

/* CPU time of this process in ms. */
static long cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One spinner: burn ms of CPU, writing what it has burned to path every
 * 10 ms of CPU (what it burned before it was killed is in the file). */
static void spinner(const char *path, long ms)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	char text[32];
	long last = -1, now;
	volatile unsigned long x = 0;

	if (fd < 0)
		_exit(1);
	fchmod(fd, 0644);
	while ((now = cpu_ms()) < ms) {
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i;
		if (now - last >= 10) {
			snprintf(text, sizeof(text), "%10ld\n", now);
			if (pwrite(fd, text, strlen(text), 0) < 0)
				_exit(1);
			last = now;
		}
	}
	snprintf(text, sizeof(text), "%10ld\n", cpu_ms());
	(void)pwrite(fd, text, strlen(text), 0);
	_exit(0);
}

/* 1 when every spinner's file says it burned ms. */
static int spinners_done(const struct tfn *t, long n, long ms)
{
	char name[32], path[PATH_MAX], *text;
	long v;

	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "spin.%ld", i);
		if (tfn_spool_path(t, name, path, sizeof(path)) < 0 ||
		    (text = tfn_read_small(path)) == NULL)
			return 0;
		v = strtol(text, NULL, 10);
		free(text);
		if (v < ms)
			return 0;
	}
	return 1;
}

/* Row 9: X-N children (default 4) each burn X-Ms of CPU (default 1000),
 * each reporting in spool/spin.I.TAG. The function never reaps them:
 * it waits (at most 10 s) until their files say they are done, says
 * SPUN and ends, its children zombies that the daemon inherits. Their
 * CPU is in no rusage the function's wait4() returns. */
int tfn_spin(struct tfn *t)
{
	long n = tfn_hdr_num("N", 4, 1, 16), ms = tfn_hdr_num("MS", 1000, 1,
	    5000), i;
	char path[PATH_MAX], name[32];
	long long end;

	printf("Content-Type: text/plain\n\n");
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "spin.%ld", i);
		if (tfn_spool_path(t, name, path, sizeof(path)) < 0)
			return 1;
		if (fork() == 0)
			spinner(path, ms);
	}
	for (end = tfn_now_ms() + 10000; tfn_now_ms() < end &&
	    !spinners_done(t, n, ms); )
		tfn_sleep_ms(50);
	tfn_say("SPUN %ld children of %ld ms of CPU each, never reaped", n,
	    ms);
	return 0;
}
