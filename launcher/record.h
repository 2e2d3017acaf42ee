/* record.h — the invocation record (SPEC.md section 8) as one JSON
 * line. Pure: a struct in, bytes out; fnlog.c writes them.
 *
 * A record is never cut: every field is always there. What may be long
 * (the URI: nginx allows 8 KB and more; method; names) is cut to a cap
 * of its own and ends with "..." then. Strings are escaped for JSON,
 * and bytes that are not UTF-8 become U+FFFD, so every line is valid
 * JSON in UTF-8 whatever the request held. */
#ifndef FN_RECORD_H
#define FN_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define RECORD_MAX 4096         /* a record line is never longer */
#define RECORD_URI_MAX 1024     /* escaped bytes of the URI, then "..." */

struct fn_record {
	const char *ts;            /* RFC 3339 UTC, e.g. 2026-12-06T10:00:00.123Z */
	const char *request_id;
	const char *function;      /* NULL when no function was found */
	const char *tenant;        /* its tenant; NULL or "": the main manifest's */
	const char *method;
	const char *uri;
	const char *outcome;       /* ok, error, timeout, crashed, ... */
	const char *error;         /* the code fnlauncher answered with, or NULL */
	const char *redirected_from; /* a local redirect's first function, or NULL */
	const char *trigger;       /* "http" (NULL), "schedule" or "async" */
	const char *job_id;        /* the async job run or accepted, or NULL */
	const char *attempt;       /* an async run's attempt ("1"...), or NULL */
	const char *remote_addr;
	int status;
	int exit_code;             /* -1: none (killed or never ran) */
	int signal;                /* 0: none */
	uint64_t duration_us;
	uint64_t queue_us;         /* waited in the queue before it ran */
	uint64_t cpu_user_us;
	uint64_t cpu_sys_us;
	long max_rss_kb;
	long memory_peak_kb;       /* -1: unknown (no memory controller) */
	long oom_kills;            /* -1: unknown */
	uint64_t bytes_in;
	uint64_t bytes_out;
};

/* R as one JSON object and a newline into BUF (SIZE >= RECORD_MAX).
 * Returns its length. */
size_t record_format(const struct fn_record *r, char *buf, size_t size);

/* The JSON body of an error fnlauncher answers with (SPEC.md section 7):
 * {"error":CODE,"message":MESSAGE,"function":FUNCTION|null,
 * "request_id":ID} and a newline, into BUF (SIZE >= 1024; the message is
 * cut at 512 bytes). Returns its length. */
size_t record_error_body(char *buf, size_t size, const char *code,
    const char *message, const char *function, const char *request_id);

/* S escaped as the body of a JSON string (no quotes) into BUF at *POS:
 * at most MAX bytes of it, the last three "..." when S was cut; never
 * past SIZE - 1, and BUF stays NUL-terminated. S NULL: nothing. */
void record_json_str(char *buf, size_t size, size_t *pos, const char *s,
    size_t max);

#endif
