/* tz.c — see tz.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tz.h"

#define TZ_DIR "/usr/share/zoneinfo/"
#define TZ_FILE_MAX (256 * 1024)

/* A POSIX TZ rule's date: Jn, n, or Mm.w.d, then a time of day. */
struct tzdate {
	char kind;                /* 'J', 'N' or 'M' */
	int n, m, w, d;
	long secs;                /* local time of day of the change */
};

struct tz {
	int64_t *when;            /* transitions, ascending */
	unsigned char *type;      /* the type from each on */
	long *utoff;              /* per type */
	size_t nwhen, ntypes;
	long first_off;           /* before the first transition */
	/* the footer: */
	bool rule;                /* a POSIX TZ string was read */
	long std_off, dst_off;    /* seconds east */
	bool has_dst;
	struct tzdate start, end;
};

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* [+-]hh[:mm[:ss]] at *P; false when there is none. */
static bool
posix_time(const char **p, long *out)
{
	const char *s = *p;
	long sign = 1, v[3] = { 0, 0, 0 };
	int i;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (!isdigit((unsigned char)*s))
		return false;
	for (i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s) && v[i] < 1000)
			v[i] = v[i] * 10 + (*s++ - '0');
		if (*s != ':')
			break;
		s++;
	}
	*out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
	*p = s;
	return true;
}

static bool
posix_name(const char **p)
{
	const char *s = *p;

	if (*s == '<') {
		while (*s != '\0' && *s != '>')
			s++;
		if (*s++ != '>')
			return false;
	} else {
		while (isalpha((unsigned char)*s))
			s++;
		if (s - *p < 3)
			return false;
	}
	*p = s;
	return true;
}

static bool
posix_date(const char **p, struct tzdate *d)
{
	const char *s = *p;
	char *end;

	d->secs = 2 * 3600;
	if (*s == 'M') {
		d->kind = 'M';
		d->m = (int)strtol(s + 1, &end, 10);
		if (*end != '.')
			return false;
		d->w = (int)strtol(end + 1, &end, 10);
		if (*end != '.')
			return false;
		d->d = (int)strtol(end + 1, &end, 10);
		if (d->m < 1 || d->m > 12 || d->w < 1 || d->w > 5 || d->d < 0 ||
		    d->d > 6)
			return false;
	} else {
		d->kind = *s == 'J' ? 'J' : 'N';
		if (*s == 'J')
			s++;
		if (!isdigit((unsigned char)*s))
			return false;
		d->n = (int)strtol(s, &end, 10);
		if (d->n > 365)
			return false;
	}
	s = end;
	if (*s == '/') {
		s++;
		if (!posix_time(&s, &d->secs))
			return false;
	}
	*p = s;
	return true;
}

/* The footer "STD offset [DST [offset] [,start[/time],end[/time]]]". */
static bool
posix_rule(struct tz *z, const char *s)
{
	long off;

	if (!posix_name(&s) || !posix_time(&s, &off))
		return false;
	z->std_off = -off;
	z->dst_off = z->std_off + 3600;
	if (*s == '\0')
		return true;
	if (!posix_name(&s))
		return false;
	if (*s != ',' && *s != '\0') {
		if (!posix_time(&s, &off))
			return false;
		z->dst_off = -off;
	}
	if (*s != ',' || !posix_date((s++, &s), &z->start) || *s++ != ',' ||
	    !posix_date(&s, &z->end) || *s != '\0')
		return false;
	z->has_dst = true;
	return true;
}

