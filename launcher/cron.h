/* cron.h — schedule expressions (issue 14's `schedule:`): five-field
 * cron ("*\/5 * * * *": minute hour day-of-month month day-of-week, with
 * lists, ranges, steps and the names jan-dec and sun-sat), the names
 * @yearly @annually @monthly @weekly @daily @midnight @hourly, and
 * "@every DURATION" (at least 1s). Day of month and day of week follow
 * Vixie cron: when both are restricted, a day matching either runs.
 *
 * Pure: a string in, a struct out; the next time after a given one, in
 * UTC or in a time zone (tz.h). */
#ifndef FN_CRON_H
#define FN_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct cron {
	uint64_t minutes;         /* bit m: minute m (0-59) */
	uint32_t hours;           /* bit h: hour h (0-23) */
	uint32_t mdays;           /* bit d: day of month d (1-31) */
	uint16_t months;          /* bit m: month m (1-12) */
	uint8_t wdays;            /* bit d: day of week d (0-6, Sunday 0) */
	bool mday_any, wday_any;  /* the field was "*" (or a step of it) */
	uint64_t every_ms;        /* "@every": a period instead; 0 otherwise */
};

/* Parse S into *C. 0, or -1 with the problem in ERR (ERRLEN bytes). */
int cron_parse(const char *s, struct cron *c, char *err, size_t errlen);

/* The first time strictly after AFTER (seconds since the epoch) that C
 * runs, in UTC; for @every, AFTER plus the period (rounded up to a
 * second). -1 when there is none within 5 years (e.g. "0 0 30 2 *"). */
time_t cron_next(const struct cron *c, time_t after);

struct tz;

/* As cron_next, with the fields read as wall-clock times of zone Z
 * (tz.h; NULL: UTC). A time the clocks skip (spring forward) runs as
 * late as the clocks jumped (02:30 runs at 03:30); a time they repeat
 * (fall back) runs once, the first time. */
time_t cron_next_tz(const struct cron *c, const struct tz *z, time_t after);

/* Does C run in the minute of T (UTC)? (Not for @every.) */
bool cron_matches(const struct cron *c, time_t t);

#endif
