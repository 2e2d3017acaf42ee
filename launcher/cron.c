/* cron.c — see cron.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cron.h"
#include "tz.h"
#include "units.h"

#define FIVE_YEARS (5 * 366 * 24 * 3600LL)

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
	"nov", "dec",
};
static const char *const day_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat",
};

struct field {
	const char *what;
	int lo, hi;
	const char *const *names;   /* names for lo.. (3 letters), or NULL */
	int nnames;
};

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL, 0 },
	{ "hour", 0, 23, NULL, 0 },
	{ "day of month", 1, 31, NULL, 0 },
	{ "month", 1, 12, month_names, 12 },
	{ "day of week", 0, 7, day_names, 7 },   /* 7 is Sunday too */
};

/* A number or a name of F at *P (advanced past it) into *V. */
static int
value(const struct field *f, const char **p, int *v)
{
	const char *s = *p;

	if (*s >= '0' && *s <= '9') {
		long n = 0;
		while (*s >= '0' && *s <= '9' && n < 1000)
			n = n * 10 + (*s++ - '0');
		if (*s >= '0' && *s <= '9')
			return -1;
		*v = (int)n;
	} else {
		int i;
		for (i = 0; i < f->nnames; i++)
			if (strncasecmp(s, f->names[i], 3) == 0)
				break;
		if (i == f->nnames)
			return -1;
		*v = f->lo + i;
		s += 3;
	}
	*p = s;
	return *v >= f->lo && *v <= f->hi ? 0 : -1;
}

/* One field's text (LEN bytes at S) into the bits *OUT; *ANY when it
 * starts with "*". */
