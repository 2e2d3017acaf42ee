/* server.h — the daemon: start-up, the main loop (accept, signals,
 * housekeeping), reload and drain; and the local server that
 * `fnlauncher invoke` talks to. Each connection is served by
 * connection.c on a thread of threadpool.c; each request by request.c. */
#ifndef FN_SERVER_H
#define FN_SERVER_H

#include <stdbool.h>

/* Start-up steps, in order; each returns 0, or -1 after logging once
 * why. */
int server_subreaper(void);                 /* PR_SET_CHILD_SUBREAPER */
int server_load(const char *file);          /* manifest, records log */
int server_init_libfcgi(void);              /* FCGX_Init, then signals */
int server_start_threads(void);             /* connection threads */
int server_listen(const char *override);    /* the listening socket */

/* The main loop, taking signals from SFD (signals_take). Returns the
 * exit code (0 after a clean drain). */
int server_run(int sfd);

/* `fnlauncher invoke`: load FILE and serve the one FastCGI connection
 * FD on a thread, through the same code as a real request. 0, or -1
 * (logged). */
int server_local(const char *file, int fd);
/* End what the local server runs now (its function is killed and the
 * request answered 503, as at the end of a drain). */
void server_local_stop(void);
/* Wait until the local server's connection has ended: its teardown and
 * record are done. */
void server_local_wait(void);

/* For the request stage. */
bool server_draining(void);      /* SIGTERM came */
bool server_refusing(void);      /* draining on a unix socket: answer 503 */
int server_wake_fd(void);        /* readable once in-flight work must end */

#endif
