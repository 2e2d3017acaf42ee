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
#include "launch.h"
#include "once.h"
#include "reaper.h"
#include "pump.h"
#include "reply.h"
#include "route.h"
#include "spawnproc.h"
#include "units.h"

#define PUMP_BUF (64 * 1024)
#define EXIT_DRAIN_US 200000     /* after exit: wait this long for stdout EOF */
#define STDERR_LINE 1024
#define BODY_MEM (64 * 1024)     /* request body kept in memory, then spooled */
#define BIG_PIPE (256 * 1024)    /* pipe size once the body is spooled */
#define SMALL_OUT 4096           /* stdout bytes copied into libfcgi's buffer */
#define HEAD_LOG 200             /* stdout bytes shown for a bad header block */
#define NO_LENGTH UINT64_MAX     /* body_left without a Content-Length */

struct pump {
	struct invocation *inv;
	FCGX_Stream *out;
	int ipc;
	int in_fd, out_fd, err_fd, pidfd;
	pid_t pid;
	bool exited, in_eof, out_eof, resp_done, headers_sent, aborted;
	bool timed_out, term_sent, group_killed, wrote_any, woken;
	bool pipes_grown;
	bool killed_after_answer;  /* SIGKILL at kill_at, the answer complete */
	uint64_t body_left;       /* bytes a Content-Length still announces */
	char head[HEAD_LOG];      /* the first bytes of stdout, for the log */
	size_t headlen;
	uint64_t deadline, kill_at, drain_until; /* monotonic us; 0: unset */
	struct cgiresp *cgi;
	struct bodyreader *body;      /* the request body, from nginx */
	struct bodyq *bq;         /* body from nginx, not yet in the child */
	uint64_t stderr_kept, stderr_dropped;
	size_t errlen;
	size_t held;              /* stdout bytes in buf, not yet sent */
	char errline[STDERR_LINE];
	char *buf;                /* stdout bytes: small, or big once grown */
	size_t bufsize;
	char small[PUMP_BUF];
};

static uint64_t
now_us(void)
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
static void
kill_group(struct pump *p, int sig)
{
	if (p->pid > 0 && !p->exited)
		(void)kill(-p->pid, sig);
	if (sig == SIGKILL)
		p->group_killed = true;
}

/* Complete the FastCGI response: closing both writers sends
 * FCGI_END_REQUEST, so nginx answers the client now. */
static void
end_response(struct pump *p)
{
	FCGX_FClose(p->inv->req->err);
	if (FCGX_FClose(p->inv->req->out) < 0)
		p->inv->keep_conn_ok = false;
	/* Without FCGI_KEEP_CONN nginx takes the end of the connection as
	 * the end of the response (its pipe length is unknown, so what came
	 * with the header waits for EOF): send that EOF now, not after the
	 * teardown. */
	if (!p->inv->req->keepConnection)
		shutdown(p->ipc, SHUT_WR);
	p->resp_done = true;
	p->inv->complete = true;
	/* The request is over: what still runs gets kill_grace to exit. */
	if (!p->exited && p->kill_at == 0)
		p->kill_at = now_us() + p->inv->fn->kill_grace_ms * 1000u;
}

/* End the response so that nginx knows it is incomplete. A plain close
 * reads as a normal end without FCGI_KEEP_CONN (nginx takes EOF as the
 * end of the response), and so would a short record. A record header of
 * type 0, which the FastCGI spec (section 8) does not define, makes nginx
 * abort the request: it logs "upstream sent invalid FastCGI record type:
 * 0" and closes the client connection without the final chunk. */
static void
cut_response(struct pump *p)
{
	unsigned char h[8] = { 1, 0, 0, 0, 0, 0, 0, 0 };
	int id = p->inv->req->requestId;

	FCGX_FFlush(p->out);
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	(void)!write(p->ipc, h, sizeof(h));
	shutdown(p->ipc, SHUT_RDWR);
	p->inv->keep_conn_ok = false;
}

/* An error answer if nothing has gone out yet; otherwise cut the
 * response short so nginx (and the client) see it is incomplete. */
