/* units.h — pure parsers for the manifest's scalar types.
 * Each returns 0 and stores the value, or -1 with a static message in
 * *ERR (when ERR is not NULL). None does I/O. */
#ifndef FN_UNITS_H
#define FN_UNITS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* "250ms", "10s", "2m", "1h"; a bare number is seconds. Result in ms.
 * Rejects empty, negative, fractions, unknown suffixes and overflow. */
int units_duration_ms(const char *s, uint64_t *ms, const char **err);

/* Bytes, or a number with K, M or G (powers of 1024). */
int units_size(const char *s, uint64_t *bytes, const char **err);

/* A plain non-negative integer within [MIN, MAX]. */
int units_uint(const char *s, uint64_t min, uint64_t max, uint64_t *v,
    const char **err);

/* Octal permission bits "0660", "022" (at most 0777). */
int units_mode(const char *s, mode_t *mode, const char **err);

/* A function name: [A-Za-z0-9][A-Za-z0-9._-]{0,63}. */
bool units_valid_name(const char *s);

/* The value of hex digit C (either case), or -1. */
int units_hexval(char c);

/* An HTTP method token: upper-case letters only, 1..32 chars. */
bool units_valid_method(const char *s);

/* An environment variable name: [A-Za-z_][A-Za-z0-9_]*, 1..255 chars. */
bool units_valid_env_name(const char *s);

/* An address "127.0.0.1", "::1" or a CIDR "10.0.0.0/8", "fd00::/8".
 * FAMILY is AF_INET or AF_INET6, ADDR 16 bytes (4 used for v4); host
 * bits beyond the prefix are cleared. */
int units_cidr(const char *s, int *family, unsigned char addr[16],
    unsigned *prefix, const char **err);

/* A listen address (SPEC.md section 2, "-s" and "listen"):
 * "unix:/abs/path" (shorter than sun_path), "HOST:PORT" or "[V6]:PORT",
 * PORT 1..65535. Checks the syntax only; the message in *ERR starts with
 * "must". */
int units_listen(const char *s, const char **err);

#endif
