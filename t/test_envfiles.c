/* test_envfiles.c — env_files' NAME=value lines (envfiles.c), and their
 * place under a function's env:. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envfiles.h"
#include "manifest_schema.h"
#include "unit.h"

START_TEST(test_parse)
{
	static const char text[] =
	    "# secrets\n\nDB_PASSWORD=s3cr=t with spaces \r\nTOKEN=\nX=1";
	struct fn_kv *kv = NULL;
	size_t n = 0;
	char why[128];

	ck_assert_int_eq(envfiles_parse(text, sizeof(text) - 1, &kv, &n, why,
	    sizeof(why)), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(kv[0].name, "DB_PASSWORD");
	ck_assert_str_eq(kv[0].value, "s3cr=t with spaces ");
	ck_assert_str_eq(kv[1].name, "TOKEN");
	ck_assert_str_eq(kv[1].value, "");
	ck_assert_str_eq(kv[2].value, "1");
	manifest_env_free(kv, n);
}
END_TEST

START_TEST(test_bad)
{
	static const char *const bad[] = { "A=1\nno equals\n", "=x\n",
	    "1A=x\n", "A B=x\n", "A=x\0y\n" };
	static const size_t len[] = { 15, 3, 4, 5, 6 };
	static const char *const want[] = { "line 2: not NAME=value",
	    "line 1: not NAME=value", "line 1: not NAME=value",
	    "line 1: not NAME=value", "line 1: not NAME=value" };

	for (size_t i = 0; i < 5; i++) {
		struct fn_kv *kv = NULL;
		size_t n = 0;
		char why[128] = "";
		ck_assert_int_eq(envfiles_parse(bad[i], len[i], &kv, &n, why,
		    sizeof(why)), -1);
		ck_assert_str_eq(why, want[i]);
	}
}
END_TEST

Suite *
suite_envfiles(void)
{
	Suite *s = suite_create("envfiles");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_bad);
	suite_add_tcase(s, tc);
	return s;
}
