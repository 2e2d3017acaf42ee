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
#include <sys/resource.h>
#include <sys/stat.h>

/* ---- table: one request, a status, a code, a time window -------------- */

struct fault {
	int num;
	const char *name, *path;
	int status;
	const char *code, *alt;     /* JSON error code (NULL: none) */
	double min_s, max_s;        /* answered within */
	const char *record;         /* in the invocation record, or NULL */
	/* More checks (may be NULL): NULL, or why the fault cannot be
	 * checked here (the test then says SKIP). */
	const char *(*extra)(const char *rid);
};

/* 11: dd was stopped at fsize. */
static const char *bigfile_check(const char *rid)
{
	char rel[128], path[512];
	struct stat st;

	snprintf(rel, sizeof(rel), "spool/big.%s", rid);
	ck_assert_int_eq(harness_path(faults_h, rel, path, sizeof(path)), 0);
	ck_assert_msg(stat(path, &st) == 0, "%s not written", path);
	ck_assert_msg(st.st_size <= 1024 * 1024, "%s is %lld bytes, over "
	    "fsize 1M", path, (long long)st.st_size);
	return NULL;
}

/* 12: the function crashed with a core size limit of 0 (core: 0, the
 * default), though the daemon's own limit is not 0; the control,
 * core: unlimited, gets the daemon's limit back. The mechanism is
 * asserted, not its effect: whether and where a core file is written
 * depends on the machine's kernel.core_pattern (a pipe to
 * systemd-coredump ignores the limit). */
static const char *segv_check(const char *rid)
{
	char rel[128], path[512], *got;
	struct rlimit rl;
	struct hresp r;
	double secs;

	ck_assert_int_eq(prlimit(faults_h->daemon_pid, RLIMIT_CORE, NULL,
	    &rl), 0);
	if (rl.rlim_cur == 0)
		return "the daemon's core size limit is 0 (hard limit 0 "
		    "here): a function's 0 would prove nothing";
	snprintf(rel, sizeof(rel), "spool/core.%s", rid);
	ck_assert_int_eq(harness_path(faults_h, rel, path, sizeof(path)), 0);
	got = harness_read_file(path, NULL);
	ck_assert_msg(got != NULL, "%s not written: the function did not run",
	    path);
	ck_assert_msg(strcmp(got, "0\n") == 0, "ulimit -c in the function: "
	    "%s, want 0 (core: 0 by default)", got);
	free(got);
	faults_curl(&r, "/corelimit", NULL, &secs);
	faults_assert_answer("corelimit", &r, 200, NULL, NULL);
	ck_assert_msg(strcmp(r.body, "0\n") != 0, "control: ulimit -c is 0 "
	    "with core: unlimited too, so the check above proves nothing");
	hresp_free(&r);
	return NULL;
}

static const struct fault TABLE[] = {
	/* The windows: not before the limit or timeout can fire, and well
	 * before what the function would do on its own (run on to the 10 s
	 * timeout, sleep 30 s): 3 s of slack for a busy machine. */
	{ 1, "memory_limit", "/memhog", 502, "crashed", "bad_response",
	    0, 5, NULL, NULL },
	{ 2, "cpu_limit", "/spin", 502, "crashed", NULL, 0.9, 5,
	    "\"outcome\":\"crashed\"", NULL },
	{ 3, "sleep_past_timeout", "/sleeper", 504, "timeout", NULL, 0.9, 4,
	    "\"outcome\":\"timeout\"", NULL },
	{ 11, "fsize_limit", "/bigfile", 502, "crashed", NULL, 0, 5,
	    "\"signal\":25", bigfile_check },
	{ 12, "segfault", "/segv", 502, "crashed", NULL, 0, 5,
	    "\"signal\":11", segv_check },
	{ 13, "exit_3_no_output", "/exit3", 502, "bad_response", NULL, 0, 5,
	    "\"exit_code\":3", NULL },
	{ 14, "endless_header_block", "/endless", 502, "bad_response", NULL,
	    0, 5, "\"outcome\":\"error\"", NULL },
	{ 15, "missing_interpreter", "/noint", 502, "exec_failed", NULL, 0, 5,
	    "\"outcome\":\"exec_failed\"", NULL },
};

START_TEST(table_fault)
{
	const struct fault *f = &TABLE[_i];
	char rid[64], what[96], code[64];
	const char *why = NULL;
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
		why = f->extra(rid);
	faults_settle(what, rid, &b);
	harness_skip_if(why);
}
END_TEST

void faults_add_crash(TCase *tc)
{
	tcase_add_loop_test(tc, table_fault, 0,
	    (int)(sizeof(TABLE) / sizeof(TABLE[0])));
}
