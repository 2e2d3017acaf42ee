/* spawnclone.h — the clone itself: a child that shares our memory
 * (CLONE_VM | CLONE_VFORK, as posix_spawn does: no page tables copied,
 * we are suspended until it execs or exits) on a stack we give it, and
 * born directly in a cgroup (clone3 with CLONE_INTO_CGROUP, Linux 5.7):
 * no moment outside it. glibc has no clone3 wrapper for a child on a
 * stack of its own, so on x86-64 a few lines of assembly make the
 * call; elsewhere, or on an older kernel, clone(2) is used and the child
 * must move itself into the cgroup before anything else
 * (*IN_CGROUP false). */
#ifndef FN_SPAWNCLONE_H
#define FN_SPAWNCLONE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Start FN(ARG) on the stack [STACK, STACK + SIZE) with the namespace
 * flags NS_FLAGS, in the cgroup CGROUP_FD (-1: ours); *PIDFD gets its
 * pidfd. When the kernel could not place it there, *PROCS_FD is the
 * cgroup's cgroup.procs, opened before the child starts: the child must
 * write "0" to it first thing (and the caller close it after). Returns
 * the pid, or -1 (errno). Call with every signal blocked (no handler
 * may run on the child's stack). */
pid_t spawn_clone(int (*fn)(void *), void *arg, char *stack, size_t size,
    unsigned long ns_flags, int cgroup_fd, int *procs_fd, int *pidfd);

#endif
