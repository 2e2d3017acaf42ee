/* fnlog.h — daemon messages (stderr, one line each, with level), the
 * functions' stderr lines, and the invocation records (JSON lines). */
#ifndef FN_FNLOG_H
#define FN_FNLOG_H

#include <stddef.h>
#include <stdint.h>

enum fnlog_level { FNLOG_ERROR, FNLOG_WARN, FNLOG_INFO, FNLOG_DEBUG };

/* One invocation, as SPEC.md section 8 lists it. */
struct fn_record {
	const char *request_id;
	const char *function;      /* NULL when no function was found */
	const char *method;
	const char *uri;
	const char *outcome;       /* ok, error, timeout, crashed, ... */
	const char *remote_addr;
	int status;
	int exit_code;             /* -1: none (killed or never ran) */
	int signal;                /* 0: none */
	uint64_t duration_us;
	uint64_t cpu_user_us;
	uint64_t cpu_sys_us;
	long max_rss_kb;
	uint64_t bytes_in;
	uint64_t bytes_out;
};

void fnlog(enum fnlog_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The journal's priority prefix ("<3>" ...) for a line of LEVEL written
 * to fd, or "" when fd is not the journal stream of JOURNAL_STREAM. */
const char *fnlog_prio_for(int fd, enum fnlog_level level);

/* Where invocation records go: "stderr", "off" or a file path (opened
 * for append). Returns 0 or -1 (logged). Safe to call again (reload,
 * SIGUSR1 reopen). */
int fnlog_records_open(const char *where);
void fnlog_records_close(void);

/* Write one record as a JSON line. */
void fnlog_record(const struct fn_record *r);

/* One line of a function's stderr (LEN bytes, no newline). */
void fnlog_fn_stderr(const char *function, const char *request_id,
    const char *line, size_t len);

/* Append S as a JSON string body (no quotes) to BUF at *POS, never
 * past SIZE-1; keeps BUF NUL-terminated. */
void fnlog_json_str(char *buf, size_t size, size_t *pos, const char *s);

#endif
