/* fuzz_record.c — libFuzzer target for record.c: any strings in the
 * record's fields (split from the input at NUL bytes) must give one
 * valid JSON object in UTF-8 with every field, within RECORD_MAX; and
 * the error body likewise. `fnlauncher usage` must read that record
 * back with its fields, and take the raw input as a line without
 * reading past it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "usage.h"
#include "../jsoncheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
		"ts", "request_id", "function", "method", "uri", "status",
		"outcome", "exit_code", "signal", "duration_ms", "cpu_user_ms",
		"cpu_sys_ms", "max_rss_kb", "bytes_in", "bytes_out", "error",
		"remote_addr",
	};
	char *text = malloc(size + 1), *f[8], buf[RECORD_MAX];
	size_t n = 0, len;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* up to 8 strings, NUL-separated; missing ones are NULL */
	for (char *p = text; n < 8 && p <= text + size; p += strlen(p) + 1)
		f[n++] = p;
	while (n < 8)
		f[n++] = NULL;
	struct fn_record r = {
		.ts = f[0], .request_id = f[1], .function = f[2], .method = f[3],
		.uri = f[4], .error = f[5], .redirected_from = f[6],
		.remote_addr = f[7], .outcome = "ok", .status = size % 600,
		.tenant = f[6], .queue_us = size * 7,
		.exit_code = (int)size % 300 - 1, .signal = (int)size % 65,
		.duration_us = size * 0x9e3779b97f4a7c15ULL,
		.max_rss_kb = (long)size - 100,
	};
	len = record_format(&r, buf, sizeof(buf));
	if (len >= sizeof(buf) || !jsoncheck_flat(buf, len, NULL))
		abort();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!jsoncheck_has(buf, keys[i]))
			abort();
	struct usage_rec u;
	/* a record without a ts is none to usage */
	if (usage_parse_line(buf, len, &u) != (f[0] && *f[0] ? 0 : -1) ||
	    (f[0] && *f[0] && (u.bytes_out != 0 ||
	    strcmp(u.outcome, "ok") != 0)))
		abort();
	(void)usage_parse_line((const char *)data, size, &u);
	len = record_error_body(buf, 1024, f[0] ? f[0] : "x", f[1], f[2],
	    f[3] ? f[3] : "r");
	if (len >= 1024 || !jsoncheck_flat(buf, len, NULL))
		abort();
	free(text);
	return 0;
}
