/* test_cron.c — schedule expressions: five-field cron with lists,
 * ranges, steps and names, the @ names and @every, Vixie's
 * day-of-month-or-day-of-week rule, the next time after a given one
 * (UTC), and what is refused. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cron.h"
#include "tz.h"
#include "unit.h"

/* 2026-12-06T10:02:30Z, a Sunday */
#define SUN_1002 1796551350
#define SAT_1200 1796472000     /* 2026-12-05T12:00:00Z */

static const struct {
	const char *expr;
	time_t after, want;
} nexts[] = {
	{ "*/5 * * * *", SUN_1002, 1796551500 },        /* 10:05 */
	{ "@yearly", SUN_1002, 1798761600 },            /* 2027-01-01 */
	{ "0 0 1 1 *", SUN_1002, 1798761600 },
	{ "30 8 * * mon-fri", SAT_1200, 1796632200 },   /* Mon 08:30 */
	{ "0 0 13 * fri", SUN_1002, 1796947200 },       /* Fri 11th: either */
	{ "0 0 * * 7", SUN_1002, 1797120000 },          /* next Sunday */
	{ "0 0 * * sun", SUN_1002, 1797120000 },
	{ "5/15 * * * *", SUN_1002, 1796551500 },       /* 10:05 */
	{ "20,50 10 * * *", SUN_1002, 1796552400 },     /* 10:20 */
	{ "0 12 * jan,JUL Sun", SUN_1002, 1798977600 }, /* Sun 2027-01-03 */
	{ "@hourly", SUN_1002, 1796554800 },            /* 11:00 */
	{ "@every 30s", SUN_1002, SUN_1002 + 30 },
	{ "@every 1500ms", SUN_1002, SUN_1002 + 2 },
	{ "0 0 30 2 *", SUN_1002, -1 },                 /* never */
	{ "* * * * *", SUN_1002 - 30, SUN_1002 - 30 + 60 },
};

START_TEST(test_next)
{
	struct cron c;
	char err[160];

	ck_assert_msg(cron_parse(nexts[_i].expr, &c, err, sizeof(err)) == 0,
	    "%s: %s", nexts[_i].expr, err);
	ck_assert_msg(cron_next(&c, nexts[_i].after) == nexts[_i].want,
	    "%s after %lld: %lld, want %lld", nexts[_i].expr,
	    (long long)nexts[_i].after,
	    (long long)cron_next(&c, nexts[_i].after),
	    (long long)nexts[_i].want);
	if (nexts[_i].want > 0 && c.every_ms == 0)
		ck_assert(cron_matches(&c, nexts[_i].want));
}
END_TEST

static const struct {
	const char *expr, *want;
} bad[] = {
	{ "", "five fields" },
	{ "* * * *", "five fields" },
	{ "* * * * * *", "more than five fields" },
	{ "60 * * * *", "minute: \"60\"" },
	{ "*/0 * * * *", "minute: \"*/0\"" },
	{ "5-1 * * * *", "minute: \"5-1\"" },
	{ "* 24 * * *", "hour: \"24\"" },
	{ "* * 0 * *", "day of month: \"0\"" },
	{ "* * * 13 *", "month: \"13\"" },
	{ "* * * foo *", "month: \"foo\"" },
	{ "* * * * 8", "day of week: \"8\"" },
	{ "a b c d e", "minute: \"a\"" },
	{ "1,,2 * * * *", "" },
	{ "@reboot", "unknown \"@reboot\"" },
	{ "@every 0s", "@every" },
	{ "@every", "unknown" },
	{ "@every 400d", "@every" },
	{ "1-2-3 * * * *", "minute" },
};

/* schedule_tz: wall-clock times of a zone, its clock changes (a
 * skipped time runs as late as the clocks jumped, a repeated one the
 * first time), and past the TZif file's transitions (2037) its POSIX
 * rule. Expected values from Python's zoneinfo. */
static const struct {
	const char *zone, *expr;
	time_t after, want;
} tznexts[] = {
	{ "America/New_York", "0 9 * * *", SUN_1002, 1796565600 },
	{ "Europe/Paris", "30 2 * * *", 1774699200, 1774747800 }, /* gap */
	{ "Europe/Paris", "30 2 * * *", 1792843200, 1792888200 }, /* twice */
	{ "Europe/Paris", "0 12 1 7 *", 2208988800, 2224749600 }, /* 2040 */
	{ "UTC", "*/5 * * * *", SUN_1002, 1796551500 },
	{ "Asia/Kolkata", "0 0 * * *", SUN_1002, 1796581800 },   /* +05:30 */
};

