/* scheduler.c — see scheduler.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fastcgi.h>

#include "cron.h"
#include "fcgiwrite.h"
#include "fnlog.h"
#include "metrics.h"
#include "scheduler.h"
#include "server.h"
#include "threadpool.h"

struct sched {
	char key[FN_KEY_MAX];     /* the function, daemon-wide */
	char path[FN_KEY_MAX + 256]; /* prefix + [~tenant/] + name */
	char expr[256];
	struct cron c;
	char method[16];
	char *body;
	time_t next;
	bool running;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static struct sched *v;
static size_t n;
static bool stopping, started;
static char trigger_key[33];
static pthread_t thread;

const char *
scheduler_key(void)
{
	return trigger_key;
}

/* One run: the FastCGI request written into our end of a socketpair
 * whose other end a connection thread serves (as nginx's), then the
 * answer read and dropped. */
struct run {
	int fd;
	char key[FN_KEY_MAX];
	char path[FN_KEY_MAX + 256];
	char method[16];
	char *body;
};

static void
run_done(const char *key)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].key, key) == 0)
			v[i].running = false;
	pthread_mutex_unlock(&lock);
}

static void *
run_thread(void *arg)
{
	struct run *r = arg;
	size_t blen = r->body ? strlen(r->body) : 0;
	char cl[32], buf[8192];
	bool ok;

	snprintf(cl, sizeof(cl), "%zu", blen);
	ok = fcgiw_begin(r->fd) &&
	    fcgiw_param(r->fd, "GATEWAY_INTERFACE", "CGI/1.1") &&
	    fcgiw_param(r->fd, "SERVER_SOFTWARE",
	    "fnlauncher-schedule/" PACKAGE_VERSION) &&
	    fcgiw_param(r->fd, "SERVER_PROTOCOL", "HTTP/1.1") &&
	    fcgiw_param(r->fd, "REQUEST_METHOD", r->method) &&
	    fcgiw_param(r->fd, "REQUEST_URI", r->path) &&
	    fcgiw_param(r->fd, "DOCUMENT_URI", r->path) &&
	    fcgiw_param(r->fd, "QUERY_STRING", "") &&
	    (blen == 0 || fcgiw_param(r->fd, "CONTENT_LENGTH", cl)) &&
	    fcgiw_param(r->fd, "FN_TRIGGER", "schedule") &&
	    fcgiw_param(r->fd, "FN_TRIGGER_KEY", trigger_key) &&
	    fcgiw_record(r->fd, FCGI_PARAMS, NULL, 0) &&
	    (blen == 0 || fcgiw_record(r->fd, FCGI_STDIN, r->body, blen)) &&
	    fcgiw_record(r->fd, FCGI_STDIN, NULL, 0);
	if (!ok)
		fnlog(FNLOG_ERROR, "schedule of %s: cannot send its request: %s",
		    r->key, strerror(errno));
	/* the answer (its record is the daemon's), until the end */
	while (ok && read(r->fd, buf, sizeof(buf)) > 0)
		;
	close(r->fd);
	run_done(r->key);
	free(r->body);
	free(r);
	return NULL;
}

/* Start S's run. Called with the lock held. */
static void
fire(struct sched *s)
{
	struct run *r = calloc(1, sizeof(*r));
	int sv[2] = { -1, -1 };
	pthread_attr_t at;
	pthread_t t;

	if (r == NULL || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv) < 0 || (s->body != NULL && (r->body = strdup(s->body)) == NULL)) {
		fnlog(FNLOG_ERROR, "schedule of %s: cannot start: %s", s->key,
		    strerror(errno));
		goto fail;
	}
	snprintf(r->key, sizeof(r->key), "%s", s->key);
	snprintf(r->path, sizeof(r->path), "%s", s->path);
	snprintf(r->method, sizeof(r->method), "%s", s->method);
	r->fd = sv[1];
	if (threadpool_submit(sv[0]) < 0) {
		fnlog(FNLOG_ERROR, "schedule of %s: no connection thread: %s",
		    s->key, strerror(errno));
		goto fail;
	}
	sv[0] = -1;             /* the connection thread's now */
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 64 * 1024);
	if (pthread_create(&t, &at, run_thread, r) != 0) {
		pthread_attr_destroy(&at);
		goto fail;
	}
	pthread_attr_destroy(&at);
	s->running = true;
	metrics_schedule(s->key, false);
	return;
fail:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (r != NULL)
		free(r->body);
	free(r);
}

static void *
loop(void *arg)
{
	pthread_mutex_lock(&lock);
	while (!stopping) {
		time_t now = time(NULL), first = 0;
		struct timespec ts;

		for (size_t i = 0; i < n; i++) {
			if (v[i].next == -1)
				continue;
			if (v[i].next <= now && !server_draining()) {
				if (v[i].running) {
					/* still going: this one is skipped */
					metrics_schedule(v[i].key, true);
					fnlog(FNLOG_INFO, "schedule of %s: the run "
					    "due at %lld is skipped: the one "
					    "before still runs", v[i].key,
					    (long long)v[i].next);
				} else
					fire(&v[i]);
				v[i].next = cron_next(&v[i].c, now);
			}
			if (v[i].next != -1 && (first == 0 || v[i].next < first))
				first = v[i].next;
		}
		if (first == 0) {
			pthread_cond_wait(&wake, &lock);
			continue;
		}
		ts.tv_sec = first;
		ts.tv_nsec = 0;
		(void)pthread_cond_timedwait(&wake, &lock, &ts);
	}
	pthread_mutex_unlock(&lock);
	return arg;
}

