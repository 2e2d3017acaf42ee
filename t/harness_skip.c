/* harness_skip.c — how a system test says SKIP, and the predicates that
 * tell it when (see harness_check.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* unshare, CLONE_* */
#endif
#include "harness_check.h"
#include "harness_int.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

unsigned *hint_skips;

void harness_skip_note(const char *file, int line, int i, const char *fmt,
    ...)
{
	const char *test = tcase_name();
	va_list ap;

	/* stdout is where Check's own lines go: the test's automake log. */
	printf("SKIP: %s:%d:%s:%d: ", file, line, test ? test : "?", i);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (hint_skips != NULL)
		__atomic_add_fetch(hint_skips, 1, __ATOMIC_SEQ_CST);
}

const char *harness_not_root(void)
{
	static char why[64];

	if (geteuid() == 0)
		return NULL;
	snprintf(why, sizeof(why), "needs root (running as uid %ld)",
	    (long)geteuid());
	return why;
}

const char *harness_no_unshare(int flags)
{
	static const struct { int flag; const char *name; } names[] = {
		{ CLONE_NEWPID, "CLONE_NEWPID" },
		{ CLONE_NEWNET, "CLONE_NEWNET" },
		{ CLONE_NEWNS, "CLONE_NEWNS" },
		{ CLONE_NEWIPC, "CLONE_NEWIPC" },
		{ CLONE_NEWUTS, "CLONE_NEWUTS" },
	};
	static char why[200];
	char list[96] = "";
	size_t i, used = 0;
	int status = 0, err;
	pid_t pid = fork();

	if (pid == 0)
		_exit(unshare(flags) == 0 ? 0 : errno & 0xff);
	err = errno;
	if (pid == -1 || waitpid(pid, &status, 0) != pid) {
		snprintf(why, sizeof(why), "cannot probe unshare(): %s",
		    strerror(pid == -1 ? err : errno));
		return why;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return NULL;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((flags & names[i].flag) && used < sizeof(list))
			used += (size_t)snprintf(list + used,
			    sizeof(list) - used, "%s%s", used ? "|" : "",
			    names[i].name);
	snprintf(why, sizeof(why), "no namespaces here: unshare(%s) failed: "
	    "%s", list, WIFEXITED(status) ? strerror(WEXITSTATUS(status)) :
	    "the probe was killed");
	return why;
}
