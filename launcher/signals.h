/* signals.h — how every entry point (the daemon and `fnlauncher
 * invoke`) takes its signals, in one place.
 *
 * SIGTERM, SIGINT, SIGHUP and SIGUSR1 are blocked in every thread and
 * read from a signalfd by the one thread that acts on them. That also
 * keeps libfcgi out: FCGX_Init installs handlers of its own for
 * SIGUSR1, SIGPIPE and SIGTERM (its SIGTERM handler only sets a flag
 * for an accept loop we do not use, so an unblocked SIGTERM would be
 * swallowed). */
#ifndef FN_SIGNALS_H
#define FN_SIGNALS_H

/* Block the signals above in this thread and every thread it starts,
 * and ignore SIGPIPE (writes to a gone peer fail with EPIPE instead).
 * Call before any thread starts. Returns the signalfd, or -1 (logged). */
int signals_take(void);

/* After FCGX_Init: SIGPIPE ignored again, SIGCHLD default (an
 * inherited SIG_IGN would reap our children behind our back), and the
 * spawner told which dispositions children must reset. */
void signals_after_libfcgi(void);

/* The signal waiting on SFD (from signals_take), or 0 when none. */
int signals_next(int sfd);

#endif