static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local midnight of D's day in year Y, as days since the epoch. */
static int64_t
rule_day(const struct tzdate *d, int64_t y)
{
	static const int mlen[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int64_t first, day;
	int len, wd;

	if (d->kind == 'J')     /* 1..365, February 29 never counted */
		return days_from_civil(y, 1, 1) + d->n - 1 +
		    (leap(y) && d->n >= 60);
	if (d->kind == 'N')     /* 0..365 */
		return days_from_civil(y, 1, 1) + d->n;
	first = days_from_civil(y, d->m, 1);
	wd = (int)(((first + 4) % 7 + 7) % 7);  /* 1970-01-01: Thursday */
	day = 1 + (d->d - wd + 7) % 7 + 7 * (d->w - 1);
	len = mlen[d->m - 1] + (d->m == 2 && leap(y));
	while (day > len)
		day -= 7;
	return first + day - 1;
}

static long
rule_offset(const struct tz *z, time_t t)
{
	int64_t days = (int64_t)t / 86400 - (t % 86400 < 0), y;
	int64_t start, end;

	if (!z->has_dst)
		return z->std_off;
	/* the year of T in standard time */
	y = 1970 + (days + z->std_off / 86400) * 400 / 146097;
	while (days_from_civil(y + 1, 1, 1) * 86400 <= (int64_t)t + z->std_off)
		y++;
	while (days_from_civil(y, 1, 1) * 86400 > (int64_t)t + z->std_off)
		y--;
	start = rule_day(&z->start, y) * 86400 + z->start.secs - z->std_off;
	end = rule_day(&z->end, y) * 86400 + z->end.secs - z->dst_off;
	if (start < end)
		return t >= start && t < end ? z->dst_off : z->std_off;
	return t >= end && t < start ? z->std_off : z->dst_off;
}

long
tz_offset(const struct tz *z, time_t t)
{
	size_t lo = 0, hi;

	if (z->nwhen == 0 || t < z->when[0])
		return z->nwhen == 0 && z->rule ? rule_offset(z, t) :
		    z->first_off;
	if (t >= z->when[z->nwhen - 1] && z->rule)
		return rule_offset(z, t);
	hi = z->nwhen;
	while (hi - lo > 1) {   /* the last transition at or before T */
		size_t mid = (lo + hi) / 2;
		if (z->when[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->utoff[z->type[lo]];
}

static bool
valid_name(const char *name)
{
	if (*name == '\0' || *name == '/' || strlen(name) > 128 ||
	    strstr(name, "..") != NULL)
		return false;
	for (; *name != '\0'; name++)
		if (!isalnum((unsigned char)*name) && strchr("/_+-", *name) == NULL)
			return false;
	return true;
}

/* The v2+ body of the TZif bytes B (LEN) into Z. */
static bool
parse(struct tz *z, const unsigned char *b, size_t len)
{
	size_t pos, cnt[6], i, need;
	const unsigned char *p;

	if (len < 44 || memcmp(b, "TZif", 4) != 0 || b[4] < '2')
		return false;
	for (i = 0; i < 6; i++)
		cnt[i] = be32(b + 20 + 4 * i);
	/* skip the 32-bit block */
	pos = 44 + cnt[3] * 5 + cnt[4] * 6 + cnt[5] + cnt[2] * 8 + cnt[1] +
	    cnt[0];
	if (pos + 44 > len || memcmp(b + pos, "TZif", 4) != 0)
		return false;
	for (i = 0; i < 6; i++)
		cnt[i] = be32(b + pos + 20 + 4 * i);
	pos += 44;
	need = cnt[3] * 9 + cnt[4] * 6 + cnt[5] + cnt[2] * 12 + cnt[1] + cnt[0];
	if (cnt[4] == 0 || cnt[4] > 256 || cnt[3] > 100000 || pos + need > len)
		return false;
	z->nwhen = cnt[3];
	z->ntypes = cnt[4];
	z->when = calloc(z->nwhen + 1, sizeof(*z->when));
	z->type = calloc(z->nwhen + 1, 1);
	z->utoff = calloc(z->ntypes, sizeof(*z->utoff));
	if (z->when == NULL || z->type == NULL || z->utoff == NULL)
		return false;
	p = b + pos;
	for (i = 0; i < z->nwhen; i++)
		z->when[i] = be64(p + 8 * i);
	p += 8 * z->nwhen;
	for (i = 0; i < z->nwhen; i++)
		if ((z->type[i] = p[i]) >= z->ntypes)
			return false;
	p += z->nwhen;
	for (i = 0; i < z->ntypes; i++)
		z->utoff[i] = (long)(int32_t)be32(p + 6 * i);
	z->first_off = z->utoff[0];
	pos += need;
	/* the footer: "\nTZ\n" */
	if (pos < len && b[pos] == '\n') {
		const unsigned char *nl = memchr(b + pos + 1, '\n', len - pos - 1);
		char rule[128];
		size_t rl = nl ? (size_t)(nl - b - pos - 1) : 0;
		if (nl != NULL && rl > 0 && rl < sizeof(rule)) {
			memcpy(rule, b + pos + 1, rl);
			rule[rl] = '\0';
			z->rule = posix_rule(z, rule);
		}
	}
	return true;
}

struct tz *
tz_load(const char *name, char *why, size_t size)
{
	char path[256];
	unsigned char *b = NULL;
	struct tz *z = NULL;
	ssize_t n;
	size_t len = 0;
	int fd;

	if (!valid_name(name)) {
		snprintf(why, size, "must be a time zone name like Europe/Paris");
		return NULL;
	}
	snprintf(path, sizeof(path), TZ_DIR "%s", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, size, "no time zone %s (%s): %s", name, path,
		    strerror(errno));
		return NULL;
	}
	if ((b = malloc(TZ_FILE_MAX)) == NULL ||
	    (z = calloc(1, sizeof(*z))) == NULL)
		goto fail;
	while (len < TZ_FILE_MAX &&
	    (n = read(fd, b + len, TZ_FILE_MAX - len)) > 0)
		len += (size_t)n;
	if (!parse(z, b, len)) {
		snprintf(why, size, "%s is not a TZif file of version 2 or later",
		    path);
		goto fail;
	}
	close(fd);
	free(b);
	return z;
fail:
	if (errno == ENOMEM)
		snprintf(why, size, "out of memory");
	close(fd);
	free(b);
	tz_free(z);
	return NULL;
}

void
tz_free(struct tz *z)
{
	if (z == NULL)
		return;
	free(z->when);
	free(z->type);
	free(z->utoff);
	free(z);
}

int
tz_check(const char *name, char *why, size_t size)
{
	struct tz *z = tz_load(name, why, size);

	tz_free(z);
	return z != NULL ? 0 : -1;
}
