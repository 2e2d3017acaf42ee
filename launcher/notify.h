/* notify.h — tell systemd how the daemon is doing (sd_notify protocol:
 * one datagram to $NOTIFY_SOCKET), without linking libsystemd. */
#ifndef FN_NOTIFY_H
#define FN_NOTIFY_H

/* Send MSG ("READY=1", ...) if NOTIFY_SOCKET is set. Returns 0 when sent
 * or not asked for, -1 on failure (errno). */
int notify(const char *msg);

#endif
