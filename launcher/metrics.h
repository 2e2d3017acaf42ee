/* metrics.h — counters for prefix + "_/metrics" (SPEC.md section 8). */
#ifndef FN_METRICS_H
#define FN_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct metrics_sample {
	const char *function;   /* NULL: no function matched */
	const char *outcome;    /* ok, error, timeout, ... */
	const char *reason;     /* error code of a rejection, else NULL */
	bool ran;               /* a process was started */
	double duration_s;
	double cpu_user_s;
	double cpu_sys_s;
	double queue_s;         /* waited for admission; < 0: never asked */
};

/* FUNCTION has run: from now on it has a line of its own (the
 * in-flight gauge reads inflight.h). */
void metrics_function(const char *function);

/* One answered request. */
void metrics_record(const struct metrics_sample *s);

/* How request bodies are read (bodyreader.h): by fnlauncher past
 * libfcgi's first buffer (FAST), or through libfcgi; and a request that
 * found libfcgi's layout changed and fell back. */
void metrics_body_reader(bool fast);
void metrics_body_fallback(void);

/* A scheduled run of FUNCTION started, or (SKIPPED) was skipped: the
 * one before still ran. */
void metrics_schedule(const char *function, bool skipped);

/* An async job (async.h) was accepted, finished (done), failed an
 * attempt that will be retried, or ran out of retries (dead). */
enum metrics_async_event {
	METRICS_ASYNC_ACCEPTED, METRICS_ASYNC_DONE, METRICS_ASYNC_RETRIED,
	METRICS_ASYNC_DEAD, METRICS_ASYNC_COUNT
};
void metrics_async(enum metrics_async_event e);

/* A SIGHUP reload succeeded or failed. */
void metrics_reload(bool ok);

/* The exposition text (malloc'd, *LEN bytes), or NULL on ENOMEM. */
char *metrics_render(size_t *len);

#endif
