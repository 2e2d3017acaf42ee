/* spawnclone.c — see spawnclone.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

#include "spawnclone.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#define FNL_CLONE_INTO_CGROUP 0x200000000ULL

/* struct clone_args of <linux/sched.h> (CLONE_ARGS_SIZE_VER2), spelled
 * out: that header's CLONE_* macros clash with <sched.h>'s. */
struct fnl_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

#if defined(__x86_64__) && defined(SYS_clone3)
/* long fnl_clone3(struct fnl_clone_args *args, size_t size,
 *                 int (*fn)(void *), void *arg)
 * The child returns from the system call on its new stack with no frame
 * to return to: it calls FN(ARG) (kept in r8/r9, which the kernel
 * preserves and copies) and exits with its result, as glibc's clone()
 * does. The stack top is 16-byte aligned, so FN starts aligned. */
__asm__(
    ".text\n"
    ".type fnl_clone3, @function\n"
    "fnl_clone3:\n"
    "	mov %rdx, %r8\n"
    "	mov %rcx, %r9\n"
    "	mov $" "435" ", %eax\n"          /* SYS_clone3 */
    "	syscall\n"
    "	test %rax, %rax\n"
    "	jz 1f\n"
    "	ret\n"
    "1:	xor %ebp, %ebp\n"
    "	mov %r9, %rdi\n"
    "	call *%r8\n"
    "	mov %eax, %edi\n"
    "	mov $60, %eax\n"                 /* SYS_exit */
    "	syscall\n"
    "	hlt\n"
    ".size fnl_clone3, .-fnl_clone3\n");
long fnl_clone3(struct fnl_clone_args *args, size_t size,
    int (*fn)(void *), void *arg);
#define HAVE_FNL_CLONE3 1
#endif

pid_t
spawn_clone(int (*fn)(void *), void *arg, char *stack, size_t size,
    unsigned long ns_flags, int cgroup_fd, int *procs_fd, int *pidfd)
{
	int flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | (int)ns_flags;

	*procs_fd = -1;
#ifdef HAVE_FNL_CLONE3
	if (cgroup_fd >= 0) {
		struct fnl_clone_args a;
		long pid;

		memset(&a, 0, sizeof(a));
		a.flags = (uint64_t)(unsigned)flags | FNL_CLONE_INTO_CGROUP;
		a.pidfd = (uint64_t)(uintptr_t)pidfd;
		a.exit_signal = SIGCHLD;
		a.stack = (uint64_t)(uintptr_t)stack;
		a.stack_size = size;
		a.cgroup = (uint64_t)cgroup_fd;
		pid = fnl_clone3(&a, sizeof(a), fn, arg);
		if (pid >= 0)
			return (pid_t)pid;
		/* ENOSYS (Linux < 5.3), E2BIG or EINVAL (no
		 * CLONE_INTO_CGROUP before 5.7): clone(2), moved by hand. */
		if (-pid != ENOSYS && -pid != E2BIG && -pid != EINVAL) {
			errno = (int)-pid;
			return -1;
		}
	}
#endif
	if (cgroup_fd >= 0 && (*procs_fd = openat(cgroup_fd, "cgroup.procs",
	    O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	return clone(fn, stack + size, flags | SIGCHLD, arg, pidfd);
}
