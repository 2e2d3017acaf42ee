/* server.c — accept, one thread per FastCGI connection, admission,
 * reload swap and drain.
 *
 * Why a thread per connection and not a pool calling FCGX_Accept_r:
 * libfcgi has no read timeout and keeps a kept-alive connection bound to
 * the thread that accepted it, so a fixed pool can be exhausted by idle
 * nginx keepalive connections and new requests would wait unseen. Here
 * the main thread always accepts; each connection gets a small thread;
 * admission (workers, concurrency) is a counter checked per request, so
 * an over-limit request gets its 503 at once instead of queueing. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcgiapp.h>

#include "cgienv.h"
#include "connpool.h"
#include "conns.h"
#include "fnlog.h"
#include "listener.h"
#include "metrics.h"
#include "notify.h"
#include "preflight.h"
#include "pump.h"
#include "reaper.h"
#include "reply.h"
#include "route.h"
#include "server.h"
#include "slots.h"
#include "spawnproc.h"

#define THREAD_STACK (256 * 1024)
#define DRAIN_BODY_MAX (64 * 1024)  /* unread body we read to keep a conn */

extern char **environ;

/* The manifest in use; a reload swaps it, requests hold a reference. */
struct mref {
	struct manifest *m;
	atomic_int refs;
};

static struct {
	pthread_mutex_t lock;
	struct mref *cur;
	const char *file;
	struct listener lst;
	int wake_fd;                /* eventfd: readable once draining ends */
	atomic_bool draining;
	atomic_bool drained;        /* drain() has finished */
	atomic_int in_flight;       /* invocations running */
	atomic_int conns;           /* connection threads alive */
	uint64_t id_seed;
	atomic_uint_fast64_t id_next;
	struct slots *slots;
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct mref *
mref_get(void)
{
	pthread_mutex_lock(&srv.lock);
	struct mref *r = srv.cur;
	atomic_fetch_add(&r->refs, 1);
	pthread_mutex_unlock(&srv.lock);
	return r;
}

static void
mref_put(struct mref *r)
{
	if (r != NULL && atomic_fetch_sub(&r->refs, 1) == 1) {
		manifest_free(r->m);
		free(r);
	}
}

static struct mref *
mref_new(struct manifest *m)
{
	struct mref *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->m = m;
	atomic_init(&r->refs, 1);
	return r;
}

/* 16 hex digits from the kernel's random pool: one id says nothing
 * about the next (the reaper trusts FN_REQUEST_ID only as a hint). The
 * counter mixed in keeps ids unique if getrandom ever fails. */
static void
new_request_id(char out[24])
{
	uint64_t x = 0;

	if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != sizeof(x))
		x = srv.id_seed ^ (atomic_fetch_add(&srv.id_next, 1) *
		    0x9e3779b97f4a7c15ULL);
	snprintf(out, 24, "%016llx", (unsigned long long)x);
}

static const char *
param(FCGX_Request *req, const char *name)
{
	return FCGX_GetParam(name, req->envp);
}

/* Read and drop what is left of the request body, so the connection can
 * carry the next request; past DRAIN_BODY_MAX, give the connection up
 * (and when it is given up already, do not read at all). With a body to
 * come, the answer goes out first; without one it waits for end_answer,
 * to leave in one write with the end of the request. */
static void
drain_body(FCGX_Request *req)
{
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", req->envp);
	char buf[8192];
	size_t total = 0;
	int n;

	if (!req->keepConnection)
		return;
	if (cl != NULL && *cl != '\0' && strcmp(cl, "0") != 0)
		FCGX_FFlush(req->out);
	while ((n = FCGX_GetStr(buf, sizeof(buf), req->in)) > 0) {
		total += (size_t)n;
		if (total > DRAIN_BODY_MAX) {
			req->keepConnection = 0;
			return;
		}
	}
}

