/* listener.c — where the daemon listens (SPEC.md section 2):
 * systemd socket activation > -s > manifest listen > fd 0 > error. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fnlog.h"
#include "listener.h"

#define BACKLOG 1024

/* fd 3 from systemd, when LISTEN_PID is us. */
static int
systemd_fd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

	if (pid == NULL || fds == NULL || atol(pid) != (long)getpid() ||
	    atoi(fds) < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 3;
}

static bool
is_listening_socket(int fd)
{
	int val = 0;
	socklen_t len = sizeof(val);

	return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == 0 &&
	    val != 0;
}

/* A stale socket file (nobody accepting) may be replaced. */
static int
unlink_stale(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0) {
		errno = EADDRINUSE;
		rc = -1;
	} else if (errno == ECONNREFUSED)
		rc = unlink(sun->sun_path);
	close(fd);
	return rc;
}

static int
set_owner(const char *path, const struct manifest *m)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;

	if (m->socket_owner != NULL) {
		struct passwd *pw = getpwnam(m->socket_owner);
		if (pw == NULL) {
			fnlog(FNLOG_ERROR, "socket_owner: no user %s", m->socket_owner);
			return -1;
		}
		uid = pw->pw_uid;
	}
	if (m->socket_group != NULL) {
		struct group *gr = getgrnam(m->socket_group);
		if (gr == NULL) {
			fnlog(FNLOG_ERROR, "socket_group: no group %s", m->socket_group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) < 0) {
		fnlog(FNLOG_ERROR, "chown %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
open_unix(struct listener *l, const char *path, const struct manifest *m)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fnlog(FNLOG_ERROR, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		fnlog(FNLOG_ERROR, "%s exists and is not a socket", path);
		return -1;
	}
	if (access(path, F_OK) == 0 && unlink_stale(&sun) < 0) {
		fnlog(FNLOG_ERROR, "%s: %s", path, strerror(errno));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, m->socket_mode) < 0 || set_owner(path, m) < 0 ||
	    listen(fd, BACKLOG) < 0) {
		fnlog(FNLOG_ERROR, "cannot listen on unix:%s: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	l->fd = fd;
	l->is_unix = true;
	snprintf(l->path, sizeof(l->path), "%s", path);
	return 0;
}

/* "HOST:PORT" or "[V6]:PORT". */
static int
open_tcp(struct listener *l, const char *addr)
{
	char host[256];
	const char *colon = strrchr(addr, ':'), *h = addr;
	size_t hlen;
	struct addrinfo hints, *ai = NULL;
	int fd = -1, one = 1, rc;

	if (colon == NULL)
		goto bad;
	hlen = (size_t)(colon - addr);
	if (addr[0] == '[') {
		if (hlen < 2 || addr[hlen - 1] != ']')
			goto bad;
		h = addr + 1;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &ai)) != 0) {
		fnlog(FNLOG_ERROR, "listen %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, BACKLOG) < 0) {
		fnlog(FNLOG_ERROR, "cannot listen on %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	l->fd = fd;
	return 0;
bad:
	fnlog(FNLOG_ERROR, "listen address %s: expected unix:/path, HOST:PORT or [V6]:PORT", addr);
	return -1;
}

static int open_any(struct listener *l, const struct manifest *m,
    const char *override);

/* The listening socket never blocks the main loop: a connection reset
 * between poll and accept must not park it. */
int
listener_open(struct listener *l, const struct manifest *m,
    const char *override)
{
	if (open_any(l, m, override) < 0)
		return -1;
	int fl = fcntl(l->fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(l->fd, F_SETFL, fl | O_NONBLOCK);
}

static int
open_any(struct listener *l, const struct manifest *m,
    const char *override)
{
	const char *addr = override != NULL ? override : m->listen;
	int fd;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if ((fd = systemd_fd()) >= 0) {
		l->fd = fd;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		snprintf(l->desc, sizeof(l->desc), "systemd socket (fd 3)");
		return 0;
	}
	if (addr == NULL) {
		if (is_listening_socket(0)) {
			/* spawn-fcgi style: keep fd 0 as the socket, give the
			 * daemon a harmless stdin of its own. */
			l->fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
			int null = open("/dev/null", O_RDONLY);
			if (null >= 0 && null != 0) {
				dup2(null, 0);
				close(null);
			}
			snprintf(l->desc, sizeof(l->desc), "inherited socket (fd 0)");
			return l->fd < 0 ? -1 : 0;
		}
		fnlog(FNLOG_ERROR, "nowhere to listen: give -s ADDR or 'listen' in the manifest");
		return -1;
	}
	snprintf(l->desc, sizeof(l->desc), "%s", addr);
	if (strncmp(addr, "unix:", 5) == 0)
		return open_unix(l, addr + 5, m);
	return open_tcp(l, addr);
}

void
listener_close(struct listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	if (l->path[0] != '\0')
		unlink(l->path);
	l->path[0] = '\0';
}

bool
listener_peer_ok(const struct manifest *m, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return manifest_peer_allowed(m, AF_INET, &in->sin_addr);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		return manifest_peer_allowed(m, AF_INET6, &in6->sin6_addr);
	}
	return true;            /* unix: guarded by socket_mode */
}
