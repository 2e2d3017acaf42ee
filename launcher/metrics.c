/* metrics.c — counters per function and their Prometheus text
 * exposition (version 0.0.4), served at prefix + "_/metrics".
 *
 * Requests for names that match no function are counted under
 * function="" so that random URLs cannot grow the table. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inflight.h"
#include "manifest.h"
#include "metrics.h"

#define NBUCKET 128

static const char *const outcomes[] = {
	"ok", "error", "timeout", "crashed", "refused", "rejected",
	"client_abort", "exec_failed",
};
#define NOUTCOME (sizeof(outcomes) / sizeof(outcomes[0]))

static const char *const reasons[] = {
	"not_found", "method_not_allowed", "body_too_large", "busy",
	"draining", "bad_request", "refused", "unauthorized", "unavailable",
};
#define NREASON (sizeof(reasons) / sizeof(reasons[0]))

/* Seconds: 1 ms to 60 s. */
static const double bounds[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
	10, 30, 60,
};
#define NBOUND (sizeof(bounds) / sizeof(bounds[0]))

struct fnm {
	struct fnm *next;
	char name[FN_KEY_MAX];          /* NAME, or ~TENANT/NAME */
	char labels[2 * FN_KEY_MAX + 32]; /* function="NAME",tenant="TENANT" */
	unsigned long long outcome[NOUTCOME];
	unsigned long long reason[NREASON];
	unsigned long long bucket[NBOUND];   /* not cumulative */
	unsigned long long count;
	double sum, cpu_user, cpu_sys;
	unsigned long long qbucket[NBOUND];  /* queue waits, not cumulative */
	unsigned long long qcount;
	double qsum;
	unsigned long long sched_runs, sched_skipped;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct fnm *table[NBUCKET];
static unsigned long long reloads_ok, reloads_failed;
static bool body_fast;
static unsigned long long body_fallbacks;

static size_t
index_of(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return i;
	return n;
}

static size_t
bucket_of(double v)
{
	size_t b = 0;

	while (b < NBOUND && v > bounds[b])
		b++;
	return b;
}

/* The entry of NAME, created if need be. Called with the lock held. */
static struct fnm *
entry(const char *name)
{
	unsigned h = 2166136261u;

	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	struct fnm **pp = &table[h % NBUCKET];
	for (; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->name, name) == 0)
			return *pp;
	if ((*pp = calloc(1, sizeof(**pp))) != NULL) {
		const char *slash = strchr(name, '/');
		snprintf((*pp)->name, sizeof((*pp)->name), "%s", name);
		if (name[0] == '~' && slash != NULL)
			snprintf((*pp)->labels, sizeof((*pp)->labels),
			    "function=\"%s\",tenant=\"%.*s\"", slash + 1,
			    (int)(slash - name - 1), name + 1);
		else
			snprintf((*pp)->labels, sizeof((*pp)->labels),
			    "function=\"%s\",tenant=\"\"", name);
	}
	return *pp;
}

void
metrics_function(const char *function)
{
	pthread_mutex_lock(&lock);
	(void)entry(function);
	pthread_mutex_unlock(&lock);
}

void
metrics_record(const struct metrics_sample *s)
{
	const char *name = s->function ? s->function : "";
	size_t o = index_of(outcomes, NOUTCOME, s->outcome);

	pthread_mutex_lock(&lock);
	struct fnm *e = entry(name);
	if (e == NULL) {
		pthread_mutex_unlock(&lock);
		return;
	}
	if (o < NOUTCOME)
		e->outcome[o]++;
	if (s->reason != NULL) {
		size_t r = index_of(reasons, NREASON, s->reason);
		if (r < NREASON)
			e->reason[r]++;
	}
	if (s->queue_s >= 0) {
		size_t b = bucket_of(s->queue_s);
		if (b < NBOUND)
			e->qbucket[b]++;
		e->qcount++;
		e->qsum += s->queue_s;
	}
	if (s->ran) {
		size_t b = bucket_of(s->duration_s);
		if (b < NBOUND)
			e->bucket[b]++;
		e->count++;
		e->sum += s->duration_s;
		e->cpu_user += s->cpu_user_s;
		e->cpu_sys += s->cpu_sys_s;
	}
	pthread_mutex_unlock(&lock);
}

