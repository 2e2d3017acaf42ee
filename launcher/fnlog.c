/* fnlog.c — daemon log lines and invocation records. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fnlog.h"

static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static int rec_fd = STDERR_FILENO;   /* -1: off */
static int rec_owned;                /* rec_fd is a file we opened */

static const char *const level_name[] = { "error", "warn", "info", "debug" };
/* syslog priorities (sd-daemon(3) prefixes "<3>" ... "<7>"). */
static const char *const level_prio[] = { "<3>", "<4>", "<6>", "<7>" };

static pthread_once_t journal_once = PTHREAD_ONCE_INIT;
static bool to_journal;

/* systemd sets JOURNAL_STREAM=DEVICE:INODE when stdout or stderr is a
 * stream to the journal: then a "<N>" in front of a line gives its
 * priority (else every line would be logged at info). Checked against
 * the fd itself, so a child whose output was redirected does not add
 * prefixes. */
static bool
is_journal(int fd)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (js == NULL || sscanf(js, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
	    fstat(fd, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

static void
journal_detect(void)
{
	to_journal = is_journal(STDERR_FILENO);
}

const char *
fnlog_prio_for(int fd, enum fnlog_level level)
{
	return is_journal(fd) ? level_prio[level] : "";
}

/* The priority prefix for a line of LEVEL: "" unless stderr goes to the
 * journal. */
static const char *
prio(enum fnlog_level level)
{
	pthread_once(&journal_once, journal_detect);
	return to_journal ? level_prio[level] : "";
}

void
fnlog(enum fnlog_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "%sfnlauncher: %s: ", prio(level),
	    level_name[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = strlen(line);
	line[len++] = '\n';
	/* One write per line keeps lines whole between threads. */
	(void)!write(STDERR_FILENO, line, len);
}

int
fnlog_records_open(const char *where)
{
	int fd = STDERR_FILENO, owned = 0;

	if (where == NULL || strcmp(where, "stderr") == 0)
		fd = STDERR_FILENO;
	else if (strcmp(where, "off") == 0)
		fd = -1;
	else {
		fd = open(where, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0) {
			fnlog(FNLOG_ERROR, "cannot open invocation log %s: %s",
			    where, strerror(errno));
			return -1;
		}
		owned = 1;
	}
	pthread_mutex_lock(&rec_lock);
	if (rec_owned)
		close(rec_fd);
	rec_fd = fd;
	rec_owned = owned;
	pthread_mutex_unlock(&rec_lock);
	return 0;
}

void
fnlog_records_close(void)
{
	pthread_mutex_lock(&rec_lock);
	if (rec_owned)
		close(rec_fd);
	rec_fd = -1;
	rec_owned = 0;
	pthread_mutex_unlock(&rec_lock);
}

void
fnlog_record(struct fn_record *r)
{
	char buf[RECORD_MAX], ts[40];
	struct timespec now;
	struct tm tm;
	size_t len;
	int n;

	if (rec_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = (int)strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - (size_t)n, ".%03ldZ", now.tv_nsec / 1000000);
	r->ts = ts;
	len = record_format(r, buf, sizeof(buf));
	/* Under the lock: a reopen must not close (and free the number of)
	 * the fd while we write to it. */
	pthread_mutex_lock(&rec_lock);
	if (rec_fd >= 0)
		(void)!write(rec_fd, buf, len);
	pthread_mutex_unlock(&rec_lock);
}

void
fnlog_fn_stderr(const char *function, const char *request_id,
    const char *line, size_t len)
{
	char buf[4096];
	size_t pos;
	int n;

	n = snprintf(buf, sizeof(buf), "%sfnlauncher: info: function=%s request_id=%s stderr: ",
	    prio(FNLOG_INFO), function, request_id);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	pos = (size_t)n;
	if (len > sizeof(buf) - pos - 1)
		len = sizeof(buf) - pos - 1;
	/* A tenant's text: no control characters (a CR could fake a line). */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		buf[pos++] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
	}
	buf[pos++] = '\n';
	(void)!write(STDERR_FILENO, buf, pos);
}

const char *
fnlog_quote(const char *in, size_t len, char *out, size_t size)
{
	size_t o = 0;

	if (size < 8) {
		if (size > 0)
			out[0] = '\0';
		return out;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		char e[5];
		size_t n;

		if (c == '\n' || c == '\r' || c == '\t' || c == '\\') {
			e[0] = '\\';
			e[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : '\\';
			n = 2;
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(e, sizeof(e), "\\x%02x", c);
			n = 4;
		} else {
			e[0] = (char)c;
			n = 1;
		}
		if (o + n + 4 > size) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, e, n);
		o += n;
	}
	out[o] = '\0';
	return out;
}
