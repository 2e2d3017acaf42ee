/* connection.c — see connection.h.
 *
 * Between two requests the thread waits in poll(2) on the connection
 * and on the drain event, not inside libfcgi: a blocked FCGX_Accept_r
 * may already hold the start of the next request in its buffer, where
 * no other thread can see it, and only the thread that owns an fd may
 * close it (libfcgi closes fds inside FCGX_Accept_r; another thread's
 * shutdown() could hit a reused number). So the drain only wakes the
 * waiting threads; each one looks at its own socket and ends only if
 * nothing has come. Once bytes have come, libfcgi reads the request
 * and it is served. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <fcgiapp.h>

#include "connection.h"
#include "fnlog.h"
#include "request.h"

static int drain_fd = -1;       /* eventfd: readable once draining */
static atomic_bool draining;
static atomic_uint busy;        /* connections not waiting between requests */

unsigned
connection_busy(void)
{
	return atomic_load(&busy);
}

int
connection_init(void)
{
	if ((drain_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		fnlog(FNLOG_ERROR, "eventfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void
connection_drain(void)
{
	uint64_t one = 1;

	atomic_store(&draining, true);
	/* Never read: it stays readable for every waiting thread. */
	(void)!write(drain_fd, &one, sizeof(one));
}

/* Wait until the next request (or the end of the connection) can be
 * read from FD. false: the daemon is draining and nothing has come, so
 * the connection should end. A connection that has not had its first
 * request yet waits for it (nginx connected to send one). */
static bool
wait_for_request(int fd, bool served)
{
	struct pollfd pfd[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = drain_fd, .events = POLLIN },
	};

	for (;;) {
		nfds_t n = served ? 2 : 1;
		int rc = poll(pfd, n, -1);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return false;
		if (pfd[0].revents != 0)
			return true;    /* bytes, or EOF: libfcgi sees which */
		if (n == 2 && pfd[1].revents != 0) {
			/* Draining; one last look at our own socket. */
			pfd[0].revents = 0;
			return poll(pfd, 1, 0) > 0;
		}
	}
}

void
connection_serve(int fd)
{
	FCGX_Request req;
	bool served = false, counted = true;

	FCGX_InitRequest(&req, -1, 0);
	req.ipcFd = fd;
	/* Our fd, accepted by us: FCGX_Accept_r must read from it, not
	 * close it (it closes when keepConnection is 0) nor accept on the
	 * listening socket (listen_sock -1 makes that fail, ending us). */
	req.keepConnection = 1;
	/* Busy from the start (nginx connected to send a request) until it
	 * waits between requests: a drain waits for busy connections, so a
	 * request whose first bytes libfcgi has read is never dropped. */
	atomic_fetch_add(&busy, 1);
	for (;;) {
		if (served) {
			atomic_fetch_sub(&busy, 1);
			counted = false;
		}
		if (!wait_for_request(req.ipcFd, served))
			break;
		if (!counted) {
			atomic_fetch_add(&busy, 1);
			counted = true;
		}
		if (FCGX_Accept_r(&req) != 0)
			break;
		request_handle(&req);
		if (atomic_load(&draining))
			req.keepConnection = 0;
		FCGX_Finish_r(&req);
		served = true;
		if (req.ipcFd < 0)
			break;
	}
	/* Ended here, not by libfcgi (whose close waits up to 2 s in a
	 * select(2) that cannot take fds past 1023): close it ourselves. */
	if (req.ipcFd >= 0) {
		close(req.ipcFd);
		req.ipcFd = -1;
	}
	FCGX_Free(&req, 1);
	if (counted)
		atomic_fetch_sub(&busy, 1);
}