void
metrics_schedule(const char *function, bool skipped)
{
	pthread_mutex_lock(&lock);
	struct fnm *e = entry(function);
	if (e != NULL) {
		if (skipped)
			e->sched_skipped++;
		else
			e->sched_runs++;
	}
	pthread_mutex_unlock(&lock);
}

void
metrics_body_reader(bool fast)
{
	pthread_mutex_lock(&lock);
	body_fast = fast;
	pthread_mutex_unlock(&lock);
}

void
metrics_body_fallback(void)
{
	pthread_mutex_lock(&lock);
	body_fallbacks++;
	pthread_mutex_unlock(&lock);
}

static unsigned long long async_events[METRICS_ASYNC_COUNT];

void
metrics_async(enum metrics_async_event e)
{
	pthread_mutex_lock(&lock);
	async_events[e]++;
	pthread_mutex_unlock(&lock);
}

void
metrics_reload(bool ok)
{
	pthread_mutex_lock(&lock);
	if (ok)
		reloads_ok++;
	else
		reloads_failed++;
	pthread_mutex_unlock(&lock);
}

/* A growing text buffer. */
struct out {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf ? o->buf + o->len : NULL,
		    o->buf ? o->cap - o->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = true;
			return;
		}
		if (o->buf != NULL && (size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = (o->cap ? o->cap * 2 : 16384) + (size_t)n;
		char *nb = realloc(o->buf, cap);
		if (nb == NULL) {
			o->oom = true;
			return;
		}
		o->buf = nb;
		o->cap = cap;
	}
}

/* A histogram's lines: cumulative buckets, +Inf, sum and count (none
 * while it has no observation). */
static void
histogram(struct out *o, const char *name, const char *labels,
    const unsigned long long *bucket, unsigned long long count, double sum)
{
	unsigned long long cum = 0;

	if (count == 0)
		return;
	for (size_t b = 0; b < NBOUND; b++) {
		cum += bucket[b];
		put(o, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels, bounds[b],
		    cum);
	}
	put(o, "%s_bucket{%s,le=\"+Inf\"} %llu\n%s_sum{%s} %.6f\n"
	    "%s_count{%s} %llu\n", name, labels, count, name, labels, sum,
	    name, labels, count);
}

static void
render_fn(struct out *o, const struct fnm *e, int part)
{
	switch (part) {
	case 0:
		for (size_t i = 0; i < NOUTCOME; i++)
			if (e->outcome[i] > 0)
				put(o, "fnlauncher_invocations_total{%s,outcome=\"%s\"} %llu\n",
				    e->labels, outcomes[i], e->outcome[i]);
		break;
	case 1:
		histogram(o, "fnlauncher_invocation_duration_seconds", e->labels,
		    e->bucket, e->count, e->sum);
		break;
	case 2:
		if (e->name[0] != '\0')
			put(o, "fnlauncher_in_flight{%s} %u\n", e->labels,
			    inflight_count(e->name));
		break;
	case 3:
		if (e->count > 0)
			put(o, "fnlauncher_cpu_seconds_total{%s,mode=\"user\"} %.6f\n"
			    "fnlauncher_cpu_seconds_total{%s,mode=\"system\"} %.6f\n",
			    e->labels, e->cpu_user, e->labels, e->cpu_sys);
		break;
	case 5:
		histogram(o, "fnlauncher_queue_wait_seconds", e->labels,
		    e->qbucket, e->qcount, e->qsum);
		break;
	case 7:
		if (e->sched_runs + e->sched_skipped > 0)
			put(o, "fnlauncher_schedule_runs_total{%s} %llu\n"
			    "fnlauncher_schedule_skipped_total{%s} %llu\n",
			    e->labels, e->sched_runs, e->labels, e->sched_skipped);
		break;
	case 6:
		if (e->name[0] != '\0')
			put(o, "fnlauncher_queued{%s} %u\n", e->labels,
			    inflight_waiting_fn(e->name));
		break;
	case 4:
		for (size_t i = 0; i < NREASON; i++)
			if (e->reason[i] > 0)
				put(o, "fnlauncher_rejected_total{%s,reason=\"%s\"} %llu\n",
				    e->labels, reasons[i], e->reason[i]);
		break;
	}
}

