/* nspool.h — mount namespaces with their private tmpfs (isolate tmp),
 * made once and used again: making a mount namespace and its four tmpfs
 * mounts for every invocation, and tearing them down after, cost about
 * 0.3 ms of CPU per request (a third of a compiled hello's); entering a
 * kept one with setns(2) costs nothing measurable.
 *
 * A slot is a mount namespace (held by an fd to it: no process keeps it
 * alive) with a tmpfs on /tmp, /var/tmp, /dev/shm and /run/lock (those
 * that are folders here), and fds to those tmpfs roots. An invocation
 * takes a slot, its process enters it before exec; when the invocation
 * is over and its cgroup leaf is empty (nothing of it runs), the slot
 * is scrubbed — every file and folder under each tmpfs removed — and
 * goes back to the pool; a slot that cannot be scrubbed whole is thrown
 * away. Functions cannot change a slot's mounts (no CAP_SYS_ADMIN), so
 * its files are all there is to undo.
 *
 * Only for invocations that need no other change of mounts (not isolate
 * pid or net) and have a cgroup leaf (without one, a process could
 * outlive the invocation and write into the next one's /tmp).
 *
 * A slot serves one function only (its name and executable): a process
 * could pass an fd to its /tmp to a process of another invocation
 * (SCM_RIGHTS), which then reaches the files of the slot's next users
 * while it runs; those are the same function's, never another tenant's.
 * A slot is used for a minute at most, so that mounts made on the host
 * since are seen (and the old ones not held busy) soon.
 *
 * Where the host has a /dev/mqueue, each slot mounts there the mqueue
 * file system of an IPC namespace of its holder's, which dies with the
 * holder: an empty folder where nothing can be made (EACCES), never the
 * host's queues. The invocation still has an IPC namespace of its own
 * (CLONE_NEWIPC), whose queues mq_open(3) makes as always; /dev/mqueue
 * just does not list them. */
#ifndef FN_NSPOOL_H
#define FN_NSPOOL_H

#include <stdint.h>

struct nsslot;

/* A slot for the function NAME at PATH whose tmpfs are TMP_SIZE bytes
 * each (FN_UNLIMITED: no size), kept or new. NULL (logged once) when
 * none could be made: then the invocation makes its own namespace, as
 * without the pool. */
struct nsslot *nspool_take(const char *name, const char *path,
    uint64_t tmp_size);

/* The fd of SLOT's mount namespace, for setns(2) in the child. */
int nspool_mnt_fd(const struct nsslot *slot);

/* SLOT's invocation is over and nothing of it runs: scrub it and keep
 * it for the next, or throw it away. nspool_give(NULL) is a no-op. */
void nspool_give(struct nsslot *slot);

/* SLOT is not to be used again (something of its invocation may still
 * run): closed. nspool_drop(NULL) is a no-op. */
void nspool_drop(struct nsslot *slot);

#endif
