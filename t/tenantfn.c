/* tenantfn.c — see tenantfn.h: main(), the helpers the acts share, the
 * victim (hold) and the acts that only describe the function's own
 * process (whoami, id, pid1, netdev). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tenantfn.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *const tfn_shared_dirs[] = { "/tmp", "/var/tmp", "/dev/shm",
    "/run/lock", NULL };

/* ---- helpers ------------------------------------------------------------- */

void tfn_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

const char *tfn_hdr(const char *name, const char *def)
{
	char key[128];
	const char *v;

	if (snprintf(key, sizeof(key), "HTTP_X_%s", name) >= (int)sizeof(key))
		return def;
	v = getenv(key);
	return v != NULL ? v : def;
}

long tfn_hdr_num(const char *name, long def, long min, long max)
{
	const char *v = tfn_hdr(name, NULL);
	char *end;
	long n;

	if (v == NULL)
		return def;
	errno = 0;
	n = strtol(v, &end, 0);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
		return def;
	return n;
}

int tfn_spool_path(const struct tfn *t, const char *name, char *buf,
    size_t len)
{
	int n = snprintf(buf, len, "%s/%s.%s", t->spool, name, t->tag);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int tfn_write_marker(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	size_t len = strlen(text);
	int fd, n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path,
	    (long)getpid());

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, text, len) != (ssize_t)len || fchmod(fd, 0644) < 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	return rename(tmp, path);
}

char *tfn_read_small(const char *path)
{
	char *buf = malloc(4096);
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (buf != NULL && fd >= 0)
		n = read(fd, buf, 4095);
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

int tfn_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

void tfn_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

long long tfn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

pid_t tfn_target(void)
{
	long pid = tfn_hdr_num("PID", -1, 2, INT_MAX);

	if (pid < 0)
		tfn_say("DENIED target: no X-Pid");
	return (pid_t)pid;
}

/* ---- the victim ---------------------------------------------------------- */

/* The victim (tenant B): says it started; with X-Helper: 1, leaves a
 * helper behind as a daemon would (double fork, setsid; its pid in
 * spool/helper.TAG), which is the request's until the request ends;
 * leaves spool/victim.TAG with "PID FN_REQUEST_ID", then holds until
 * spool/release.TAG appears (or X-Hold-Ms passes), so that the attacker
 * runs while it is alive. Then, as asked: X-Read-Body: 1, reads its
 * whole stdin and prints it; X-Fork: 1, forks a child and says whether
 * it could. Last, its nice value and "victim TAG end". The test compares the whole body with what
 * it must be: anything an attacker injected, or a kill, shows. */
int tfn_hold(struct tfn *t)
{
	char marker[PATH_MAX], release[PATH_MAX], text[128], body[4096];
	const char *rid = getenv("FN_REQUEST_ID");
	long hold = tfn_hdr_num("HOLD_MS", 8000, 0, 25000);
	long long end;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	printf("Content-Type: text/plain\n\n");
	tfn_say("victim %s start", t->tag);
	if (strcmp(tfn_hdr("HELPER", "0"), "1") == 0 &&
	    tfn_leave_behind(t, "detach", "helper") < 0)
		tfn_say("victim: no helper: %s", strerror(errno));
	snprintf(text, sizeof(text), "%ld %s\n", (long)getpid(),
	    rid != NULL ? rid : "-");
	if (tfn_spool_path(t, "victim", marker, sizeof(marker)) < 0 ||
	    tfn_spool_path(t, "release", release, sizeof(release)) < 0 ||
	    tfn_write_marker(marker, text) < 0) {
		tfn_say("victim: cannot write its marker: %s", strerror(errno));
		return 1;
	}
	for (end = tfn_now_ms() + hold; tfn_now_ms() < end &&
	    !tfn_exists(release); )
		tfn_sleep_ms(20);
	if (strcmp(tfn_hdr("READ_BODY", "0"), "1") == 0) {
		while (got < sizeof(body) - 1 && ((n = read(0, body + got,
		    sizeof(body) - 1 - got)) > 0 || (n < 0 && errno == EINTR)))
			got += n > 0 ? (size_t)n : 0;
		body[got] = '\0';
		tfn_say("body=%s", body);
	}
	if (strcmp(tfn_hdr("FORK", "0"), "1") == 0) {
		pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0)
			tfn_say("fork=%s", strerror(errno));
		else {
			waitpid(pid, NULL, 0);
			tfn_say("fork=ok");
		}
	}
	errno = 0;
	tfn_say("nice=%d", getpriority(PRIO_PROCESS, 0));
	tfn_say("victim %s end", t->tag);
	return 0;
}