/* "GET, POST" for the Allow header. */
static void
allow_list(const struct fn_spec *fn, char *buf, size_t size)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < fn->nmethods && pos < size; i++) {
		int n = snprintf(buf + pos, size - pos, "%s%s", i ? ", " : "",
		    fn->methods[i]);
		if (n < 0 || (size_t)n >= size - pos)
			break;
		pos += (size_t)n;
	}
}

/* The answer is complete: what libfcgi holds, the end of the stream and
 * FCGI_END_REQUEST go to nginx now, in one write, before the record is
 * logged. (Already done by the pump for invocations: closing twice is a
 * no-op.) Without FCGI_KEEP_CONN nginx waits for EOF: send it too. */
static void
end_answer(FCGX_Request *req)
{
	FCGX_FClose(req->err);
	if (FCGX_FClose(req->out) < 0)
		req->keepConnection = 0;
	if (!req->keepConnection)
		shutdown(req->ipcFd, SHUT_WR);
}

/* Answer a request that does not reach a function. */
static void
reject(struct invocation *inv, int status, const char *code,
    const char *msg, const char *fname, const char *extra)
{
	inv->status = status;
	inv->outcome = "rejected";
	inv->code = code;
	inv->bytes_out = reply_error(inv->req, status, code, msg, fname,
	    inv->request_id, extra);
	drain_body(inv->req);
}

static void
admin_request(struct invocation *inv, const struct route *r)
{
	bool drain = atomic_load(&srv.draining);

	inv->outcome = "ok";
	if (strcmp(r->path_info, "/health") == 0) {
		inv->status = drain ? 503 : 200;
		inv->bytes_out = reply_body(inv->req, inv->status, "text/plain",
		    drain ? "draining\n" : "ok\n", drain ? 9 : 3,
		    inv->request_id);
		drain_body(inv->req);
		return;
	}
	if (strcmp(r->path_info, "/metrics") == 0) {
		size_t len = 0;
		char *text = metrics_render(&len);
		if (text == NULL) {
			reject(inv, 500, "spawn_failed", "out of memory", NULL, NULL);
			return;
		}
		inv->status = 200;
		inv->bytes_out = reply_body(inv->req, 200,
		    "text/plain; version=0.0.4; charset=utf-8", text, len,
		    inv->request_id);
		free(text);
		drain_body(inv->req);
		return;
	}
	reject(inv, 404, "not_found", "no such admin endpoint", NULL, NULL);
}

/* argv: the executable, then args; one allocation. */
static char **
build_argv(const struct fn_spec *fn)
{
	size_t n = fn->nargs + 2;
	char **argv = calloc(n, sizeof(char *));

	if (argv == NULL)
		return NULL;
	argv[0] = fn->path;
	for (size_t i = 0; i < fn->nargs; i++)
		argv[i + 1] = fn->args[i];
	return argv;
}

/* Admission: the daemon's workers and the function's concurrency. */
static bool
admit(struct invocation *inv, const struct fn_spec *fn)
{
	if (atomic_fetch_add(&srv.in_flight, 1) >= (int)inv->m->workers) {
		atomic_fetch_sub(&srv.in_flight, 1);
		reject(inv, 503, "busy", "fnlauncher is at its workers limit",
		    fn->name, "Retry-After: 1\r\n");
		return false;
	}
	if (slots_take(srv.slots, fn->name, fn->concurrency) < 0) {
		atomic_fetch_sub(&srv.in_flight, 1);
		reject(inv, 503, "busy", "function is at its concurrency limit",
		    fn->name, "Retry-After: 1\r\n");
		return false;
	}
	return true;
}

