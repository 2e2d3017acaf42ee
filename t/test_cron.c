/* test_cron.c — schedule expressions: five-field cron with lists,
 * ranges, steps and names, the @ names and @every, Vixie's
 * day-of-month-or-day-of-week rule, the next time after a given one
 * (UTC), and what is refused. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cron.h"
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
	suite_add_tcase(s, tc);
	return s;
}