static int
parse_field(const struct field *f, const char *s, size_t len, uint64_t *out,
    bool *any, char *err, size_t errlen)
{
	char buf[128];
	char *save = NULL;

	*out = 0;
	*any = false;
	if (len == 0 || len >= sizeof(buf)) {
		snprintf(err, errlen, "%s: empty or too long", f->what);
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (buf[0] == ',' || buf[len - 1] == ',' || strstr(buf, ",,") != NULL) {
		snprintf(err, errlen, "%s: \"%s\" has an empty list entry",
		    f->what, buf);
		return -1;
	}
	for (char *item = strtok_r(buf, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		const char *p = item;
		int a = f->lo, b = f->hi, step = 1;
		bool star = false;

		if (*p == '*') {
			star = true;
			p++;
		} else {
			if (value(f, &p, &a) < 0)
				goto bad;
			b = a;
			if (*p == '-') {
				p++;
				if (value(f, &p, &b) < 0 || b < a)
					goto bad;
			}
		}
		if (*p == '/') {
			p++;
			if (*p < '0' || *p > '9')
				goto bad;
			step = 0;
			while (*p >= '0' && *p <= '9' && step <= 1000)
				step = step * 10 + (*p++ - '0');
			if (step == 0 || step > f->hi)
				goto bad;
			if (!star && b == a)
				b = f->hi;      /* "5/15": 5, 20, 35, 50 */
		}
		if (*p != '\0')
			goto bad;
		if (star)
			*any = true;    /* Vixie cron: a field starting with '*' */
		for (int v = a; v <= b; v += step)
			*out |= 1ull << v;
		continue;
bad:
		snprintf(err, errlen, "%s: \"%s\" is not a value, range or "
		    "step between %d and %d", f->what, item, f->lo,
		    f->hi == 7 ? 6 : f->hi);
		return -1;
	}
	return 0;
}

static int
parse_macro(const char *s, struct cron *c, char *err, size_t errlen)
{
	static const struct {
		const char *name, *expr;
	} macros[] = {
		{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
		{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
		{ "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
		{ "@hourly", "0 * * * *" },
	};

	if (strncmp(s, "@every", 6) == 0 && (s[6] == ' ' || s[6] == '\t')) {
		const char *d = s + 7, *why = NULL;
		uint64_t ms;
		while (*d == ' ' || *d == '\t')
			d++;
		if (units_duration_ms(d, &ms, &why) < 0 || ms < 1000 ||
		    ms > 366ull * 24 * 3600 * 1000) {
			snprintf(err, errlen, "@every: \"%s\" is not a duration "
			    "between 1s and a year", d);
			return -1;
		}
		memset(c, 0, sizeof(*c));
		c->every_ms = ms;
		return 0;
	}
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
		if (strcmp(s, macros[i].name) == 0)
			return cron_parse(macros[i].expr, c, err, errlen);
	snprintf(err, errlen, "unknown \"%s\" (use @yearly, @monthly, @weekly, "
	    "@daily, @hourly or @every DURATION)", s);
	return -1;
}

int
cron_parse(const char *s, struct cron *c, char *err, size_t errlen)
{
	const char *p = s;
	uint64_t bits[5];
	bool any[5];
	int n = 0;

	memset(c, 0, sizeof(*c));
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '@')
		return parse_macro(p, c, err, errlen);
	while (*p != '\0') {
		const char *start = p;
		if (n == 5) {
			snprintf(err, errlen, "more than five fields");
			return -1;
		}
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (parse_field(&fields[n], start, (size_t)(p - start),
		    &bits[n], &any[n], err, errlen) < 0)
			return -1;
		n++;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	if (n != 5) {
		snprintf(err, errlen, "five fields are needed (minute hour "
		    "day-of-month month day-of-week), or @hourly, @daily, "
		    "@every 30s...");
		return -1;
	}
	c->minutes = bits[0];
	c->hours = (uint32_t)bits[1];
	c->mdays = (uint32_t)bits[2];
	c->months = (uint16_t)bits[3];
	/* 7 is Sunday */
	c->wdays = (uint8_t)((bits[4] & 0x7f) | (bits[4] >> 7 & 1));
	c->mday_any = any[2];
	c->wday_any = any[4];
	return 0;
}

static bool
day_ok(const struct cron *c, const struct tm *tm)
{
	bool md = c->mdays >> tm->tm_mday & 1, wd = c->wdays >> tm->tm_wday & 1;

	if (c->mday_any || c->wday_any)
		return md && wd;
	return md || wd;        /* both restricted: either (Vixie cron) */
}

bool
cron_matches(const struct cron *c, time_t t)
{
	struct tm tm;

	if (c->every_ms > 0 || gmtime_r(&t, &tm) == NULL)
		return false;
	return (c->minutes >> tm.tm_min & 1) && (c->hours >> tm.tm_hour & 1) &&
	    (c->months >> (tm.tm_mon + 1) & 1) && day_ok(c, &tm);
}

time_t
cron_next(const struct cron *c, time_t after)
{
	struct tm tm;
	time_t t;

	if (c->every_ms > 0)
		return after + (time_t)((c->every_ms + 999) / 1000);
	t = after - (after % 60 + 60) % 60 + 60;        /* the next minute */
	while (t - after <= FIVE_YEARS) {
		if (gmtime_r(&t, &tm) == NULL)
			return -1;
		if (!(c->months >> (tm.tm_mon + 1) & 1)) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = 0;
		} else if (!day_ok(c, &tm)) {
			tm.tm_mday++;
			tm.tm_hour = tm.tm_min = 0;
		} else if (!(c->hours >> tm.tm_hour & 1)) {
			tm.tm_hour++;
			tm.tm_min = 0;
		} else if (!(c->minutes >> tm.tm_min & 1)) {
			tm.tm_min++;
		} else {
			return t;
		}
		tm.tm_sec = 0;
		t = timegm(&tm);        /* normalizes the overflow */
	}
	return -1;
}

time_t
cron_next_tz(const struct cron *c, const struct tz *z, time_t after)
{
	time_t w;

	if (z == NULL || c->every_ms > 0)
		return cron_next(c, after);
	/* the next matching wall-clock time, then the UTC time showing it */
	w = cron_next(c, after + tz_offset(z, after));
	for (int tries = 0; tries < 8 && w != -1; tries++) {
		long before = tz_offset(z, w - 86400), later = tz_offset(z, w + 86400);
		long offs[2] = { before > later ? before : later,
		    before > later ? later : before };
		time_t best = -1;

		for (int i = 0; i < 2; i++) {
			time_t u = w - offs[i];
			if (tz_offset(z, u) == offs[i] && u > after &&
			    (best == -1 || u < best))
				best = u;
		}
		if (best == -1 && tz_offset(z, w - before) != before &&
		    tz_offset(z, w - later) != later && w - before > after)
			best = w - before;      /* skipped by the clocks */
		if (best != -1)
			return best;
		w = cron_next(c, w);
	}
	return -1;
}