char *
metrics_render(size_t *len)
{
	static const char *const head[] = {
		"# HELP fnlauncher_invocations_total Requests answered, by function and outcome.\n"
		"# TYPE fnlauncher_invocations_total counter\n",
		"# HELP fnlauncher_invocation_duration_seconds Wall time of invocations that ran.\n"
		"# TYPE fnlauncher_invocation_duration_seconds histogram\n",
		"# HELP fnlauncher_in_flight Invocations running now.\n"
		"# TYPE fnlauncher_in_flight gauge\n",
		"# HELP fnlauncher_cpu_seconds_total CPU time of invocations (from wait4).\n"
		"# TYPE fnlauncher_cpu_seconds_total counter\n",
		"# HELP fnlauncher_rejected_total Requests answered without running the function.\n"
		"# TYPE fnlauncher_rejected_total counter\n",
		"# HELP fnlauncher_queue_wait_seconds Time requests waited for a place (concurrency, workers, budget).\n"
		"# TYPE fnlauncher_queue_wait_seconds histogram\n",
		"# HELP fnlauncher_queued Requests waiting in the queue now.\n"
		"# TYPE fnlauncher_queued gauge\n",
		"# HELP fnlauncher_schedule_runs_total Scheduled runs started; skipped: due while the one before still ran.\n"
		"# TYPE fnlauncher_schedule_runs_total counter\n"
		"# TYPE fnlauncher_schedule_skipped_total counter\n",
	};
	struct out o = { 0 };

	pthread_mutex_lock(&lock);
	for (int part = 0; part < 8; part++) {
		put(&o, "%s", head[part]);
		for (size_t b = 0; b < NBUCKET; b++)
			for (const struct fnm *e = table[b]; e != NULL; e = e->next)
				render_fn(&o, e, part);
	}
	put(&o, "# HELP fnlauncher_config_reloads_total Manifest reloads (SIGHUP), by result.\n"
	    "# TYPE fnlauncher_config_reloads_total counter\n"
	    "fnlauncher_config_reloads_total{result=\"ok\"} %llu\n"
	    "fnlauncher_config_reloads_total{result=\"failed\"} %llu\n"
	    "# HELP fnlauncher_body_reader How request bodies are read: by fnlauncher past libfcgi's first buffer, or through libfcgi.\n"
	    "# TYPE fnlauncher_body_reader gauge\n"
	    "fnlauncher_body_reader{path=\"fnlauncher\"} %d\n"
	    "fnlauncher_body_reader{path=\"libfcgi\"} %d\n"
	    "# HELP fnlauncher_body_reader_fallbacks_total Requests that found libfcgi's stream layout changed and were read through libfcgi.\n"
	    "# TYPE fnlauncher_body_reader_fallbacks_total counter\n"
	    "fnlauncher_body_reader_fallbacks_total %llu\n"
	    "# HELP fnlauncher_build_info The version of this fnlauncher.\n"
	    "# TYPE fnlauncher_build_info gauge\n"
	    "fnlauncher_build_info{version=\"%s\",libfcgi=\"%s\"} 1\n",
	    reloads_ok, reloads_failed, body_fast, !body_fast, body_fallbacks,
	    PACKAGE_VERSION, LIBFCGI_BUILT_VERSION);
	put(&o, "# HELP fnlauncher_async_jobs_total Async jobs: accepted (spooled), done, retried (an attempt failed), dead (out of retries).\n"
	    "# TYPE fnlauncher_async_jobs_total counter\n"
	    "fnlauncher_async_jobs_total{event=\"accepted\"} %llu\n"
	    "fnlauncher_async_jobs_total{event=\"done\"} %llu\n"
	    "fnlauncher_async_jobs_total{event=\"retried\"} %llu\n"
	    "fnlauncher_async_jobs_total{event=\"dead\"} %llu\n",
	    async_events[METRICS_ASYNC_ACCEPTED], async_events[METRICS_ASYNC_DONE],
	    async_events[METRICS_ASYNC_RETRIED], async_events[METRICS_ASYNC_DEAD]);
	pthread_mutex_unlock(&lock);
	if (o.oom) {
		free(o.buf);
		return NULL;
	}
	*len = o.len;
	return o.buf;
}