static void
invoke(struct invocation *inv, const struct fn_spec *fn, const struct route *r)
{
	char script_name[FN_NAME_MAX + 256];
	struct cgienv_in ein = {
		.params = inv->req->envp, .fn = fn, .path_info = r->path_info,
		.request_id = inv->request_id, .timeout_ms = fn->timeout_ms,
		.daemon_env = environ,
	};

	if (r->by_param)
		ein.script_name = param(inv->req, "SCRIPT_NAME");
	else {
		snprintf(script_name, sizeof(script_name), "%s%s",
		    inv->m->prefix, fn->name);
		ein.script_name = script_name;
	}
	inv->envp = cgienv_build(&ein);
	inv->argv = build_argv(fn);
	if (inv->envp == NULL || inv->argv == NULL) {
		inv->status = 500;
		inv->outcome = "error";
		inv->bytes_out = reply_error(inv->req, 500, "spawn_failed",
		    "out of memory", fn->name, inv->request_id, NULL);
		inv->keep_conn_ok = false;
	} else {
		reaper_register(inv->request_id);
		metrics_in_flight(fn->name, 1);
		inv->ran = true;
		pump_run(inv);
		metrics_in_flight(fn->name, -1);
		reaper_unregister(inv->request_id);
	}
	free(inv->envp);
	free(inv->argv);
	inv->envp = inv->argv = NULL;
}

/* Everything between "request read" and "answered". */
static void
dispatch(struct invocation *inv, struct fn_spec *tmp)
{
	const struct manifest *m = inv->m;
	const struct fn_spec *fn;
	struct route r;
	char allow[512], extra[600];
	const char *cl;

	/* On TCP a drain refuses new connections; a request that got in
	 * before is served. On a unix socket new requests get 503. */
	if (atomic_load(&srv.draining) && srv.lst.is_unix) {
		reject(inv, 503, "draining", "fnlauncher is shutting down", NULL,
		    "Retry-After: 1\r\n");
		return;
	}
	if (*inv->method == '\0') {
		reject(inv, 400, "bad_request", "no REQUEST_METHOD", NULL, NULL);
		return;
	}
	switch (route_parse(inv->req->envp, m->prefix, &r)) {
	case ROUTE_ADMIN:
		if (m->admin) {
			admin_request(inv, &r);
			return;
		}
		/* FALLTHROUGH */
	case ROUTE_NOT_FOUND:
		reject(inv, 404, "not_found", "no such function", NULL, NULL);
		return;
	case ROUTE_OK:
		break;
	}
	if (route_lookup(m, r.name, tmp, &fn) < 0) {
		snprintf(inv->fname, sizeof(inv->fname), "%s", r.name);
		reject(inv, 404, "not_found", "no such function", r.name, NULL);
		return;
	}
	inv->fn = fn;
	if (!fn_spec_allows(fn, inv->method)) {
		allow_list(fn, allow, sizeof(allow));
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
		reject(inv, 405, "method_not_allowed", "method not allowed",
		    fn->name, extra);
		return;
	}
	cl = param(inv->req, "CONTENT_LENGTH");
	if (cl != NULL && *cl != '\0' && strtoull(cl, NULL, 10) > fn->max_body) {
		inv->req->keepConnection = 0;   /* the body stays unread */
		reject(inv, 413, "body_too_large",
		    "request body larger than max_body", fn->name, NULL);
		return;
	}
	if (!admit(inv, fn))
		return;
	invoke(inv, fn, &r);
	slots_give(srv.slots, fn->name);
	atomic_fetch_sub(&srv.in_flight, 1);
}

static void
record(const struct invocation *inv)
{
	struct fn_record rec = {
		.request_id = inv->request_id,
		.function = inv->fn ? inv->fn->name : inv->fname[0] ? inv->fname : NULL,
		.method = inv->method, .uri = inv->uri,
		.outcome = inv->outcome ? inv->outcome : "error",
		.remote_addr = inv->remote_addr, .status = inv->status,
		.exit_code = inv->exit_code, .signal = inv->signal,
		.duration_us = pump_elapsed_us(&inv->start),
		.cpu_user_us = (uint64_t)inv->ru.ru_utime.tv_sec * 1000000u +
		    (uint64_t)inv->ru.ru_utime.tv_usec,
		.cpu_sys_us = (uint64_t)inv->ru.ru_stime.tv_sec * 1000000u +
		    (uint64_t)inv->ru.ru_stime.tv_usec,
		.max_rss_kb = inv->ru.ru_maxrss,
		.bytes_in = inv->bytes_in, .bytes_out = inv->bytes_out,
	};
	fnlog_record(&rec);
	struct metrics_sample ms = {
		.function = inv->fn ? inv->fn->name : NULL,
		.outcome = rec.outcome,
		.reason = strcmp(rec.outcome, "rejected") == 0 ? inv->code : NULL,
		.ran = inv->ran,
		.duration_s = (double)rec.duration_us / 1e6,
		.cpu_user_s = (double)rec.cpu_user_us / 1e6,
		.cpu_sys_s = (double)rec.cpu_sys_us / 1e6,
	};
	metrics_record(&ms);
}

