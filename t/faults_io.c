/* faults_io.c — bodies and output the function does not handle as a
 * client would expect: it never reads a 20 MiB body (8), it writes 1 MiB
 * before reading its body (9), it never stops writing (10). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "faults.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- 8, 9: bodies ------------------------------------------------------ */

START_TEST(f8_never_reads_stdin)
{
	char arg[600], rid[64];
	const char *args[] = { "--data-binary", arg, "-H",
	    "Content-Type: application/octet-stream", "--max-time", "60",
	    NULL };
	struct faults_snap b;
	struct hresp r;
	double secs;

	faults_payload("out/20m.bin", 20u << 20, arg, sizeof(arg));
	faults_snap(&b);
	faults_curl(&r, "/noread", args, &secs);
	faults_report(8, "never_reads_stdin", "answered in %.0f ms (%d)",
	    secs * 1000, r.status);
	faults_assert_answer("fault 8", &r, 200, NULL, NULL);
	ck_assert_str_eq(r.body, "ignored the body\n");
	ck_assert_msg(secs < 10, "20 MiB POST answered after %.1f s", secs);
	faults_rid_of(&r, rid, sizeof(rid));
	hresp_free(&r);
	faults_settle("fault 8", rid, &b);
}
END_TEST

START_TEST(f9_writes_before_reading)
{
	char arg[600], rid[64];
	const char *args[] = { "--data-binary", arg, "-H",
	    "Content-Type: application/octet-stream", "--max-time", "60",
	    NULL };
	struct faults_snap b;
	struct hresp r;
	double secs;
	size_t i;

	faults_payload("out/1m.bin", 1u << 20, arg, sizeof(arg));
	faults_snap(&b);
	faults_curl(&r, "/writefirst", args, &secs);
	faults_report(9, "writes_before_reading", "answered in %.0f ms (%d, "
	    "%zu bytes)", secs * 1000, r.status, r.body_len);
	faults_assert_answer("fault 9", &r, 200, NULL, NULL);
	ck_assert_msg(r.curl_rc == 0, "curl exited %d", r.curl_rc);
	ck_assert_msg(r.body_len == 1u << 20, "body %zu bytes, want 1 MiB",
	    r.body_len);
	for (i = 0; i < r.body_len && r.body[i] == '\0'; i++)
		;
	ck_assert_msg(i == r.body_len, "byte %zu is not 0", i);
	faults_rid_of(&r, rid, sizeof(rid));
	hresp_free(&r);
	faults_settle("fault 9", rid, &b);
}
END_TEST

/* ---- 10: endless output ---------------------------------------------- */

START_TEST(f10_endless_output)
{
	char extra[200];
	struct faults_snap b, a;
	struct hhttp r;
	double t0, secs;
	int fd;

	faults_snap(&b);
	snprintf(extra, sizeof(extra), "%s\r\n", faults_tag_hdr);
	fd = harness_http_connect(faults_h);
	ck_assert_int_ge(fd, 0);
	t0 = harness_now();
	ck_assert_int_eq(harness_http_send(fd, "/yes", extra, 0), 0);
	ck_assert_int_eq(harness_http_read(fd, &r, 20000), 0);
	secs = harness_now() - t0;
	close(fd);
	faults_snap(&a);
	faults_report(10, "endless_output", "cut after %.0f ms, %zu bytes, "
	    "daemon VmRSS %+ld kB, VmHWM %+ld kB%s", secs * 1000, r.body_len,
	    a.rss_kb - b.rss_kb, a.hwm_kb - b.hwm_kb, faults_sanitized() ?
	    " (sanitizer build: RSS not checked)" : "");
	ck_assert_msg(r.status == 200 && r.rid[0] != '\0', "status %d, want "
	    "200 with an X-Request-Id", r.status);
	ck_assert_msg(!r.complete, "the body of an endless function ended "
	    "as if complete (%zu bytes)", r.body_len);
	ck_assert_msg(r.body_len > 1024 * 1024, "only %zu bytes came",
	    r.body_len);
	ck_assert_msg(secs >= 1.8 && secs < 5, "cut after %.3f s, timeout "
	    "is 2 s", secs);
	ck_assert_msg(faults_sanitized() || (a.rss_kb - b.rss_kb < 16 * 1024 &&
	    a.hwm_kb - b.hwm_kb < 16 * 1024), "daemon RSS %ld -> %ld kB, peak "
	    "%ld -> %ld kB", b.rss_kb, a.rss_kb, b.hwm_kb, a.hwm_kb);
	faults_settle("fault 10", r.rid, &b);
}
END_TEST

void faults_add_io(TCase *tc)
{
	tcase_add_test(tc, f8_never_reads_stdin);
	tcase_add_test(tc, f9_writes_before_reading);
	tcase_add_test(tc, f10_endless_output);
}
