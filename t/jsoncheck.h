/* jsoncheck.h — a strict checker of the flat JSON objects fnlauncher
 * writes (invocation records, error bodies), for the unit tests and the
 * fuzzer: one object of string, number, true/false or null values,
 * RFC 8259 string escapes, UTF-8 (RFC 3629) throughout, nothing after
 * the closing brace but one newline. */
#ifndef FN_T_JSONCHECK_H
#define FN_T_JSONCHECK_H

#include <stdbool.h>
#include <stddef.h>

/* true when S (LEN bytes) is such an object; else false with the
 * reason in WHY (may be NULL). */
bool jsoncheck_flat(const char *s, size_t len, const char **why);

/* true when the object S has the key KEY (a plain name). */
bool jsoncheck_has(const char *s, const char *key);

#endif