static void
fail(struct pump *p, int status, const char *code, const char *msg)
{
	struct invocation *inv = p->inv;

	if (p->resp_done)
		return;
	inv->code = code;
	if (!p->headers_sent) {
		inv->status = status;
		inv->bytes_out += reply_error(inv->req, status, code, msg,
		    inv->fn->name, inv->request_id, NULL);
		p->headers_sent = true;
		end_response(p);
		inv->complete = false;          /* ours, not the function's */
	} else {
		fnlog(FNLOG_WARN, "function=%s request_id=%s: response cut short: %s",
		    inv->fn->name, inv->request_id, msg);
		cut_response(p);
	}
	p->resp_done = true;
}

/* The client (or nginx) went away: tear the invocation down at once. */
static void
abort_client(struct pump *p)
{
	/* HEAD: nginx needs no body and closes once it has the header. */
	if (p->headers_sent && strcmp(p->inv->method, "HEAD") == 0) {
		p->resp_done = true;
		p->inv->keep_conn_ok = false;
		if (!p->exited && p->kill_at == 0)
			p->kill_at = now_us() + p->inv->fn->kill_grace_ms * 1000u;
		return;
	}
	if (!p->aborted)
		fnlog(FNLOG_INFO, "function=%s request_id=%s: client went away",
		    p->inv->fn->name, p->inv->request_id);
	p->aborted = true;
	p->resp_done = true;
	p->inv->keep_conn_ok = false;
	p->inv->outcome = "client_abort";
	kill_group(p, SIGKILL);
}

/* All of IOV (CNT entries, modified) to FD. 0, or -1 on an error. */
static int
writev_all(int fd, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		ssize_t w = writev(fd, iov, cnt);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		size_t n = (size_t)w;
		while (cnt > 0 && n >= iov->iov_len) {
			n -= iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= n;
		}
	}
	return 0;
}

/* Body bytes to nginx; false when the connection is gone. A few bytes
 * join the header block in libfcgi's buffer, so that a small response
 * goes out in one write with FCGI_END_REQUEST (flushed before the pump
 * waits: see pump_round). More go straight to the socket as
 * FCGI_STDOUT records (FastCGI spec 3.3) of up to 65 528 bytes (a
 * multiple of 8), all in one writev, after what libfcgi holds: its
 * stream would cut them into 8 KiB records, one write each. */
static bool
send_out(struct pump *p, const char *data, size_t len)
{
	enum { MAXREC = 65528, BATCH = 8 };
	unsigned char h[BATCH][8];
	struct iovec iov[2 * BATCH];
	int id = p->inv->req->requestId;

	if (len <= SMALL_OUT) {
		if (len > 0 && FCGX_PutStr(data, (int)len, p->out) < 0)
			goto gone;
		p->inv->bytes_out += len;
		return true;
	}
	if (FCGX_FFlush(p->out) < 0)
		goto gone;
	while (len > 0) {
		int cnt = 0;
		size_t batch = 0;
		for (int i = 0; i < BATCH && len > 0; i++) {
			size_t n = len > MAXREC ? MAXREC : len;
			unsigned char rh[8] = { 1, 6, (unsigned char)(id >> 8),
			    (unsigned char)id, (unsigned char)(n >> 8),
			    (unsigned char)n, 0, 0 };
			memcpy(h[i], rh, sizeof(rh));
			iov[cnt++] = (struct iovec){ h[i], sizeof(h[i]) };
			iov[cnt++] = (struct iovec){ (void *)data, n };
			data += n;
			len -= n;
			batch += n;
		}
		if (writev_all(p->ipc, iov, cnt) < 0)
			goto gone;
		p->inv->bytes_out += batch;
	}
	return true;
gone:
	abort_client(p);
	return false;
}

/* X-Accel-* response headers ask nginx for things (ngx_http_upstream
 * "X-Accel-*"). These only tune how nginx passes this response on:
 * harmless, and X-Accel-Buffering: no is how a function streams
 * (server-sent events behind gzip). X-Accel-Redirect makes nginx serve
 * another location, perhaps a file no client may read: only with
 * trust_accel_headers, as any X-Accel-* nginx may learn later. */
static bool
accel_allowed(const char *name, bool trust)
{
	static const char *const harmless[] = {
		"X-Accel-Buffering", "X-Accel-Charset", "X-Accel-Expires",
		"X-Accel-Limit-Rate",
	};

	if (trust || strncasecmp(name, "X-Accel-", 8) != 0)
		return true;
	for (size_t i = 0; i < sizeof(harmless) / sizeof(harmless[0]); i++)
		if (strcasecmp(name, harmless[i]) == 0)
			return true;
	return false;
}

