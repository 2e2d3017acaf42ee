/* usage.c — see usage.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "units.h"
#include "usage.h"

/* 2^64: a larger count (or one that rounds to it) does not fit a
 * uint64_t, and converting it would be undefined. */
#define TWO_TO_64 18446744073709551616.0

const char *const usage_outcomes[USAGE_NOUTCOME] = {
	"ok", "error", "timeout", "crashed", "refused", "rejected",
	"client_abort", "exec_failed",
};

/* ---- one record ---------------------------------------------------------- */

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* A JSON string at P (at its opening quote) into OUT (SIZE bytes, cut
 * if longer; escapes reduced, \u00XX to its byte, other \u to '?').
 * Returns the byte after the closing quote, or NULL. */
static const char *
json_string(const char *p, const char *end, char *out, size_t size)
{
	size_t o = 0;

	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end && *p != '"'; p++) {
		char c = *p;
		if ((unsigned char)c < 0x20)
			return NULL;
		if (c == '\\') {
			if (++p >= end)
				return NULL;
			switch (*p) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case '"': case '\\': case '/': c = *p; break;
			case 'u': {
				char hex[5];
				if (end - p < 5)
					return NULL;
				memcpy(hex, p + 1, 4);
				hex[4] = '\0';
				unsigned long v = strtoul(hex, NULL, 16);
				c = v < 0x80 ? (char)v : '?';
				p += 4;
				break;
			}
			default:
				return NULL;
			}
		}
		if (o + 1 < size)
			out[o++] = c;
	}
	if (p >= end)
		return NULL;
	if (size > 0)
		out[o] = '\0';
	return p + 1;
}

/* Any JSON scalar at P: a string into STR (if STR), a number into *NUM
 * (NAN for null, true and false). Returns the byte after it, or NULL. */
static const char *
json_scalar(const char *p, const char *end, char *str, size_t size,
    double *num)
{
	char tmp[8];

	*num = NAN;
	if (p < end && *p == '"')
		return json_string(p, end, str ? str : tmp, str ? size :
		    sizeof(tmp));
	if (str != NULL && size > 0)
		str[0] = '\0';
	for (const char *w = "null\0true\0false\0"; *w; w += strlen(w) + 1)
		if ((size_t)(end - p) >= strlen(w) &&
		    strncmp(p, w, strlen(w)) == 0)
			return p + strlen(w);
	char buf[64];
	size_t n = 0;
	while (p + n < end && n < sizeof(buf) - 1 &&
	    strchr("0123456789+-.eE", p[n]) != NULL)
		n++;
	if (n == 0)
		return NULL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	char *e;
	*num = strtod(buf, &e);
	if (*e != '\0')
		return NULL;
	return p + n;
}

int
usage_parse_line(const char *line, size_t len, struct usage_rec *r)
{
	const char *p = line, *end = line + len;
	double rss = NAN, peak = NAN, cu = 0, cs = 0;

	memset(r, 0, sizeof(*r));
	p = skip_ws(p, end);
	if (p >= end || *p++ != '{')
		return -1;
	for (bool first = true;; first = false) {
		char key[32], str[160];
		double num;

		p = skip_ws(p, end);
		if (first && p < end && *p == '}')
			break;
		if ((p = json_string(p, end, key, sizeof(key))) == NULL)
			return -1;
		p = skip_ws(p, end);
		if (p >= end || *p++ != ':')
			return -1;
		p = skip_ws(p, end);
		if ((p = json_scalar(p, end, str, sizeof(str), &num)) == NULL)
			return -1;
		if (strcmp(key, "ts") == 0)
			snprintf(r->ts, sizeof(r->ts), "%s", str);
		else if (strcmp(key, "tenant") == 0)
			snprintf(r->tenant, sizeof(r->tenant), "%s", str);
		else if (strcmp(key, "function") == 0)
			snprintf(r->function, sizeof(r->function), "%s", str);
		else if (strcmp(key, "outcome") == 0)
			snprintf(r->outcome, sizeof(r->outcome), "%s", str);
		else if (strcmp(key, "duration_ms") == 0 && !isnan(num))
			r->duration_ms = num;
		else if (strcmp(key, "queue_ms") == 0 && !isnan(num))
			r->queue_ms = num;
		else if (strcmp(key, "cpu_user_ms") == 0 && !isnan(num))
			cu = num;
		else if (strcmp(key, "cpu_sys_ms") == 0 && !isnan(num))
			cs = num;
		else if (strcmp(key, "max_rss_kb") == 0)
			rss = num;
		else if (strcmp(key, "memory_peak_kb") == 0)
			peak = num;
		else if (strcmp(key, "bytes_in") == 0 && num >= 0 &&
		    num < TWO_TO_64)
			r->bytes_in = (uint64_t)num;
		else if (strcmp(key, "bytes_out") == 0 && num >= 0 &&
		    num < TWO_TO_64)
			r->bytes_out = (uint64_t)num;
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == '}')
			break;
		return -1;
	}
	if (r->ts[0] == '\0')
		return -1;
	r->cpu_ms = cu + cs;
	r->memory_kb = !isnan(peak) && peak > 0 ? peak : !isnan(rss) &&
	    rss > 0 ? rss : 0;
	return 0;
}

