/* async.c — see async.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fastcgi.h>
#include <openssl/evp.h>

#include "async.h"
#include "cgiresp.h"
#include "fcgiwrite.h"
#include "fnlog.h"
#include "metrics.h"
#include "record.h"
#include "reply.h"
#include "server.h"
#include "threadpool.h"

#define MAGIC "fnljob1 "
#define SWEEP_MS 60000          /* results past async_keep removed */
#define BUSY_RETRY_MS 1000      /* the daemon was busy: not an attempt */
#define BUSY_MAX 600            /* then a busy answer counts as one */

enum jstate { J_QUEUED, J_RUNNING, J_FAILED };

struct job {
	char id[ASYNC_ID_LEN + 1];
	char key[FN_KEY_MAX];
	enum jstate state;
	unsigned attempts;        /* started so far */
	unsigned deferrals;       /* answered busy (not counted) */
	int64_t due_ms;           /* realtime */
	int64_t created_ms;
};

/* What the runner takes from the manifest, per function. */
struct fcap {
	char key[FN_KEY_MAX];
	unsigned concurrency, retries;
	uint64_t backoff_ms;
	uint64_t limit_ms;        /* queue_timeout + timeout + kill_grace */
};

/* The outcomes request.c notes (async_note), until the runner takes
 * them: a ring, the oldest overwritten. */
#define NOTES 256
struct note {
	char id[ASYNC_ID_LEN + 1];
	unsigned attempt;
	int status, signal;
	char outcome[16], code[16];
};
static struct note notes[NOTES];
static size_t note_next;
static pthread_cond_t noted = PTHREAD_COND_INITIALIZER;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static struct job *jobs;        /* in the order they were accepted */
static size_t njobs, capjobs;
static struct fcap *caps, defcap = { "", 0, 3, 10000, 47000 };
static size_t ncaps;
static unsigned global_cap = 32, running, max_jobs = 10000;
static uint64_t keep_ms = 24ull * 3600 * 1000, result_max = 1 << 20;
static int d_root = -1, d_tmp = -1, d_new = -1, d_res = -1, d_dead = -1;
static bool enabled, tried, started, stopping;
static char trigger_key[33];
static char spool_path[1024];
static pthread_t thread;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
async_enabled(void)
{
	return enabled;
}

bool
async_daemon(void)
{
	return tried;
}

const char *
async_key(void)
{
	return trigger_key;
}

static bool
valid_id(const char *id)
{
	return strlen(id) == ASYNC_ID_LEN &&
	    strspn(id, "0123456789abcdef") == ASYNC_ID_LEN;
}

/* ---- a growing text buffer, for the JSON documents ---------------- */

struct sb {
	char *p;
	size_t len, cap;
	bool oom;
};

static void
sb_need(struct sb *b, size_t n)
{
	char *p;
	size_t c;

	if (b->oom || b->len + n + 1 <= b->cap)
		return;
	c = b->cap ? b->cap : 1024;
	while (c < b->len + n + 1)
		c *= 2;
	if ((p = realloc(b->p, c)) == NULL) {
		b->oom = true;
		return;
	}
	b->p = p;
	b->cap = c;
}