static void
handle_request(FCGX_Request *req)
{
	struct invocation inv;
	struct fn_spec tmp;
	struct mref *mr = mref_get();

	memset(&inv, 0, sizeof(inv));
	memset(&tmp, 0, sizeof(tmp));
	clock_gettime(CLOCK_MONOTONIC, &inv.start);
	new_request_id(inv.request_id);
	inv.req = req;
	inv.m = mr->m;
	inv.wake_fd = srv.wake_fd;
	inv.exit_code = -1;
	inv.keep_conn_ok = true;
	inv.method = param(req, "REQUEST_METHOD");
	inv.method = inv.method ? inv.method : "";
	inv.uri = param(req, "REQUEST_URI");
	if (inv.uri == NULL)
		inv.uri = param(req, "DOCUMENT_URI");
	inv.remote_addr = param(req, "REMOTE_ADDR");
	dispatch(&inv, &tmp);
	if (!inv.keep_conn_ok)
		req->keepConnection = 0;
	end_answer(req);
	record(&inv);
	fn_spec_clear(&tmp);
	mref_put(mr);
}

/* One FastCGI connection: requests one after another while nginx keeps
 * the connection (FCGI_KEEP_CONN). */
static void
conn_serve(int fd)
{
	FCGX_Request req;
	struct conn c;

	FCGX_InitRequest(&req, -1, 0);
	req.ipcFd = fd;
	conns_add(&c, req.ipcFd);
	/* Our fd, accepted by us: FCGX_Accept_r must read from it, not
	 * close it (it closes when keepConnection is 0) nor accept on the
	 * listening socket (listen_sock -1 makes that fail, ending us). */
	req.keepConnection = 1;
	while (FCGX_Accept_r(&req) == 0) {
		conns_idle(&c, false);
		handle_request(&req);
		if (atomic_load(&srv.draining))
			req.keepConnection = 0;
		FCGX_Finish_r(&req);
		if (req.ipcFd < 0 || !conns_idle(&c, true))
			break;
	}
	conns_remove(&c);
	FCGX_Free(&req, 1);
	atomic_fetch_sub(&srv.conns, 1);
}

/* `invoke`: one connection on a thread of its own. */
static void *
conn_thread(void *arg)
{
	conn_serve((int)(intptr_t)arg);
	return NULL;
}

static void
accept_one(void)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct timeval tv = { .tv_sec = 30 };
	int fd = accept4(srv.lst.fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);

	if (fd < 0) {
		/* Out of fds: poll would wake us at once, again and again. */
		if (errno == EMFILE || errno == ENFILE) {
			fnlog(FNLOG_ERROR, "accept: %s", strerror(errno));
			poll(NULL, 0, 100);
		}
		return;
	}
	struct mref *mr = mref_get();
	bool ok = listener_peer_ok(mr->m, (struct sockaddr *)&ss);
	mref_put(mr);
	if (!ok) {
		close(fd);      /* not an allowed peer: no response at all */
		return;
	}
	/* A blocked write to nginx never outlasts this (no libfcgi timeout). */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* Headers, body and FCGI_END_REQUEST may be separate small writes:
	 * without this, Nagle and delayed ACKs add ~40 ms on TCP. */
	if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	atomic_fetch_add(&srv.conns, 1);
	if (connpool_submit(fd) < 0) {
		fnlog(FNLOG_ERROR, "cannot start a connection thread: %s",
		    strerror(errno));
		atomic_fetch_sub(&srv.conns, 1);
		close(fd);
	}
}

