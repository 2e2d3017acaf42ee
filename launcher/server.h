/* server.h — the listening socket, one thread per FastCGI connection,
 * admission (slots per function and for the daemon), manifest reload
 * swap, and drain on shutdown. */
#ifndef FN_SERVER_H
#define FN_SERVER_H

/* Run the daemon with the manifest FILE; LISTEN_OVERRIDE (-s) may be
 * NULL. Returns the process exit code (0 after a clean drain). */
int server_run(const char *file, const char *listen_override);

/* For `fnlauncher invoke`: load FILE and serve the one FastCGI
 * connection FD in a thread, through the same code as a real request.
 * Returns 0, or -1 (logged). */
int server_local(const char *file, int fd);

#endif
