/* server.h — the listening socket, one thread per FastCGI connection,
 * admission (slots per function and for the daemon), manifest reload
 * swap, and drain on shutdown. */
#ifndef FN_SERVER_H
#define FN_SERVER_H

/* Run the daemon with the manifest FILE; LISTEN_OVERRIDE (-s) may be
 * NULL. Returns the process exit code (0 after a clean drain). */
int server_run(const char *file, const char *listen_override);

#endif