static void
log_problem(enum preflight_level level, const char *msg, void *arg)
{
	fnlog(level == PREFLIGHT_ERROR ? FNLOG_ERROR : FNLOG_WARN, "%s", msg);
}

static void
accept_pending(void)
{
	struct pollfd pfd = { .fd = srv.lst.fd, .events = POLLIN };

	while (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN))
		accept_one();
}

static void
reload(void)
{
	struct manifest_errors errs = { 0 };
	struct manifest *m = NULL;
	char line[1024];

	if (manifest_load(srv.file, &m, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fnlog(FNLOG_ERROR, "reload: %s", manifest_error_format(
			    srv.file, &errs.v[i], line, sizeof(line)));
		fnlog(FNLOG_ERROR, "reload failed: keeping the running manifest");
		manifest_errors_clear(&errs);
		metrics_reload(false);
		return;
	}
	if (preflight(m, log_problem, NULL) > 0) {
		fnlog(FNLOG_ERROR, "reload failed: keeping the running manifest");
		manifest_free(m);
		metrics_reload(false);
		return;
	}
	struct mref *r = mref_new(m);
	if (r == NULL) {
		manifest_free(m);
		return;
	}
	fnlog_records_open(m->log_invocations);
	pthread_mutex_lock(&srv.lock);
	struct mref *old = srv.cur;
	const char *was = old->m->listen, *now = m->listen;
	if ((was == NULL) != (now == NULL) || (was && strcmp(was, now) != 0))
		fnlog(FNLOG_WARN, "reload: 'listen' changed; it takes effect at the next restart");
	srv.cur = r;
	pthread_mutex_unlock(&srv.lock);
	mref_put(old);
	fnlog(FNLOG_INFO, "reloaded %s (functions: %zu)", srv.file, m->nfunctions);
	metrics_reload(true);
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Let in-flight invocations finish for up to shutdown_timeout, then
 * wake them (they kill their processes and answer 503), then wait. */
static void
drain(void)
{
	struct mref *mr = mref_get();
	uint64_t end = mono_ms() + mr->m->shutdown_timeout_ms;
	uint64_t one = 1;

	mref_put(mr);
	fnlog(FNLOG_INFO, "draining: %d in flight", atomic_load(&srv.in_flight));
	while (atomic_load(&srv.in_flight) > 0 && mono_ms() < end)
		poll(NULL, 0, 20);
	(void)!write(srv.wake_fd, &one, sizeof(one));
	end = mono_ms() + 5000;
	while (atomic_load(&srv.in_flight) > 0 && mono_ms() < end)
		poll(NULL, 0, 10);
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

static void *
drain_thread(void *arg)
{
	drain();
	atomic_store(&srv.drained, true);
	return NULL;
}

/* The main loop: accept connections and handle signals. */
static int
serve(int sfd)
{
	pthread_attr_t attr;
	struct pollfd pfd[2];
	uint64_t next_sweep = mono_ms() + 1000;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pfd[0].fd = srv.lst.fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	for (;;) {
		int n = poll(pfd, 2, 1000);
		if (n < 0 && errno != EINTR)
			break;
		if (mono_ms() >= next_sweep) {
			/* Housekeeping: orphans whose invocation has ended. */
			reaper_sweep(NULL);
			next_sweep = mono_ms() + 1000;
		}
		if (n <= 0)
			continue;
		if (pfd[0].revents & POLLIN)
			accept_one();
		if (!(pfd[1].revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP) {
			notify_reloading();
			reload();
			notify("READY=1");
		}
		else if (si.ssi_signo == SIGUSR1) {
			struct mref *mr = mref_get();
			fnlog_records_open(mr->m->log_invocations);
			mref_put(mr);
		} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			break;
	}
	/* On TCP, the way of several hosts behind one nginx upstream, stop
	 * accepting: nginx takes a refused connection (safe to retry, even
	 * for a POST) to another host; idle keepalive connections are closed
	 * for the same reason. On a unix socket there is no other host:
	 * keep accepting and answer 503 draining with Retry-After. */
	notify("STOPPING=1");
	atomic_store(&srv.draining, true);
	bool refuse = !srv.lst.is_unix;
	if (refuse) {
		/* Take what already waits in the accept queue (closing the
		 * listener would reset it, after nginx may have sent on it). */
		accept_pending();
		listener_close(&srv.lst);
		conns_drain();
	}
	pthread_t t;
	if (pthread_create(&t, &attr, drain_thread, NULL) != 0)
		drain_thread(NULL);
	while (!atomic_load(&srv.drained))
		if (poll(pfd, refuse ? 0 : 1, 20) > 0 && (pfd[0].revents & POLLIN))
			accept_one();
	pthread_attr_destroy(&attr);
	return 0;
}

/* Everything but the listening socket. */
static int
setup_core(const char *file)
{
	struct manifest_errors errs = { 0 };
	struct manifest *m = NULL;
	char line[1024];

	srv.file = file;
	if (manifest_load(file, &m, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fnlog(FNLOG_ERROR, "%s", manifest_error_format(file,
			    &errs.v[i], line, sizeof(line)));
		manifest_errors_clear(&errs);
		return -1;
	}
	if (preflight(m, log_problem, NULL) > 0) {
		manifest_free(m);
		return -1;
	}
	if ((srv.cur = mref_new(m)) == NULL ||
	    (srv.slots = slots_new()) == NULL) {
		manifest_free(m);
		return -1;
	}
	if (getrandom(&srv.id_seed, sizeof(srv.id_seed), 0) < 0)
		srv.id_seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
	srv.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv.wake_fd < 0 || fnlog_records_open(m->log_invocations) < 0)
		return -1;
	if (FCGX_Init() != 0) {
		fnlog(FNLOG_ERROR, "libfcgi initialisation failed");
		return -1;
	}
	/* After FCGX_Init, which installs handlers of its own: writes to a
	 * gone peer fail with EPIPE; children stay ours to wait for (an
	 * inherited SIGCHLD=SIG_IGN would reap them behind our back). */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	spawn_init();
	return 0;
}

int
server_local(const char *file, int fd)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	if (reaper_init() < 0 || setup_core(file) < 0)
		return -1;
	/* `invoke` prints the invocation record on stderr. */
	fnlog_records_open("stderr");
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	atomic_fetch_add(&srv.conns, 1);
	rc = pthread_create(&t, &attr, conn_thread, (void *)(intptr_t)fd);
	pthread_attr_destroy(&attr);
	return rc == 0 ? 0 : -1;
}

int
server_run(const char *file, const char *override)
{
	sigset_t set;
	int sfd, rc;

	signal(SIGPIPE, SIG_IGN);
	/* Signals arrive through a signalfd in the main thread only. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (reaper_init() < 0)
		fnlog(FNLOG_WARN, "cannot become a child subreaper: %s", strerror(errno));
	if (sfd < 0 || setup_core(file) < 0 ||
	    connpool_init(conn_serve, THREAD_STACK) < 0 ||
	    listener_open(&srv.lst, srv.cur->m, override) < 0)
		return 1;
	if (notify("READY=1") < 0)
		fnlog(FNLOG_WARN, "NOTIFY_SOCKET: %s", strerror(errno));
	fnlog(FNLOG_INFO, "listening on %s (functions: %zu, workers: %u)",
	    srv.lst.desc, srv.cur->m->nfunctions, srv.cur->m->workers);
	rc = serve(sfd);
	listener_close(&srv.lst);
	fnlog(FNLOG_INFO, "stopped");
	return rc;
}
