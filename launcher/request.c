/* request.c — see request.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cgienv.h"
#include "fnlog.h"
#include "invocation.h"
#include "listener.h"
#include "metrics.h"
#include "pump.h"
#include "reply.h"
#include "request.h"
#include "route.h"
#include "server.h"
#include "tenants.h"
#include "async.h"
#include "auth.h"
#include "scheduler.h"
#include "units.h"

#define DRAIN_BODY_MAX (64 * 1024)  /* unread body we read to keep a conn */

extern char **environ;

static const char *
param(const struct invocation *inv, const char *name)
{
	return cgienv_get(inv->params, name);
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

/* Did a function send this request (through nginx, over TCP on this
 * host)? Its HTTP connection's socket is found from the params nginx
 * passes (REMOTE_ADDR/PORT to SERVER_ADDR/PORT) and its owner asked of
 * the kernel: the admin endpoints name every tenant's functions, and
 * nginx's "allow 127.0.0.1" lets every function on the host in. */
static bool
from_a_function(const struct invocation *inv)
{
	const char *ra = param(inv, "REMOTE_ADDR"), *rp = param(inv, "REMOTE_PORT");
	const char *sa = param(inv, "SERVER_ADDR"), *sp = param(inv, "SERVER_PORT");
	unsigned char src[16], dst[16];
	uint64_t sport, dport;
	int family;
	uid_t uid;

	if (ra == NULL || rp == NULL || sa == NULL || sp == NULL ||
	    units_uint(rp, 1, 65535, &sport, NULL) < 0 ||
	    units_uint(sp, 1, 65535, &dport, NULL) < 0)
		return false;
	if (inet_pton(AF_INET, ra, src) == 1 && inet_pton(AF_INET, sa, dst) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, ra, src) == 1 &&
	    inet_pton(AF_INET6, sa, dst) == 1)
		family = AF_INET6;
	else
		return false;
	return listener_local_owner(family, src, htons((uint16_t)sport), dst,
	    htons((uint16_t)dport), &uid) == 1 && listener_function_uid(uid);
}

/* GET PREFIX_/jobs/ID (async.h): the job's state, and its result once
 * it has one. The id (128 random bits) is what lets one in. */
static void
job_request(struct invocation *inv, const char *id)
{
	size_t len = 0;
	char *text;

	inv->outcome = "ok";
	if (strcmp(inv->method, "GET") != 0 && strcmp(inv->method, "HEAD") != 0) {
		reject(inv, 405, "method_not_allowed", "method not allowed",
		    NULL, "Allow: GET, HEAD\r\n");
		return;
	}
	if ((text = async_status(id, &len)) == NULL) {
		reject(inv, 404, "not_found", errno == ENOMEM ? "out of memory" :
		    "no such job", NULL, NULL);
		return;
	}
	inv->status = 200;
	inv->bytes_out = reply_body(inv->req, 200, "application/json", text,
	    len, inv->request_id, "Cache-Control: no-store\r\n");
	free(text);
	drain_body(inv->req);
}

static void
admin_request(struct invocation *inv, const struct route *r)
{
	bool drain = server_draining();

	if (strncmp(r->path_info, "/jobs/", 6) == 0) {
		if (async_enabled())
			job_request(inv, r->path_info + 6);
		else
			reject(inv, 404, "not_found", "no such job (async "
			    "invocations are off: no usable spool_dir)", NULL,
			    NULL);
		return;
	}
	if (from_a_function(inv)) {
		reject(inv, 403, "refused",
		    "the admin endpoints are not for functions", NULL, NULL);
		return;
	}

	inv->outcome = "ok";
	if (strcmp(r->path_info, "/health") == 0) {
		inv->status = drain ? 503 : 200;
		inv->bytes_out = reply_body(inv->req, inv->status, "text/plain",
		    drain ? "draining\n" : "ok\n", drain ? 9 : 3,
		    inv->request_id, NULL);
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
		    inv->request_id, NULL);
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
	char **argv = calloc(fn->nargs + 2, sizeof(char *));

	if (argv == NULL)
		return NULL;
	argv[0] = fn->path;
	for (size_t i = 0; i < fn->nargs; i++)
		argv[i + 1] = fn->args[i];
	return argv;
}

