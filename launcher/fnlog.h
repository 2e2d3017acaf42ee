/* fnlog.h — daemon messages (stderr, one line each, with level), the
 * functions' stderr lines, and the invocation records (JSON lines). */
#ifndef FN_FNLOG_H
#define FN_FNLOG_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

enum fnlog_level { FNLOG_ERROR, FNLOG_WARN, FNLOG_INFO, FNLOG_DEBUG };

void fnlog(enum fnlog_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The journal's priority prefix ("<3>" ...) for a line of LEVEL written
 * to fd, or "" when fd is not the journal stream of JOURNAL_STREAM. */
const char *fnlog_prio_for(int fd, enum fnlog_level level);

/* Where invocation records go: "stderr", "off" or a file path (opened
 * for append). Returns 0 or -1 (logged). Safe to call again (reload,
 * SIGUSR1 reopen). */
int fnlog_records_open(const char *where);

/* In a log.invocations pattern, %t is the tenant's name; the main
 * manifest's functions write to the file named with this. */
#define FNLOG_MAIN_TENANT "_main"

void fnlog_records_close(void);

/* Write one record as a JSON line (R->ts is filled in here). */
void fnlog_record(struct fn_record *r);

/* One line of a function's stderr (LEN bytes, no newline). */
void fnlog_fn_stderr(const char *function, const char *request_id,
    const char *line, size_t len);

/* LEN bytes of IN quoted for a log line into OUT (SIZE bytes): printable
 * ASCII as it is, \n \r \t and \\ escaped, other bytes as \xNN; what
 * does not fit ends with "...". Returns OUT. */
const char *fnlog_quote(const char *in, size_t len, char *out, size_t size);

#endif
