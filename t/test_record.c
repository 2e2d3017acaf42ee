/* test_record.c — the invocation record and error bodies (record.c):
 * every field whatever the strings hold, each string capped, valid
 * JSON in UTF-8. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsoncheck.h"
#include "record.h"
#include "unit.h"

static const char *const keys[] = {
	"ts", "request_id", "function", "tenant", "method", "uri", "status",
	"outcome", "exit_code", "signal", "duration_ms", "queue_ms",
	"cpu_user_ms", "cpu_sys_ms",
	"max_rss_kb", "bytes_in", "bytes_out", "memory_peak_kb", "oom_kills",
	"error", "remote_addr", "trigger",
};

static struct fn_record
base(void)
{
	struct fn_record r = {
		.ts = "2026-12-06T10:00:00.123Z", .request_id = "0123456789abcdef",
		.function = "hello", .method = "GET", .uri = "/fn/hello?x=1",
		.outcome = "ok", .remote_addr = "127.0.0.1", .status = 200,
		.exit_code = 0, .duration_us = 1234, .cpu_user_us = 1000,
		.max_rss_kb = 2048, .memory_peak_kb = -1, .oom_kills = -1,
		.bytes_out = 12,
	};
	return r;
}

/* R formatted: valid, every key, the numbers where they belong. */
static char *
format_ok(const struct fn_record *r, size_t *lenp)
{
	char *buf = malloc(RECORD_MAX);
	const char *why = NULL;
	size_t len;

	ck_assert_ptr_nonnull(buf);
	len = record_format(r, buf, RECORD_MAX);
	ck_assert_uint_lt(len, RECORD_MAX);
	ck_assert_uint_eq(len, strlen(buf));
	ck_assert_msg(jsoncheck_flat(buf, len, &why), "%s: %s", why, buf);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(jsoncheck_has(buf, keys[i]), "no %s in %s",
		    keys[i], buf);
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

START_TEST(test_plain)
{
	struct fn_record r = base();
	char *s = format_ok(&r, NULL);

	ck_assert_str_eq(s, "{\"ts\":\"2026-12-06T10:00:00.123Z\","
	    "\"request_id\":\"0123456789abcdef\",\"function\":\"hello\","
	    "\"tenant\":\"\",\"method\":\"GET\",\"uri\":\"/fn/hello?x=1\","
	    "\"status\":200,\"outcome\":\"ok\",\"exit_code\":0,\"signal\":null,"
	    "\"duration_ms\":1.234,\"queue_ms\":0.000,\"cpu_user_ms\":1.000,"
	    "\"cpu_sys_ms\":0.000,"
	    "\"max_rss_kb\":2048,\"bytes_in\":0,\"bytes_out\":12,"
	    "\"memory_peak_kb\":null,\"oom_kills\":null,"
	    "\"error\":null,\"remote_addr\":\"127.0.0.1\",\"trigger\":\"http\"}\n");
	r.memory_peak_kb = 10240;
	r.oom_kills = 1;
	r.tenant = "alice";
	r.queue_us = 2500;
	free(s);
	s = format_ok(&r, NULL);
	ck_assert_ptr_nonnull(strstr(s, "\"memory_peak_kb\":10240,\"oom_kills\":1,"));
	ck_assert_ptr_nonnull(strstr(s, "\"tenant\":\"alice\","));
	ck_assert_ptr_nonnull(strstr(s, "\"queue_ms\":2.500,"));
	free(s);
}
END_TEST

/* An 8 KB URI (nginx allows it) used to fill the buffer and cut the
 * record after "uri": now the URI is cut and every field stays. */
START_TEST(test_long_uri)
{
	struct fn_record r = base();
	char *uri = malloc(8193), *s;
	const char *u;

	ck_assert_ptr_nonnull(uri);
	memset(uri, 'a', 8192);
	uri[0] = '/';
	uri[8192] = '\0';
	r.uri = uri;
	r.status = 502;
	r.outcome = "crashed";
	r.error = "crashed";
	r.signal = 9;
	r.exit_code = -1;
	s = format_ok(&r, NULL);
	ck_assert_ptr_nonnull(strstr(s, "\"status\":502,\"outcome\":\"crashed\","
	    "\"exit_code\":null,\"signal\":9,"));
	ck_assert_ptr_nonnull(u = strstr(s, "\"uri\":\"/aaa"));
	ck_assert_uint_eq(strcspn(u + 7, "\""), RECORD_URI_MAX);
	ck_assert_ptr_nonnull(strstr(s, "aaa...\",\"status\""));
	free(s);
	free(uri);
}
END_TEST

/* Control characters escaped, quotes and backslashes too, bytes that
 * are not UTF-8 as U+FFFD, UTF-8 kept. */
START_TEST(test_escapes)
{
	struct fn_record r = base();
	char *s;

	r.uri = "/fn/x?\"q\\\x01\x7f\xff\xc3\x28\xe2\x82\xac";
	r.method = "G\nET";
	s = format_ok(&r, NULL);
	ck_assert_ptr_nonnull(strstr(s, "\"uri\":\"/fn/x?\\\"q\\\\\\u0001\\u007f"
	    "\\ufffd\\ufffd(\xe2\x82\xac\""));
	ck_assert_ptr_nonnull(strstr(s, "\"method\":\"G\\u000aET\""));
	free(s);
}
END_TEST

/* Every string at once, each far past its cap, with escapes: still
 * within RECORD_MAX, still every field. */
START_TEST(test_all_long)
{
	struct fn_record r = base();
	char *big = malloc(20001), *s;
	size_t len;

	ck_assert_ptr_nonnull(big);
	for (size_t i = 0; i < 20000; i++)
		big[i] = "\x01\"\xe2\x82\xac\\"[i % 5];
	big[20000] = '\0';
	r.ts = r.request_id = r.function = r.method = r.uri = big;
	r.error = r.redirected_from = r.remote_addr = big;
	r.duration_us = r.cpu_user_us = r.cpu_sys_us = UINT64_MAX;
	r.bytes_in = r.bytes_out = UINT64_MAX;
	r.max_rss_kb = -1;
	s = format_ok(&r, &len);
	ck_assert(jsoncheck_has(s, "redirected_from"));
	free(s);
	free(big);
}
END_TEST

/* The cap: a string of exactly MAX escaped bytes stays whole; one
 * more and it ends with "..." within MAX; a multi-byte character is
 * never split. */
START_TEST(test_cap)
{
	char buf[64], in[32];
	size_t pos;

	memset(in, 'x', 10);
	in[10] = '\0';
	pos = 0;
	record_json_str(buf, sizeof(buf), &pos, in, 10);
	ck_assert_str_eq(buf, "xxxxxxxxxx");
	in[10] = 'y';
	in[11] = '\0';
	pos = 0;
	record_json_str(buf, sizeof(buf), &pos, in, 10);
	ck_assert_str_eq(buf, "xxxxxxx...");
	pos = 0;
	record_json_str(buf, sizeof(buf), &pos, "ab\xe2\x82\xac\xe2\x82\xac", 7);
	ck_assert_str_eq(buf, "ab...");
	pos = 0;
	record_json_str(buf, sizeof(buf), &pos, "a\"bcdef", 6);
	ck_assert_str_eq(buf, "a\\\"...");
	pos = 0;
	record_json_str(buf, sizeof(buf), &pos, NULL, 6);
	ck_assert_str_eq(buf, "");
	/* never past the buffer */
	pos = 60;
	memset(buf, 'z', 60);
	record_json_str(buf, sizeof(buf), &pos, "0123456789", 100);
	ck_assert_uint_eq(pos, 63);
	ck_assert_str_eq(buf + 60, "...");
}
END_TEST

START_TEST(test_error_body)
{
	char buf[1024], msg[2000];
	const char *why = NULL;
	size_t len;

	len = record_error_body(buf, sizeof(buf), "not_found",
	    "no such function", "a\"b", "0123456789abcdef");
	ck_assert_str_eq(buf, "{\"error\":\"not_found\",\"message\":"
	    "\"no such function\",\"function\":\"a\\\"b\",\"request_id\":"
	    "\"0123456789abcdef\"}\n");
	ck_assert_uint_eq(len, strlen(buf));
	memset(msg, '\x01', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	len = record_error_body(buf, sizeof(buf), "bad_response", msg, NULL,
	    "r");
	ck_assert_msg(jsoncheck_flat(buf, len, &why), "%s: %s", why, buf);
	ck_assert(jsoncheck_has(buf, "request_id"));
	ck_assert_ptr_nonnull(strstr(buf, "\"function\":null"));
}
END_TEST

Suite *
suite_record(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_long_uri);
	tcase_add_test(tc, test_escapes);
	tcase_add_test(tc, test_all_long);
	tcase_add_test(tc, test_cap);
	tcase_add_test(tc, test_error_body);
	suite_add_tcase(s, tc);
	return s;
}
