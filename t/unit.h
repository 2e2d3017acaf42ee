/* unit.h — one Check suite per module; t/unit.c runs them all. */
#ifndef FN_T_UNIT_H
#define FN_T_UNIT_H

#include <check.h>

Suite *suite_units(void);
Suite *suite_manifest(void);
Suite *suite_route(void);
Suite *suite_cgienv(void);
Suite *suite_cgiresp(void);
Suite *suite_fcgirec(void);
Suite *suite_record(void);
Suite *suite_envfiles(void);
Suite *suite_usage(void);
Suite *suite_auth(void);
Suite *suite_cron(void);

#endif