/* Statuses whose answer has no body (RFC 9110 sections 6.4.1 and
 * 15.4.5): no Content-Type is added to them. */
static bool
no_body_status(int status)
{
	return (status >= 100 && status < 200) || status == 204 ||
	    status == 304;
}

/* The body length a Content-Length announces, or NO_LENGTH (absent,
 * not a number, or a HEAD request, whose answer has no body). */
static uint64_t
announced_length(const struct pump *p)
{
	const char *cl = cgiresp_find(p->cgi, "Content-Length");
	uint64_t n;

	if (cl == NULL || strcmp(p->inv->method, "HEAD") == 0 ||
	    strspn(cl, "0123456789") != strlen(cl) ||
	    units_uint(cl, 0, UINT64_MAX - 1, &n, NULL) < 0)
		return NO_LENGTH;
	return n;
}

/* Write the CGI header block nginx will parse (FastCGI responder). */
static bool
emit_cgi_headers(struct pump *p)
{
	const struct fn_spec *fn = p->inv->fn;
	const char *reason, *loc = cgiresp_find(p->cgi, "Location");
	int status = cgiresp_status(p->cgi, &reason);

	if (status != 0)
		FCGX_FPrintF(p->out, "Status: %d %s\r\n", status,
		    *reason ? reason : reply_reason(status));
	for (size_t i = 0; i < cgiresp_count(p->cgi); i++) {
		const struct cgiresp_header *h = cgiresp_get(p->cgi, i);
		if (strcasecmp(h->name, "X-Request-Id") == 0)
			continue;
		if (!accel_allowed(h->name, fn->trust_accel_headers)) {
			if (once("accel", fn->name))
				fnlog(FNLOG_WARN, "function=%s request_id=%s: response header %s dropped: it needs trust_accel_headers: true (said once per function)",
				    fn->name, p->inv->request_id, h->name);
			continue;
		}
		FCGX_FPrintF(p->out, "%s: %s\r\n", h->name, h->value);
	}
	if (status == 0)
		status = loc != NULL ? 302 : 200;
	/* RFC 3875 section 6.3.1: a Content-Type for a body; not for an
	 * answer without one (a redirect, 204, 304) unless sent. */
	if (cgiresp_find(p->cgi, "Content-Type") == NULL && loc == NULL &&
	    !no_body_status(status))
		FCGX_FPrintF(p->out, "Content-Type: %s\r\n", fn->content_type);
	FCGX_FPrintF(p->out, "X-Request-Id: %s\r\n\r\n", p->inv->request_id);
	p->inv->status = status;
	p->headers_sent = true;
	p->body_left = announced_length(p);
	return true;            /* in libfcgi's buffer: see send_out */
}

/* A "Location" with a local path and no "Status" (RFC 3875 section
 * 6.2.2): the server must answer with what it would have produced for
 * that path. A path under the prefix is served here, after this run
 * ends (request.c); another local path is answered as a redirect to the
 * client (nginx cannot be asked to serve it without X-Accel-Redirect,
 * which needs trust_accel_headers). true when this is a local redirect
 * to follow. */
static bool
local_redirect(struct pump *p)
{
	const char *loc = cgiresp_find(p->cgi, "Location");

	if (loc == NULL || cgiresp_status(p->cgi, NULL) != 0 ||
	    route_redirect_kind(loc, p->inv->m->prefix) != ROUTE_REDIRECT_LOCAL)
		return false;
	if ((p->inv->redirect = strdup(loc)) == NULL) {
		fail(p, 500, "spawn_failed", "out of memory");
		return true;
	}
	/* Answered by the next run: nothing of this one goes out, and what
	 * still runs gets kill_grace, as after any complete answer. */
	p->resp_done = true;
	p->headers_sent = true;
	if (!p->exited && p->kill_at == 0)
		p->kill_at = now_us() + p->inv->fn->kill_grace_ms * 1000u;
	return true;
}

/* Body bytes of the function after its headers: at most what its
 * Content-Length announced; once that much has gone out the response is
 * complete, whether the function ends or not (hgweb serves raw files
 * and lingers; nginx closes once it has the bytes). */
