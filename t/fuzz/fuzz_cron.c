/* fuzz_cron.c — libFuzzer target: cron_parse() on arbitrary text; what
 * parses has a next time after any given one that matches it (or none
 * within five years, or the @every period). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const time_t afters[] = { 0, 1796551350, 1798761599, 951782400 };
	char *s = malloc(size + 1), err[160];
	struct cron c;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (cron_parse(s, &c, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < sizeof(afters) / sizeof(afters[0]); i++) {
			time_t n = cron_next(&c, afters[i]);
			if (n != -1 && n <= afters[i])
				abort();
			if (n != -1 && c.every_ms == 0 && !cron_matches(&c, n))
				abort();
		}
	} else if (err[0] == '\0') {
		abort();
	}
	free(s);
	return 0;
}
