/* spool.c — see spool.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fastcgi.h>

#include "fcgiwrite.h"
#include "fnlog.h"
#include "spool.h"

static int d_root = -1, d_tmp = -1, d_new = -1, d_res = -1, d_dead = -1;
static char path[1024];

const char *
spool_dir(void)
{
	return path;
}

bool
spool_valid_id(const char *id)
{
	return strlen(id) == SPOOL_ID_LEN &&
	    strspn(id, "0123456789abcdef") == SPOOL_ID_LEN;
}

void
spool_new_id(char id[SPOOL_ID_LEN + 1])
{
	unsigned char r[SPOOL_ID_LEN / 2];
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
		if (n > 0)
			got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(id + 2 * i, 3, "%02x", r[i]);
}

/* A file of the spool written whole: DIR/NAME through tmp/, fsync'd
 * (FSYNC_DIR: the folder too). 0 or -1 with errno. */
static int
put_file(int dir, const char *name, const char *data, size_t len,
    bool fsync_dir)
{
	char tmp[SPOOL_ID_LEN + 8];
	int fd, e;

	snprintf(tmp, sizeof(tmp), "r-%s", name);
	if ((fd = openat(d_tmp, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0)
		return -1;
	if (!fcgiw_all(fd, data, len) || fsync(fd) < 0) {
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
	    strncmp(line, SPOOL_MAGIC, strlen(SPOOL_MAGIC)) != 0)
		return -1;
	*nl = '\0';
	return nl - line + 1;
}

/* A result's first line: state, attempts, when the next is due, key. */
bool
spool_result_meta(const char *id, char *state, size_t ssize, unsigned *attempts,
    int64_t *due, char *key, size_t ksize)
{
	char line[512], st[16], k[FN_KEY_MAX];
	long long d;

	if (first_line(d_res, id, line, sizeof(line)) < 0 ||
	    sscanf(line + strlen(SPOOL_MAGIC), "%15s %u %lld %129s", st, attempts,
	    &d, k) != 4)
		return false;
	snprintf(state, ssize, "%s", st);
	snprintf(key, ksize, "%s", k);
	*due = d;
	return true;
}

/* ---- a job's file ---------------------------------------------- */

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
	if (!w->err && w->len > 0 && !fcgiw_all(w->fd, w->buf, w->len))
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

/* The JSON part of results/ID (after its first line), or NULL. */
char *
spool_read_result(const char *id, size_t *len)
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

static long
count_dir(const char *folder)
{
	DIR *d = opendir(folder);
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += spool_valid_id(e->d_name);
	closedir(d);
	return n;
}

static int
subdir(const char *name)
{
	if (mkdirat(d_root, name, 0700) < 0 && errno != EEXIST)
		return -1;
	return openat(d_root, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
}

/* The request's body into W as FCGI_STDIN records, at most MAX_BODY
 * bytes (*BYTES: how many). 0, or an errno: EFBIG, EIO (cut short). */
static int
wb_body(struct wb *w, FCGX_Stream *in, int body_fd, uint64_t max_body,
    uint64_t *bytes)
{
	char chunk[32768];
	uint64_t total = 0;
	int e = 0;

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
	return e;
}

int
spool_write_job(const char *key, char *const *params, FCGX_Stream *in,
    int body_fd, uint64_t max_body, char id[SPOOL_ID_LEN + 1],
    uint64_t *bytes)
{
	static const unsigned char begin[FCGI_HEADER_LEN +
	    sizeof(FCGI_BeginRequestBody)] = { FCGI_VERSION_1,
	    FCGI_BEGIN_REQUEST, 0, 1, 0, 8, 0, 0, 0, FCGI_RESPONDER, 0, 0, 0, 0,
	    0, 0 };
	struct wb *w;
	int e;

	if ((w = malloc(sizeof(*w))) == NULL)
		return -1;
	spool_new_id(id);
	w->err = false;
	if ((w->fd = openat(d_tmp, id, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0) {
		e = errno;
		free(w);
		errno = e;
		return -1;
	}
	w->len = (size_t)snprintf((char *)w->buf, 256, SPOOL_MAGIC "%s\n", key);
	memcpy(w->buf + w->len, begin, sizeof(begin));
	w->len += sizeof(begin);
	wb_params(w, params);
	e = wb_body(w, in, body_fd, max_body, bytes);
	wb_flush(w);
	if (e == 0 && w->err)
		e = errno ? errno : EIO;
	if (e == 0 && fsync(w->fd) < 0)
		e = errno;
	close(w->fd);
	free(w);
	if (e == 0 && renameat(d_tmp, id, d_new, id) < 0)
		e = errno;
	if (e == 0 && fsync(d_new) < 0) {
		/* the name may not last: the client must not count on it */
		e = errno;
		unlinkat(d_new, id, 0);
	}
	if (e != 0) {
		unlinkat(d_tmp, id, 0);
		errno = e;
		return -1;
	}
	return 0;
}

int
spool_put_result(const char *id, const char *data, size_t len, bool durable)
{
	return put_file(d_res, id, data, len, durable);
}

int
spool_open_job(const char *id, off_t *records)
{
	char line[512];
	ssize_t from;
	int fd = openat(d_new, id, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if ((from = first_line(d_new, id, line, sizeof(line))) < 0) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	/* the file's own BEGIN_REQUEST is the runner's to send */
	*records = (off_t)from + FCGI_HEADER_LEN +
	    (off_t)sizeof(FCGI_BeginRequestBody);
	return fd;
}

void
spool_done(const char *id)
{
	unlinkat(d_new, id, 0);
}

int
spool_bury(const char *id)
{
	return renameat(d_new, id, d_dead, id);
}

bool
spool_is_dead(const char *id)
{
	struct stat st;

	return fstatat(d_dead, id, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

void
spool_each_job(spool_job_fn fn, void *arg)
{
	int fd = dup(d_new);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char line[512];
		struct stat st;

		if (!spool_valid_id(e->d_name) ||
		    first_line(d_new, e->d_name, line, sizeof(line)) < 0 ||
		    fstatat(d_new, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		fn(e->d_name, line + strlen(SPOOL_MAGIC),
		    (int64_t)st.st_mtim.tv_sec * 1000 +
		    st.st_mtim.tv_nsec / 1000000, arg);
	}
	closedir(d);
}

void
spool_sweep(uint64_t keep_ms, bool (*active)(const char *id))
{
	int fd = dup(d_res);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	struct timespec now;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	rewinddir(d);
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (!spool_valid_id(e->d_name) ||
		    fstatat(d_res, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    ((int64_t)now.tv_sec - st.st_mtim.tv_sec) * 1000 <
		    (int64_t)keep_ms)
			continue;
		if (!active(e->d_name))
			unlinkat(d_res, e->d_name, 0);
	}
	closedir(d);
}

/* The folders' fds closed. */
static void
close_all(void)
{
	int *fds[] = { &d_root, &d_tmp, &d_new, &d_res, &d_dead };

	for (size_t k = 0; k < sizeof(fds) / sizeof(fds[0]); k++) {
		if (*fds[k] >= 0)
			close(*fds[k]);
		*fds[k] = -1;
	}
}

/* Why the folder FD (its stat ST) cannot be a spool, into WHY, or NULL:
 * it must be the daemon's, 0700 (it holds request bodies), and hold
 * nothing but a spool's own entries — a spool_dir naming a shared
 * folder by mistake is refused, never taken over. */
static const char *
refusal(int fd, const struct stat *st, char *why, size_t size)
{
	static const char *const own[] = { "tmp", "new", "results", "dead",
	    "schedules", "lock", "lost+found" };
	int dfd;
	DIR *d;
	struct dirent *e;

	if (st->st_uid != geteuid()) {
		snprintf(why, size, "owned by uid %u, not by fnlauncher's",
		    (unsigned)st->st_uid);
		return why;
	}
	if ((st->st_mode & 077) != 0) {
		snprintf(why, size, "mode %04o: it must be fnlauncher's alone "
		    "(0700: it holds request bodies); chmod 0700 it or name a "
		    "new folder", (unsigned)(st->st_mode & 07777));
		return why;
	}
	if ((dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (d = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		snprintf(why, size, "%s", strerror(errno));
		return why;
	}
	why[0] = '\0';
	while ((e = readdir(d)) != NULL && why[0] == '\0') {
		bool ok = strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0;
		for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
			ok = ok || strcmp(e->d_name, own[i]) == 0;
		if (!ok)
			snprintf(why, size, "it holds %.64s, not a spool's: name "
			    "a folder of its own", e->d_name);
	}
	closedir(d);
	return why[0] != '\0' ? why : NULL;
}

/* DIR's parents as mkdir -p would (0755), itself 0700, opened without
 * following a symlink; refused unless it is fit for a spool. */
static int
make_root(void)
{
	char why[300];
	struct stat st;

	for (char *sl = strchr(path + 1, '/'); sl != NULL;
	    sl = strchr(sl + 1, '/')) {
		*sl = '\0';
		(void)mkdir(path, 0755);
		*sl = '/';
	}
	if ((mkdir(path, 0700) < 0 && errno != EEXIST) ||
	    (d_root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW)) < 0 || fstat(d_root, &st) < 0) {
		fnlog(FNLOG_WARN, "spool_dir %s: %s: async requests get 503",
		    path, strerror(errno));
		return -1;
	}
	if (refusal(d_root, &st, why, sizeof(why)) != NULL) {
		fnlog(FNLOG_WARN, "spool_dir %s: %s: async requests get 503",
		    path, why);
		return -1;
	}
	return 0;
}

int
spool_open(const char *dir)
{
	int lk, sch;
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s", dir);
	if (make_root() < 0)
		goto fail;
	if ((lk = openat(d_root, "lock", O_RDONLY | O_CREAT | O_CLOEXEC,
	    0600)) < 0 || flock(lk, LOCK_EX | LOCK_NB) < 0) {
		fnlog(FNLOG_WARN, "spool_dir %s: %s: async requests get 503",
		    path, errno == EWOULDBLOCK ?
		    "another fnlauncher uses it" : strerror(errno));
		if (lk >= 0)
			close(lk);
		goto fail;
	}
	/* lk stays open (and locked) while the daemon runs */
	if ((d_tmp = subdir("tmp")) < 0 || (d_new = subdir("new")) < 0 ||
	    (d_res = subdir("results")) < 0 || (d_dead = subdir("dead")) < 0 ||
	    (sch = subdir("schedules")) < 0) {
		fnlog(FNLOG_WARN, "spool_dir %s: cannot make its folders: %s: "
		    "async requests get 503", path, strerror(errno));
		goto fail;
	}
	close(sch);             /* the scheduler's (catch_up) */
	/* what was being written when the daemon stopped was never a job */
	if ((lk = dup(d_tmp)) >= 0 && (d = fdopendir(lk)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				unlinkat(d_tmp, e->d_name, 0);
		closedir(d);
	}
	return 0;
fail:
	close_all();
	return -1;
}

size_t
spool_describe(const char *dir, preflight_report report, void *arg)
{
	char msg[1400], p[1100], why[300], up[1024];
	struct stat st;
	long q, dead;
	int fd;

	if (lstat(dir, &st) < 0) {
		/* the nearest folder above it: can the daemon make it? */
		snprintf(up, sizeof(up), "%s", dir);
		for (char *sl; (sl = strrchr(up, '/')) != NULL && sl != up &&
		    stat(up, &st) < 0;)
			*sl = '\0';
		if (stat(up, &st) == 0 && !S_ISDIR(st.st_mode)) {
			snprintf(msg, sizeof(msg), "spool_dir %s cannot be made: "
			    "%s is not a folder", dir, up);
			report(PREFLIGHT_ERROR, msg, arg);
			return 1;
		}
		snprintf(msg, sizeof(msg), "spool_dir %s: not there yet, made "
		    "at start-up%s", dir, access(up, W_OK) == 0 ? "" :
		    " (by root: not by this user)");
		report(access(up, W_OK) == 0 ? PREFLIGHT_INFO :
		    PREFLIGHT_WARNING, msg, arg);
		return 0;
	}
	if (!S_ISDIR(st.st_mode) || (fd = open(dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NOFOLLOW)) < 0) {
		snprintf(msg, sizeof(msg), "spool_dir %s is not a folder%s", dir,
		    S_ISLNK(st.st_mode) ? " (a symlink)" : "");
		report(PREFLIGHT_ERROR, msg, arg);
		return 1;
	}
	if (refusal(fd, &st, why, sizeof(why)) != NULL) {
		close(fd);
		snprintf(msg, sizeof(msg), "spool_dir %s: %s", dir, why);
		report(PREFLIGHT_ERROR, msg, arg);
		return 1;
	}
	close(fd);
	snprintf(p, sizeof(p), "%s/new", dir);
	q = count_dir(p);
	snprintf(p, sizeof(p), "%s/dead", dir);
	dead = count_dir(p);
	snprintf(msg, sizeof(msg), "spool_dir %s: %ld job%s queued, %ld dead "
	    "letter%s", dir, q > 0 ? q : 0, q == 1 ? "" : "s",
	    dead > 0 ? dead : 0, dead == 1 ? "" : "s");
	report(PREFLIGHT_INFO, msg, arg);
	return 0;
}