static void
body_out(struct pump *p, const char *data, size_t len)
{
	if (p->body_left != NO_LENGTH && len > p->body_left)
		len = (size_t)p->body_left;     /* past the length: dropped */
	if (!send_out(p, data, len))
		return;
	if (p->body_left == NO_LENGTH)
		return;
	p->body_left -= len;
	if (p->body_left == 0)
		end_response(p);
}

/* The first bytes of stdout, kept to show in the log when they are no
 * header block. */
static void
keep_head(struct pump *p, const char *data, size_t len)
{
	size_t n = sizeof(p->head) - p->headlen;

	if (n > len)
		n = len;
	memcpy(p->head + p->headlen, data, n);
	p->headlen += n;
}

/* The function's output is no CGI header block: say what it wrote
 * (php-cgi and a JVM that fails to start write their error there), and
 * answer 502. The function is not killed for it: it may finish writing
 * and exit with its own status (what the record shows), within
 * kill_grace. */
static void
bad_header_block(struct pump *p)
{
	char shown[4 * HEAD_LOG + 8];

	fnlog(FNLOG_WARN, "function=%s request_id=%s: bad response: %s; its output began: \"%s\"",
	    p->inv->fn->name, p->inv->request_id, cgiresp_error(p->cgi),
	    fnlog_quote(p->head, p->headlen, shown, sizeof(shown)));
	fail(p, 502, "bad_response", cgiresp_error(p->cgi));
	p->inv->outcome = "error";
}

static bool
emit_raw_headers(struct pump *p)
{
	FCGX_FPrintF(p->out, "Status: 200 OK\r\nContent-Type: %s\r\n"
	    "X-Request-Id: %s\r\n\r\n", p->inv->fn->content_type,
	    p->inv->request_id);
	p->inv->status = 200;
	p->headers_sent = true;
	p->body_left = NO_LENGTH;
	return true;            /* in libfcgi's buffer: see send_out */
}

/* Handle LEN bytes the function wrote to stdout. */
static void
on_stdout(struct pump *p, const char *data, size_t len)
{
	size_t used = 0;

	p->wrote_any = true;
	if (p->resp_done)
		return;                 /* answered already (timeout, error) */
	if (p->inv->fn->mode == FN_MODE_RAW) {
		if (!p->headers_sent && !emit_raw_headers(p))
			return;
		send_out(p, data, len);
		return;
	}
	if (!p->headers_sent) {
		keep_head(p, data, len);
		switch (cgiresp_feed(p->cgi, data, len, &used)) {
		case CGIRESP_MORE:
			return;
		case CGIRESP_ERROR:
			bad_header_block(p);
			return;
		case CGIRESP_DONE:
			if (local_redirect(p) || !emit_cgi_headers(p))
				return;
			break;
		}
	}
	body_out(p, data + used, len - used);
}

/* End of the function's stdout: complete the response. */
static void
on_stdout_eof(struct pump *p)
{
	if (p->resp_done || !p->headers_sent)
		return;   /* no header block yet: decided once the exit is known */
	/* nginx answers the client now, while we wait for the process. */
	end_response(p);
}

/* The answer when stdout ended without a complete header block (or raw
 * output), known only once the process has exited. */
