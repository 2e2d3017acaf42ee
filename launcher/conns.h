/* conns.h — the FastCGI connections open now, so that a drain can close
 * the idle ones: nginx then drops them from its keepalive cache and sends
 * new requests to another upstream instead of to a daemon that is going. */
#ifndef FN_CONNS_H
#define FN_CONNS_H

#include <stdbool.h>

struct conn {
	struct conn *prev, *next;
	int fd;
	bool idle;               /* waiting for the next request */
	bool served;             /* has answered a request already */
};

void conns_add(struct conn *c, int fd);
void conns_remove(struct conn *c);

/* Mark C busy (a request arrived) or idle (waiting). Returns false when
 * the daemon is draining and C should not wait for another request. */
bool conns_idle(struct conn *c, bool idle);

/* Start draining: shut down every idle connection now, and any that
 * becomes idle later. */
void conns_drain(void);

#endif
