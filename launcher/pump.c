/* pump.c — the I/O loop of one invocation.
 *
 * One poll(2) loop services, all at once and under one deadline: the
 * request body (libfcgi's buffer -> child stdin), the response (child
 * stdout -> nginx, flushed per chunk), the child's stderr (-> log), the
 * child's exit (pidfd), the client going away, and daemon shutdown.
 * Serving stdin and stdout together is what keeps a large echo from
 * deadlocking (fcgiwrap writes the whole body first and hangs). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bodyq.h"
#include "cgiresp.h"
#include "bodyreader.h"
#include "fnlog.h"
#include "inflight.h"
#include "launch.h"
#include "nspool.h"
#include "once.h"
#include "reaper.h"
#include "pump.h"
#include "pump_int.h"
#include "reply.h"
#include "route.h"
#include "spawnproc.h"
#include "units.h"

#define EXIT_DRAIN_US 200000     /* after exit: wait this long for stdout EOF */
#define BODY_MEM (64 * 1024)     /* request body kept in memory, then spooled */
#define BIG_PIPE (256 * 1024)    /* pipe size once the body is spooled */

uint64_t
pump_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Signal the invocation's process group. Only while the leader is not
 * reaped: its pid (and so the group id) cannot be reused before that. */
void
pump_kill_group(struct pump *p, int sig)
{
	if (p->pid > 0 && !p->exited)
		(void)kill(-p->pid, sig);
	if (sig == SIGKILL)
		p->group_killed = true;
}

static void
log_stderr_line(struct pump *p, const char *line, size_t len)
{
	uint64_t max = p->inv->m->stderr_max;

	if (p->stderr_kept + len > max) {
		p->stderr_dropped += len;
		return;
	}
	p->stderr_kept += len;
	fnlog_fn_stderr(p->inv->fn->name, p->inv->request_id, line, len);
}

static void
on_stderr(struct pump *p, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' || p->errlen == sizeof(p->errline)) {
			log_stderr_line(p, p->errline, p->errlen);
			p->errlen = 0;
			if (data[i] == '\n')
				continue;
		}
		p->errline[p->errlen++] = data[i];
	}
}

/* Read what is there on FD; returns bytes, 0 at EOF, -1 when it would
 * block (or failed: treated as EOF by the caller via *EOFP). */
static ssize_t
drain_read(int fd, char *buf, size_t size, bool *eofp)
{
	ssize_t n = read(fd, buf, size);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		*eofp = true;
	return n;
}

/* The response may go to nginx only once the whole request body has
 * come in (see bodyq.h): until then stdout is held in buf. */
static bool
gate_open(const struct pump *p)
{
	return p->in_eof || p->resp_done;
}

/* Send what is held once the gate is open; then the EOF, if it came. */
static void
flush_held(struct pump *p, bool force)
{
	if (!force && !gate_open(p))
		return;
	if (p->held > 0) {
		size_t n = p->held;
		p->held = 0;
		response_stdout(p, p->buf, n);
	}
	if (p->out_eof && !p->resp_done)
		response_stdout_eof(p);
}

static void
do_stdout(struct pump *p)
{
	bool eof = false;
	ssize_t n = drain_read(p->out_fd, p->buf + p->held,
	    p->bufsize - p->held, &eof);

	if (n > 0) {
		p->held += (size_t)n;
		/* The function may be done: an EOF now ends the response in
		 * the same write as its bytes. */
		if (p->held < p->bufsize) {
			n = drain_read(p->out_fd, p->buf + p->held,
			    p->bufsize - p->held, &eof);
			if (n > 0)
				p->held += (size_t)n;
		}
	}
	if (eof) {
		p->out_eof = true;
		close_fd(&p->out_fd);
	}
	flush_held(p, false);
}

/* Returns the bytes read (0 at EOF or when none are there now). */
static ssize_t
do_stderr(struct pump *p)
{
	char tmp[4096];
	bool eof = false;
	ssize_t n = drain_read(p->err_fd, tmp, sizeof(tmp), &eof);

	if (n > 0)
		on_stderr(p, tmp, (size_t)n);
	else if (eof) {
		if (p->errlen > 0)
			log_stderr_line(p, p->errline, p->errlen);
		p->errlen = 0;
		close_fd(&p->err_fd);
	}
	return n > 0 ? n : 0;
}

