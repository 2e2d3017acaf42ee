/* bodyq.h — the request body between nginx and the function's stdin.
 *
 * nginx stops sending a request body once it has passed the response
 * header on to the client (ngx_http_upstream_send_request_handler:
 * header_sent && !preserve_output). So fnlauncher must take the whole
 * body from nginx whatever pace the function reads at, and hold the
 * response until it has. The queue keeps up to MEM_MAX bytes in memory
 * and spools the rest to an unlinked temporary file, so the daemon's
 * memory stays bounded for any body size (max_body bounds the disk). */
#ifndef FN_BODYQ_H
#define FN_BODYQ_H

#include <stddef.h>
#include <sys/types.h>

struct bodyq;

/* A queue holding at most MEM_MAX bytes in memory; spool files go to
 * TMPDIR (or /tmp when that is unset). NULL on ENOMEM. */
struct bodyq *bodyq_new(size_t mem_max);
void bodyq_free(struct bodyq *q);

/* Append LEN bytes. Returns 0, or -1 when the spool file failed (errno). */
int bodyq_push(struct bodyq *q, const char *data, size_t len);

/* Forget what is queued (the reader went away). */
void bodyq_drop(struct bodyq *q);

/* Bytes queued and not yet written out. */
size_t bodyq_len(const struct bodyq *q);

/* Write queued bytes to the non-blocking FD. Returns the number written
 * (0 when FD would block), or -1 on an error such as EPIPE. */
ssize_t bodyq_write(struct bodyq *q, int fd);

#endif
