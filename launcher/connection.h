/* connection.h — one FastCGI connection from nginx, served by one
 * thread: requests one after another while nginx keeps the connection
 * (FCGI_KEEP_CONN); and the drain of idle connections when the daemon
 * stops on TCP (nginx then sends new requests to another host). */
#ifndef FN_CONNECTION_H
#define FN_CONNECTION_H

/* Once, before the first connection. 0, or -1 (logged). */
int connection_init(void);

/* Serve the connection FD (accepted by us) to its end, then close it. */
void connection_serve(int fd);

/* Start draining: a connection waiting for its next request ends now,
 * and one that is busy ends after its request. A request that has
 * reached the daemon — even one whose first bytes only — is served. */
void connection_drain(void);

/* Connections busy with a request now (from its first byte to its
 * answer), and ones not yet past their first request. */
unsigned connection_busy(void);

#endif