/* A large body: larger pipes to and from the function mean fewer
 * wake-ups of it and of us per byte. Best effort (the kernel caps pipe
 * memory per user). */
static void
grow_pipes(struct pump *p)
{
	char *big;

	p->pipes_grown = true;
	if (p->in_fd >= 0)
		(void)fcntl(p->in_fd, F_SETPIPE_SZ, BIG_PIPE);
	if (p->out_fd < 0 || fcntl(p->out_fd, F_SETPIPE_SZ, BIG_PIPE) < 0)
		return;
	/* and a buffer that takes in what the pipe holds, at once */
	if ((big = malloc(BIG_PIPE)) == NULL)
		return;
	memcpy(big, p->buf, p->held);
	p->buf = big;
	p->bufsize = BIG_PIPE;
}

/* Request body: the next bytes from nginx, into the child's stdin (or
 * queued, when it does not take them now). */
static void
do_body_read(struct pump *p)
{
	struct invocation *inv = p->inv;
	const char *at;
	long got = bodyreader_next(p->body, &at);

	if (got < 0) {
		response_abort(p);
		return;
	}
	size_t n = (size_t)got;
	inv->bytes_in += n;
	if (inv->bytes_in > inv->fn->max_body) {
		inv->outcome = "rejected";
		response_fail(p, 413, "body_too_large", "request body larger than max_body");
		inv->keep_conn_ok = false;
		pump_kill_group(p, SIGKILL);
		p->in_eof = true;
		close_fd(&p->in_fd);
		return;
	}
	/* Once the function closed stdin, the rest is dropped. */
	if (p->in_fd >= 0 && n > 0) {
		ssize_t w = 0;
		/* Straight into the pipe when nothing is queued before. */
		if (bodyq_len(p->bq) == 0) {
			w = write(p->in_fd, at, n);
			if (w < 0)
				w = 0;
		}
		if ((size_t)w < n && bodyq_push(p->bq, at + w, n - (size_t)w) < 0) {
			fnlog(FNLOG_ERROR, "function=%s request_id=%s: cannot spool the request body: %s",
			    inv->fn->name, inv->request_id, strerror(errno));
			inv->outcome = "error";
			response_fail(p, 500, "spawn_failed", "cannot spool the request body");
			pump_kill_group(p, SIGKILL);
		}
		if (!p->pipes_grown && bodyq_len(p->bq) > BODY_MEM)
			grow_pipes(p);
	}
	if (bodyreader_eof(p->body)) {
		p->in_eof = true;
		if (bodyreader_extra(p->body))
			inv->keep_conn_ok = false;
	}
}

/* Request body: queued bytes into the child's stdin. EPIPE means the
 * function closed its stdin: the rest of the body is dropped. */
static void
do_body_write(struct pump *p)
{
	if (bodyq_write(p->bq, p->in_fd) < 0) {
		close_fd(&p->in_fd);
		bodyq_drop(p->bq);
	}
}

static void
do_exit(struct pump *p)
{
	struct invocation *inv = p->inv;
	int status;

	/* Nothing the invocation started outlives its main process; the
	 * zombie still holds the group id, so kill before reaping. */
	pump_kill_group(p, SIGKILL);
	if (wait4(p->pid, &status, WNOHANG, &inv->ru) <= 0)
		return;
	p->exited = true;
	close_fd(&p->pidfd);
	if (WIFEXITED(status))
		inv->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		inv->signal = WTERMSIG(status);
	p->drain_until = pump_now_us() + EXIT_DRAIN_US;
}

static void
on_deadline(struct pump *p, uint64_t now)
{
	struct invocation *inv = p->inv;

	if (!p->timed_out && p->deadline && now >= p->deadline && !p->aborted) {
		p->timed_out = true;
		inv->outcome = "timeout";
		fnlog(FNLOG_WARN, "function=%s request_id=%s: timeout after %llu ms",
		    inv->fn->name, inv->request_id,
		    (unsigned long long)inv->fn->timeout_ms);
		response_fail(p, 504, "timeout", "function did not answer in time");
		pump_kill_group(p, SIGTERM);
		p->term_sent = true;
		p->kill_at = now + inv->fn->kill_grace_ms * 1000u;
	}
	if (p->kill_at && now >= p->kill_at && !p->group_killed) {
		p->killed_after_answer = !p->exited && p->inv->complete;
		pump_kill_group(p, SIGKILL);
	}
}

