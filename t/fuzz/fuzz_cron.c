/* fuzz_cron.c — libFuzzer target: cron_parse() on arbitrary text; what
 * parses has a next time after any given one that matches it (or none
 * within five years, or the @every period), and in a zone with clock
 * changes (schedule_tz) a next time after it too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const time_t afters[] = { 0, 1796551350, 1798761599, 951782400,
	    1774747800, 1792888200 };
	static struct tz *zones[2];
	static int loaded;
	char *s = malloc(size + 1), err[160];
	struct cron c;

	if (!loaded) {
		zones[0] = tz_load("Europe/Paris", err, sizeof(err));
		zones[1] = tz_load("Australia/Lord_Howe", err, sizeof(err));
		loaded = 1;
	}

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
			for (int z = 0; z < 2; z++) {
				time_t m = zones[z] ? cron_next_tz(&c, zones[z],
				    afters[i]) : -1;
				if (m != -1 && m <= afters[i])
					abort();
			}
		}
	} else if (err[0] == '\0') {
		abort();
	}
	free(s);
	return 0;
}
