/* listener.c — where the daemon listens (SPEC.md section 2):
 * systemd socket activation > -s > manifest listen > fd 0 > error. */
#include "config.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <pthread.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fnlog.h"
#include "identity.h"
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
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (open_any(l, m, override) < 0)
		return -1;
	/* A TCP socket handed over (systemd, spawn-fcgi) needs allow_from
	 * as much as one we open. */
	if (!m->allow_from_set && getsockname(l->fd, (struct sockaddr *)&ss,
	    &len) == 0 && (ss.ss_family == AF_INET ||
	    ss.ss_family == AF_INET6)) {
		fnlog(FNLOG_ERROR, "listening on TCP (%s) needs allow_from in the manifest: the addresses of the nginx hosts that may connect", l->desc);
		listener_close(l);
		return -1;
	}
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
	/* Every process of the host can reach a TCP port: who may talk to
	 * us is not left to a default. */
	if (!m->allow_from_set) {
		fnlog(FNLOG_ERROR, "listening on TCP (%s) needs allow_from in the manifest: the addresses of the nginx hosts that may connect", addr);
		return -1;
	}
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

/* ---- who may connect ----------------------------------------------------- */

static pthread_mutex_t policy_lock = PTHREAD_MUTEX_INITIALIZER;
static uid_t *fn_uids;          /* uids of named users, sorted */
static size_t nfn_uids;
static uint32_t dyn_first = 1, dyn_last;    /* empty range until set */

static int
cmp_uid(const void *a, const void *b)
{
	uid_t x = *(const uid_t *)a, y = *(const uid_t *)b;

	return x < y ? -1 : x > y;
}

void
listener_policy(const struct manifest *m)
{
	uid_t *v = calloc(m->nfunctions + m->ntenants + 1, sizeof(*v));
	size_t n = 0;
	struct identity id;
	char err[256];

	for (size_t i = 0; v != NULL && i < m->nfunctions; i++) {
		const struct fn_spec *fn = &m->functions[i];
		if (strcmp(fn->user, FN_USER_DYNAMIC) == 0 ||
		    identity_resolve(fn->user, fn->group, &id, err,
		    sizeof(err)) < 0 || id.uid == 0)
			continue;       /* uid 0: nginx's master may be root */
		v[n++] = id.uid;
	}
	if (v != NULL && strcmp(m->defaults.user, FN_USER_DYNAMIC) != 0 &&
	    identity_resolve(m->defaults.user, m->defaults.group, &id, err,
	    sizeof(err)) == 0 && id.uid != 0)
		v[n++] = id.uid;        /* the drop-ins' */
	/* every function of a tenant runs as the tenant's user */
	for (size_t i = 0; v != NULL && i < m->ntenants; i++) {
		const char *u = m->tenants[i]->tenant_user;
		if (strcmp(u, FN_USER_DYNAMIC) != 0 &&
		    identity_resolve(u, NULL, &id, err, sizeof(err)) == 0 &&
		    id.uid != 0)
			v[n++] = id.uid;
	}
	if (v != NULL)
		qsort(v, n, sizeof(*v), cmp_uid);
	pthread_mutex_lock(&policy_lock);
	free(fn_uids);
	fn_uids = v;
	nfn_uids = v != NULL ? n : 0;
	dyn_first = m->dynamic_first;
	dyn_last = m->dynamic_last;
	pthread_mutex_unlock(&policy_lock);
}

bool
listener_function_uid(uid_t uid)
{
	bool yes;

	if (geteuid() != 0)
		return false;
	pthread_mutex_lock(&policy_lock);
	yes = (uid >= dyn_first && uid <= dyn_last) ||
	    (fn_uids != NULL && bsearch(&uid, fn_uids, nfn_uids,
	    sizeof(uid), cmp_uid) != NULL);
	pthread_mutex_unlock(&policy_lock);
	return yes;
}