static void sb_add(struct sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_add(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_need(b, (size_t)n);
	if (b->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* The length of the UTF-8 sequence at S (N bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t k;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (k == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return k;
}

static bool
is_utf8(const char *s, size_t n)
{
	for (size_t i = 0, k; i < n; i += k)
		if ((k = utf8_len((const unsigned char *)s + i, n - i)) == 0)
			return false;
	return true;
}

/* S (N bytes of UTF-8) as a JSON string, quotes included. */
static void
sb_json(struct sb *b, const char *s, size_t n)
{
	sb_need(b, n * 6 + 2);
	if (b->oom)
		return;
	b->p[b->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			b->p[b->len++] = '\\';
			b->p[b->len++] = (char)c;
		} else if (c == '\n') {
			memcpy(b->p + b->len, "\\n", 2);
			b->len += 2;
		} else if (c < 0x20 || c == 0x7f) {
			b->len += (size_t)snprintf(b->p + b->len, 7, "\\u%04x", c);
		} else
			b->p[b->len++] = (char)c;
	}
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
}

static void
sb_str(struct sb *b, const char *s)
{
	if (s == NULL)
		sb_add(b, "null");
	else
		sb_json(b, s, strlen(s));
}

static void
sb_time(struct sb *b, const char *name, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char ts[40];

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	sb_add(b, ",\"%s\":\"%s.%03dZ\"", name, ts, (int)(ms % 1000));
}

/* "name" or "~tenant/name" into the function and tenant fields. */
static void
sb_function(struct sb *b, const char *key)
{
	const char *slash = key[0] == '~' ? strchr(key, '/') : NULL;

	if (slash != NULL) {
		sb_add(b, "\"function\":");
		sb_str(b, slash + 1);
		sb_add(b, ",\"tenant\":");
		sb_json(b, key + 1, (size_t)(slash - key - 1));
	} else {
		sb_add(b, "\"function\":");
		sb_str(b, key);
		sb_add(b, ",\"tenant\":null");
	}
}

/* ---- the spool's files --------------------------------------------- */

/* All LEN bytes of BUF to file FD. */
static bool
write_all(int fd, const void *buf, size_t len)
{
	return fcgiw_all(fd, buf, len);
}

/* A file of the spool written whole: DIR/NAME through tmp/, fsync'd
 * (FSYNC_DIR: the folder too). 0 or -1 with errno. */
static int
put_file(int dir, const char *name, const char *data, size_t len,
    bool fsync_dir)
{
	char tmp[ASYNC_ID_LEN + 8];
	int fd, e;

	snprintf(tmp, sizeof(tmp), "r-%s", name);
	if ((fd = openat(d_tmp, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		return -1;
	if (!write_all(fd, data, len) || fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlinkat(d_tmp, tmp, 0);
		errno = e;
		return -1;
	}
	close(fd);
	if (renameat(d_tmp, tmp, dir, name) < 0) {
		e = errno;
		unlinkat(d_tmp, tmp, 0);
		errno = e;
		return -1;
	}
	return fsync_dir ? fsync(dir) : 0;
}

/* The first line of DIR/NAME ("fnljob1 ...") into LINE; its length
 * with the newline, or -1. */
static ssize_t
first_line(int dir, const char *name, char *line, size_t size)
{
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *nl;

	if (fd < 0)
		return -1;
	n = pread(fd, line, size - 1, 0);
	close(fd);
	if (n <= 0)
		return -1;
	line[n] = '\0';
	if ((nl = strchr(line, '\n')) == NULL ||
	    strncmp(line, MAGIC, strlen(MAGIC)) != 0)
		return -1;
	*nl = '\0';
	return nl - line + 1;
}

/* A result's first line: state, attempts, when the next is due, key. */
static bool
result_meta(const char *id, char *state, size_t ssize, unsigned *attempts,
    int64_t *due, char *key, size_t ksize)
{
	char line[512], st[16], k[FN_KEY_MAX];
	long long d;

	if (first_line(d_res, id, line, sizeof(line)) < 0 ||
	    sscanf(line + strlen(MAGIC), "%15s %u %lld %129s", st, attempts,
	    &d, k) != 4)
		return false;
	snprintf(state, ssize, "%s", st);
	snprintf(key, ksize, "%s", k);
	*due = d;
	return true;
}

/* ---- accepting ----------------------------------------------------- */

/* Records written through a buffer, to the job file. */
struct wb {
	int fd;
	bool err;
	size_t len;
	unsigned char buf[128 * 1024];
};

static void
wb_flush(struct wb *w)
{
	if (!w->err && w->len > 0 && !write_all(w->fd, w->buf, w->len))
		w->err = true;
	w->len = 0;
}

static void
wb_record(struct wb *w, int type, const void *data, size_t len)
{
	unsigned char h[FCGI_HEADER_LEN] = { FCGI_VERSION_1,
	    (unsigned char)type, 0, 1, (unsigned char)(len >> 8),
	    (unsigned char)len, 0, 0 };

	if (w->len + sizeof(h) + len > sizeof(w->buf))
		wb_flush(w);
	memcpy(w->buf + w->len, h, sizeof(h));
	if (len > 0)
		memcpy(w->buf + w->len + sizeof(h), data, len);
	w->len += sizeof(h) + len;
}

/* FastCGI's length of a name or value (section 3.4) into P. */
static size_t
pair_len(unsigned char *p, size_t n)
{
	if (n < 128) {
		p[0] = (unsigned char)n;
		return 1;
	}
	p[0] = (unsigned char)((n >> 24) | 0x80);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
	return 4;
}

/* The params as one FCGI_PARAMS stream cut into records, without the
 * runner's own (they are set again at each attempt). */
static void
wb_params(struct wb *w, char *const *params)
{
	static const char *const own[] = { "FN_TRIGGER", "FN_TRIGGER_KEY",
	    "FN_JOB_ID", "FN_JOB_ATTEMPT" };
	unsigned char rec[65535];
	size_t fill = 0;

	for (size_t i = 0; params != NULL && params[i] != NULL; i++) {
		const char *eq = strchr(params[i], '=');
		unsigned char hl[8];
		size_t nl, vl, hlen, parts[3][2];
		bool skip = false;

		if (eq == NULL)
			continue;
		nl = (size_t)(eq - params[i]);
		for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
			if (strlen(own[k]) == nl &&
			    memcmp(own[k], params[i], nl) == 0)
				skip = true;
		if (skip)
			continue;
		vl = strlen(eq + 1);
		hlen = pair_len(hl, nl);
		hlen += pair_len(hl + hlen, vl);
		/* header, name, value: copied across record boundaries */
		const unsigned char *src[3] = { hl, (const unsigned char *)params[i],
		    (const unsigned char *)eq + 1 };
		parts[0][1] = hlen;
		parts[1][1] = nl;
		parts[2][1] = vl;
		for (int p = 0; p < 3; p++) {
			size_t off = 0;
			while (off < parts[p][1]) {
				size_t n = parts[p][1] - off;
				if (n > sizeof(rec) - fill)
					n = sizeof(rec) - fill;
				memcpy(rec + fill, src[p] + off, n);
				fill += n;
				off += n;
				if (fill == sizeof(rec)) {
					wb_record(w, FCGI_PARAMS, rec, fill);
					fill = 0;
				}
			}
		}
	}
	if (fill > 0)
		wb_record(w, FCGI_PARAMS, rec, fill);
	wb_record(w, FCGI_PARAMS, NULL, 0);
}

static void
new_id(char id[ASYNC_ID_LEN + 1])
{
	unsigned char r[ASYNC_ID_LEN / 2];
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
		if (n > 0)
			got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(id + 2 * i, 3, "%02x", r[i]);
}

/* Add a job to the table (lock held). */
static struct job *
table_add(const char *id, const char *key, int64_t created)
{
	struct job *j;

	if (njobs == capjobs) {
		size_t c = capjobs ? capjobs * 2 : 64;
		struct job *v = realloc(jobs, c * sizeof(*v));
		if (v == NULL)
			return NULL;
		jobs = v;
		capjobs = c;
	}
	j = &jobs[njobs++];
	memset(j, 0, sizeof(*j));
	snprintf(j->id, sizeof(j->id), "%s", id);
	snprintf(j->key, sizeof(j->key), "%s", key);
	j->state = J_QUEUED;
	j->due_ms = created;
	j->created_ms = created;
	return j;
}

static struct job *
table_find(const char *id)
{
	for (size_t i = 0; i < njobs; i++)
		if (strcmp(jobs[i].id, id) == 0)
			return &jobs[i];
	return NULL;
}

static void
table_remove(const char *id)
{
	struct job *j = table_find(id);

	if (j == NULL)
		return;
	memmove(j, j + 1, (size_t)(&jobs[njobs] - (j + 1)) * sizeof(*j));
	njobs--;
}

int
async_spool(const char *key, char *const *params, FCGX_Stream *in,
    int body_fd, uint64_t max_body, char id[ASYNC_ID_LEN + 1],
    uint64_t *bytes)
{
	struct wb *w;
	char head[FN_KEY_MAX + 16], chunk[32768];
	uint64_t total = 0;
	int e = 0;

	if (!enabled) {
		errno = ENOSYS;
		return -1;
	}
	pthread_mutex_lock(&lock);
	bool full = njobs >= max_jobs;
	pthread_mutex_unlock(&lock);
	if (full) {
		errno = EAGAIN;
		return -1;
	}
	if ((w = malloc(sizeof(*w))) == NULL)
		return -1;
	new_id(id);
	w->len = 0;
	w->err = false;
	if ((w->fd = openat(d_tmp, id, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0) {
		e = errno;
		free(w);
		errno = e;
		return -1;
	}
	snprintf(head, sizeof(head), MAGIC "%s\n", key);
	memcpy(w->buf, head, strlen(head));
	w->len = strlen(head);
	{
		unsigned char b[FCGI_HEADER_LEN + sizeof(FCGI_BeginRequestBody)] =
		    { FCGI_VERSION_1, FCGI_BEGIN_REQUEST, 0, 1, 0, 8, 0, 0,
		    0, FCGI_RESPONDER, 0, 0, 0, 0, 0, 0 };
		memcpy(w->buf + w->len, b, sizeof(b));
		w->len += sizeof(b);
	}
	wb_params(w, params);
	for (;;) {
		ssize_t n = body_fd >= 0 ? read(body_fd, chunk, sizeof(chunk)) :
		    FCGX_GetStr(chunk, sizeof(chunk), in);
		if (n < 0 && body_fd >= 0 && errno == EINTR)
			continue;
		if (n < 0 || (body_fd < 0 && n == 0 && FCGX_GetError(in) != 0)) {
			e = EIO;        /* a body cut short is not a job */
			break;
		}
		if (n == 0)
			break;
		if ((total += (uint64_t)n) > max_body) {
			e = EFBIG;
			break;
		}
		wb_record(w, FCGI_STDIN, chunk, (size_t)n);
	}
	*bytes = total;
	wb_record(w, FCGI_STDIN, NULL, 0);
	wb_flush(w);
	if (e == 0 && w->err)
		e = errno ? errno : EIO;
	if (e == 0 && fsync(w->fd) < 0)
		e = errno;
	close(w->fd);
	free(w);
	if (e == 0 && renameat(d_tmp, id, d_new, id) < 0)
		e = errno;
	if (e != 0) {
		unlinkat(d_tmp, id, 0);
		errno = e;
		return -1;
	}
	if (fsync(d_new) < 0) {
		/* the name may not last: the client must not count on it */
		e = errno;
		unlinkat(d_new, id, 0);
		errno = e;
		return -1;
	}
	pthread_mutex_lock(&lock);
	if (table_add(id, key, now_ms()) == NULL) {
		pthread_mutex_unlock(&lock);
		unlinkat(d_new, id, 0);
		errno = ENOMEM;
		return -1;
	}
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	metrics_async(METRICS_ASYNC_ACCEPTED);
	return 0;
}

/* ---- running ------------------------------------------------------- */

static const struct fcap *
cap_of(const char *key)
{
	for (size_t i = 0; i < ncaps; i++)
		if (strcmp(caps[i].key, key) == 0)
			return &caps[i];
	return &defcap;
}

static unsigned
running_of(const char *key)
{
	unsigned n = 0;

	for (size_t i = 0; i < njobs; i++)
		n += jobs[i].state == J_RUNNING && strcmp(jobs[i].key, key) == 0;
	return n;
}

struct run {
	int fd;                   /* our end of the socketpair */
	char id[ASYNC_ID_LEN + 1];
	char key[FN_KEY_MAX];
	unsigned attempt;
	int64_t created_ms;
	int64_t deadline_ms;      /* no answer by then: a 504 attempt */
	bool timed_out;
	size_t result_max;
	/* the answer */
	struct cgiresp *cgi;
	bool headers_done, bad, ended;
	char *body;
	size_t blen;
	uint64_t btotal;
};

static void
on_stdout(struct run *r, const char *data, size_t len)
{
	size_t used = 0, keep;

	if (r->bad)
		return;
	if (!r->headers_done) {
		enum cgiresp_state st = cgiresp_feed(r->cgi, data, len, &used);
		if (st == CGIRESP_MORE)
			return;
		if (st == CGIRESP_ERROR) {
			r->bad = true;
			return;
		}
		r->headers_done = true;
	}
	data += used;
	len -= used;
	r->btotal += len;
	keep = r->result_max - r->blen;
	if (keep > len)
		keep = len;
	if (keep > 0) {
		char *b = realloc(r->body, r->blen + keep + 1);
		if (b == NULL)
			return;
		r->body = b;
		memcpy(b + r->blen, data, keep);
		r->blen += keep;
	}
}

/* Whole records at the front of BUF (*LEN bytes) handled and removed. */
static void
take_records(struct run *r, unsigned char *buf, size_t *len)
{
	size_t pos = 0;

	while (*len - pos >= FCGI_HEADER_LEN) {
		unsigned char *h = buf + pos;
		size_t clen = (size_t)h[4] << 8 | h[5], plen = h[6];
		if (*len - pos < FCGI_HEADER_LEN + clen + plen)
			break;
		if (h[1] == FCGI_STDOUT)
			on_stdout(r, (char *)h + FCGI_HEADER_LEN, clen);
		else if (h[1] == FCGI_END_REQUEST)
			r->ended = true;
		pos += FCGI_HEADER_LEN + clen + plen;
	}
	memmove(buf, buf + pos, *len - pos);
	*len -= pos;
}

/* The job file (after its first line) to the socket while the answer
 * is read: both at once, as nginx does, so a function that answers
 * before it has read its body never stalls. */
static void
exchange(struct run *r, int jf, off_t from)
{
	static const size_t inmax = FCGI_HEADER_LEN + 65535 + 255;
	unsigned char *in = malloc(inmax), *out = malloc(65536);
	size_t ilen = 0, olen = 0, opos = 0;
	bool file_done = false;

	if (in == NULL || out == NULL)
		goto done;
	if (lseek(jf, from, SEEK_SET) < 0)
		file_done = true;
	(void)fcntl(r->fd, F_SETFL, fcntl(r->fd, F_GETFL) | O_NONBLOCK);
	while (!r->ended) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		ssize_t n;

		if (opos == olen && !file_done) {
			n = read(jf, out, 65536);
			if (n <= 0)
				file_done = true;
			else {
				olen = (size_t)n;
				opos = 0;
			}
		}
		if (opos < olen)
			p.events |= POLLOUT;
		int64_t left = r->deadline_ms - now_ms();
		if (left <= 0) {
			r->timed_out = true;
			break;
		}
		n = poll(&p, 1, left > 1000 ? 1000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;       /* or break: checked above */
		if (p.revents & POLLOUT) {
			n = send(r->fd, out + opos, olen - opos, MSG_NOSIGNAL);
			if (n > 0)
				opos += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				file_done = true, opos = olen;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(r->fd, in + ilen, inmax - ilen);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				break;
			if (n > 0) {
				ilen += (size_t)n;
				take_records(r, in, &ilen);
			}
		}
	}
done:
	free(in);
	free(out);
}

/* The function's status, or what its answer's absence means. */
static int
answer_status(struct run *r)
{
	const char *reason;
	int st;

	if (r->timed_out)
		return 504;
	if (!r->ended || r->bad || !r->headers_done)
		return 502;
	if ((st = cgiresp_status(r->cgi, &reason)) == 0)
		st = cgiresp_find(r->cgi, "Location") ? 302 : 200;
	return st;
}

void
async_note(const char *id, const char *attempt, const struct async_outcome *o)
{
	struct note *n;

	pthread_mutex_lock(&lock);
	n = &notes[note_next++ % NOTES];
	snprintf(n->id, sizeof(n->id), "%s", id);
	n->attempt = (unsigned)strtoul(attempt, NULL, 10);
	n->status = o->status;
	n->signal = o->signal;
	snprintf(n->outcome, sizeof(n->outcome), "%s", o->outcome ? o->outcome : "");
	snprintf(n->code, sizeof(n->code), "%s", o->code ? o->code : "");
	pthread_cond_broadcast(&noted);
	pthread_mutex_unlock(&lock);
}

/* The record's note of R's attempt, waited for a while: the record is
 * written after the teardown, which may outlast the answer by up to
 * kill_grace. false: none came (the answer alone decides). Lock held. */
static bool
take_note(struct run *r, struct note *out, int64_t wait_ms)
{
	struct timespec ts;
	int64_t until = now_ms() + wait_ms;

	for (;;) {
		for (size_t i = 0; i < NOTES; i++)
			if (notes[i].attempt == r->attempt &&
			    strcmp(notes[i].id, r->id) == 0) {
				*out = notes[i];
				notes[i].id[0] = '\0';
				return true;
			}
		if (now_ms() >= until)
			return false;
		ts.tv_sec = (time_t)(until / 1000);
		ts.tv_nsec = (long)(until % 1000) * 1000000;
		(void)pthread_cond_timedwait(&noted, &lock, &ts);
	}
}

/* The JSON of a finished attempt. */
static void
result_json(struct sb *b, struct run *r, const char *state, int status,
    int64_t next_ms, const char *outcome)
{
	sb_add(b, "{\"id\":\"%s\",", r->id);
	sb_function(b, r->key);
	sb_add(b, ",\"status\":\"%s\",\"attempts\":%u", state, r->attempt);
	sb_time(b, "created", r->created_ms);
	sb_time(b, "finished", now_ms());
	if (next_ms > 0)
		sb_time(b, "next_attempt", next_ms);
	if (outcome != NULL) {
		sb_add(b, ",\"outcome\":");
		sb_str(b, outcome);     /* crashed, timeout...: not "ok" */
	}
	sb_add(b, ",\"result\":{\"status\":%d,\"headers\":{", status);
	for (size_t i = 0; r->headers_done && i < cgiresp_count(r->cgi); i++) {
		const struct cgiresp_header *h = cgiresp_get(r->cgi, i);
		if (i > 0)
			sb_add(b, ",");
		sb_str(b, h->name);
		sb_add(b, ":");
		sb_str(b, h->value);
	}
	sb_add(b, "},");
	if (r->blen == 0 || is_utf8(r->body, r->blen)) {
		sb_add(b, "\"body\":");
		sb_json(b, r->body ? r->body : "", r->blen);
	} else {
		sb_need(b, 4 * ((r->blen + 2) / 3) + 32);
		if (!b->oom) {
			sb_add(b, "\"body_base64\":\"");
			b->len += (size_t)EVP_EncodeBlock((unsigned char *)b->p +
			    b->len, (unsigned char *)r->body, (int)r->blen);
			sb_add(b, "\"");
		}
	}
	sb_add(b, ",\"body_bytes\":%" PRIu64 ",\"truncated\":%s}}\n", r->btotal,
	    r->btotal > r->blen ? "true" : "false");
}

/* The attempt R made ended: its result on disk, the job done, due
 * again or dead. */
static void
finish(struct run *r)
{
	int status = answer_status(r);
	const struct fcap *c;
	const char *state;
	int64_t next = 0;
	struct sb b = { 0 };
	struct note nt;
	bool noted_ok, failed;
	struct job *j;

	pthread_mutex_lock(&lock);
	c = cap_of(r->key);
	unsigned retries = c->retries;
	uint64_t backoff = c->backoff_ms;
	noted_ok = !r->timed_out && take_note(r, &nt, 15000);
	j = table_find(r->id);
	if (j != NULL && noted_ok && strcmp(nt.outcome, "rejected") == 0 &&
	    (strcmp(nt.code, "busy") == 0 || strcmp(nt.code, "draining") == 0) &&
	    j->deferrals < BUSY_MAX) {
		/* fnlauncher refused it, it never ran: not an attempt */
		j->deferrals++;
		j->attempts--;
		j->state = j->attempts > 0 ? J_FAILED : J_QUEUED;
		j->due_ms = now_ms() + BUSY_RETRY_MS;
		running--;
		pthread_cond_signal(&wake);
		pthread_mutex_unlock(&lock);
		return;
	}
	pthread_mutex_unlock(&lock);

	/* 5xx, a crash or a timeout, also after the headers went out */
	failed = status >= 500 || (noted_ok && (nt.status >= 500 ||
	    nt.signal > 0 || strcmp(nt.outcome, "timeout") == 0 ||
	    strcmp(nt.outcome, "crashed") == 0 ||
	    strcmp(nt.outcome, "exec_failed") == 0));
	if (!failed)
		state = "done";
	else if (r->attempt <= retries) {
		state = "failed";
		next = now_ms() + (int64_t)(backoff << (r->attempt - 1 < 20 ?
		    r->attempt - 1 : 20));
	} else
		state = "dead";
	sb_add(&b, MAGIC "%s %u %lld %s\n", state, r->attempt, (long long)next,
	    r->key);
	result_json(&b, r, state, status, next,
	    noted_ok && strcmp(nt.outcome, "ok") != 0 ? nt.outcome : NULL);
	if (b.oom || put_file(d_res, r->id, b.p, b.len, next == 0) < 0) {
		/* without its result the job is not over: it runs again */
		fnlog(FNLOG_ERROR, "job %s of %s: cannot write its result in "
		    "%s/results: %s: it runs again in %d s", r->id, r->key,
		    spool_path, b.oom ? "out of memory" : strerror(errno),
		    BUSY_RETRY_MS * 10 / 1000);
		free(b.p);
		pthread_mutex_lock(&lock);
		running--;
		if ((j = table_find(r->id)) != NULL) {
			j->attempts--;
			j->state = j->attempts > 0 ? J_FAILED : J_QUEUED;
			j->due_ms = now_ms() + BUSY_RETRY_MS * 10;
		}
		pthread_cond_signal(&wake);
		pthread_mutex_unlock(&lock);
		return;
	}
	free(b.p);
	if (strcmp(state, "done") == 0) {
		unlinkat(d_new, r->id, 0);
		metrics_async(METRICS_ASYNC_DONE);
	} else if (strcmp(state, "dead") == 0) {
		if (renameat(d_new, r->id, d_dead, r->id) < 0)
			fnlog(FNLOG_ERROR, "job %s: cannot move it to %s/dead: %s",
			    r->id, spool_path, strerror(errno));
		fnlog(FNLOG_WARN, "job %s of %s: dead after %u attempts (last "
		    "status %d%s%s): its request is in %s/dead/%s", r->id,
		    r->key, r->attempt, status, noted_ok ? ", " : "",
		    noted_ok ? nt.outcome : "", spool_path, r->id);
		metrics_async(METRICS_ASYNC_DEAD);
	} else {
		fnlog(FNLOG_INFO, "job %s of %s: attempt %u answered %d%s%s, the "
		    "next in %lld ms", r->id, r->key, r->attempt, status,
		    noted_ok ? ", " : "", noted_ok ? nt.outcome : "",
		    (long long)(next - now_ms()));
		metrics_async(METRICS_ASYNC_RETRIED);
	}
	pthread_mutex_lock(&lock);
	running--;
	if (next > 0 && (j = table_find(r->id)) != NULL) {
		j->state = J_FAILED;
		j->due_ms = next;
	} else
		table_remove(r->id);
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
}

static void *
run_thread(void *arg)
{
	struct run *r = arg;
	char line[512], at[16];
	ssize_t from;
	int jf = openat(d_new, r->id, O_RDONLY | O_CLOEXEC);

	if (jf < 0 || (from = first_line(d_new, r->id, line, sizeof(line))) < 0) {
		/* taken away (by hand?): the job is over */
		fnlog(FNLOG_WARN, "job %s: its file %s/new/%s is gone or "
		    "unreadable", r->id, spool_path, r->id);
		if (jf >= 0)
			close(jf);
		close(r->fd);
		pthread_mutex_lock(&lock);
		running--;
		table_remove(r->id);
		pthread_cond_signal(&wake);
		pthread_mutex_unlock(&lock);
		cgiresp_free(r->cgi);
		free(r);
		return NULL;
	}
	snprintf(at, sizeof(at), "%u", r->attempt);
	/* The attempt counts even if the daemon dies during it: read back
	 * after a restart, it is a failed one ("interrupted") and the job
	 * runs again at once. (Not fsync'd: losing it costs a count.) */
	{
		struct sb b = { 0 };
		sb_add(&b, MAGIC "running %u 0 %s\n{\"id\":\"%s\",", r->attempt,
		    r->key, r->id);
		sb_function(&b, r->key);
		sb_add(&b, ",\"status\":\"failed\",\"attempts\":%u", r->attempt);
		sb_time(&b, "created", r->created_ms);
		sb_add(&b, ",\"outcome\":\"interrupted\"}\n");
		if (!b.oom)
			(void)put_file(d_res, r->id, b.p, b.len, false);
		free(b.p);
	}
	/* BEGIN_REQUEST and the file's own is skipped: see the file's
	 * layout; ours come first, so they win over anything spooled */
	off_t skip = from + FCGI_HEADER_LEN + (off_t)sizeof(FCGI_BeginRequestBody);
	if (fcgiw_begin(r->fd) &&
	    fcgiw_param(r->fd, "FN_TRIGGER", "async") &&
	    fcgiw_param(r->fd, "FN_TRIGGER_KEY", trigger_key) &&
	    fcgiw_param(r->fd, "FN_JOB_ID", r->id) &&
	    fcgiw_param(r->fd, "FN_JOB_ATTEMPT", at))
		exchange(r, jf, skip);
	close(jf);
	close(r->fd);
	finish(r);
	cgiresp_free(r->cgi);
	free(r->body);
	free(r);
	return NULL;
}

/* Start job J (lock held). false: it could not start now. */
static bool
start(struct job *j)
{
	struct run *r = calloc(1, sizeof(*r));
	int sv[2] = { -1, -1 };
	pthread_attr_t at;
	pthread_t t;

	if (r == NULL || (r->cgi = cgiresp_new(CGIRESP_MAX_HEADER)) == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		goto fail;
	snprintf(r->id, sizeof(r->id), "%s", j->id);
	snprintf(r->key, sizeof(r->key), "%s", j->key);
	r->attempt = j->attempts + 1;
	r->created_ms = j->created_ms;
	r->deadline_ms = now_ms() + (int64_t)cap_of(j->key)->limit_ms + 30000;
	r->result_max = (size_t)result_max;
	r->fd = sv[1];
	if (threadpool_submit(sv[0]) < 0)
		goto fail;
	sv[0] = -1;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 128 * 1024);
	if (pthread_create(&t, &at, run_thread, r) != 0) {
		pthread_attr_destroy(&at);
		close(sv[1]);
		cgiresp_free(r->cgi);
		free(r);
		return false;
	}
	pthread_attr_destroy(&at);
	j->state = J_RUNNING;
	j->attempts++;
	running++;
	return true;
fail:
	fnlog(FNLOG_ERROR, "job %s: cannot start: %s", j->id, strerror(errno));
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (r != NULL)
		cgiresp_free(r->cgi);
	free(r);
	return false;
}

/* Results older than async_keep removed (not those of jobs still due). */
static void
sweep(void)
{
	int fd = dup(d_res);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	int64_t now = now_ms();

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		bool active;

		if (!valid_id(e->d_name) ||
		    fstatat(d_res, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    now - ((int64_t)st.st_mtim.tv_sec * 1000) < (int64_t)keep_ms)
			continue;
		pthread_mutex_lock(&lock);
		active = table_find(e->d_name) != NULL;
		pthread_mutex_unlock(&lock);
		if (!active)
			unlinkat(d_res, e->d_name, 0);
	}
	closedir(d);
}

static void *
loop(void *arg)
{
	int64_t last_sweep = 0;

	pthread_mutex_lock(&lock);
	while (!stopping) {
		int64_t now = now_ms(), next = now + SWEEP_MS;
		struct timespec ts;

		if (now - last_sweep >= SWEEP_MS) {
			pthread_mutex_unlock(&lock);
			sweep();
			pthread_mutex_lock(&lock);
			last_sweep = now;
		}
		/* functions found at their concurrency in this pass */
		const char *full[16];
		size_t nfull = 0;
		for (size_t i = 0; i < njobs && !server_draining(); i++) {
			struct job *j = &jobs[i];
			const struct fcap *c;
			bool skip = false;

			if (j->state == J_RUNNING)
				continue;
			if (j->due_ms > now) {
				if (j->due_ms < next)
					next = j->due_ms;
				continue;
			}
			if (running >= global_cap)
				break;
			for (size_t k = 0; k < nfull && !skip; k++)
				skip = strcmp(full[k], j->key) == 0;
			if (skip)
				continue;
			c = cap_of(j->key);
			if (c->concurrency > 0 && running_of(j->key) >= c->concurrency) {
				if (nfull < sizeof(full) / sizeof(full[0]))
					full[nfull++] = j->key;
				continue;
			}
			if (!start(j) && now + BUSY_RETRY_MS < next) {
				j->due_ms = now + BUSY_RETRY_MS;
				next = j->due_ms;
			}
		}
		ts.tv_sec = (time_t)(next / 1000);
		ts.tv_nsec = (long)(next % 1000) * 1000000;
		(void)pthread_cond_timedwait(&wake, &lock, &ts);
	}
	pthread_mutex_unlock(&lock);
	return arg;
}

/* ---- start-up ------------------------------------------------------ */

static int
subdir(const char *name)
{
	if (mkdirat(d_root, name, 0700) < 0 && errno != EEXIST)
		return -1;
	return openat(d_root, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
}

static int
cmp_created(const void *a, const void *b)
{
	const struct job *x = a, *y = b;

	return (x->created_ms > y->created_ms) - (x->created_ms < y->created_ms);
}

/* The jobs of new/ back into the table; tmp/ emptied. */
static void
recover(void)
{
	int fd;
	DIR *d;
	struct dirent *e;
	unsigned queued = 0, again = 0, cleared = 0;

	if ((fd = dup(d_tmp)) >= 0 && (d = fdopendir(fd)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				unlinkat(d_tmp, e->d_name, 0);
		closedir(d);
	}
	if ((fd = dup(d_new)) < 0 || (d = fdopendir(fd)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char line[512], state[16] = "", rkey[FN_KEY_MAX];
		unsigned attempts = 0;
		int64_t due = 0;
		bool meta;
		struct stat st;
		struct job *j;

		if (!valid_id(e->d_name) ||
		    first_line(d_new, e->d_name, line, sizeof(line)) < 0 ||
		    fstatat(d_new, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		meta = result_meta(e->d_name, state, sizeof(state), &attempts,
		    &due, rkey, sizeof(rkey));
		if (!meta)
			attempts = 0, due = 0;
		if (meta && (strcmp(state, "done") == 0 ||
		    strcmp(state, "dead") == 0)) {
			/* its result was written: finish what was under way */
			if (strcmp(state, "dead") == 0)
				(void)renameat(d_new, e->d_name, d_dead, e->d_name);
			else
				unlinkat(d_new, e->d_name, 0);
			cleared++;
			continue;
		}
		j = table_add(e->d_name, line + strlen(MAGIC),
		    (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000);
		if (j == NULL)
			break;
		if (meta && attempts > 0) {
			/* failed and due at DUE, or running when the daemon
			 * died: again now */
			j->state = J_FAILED;
			j->attempts = attempts;
			j->due_ms = strcmp(state, "failed") == 0 ? due : 0;
		}
		queued++;
		again += j->attempts > 0;
	}
	closedir(d);
	if (njobs > 1)
		qsort(jobs, njobs, sizeof(*jobs), cmp_created);
	if (queued + cleared > 0)
		fnlog(FNLOG_INFO, "spool %s: %u job%s to run (%u of them "
		    "after a failed attempt)%s", spool_path, queued,
		    queued == 1 ? "" : "s", again,
		    cleared ? "; finished ones cleared" : "");
}

int
async_open(const struct manifest *m)
{
	struct stat st;
	int lk, lk2;

	tried = true;
	snprintf(spool_path, sizeof(spool_path), "%s", m->spool_dir);
	/* its parents as mkdir -p would (0755), itself 0700 */
	for (char *sl = strchr(spool_path + 1, '/'); sl != NULL;
	    sl = strchr(sl + 1, '/')) {
		*sl = '\0';
		(void)mkdir(spool_path, 0755);
		*sl = '/';
	}
	if (mkdir(spool_path, 0700) < 0 && errno != EEXIST) {
		fnlog(FNLOG_WARN, "spool_dir %s: %s: async requests get 503",
		    spool_path, strerror(errno));
		return -1;
	}
	if ((d_root = open(spool_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW)) < 0 ||
	    fstat(d_root, &st) < 0) {
		fnlog(FNLOG_WARN, "spool_dir %s: %s: async requests get 503",
		    spool_path, strerror(errno));
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		fnlog(FNLOG_WARN, "spool_dir %s: owned by uid %u, not by "
		    "fnlauncher's: async requests get 503", spool_path,
		    (unsigned)st.st_uid);
		goto fail;
	}
	if ((st.st_mode & 077) != 0)
		(void)fchmod(d_root, 0700);     /* job bodies are private */
	if ((lk = openat(d_root, "lock", O_RDONLY | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(lk, LOCK_EX | LOCK_NB) < 0) {
		fnlog(FNLOG_WARN, "spool_dir %s: %s: async requests get 503",
		    spool_path, errno == EWOULDBLOCK ?
		    "another fnlauncher uses it" : strerror(errno));
		if (lk >= 0)
			close(lk);
		goto fail;
	}
	/* lk stays open (and locked) while the daemon runs */
	if ((d_tmp = subdir("tmp")) < 0 || (d_new = subdir("new")) < 0 ||
	    (d_res = subdir("results")) < 0 || (d_dead = subdir("dead")) < 0 ||
	    (lk2 = subdir("schedules")) < 0) {
		fnlog(FNLOG_WARN, "spool_dir %s: cannot make its folders: %s: "
		    "async requests get 503", spool_path, strerror(errno));
		goto fail;
	}
	close(lk2);             /* the scheduler's (catch_up) */
	recover();
	new_id(trigger_key);
	enabled = true;
	fnlog(FNLOG_INFO, "spool %s: async invocations on", spool_path);
	return 0;
fail:
	{
		int *fds[] = { &d_root, &d_tmp, &d_new, &d_res, &d_dead };
		for (size_t k = 0; k < sizeof(fds) / sizeof(fds[0]); k++) {
			if (*fds[k] >= 0)
				close(*fds[k]);
			*fds[k] = -1;
		}
	}
	return -1;
}

static void
add_caps(const struct manifest *m, struct fcap **v, size_t *n, size_t *cap)
{
	for (size_t i = 0; i < m->nfunctions; i++) {
		const struct fn_spec *f = &m->functions[i];
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 16;
			struct fcap *w = realloc(*v, c * sizeof(*w));
			if (w == NULL)
				return;
			*v = w;
			*cap = c;
		}
		fn_spec_key(f, (*v)[*n].key, sizeof((*v)[*n].key));
		(*v)[*n].concurrency = f->concurrency;
		(*v)[*n].retries = f->retries;
		(*v)[*n].backoff_ms = f->retry_backoff_ms;
		(*v)[*n].limit_ms = f->queue_timeout_ms + f->timeout_ms +
		    f->kill_grace_ms;
		(*n)++;
	}
}

void
async_load(const struct manifest *m)
{
	struct fcap *v = NULL;
	size_t n = 0, cap = 0;

	add_caps(m, &v, &n, &cap);
	for (size_t t = 0; t < m->ntenants; t++)
		add_caps(m->tenants[t], &v, &n, &cap);
	pthread_mutex_lock(&lock);
	free(caps);
	caps = v;
	ncaps = n;
	defcap.concurrency = m->defaults.concurrency;
	defcap.retries = m->defaults.retries;
	defcap.backoff_ms = m->defaults.retry_backoff_ms;
	defcap.limit_ms = m->defaults.queue_timeout_ms + m->defaults.timeout_ms +
	    m->defaults.kill_grace_ms;
	global_cap = m->workers / 2 > 0 ? m->workers / 2 : 1;
	keep_ms = m->async_keep_ms;
	result_max = m->async_result_max;
	max_jobs = m->async_max_jobs;
	if (enabled && strcmp(m->spool_dir, spool_path) != 0)
		fnlog(FNLOG_WARN, "spool_dir changed to %s: it takes a restart; "
		    "%s stays in use", m->spool_dir, spool_path);
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
}

int
async_start(void)
{
	pthread_condattr_t ca;

	if (!enabled)
		return 0;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_REALTIME);
	pthread_cond_init(&wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&thread, NULL, loop, NULL) != 0)
		return -1;
	started = true;
	return 0;
}

void
async_stop(void)
{
	if (!started)
		return;
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	started = false;
}

/* ---- status -------------------------------------------------------- */

/* The JSON part of results/ID (after its first line), or NULL. */
static char *
read_result(const char *id, size_t *len)
{
	int fd = openat(d_res, id, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf, *nl;
	ssize_t n;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || st.st_size > (off_t)(400u << 20) ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	n = pread(fd, buf, (size_t)st.st_size, 0);
	close(fd);
	if (n <= 0 || (buf[n] = '\0', nl = memchr(buf, '\n', (size_t)n)) == NULL) {
		free(buf);
		errno = ENOENT;
		return NULL;
	}
	*len = (size_t)(buf + n - (nl + 1));
	memmove(buf, nl + 1, *len + 1);
	return buf;
}

char *
async_status(const char *id, size_t *len)
{
	static const char *const names[] = { "queued", "running", "failed" };
	struct sb b = { 0 };
	struct job *j;
	struct stat st;
	char *text;

	if (!enabled || !valid_id(id)) {
		errno = ENOENT;
		return NULL;
	}
	pthread_mutex_lock(&lock);
	if ((j = table_find(id)) != NULL && j->state != J_FAILED) {
		sb_add(&b, "{\"id\":\"%s\",", j->id);
		sb_function(&b, j->key);
		sb_add(&b, ",\"status\":\"%s\",\"attempts\":%u",
		    names[j->state], j->attempts);
		sb_time(&b, "created", j->created_ms);
		sb_add(&b, "}\n");
		pthread_mutex_unlock(&lock);
		if (b.oom) {
			free(b.p);
			errno = ENOMEM;
			return NULL;
		}
		*len = b.len;
		return b.p;
	}
	pthread_mutex_unlock(&lock);
	if ((text = read_result(id, len)) != NULL)
		return text;
	if (fstatat(d_dead, id, &st, 0) == 0) {
		/* a dead letter whose result went past async_keep */
		sb_add(&b, "{\"id\":\"%s\",\"status\":\"dead\"}\n", id);
		*len = b.len;
		return b.p;
	}
	errno = ENOENT;
	return NULL;
}

/* ---- -t ------------------------------------------------------------- */

static long
count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += valid_id(e->d_name);
	closedir(d);
	return n;
}

void
async_describe(const struct manifest *m, preflight_report report, void *arg)
{
	char msg[1400], p[1100];
	struct stat st;
	long q, dead;

	if (stat(m->spool_dir, &st) < 0) {
		snprintf(msg, sizeof(msg), "spool_dir %s: %s (made at start-up)",
		    m->spool_dir, strerror(errno));
		report(PREFLIGHT_INFO, msg, arg);
		return;
	}
	snprintf(p, sizeof(p), "%s/new", m->spool_dir);
	q = count_dir(p);
	snprintf(p, sizeof(p), "%s/dead", m->spool_dir);
	dead = count_dir(p);
	snprintf(msg, sizeof(msg), "spool_dir %s: %ld job%s queued, %ld dead "
	    "letter%s", m->spool_dir, q > 0 ? q : 0, q == 1 ? "" : "s",
	    dead > 0 ? dead : 0, dead == 1 ? "" : "s");
	report(PREFLIGHT_INFO, msg, arg);
	if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
		snprintf(msg, sizeof(msg), "spool_dir %s: should be fnlauncher's "
		    "own, mode 0700 (it holds request bodies)", m->spool_dir);
		report(PREFLIGHT_WARNING, msg, arg);
	}
}
