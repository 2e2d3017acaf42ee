/* test_manifest.h — helpers shared by test_manifest.c and
 * test_manifest_invalid.c (one suite, suite_manifest(), in two files). */
#ifndef FN_T_TEST_MANIFEST_H
#define FN_T_TEST_MANIFEST_H

#include <check.h>
#include <stddef.h>

#include "manifest.h"

#define TM_FILE "m.yaml"          /* the file name in expected messages */
#define TM_DIR "/etc/fn"          /* the manifest's folder for parses */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MIB (1024ull * 1024)

/* Every error of E formatted with TM_FILE, joined by '\n'; caller frees. */
char *tm_join_errors(const struct manifest_errors *e);

/* Parse YAML (TM_FILE in TM_DIR); fails the test on any error. */
struct manifest *tm_parse_ok(const char *yaml);

/* A fresh mkdtemp() folder under /tmp; caller removes and frees it. */
char *tm_tmpdir(void);

/* Write LEN bytes of DATA to PATH (created or truncated). */
void tm_write_file(const char *path, const char *data, size_t len);

/* Adds the invalid and hostile test cases to S. */
void tm_add_invalid_tcases(Suite *s);

#endif
