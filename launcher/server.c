/* server.c — start-up, the main loop, reload and drain.
 *
 * Why a thread per connection and not a pool calling FCGX_Accept_r:
 * libfcgi has no read timeout and keeps a kept-alive connection bound to
 * the thread that accepted it, so a fixed pool can be exhausted by idle
 * nginx keepalive connections and new requests would wait unseen. Here
 * the main thread always accepts; each connection gets a thread
 * (threadpool.c keeps them for the next); admission (workers,
 * concurrency) is checked per request (inflight.c), so an over-limit
 * request gets its 503 at once instead of queueing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcgiapp.h>

#include "bodyreader.h"
#include "cgroup.h"
#include "connection.h"
#include "dynid.h"
#include "fnlog.h"
#include "inflight.h"
#include "tenants.h"
#include "async.h"
#include "scheduler.h"
#include "listener.h"
#include "metrics.h"
#include "mref.h"
#include "notify.h"
#include "nspool.h"
#include "once.h"
#include "preflight.h"
#include "reaper.h"
#include "server.h"
#include "signals.h"
#include "threadpool.h"

#define THREAD_STACK (256 * 1024)
#define SEND_TIMEOUT_S 30        /* a blocked write to nginx, at most */
#define THREADS_MIN 128          /* connection threads, at least */
#define THREADS_QUEUED 384       /* and room for requests in the queues */
#define AUTOGROUP_NICE "-10"     /* the daemon's session against each function's */

static struct {
	const char *file;
	struct listener lst;
	int wake_fd;                /* eventfd: readable once draining ends */
	atomic_bool draining;
	atomic_bool refusing;       /* draining on a unix socket */
	atomic_bool drained;        /* drain() has finished */
	pthread_t local;            /* invoke: the connection's thread */
	bool is_local;              /* this is invoke's local server */
} srv = { .wake_fd = -1 };

bool
server_draining(void)
{
	return atomic_load(&srv.draining);
}

bool
server_refusing(void)
{
	return atomic_load(&srv.refusing);
}

