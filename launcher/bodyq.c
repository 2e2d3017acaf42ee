/* bodyq.c — see bodyq.h. Bytes live in memory first; once they do not
 * fit, this and every later push goes to the spool file, so the order
 * is kept: memory drains first, then the file, in 64 KiB chunks. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bodyq.h"

#define CHUNK (64 * 1024)

struct bodyq {
	char *mem;
	size_t mem_max, mhead, mtail;
	int fd;                 /* spool file, -1 until needed */
	off_t woff, roff;       /* append and read offsets in the file */
	char *chunk;            /* bytes read back from the file */
	size_t chead, ctail;
	int no_splice;          /* splice(2) failed: pread + write */
};

struct bodyq *
bodyq_new(size_t mem_max)
{
	struct bodyq *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->mem_max = mem_max;
	q->fd = -1;
	return q;
}

void
bodyq_free(struct bodyq *q)
{
	if (q == NULL)
		return;
	if (q->fd >= 0)
		close(q->fd);
	free(q->mem);
	free(q->chunk);
	free(q);
}

void
bodyq_drop(struct bodyq *q)
{
	q->mhead = q->mtail = 0;
	q->chead = q->ctail = 0;
	q->roff = q->woff;
}

size_t
bodyq_len(const struct bodyq *q)
{
	return (q->mtail - q->mhead) + (q->ctail - q->chead) +
	    (size_t)(q->woff - q->roff);
}

/* An unlinked file in TMPDIR or /tmp. */
static int
spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd;
	/* File systems without O_TMPFILE: create, then unlink at once. */
	if ((size_t)snprintf(path, sizeof(path), "%s/fnlauncher-body-XXXXXX", dir) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

int
bodyq_push(struct bodyq *q, const char *data, size_t len)
{
	if (q->mhead == q->mtail)
		q->mhead = q->mtail = 0;
	if (q->fd < 0 && q->mtail + len <= q->mem_max) {
		if (q->mem == NULL && (q->mem = malloc(q->mem_max)) == NULL)
			return -1;
		memcpy(q->mem + q->mtail, data, len);
		q->mtail += len;
		return 0;
	}
	if (q->fd < 0 && (q->fd = spool_open()) < 0)
		return -1;
	while (len > 0) {
		ssize_t n = pwrite(q->fd, data, len, q->woff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		q->woff += n;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Refill the chunk from the spool file. 0, or -1 on a read error. */
static int
refill(struct bodyq *q)
{
	size_t want = CHUNK;
	ssize_t n;

	if (q->chunk == NULL && (q->chunk = malloc(CHUNK)) == NULL)
		return -1;
	if ((off_t)want > q->woff - q->roff)
		want = (size_t)(q->woff - q->roff);
	do
		n = pread(q->fd, q->chunk, want, q->roff);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	q->roff += n;
	q->chead = 0;
	q->ctail = (size_t)n;
	return 0;
}

static ssize_t
write_some(int fd, const char *buf, size_t len, size_t *head)
{
	ssize_t n = write(fd, buf + *head, len - *head);

	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	*head += (size_t)n;
	return n;
}

/* Spooled bytes straight from the file's page cache into the pipe FD:
 * no copy through user space, one call instead of pread + write. */
static ssize_t
splice_some(struct bodyq *q, int fd)
{
	ssize_t n = splice(q->fd, &q->roff, fd, NULL,
	    (size_t)(q->woff - q->roff), SPLICE_F_NONBLOCK);

	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	if (errno == EINVAL || errno == ENOSYS) {
		q->no_splice = 1;       /* a file system or FD without it */
		return 0;
	}
	return -1;
}

ssize_t
bodyq_write(struct bodyq *q, int fd)
{
	if (q->mhead < q->mtail)
		return write_some(fd, q->mem, q->mtail, &q->mhead);
	if (!q->no_splice && q->chead == q->ctail && q->roff < q->woff)
		return splice_some(q, fd);
	if (q->chead == q->ctail && q->roff < q->woff && refill(q) < 0)
		return -1;
	if (q->chead < q->ctail)
		return write_some(fd, q->chunk, q->ctail, &q->chead);
	return 0;
}
