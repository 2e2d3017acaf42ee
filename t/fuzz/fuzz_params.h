/* fuzz_params.h — FastCGI params from fuzzer bytes, for fuzz_route and
 * fuzz_cgienv. The input is cut at every NUL and newline; each piece
 * becomes one string in its own exact-size allocation (so ASan sees any
 * over-read), the array is NULL-terminated. */
#ifndef FN_FUZZ_PARAMS_H
#define FN_FUZZ_PARAMS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_PARAMS_MAX 256 /* nginx sends a few dozen */

/* Returns the array (free it with fuzz_params_free) or NULL on ENOMEM. */
static char **
fuzz_params_new(const uint8_t *data, size_t size, size_t *count)
{
	char **v = calloc(FUZZ_PARAMS_MAX + 1, sizeof(*v));
	size_t n = 0, start = 0, i;

	if (v == NULL)
		return NULL;
	for (i = 0; i <= size && n < FUZZ_PARAMS_MAX; i++) {
		if (i < size && data[i] != '\0' && data[i] != '\n')
			continue;
		v[n] = malloc(i - start + 1);
		if (v[n] == NULL)
			break;
		memcpy(v[n], data + start, i - start);
		v[n][i - start] = '\0';
		n++;
		start = i + 1;
	}
	*count = n;
	return v;
}

static void
fuzz_params_free(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

#endif
