/* unit.c — runs every unit suite of the pure modules. */
#include <stdlib.h>

#include "unit.h"

int
main(void)
{
	SRunner *sr = srunner_create(suite_units());
	int failed;

	srunner_add_suite(sr, suite_manifest());
	srunner_add_suite(sr, suite_route());
	srunner_add_suite(sr, suite_cgienv());
	srunner_add_suite(sr, suite_cgiresp());
	srunner_add_suite(sr, suite_fcgirec());
	srunner_add_suite(sr, suite_record());
	srunner_add_suite(sr, suite_usage());
	srunner_add_suite(sr, suite_auth());
	srunner_add_suite(sr, suite_cron());
	srunner_add_suite(sr, suite_envfiles());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