int
server_wake_fd(void)
{
	return srv.wake_fd;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
log_problem(enum preflight_level level, const char *msg, void *arg)
{
	fnlog(level == PREFLIGHT_ERROR ? FNLOG_ERROR : level ==
	    PREFLIGHT_WARNING ? FNLOG_WARN : FNLOG_INFO, "%s%s",
	    (const char *)arg, msg);
}

static void
log_tenant(bool error, const char *line, void *arg)
{
	fnlog(error ? FNLOG_ERROR : FNLOG_WARN, "%s%s", (const char *)arg,
	    line);
}

/* FILE loaded and checked, every problem logged (each line starting
 * with WHAT); NULL when it cannot be used. */
static struct manifest *
load_checked(const char *file, const char *what)
{
	struct manifest_errors errs = { 0 };
	struct manifest *m = NULL;
	char line[1024];

	if (manifest_load(file, &m, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fnlog(FNLOG_ERROR, "%s%s", what, manifest_error_format(
			    file, &errs.v[i], line, sizeof(line)));
		manifest_errors_clear(&errs);
		return NULL;
	}
	if (preflight(m, log_problem, (void *)what) > 0) {
		manifest_free(m);
		return NULL;
	}
	/* A broken tenant file is that tenant's problem only. */
	(void)tenants_load(m, NULL, true, log_tenant, (void *)what);
	dynid_load(m);
	return m;
}

/* Every function is a session of its own (SPEC), and with the kernel's
 * autogroup scheduling (CONFIG_SCHED_AUTOGROUP, on by default; in effect
 * where the cpu controller does not group tasks) each session is a group
 * that gets an equal share of the CPU: 16 busy functions left all of the
 * daemon's threads, accepting and passing every request, a 17th of it,
 * and the client's p99 at 64 connections swung between 120 and 700 ms
 * (README, Performance). Weight the daemon's own group up (root only:
 * lowering a nice value needs CAP_SYS_NICE); the functions' groups keep
 * nice 0. */
static void
weigh_autogroup(void)
{
	int fd;

	if (geteuid() != 0 ||
	    (fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC)) < 0)
		return;
	if (write(fd, AUTOGROUP_NICE, strlen(AUTOGROUP_NICE)) < 0)
		fnlog(FNLOG_INFO, "cannot weigh the daemon's autogroup (nice %s): %s",
		    AUTOGROUP_NICE, strerror(errno));
	close(fd);
}

int
server_subreaper(void)
{
	/* Without it setsid escapees are not ours to sweep: go on, warned. */
	if (reaper_init() < 0)
		fnlog(FNLOG_WARN, "cannot become a child subreaper: %s",
		    strerror(errno));
	if (!srv.is_local)
		weigh_autogroup();
	return 0;
}

int
server_load(const char *file)
{
	struct manifest *m;

	srv.file = file;
	if ((m = load_checked(file, "")) == NULL)
		return -1;
	if (fnlog_records_open(m->log_invocations) < 0) {
		manifest_free(m);
		return -1;
	}
	cgroup_setup(m, !srv.is_local);
	cgroup_tenants_setup(m);
	reaper_kill_orphans(!cgroup_active());
	listener_policy(m);
	if (mref_set(m) < 0) {
		fnlog(FNLOG_ERROR, "out of memory loading %s", file);
		return -1;
	}
	if ((srv.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		fnlog(FNLOG_ERROR, "eventfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* FCGX_Init, then our signal dispositions, then which way request
 * bodies go (logged when SAY). */
static int
init_libfcgi(bool say)
{
	bool fast;

	if (FCGX_Init() != 0) {
		fnlog(FNLOG_ERROR, "libfcgi initialisation failed");
		return -1;
	}
	signals_after_libfcgi();
	/* Which way request bodies go, known before the first request. */
	metrics_body_reader(fast = bodyreader_probe());
	if (!say)
		return 0;
	if (fast) {
		fnlog(FNLOG_INFO, "request bodies: read by fnlauncher past libfcgi's first buffer (libfcgi %s stream layout recognised)",
		    LIBFCGI_BUILT_VERSION);
	} else {
		fnlog(FNLOG_WARN, "request bodies: read through libfcgi: its stream layout is not the one of libfcgi %s this build knows (large bodies are slower)",
		    LIBFCGI_BUILT_VERSION);
	}
	return 0;
}

int
server_init_libfcgi(void)
{
	return init_libfcgi(true);
}

int
server_start_threads(void)
{
	struct mref *mr = mref_get();
	/* Room for every request the workers allow, and as many more
	 * connections that only get a 503 or wait for their next request. */
	size_t max = 2 * (size_t)mr->m->workers + THREADS_QUEUED;

	mref_put(mr);
	if (max < THREADS_MIN)
		max = THREADS_MIN;
	/* Threads each get a malloc arena of their own (up to 8 per core)
	 * and keep what they freed: after a burst the daemon stayed at
	 * 27 MB. Two arenas are plenty for what a request allocates. */
	mallopt(M_ARENA_MAX, 2);
	if (connection_init() < 0)
		return -1;
	if (threadpool_init(connection_serve, THREAD_STACK, max) < 0) {
		fnlog(FNLOG_ERROR, "connection threads: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
server_listen(const char *override)
{
	struct mref *mr = mref_get();
	int rc = listener_open(&srv.lst, mr->m, override);

	mref_put(mr);
	return rc;
}

static void
accept_one(void)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct timeval tv = { .tv_sec = SEND_TIMEOUT_S };
	int fd = accept4(srv.lst.fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
	int one = 1;

	if (fd < 0) {
		/* Out of fds: poll would wake us at once, again and again. */
		if (errno == EMFILE || errno == ENFILE) {
			fnlog(FNLOG_ERROR, "accept: %s", strerror(errno));
			poll(NULL, 0, 100);
		}
		return;
	}
	struct mref *mr = mref_get();
	char why[160];
	bool ok = listener_peer_ok(mr->m, fd, (struct sockaddr *)&ss, why,
	    sizeof(why));
	mref_put(mr);
	if (!ok) {
		/* Not an allowed peer: no response at all. Said once per
		 * cause: a function could fill the log otherwise. */
		if (once("refused peer", why))
			fnlog(FNLOG_WARN, "connection refused: %s", why);
		close(fd);
		return;
	}
	/* A blocked write to nginx never outlasts this (no libfcgi timeout).
	 * Headers, body and FCGI_END_REQUEST may be separate small writes:
	 * without TCP_NODELAY, Nagle and delayed ACKs add ~40 ms on TCP. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    ((ss.ss_family == AF_INET || ss.ss_family == AF_INET6) &&
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)) {
		fnlog(FNLOG_ERROR, "setsockopt on a new connection: %s",
		    strerror(errno));
		close(fd);
		return;
	}
	if (threadpool_submit(fd) < 0) {
		fnlog(FNLOG_ERROR, "cannot start a connection thread: %s",
		    strerror(errno));
		close(fd);
	}
}

static void
accept_pending(void)
{
	struct pollfd pfd = { .fd = srv.lst.fd, .events = POLLIN };

	while (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN))
		accept_one();
}

/* SIGHUP: a new manifest (and records log) only when all of it can be
 * used; otherwise the running one stays, and the reload counts as
 * failed. */
static void
reload(void)
{
	struct manifest *m = load_checked(srv.file, "reload: ");
	struct mref *old;

	if (m == NULL || fnlog_records_open(m->log_invocations) < 0) {
		fnlog(FNLOG_ERROR, "reload failed: keeping the running manifest");
		manifest_free(m);
		metrics_reload(false);
		return;
	}
	old = mref_get();
	const char *was = old->m->listen, *now = m->listen;
	if ((was == NULL) != (now == NULL) || (was && strcmp(was, now) != 0))
		fnlog(FNLOG_WARN, "reload: 'listen' changed; it takes effect at the next restart");
	mref_put(old);
	size_t n = m->nfunctions;
	cgroup_setup(m, true);
	cgroup_tenants_setup(m);
	reaper_kill_orphans(!cgroup_active());
	listener_policy(m);
	if (mref_set(m) < 0) {
		fnlog(FNLOG_ERROR, "reload failed: out of memory");
		metrics_reload(false);
		return;
	}
	nspool_sweep(true);     /* functions may have changed hands */
	scheduler_load(m);
	async_load(m);
	fnlog(FNLOG_INFO, "reloaded %s (functions: %zu, tenants: %zu)",
	    srv.file, n, m->ntenants);
	metrics_reload(true);
}

/* SIGUSR1: reopen the records log (logrotate); on failure the open one
 * stays. */
static void
reopen_log(void)
{
	struct mref *mr = mref_get();

	if (fnlog_records_open(mr->m->log_invocations) < 0)
		fnlog(FNLOG_ERROR, "reopen failed: records still go to the log open before");
	mref_put(mr);
}

/* Nothing in flight: no invocation, and no connection reading a
 * request (libfcgi may hold the start of one). */
static bool
idle(void)
{
	return inflight_total() == 0 && connection_busy() == 0;
}

/* Let in-flight requests finish for up to shutdown_timeout, then wake
 * the invocations (they kill their processes and answer 503), then
 * wait. */
static void *
drain_thread(void *arg)
{
	struct mref *mr = mref_get();
	uint64_t end = mono_ms() + mr->m->shutdown_timeout_ms;
	uint64_t one = 1;

	mref_put(mr);
	fnlog(FNLOG_INFO, "draining: %u in flight", inflight_total());
	while (!idle() && mono_ms() < end)
		poll(NULL, 0, 20);
	inflight_cancel_waiters();
	(void)!write(srv.wake_fd, &one, sizeof(one));
	end = mono_ms() + 5000;
	while (inflight_total() > 0 && mono_ms() < end)
		poll(NULL, 0, 10);
	atomic_store(&srv.drained, true);
	return arg;
}

/* systemd wants the monotonic time with RELOADING=1 (Type=notify-reload). */
static void
notify_reloading(void)
{
	char msg[64];
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	notify(msg);
}

/* Once a second: orphans whose invocation has ended are swept; and
 * when a busy spell is over, the memory its threads freed goes back to
 * the system (glibc keeps it in its arenas otherwise: the daemon stayed
 * at 27 MB after a burst of 128 connections, from 2 MB at start). */
static void
housekeeping(void)
{
	static size_t last_threads;
	size_t threads = threadpool_threads();

	reaper_sweep(NULL);
	nspool_sweep(false);
	if (idle() && threads < last_threads)
		malloc_trim(0);
	last_threads = threads;
}

/* Accept and take signals until SIGTERM or SIGINT. */
static void
loop(int sfd)
{
	struct pollfd pfd[2] = {
		{ .fd = srv.lst.fd, .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};
	uint64_t next_sweep = mono_ms() + 1000;
	int sig;

	for (;;) {
		int n = poll(pfd, 2, 1000);
		if (n < 0 && errno != EINTR) {
			fnlog(FNLOG_ERROR, "poll: %s", strerror(errno));
			return;
		}
		if (mono_ms() >= next_sweep) {
			housekeeping();
			next_sweep = mono_ms() + 1000;
		}
		if (n <= 0)
			continue;
		if (pfd[0].revents & POLLIN)
			accept_one();
		while ((sig = signals_next(sfd)) != 0) {
			switch (sig) {
			case SIGHUP:
				notify_reloading();
				reload();
				notify("READY=1");
				break;
			case SIGUSR1:
				reopen_log();
				break;
			case SIGTERM:
			case SIGINT:
				return;
			}
		}
	}
}

/* On TCP, the way of several hosts behind one nginx upstream, stop
 * accepting: nginx takes a refused connection (safe to retry, even for
 * a POST) to another host; idle keepalive connections are closed for
 * the same reason. On a unix socket there is no other host: keep
 * accepting and answer 503 draining with Retry-After. */
static void
drain(void)
{
	struct pollfd pfd = { .fd = srv.lst.fd, .events = POLLIN };
	bool refuse = !srv.lst.is_unix;
	pthread_t t;

	notify("STOPPING=1");
	atomic_store(&srv.draining, true);
	if (!refuse)
		atomic_store(&srv.refusing, true);
	if (refuse) {
		/* Take what already waits in the accept queue (closing the
		 * listener would reset it, after nginx may have sent on it). */
		accept_pending();
		listener_close(&srv.lst);
		connection_drain();
	}
	if (pthread_create(&t, NULL, drain_thread, NULL) == 0)
		pthread_detach(t);
	else
		drain_thread(NULL);
	while (!atomic_load(&srv.drained))
		if (poll(&pfd, refuse ? 0 : 1, 20) > 0 && (pfd.revents & POLLIN))
			accept_one();
}

int
server_run(int sfd)
{
	struct mref *mr = mref_get();

	if (notify("READY=1") < 0)
		fnlog(FNLOG_WARN, "NOTIFY_SOCKET: %s", strerror(errno));
	fnlog(FNLOG_INFO, "listening on %s (functions: %zu, workers: %u)",
	    srv.lst.desc, mr->m->nfunctions, mr->m->workers);
	if (async_open(mr->m) == 0) {
		async_load(mr->m);
		if (async_start() < 0)
			fnlog(FNLOG_ERROR, "cannot start the async runner: "
			    "spooled jobs wait for the next start");
	}
	if (scheduler_start() < 0)
		fnlog(FNLOG_ERROR, "cannot start the scheduler: schedules do not run");
	else
		scheduler_load(mr->m);
	mref_put(mr);
	loop(sfd);
	scheduler_stop();       /* no new run once the drain begins */
	async_stop();
	drain();
	listener_close(&srv.lst);
	cgroup_cleanup();
	fnlog(FNLOG_INFO, "stopped");
	return 0;
}

static void *
local_thread(void *arg)
{
	connection_serve((int)(intptr_t)arg);
	return NULL;
}

int
server_local(const char *file, int fd)
{
	int rc;

	srv.is_local = true;
	if (server_subreaper() < 0 || server_load(file) < 0 ||
	    init_libfcgi(false) < 0 || connection_init() < 0)
		return -1;
	/* `invoke` prints the invocation record on stderr. */
	fnlog_records_open("stderr");
	if ((rc = pthread_create(&srv.local, NULL, local_thread,
	    (void *)(intptr_t)fd)) != 0) {
		fnlog(FNLOG_ERROR, "cannot start a thread: %s", strerror(rc));
		return -1;
	}
	return 0;
}

void
server_local_stop(void)
{
	uint64_t one = 1;

	atomic_store(&srv.draining, true);
	(void)!write(srv.wake_fd, &one, sizeof(one));
}

void
server_local_wait(void)
{
	pthread_join(srv.local, NULL);
	cgroup_cleanup();
}
