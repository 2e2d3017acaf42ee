/* listener.h — the listening socket: systemd socket activation, -s,
 * the manifest's listen, or a listening socket on fd 0 (spawn-fcgi). */
#ifndef FN_LISTENER_H
#define FN_LISTENER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

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

/* Who may not connect, from M: every uid of its dynamic_ids range and
 * the uid of every user its functions name. Call at start-up and after
 * each reload. */
void listener_policy(const struct manifest *m);

/* May the peer of the connection FD (accepted from SA) talk to us? TCP
 * peers must match allow_from; and no peer may run as a function's uid
 * (SO_PEERCRED on a unix socket; on TCP, the owner of the peer's socket
 * when it is on this host, from sock_diag(7)): a function that reached
 * the daemon could run any function with forged params. false: close
 * it, with the reason in WHY. */
bool listener_peer_ok(const struct manifest *m, int fd,
    const struct sockaddr *sa, char *why, size_t len);

/* true when UID is a function's (listener_policy; only a root daemon
 * switches users). */
bool listener_function_uid(uid_t uid);

/* The owner of the TCP socket with source SRC:SPORT and destination
 * DST:DPORT (ports in network order) when it is on this host: 1 with
 * *UID, 0 when none here, -1 when it cannot be told (sock_diag(7)). */
int listener_local_owner(int family, const void *src, uint16_t sport,
    const void *dst, uint16_t dport, uid_t *uid);

#endif
