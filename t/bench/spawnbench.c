/* spawnbench.c — what one spawn costs: fork()+execve versus
 * clone(CLONE_VM|CLONE_VFORK)+execve (what fnlauncher uses), each
 * followed by wait4, with the parent holding HEAP_MB of touched memory
 * (a daemon's page tables are what fork copies).
 *
 * usage: spawnbench [N [HEAP_MB [PROGRAM]]]   prints microseconds/spawn */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *const *g_argv;
static char *const g_envp[] = { "PATH=/usr/bin:/bin", NULL };

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
child(void *arg)
{
	execve(g_argv[0], g_argv, g_envp);
	_exit(127);
}

static pid_t
spawn_fork(void)
{
	pid_t pid = fork();

	if (pid == 0)
		child(NULL);
	return pid;
}

static pid_t
spawn_clone(void)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));

	return clone(child, stack + sizeof(stack),
	    CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
}

static double
run(pid_t (*spawn)(void), int n)
{
	double t0 = now();
	int status;

	for (int i = 0; i < n; i++) {
		pid_t pid = spawn();
		if (pid < 0 || waitpid(pid, &status, 0) < 0) {
			perror("spawn");
			exit(1);
		}
	}
	return (now() - t0) * 1e6 / n;
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	size_t heap = (size_t)(argc > 2 ? atoi(argv[2]) : 0) << 20;
	char *prog[] = { argc > 3 ? argv[3] : "/bin/true", NULL };
	char *mem = NULL;

	g_argv = prog;
	if (heap > 0 && (mem = malloc(heap)) != NULL)
		memset(mem, 1, heap);
	run(spawn_clone, n / 10 + 1);   /* warm up */
	printf("heap %zu MiB, %d spawns of %s\n", heap >> 20, n, prog[0]);
	printf("fork+exec+wait:        %8.1f us/spawn\n", run(spawn_fork, n));
	printf("clone(VM|VFORK)+exec:  %8.1f us/spawn\n", run(spawn_clone, n));
	free(mem);
	return 0;
}
