/* faults_crash.c — functions that die, hit a limit or print garbage:
 * one request each (faults 1-3, 11-15), the status, error code and
 * time of the answer, what the invocation record says, then nothing
 * left behind (faults_settle). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "faults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- table: one request, a status, a code, a time window -------------- */

struct fault {
	int num;
	const char *name, *path;
	int status;
	const char *code, *alt;     /* JSON error code (NULL: none) */
	double min_s, max_s;        /* answered within */
	const char *record;         /* in the invocation record, or NULL */
	void (*extra)(const char *rid);
};

/* 11: dd was stopped at fsize. */
static void bigfile_check(const char *rid)
{
	char rel[128], path[512];
	struct stat st;

	snprintf(rel, sizeof(rel), "spool/big.%s", rid);
	ck_assert_int_eq(harness_path(faults_h, rel, path, sizeof(path)), 0);
	ck_assert_msg(stat(path, &st) == 0, "%s not written", path);
	ck_assert_msg(st.st_size <= 1024 * 1024, "%s is %lld bytes, over "
	    "fsize 1M", path, (long long)st.st_size);
}

/* 12: no core in the function's cwd (core: 0 by default); a control
 * with core: unlimited shows a core would land there, when the kernel's
 * core_pattern is a plain relative file name. */
static void segv_check(const char *rid)
{
	char *pat = harness_read_file("/proc/sys/kernel/core_pattern", NULL);
	int plain = pat != NULL && pat[0] != '|' && strchr(pat, '/') == NULL;
	struct hresp r;
	double secs;

	(void)rid;
	free(pat);
	ck_assert_msg(harness_dir_count(faults_h, "spool/segv", "") == 0,
	    "a core file was written in the function's cwd (core: 0)");
	if (!plain) {
		printf("fault 12 segfault: core_pattern is not a plain file "
		    "name: control skipped\n");
		return;
	}
	faults_curl(&r, "/segvcore", NULL, &secs);
	faults_assert_answer("segvcore", &r, 502, "crashed", NULL);
	hresp_free(&r);
	ck_assert_msg(harness_dir_count(faults_h, "spool/segvcore", "") > 0,
	    "control: no core with core: unlimited, so the check above "
	    "proves nothing");
}

static const struct fault TABLE[] = {
	{ 1, "memory_limit", "/memhog", 502, "crashed", "bad_response",
	    0, 5, NULL, NULL },
	{ 2, "cpu_limit", "/spin", 502, "crashed", NULL, 0.9, 3,
	    "\"outcome\":\"crashed\"", NULL },
	{ 3, "sleep_past_timeout", "/sleeper", 504, "timeout", NULL, 0.9, 1.8,
	    "\"outcome\":\"timeout\"", NULL },
	{ 11, "fsize_limit", "/bigfile", 502, "crashed", NULL, 0, 3,
	    "\"signal\":25", bigfile_check },
	{ 12, "segfault", "/segv", 502, "crashed", NULL, 0, 2,
	    "\"signal\":11", segv_check },
	{ 13, "exit_3_no_output", "/exit3", 502, "bad_response", NULL, 0, 2,
	    "\"exit_code\":3", NULL },
	{ 14, "endless_header_block", "/endless", 502, "bad_response", NULL,
	    0, 2, "\"outcome\":\"error\"", NULL },
	{ 15, "missing_interpreter", "/noint", 502, "exec_failed", NULL, 0, 2,
	    "\"outcome\":\"exec_failed\"", NULL },
};

START_TEST(table_fault)
{
	const struct fault *f = &TABLE[_i];
	char rid[64], what[96], code[64];
	struct faults_snap b;
	struct hresp r;
	double secs;

	snprintf(what, sizeof(what), "fault %d %s", f->num, f->name);
	faults_snap(&b);
	faults_curl(&r, f->path, NULL, &secs);
	faults_report(f->num, f->name, "answered in %.0f ms (%d %s)",
	    secs * 1000, r.status, harness_json_str(r.body, "error", code,
	    sizeof(code)) ? code : "-");
	faults_assert_answer(what, &r, f->status, f->code, f->alt);
	ck_assert_msg(secs >= f->min_s && secs < f->max_s, "%s: answered in "
	    "%.3f s, want %.1f..%.1f s", what, secs, f->min_s, f->max_s);
	faults_rid_of(&r, rid, sizeof(rid));
	hresp_free(&r);
	if (f->record != NULL)
		faults_assert_record(rid, f->record);
	if (f->extra != NULL)
		f->extra(rid);
	faults_settle(what, rid, &b);
}
END_TEST

void faults_add_crash(TCase *tc)
{
	tcase_add_loop_test(tc, table_fault, 0,
	    (int)(sizeof(TABLE) / sizeof(TABLE[0])));
}