static void
answer_after_exit(struct pump *p)
{
	struct invocation *inv = p->inv;
	char msg[160];

	if (p->resp_done)
		return;
	if (p->headers_sent) {
		end_response(p);        /* the function exited: that is all */
		return;
	}
	cgiresp_eof(p->cgi);
	if (inv->signal > 0) {
		snprintf(msg, sizeof(msg), "function killed by signal %d (SIG%s)",
		    inv->signal, sigabbrev_np(inv->signal) ?
		    sigabbrev_np(inv->signal) : "?");
		inv->outcome = "crashed";
		fail(p, 502, "crashed", msg);
	} else if (inv->fn->mode == FN_MODE_RAW && inv->exit_code == 0) {
		if (emit_raw_headers(p))
			end_response(p);
	} else if (inv->fn->mode == FN_MODE_RAW) {
		snprintf(msg, sizeof(msg), "function exited with code %d and no output",
		    inv->exit_code);
		inv->outcome = "error";
		fail(p, 502, "bad_response", msg);
	} else {
		char shown[4 * HEAD_LOG + 8];
		snprintf(msg, sizeof(msg), "%s (exit code %d)",
		    cgiresp_error(p->cgi) ? cgiresp_error(p->cgi)
		    : "end of output before the blank line", inv->exit_code);
		fnlog(FNLOG_WARN, "function=%s request_id=%s: bad response: %s; its output began: \"%s\"",
		    inv->fn->name, inv->request_id, msg,
		    fnlog_quote(p->head, p->headlen, shown, sizeof(shown)));
		inv->outcome = "error";
		fail(p, 502, "bad_response", msg);
	}
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
		on_stdout(p, p->buf, n);
	}
	if (p->out_eof && !p->resp_done)
		on_stdout_eof(p);
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
		abort_client(p);
		return;
	}
	size_t n = (size_t)got;
	inv->bytes_in += n;
	if (inv->bytes_in > inv->fn->max_body) {
		inv->outcome = "rejected";
		fail(p, 413, "body_too_large", "request body larger than max_body");
		inv->keep_conn_ok = false;
		kill_group(p, SIGKILL);
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
			fail(p, 500, "spawn_failed", "cannot spool the request body");
			kill_group(p, SIGKILL);
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
	kill_group(p, SIGKILL);
	if (wait4(p->pid, &status, WNOHANG, &inv->ru) <= 0)
		return;
	p->exited = true;
	close_fd(&p->pidfd);
	if (WIFEXITED(status))
		inv->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		inv->signal = WTERMSIG(status);
	p->drain_until = now_us() + EXIT_DRAIN_US;
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
		fail(p, 504, "timeout", "function did not answer in time");
		kill_group(p, SIGTERM);
		p->term_sent = true;
		p->kill_at = now + inv->fn->kill_grace_ms * 1000u;
	}
	if (p->kill_at && now >= p->kill_at && !p->group_killed) {
		p->killed_after_answer = !p->exited && p->inv->complete;
		kill_group(p, SIGKILL);
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
	uint64_t now = now_us(), next = UINT64_MAX;
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
		abort_client(p);
	if (poll(pfd, n, timeout) < 0 && errno != EINTR)
		return false;
#define READY(slot) (idx[slot] >= 0 && pfd[idx[slot]].revents != 0)
	if (READY(I_WAKE)) {
		p->woken = true;
		fail(p, 503, "draining", "fnlauncher is shutting down");
		p->inv->outcome = "error";
		kill_group(p, SIGKILL);
	}
	if (READY(I_IPC)) {
		if (pfd[idx[I_IPC]].revents & (POLLRDHUP | POLLHUP | POLLERR))
			abort_client(p);
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
	now = now_us();
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

	if (launch_start(p->inv, &l) < 0) {
		fail(p, l.status, l.code, l.msg);
		return -1;
	}
	p->in_fd = l.in_fd;
	p->out_fd = l.out_fd;
	p->err_fd = l.err_fd;
	p->pid = l.pid;
	p->pidfd = l.pidfd;
	p->deadline = now_us() + p->inv->fn->timeout_ms * 1000u;
	return 0;
}

/* The rest of the process group, and whatever escaped it: kill, wait
 * until the group is empty (its dead members come to us as orphans and
 * are reaped by the sweep), then sweep once more. The leader is reaped,
 * but while any member lives the group id cannot be reused. */
static void
reap_escapees(struct pump *p)
{
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
		kill_group(p, SIGKILL);
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
	if (!p->in_eof)
		inv->keep_conn_ok = false;
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
	p->buf = p->small;
	p->bufsize = sizeof(p->small);
	p->in_eof = bodyreader_eof(p->body);
	inv->bytes_in = 0;
	if (pump_spawn(p) == 0) {
		while (pump_round(p))
			;
		flush_held(p, true);    /* over: what is held goes out now */
		if (!p->resp_done)
			answer_after_exit(p);
	}
	pump_teardown(p);
	/* A function killed only because it outlived its complete answer
	 * did what it was asked: the client got every byte. */
	if (inv->outcome == NULL)
		inv->outcome = (inv->exit_code == 0 && inv->signal == 0) ||
		    p->killed_after_answer ? "ok" : "error";
	cgiresp_free(p->cgi);
	bodyq_free(p->bq);
	bodyreader_free(p->body);
	if (p->buf != p->small)
		free(p->buf);
	free(p);
}
