/* harness_int.h — what the harness_*.c files share among themselves;
 * tests use harness.h. */
#ifndef FN_T_HARNESS_INT_H
#define FN_T_HARNESS_INT_H

#include <stddef.h>
#include <sys/types.h>

#define START_WAIT_MS 10000
#define PATH_ENV \
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* "harness: " and the message on stderr. */
void hint_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reaped already, or now (WNOHANG): 1, with *status. */
int hint_child_gone(pid_t pid, int *status);
/* Append what fd has to *buf (malloc'd, *cap and *used grown as needed,
 * kept NUL-terminated): 1 if more may come, 0 at EOF or a read error,
 * -1 when out of memory. */
int hint_read_some(int fd, char **buf, size_t *cap, size_t *used);
/* All of fd, NUL-terminated (*len: bytes, may be NULL); NULL on error. */
char *hint_slurp_fd(int fd, size_t *len);
/* Wait up to START_WAIT_MS for h->daemon_pid (WHAT, for messages) to
 * accept on h->sock: 0; -1 (stopped, or it exited: its log shown). */
struct harness;
int hint_await_daemon(struct harness *h, const char *what);

/* Tests that said SKIP (harness_skip.c counts, harness_main.c reports).
 * Check runs each test in a forked child, so main() points it at a
 * shared mapping; NULL when no main() of ours runs (not counted). */
extern unsigned *hint_skips;

#endif
