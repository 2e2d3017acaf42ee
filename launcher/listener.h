/* listener.h — the listening socket: systemd socket activation, -s,
 * the manifest's listen, or a listening socket on fd 0 (spawn-fcgi). */
#ifndef FN_LISTENER_H
#define FN_LISTENER_H

#include <stdbool.h>
#include <sys/socket.h>

#include "manifest.h"

struct listener {
	int fd;
	bool is_unix;
	char path[108];         /* unix socket to remove at exit ("" if none) */
	char desc[160];         /* for messages */
};

/* Open the listening socket in the order of SPEC.md section 2. Returns 0
 * or -1 (logged). */
int listener_open(struct listener *l, const struct manifest *m,
    const char *override);

/* Remove the unix socket we created, close the fd. */
void listener_close(struct listener *l);

/* true when a peer at SA may talk to us (allow_from, TCP only). */
bool listener_peer_ok(const struct manifest *m, const struct sockaddr *sa);

#endif
