/* invocation.c — see invocation.h. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "invocation.h"
#include "route.h"

static uint64_t
mono_us(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000u + (uint64_t)ts->tv_nsec / 1000u;
}

uint64_t
invocation_elapsed_us(const struct invocation *inv)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return mono_us(&now) - mono_us(&inv->start);
}

/* 16 hex digits from the kernel's random pool: one id says nothing
 * about the next. If getrandom ever fails, a counter mixed with the
 * clock keeps ids unique. */
static void
new_request_id(char out[24])
{
	static _Atomic uint64_t next;
	uint64_t x = 0;

	if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != sizeof(x)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		x = (mono_us(&ts) ^ (uint64_t)getpid() << 40) +
		    next++ * 0x9e3779b97f4a7c15ULL;
	}
	snprintf(out, 24, "%016llx", (unsigned long long)x);
}

struct invocation *
invocation_new(FCGX_Request *req, int wake_fd)
{
	struct invocation *inv = calloc(1, sizeof(*inv));

	if (inv == NULL)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &inv->start);
	new_request_id(inv->request_id);
	inv->req = req;
	inv->params = req->envp;
	inv->mref = mref_get();
	inv->m = inv->scope = inv->mref->m;
	inv->wake_fd = wake_fd;
	inv->exit_code = -1;
	inv->body_fd = -1;
	inv->memory_peak_kb = -1;
	inv->keep_conn_ok = true;
	inv->method = FCGX_GetParam("REQUEST_METHOD", req->envp);
	if (inv->method == NULL)
		inv->method = "";
	inv->uri = FCGX_GetParam("REQUEST_URI", req->envp);
	if (inv->uri == NULL)
		inv->uri = FCGX_GetParam("DOCUMENT_URI", req->envp);
	inv->remote_addr = FCGX_GetParam("REMOTE_ADDR", req->envp);
	return inv;
}

/* What belongs to one run of a function. */
static void
clear_run(struct invocation *inv)
{
	inflight_leave(&inv->slot);
	fn_spec_clear(&inv->dropin);
	memset(&inv->dropin, 0, sizeof(inv->dropin));
	free(inv->envp);
	free(inv->argv);
	inv->envp = inv->argv = NULL;
	inv->fn = NULL;
	inv->fname[0] = '\0';
	inv->status = 0;
	inv->outcome = NULL;
	inv->code = NULL;
	inv->exit_code = -1;
	inv->signal = 0;
	memset(&inv->ru, 0, sizeof(inv->ru));
	inv->cg_valid = inv->cg_memory = false;
	inv->cg_user_us = inv->cg_sys_us = inv->cg_memory_peak = 0;
	inv->cg_oom_kills = 0;
}

void
invocation_free(struct invocation *inv)
{
	if (inv == NULL)
		return;
	clear_run(inv);
	free(inv->redirect);
	free(inv->redirected_from);
	if (inv->body_fd >= 0)
		close(inv->body_fd);
	free(inv->params_own);
	mref_put(inv->mref);
	free(inv);
}

void
invocation_add_usage(struct invocation *inv)
{
	const struct rusage *ru = &inv->ru;

	/* A cgroup counts every process of the run, reaped or not (wait4
	 * only the ones reaped by their parents, up to the function). */
	if (inv->cg_valid) {
		inv->cpu_user_us += inv->cg_user_us;
		inv->cpu_sys_us += inv->cg_sys_us;
	} else {
		inv->cpu_user_us += (uint64_t)ru->ru_utime.tv_sec * 1000000u +
		    (uint64_t)ru->ru_utime.tv_usec;
		inv->cpu_sys_us += (uint64_t)ru->ru_stime.tv_sec * 1000000u +
		    (uint64_t)ru->ru_stime.tv_usec;
	}
	if (ru->ru_maxrss > inv->max_rss_kb)
		inv->max_rss_kb = ru->ru_maxrss;
	if (inv->cg_valid && inv->cg_memory &&
	    (long)(inv->cg_memory_peak / 1024) > inv->memory_peak_kb)
		inv->memory_peak_kb = (long)(inv->cg_memory_peak / 1024);
	inv->oom_kills += inv->cg_oom_kills;
}

/* Params a redirect replaces or drops: the request line, the body, and
 * what routed the first run (FN_FUNCTION would route to it again). */
static bool
replaced(const char *p)
{
	static const char *const names[] = {
		"REQUEST_METHOD", "REQUEST_URI", "DOCUMENT_URI", "QUERY_STRING",
		"SCRIPT_NAME", "PATH_INFO", "CONTENT_LENGTH", "CONTENT_TYPE",
		"FN_FUNCTION",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);
		if (strncmp(p, names[i], n) == 0 && p[n] == '=')
			return true;
	}
	return false;
}

int
invocation_redirect(struct invocation *inv)
{
	char *loc = inv->redirect, *frag = strchr(loc, '#'), **v, *w;
	const char *q;
	size_t plen, llen, n = 0, size;

	if (frag != NULL)
		*frag = '\0';      /* a fragment is the client's business */
	q = strchr(loc, '?');
	plen = q ? (size_t)(q - loc) : strlen(loc);
	llen = strlen(loc);

	for (char *const *p = inv->params; *p != NULL; p++)
		n++;
	/* pointers, then "REQUEST_METHOD=GET", REQUEST_URI, DOCUMENT_URI,
	 * QUERY_STRING; the other params stay where they are */
	size = (n + 5) * sizeof(char *) + 19 + (12 + llen + 1) +
	    (13 + plen + 1) + (13 + (q ? strlen(q + 1) : 0) + 1);
	if ((v = malloc(size)) == NULL)
		return -1;
	w = (char *)(v + n + 5);
	n = 0;
	v[n++] = w;
	w += sprintf(w, "REQUEST_METHOD=GET") + 1;
	v[n++] = w;
	w += sprintf(w, "REQUEST_URI=%s", loc) + 1;
	v[n++] = w;
	w += sprintf(w, "DOCUMENT_URI=");
	route_decode_path(loc, plen, w);
	w += strlen(w) + 1;
	v[n++] = w;
	sprintf(w, "QUERY_STRING=%s", q ? q + 1 : "");
	for (char *const *p = inv->params; *p != NULL; p++)
		if (!replaced(*p))
			v[n++] = *p;
	v[n] = NULL;
	if (inv->redirected_from == NULL && inv->fn != NULL &&
	    (inv->redirected_from = strdup(inv->fn->name)) == NULL) {
		free(v);
		return -1;
	}
	clear_run(inv);
	/* The params kept point into the request's own (the ones an earlier
	 * redirect wrote are all replaced): its copy can go. */
	free(inv->redirect);
	inv->redirect = NULL;
	inv->redirects++;
	free(inv->params_own);
	inv->params_own = v;
	inv->params = v;
	return 0;
}
