/* preflight.h — what the manifest asks that this daemon cannot or should
 * not do, found before serving: at start-up and by -t. */
#ifndef FN_PREFLIGHT_H
#define FN_PREFLIGHT_H

#include <stddef.h>

#include "manifest.h"

enum preflight_level { PREFLIGHT_INFO, PREFLIGHT_WARNING, PREFLIGHT_ERROR };

typedef void (*preflight_report)(enum preflight_level level,
    const char *msg, void *arg);

/* Check M for this process's privileges: a daemon that is not root can
 * neither switch users nor isolate; as root, every manifest function's
 * user must exist and its executable pass execcheck(). Each problem goes
 * to REPORT. Returns the number of errors. */
/* The daemon listens on ADDR (-s), not on the manifest's listen: the
 * socket folder check looks at ADDR. */
void preflight_listen(const char *addr);

size_t preflight(const struct manifest *m, preflight_report report,
    void *arg);

/* For -t, as root: who each manifest function runs as (uid and gid,
 * dynamic or a user's), as PREFLIGHT_INFO lines; and a warning for
 * functions that share a real user (they can reach each other). */
void preflight_identities(const struct manifest *m, preflight_report report,
    void *arg);

#endif