/* ---- sums ---------------------------------------------------------------- */

static void
key_of(const struct usage_sum *s, const struct usage_rec *r, char *buf,
    size_t size)
{
	switch (s->by) {
	case USAGE_BY_TENANT:
		snprintf(buf, size, "%s", r->tenant[0] ? r->tenant : "-");
		break;
	case USAGE_BY_FUNCTION:
		if (r->tenant[0] != '\0')
			snprintf(buf, size, "~%s/%s", r->tenant,
			    r->function[0] ? r->function : "-");
		else
			snprintf(buf, size, "%s",
			    r->function[0] ? r->function : "-");
		break;
	case USAGE_BY_DAY:
		snprintf(buf, size, "%.10s", r->ts);
		break;
	}
}

static int
row_add(struct usage_row *row, const struct usage_rec *r)
{
	size_t i;

	if (row->nqueue == row->capqueue) {
		size_t cap = row->capqueue ? row->capqueue * 2 : 64;
		double *v = realloc(row->queue_ms, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		row->queue_ms = v;
		row->capqueue = cap;
	}
	row->queue_ms[row->nqueue++] = r->queue_ms;
	row->invocations++;
	for (i = 0; i < USAGE_NOUTCOME; i++)
		if (strcmp(r->outcome, usage_outcomes[i]) == 0)
			row->outcome[i]++;
	row->cpu_seconds += r->cpu_ms / 1000.0;
	/* GB-seconds: memory in GiB (KiB / 2^20) times the duration */
	row->gb_seconds += r->memory_kb / 1048576.0 * (r->duration_ms / 1000.0);
	row->bytes_in += r->bytes_in;
	row->bytes_out += r->bytes_out;
	return 0;
}

int
usage_add(struct usage_sum *s, const struct usage_rec *r)
{
	char key[160];
	size_t i;

	key_of(s, r, key, sizeof(key));
	for (i = 0; i < s->nrows && strcmp(s->rows[i].key, key) != 0; i++)
		;
	if (i == s->nrows) {
		if (s->nrows == s->caprows) {
			size_t cap = s->caprows ? s->caprows * 2 : 16;
			struct usage_row *v = realloc(s->rows, cap * sizeof(*v));
			if (v == NULL)
				return -1;
			s->rows = v;
			s->caprows = cap;
		}
		memset(&s->rows[i], 0, sizeof(s->rows[i]));
		snprintf(s->rows[i].key, sizeof(s->rows[i].key), "%s", key);
		s->nrows++;
	}
	return row_add(&s->rows[i], r);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
usage_percentile(double *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	double want = p / 100.0 * (double)n;

	rank = (size_t)want;
	if ((double)rank < want)
		rank++;                 /* nearest rank: the ceiling */
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

static int
cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct usage_row *)a)->key,
	    ((const struct usage_row *)b)->key);
}

/* The total of every row (its queue waits too). */
static int
total_of(const struct usage_sum *s, struct usage_row *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->key, sizeof(t->key), "total");
	for (size_t i = 0; i < s->nrows; i++) {
		const struct usage_row *r = &s->rows[i];
		t->invocations += r->invocations;
		for (size_t k = 0; k < USAGE_NOUTCOME; k++)
			t->outcome[k] += r->outcome[k];
		t->cpu_seconds += r->cpu_seconds;
		t->gb_seconds += r->gb_seconds;
		t->bytes_in += r->bytes_in;
		t->bytes_out += r->bytes_out;
		if (r->nqueue > 0) {
			double *v = realloc(t->queue_ms, (t->nqueue + r->nqueue) *
			    sizeof(*v));
			if (v == NULL)
				return -1;
			memcpy(v + t->nqueue, r->queue_ms, r->nqueue * sizeof(*v));
			t->queue_ms = v;
			t->nqueue += r->nqueue;
		}
	}
	return 0;
}