/* One round of poll. Returns false when the invocation is over. */
static bool
pump_round(struct pump *p)
{
	struct pollfd pfd[6];
	int idx[6] = { -1, -1, -1, -1, -1, -1 };
	enum { I_IN, I_IPC, I_OUT, I_ERR, I_PID, I_WAKE };
	nfds_t n = 0;
	uint64_t now = pump_now_us(), next = UINT64_MAX;
	bool want_body = !p->in_eof && !p->resp_done;

	/* Body bytes already read never make the socket readable. */
	while (want_body && bodyreader_ready(p->body)) {
		do_body_read(p);
		want_body = !p->in_eof && !p->resp_done;
	}
	if ((p->in_eof && bodyq_len(p->bq) == 0) || p->resp_done)
		close_fd(&p->in_fd);        /* the function sees EOF */
	flush_held(p, false);

#define ADD(slot, f, ev) do { idx[slot] = (int)n; pfd[n].fd = (f); \
	pfd[n].events = (short)(ev); pfd[n].revents = 0; n++; } while (0)
	if (p->in_fd >= 0 && bodyq_len(p->bq) > 0)
		ADD(I_IN, p->in_fd, POLLOUT);
	if (!p->resp_done)
		ADD(I_IPC, p->ipc, (want_body ? POLLIN : 0) | POLLRDHUP);
	if (p->out_fd >= 0 && (gate_open(p) || p->held < p->bufsize))
		ADD(I_OUT, p->out_fd, POLLIN);
	if (p->err_fd >= 0)
		ADD(I_ERR, p->err_fd, POLLIN);
	if (!p->exited)
		ADD(I_PID, p->pidfd, POLLIN);
	if (!p->woken)
		ADD(I_WAKE, p->inv->wake_fd, POLLIN);
#undef ADD
	if (!p->timed_out)
		next = p->deadline;
	if (p->kill_at && !p->group_killed && p->kill_at < next)
		next = p->kill_at;
	if (p->drain_until && p->drain_until < next)
		next = p->drain_until;
	int timeout = next == UINT64_MAX ? -1
	    : next <= now ? 0 : (int)((next - now + 999) / 1000);
	/* What send_out left in libfcgi's buffer goes out before we wait. */
	if (p->headers_sent && !p->resp_done && FCGX_FFlush(p->out) < 0)
		response_abort(p);
	if (poll(pfd, n, timeout) < 0 && errno != EINTR)
		return false;
#define READY(slot) (idx[slot] >= 0 && pfd[idx[slot]].revents != 0)
	if (READY(I_WAKE)) {
		p->woken = true;
		response_fail(p, 503, "draining", "fnlauncher is shutting down");
		p->inv->outcome = "error";
		pump_kill_group(p, SIGKILL);
	}
	if (READY(I_IPC)) {
		if (pfd[idx[I_IPC]].revents & (POLLRDHUP | POLLHUP | POLLERR))
			response_abort(p);
		else if (want_body && !p->resp_done)
			do_body_read(p);
	}
	if (READY(I_IN) && p->in_fd >= 0)
		do_body_write(p);
	if (READY(I_OUT))
		do_stdout(p);
	if (READY(I_ERR))
		do_stderr(p);
	if (READY(I_PID))
		do_exit(p);
#undef READY
	now = pump_now_us();
	on_deadline(p, now);
	if (p->exited && (p->out_fd < 0 || (p->drain_until && now >= p->drain_until)))
		return false;
	return true;
}

/* Start the process; on failure answer the request and return -1. */
static int
pump_spawn(struct pump *p)
{
	struct launch l;

	if (cgroup_leaf_new(&p->leaf, p->inv->request_id, p->inv->fn) < 0) {
		p->inv->outcome = "error";
		response_fail(p, 500, "spawn_failed",
		    "the function's cgroup could not be made (see the log)");
		return -1;
	}
	if (launch_start(p->inv, p->leaf.dirfd, &l) < 0) {
		response_fail(p, l.status, l.code, l.msg);
		return -1;
	}
	p->in_fd = l.in_fd;
	p->out_fd = l.out_fd;
	p->err_fd = l.err_fd;
	p->pid = l.pid;
	p->pidfd = l.pidfd;
	p->slot = l.slot;
	p->deadline = pump_now_us() + p->inv->fn->timeout_ms * 1000u;
	return 0;
}