/* The owner of the TCP socket whose source is SRC:SPORT and whose
 * destination is DST:DPORT (FAMILY's addresses, ports in network
 * order), when it is on this host: asked of the kernel
 * (NETLINK_SOCK_DIAG, inet_diag). 1 with *UID set, 0 when no local
 * socket matches (a remote peer), -1 when the kernel could not be
 * asked. */
int
listener_local_owner(int family, const void *src, uint16_t sport,
    const void *dst, uint16_t dport, uid_t *uid)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req;
	size_t alen = family == AF_INET ? 4 : 16;
	char buf[8192];
	int nl, found = 0;
	ssize_t n;

	if (family != AF_INET && family != AF_INET6)
		return -1;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.r.sdiag_family = (uint8_t)family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0u;
	req.r.id.idiag_cookie[0] = req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	req.r.id.idiag_sport = sport;
	req.r.id.idiag_dport = dport;
	memcpy(req.r.id.idiag_src, src, alen);
	memcpy(req.r.id.idiag_dst, dst, alen);
	if ((nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) < 0)
		return -1;
	if (send(nl, &req, sizeof(req), 0) != (ssize_t)sizeof(req)) {
		close(nl);
		return -1;
	}
	/* One answer: the socket (an inet_diag_msg), or an error (ENOENT:
	 * no such socket here). */
	n = recv(nl, buf, sizeof(buf), 0);
	close(nl);
	if (n < (ssize_t)sizeof(struct nlmsghdr))
		return -1;
	for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)n);
	    h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);
			return e->error == -ENOENT ? 0 : -1;
		}
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
			const struct inet_diag_msg *d = NLMSG_DATA(h);
			*uid = (uid_t)d->idiag_uid;
			found = 1;
			break;
		}
	}
	return found;
}

/* The owner of the TCP socket at the other end of FD, when that socket
 * is on this host (see listener_local_owner). */
static int
tcp_peer_uid(int fd, uid_t *uid)
{
	struct sockaddr_storage me, peer;
	socklen_t ml = sizeof(me), pl = sizeof(peer);

	if (getsockname(fd, (struct sockaddr *)&me, &ml) < 0 ||
	    getpeername(fd, (struct sockaddr *)&peer, &pl) < 0)
		return -1;
	if (peer.ss_family == AF_INET) {
		const struct sockaddr_in *p = (const void *)&peer, *m = (const void *)&me;
		return listener_local_owner(AF_INET, &p->sin_addr, p->sin_port,
		    &m->sin_addr, m->sin_port, uid);
	}
	if (peer.ss_family == AF_INET6) {
		const struct sockaddr_in6 *p = (const void *)&peer, *m = (const void *)&me;
		return listener_local_owner(AF_INET6, &p->sin6_addr,
		    p->sin6_port, &m->sin6_addr, m->sin6_port, uid);
	}
	return -1;
}

bool
listener_peer_ok(const struct manifest *m, int fd, const struct sockaddr *sa,
    char *why, size_t len)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	uid_t uid;
	int rc;

	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
		const void *addr = sa->sa_family == AF_INET ?
		    (const void *)&((const struct sockaddr_in *)sa)->sin_addr :
		    (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (!manifest_peer_allowed(m, sa->sa_family, addr)) {
			snprintf(why, len, "not in allow_from");
			return false;
		}
		if (geteuid() != 0)
			return true;
		if ((rc = tcp_peer_uid(fd, &uid)) < 0) {
			snprintf(why, len, "its owner could not be found (sock_diag): %s",
			    strerror(errno));
			return false;
		}
		if (rc == 1 && listener_function_uid(uid)) {
			snprintf(why, len, "it runs as uid %u, a function's",
			    (unsigned)uid);
			return false;
		}
		return true;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
		snprintf(why, len, "SO_PEERCRED: %s", strerror(errno));
		return false;
	}
	if (listener_function_uid(cred.uid)) {
		snprintf(why, len, "it runs as uid %u, a function's",
		    (unsigned)cred.uid);
		return false;
	}
	return true;
}
