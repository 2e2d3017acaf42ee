/* usage.h — `fnlauncher usage`: sums of invocation records (SPEC.md
 * section 8) for pay-per-use billing: invocations by outcome,
 * CPU-seconds, GB-seconds, bytes in and out, queue wait p50/p99, by
 * tenant, function or day.
 *
 * The parsing and the sums are pure (usage_parse_line, usage_add,
 * usage_render); usage_main is the command around them. */
#ifndef FN_USAGE_H
#define FN_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum usage_by { USAGE_BY_TENANT, USAGE_BY_FUNCTION, USAGE_BY_DAY };
enum usage_format { USAGE_TABLE, USAGE_JSON, USAGE_CSV };

#define USAGE_NOUTCOME 8

/* What one record line holds that the sums need. */
struct usage_rec {
	char ts[40];              /* as written: 2026-12-06T10:00:00.123Z */
	char tenant[72];          /* "" for the main manifest's */
	char function[72];        /* "" when no function matched */
	char outcome[16];
	double duration_ms, queue_ms, cpu_ms;
	double memory_kb;         /* memory_peak_kb, else max_rss_kb */
	uint64_t bytes_in, bytes_out;
};

/* LINE (LEN bytes, a JSON object of one record) into R. 0, or -1 when
 * it is not a record (no ts, or not a flat JSON object). */
int usage_parse_line(const char *line, size_t len, struct usage_rec *r);

/* One group's sums. */
struct usage_row {
	char key[160];
	uint64_t invocations;
	uint64_t outcome[USAGE_NOUTCOME]; /* in usage_outcomes order */
	double cpu_seconds, gb_seconds;
	uint64_t bytes_in, bytes_out;
	double *queue_ms;          /* every wait, for the percentiles */
	size_t nqueue, capqueue;
};

struct usage_sum {
	enum usage_by by;
	struct usage_row *rows;
	size_t nrows, caprows;
};

extern const char *const usage_outcomes[USAGE_NOUTCOME];

/* Add R to its group of S. 0 or -1 (ENOMEM). */
int usage_add(struct usage_sum *s, const struct usage_rec *r);

/* The rows, sorted by key, and a total, to F. */
void usage_render(struct usage_sum *s, enum usage_format fmt, FILE *f);

void usage_free(struct usage_sum *s);

/* The p-th percentile (0..100, nearest rank) of V (N values; sorted
 * in place); 0 for none. */
double usage_percentile(double *v, size_t n, double p);

/* `fnlauncher usage ...` (ARGV[0] is "usage"): the exit code. */
int usage_main(int argc, char **argv);

#endif