/* Orphans that came to the daemon (a subreaper), and children of this
 * thread (CLONE_PARENT): reaped. ARG: the request id. */
static void
reap_orphans(void *arg)
{
	reaper_sweep(arg);
	reaper_sweep_thread();
}

/* The rest of the invocation: with a cgroup leaf, everything in it, by
 * one cgroup.kill, awaited until the leaf is empty; then its usage, and
 * its kept mount namespace goes back (nothing of it runs), unless the
 * leaf would not empty. */
static void
reap_leaf(struct pump *p)
{
	struct cgroup_usage u;
	struct invocation *inv = p->inv;

	switch (cgroup_leaf_kill(&p->leaf, 10000, reap_orphans,
	    inv->request_id)) {
	case -1:
		fnlog(FNLOG_ERROR, "function=%s request_id=%s: its cgroup is not empty 10 s after cgroup.kill",
		    inv->fn->name, inv->request_id);
		nspool_drop(p->slot);
		p->slot = NULL;
		/* FALLTHROUGH */
	case 0:
		reap_orphans(inv->request_id);
		break;
	default:
		/* Empty already: nothing escaped, nothing to reap (an
		 * orphan that died on its own is reaped by housekeeping). */
		break;
	}
	char key[FN_KEY_MAX];

	nspool_give(p->slot, inflight_count(fn_spec_key(inv->fn, key,
	    sizeof(key))) > 1);
	p->slot = NULL;
	cgroup_leaf_usage(&p->leaf, &u);
	inv->cg_valid = true;
	inv->cg_user_us = u.user_us;
	inv->cg_sys_us = u.sys_us;
	inv->cg_memory = u.memory;
	inv->cg_memory_peak = u.memory_peak;
	inv->cg_oom_kills = u.oom_kills;
}

/* Without a leaf: the process group, and whatever escaped it found as
 * the subreaper's orphans by their FN_REQUEST_ID: kill, wait until the
 * group is empty (its dead members come to us as orphans and are
 * reaped by the sweep), then sweep once more. The leader is reaped, but
 * while any member lives the group id cannot be reused. */
static void
reap_escapees(struct pump *p)
{
	if (p->leaf.dirfd >= 0) {
		reap_leaf(p);
		return;
	}
	for (int i = 0; i < 500; i++) {
		if (kill(-p->pid, SIGKILL) < 0 && errno == ESRCH)
			break;
		reaper_sweep(p->inv->request_id);
		reaper_sweep_thread();
		usleep(1000);
	}
	reaper_sweep(p->inv->request_id);
	reaper_sweep_thread();
}

/* After the loop: nothing left running, nothing unreaped. */
static void
pump_teardown(struct pump *p)
{
	struct invocation *inv = p->inv;
	int status = 0;
	pid_t w;

	close_fd(&p->in_fd);
	close_fd(&p->out_fd);
	/* What the function wrote to stderr before it went is still in the
	 * pipe: log (or count) it. Bounded: the writers are gone or dying. */
	for (int i = 0; i < 1024 && p->err_fd >= 0 && do_stderr(p) > 0; i++)
		;
	if (p->errlen > 0)
		log_stderr_line(p, p->errline, p->errlen);
	p->errlen = 0;
	close_fd(&p->err_fd);
	if (p->pid > 0 && !p->exited) {
		pump_kill_group(p, SIGKILL);
		while ((w = wait4(p->pid, &status, 0, &inv->ru)) < 0 &&
		    errno == EINTR)
			;
		p->exited = true;
		if (w < 0)
			fnlog(FNLOG_ERROR, "function=%s request_id=%s: wait4: %s",
			    inv->fn->name, inv->request_id, strerror(errno));
		else if (WIFEXITED(status))
			inv->exit_code = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			inv->signal = WTERMSIG(status);
	}
	if (p->pid > 0)
		reap_escapees(p);
	close_fd(&p->pidfd);
	if (p->stderr_dropped > 0)
		fnlog(FNLOG_WARN, "function=%s request_id=%s: %llu bytes of stderr dropped (stderr_max)",
		    inv->fn->name, inv->request_id,
		    (unsigned long long)p->stderr_dropped);
	if (inv->body_fd < 0 && (!p->in_eof || !bodyreader_eof(p->body)))
		inv->keep_conn_ok = false;      /* body bytes left unread */
	if (p->killed_after_answer)
		fnlog(FNLOG_INFO, "function=%s request_id=%s: still running %llu ms after its complete answer: killed",
		    inv->fn->name, inv->request_id,
		    (unsigned long long)inv->fn->kill_grace_ms);
	else if (inv->exit_code > 0 && inv->outcome == NULL)
		fnlog(FNLOG_WARN, "function=%s request_id=%s: exited with code %d",
		    inv->fn->name, inv->request_id, inv->exit_code);
	else if (inv->signal > 0 && inv->outcome == NULL)
		fnlog(FNLOG_WARN, "function=%s request_id=%s: killed by signal %d (SIG%s)",
		    inv->fn->name, inv->request_id, inv->signal,
		    sigabbrev_np(inv->signal) ? sigabbrev_np(inv->signal) : "?");
}

