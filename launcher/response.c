/* response.c — the function's stdout becomes the FastCGI response
 * (RFC 3875 section 6; SPEC.md section 6): the CGI header block parsed
 * and checked, X-Accel-* headers sorted, local redirects, the body as
 * FCGI_STDOUT records, a Content-Length held to, and the error answers
 * and cut responses when it goes wrong. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <fastcgi.h>

#include "fnlog.h"
#include "once.h"
#include "pump_int.h"
#include "reply.h"
#include "route.h"
#include "units.h"

/* Complete the FastCGI response: closing both writers sends
 * FCGI_END_REQUEST, so nginx answers the client now. */
void
response_end(struct pump *p)
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
		p->kill_at = pump_now_us() + p->inv->fn->kill_grace_ms * 1000u;
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
	unsigned char h[FCGI_HEADER_LEN] = { FCGI_VERSION_1, 0, 0, 0, 0, 0,
	    0, 0 };
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
void
response_fail(struct pump *p, int status, const char *code, const char *msg)
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
		response_end(p);
		inv->complete = false;          /* ours, not the function's */
	} else {
		fnlog(FNLOG_WARN, "function=%s request_id=%s: response cut short: %s",
		    inv->fn->name, inv->request_id, msg);
		cut_response(p);
	}
	p->resp_done = true;
}

/* The client (or nginx) went away: tear the invocation down at once. */
void
response_abort(struct pump *p)
{
	/* HEAD: nginx needs no body and closes once it has the header. */
	if (p->headers_sent && strcmp(p->inv->method, "HEAD") == 0) {
		p->resp_done = true;
		p->inv->keep_conn_ok = false;
		if (!p->exited && p->kill_at == 0)
			p->kill_at = pump_now_us() + p->inv->fn->kill_grace_ms * 1000u;
		return;
	}
	if (!p->aborted)
		fnlog(FNLOG_INFO, "function=%s request_id=%s: client went away",
		    p->inv->fn->name, p->inv->request_id);
	p->aborted = true;
	p->resp_done = true;
	p->inv->keep_conn_ok = false;
	p->inv->outcome = "client_abort";
	pump_kill_group(p, SIGKILL);
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
	unsigned char h[BATCH][FCGI_HEADER_LEN];
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
			unsigned char rh[FCGI_HEADER_LEN] = { FCGI_VERSION_1,
			    FCGI_STDOUT, (unsigned char)(id >> 8),
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
	response_abort(p);
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
		response_fail(p, 500, "spawn_failed", "out of memory");
		return true;
	}
	/* Answered by the next run: nothing of this one goes out, and what
	 * still runs gets kill_grace, as after any complete answer. */
	p->resp_done = true;
	p->headers_sent = true;
	if (!p->exited && p->kill_at == 0)
		p->kill_at = pump_now_us() + p->inv->fn->kill_grace_ms * 1000u;
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
		response_end(p);
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
	response_fail(p, 502, "bad_response", cgiresp_error(p->cgi));
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
void
response_stdout(struct pump *p, const char *data, size_t len)
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
void
response_stdout_eof(struct pump *p)
{
	if (p->resp_done || !p->headers_sent)
		return;   /* no header block yet: decided once the exit is known */
	/* nginx answers the client now, while we wait for the process. */
	response_end(p);
}

/* The answer when stdout ended without a complete header block (or raw
 * output), known only once the process has exited. */
void
response_after_exit(struct pump *p)
{
	struct invocation *inv = p->inv;
	char msg[160];

	if (p->resp_done)
		return;
	if (p->headers_sent) {
		response_end(p);        /* the function exited: that is all */
		return;
	}
	cgiresp_eof(p->cgi);
	if (inv->signal > 0) {
		snprintf(msg, sizeof(msg), "function killed by signal %d (SIG%s)",
		    inv->signal, sigabbrev_np(inv->signal) ?
		    sigabbrev_np(inv->signal) : "?");
		inv->outcome = "crashed";
		response_fail(p, 502, "crashed", msg);
	} else if (inv->fn->mode == FN_MODE_RAW && inv->exit_code == 0) {
		if (emit_raw_headers(p))
			response_end(p);
	} else if (inv->fn->mode == FN_MODE_RAW) {
		snprintf(msg, sizeof(msg), "function exited with code %d and no output",
		    inv->exit_code);
		inv->outcome = "error";
		response_fail(p, 502, "bad_response", msg);
	} else {
		char shown[4 * HEAD_LOG + 8];
		snprintf(msg, sizeof(msg), "%s (exit code %d)",
		    cgiresp_error(p->cgi) ? cgiresp_error(p->cgi)
		    : "end of output before the blank line", inv->exit_code);
		fnlog(FNLOG_WARN, "function=%s request_id=%s: bad response: %s; its output began: \"%s\"",
		    inv->fn->name, inv->request_id, msg,
		    fnlog_quote(p->head, p->headlen, shown, sizeof(shown)));
		inv->outcome = "error";
		response_fail(p, 502, "bad_response", msg);
	}
}

