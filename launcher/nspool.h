/* nspool.h — the namespaces of isolate tmp and ipc, made once and used
 * again: making a mount namespace with four tmpfs mounts and an IPC
 * namespace for every invocation, and tearing them down after, cost
 * about 0.35 ms of CPU per request (a third of a compiled hello's);
 * entering kept ones with setns(2) costs nothing measurable.
 *
 * A slot is a mount namespace with a tmpfs on /tmp, /var/tmp, /dev/shm
 * and /run/lock (those that are folders here), and an IPC namespace
 * (with its mqueue file system on /dev/mqueue where the host has one),
 * held by fds (no process keeps them alive), with fds to the roots of
 * those tmpfs and of the mqueue file system. An invocation takes a
 * slot, its process enters it before exec; when the invocation is over
 * and its cgroup leaf is empty (nothing of it runs), the slot is
 * scrubbed — every file and folder under each tmpfs, every POSIX message
 * queue and every System V segment, semaphore set and message queue
 * removed — and goes back to the pool; a slot that cannot be scrubbed
 * whole is thrown away. Functions cannot change a slot's mounts or its
 * IPC namespace's settings (no capabilities), so what they made is all
 * there is to undo. The daemon's thread scrubs the IPC namespace from
 * inside it (setns(2) of an IPC namespace moves only the calling
 * thread) and comes back.
 *
 * Only for invocations that run as a user other than root, need no
 * other change of mounts (not isolate pid or net) and have a cgroup
 * leaf (without one, a process could outlive the invocation and write
 * into the next one's /tmp).
 *
 * A slot serves one function only (its name and executable): a process
 * could pass an fd to its /tmp to a process of another invocation
 * (SCM_RIGHTS), which then reaches the files of the slot's next users
 * while it runs; those are the same function's, never another tenant's.
 * Slots are for bursts: a function's first slot is made when a second
 * invocation of it starts while one runs; the last invocation of a
 * burst closes its slot, and the others are closed, once a second, when
 * the function has no invocation running or a slot waited unused for a
 * second (7 fds each: an idle daemon holds none). A slot is used for a
 * minute at most, so that mounts made on the host since are seen (and
 * the old ones not held busy) soon. */
#ifndef FN_NSPOOL_H
#define FN_NSPOOL_H

#include <stdbool.h>
#include <stdint.h>

struct nsslot;

/* A kept slot for the function NAME at PATH whose tmpfs are TMP_SIZE
 * bytes each (FN_UNLIMITED: no size); else, when BUSY (other invocations
 * of it run: a burst, where slots pay), a new one. NULL (logged once
 * when one could not be made): the invocation makes its own namespaces,
 * as without the pool. */
struct nsslot *nspool_take(const char *name, const char *path,
    uint64_t tmp_size, bool busy);

/* The fd of SLOT's mount namespace, for setns(2) in the child. */
int nspool_mnt_fd(const struct nsslot *slot);

/* The fd of SLOT's IPC namespace, for setns(2) in the child (isolate
 * ipc). */
int nspool_ipc_fd(const struct nsslot *slot);

/* SLOT's invocation is over and nothing of it runs: when BUSY (other
 * invocations of its function run), scrub it and keep it for the next,
 * or throw it away; else close it. nspool_give(NULL, ...) is a no-op. */
void nspool_give(struct nsslot *slot, bool busy);

/* SLOT is not to be used again (something of its invocation may still
 * run): closed. nspool_drop(NULL) is a no-op. */
void nspool_drop(struct nsslot *slot);

/* Close the slots of functions with no invocation running, those that
 * waited unused for a second, and those past their minute (a burst is
 * over: its fds and tmpfs go); ALL: every kept slot (a reload). Once a
 * second, from housekeeping. */
void nspool_sweep(bool all);

#endif