/* A local redirect's first run may have left some of the body unread:
 * read and drop the rest (up to max_body, within the function's
 * timeout), so the record counts what the client sent, whatever the
 * function managed to read before it answered. */
static void
drain_after_redirect(struct pump *p)
{
	struct invocation *inv = p->inv;
	uint64_t now = pump_now_us();
	uint64_t end = p->deadline > now ? p->deadline : now + 1000000u;

	while (!bodyreader_eof(p->body) && inv->bytes_in <= inv->fn->max_body) {
		const char *at;
		long got;

		if (!bodyreader_ready(p->body)) {
			struct pollfd pfd = { .fd = p->ipc, .events = POLLIN };
			now = pump_now_us();
			if (now >= end || poll(&pfd, 1, (int)((end - now + 999) / 1000)) <= 0)
				return;
		}
		if ((got = bodyreader_next(p->body, &at)) < 0)
			return;
		inv->bytes_in += (uint64_t)got;
	}
}

void
pump_run(struct invocation *inv)
{
	struct pump *p = calloc(1, sizeof(*p));

	inv->exit_code = -1;
	inv->keep_conn_ok = true;
	if (p == NULL || (p->cgi = cgiresp_new(CGIRESP_MAX_HEADER)) == NULL ||
	    (p->bq = bodyq_new(BODY_MEM)) == NULL ||
	    (p->body = bodyreader_new(inv->req)) == NULL) {
		if (p != NULL) {
			cgiresp_free(p->cgi);
			bodyq_free(p->bq);
		}
		free(p);
		inv->status = 500;
		inv->outcome = "error";
		inv->keep_conn_ok = false;      /* the body is left unread */
		reply_error(inv->req, 500, "spawn_failed", "out of memory",
		    inv->fn->name, inv->request_id, NULL);
		return;
	}
	p->inv = inv;
	p->out = inv->req->out;
	p->ipc = inv->req->ipcFd;
	p->in_fd = p->out_fd = p->err_fd = p->pidfd = -1;
	p->leaf.dirfd = p->leaf.events_fd = p->leaf.parent_fd = -1;
	p->buf = p->small;
	p->bufsize = sizeof(p->small);
	/* A local redirect's run is a GET without a body: what may be left
	 * of the request's body is not its stdin (the first run dropped it,
	 * drain_after_redirect; the connection is closed after). */
	p->in_eof = bodyreader_eof(p->body) || inv->redirects > 0 ||
	    inv->body_fd >= 0;
	if (pump_spawn(p) == 0) {
		while (pump_round(p))
			;
		flush_held(p, true);    /* over: what is held goes out now */
		if (!p->resp_done)
			response_after_exit(p);
	}
	pump_teardown(p);
	if (inv->redirect != NULL)
		drain_after_redirect(p);
	/* A function killed only because it outlived its complete answer
	 * did what it was asked: the client got every byte. */
	if (inv->outcome == NULL)
		inv->outcome = (inv->exit_code == 0 && inv->signal == 0) ||
		    p->killed_after_answer ? "ok" : "error";
	cgiresp_free(p->cgi);
	bodyq_free(p->bq);
	bodyreader_free(p->body);
	nspool_drop(p->slot);   /* not given back: its leaf never emptied */
	cgroup_leaf_free(&p->leaf);
	if (p->buf != p->small)
		free(p->buf);
	free(p);
}
