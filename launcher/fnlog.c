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
/* A pattern with %t: a file per tenant, opened at its first record. */
struct rec_file {
	struct rec_file *next;
	int fd;
	char tenant[];
};
static char *rec_pattern;
static struct rec_file *rec_files;

/* PATTERN with each %t replaced by TENANT (the main manifest's
 * functions: FNLOG_MAIN_TENANT). NULL when too long. */
static char *
expand(const char *pattern, const char *tenant)
{
	char out[4096];
	size_t o = 0;

	if (tenant == NULL || *tenant == '\0')
		tenant = FNLOG_MAIN_TENANT;
	for (const char *p = pattern; *p != '\0'; p++) {
		const char *add = p;
		size_t n = 1;
		if (p[0] == '%' && p[1] == 't') {
			add = tenant;
			n = strlen(tenant);
			p++;
		}
		if (o + n >= sizeof(out))
			return NULL;
		memcpy(out + o, add, n);
		o += n;
	}
	out[o] = '\0';
	return strdup(out);
}

static int
open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0640);

	if (fd < 0)
		fnlog(FNLOG_ERROR, "cannot open invocation log %s: %s", path,
		    strerror(errno));
	return fd;
}

/* Close the per-tenant files (they open again at their next record).
 * Called with rec_lock held. */
static void
rec_files_close(void)
{
	while (rec_files != NULL) {
		struct rec_file *f = rec_files;
		rec_files = f->next;
		if (f->fd >= 0)
			close(f->fd);
		free(f);
	}
}

/* The fd of TENANT's file. Called with rec_lock held. */
static int
rec_file_fd(const char *tenant)
{
	struct rec_file *f;
	char *path;

	if (tenant == NULL)
		tenant = "";
	for (f = rec_files; f != NULL; f = f->next)
		if (strcmp(f->tenant, tenant) == 0)
			return f->fd;
	if ((f = calloc(1, sizeof(*f) + strlen(tenant) + 1)) == NULL)
		return -1;
	strcpy(f->tenant, tenant);
	f->fd = (path = expand(rec_pattern, tenant)) ? open_log(path) : -1;
	free(path);
	f->next = rec_files;
	rec_files = f;
	return f->fd;
}

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

	char *pattern = NULL;

	if (where == NULL || strcmp(where, "stderr") == 0)
		fd = STDERR_FILENO;
	else if (strcmp(where, "off") == 0)
		fd = -1;
	else if (strstr(where, "%t") != NULL) {
		/* the main manifest's file, now: a reload that cannot write
		 * there fails */
		char *path = expand(where, NULL);
		if (path == NULL || (pattern = strdup(where)) == NULL ||
		    (fd = open_log(path)) < 0) {
			free(path);
			free(pattern);
			return -1;
		}
		free(path);
		owned = 1;
	} else {
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
	rec_files_close();
	free(rec_pattern);
	rec_pattern = pattern;
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
	rec_files_close();
	free(rec_pattern);
	rec_pattern = NULL;
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
	if (rec_pattern != NULL && r->tenant != NULL && *r->tenant != '\0') {
		int fd = rec_file_fd(r->tenant);
		if (fd >= 0)
			(void)!write(fd, buf, len);
	} else if (rec_fd >= 0)
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
