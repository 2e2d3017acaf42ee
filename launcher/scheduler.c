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

#include "async.h"
#include "cron.h"
#include "tz.h"
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
	char zone[136];           /* schedule_tz, or "" (UTC) */
	struct tz *tz;            /* loaded zone, or NULL */
	bool catch_up;
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

/* catch_up: the time of each function's last run, in
 * spool_dir/schedules/KEY ('/' of a tenant's key as '+'). */
static char state_dir[1100];

static void
state_path(const char *key, char *buf, size_t size)
{
	size_t len = (size_t)snprintf(buf, size, "%s/", state_dir);

	for (; *key != '\0' && len + 1 < size; key++)
		buf[len++] = *key == '/' ? '+' : *key;
	buf[len] = '\0';
}

static void
state_write(const char *key, time_t due)
{
	char path[1400], tmp[1420], text[32];
	int fd, len;

	if (state_dir[0] == '\0')
		return;
	state_path(key, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	len = snprintf(text, sizeof(text), "%lld\n", (long long)due);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return;
	if (write(fd, text, (size_t)len) == len)
		(void)rename(tmp, path);
	else
		(void)unlink(tmp);
	close(fd);
}

static time_t
state_read(const char *key)
{
	char path[1400], text[32] = "";
	int fd;
	ssize_t got;

	if (state_dir[0] == '\0')
		return -1;
	state_path(key, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	got = read(fd, text, sizeof(text) - 1);
	close(fd);
	return got > 0 ? (time_t)strtoll(text, NULL, 10) : -1;
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

/* Start S's run. Called with the lock held. false: it could not. */
static bool
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
	return true;
fail:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (r != NULL)
		free(r->body);
	free(r);
	return false;
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
				} else if (fire(&v[i]) && v[i].catch_up)
					state_write(v[i].key, v[i].next);
				v[i].next = cron_next_tz(&v[i].c, v[i].tz, now);
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
		if (f->schedule_tz != NULL &&
		    (s->tz = tz_load(f->schedule_tz, err, sizeof(err))) == NULL) {
			fnlog(FNLOG_ERROR, "schedule of %s: %s: it does not run",
			    s->key, err);
			continue;
		}
		snprintf(s->zone, sizeof(s->zone), "%s",
		    f->schedule_tz ? f->schedule_tz : "");
		s->catch_up = f->catch_up;
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

/* catch_up: a run was due between the last one (on disk) and NOW: one
 * run now, for all that were missed. Never on a first start. */
static void
catch_up(struct sched *s, time_t now)
{
	time_t last = state_read(s->key), due;

	if (state_dir[0] == '\0') {
		fnlog(FNLOG_WARN, "schedule of %s: catch_up needs a usable "
		    "spool_dir: no run is made up for", s->key);
		return;
	}
	if (last <= 0) {
		/* the first start: from now on a missed run is made up for */
		state_write(s->key, now);
		return;
	}
	if ((due = cron_next_tz(&s->c, s->tz, last)) == -1 || due > now)
		return;
	struct tm tm;
	char when[32];
	gmtime_r(&due, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fnlog(FNLOG_INFO, "schedule of %s: the run due at %s was missed: "
	    "it runs now (catch_up)", s->key, when);
	s->next = now;
}

void
scheduler_load(const struct manifest *m)
{
	struct sched *nv = NULL;
	size_t nn = 0, cap = 0;
	time_t now = time(NULL);

	/* the spool in use (a changed spool_dir takes a restart) */
	pthread_mutex_lock(&lock);
	if (async_enabled() && state_dir[0] == '\0')
		snprintf(state_dir, sizeof(state_dir), "%s/schedules",
		    m->spool_dir);
	pthread_mutex_unlock(&lock);
	collect(m, m->prefix, &nv, &nn, &cap);
	for (size_t t = 0; t < m->ntenants; t++)
		collect(m->tenants[t], m->prefix, &nv, &nn, &cap);
	pthread_mutex_lock(&lock);
	/* an unchanged schedule keeps its next time and its running run */
	for (size_t i = 0; i < nn; i++) {
		bool kept = false;
		nv[i].next = cron_next_tz(&nv[i].c, nv[i].tz, now);
		for (size_t j = 0; j < n; j++) {
			if (strcmp(v[j].key, nv[i].key) != 0)
				continue;
			kept = true;    /* a changed one makes up for nothing */
			nv[i].running = v[j].running;
			if (strcmp(v[j].expr, nv[i].expr) == 0 &&
			    strcmp(v[j].zone, nv[i].zone) == 0)
				nv[i].next = v[j].next;
		}
		if (!kept && nv[i].catch_up)
			catch_up(&nv[i], now);
	}
	for (size_t j = 0; j < n; j++) {
		free(v[j].body);
		tz_free(v[j].tz);
	}
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

			struct tz *z = NULL;

			if (f->schedule == NULL ||
			    cron_parse(f->schedule, &c, err, sizeof(err)) < 0)
				continue;
			if (f->schedule_tz != NULL &&
			    (z = tz_load(f->schedule_tz, err, sizeof(err))) == NULL) {
				report(PREFLIGHT_ERROR, err, arg);
				continue;
			}
			len = (size_t)snprintf(msg, sizeof(msg),
			    "function %s: schedule \"%s\"%s%s: next (UTC)",
			    fn_spec_key(f, key, sizeof(key)), f->schedule,
			    z ? " in " : "", z ? f->schedule_tz : "");
			for (int k = 0; k < 3 && len < sizeof(msg) - 32; k++) {
				struct tm tm;
				if ((t = cron_next_tz(&c, z, t)) == -1) {
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
			tz_free(z);
		}
	}
}
