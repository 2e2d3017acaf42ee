/* bodyreader.h — the request body, as it comes from nginx.
 *
 * libfcgi reads the socket in 8 KiB gulps and hands out one record's
 * bytes per fill: a 64 MiB body costs 8 192 reads, and its buffered
 * bytes never make the socket readable, so poll(2) alone cannot tell
 * when to fill. The body starts in libfcgi's buffer (it often holds all
 * of a small body when FCGX_Accept_r returns); once that buffer is used
 * up, this reads the socket itself, 128 KiB at a time, and parses the
 * records (fcgirec.h). Taking over needs libfcgi's private stream
 * state, whose layout is fixed in the libfcgi 2.4.x that Debian ships;
 * it is checked on every call, and if it ever differs the body is read
 * through libfcgi's blocking fills, as before (harmless behind nginx's
 * request buffering, only slower). */
#ifndef FN_BODYREADER_H
#define FN_BODYREADER_H

#include <stdbool.h>

#include <fcgiapp.h>

struct bodyreader;

struct bodyreader *bodyreader_new(FCGX_Request *req);
void bodyreader_free(struct bodyreader *in);

/* 1: body bytes (or the end of the body) can be had without waiting
 * for the socket; 0: wait until the socket is readable. */
int bodyreader_ready(struct bodyreader *in);

/* The next body bytes, with at most one read of the socket: returns how
 * many are at *DATA (valid until the next call; 0: none came yet), or
 * -1 when the connection closed, failed or broke the protocol. */
long bodyreader_next(struct bodyreader *in, const char **data);

/* The whole body has come in. */
bool bodyreader_eof(const struct bodyreader *in);

/* Bytes came after the body: the connection cannot carry another
 * request. */
bool bodyreader_extra(const struct bodyreader *in);

/* At start-up (after FCGX_Init): read a request with a 20 000-byte body
 * through a socketpair the way requests are read. true when the reader
 * took over from libfcgi (its private layout is the one this build
 * knows) and the body came out whole; else request bodies will be read
 * through libfcgi. */
bool bodyreader_probe(void);

#endif
