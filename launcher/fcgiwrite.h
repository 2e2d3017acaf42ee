/* fcgiwrite.h — the client side of FastCGI (spec sections 3 and 5):
 * records and name-value pairs written to a socket, for the requests
 * the daemon makes itself (`fnlauncher invoke`, schedules) and serves
 * through the same code as nginx's. Request id 1. */
#ifndef FN_FCGIWRITE_H
#define FN_FCGIWRITE_H

#include <stdbool.h>
#include <stddef.h>

/* All LEN bytes of BUF to FD; false when the other side is gone. */
bool fcgiw_all(int fd, const void *buf, size_t len);

/* One record of TYPE (FCGI_PARAMS, FCGI_STDIN, ...) with DATA. */
bool fcgiw_record(int fd, int type, const void *data, size_t len);

/* BEGIN_REQUEST for a responder that closes the connection after. */
bool fcgiw_begin(int fd);

/* One param NAME=VALUE as its own FCGI_PARAMS record (at most 64 KiB). */
bool fcgiw_param(int fd, const char *name, const char *value);

#endif
