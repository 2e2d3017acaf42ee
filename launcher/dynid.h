/* dynid.h — a uid (and gid) of its own for each function that runs as
 * `user: dynamic`, from the manifest's dynamic_ids range (by default
 * 61184-65519, the range systemd's DynamicUser= uses).
 *
 * A function's id is taken from a hash of its name, so it is the same
 * across restarts and reloads; an id that another function holds, or
 * that the user or group database knows (a real account), is passed
 * over for the next one. Ids are never handed back while the daemon
 * runs: a function whose processes may still linger never shares its
 * uid with another. */
#ifndef FN_DYNID_H
#define FN_DYNID_H

#include <stdint.h>
#include <sys/types.h>

#include "manifest.h"

/* The id of function NAME within FIRST..LAST, given out now if it has
 * none yet. 0, or -1 when every id of the range is taken (errno
 * ENOSPC) or memory ran out. Thread-safe. */
int dynid_get(const char *name, uint32_t first, uint32_t last, uid_t *id);

/* Give ids to M's dynamic functions and to the drop-ins in its
 * functions_dir, in name order: the same set of names gets the same ids
 * whichever is requested first, in every run. */
void dynid_load(const struct manifest *m);

/* The function a dynamic id belongs to in this daemon, or NULL. */
const char *dynid_owner(uid_t id);

#endif