/* The request body's announced size against max_body: true when the
 * function may run. CONTENT_LENGTH is digits only (RFC 3875 section
 * 4.1.2); anything else is a bad request. */
static bool
body_size_ok(struct invocation *inv, const struct fn_spec *fn)
{
	const char *cl = param(inv, "CONTENT_LENGTH"), *err = NULL;
	uint64_t len = 0;

	if (cl == NULL || *cl == '\0')
		return true;
	if (strspn(cl, "0123456789") != strlen(cl)) {
		inv->req->keepConnection = 0;   /* where would the body end? */
		reject(inv, 400, "bad_request", "invalid CONTENT_LENGTH",
		    fn->name, NULL);
		return false;
	}
	/* Digits past 2^64 are a body too large, not a bad request. */
	if (units_uint(cl, 0, UINT64_MAX, &len, &err) < 0 ||
	    len > fn->max_body) {
		inv->req->keepConnection = 0;   /* the body stays unread */
		reject(inv, 413, "body_too_large",
		    "request body larger than max_body", fn->name, NULL);
		return false;
	}
	return true;
}

/* 401 for FN's auth: logged with WHY (never a secret), with the
 * WWW-Authenticate of its scheme. */
static void
unauthorized(struct invocation *inv, const struct fn_spec *fn,
    const char *why)
{
	char chal[160], extra[256];

	fnlog(FNLOG_WARN, "function=%s request_id=%s: unauthorized: %s",
	    fn->name, inv->request_id, why);
	snprintf(extra, sizeof(extra), "WWW-Authenticate: %s\r\n",
	    auth_challenge(&fn->auth, chal, sizeof(chal)));
	reject(inv, 401, "unauthorized", why, fn->name, extra);
}

/* auth: (auth.h): the whole body into a memfd, checked, and only then
 * may the function run, with the memfd as its stdin. A failure is 401
 * JSON with WWW-Authenticate, logged without any secret. */