START_TEST(test_next_tz)
{
	struct cron c;
	struct tz *z;
	char err[200];
	time_t got;

	z = tz_load(tznexts[_i].zone, err, sizeof(err));
	ck_assert_msg(z != NULL, "%s: %s", tznexts[_i].zone, err);
	ck_assert(cron_parse(tznexts[_i].expr, &c, err, sizeof(err)) == 0);
	got = cron_next_tz(&c, z, tznexts[_i].after);
	ck_assert_msg(got == tznexts[_i].want, "%s in %s after %lld: %lld, "
	    "want %lld", tznexts[_i].expr, tznexts[_i].zone,
	    (long long)tznexts[_i].after, (long long)got,
	    (long long)tznexts[_i].want);
	tz_free(z);
}
END_TEST

START_TEST(test_tz_offsets)
{
	char err[200];
	struct tz *z = tz_load("Europe/Paris", err, sizeof(err));

	ck_assert_ptr_nonnull(z);
	ck_assert_int_eq(tz_offset(z, SUN_1002), 3600);
	ck_assert_int_eq(tz_offset(z, 1774747800), 7200);       /* 2026-03-29 */
	ck_assert_int_eq(tz_offset(z, 2368051200), 3600);       /* 2045-01 */
	ck_assert_int_eq(tz_offset(z, 2224749600), 7200);       /* 2040-07 */
	tz_free(z);
	z = tz_load("America/Sao_Paulo", err, sizeof(err));
	ck_assert_ptr_nonnull(z);
	ck_assert_int_eq(tz_offset(z, 1906502400), -10800);     /* no DST */
	tz_free(z);
	ck_assert_ptr_null(tz_load("Mars/Olympus_Mons", err, sizeof(err)));
	ck_assert_msg(strstr(err, "no time zone") != NULL, "%s", err);
	ck_assert_ptr_null(tz_load("../../etc/passwd", err, sizeof(err)));
	ck_assert_msg(strstr(err, "time zone name") != NULL, "%s", err);
	ck_assert_ptr_null(tz_load("/etc/localtime", err, sizeof(err)));
	ck_assert_int_eq(tz_check("Europe/Berlin", err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_bad)
{
	struct cron c;
	char err[160] = "";

	ck_assert_msg(cron_parse(bad[_i].expr, &c, err, sizeof(err)) == -1,
	    "took \"%s\"", bad[_i].expr);
	ck_assert_msg(strstr(err, bad[_i].want) != NULL, "\"%s\": %s",
	    bad[_i].expr, err);
}
END_TEST

/* Every minute of two days against a brute-force match: the next time
 * is the first minute that matches. */
START_TEST(test_next_is_first_match)
{
	static const char *const exprs[] = { "*/7 3-5,22 * * *",
	    "0 0 13 * fri", "15 * 1-7 * mon", "59 23 31 12 *" };
	struct cron c;
	char err[160];

	for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
		ck_assert(cron_parse(exprs[e], &c, err, sizeof(err)) == 0);
		for (time_t t = SUN_1002; t < SUN_1002 + 2 * 86400; t += 3571) {
			time_t n = cron_next(&c, t), m = t - t % 60 + 60;
			while (m < n && !cron_matches(&c, m))
				m += 60;
			ck_assert_msg(n > t && m == n && cron_matches(&c, n),
			    "%s after %lld: %lld, first match %lld", exprs[e],
			    (long long)t, (long long)n, (long long)m);
		}
	}
}
END_TEST

Suite *
suite_cron(void)
{
	Suite *s = suite_create("cron");
	TCase *tc = tcase_create("cron");

	tcase_add_loop_test(tc, test_next, 0, sizeof(nexts) / sizeof(nexts[0]));
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_next_is_first_match);
	tcase_add_loop_test(tc, test_next_tz, 0,
	    sizeof(tznexts) / sizeof(tznexts[0]));
	tcase_add_test(tc, test_tz_offsets);
	suite_add_tcase(s, tc);
	return s;
}