/* M's scheduled functions (and its tenants') into NV. */
static void
collect(const struct manifest *m, const char *prefix, struct sched **nv,
    size_t *nn, size_t *cap)
{
	char err[200];

	for (size_t i = 0; i < m->nfunctions; i++) {
		const struct fn_spec *f = &m->functions[i];
		struct sched *s;

		if (f->schedule == NULL)
			continue;
		if (*nn == *cap) {
			size_t c2 = *cap ? *cap * 2 : 8;
			struct sched *w = realloc(*nv, c2 * sizeof(*w));
			if (w == NULL)
				return;
			*nv = w;
			*cap = c2;
		}
		s = &(*nv)[*nn];
		memset(s, 0, sizeof(*s));
		if (cron_parse(f->schedule, &s->c, err, sizeof(err)) < 0)
			continue;       /* checked at load */
		fn_spec_key(f, s->key, sizeof(s->key));
		snprintf(s->path, sizeof(s->path), "%s%s%s%s%s", prefix,
		    f->tenant ? "~" : "", f->tenant ? f->tenant : "",
		    f->tenant ? "/" : "", f->name);
		snprintf(s->expr, sizeof(s->expr), "%s", f->schedule);
		snprintf(s->method, sizeof(s->method), "%s",
		    f->schedule_method ? f->schedule_method : "GET");
		s->body = f->schedule_body ? strdup(f->schedule_body) : NULL;
		(*nn)++;
	}
}

void
scheduler_load(const struct manifest *m)
{
	struct sched *nv = NULL;
	size_t nn = 0, cap = 0;
	time_t now = time(NULL);

	collect(m, m->prefix, &nv, &nn, &cap);
	for (size_t t = 0; t < m->ntenants; t++)
		collect(m->tenants[t], m->prefix, &nv, &nn, &cap);
	pthread_mutex_lock(&lock);
	/* an unchanged schedule keeps its next time and its running run */
	for (size_t i = 0; i < nn; i++) {
		nv[i].next = cron_next(&nv[i].c, now);
		for (size_t j = 0; j < n; j++)
			if (strcmp(v[j].key, nv[i].key) == 0 &&
			    strcmp(v[j].expr, nv[i].expr) == 0) {
				nv[i].next = v[j].next;
				nv[i].running = v[j].running;
			}
	}
	for (size_t j = 0; j < n; j++)
		free(v[j].body);
	free(v);
	v = nv;
	n = nn;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	if (nn > 0)
		fnlog(FNLOG_INFO, "schedules: %zu function%s", nn,
		    nn == 1 ? "" : "s");
}

int
scheduler_start(void)
{
	pthread_condattr_t ca;
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return -1;
	for (int i = 0; i < 16; i++)
		snprintf(trigger_key + 2 * i, 3, "%02x", r[i]);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_REALTIME);
	pthread_cond_init(&wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&thread, NULL, loop, NULL) != 0)
		return -1;
	started = true;
	return 0;
}

void
scheduler_stop(void)
{
	if (!started)
		return;
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	started = false;
}

void
scheduler_describe(const struct manifest *m, preflight_report report,
    void *arg)
{
	for (int pass = 0; pass <= (int)m->ntenants; pass++) {
		const struct manifest *s = pass == 0 ? m : m->tenants[pass - 1];
		for (size_t i = 0; i < s->nfunctions; i++) {
			const struct fn_spec *f = &s->functions[i];
			char msg[512], key[FN_KEY_MAX], err[200];
			size_t len = 0;
			struct cron c;
			time_t t = time(NULL);

			if (f->schedule == NULL ||
			    cron_parse(f->schedule, &c, err, sizeof(err)) < 0)
				continue;
			len = (size_t)snprintf(msg, sizeof(msg),
			    "function %s: schedule \"%s\": next (UTC)",
			    fn_spec_key(f, key, sizeof(key)), f->schedule);
			for (int k = 0; k < 3 && len < sizeof(msg) - 32; k++) {
				struct tm tm;
				if ((t = cron_next(&c, t)) == -1) {
					len += (size_t)snprintf(msg + len,
					    sizeof(msg) - len, " never");
					break;
				}
				gmtime_r(&t, &tm);
				len += strftime(msg + len, sizeof(msg) - len,
				    k ? ", %Y-%m-%dT%H:%M:%SZ" :
				    " %Y-%m-%dT%H:%M:%SZ", &tm);
			}
			report(PREFLIGHT_INFO, msg, arg);
		}
	}
}
