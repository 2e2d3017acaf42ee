/* spawnceil.c — the spawn ceiling: how many times per second this
 * machine can spawn, wait for and reap PROGRAM when nothing else runs.
 * One loop per core (a process each), for SECONDS; posix_spawn (glibc:
 * clone(CLONE_VM|CLONE_VFORK) + execve, as fnlauncher does), stdout to
 * /dev/null, a tiny environment. No server can serve one-process-per-
 * request faster than this.
 *
 * usage: spawnceil SECONDS PROGRAM [LOOPS]    LOOPS: default, the cores
 * prints: "spawns_per_s TOTAL loops N seconds S cpu_us_per_spawn C"
 * C, the CPU time of the loops and of every PROGRAM they ran, per spawn,
 * holds even when other work on the machine takes some of the cores. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long
loop(const char *prog, double end)
{
	char *argv[] = { (char *)prog, NULL };
	char *envp[] = { "PATH=/usr/local/bin:/usr/bin:/bin",
	    "GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=GET", NULL };
	posix_spawn_file_actions_t fa;
	unsigned long n = 0;
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC), status;
	pid_t pid;

	if (devnull < 0) {
		perror("/dev/null");
		exit(1);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, devnull, 1);
	while (now() < end) {
		int rc = posix_spawn(&pid, prog, &fa, NULL, argv, envp);
		if (rc != 0) {
			errno = rc;
			perror(prog);
			exit(1);
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR) {
				perror("waitpid");
				exit(1);
			}
		n++;
	}
	return n;
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: spawnceil SECONDS PROGRAM [LOOPS]\n");
		return 2;
	}
	double secs = atof(argv[1]);
	long loops = argc > 3 ? atol(argv[3]) : sysconf(_SC_NPROCESSORS_ONLN);
	int fds[2];

	if (secs <= 0 || loops < 1 || pipe(fds) < 0)
		return 2;
	double start = now(), end = start + secs;
	for (long i = 0; i < loops; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			unsigned long n = loop(argv[2], end);
			if (write(fds[1], &n, sizeof(n)) != sizeof(n))
				_exit(1);
			_exit(0);
		}
	}
	close(fds[1]);
	unsigned long total = 0, n;
	long got = 0;
	while (read(fds[0], &n, sizeof(n)) == sizeof(n)) {
		total += n;
		got++;
	}
	while (wait(NULL) > 0)
		;
	double took = now() - start;
	if (got != loops) {
		fprintf(stderr, "spawnceil: %ld of %ld loops failed\n",
		    loops - got, loops);
		return 1;
	}
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("spawns_per_s %.1f loops %ld seconds %.2f cpu_us_per_spawn %.0f\n",
	    (double)total / took, loops, took, total ? cpu * 1e6 / (double)total : 0);
	return 0;
}