static const char *const by_name[] = { "tenant", "function", "day" };

static void
json_key(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
render_row(struct usage_row *r, enum usage_format fmt, enum usage_by by,
    FILE *f, bool last)
{
	double p50 = usage_percentile(r->queue_ms, r->nqueue, 50);
	double p99 = usage_percentile(r->queue_ms, r->nqueue, 99);
	size_t k;

	switch (fmt) {
	case USAGE_TABLE:
		fprintf(f, "%-24s %11llu", r->key,
		    (unsigned long long)r->invocations);
		for (k = 0; k < USAGE_NOUTCOME; k++)
			fprintf(f, " %*llu", k == 6 ? 12 : k == 7 ? 11 : 8,
			    (unsigned long long)r->outcome[k]);
		fprintf(f, " %12.3f %12.6f %12llu %12llu %10.1f %10.1f\n",
		    r->cpu_seconds, r->gb_seconds,
		    (unsigned long long)r->bytes_in,
		    (unsigned long long)r->bytes_out, p50, p99);
		break;
	case USAGE_CSV:
		fprintf(f, "%s,%llu", r->key, (unsigned long long)r->invocations);
		for (k = 0; k < USAGE_NOUTCOME; k++)
			fprintf(f, ",%llu", (unsigned long long)r->outcome[k]);
		fprintf(f, ",%.3f,%.6f,%llu,%llu,%.3f,%.3f\n", r->cpu_seconds,
		    r->gb_seconds, (unsigned long long)r->bytes_in,
		    (unsigned long long)r->bytes_out, p50, p99);
		break;
	case USAGE_JSON:
		fprintf(f, "  {\"%s\":", by_name[by]);
		json_key(f, r->key);
		fprintf(f, ",\"invocations\":%llu,\"outcomes\":{",
		    (unsigned long long)r->invocations);
		for (k = 0; k < USAGE_NOUTCOME; k++)
			fprintf(f, "%s\"%s\":%llu", k ? "," : "",
			    usage_outcomes[k], (unsigned long long)r->outcome[k]);
		fprintf(f, "},\"cpu_seconds\":%.3f,\"gb_seconds\":%.6f,"
		    "\"bytes_in\":%llu,\"bytes_out\":%llu,"
		    "\"queue_ms_p50\":%.3f,\"queue_ms_p99\":%.3f}%s\n",
		    r->cpu_seconds, r->gb_seconds,
		    (unsigned long long)r->bytes_in,
		    (unsigned long long)r->bytes_out, p50, p99,
		    last ? "" : ",");
		break;
	}
}

void
usage_render(struct usage_sum *s, enum usage_format fmt, FILE *f)
{
	struct usage_row total;
	size_t k;

	qsort(s->rows, s->nrows, sizeof(*s->rows), cmp_row);
	if (total_of(s, &total) < 0)
		total.nqueue = 0;
	switch (fmt) {
	case USAGE_TABLE:
		fprintf(f, "%-24s %11s", by_name[s->by], "invocations");
		for (k = 0; k < USAGE_NOUTCOME; k++)
			fprintf(f, " %*s", k == 6 ? 12 : k == 7 ? 11 : 8,
			    usage_outcomes[k]);
		fprintf(f, " %12s %12s %12s %12s %10s %10s\n", "cpu_s",
		    "gb_s", "bytes_in", "bytes_out", "queue_p50", "queue_p99");
		break;
	case USAGE_CSV:
		fprintf(f, "%s,invocations", by_name[s->by]);
		for (k = 0; k < USAGE_NOUTCOME; k++)
			fprintf(f, ",%s", usage_outcomes[k]);
		fprintf(f, ",cpu_seconds,gb_seconds,bytes_in,bytes_out,"
		    "queue_ms_p50,queue_ms_p99\n");
		break;
	case USAGE_JSON:
		fprintf(f, "{\"by\":\"%s\",\"rows\":[\n", by_name[s->by]);
		break;
	}
	for (size_t i = 0; i < s->nrows; i++)
		render_row(&s->rows[i], fmt, s->by, f, i + 1 == s->nrows);
	if (fmt == USAGE_JSON) {
		fprintf(f, "],\"total\":\n");
		render_row(&total, fmt, s->by, f, true);
		fprintf(f, "}\n");
	} else {
		render_row(&total, fmt, s->by, f, true);
	}
	free(total.queue_ms);
}

void
usage_free(struct usage_sum *s)
{
	for (size_t i = 0; i < s->nrows; i++)
		free(s->rows[i].queue_ms);
	free(s->rows);
	s->rows = NULL;
	s->nrows = s->caprows = 0;
}

/* ---- the command --------------------------------------------------------- */

static void
usage_help(FILE *f)
{
	fprintf(f,
	    "usage: fnlauncher usage [--by tenant|function|day] [--since T] [--until T]\n"
	    "                        [--format table|json|csv] FILE...\n"
	    "  sums invocation records: invocations by outcome, CPU-seconds,\n"
	    "  GB-seconds (memory peak, else max RSS, times duration), bytes in\n"
	    "  and out, queue wait p50/p99. FILE may be - (stdin).\n"
	    "  T: 2026-12-06, 2026-12-06T10:00[:00][Z], or a duration back from\n"
	    "  now (30m, 24h, 7d). --since is inclusive, --until exclusive.\n");
}

/* T as a timestamp prefix comparable with a record's ts, into OUT. */
static int
parse_time(const char *t, char *out, size_t size)
{
	size_t n = strlen(t);
	uint64_t ms;

	if (n >= 2 && n < 12 && t[n - 1] == 'd' &&
	    strspn(t, "0123456789") == n - 1) {
		ms = strtoull(t, NULL, 10) * 86400000ull;
	} else if (n >= 10 && t[4] == '-' && t[7] == '-') {
		/* a date or date-time: compared as text with ts */
		size_t k = n;
		if (t[k - 1] == 'Z')
			k--;
		if (k >= size)
			return -1;
		memcpy(out, t, k);
		out[k] = '\0';
		return 0;
	} else if (units_duration_ms(t, &ms, NULL) < 0) {
		return -1;
	}
	time_t at = time(NULL) - (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&at, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
	return 0;
}

static int
read_records(const char *file, struct usage_sum *s, const char *since,
    const char *until, unsigned long *bad)
{
	FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;

	if (f == NULL) {
		fprintf(stderr, "fnlauncher: usage: %s: %s\n", file,
		    strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		struct usage_rec r;
		lineno++;
		if (usage_parse_line(line, (size_t)n, &r) < 0) {
			if (n > 1 && ++*bad <= 5)
				fprintf(stderr, "fnlauncher: usage: %s:%lu: not "
				    "an invocation record: skipped\n", file,
				    lineno);
			continue;
		}
		if ((since[0] && strncmp(r.ts, since, strlen(since)) < 0) ||
		    (until[0] && strncmp(r.ts, until, strlen(until)) >= 0))
			continue;
		if (usage_add(s, &r) < 0) {
			fprintf(stderr, "fnlauncher: usage: out of memory\n");
			free(line);
			if (f != stdin)
				fclose(f);
			return -1;
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return 0;
}

int
usage_main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct usage_sum s = { .by = USAGE_BY_TENANT };
	enum usage_format fmt = USAGE_TABLE;
	char since[40] = "", until[40] = "";
	unsigned long bad = 0;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (strcmp(optarg, "tenant") == 0)
				s.by = USAGE_BY_TENANT;
			else if (strcmp(optarg, "function") == 0)
				s.by = USAGE_BY_FUNCTION;
			else if (strcmp(optarg, "day") == 0)
				s.by = USAGE_BY_DAY;
			else {
				fprintf(stderr, "fnlauncher: usage: --by must "
				    "be tenant, function or day\n");
				return 2;
			}
			break;
		case 'f':
			if (strcmp(optarg, "table") == 0)
				fmt = USAGE_TABLE;
			else if (strcmp(optarg, "json") == 0)
				fmt = USAGE_JSON;
			else if (strcmp(optarg, "csv") == 0)
				fmt = USAGE_CSV;
			else {
				fprintf(stderr, "fnlauncher: usage: --format "
				    "must be table, json or csv\n");
				return 2;
			}
			break;
		case 's': case 'u':
			if (parse_time(optarg, c == 's' ? since : until,
			    sizeof(since)) < 0) {
				fprintf(stderr, "fnlauncher: usage: --%s %s: "
				    "not a date, time or duration\n",
				    c == 's' ? "since" : "until", optarg);
				return 2;
			}
			break;
		case 'h':
			usage_help(stdout);
			return 0;
		default:
			usage_help(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "fnlauncher: usage: no record file given\n");
		usage_help(stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++)
		if (read_records(argv[i], &s, since, until, &bad) < 0)
			rc = 1;
	if (bad > 5)
		fprintf(stderr, "fnlauncher: usage: %lu lines were not "
		    "invocation records\n", bad);
	usage_render(&s, fmt, stdout);
	usage_free(&s);
	return rc;
}