/* ---- what the function is ------------------------------------------------ */

int tfn_whoami(struct tfn *t)
{
	const char *ra = getenv("REMOTE_ADDR"), *fn = getenv("FN_NAME");

	(void)t;
	printf("Content-Type: text/plain\n\n");
	tfn_say("whoami fn=%s remote_addr=%s uid=%ld", fn ? fn : "-",
	    ra ? ra : "-", (long)getuid());
	return 0;
}

int tfn_id(struct tfn *t)
{
	gid_t groups[64];
	int n = getgroups(64, groups), i;

	(void)t;
	printf("Content-Type: text/plain\n\n");
	printf("uid=%ld euid=%ld gid=%ld egid=%ld groups=", (long)getuid(),
	    (long)geteuid(), (long)getgid(), (long)getegid());
	for (i = 0; i < n; i++)
		printf("%s%ld", i ? "," : "", (long)groups[i]);
	tfn_say("%s", "");
	return 0;
}

int tfn_pid1(struct tfn *t)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int count = 0;

	(void)t;
	printf("Content-Type: text/plain\n\n");
	while (d != NULL && (de = readdir(d)) != NULL)
		if (isdigit((unsigned char)de->d_name[0]))
			count++;
	if (d != NULL)
		closedir(d);
	tfn_say("pid=%ld procs=%d", (long)getpid(), count);
	return 0;
}

int tfn_netdev(struct tfn *t)
{
	char line[512], name[64];
	FILE *f = fopen("/proc/net/dev", "re");

	(void)t;
	printf("Content-Type: text/plain\n\n");
	if (f == NULL) {
		tfn_say("DENIED /proc/net/dev: %s", strerror(errno));
		return 0;
	}
	/* Two header lines, then "  name: counters". */
	while (fgets(line, sizeof(line), f) != NULL)
		if (strchr(line, '|') == NULL &&
		    sscanf(line, " %63[^:]:", name) == 1)
			tfn_say("if %s", name);
	fclose(f);
	return 0;
}

/* ---- main ---------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*run)(struct tfn *);
} ACTS[] = {
	{ "hold", tfn_hold }, { "whoami", tfn_whoami }, { "id", tfn_id },
	{ "pid1", tfn_pid1 }, { "netdev", tfn_netdev },
	{ "peek", tfn_peek }, { "ptrace", tfn_ptrace },
	{ "pidfd", tfn_pidfd }, { "signal", tfn_signal },
	{ "bomb", tfn_bomb }, { "tmpw", tfn_tmpw }, { "tmpr", tfn_tmpr },
	{ "tmpmess", tfn_tmpmess }, { "tmpls", tfn_tmpls },
	{ "squat", tfn_squat }, { "shm", tfn_shm }, { "shmr", tfn_shmr },
	{ "escape", tfn_escape }, { "linger", tfn_linger },
	{ "spin", tfn_spin }, { "fcgi", tfn_fcgi },
	{ "manifest", tfn_manifest },
};

int main(int argc, char **argv)
{
	static char self[PATH_MAX];
	struct tfn t = { 0 };
	const char *act;
	ssize_t n;
	size_t i;

	if (argc < 2) {
		fprintf(stderr, "usage: tenantfn SPOOL [ACT [ARG...]]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	t.self = self;
	t.spool = argv[1];
	act = argc > 2 ? argv[2] : tfn_hdr("ACT", "hold");
	t.argv = argc > 3 ? argv + 3 : NULL;
	t.argc = argc > 3 ? argc - 3 : 0;
	t.tag = tfn_hdr("TAG", "");
	for (i = 0; i < sizeof(ACTS) / sizeof(ACTS[0]); i++)
		if (strcmp(ACTS[i].name, act) == 0)
			return ACTS[i].run(&t);
	printf("Status: 400 Bad Request\nContent-Type: text/plain\n\n");
	tfn_say("no act %s", act);
	return 1;
}