static bool
authenticate(struct invocation *inv, const struct fn_spec *fn)
{
	char buf[16384], why[128];
	uint64_t total = 0;
	void *body = NULL;
	int n, fd;
	enum auth_result r;

	if (!fn->auth.on)
		return true;
	/* Its checks are over the request's own headers and body: a local
	 * redirect (a GET without the body) never passes them, and must not
	 * skip them — also when a schedule's or an async job's run asked
	 * for it. */
	if (inv->redirects > 0) {
		reject(inv, 401, "unauthorized", "a local redirect cannot reach "
		    "a function with auth", fn->name, NULL);
		return false;
	}
	/* the admin's own schedule, and a job checked when it was accepted */
	if (inv->trigger != NULL)
		return true;
	/* What needs no body first: a request without its token or
	 * signature is refused before its body is read. */
	r = auth_check(&fn->auth, inv->params, NULL, 0, time(NULL), why,
	    sizeof(why));
	if (r == AUTH_MISSING || r == AUTH_STALE ||
	    (fn->auth.scheme == NULL && r != AUTH_OK)) {
		unauthorized(inv, fn, why);
		return false;
	}
	if ((fd = memfd_create("fnl-body", MFD_CLOEXEC)) < 0) {
		reject(inv, 500, "spawn_failed", "cannot hold the request body",
		    fn->name, NULL);
		return false;
	}
	while ((n = FCGX_GetStr(buf, sizeof(buf), inv->req->in)) > 0) {
		total += (uint64_t)n;
		if (total > fn->max_body) {
			close(fd);
			inv->req->keepConnection = 0;
			reject(inv, 413, "body_too_large",
			    "request body larger than max_body", fn->name, NULL);
			return false;
		}
		if (write(fd, buf, (size_t)n) != n) {
			close(fd);
			inv->req->keepConnection = 0;
			reject(inv, 500, "spawn_failed",
			    "cannot hold the request body", fn->name, NULL);
			return false;
		}
	}
	inv->bytes_in = total;
	if (total > 0 && (body = mmap(NULL, (size_t)total, PROT_READ,
	    MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		close(fd);
		reject(inv, 500, "spawn_failed", "cannot hold the request body",
		    fn->name, NULL);
		return false;
	}
	r = auth_check(&fn->auth, inv->params, body ? body : "", (size_t)total,
	    time(NULL), why, sizeof(why));
	if (body != NULL)
		munmap(body, (size_t)total);
	if (r != AUTH_OK) {
		close(fd);
		unauthorized(inv, fn, why);
		return false;
	}
	inv->body_fd = fd;
	return true;
}

/* Does the request ask to be run later: async: true, or "Prefer:
 * respond-async" (RFC 7240: comma-separated preferences, names without
 * case)? Under `fnlauncher invoke` (no spool) it runs now. */
static bool
wants_async(const struct invocation *inv, const struct fn_spec *fn)
{
	if (!async_daemon())
		return false;
	if (fn->async)
		return true;
	/* nginx passes each Prefer: line as a param of its own */
	for (size_t i = 0; inv->params[i] != NULL; i++) {
		const char *p = inv->params[i];
		if (strncmp(p, "HTTP_PREFER=", 12) != 0)
			continue;
		for (p += 12; p != NULL && *p != '\0'; p = strchr(p, ',')) {
			size_t n;
			p += strspn(p, " \t,");
			n = strcspn(p, " \t,;=");
			if (n == 13 && strncasecmp(p, "respond-async", 13) == 0)
				return true;
		}
	}
	return false;
}

/* Write the request to the spool (async.h) and answer 202 with where
 * its result will be; 503 when it could not be made durable. */
static void
spool(struct invocation *inv, const struct fn_spec *fn)
{
	char key[FN_KEY_MAX], id[ASYNC_ID_LEN + 1], loc[2 * FN_KEY_MAX + 300];
	char extra[sizeof(loc) + 64], body[sizeof(loc) + 128];
	int len;

	if (!body_size_ok(inv, fn) || !authenticate(inv, fn))
		return;
	if (inv->body_fd >= 0)
		(void)lseek(inv->body_fd, 0, SEEK_SET);
	if (async_spool(fn_spec_key(fn, key, sizeof(key)), inv->params,
	    inv->req->in, inv->body_fd, fn->max_body, id, &inv->bytes_in) < 0) {
		int e = errno;
		inv->req->keepConnection = 0;   /* the body may be half read */
		if (e == EFBIG) {
			reject(inv, 413, "body_too_large",
			    "request body larger than max_body", fn->name, NULL);
			return;
		}
		fnlog(FNLOG_ERROR, "function=%s request_id=%s: cannot spool the "
		    "request: %s", fn->name, inv->request_id, strerror(e));
		reject(inv, 503, "unavailable", e == ENOSYS ?
		    "async invocations are off: no usable spool_dir" :
		    e == EAGAIN ? "the spool holds async_max_jobs unfinished "
		    "jobs" : "the job could not be written to the spool",
		    fn->name, "Retry-After: 5\r\n");
		return;
	}
	snprintf(inv->job_id_buf, sizeof(inv->job_id_buf), "%s", id);
	inv->job_id = inv->job_id_buf;
	snprintf(loc, sizeof(loc), "%s_/jobs/%s", inv->m->prefix, id);
	snprintf(extra, sizeof(extra), "Location: %s\r\n", loc);
	len = snprintf(body, sizeof(body), "{\"id\":\"%s\",\"status\":"
	    "\"queued\",\"location\":\"%s\"}\n", id, loc);
	inv->status = 202;
	inv->outcome = "ok";
	inv->bytes_out = reply_body(inv->req, 202, "application/json", body,
	    (size_t)len, inv->request_id, extra);
}

/* Admission: the daemon's workers and the function's concurrency; over
 * them the request waits in the function's queue (no process, no
 * worker) for up to queue_timeout. */
static bool
admit(struct invocation *inv, const struct fn_spec *fn)
{
	char key[FN_KEY_MAX];
	struct inflight_want w = {
		.function = fn_spec_key(fn, key, sizeof(key)),
		.tenant = fn->tenant ? fn->tenant : "",
		.request_id = inv->request_id, .workers = inv->m->workers,
		.concurrency = fn->concurrency, .queue = fn->queue,
		.queue_timeout_ms = fn->queue_timeout_ms,
		.tenant_concurrency = inv->scope->budget.concurrency,
		.tenant_queue = inv->scope->budget.queue,
		.hangup_fd = inv->req->ipcFd,
	};
	uint64_t waited;
	enum inflight_admit rc = inflight_enter(&inv->slot, &w, &waited);

	inv->queue_us += waited;
	inv->asked_admission = true;
	switch (rc) {
	case INFLIGHT_OK:
		return true;
	case INFLIGHT_WORKERS:
		reject(inv, 503, "busy", "fnlauncher is at its workers limit",
		    fn->name, "Retry-After: 1\r\n");
		return false;
	case INFLIGHT_CONCURRENCY:
		reject(inv, 503, "busy", "function is at its concurrency limit",
		    fn->name, "Retry-After: 1\r\n");
		return false;
	case INFLIGHT_BUDGET:
		reject(inv, 503, "busy", "tenant is at its concurrency budget",
		    fn->name, "Retry-After: 1\r\n");
		return false;
	case INFLIGHT_TIMEOUT:
		reject(inv, 503, "busy", "waited queue_timeout in the queue",
		    fn->name, "Retry-After: 1\r\n");
		return false;
	case INFLIGHT_CANCELLED:
		reject(inv, 503, "draining", "fnlauncher is shutting down",
		    fn->name, "Retry-After: 1\r\n");
		return false;
	case INFLIGHT_HANGUP:
		inv->status = 499;
		inv->outcome = "client_abort";
		inv->code = "busy";
		inv->keep_conn_ok = false;
		return false;
	case INFLIGHT_NOMEM:
		break;
	}
	reject(inv, 500, "spawn_failed", "out of memory", fn->name, NULL);
	return false;
}

/* Run the admitted function FN, routed as R. */
static void
run(struct invocation *inv, const struct fn_spec *fn, const struct route *r)
{
	char script_name[FN_NAME_MAX + 256];
	struct cgienv_in ein = {
		.params = inv->params, .fn = fn, .path_info = r->path_info,
		.request_id = inv->request_id, .timeout_ms = fn->timeout_ms,
		.daemon_env = environ, .trigger = inv->trigger,
		.job_id = inv->job_id, .attempt = inv->job_attempt,
	};

	if (r->by_param)
		ein.script_name = param(inv, "SCRIPT_NAME");
	else {
		snprintf(script_name, sizeof(script_name), "%s%s%s%s%s",
		    inv->m->prefix, r->tenant[0] ? "~" : "", r->tenant,
		    r->tenant[0] ? "/" : "", fn->name);
		ein.script_name = script_name;
	}
	inv->envp = cgienv_build(&ein);
	inv->argv = build_argv(fn);
	if (inv->envp == NULL || inv->argv == NULL) {
		inv->status = 500;
		inv->outcome = "error";
		inv->code = "spawn_failed";
		inv->bytes_out = reply_error(inv->req, 500, "spawn_failed",
		    "out of memory", fn->name, inv->request_id, NULL);
		inv->keep_conn_ok = false;
		return;
	}
	inv->ran = true;
	char key[FN_KEY_MAX];

	metrics_function(fn_spec_key(fn, key, sizeof(key)));
	pump_run(inv);
	invocation_add_usage(inv);
}

/* The scheduler's and the async runner's own requests carry their key
 * (scheduler.h, async.h); any other is an HTTP request's. */
static void
set_trigger(struct invocation *inv)
{
	const char *trig = param(inv, "FN_TRIGGER"), *tkey;

	if (trig == NULL || (tkey = param(inv, "FN_TRIGGER_KEY")) == NULL)
		return;
	if (strcmp(trig, "schedule") == 0 && *scheduler_key() != '\0' &&
	    strcmp(tkey, scheduler_key()) == 0)
		inv->trigger = "schedule";
	else if (strcmp(trig, "async") == 0 && *async_key() != '\0' &&
	    strcmp(tkey, async_key()) == 0) {
		inv->trigger = "async";
		inv->job_id = param(inv, "FN_JOB_ID");
		inv->job_attempt = param(inv, "FN_JOB_ATTEMPT");
	}
}

/* Everything between "request read" and "answered" (or, for a local
 * redirect, "the function asked for another path"). */
static void
dispatch(struct invocation *inv)
{
	const struct manifest *m = inv->m;
	const struct fn_spec *fn;
	struct route r;
	char allow[512], extra[600];

	/* On TCP a drain refuses new connections; a request that got in
	 * before is served. On a unix socket new requests get 503. */
	if (server_refusing()) {
		reject(inv, 503, "draining", "fnlauncher is shutting down", NULL,
		    "Retry-After: 1\r\n");
		return;
	}
	set_trigger(inv);
	if (*inv->method == '\0') {
		reject(inv, 400, "bad_request", "no REQUEST_METHOD", NULL, NULL);
		return;
	}
	switch (route_parse(inv->params, m->prefix, &r)) {
	case ROUTE_ADMIN:
		if ((m->admin || strncmp(r.path_info, "/jobs/", 6) == 0) &&
		    inv->redirects == 0) {
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
	/* PREFIX~TENANT/NAME, or a Host one of the tenants has */
	inv->scope = m;
	if (r.tenant[0] != '\0') {
		if ((inv->scope = tenants_find(m, r.tenant)) == NULL) {
			inv->scope = m;
			snprintf(inv->fname, sizeof(inv->fname), "%s", r.name);
			reject(inv, 404, "not_found", "no such tenant", r.name,
			    NULL);
			return;
		}
	} else if (!r.by_param && m->ntenants > 0) {
		const struct manifest *t = tenants_by_host(m,
		    param(inv, "HTTP_HOST"));
		if (t != NULL)
			inv->scope = t;
	}
	if (route_lookup(inv->scope, r.name, &inv->dropin, &fn) < 0) {
		snprintf(inv->fname, sizeof(inv->fname), "%s", r.name);
		reject(inv, 404, "not_found", "no such function", r.name, NULL);
		return;
	}
	inv->fn = fn;
	if (!fn_spec_allows(fn, param(inv, "REQUEST_METHOD"))) {
		allow_list(fn, allow, sizeof(allow));
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
		reject(inv, 405, "method_not_allowed", "method not allowed",
		    fn->name, extra);
		return;
	}
	/* a local redirect stays with the tenant (or the main manifest) it
	 * started in: nginx's rules for the other's paths are not skipped */
	if (inv->redirects == 0)
		inv->first_scope = inv->scope;
	else if (inv->scope != inv->first_scope) {
		reject(inv, 502, "bad_response", "a local redirect may not leave "
		    "its tenant", fn->name, NULL);
		return;
	}
	/* a request to run later: on disk before its 202 */
	if (inv->trigger == NULL && inv->redirects == 0 && wants_async(inv, fn)) {
		spool(inv, fn);
		return;
	}
	/* admitted first: a body held for auth counts against the limits */
	if (!body_size_ok(inv, fn) || !admit(inv, fn))
		return;
	if (authenticate(inv, fn))
		run(inv, fn, &r);
	inflight_leave(&inv->slot);
}

/* The function answered with a local redirect (RFC 3875 section
 * 6.2.2): the server answers with what it would have produced for that
 * path, a GET without a body. At most INVOCATION_MAX_REDIRECTS. */
static void
follow_redirects(struct invocation *inv)
{
	while (inv->redirect != NULL) {
		if (inv->redirects >= INVOCATION_MAX_REDIRECTS) {
			fnlog(FNLOG_WARN, "function=%s request_id=%s: more than %d local redirects",
			    inv->fn ? inv->fn->name : "-", inv->request_id,
			    INVOCATION_MAX_REDIRECTS);
			free(inv->redirect);
			inv->redirect = NULL;
			inv->status = 502;
			inv->outcome = "error";
			inv->code = "bad_response";
			inv->bytes_out = reply_error(inv->req, 502,
			    "bad_response", "too many local redirects",
			    inv->fn ? inv->fn->name : NULL, inv->request_id,
			    NULL);
			return;
		}
		if (invocation_redirect(inv) < 0) {
			inv->status = 500;
			inv->outcome = "error";
			inv->code = "spawn_failed";
			inv->keep_conn_ok = false;
			inv->bytes_out = reply_error(inv->req, 500,
			    "spawn_failed", "out of memory", NULL,
			    inv->request_id, NULL);
			return;
		}
		dispatch(inv);
	}
}

static void
record(struct invocation *inv)
{
	char key[FN_KEY_MAX];

	struct fn_record rec = {
		.request_id = inv->request_id,
		.function = inv->fn ? inv->fn->name : inv->fname[0] ? inv->fname : NULL,
		.tenant = inv->fn ? inv->fn->tenant : inv->scope->tenant,
		.method = inv->method, .uri = inv->uri,
		.outcome = inv->outcome ? inv->outcome : "error",
		.error = inv->code, .redirected_from = inv->redirected_from,
		.trigger = inv->trigger,
		.job_id = inv->job_id, .attempt = inv->job_attempt,
		.remote_addr = inv->remote_addr, .status = inv->status,
		.exit_code = inv->exit_code, .signal = inv->signal,
		.duration_us = invocation_elapsed_us(inv),
		.queue_us = inv->queue_us,
		.cpu_user_us = inv->cpu_user_us, .cpu_sys_us = inv->cpu_sys_us,
		.max_rss_kb = inv->max_rss_kb,
		.memory_peak_kb = inv->memory_peak_kb,
		.oom_kills = inv->memory_peak_kb >= 0 ? (long)inv->oom_kills : -1,
		.bytes_in = inv->bytes_in, .bytes_out = inv->bytes_out,
	};
	fnlog_record(&rec);
	if (inv->trigger != NULL && strcmp(inv->trigger, "async") == 0 &&
	    inv->job_id != NULL && inv->job_attempt != NULL) {
		struct async_outcome o = { .status = inv->status,
		    .outcome = rec.outcome, .code = inv->code,
		    .signal = inv->signal, .exit_code = inv->exit_code };
		async_note(inv->job_id, inv->job_attempt, &o);
	}
	struct metrics_sample ms = {
		.function = inv->fn ? fn_spec_key(inv->fn, key, sizeof(key)) : NULL,
		.outcome = rec.outcome,
		.reason = strcmp(rec.outcome, "rejected") == 0 ? inv->code : NULL,
		.ran = inv->ran,
		.duration_s = (double)rec.duration_us / 1e6,
		.cpu_user_s = (double)rec.cpu_user_us / 1e6,
		.cpu_sys_s = (double)rec.cpu_sys_us / 1e6,
		.queue_s = inv->asked_admission ? (double)inv->queue_us / 1e6 : -1,
	};
	metrics_record(&ms);
}

void
request_handle(FCGX_Request *req)
{
	struct invocation *inv = invocation_new(req, server_wake_fd());

	if (inv == NULL) {
		fnlog(FNLOG_ERROR, "out of memory: a request is answered 500");
		reply_error(req, 500, "spawn_failed", "out of memory", NULL,
		    "-", NULL);
		req->keepConnection = 0;
		end_answer(req);
		return;
	}
	dispatch(inv);
	follow_redirects(inv);
	if (!inv->keep_conn_ok)
		req->keepConnection = 0;
	end_answer(req);
	record(inv);
	invocation_free(inv);
}
