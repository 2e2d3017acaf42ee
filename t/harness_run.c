/* harness_run.c — daemons started by argv, commands with captured output. See harness.h for the contract. */
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


/* ---- ops: daemons started by argv, commands with captured output ------- */

/* PATH, the sanitizer variables that are set, then extra: into envp (cap
 * entries, NULL-terminated), with storage for the copies in store. */
static void ops_env(const char **envp, size_t cap, char store[][1024],
    const char *const *extra)
{
	static const char *const pass[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS",
	    "LSAN_OPTIONS", "MSAN_OPTIONS", "TSAN_OPTIONS" };
	size_t ne = 0, i;

	envp[ne++] = PATH_ENV;
	for (i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
		const char *v = getenv(pass[i]);
		int n;

		if (v == NULL)
			continue;
		n = snprintf(store[i], 1024, "%s=%s", pass[i], v);
		if (n > 0 && n < 1024)
			envp[ne++] = store[i];
	}
	for (i = 0; extra != NULL && extra[i] != NULL && ne + 1 < cap; i++)
		envp[ne++] = extra[i];
	envp[ne] = NULL;
}

pid_t harness_spawn_logged(const char *const *argv,
    const char *const *extra_env, const char *log_path)
{
	const char *envp[40];
	char store[5][1024];
	int logfd;
	pid_t pid;

	ops_env(envp, sizeof(envp) / sizeof(envp[0]), store, extra_env);
	logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644);
	if (logfd == -1) {
		hint_fail("open %s: %s", log_path, strerror(errno));
		return -1;
	}
	pid = harness_spawn(argv, envp, -1, logfd, logfd);
	close(logfd);
	return pid;
}

int harness_spawn_daemon(struct harness *h, const char *const *argv,
    const char *const *extra_env, int wait_sock)
{
	char logp[512];

	if (harness_path(h, "daemon.log", logp, sizeof(logp)) == -1)
		return -1;
	h->daemon_pid = harness_spawn_logged(argv, extra_env, logp);
	if (h->daemon_pid == -1) {
		h->daemon_pid = 0;
		return -1;
	}
	if (!wait_sock)
		return 0;
	return hint_await_daemon(h, argv[0]);
}

int harness_run(const char *const *argv, const char *const *extra_env,
    const char *in_path, char **out, size_t *out_len, char **err,
    int timeout_ms)
{
	const char *envp[40];
	char store[5][1024], *buf[2] = { NULL, NULL };
	size_t cap[2] = { 0, 0 }, used[2] = { 0, 0 };
	struct pollfd pfd[2];
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, in_fd = -1, status = -1;
	int open_n = 2, i, left, rc = -1;
	double end = harness_now() + timeout_ms / 1000.0;
	pid_t pid;

	ops_env(envp, sizeof(envp) / sizeof(envp[0]), store, extra_env);
	for (i = 0; i < 2; i++) {
		buf[i] = malloc(4096);
		cap[i] = 4096;
	}
	if (buf[0] == NULL || buf[1] == NULL || pipe2(po, O_CLOEXEC) == -1 ||
	    pipe2(pe, O_CLOEXEC) == -1)
		goto out;
	if (in_path != NULL &&
	    (in_fd = open(in_path, O_RDONLY | O_CLOEXEC)) == -1) {
		hint_fail("open %s: %s", in_path, strerror(errno));
		goto out;
	}
	pid = harness_spawn(argv, envp, in_fd, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	if (pid == -1)
		goto out;
	pfd[0].fd = po[0];
	pfd[1].fd = pe[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while (open_n > 0) {
		left = (int)((end - harness_now()) * 1000);
		if (left <= 0)
			break;
		if (poll(pfd, 2, left) == -1 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++)
			if (pfd[i].fd >= 0 && (pfd[i].revents &
			    (POLLIN | POLLHUP | POLLERR)) &&
			    hint_read_some(pfd[i].fd, &buf[i], &cap[i],
			    &used[i]) <= 0) {
				pfd[i].fd = -1;
				open_n--;
			}
	}
	left = (int)((end - harness_now()) * 1000);
	if (open_n > 0 || harness_wait_ms(pid, left > 0 ? left : 0, &status) != 1) {
		hint_fail("%s: still running after %d ms: SIGKILL", argv[0],
		    timeout_ms);
		kill(pid, SIGKILL);
		harness_wait_ms(pid, 5000, &status);
		status = -1;
	}
	rc = status;
out:
	for (i = 0; i < 2; i++) {
		if (buf[i] != NULL)
			buf[i][used[i]] = '\0';
	}
	if (out != NULL)
		*out = buf[0] != NULL ? buf[0] : strdup("");
	else
		free(buf[0]);
	if (out_len != NULL)
		*out_len = used[0];
	if (err != NULL)
		*err = buf[1] != NULL ? buf[1] : strdup("");
	else
		free(buf[1]);
	for (i = 0; i < 2; i++) {
		if (po[i] != -1)
			close(po[i]);
		if (pe[i] != -1)
			close(pe[i]);
	}
	if (in_fd != -1)
		close(in_fd);
	return rc;
}
