/* harness.c — temp dir, nginx, the daemon and curl for the integration
 * tests. See harness.h for the contract. Processes are started with
 * fork/execve and argument vectors; no shell ever sees a string. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* pipe2, close_range, strcasecmp, nftw, mkdtemp,
                      memmem */
#endif
#include "harness.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NGINX_DEFAULT "/usr/sbin/nginx"
#define CURL_DEFAULT "/usr/bin/curl"
#define START_WAIT_MS 10000
#define PATH_ENV \
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void hfail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("harness: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

double harness_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* ---- processes ----------------------------------------------------------- */

/* fork + execve with stdin/stdout/stderr set (-1: /dev/null). The child
 * gets no other fd, an empty signal mask, default dispositions, and dies
 * with us (PR_SET_PDEATHSIG) so a crashed test leaves nothing running.
 * Only syscalls between fork and exec. Returns the pid or -1. */
pid_t harness_spawn(const char *const argv[], const char *const envp[],
    int in_fd, int out_fd, int err_fd)
{
	pid_t parent = getpid(), pid;
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (devnull == -1) {
		hfail("open /dev/null: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == -1) {
		hfail("fork: %s", strerror(errno));
		close(devnull);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		int fds[3] = { in_fd, out_fd, err_fd }, i;

		/* dup2 onto 0..2 first (they may be the same fd). */
		for (i = 0; i < 3; i++)
			if (dup2(fds[i] == -1 ? devnull : fds[i], i) == -1)
				_exit(126);
		if (syscall(SYS_close_range, 3U, ~0U, 0U) == -1)
			for (i = 3; i < 4096; i++)
				close(i);
		for (i = 1; i < NSIG; i++)
			if (i != SIGKILL && i != SIGSTOP)
				signal(i, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(125);
		execve(argv[0], (char *const *)argv, (char *const *)envp);
		_exit(127);
	}
	close(devnull);
	return pid;
}

/* waitpid with a deadline: 1 and *status when pid ended, 0 on timeout,
 * -1 on error. */
static int wait_ms(pid_t pid, int ms, int *status)
{
	double end = harness_now() + ms / 1000.0;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 1;
		if (r == -1 && errno != EINTR)
			return -1;
		if (harness_now() > end)
			return 0;
		sleep_ms(10);
	}
}

/* SIGTERM, then SIGKILL after grace_ms. Wait status or -1. */
static int stop_child(pid_t pid, int grace_ms)
{
	int status = -1;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	if (wait_ms(pid, grace_ms, &status) == 1)
		return status;
	hfail("pid %ld ignored SIGTERM for %d ms: SIGKILL", (long)pid,
	    grace_ms);
	kill(pid, SIGKILL);
	if (wait_ms(pid, 5000, &status) != 1)
		return -1;
	return status;
}

/* 1 if pid has exited (and is reaped), 0 if still running. */
static int child_gone(pid_t pid, int *status)
{
	return waitpid(pid, status, WNOHANG) == pid;
}

/* ---- files --------------------------------------------------------------- */

int harness_path(const struct harness *h, const char *rel, char *buf,
    size_t len)
{
	int n = snprintf(buf, len, "%s/%s", h->dir, rel);

	if (n < 0 || (size_t)n >= len) {
		hfail("path too long: %s/%s", h->dir, rel);
		return -1;
	}
	return 0;
}

int harness_write_file(const char *path, const void *data, size_t len,
    mode_t mode)
{
	const char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd == -1) {
		hfail("open %s: %s", path, strerror(errno));
		return -1;
	}
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			hfail("write %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	/* fchmod after the content is complete: a drop-in scanner never sees
	 * a half-written executable. */
	if (fchmod(fd, mode) == -1 || close(fd) == -1) {
		hfail("chmod/close %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}


/* Read fd to EOF into a malloc'd NUL-terminated buffer. */
static char *slurp_fd(int fd, size_t *len)
{
	size_t cap = 256, used = 0;
	char *buf = malloc(cap), *nb;
	ssize_t n;

	while (buf != NULL) {
		if (cap - used < 2) {
			nb = realloc(buf, cap * 2);
			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			buf[used] = '\0';
			if (len != NULL)
				*len = used;
			return buf;
		}
		used += (size_t)n;
	}
	free(buf);
	return NULL;
}

char *harness_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *s;

	if (fd == -1)
		return NULL;
	s = slurp_fd(fd, len);
	close(fd);
	return s;
}

char *harness_expand(const struct harness *h, const char *text)
{
	static const char *const keys[] = { "@DIR@", "@SOCK@", "@SH@" };
	const char *vals[] = { h->dir, h->sock, h->sh };
	enum { NKEYS = 3 };
	size_t cap = strlen(text) + 1, used = 0, i, vl;
	const char *p = text;
	char *out;

	for (i = 0; i < NKEYS; i++)
		for (const char *q = strstr(text, keys[i]); q != NULL;
		    q = strstr(q + 1, keys[i]))
			cap += strlen(vals[i]);
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	while (*p != '\0') {
		for (i = 0; i < NKEYS; i++)
			if (strncmp(p, keys[i], strlen(keys[i])) == 0)
				break;
		if (i == NKEYS) {
			out[used++] = *p++;
			continue;
		}
		vl = strlen(vals[i]);
		memcpy(out + used, vals[i], vl);
		used += vl;
		p += strlen(keys[i]);
	}
	out[used] = '\0';
	return out;
}

int harness_write(const struct harness *h, const char *rel, const char *text,
    mode_t mode)
{
	char path[512], *s = harness_expand(h, text);
	int rc = -1;

	if (s != NULL && harness_path(h, rel, path, sizeof(path)) == 0)
		rc = harness_write_file(path, s, strlen(s), mode);
	free(s);
	return rc;
}

/* ---- temp dir ------------------------------------------------------------ */

struct harness *harness_new(void)
{
	static const struct { const char *rel; mode_t mode; } sub[] = {
		{ "bin", 0755 }, { "drop", 0755 }, { "spool", 01777 },
		{ "nginx", 0700 }, { "out", 0700 },
	};
	const char *base = getenv("TMPDIR");
	struct harness *h = calloc(1, sizeof(*h));
	char path[512], *rp;
	size_t i;
	int n;

	if (h == NULL)
		return NULL;
	/* The socket path must fit sun_path (108 bytes). */
	if (base == NULL || base[0] != '/' || strlen(base) > 60)
		base = "/tmp";
	n = snprintf(h->dir, sizeof(h->dir), "%s/fnl-it-XXXXXX", base);
	if (n < 0 || (size_t)n >= sizeof(h->dir) || mkdtemp(h->dir) == NULL) {
		hfail("mkdtemp %s: %s", h->dir, strerror(errno));
		free(h);
		return NULL;
	}
	n = snprintf(h->sock, sizeof(h->sock), "%s/fnl.sock", h->dir);
	if (n < 0 || (size_t)n >= sizeof(h->sock))
		goto fail;
	rp = realpath("/bin/sh", NULL);
	n = rp != NULL ? snprintf(h->sh, sizeof(h->sh), "%s", rp) : -1;
	free(rp);
	if (n < 0 || (size_t)n >= sizeof(h->sh))
		goto fail;
	/* mkdtemp makes 0700; functions run as nobody when we are root and
	 * must reach bin/ and spool/. */
	if (chmod(h->dir, 0755) == -1)
		goto fail;
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		if (harness_path(h, sub[i].rel, path, sizeof(path)) == -1 ||
		    mkdir(path, 0700) == -1 || chmod(path, sub[i].mode) == -1)
			goto fail;
	}
	return h;
fail:
	hfail("setting up %s: %s", h->dir, strerror(errno));
	harness_free(h);
	return NULL;
}

static int rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) == -1 && errno != ENOENT)
		hfail("remove %s: %s", path, strerror(errno));
	return 0;
}

void harness_free(struct harness *h)
{
	const char *keep = getenv("FNL_KEEP_TMP");

	if (h == NULL)
		return;
	harness_stop_daemon(h);
	harness_stop_nginx(h);
	if (keep != NULL && strcmp(keep, "1") == 0)
		fprintf(stderr, "harness: kept %s\n", h->dir);
	else
		nftw(h->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(h);
}

/* ---- sockets ------------------------------------------------------------- */

int harness_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd == -1)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int connects_tcp(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (fd == -1)
		return 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)port);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int connects_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (fd == -1)
		return 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* ---- nginx --------------------------------------------------------------- */

/* One nginx.conf. master_process off: nginx stays a single process, our
 * child, with our own credentials — so it can always connect to the
 * daemon's socket whatever socket_mode the daemon applies, and there are
 * no workers switching to nobody that would need access to the temp dir. */
static const char NGINX_CONF[] =
    "daemon off;\n"
    "master_process off;\n"
    "worker_processes 1;\n"
    "pid @DIR@/nginx/nginx.pid;\n"
    "error_log @DIR@/nginx/error.log info;\n"
    "events { worker_connections %d; }\n"
    "http {\n"
    "  access_log @DIR@/nginx/access.log;\n"
    "  default_type application/octet-stream;\n"
    "  client_body_temp_path @DIR@/nginx/client_body;\n"
    "  fastcgi_temp_path @DIR@/nginx/fastcgi;\n"
    "  proxy_temp_path @DIR@/nginx/proxy;\n"
    "  uwsgi_temp_path @DIR@/nginx/uwsgi;\n"
    "  scgi_temp_path @DIR@/nginx/scgi;\n"
    "  client_max_body_size 64m;\n"
    "  fastcgi_connect_timeout 5s;\n"
    "  fastcgi_send_timeout 60s;\n"
    "  fastcgi_read_timeout 60s;\n"
    "  server {\n"
    "    listen 127.0.0.1:%d;\n"
    "    server_name localhost;\n"
    "    location / {\n"
    "      include /etc/nginx/fastcgi_params;\n"
    "      fastcgi_pass unix:@SOCK@;\n"
    "    }\n"
    "%s\n"
    "  }\n"
    "}\n";

/* Write the conf for h->port and start nginx; wait until it listens.
 * 1 if the port was taken (caller retries), 0 ok, -1 error. */
static int nginx_try(struct harness *h, const char *extra)
{
	char conf[512], prefix[512], elog[512], pidf[512], *text;
	const char *bin = getenv("NGINX") ? getenv("NGINX") : NGINX_DEFAULT;
	const char *envp[] = { PATH_ENV, NULL };
	double end;
	int n, status, rc;
	size_t cap = sizeof(NGINX_CONF) + strlen(extra) + 32;
	char *raw = malloc(cap);

	if (raw == NULL)
		return -1;
	n = snprintf(raw, cap, NGINX_CONF, h->worker_connections > 0 ?
	    h->worker_connections : 512, h->port, extra);
	text = (n > 0 && (size_t)n < cap) ? harness_expand(h, raw) : NULL;
	free(raw);
	if (text == NULL || harness_path(h, "nginx/nginx.conf", conf,
	    sizeof(conf)) == -1 || harness_path(h, "nginx", prefix,
	    sizeof(prefix)) == -1 || harness_path(h, "nginx/error.log", elog,
	    sizeof(elog)) == -1 || harness_path(h, "nginx/nginx.pid", pidf,
	    sizeof(pidf)) == -1 ||
	    harness_write_file(conf, text, strlen(text), 0644) == -1) {
		free(text);
		return -1;
	}
	free(text);
	unlink(pidf);
	{
		const char *argv[] = { bin, "-p", prefix, "-c", conf, "-e",
		    elog, NULL };
		h->nginx_pid = harness_spawn(argv, envp, -1, -1, -1);
	}
	if (h->nginx_pid == -1) {
		h->nginx_pid = 0;
		return -1;
	}
	/* The pid file is written after the listen socket is bound, so pid
	 * file + accepting + still alive means this nginx is the listener. */
	end = harness_now() + START_WAIT_MS / 1000.0;
	while (harness_now() < end) {
		if (child_gone(h->nginx_pid, &status)) {
			char *log = harness_read_file(elog, NULL);

			h->nginx_pid = 0;
			rc = (log && strstr(log, "Address already in use")) ?
			    1 : -1;
			if (rc == -1)
				hfail("nginx exited (status %d):\n%s", status,
				    log ? log : "(no error log)");
			free(log);
			return rc;
		}
		if (access(pidf, F_OK) == 0 && connects_tcp(h->port))
			return 0;
		sleep_ms(20);
	}
	hfail("nginx did not listen on 127.0.0.1:%d within %d ms", h->port,
	    START_WAIT_MS);
	harness_stop_nginx(h);
	return -1;
}

int harness_start_nginx(struct harness *h, const char *extra_locations)
{
	int attempt, rc = -1;

	for (attempt = 0; attempt < 5; attempt++) {
		h->port = harness_free_port();
		if (h->port <= 0)
			return -1;
		rc = nginx_try(h, extra_locations ? extra_locations : "");
		if (rc != 1)
			return rc;
	}
	hfail("no free port for nginx after %d attempts", attempt);
	return -1;
}

int harness_stop_nginx(struct harness *h)
{
	int st = stop_child(h->nginx_pid, 10000);

	h->nginx_pid = 0;
	return st;
}

/* ---- the daemon ---------------------------------------------------------- */

int harness_start_daemon(struct harness *h, const char *manifest_rel,
    const char *const *extra_env)
{
	static const char *const pass[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS",
	    "LSAN_OPTIONS", "MSAN_OPTIONS", "TSAN_OPTIONS" };
	const char *bin = getenv("FNL_BIN"), *envp[32];
	char manifest[512], logp[512], listen[160], penv[5][1024];
	size_t ne = 0, i;
	double end;
	int logfd, status;

	if (bin == NULL || bin[0] == '\0') {
		hfail("FNL_BIN is not set");
		return -1;
	}
	if (harness_path(h, manifest_rel, manifest, sizeof(manifest)) == -1 ||
	    harness_path(h, "daemon.log", logp, sizeof(logp)) == -1)
		return -1;
	snprintf(listen, sizeof(listen), "unix:%s", h->sock);
	envp[ne++] = PATH_ENV;
	for (i = 0; i < 5; i++) {
		const char *v = getenv(pass[i]);
		int n;

		if (v == NULL)
			continue;
		n = snprintf(penv[i], sizeof(penv[i]), "%s=%s", pass[i], v);
		if (n > 0 && (size_t)n < sizeof(penv[i]))
			envp[ne++] = penv[i];
	}
	for (i = 0; extra_env != NULL && extra_env[i] != NULL && ne < 31; i++)
		envp[ne++] = extra_env[i];
	envp[ne] = NULL;

	logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd == -1) {
		hfail("open %s: %s", logp, strerror(errno));
		return -1;
	}
	{
		const char *argv[] = { bin, "-c", manifest, "-s", listen,
		    NULL };
		h->daemon_pid = harness_spawn(argv, envp, -1, logfd, logfd);
	}
	close(logfd);
	if (h->daemon_pid == -1) {
		h->daemon_pid = 0;
		return -1;
	}
	end = harness_now() + START_WAIT_MS / 1000.0;
	while (harness_now() < end) {
		if (child_gone(h->daemon_pid, &status)) {
			char *log = harness_daemon_log(h);

			hfail("daemon exited (status 0x%x) while starting:\n%s",
			    (unsigned)status, log);
			free(log);
			h->daemon_pid = 0;
			return -1;
		}
		if (access(h->sock, F_OK) == 0 && connects_unix(h->sock))
			return 0;
		sleep_ms(20);
	}
	hfail("daemon socket %s not accepting within %d ms", h->sock,
	    START_WAIT_MS);
	harness_stop_daemon(h);
	return -1;
}

int harness_stop_daemon(struct harness *h)
{
	/* Longer than the default shutdown_timeout (10 s) of a drain. */
	int st = stop_child(h->daemon_pid, 15000);

	h->daemon_pid = 0;
	return st;
}

char *harness_daemon_log(const struct harness *h)
{
	char path[512], *s = NULL;

	if (harness_path(h, "daemon.log", path, sizeof(path)) == 0)
		s = harness_read_file(path, NULL);
	return s != NULL ? s : strdup("");
}

int harness_log_has(const struct harness *h, const char *const *needles)
{
	char *log = harness_daemon_log(h), *line, *save = NULL;
	int found = 0;
	size_t i;

	if (log == NULL)
		return 0;
	for (line = strtok_r(log, "\n", &save); line != NULL && !found;
	    line = strtok_r(NULL, "\n", &save)) {
		for (i = 0; needles[i] != NULL; i++)
			if (strstr(line, needles[i]) == NULL)
				break;
		found = needles[i] == NULL;
	}
	free(log);
	return found;
}

/* ---- curl ---------------------------------------------------------------- */

#define CURL_MAX_ARGS 64

/* Fixed curl options: -q (no ~/.curlrc), no proxy whatever the
 * environment says, no URL globbing, errors to stderr. */
static size_t curl_base(const char **argv, const char *bin)
{
	size_t n = 0;

	argv[n++] = bin;
	argv[n++] = "-q";
	argv[n++] = "-sS";
	argv[n++] = "-g";
	argv[n++] = "--noproxy";
	argv[n++] = "*";
	argv[n++] = "--max-time";
	argv[n++] = "30";
	return n;
}


/* Keep only the last header block of curl -D output (a "100 Continue"
 * block may come first). */
static void last_header_block(char *hdr)
{
	size_t len = strlen(hdr);
	char *p, *last = NULL;

	while (len > 0 && (hdr[len - 1] == '\r' || hdr[len - 1] == '\n'))
		hdr[--len] = '\0';
	for (p = strstr(hdr, "\r\n\r\n"); p != NULL; p = strstr(p + 1,
	    "\r\n\r\n"))
		last = p;
	if (last != NULL)
		memmove(hdr, last + 4, strlen(last + 4) + 1);
}

int harness_curl(const struct harness *h, struct hresp *r, const char *path,
    const char *const *args)
{
	static unsigned seq;
	const char *bin = getenv("CURL") ? getenv("CURL") : CURL_DEFAULT;
	const char *argv[CURL_MAX_ARGS], *envp[] = { PATH_ENV, NULL };
	char hfile[512], bfile[512], url[1024], rel[64], *code;
	int pfd[2], status;
	size_t n, i;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	snprintf(rel, sizeof(rel), "out/c-%ld-%u.h", (long)getpid(), seq);
	if (harness_path(h, rel, hfile, sizeof(hfile)) == -1)
		return -1;
	snprintf(rel, sizeof(rel), "out/c-%ld-%u.b", (long)getpid(), seq++);
	if (harness_path(h, rel, bfile, sizeof(bfile)) == -1)
		return -1;
	n = (size_t)snprintf(url, sizeof(url), "http://127.0.0.1:%d%s",
	    h->port, path);
	if (n >= sizeof(url))
		return -1;
	n = curl_base(argv, bin);
	argv[n++] = "-o";
	argv[n++] = bfile;
	argv[n++] = "-D";
	argv[n++] = hfile;
	argv[n++] = "-w";
	argv[n++] = "%{http_code}";
	for (i = 0; args != NULL && args[i] != NULL; i++) {
		if (n >= CURL_MAX_ARGS - 2)
			return -1;
		argv[n++] = args[i];
	}
	argv[n++] = url;
	argv[n] = NULL;

	if (pipe2(pfd, O_CLOEXEC) == -1)
		return -1;
	pid = harness_spawn(argv, envp, -1, pfd[1], STDERR_FILENO);
	close(pfd[1]);
	if (pid == -1) {
		close(pfd[0]);
		return -1;
	}
	code = slurp_fd(pfd[0], NULL);
	close(pfd[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	r->curl_rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	r->status = code != NULL ? atoi(code) : 0;
	free(code);
	r->headers = harness_read_file(hfile, NULL);
	r->body = harness_read_file(bfile, &r->body_len);
	if (r->headers == NULL)
		r->headers = strdup("");
	else
		last_header_block(r->headers);
	if (r->body == NULL) {
		r->body = strdup("");
		r->body_len = 0;
	}
	unlink(hfile);
	unlink(bfile);
	return 0;
}

void hresp_free(struct hresp *r)
{
	if (r == NULL)
		return;
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

const char *hresp_header(const struct hresp *r, const char *name, char *buf,
    size_t len)
{
	size_t nl = strlen(name), vl;
	const char *line = r->headers, *end, *v;

	if (line == NULL || len == 0)
		return NULL;
	for (; *line != '\0'; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		if (strncasecmp(line, name, nl) != 0 || line[nl] != ':')
			continue;
		for (v = line + nl + 1; v < end && (*v == ' ' || *v == '\t');
		    v++)
			;
		vl = (size_t)(end - v);
		while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
			vl--;
		if (vl >= len)
			vl = len - 1;
		memcpy(buf, v, vl);
		buf[vl] = '\0';
		return buf;
	}
	return NULL;
}

int harness_curl_timed(const struct harness *h, const char *path,
    const char *needle, double *t_needle, double *t_total, char **body)
{
	const char *bin = getenv("CURL") ? getenv("CURL") : CURL_DEFAULT;
	const char *argv[CURL_MAX_ARGS], *envp[] = { PATH_ENV, NULL };
	size_t n, cap = 4096, used = 0;
	char url[1024], *buf = malloc(cap), *nb;
	double t0;
	ssize_t got;
	int pfd[2], status;
	pid_t pid;

	*t_needle = -1;
	*t_total = -1;
	if (buf == NULL || pipe2(pfd, O_CLOEXEC) == -1) {
		free(buf);
		return -1;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", h->port, path);
	n = curl_base(argv, bin);
	argv[n++] = "-N";
	argv[n++] = url;
	argv[n] = NULL;
	t0 = harness_now();
	pid = harness_spawn(argv, envp, -1, pfd[1], STDERR_FILENO);
	close(pfd[1]);
	if (pid == -1) {
		close(pfd[0]);
		free(buf);
		return -1;
	}
	for (;;) {
		if (cap - used < 2) {
			nb = realloc(buf, cap * 2);
			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		got = read(pfd[0], buf + used, cap - used - 1);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		used += (size_t)got;
		buf[used] = '\0';
		if (*t_needle < 0 && strstr(buf, needle) != NULL)
			*t_needle = harness_now() - t0;
	}
	*t_total = harness_now() - t0;
	buf[used] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (body != NULL)
		*body = buf;
	else
		free(buf);
	return 0;
}

/* ---- /proc --------------------------------------------------------------- */

int harness_fd_count(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Parent pid from /proc/PID/stat; -1 if gone. */
static pid_t proc_ppid(pid_t pid)
{
	char path[64], buf[1024], *p;
	int fd, ppid;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may contain spaces and parens. */
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

static int has_ancestor(pid_t pid, pid_t anc)
{
	int depth;

	if (anc <= 0)
		return 0;
	for (depth = 0; depth < 128 && pid > 1; depth++) {
		pid = proc_ppid(pid);
		if (pid == anc)
			return 1;
	}
	return 0;
}

/* cmdline with NULs turned into spaces; "" for zombies and kernel
 * threads. */
static void proc_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n, i;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return;
	for (i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
}

/* One scan of /proc; see harness_leftovers. */
static int leftovers_once(const struct harness *h, char *desc, size_t len)
{
	char cmd[1024];
	struct dirent *de;
	size_t used = 0;
	DIR *d = opendir("/proc");
	pid_t pid, self = getpid();
	int count = 0, m;

	if (desc != NULL && len > 0)
		desc[0] = '\0';
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atol(de->d_name);
		if (pid == self || pid == h->nginx_pid ||
		    pid == h->daemon_pid || has_ancestor(self, pid))
			continue;
		proc_cmdline(pid, cmd, sizeof(cmd));
		if (strstr(cmd, h->dir) == NULL &&
		    !has_ancestor(pid, h->daemon_pid))
			continue;
		/* Still there after reading? (/proc races with exit.) */
		if (proc_ppid(pid) == -1)
			continue;
		count++;
		if (desc != NULL && used < len) {
			m = snprintf(desc + used, len - used, "%ld [%s]; ",
			    (long)pid, cmd);
			if (m > 0)
				used += (size_t)m;
		}
	}
	closedir(d);
	return count;
}

int harness_leftovers(const struct harness *h, int wait_ms_, char *desc,
    size_t len)
{
	double end = harness_now() + wait_ms_ / 1000.0;
	int n;

	for (;;) {
		n = leftovers_once(h, desc, len);
		if (n <= 0 || harness_now() >= end)
			return n;
		sleep_ms(50);
	}
}

int harness_zombie_status(pid_t pid, int wait_ms_)
{
	double end = harness_now() + wait_ms_ / 1000.0;
	char path[64], buf[2048], *p, *tok, *save = NULL;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	for (;;) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd == -1)
			return -1;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return -1;
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p != NULL && p[1] == ' ' && p[2] == 'Z')
			break;
		if (harness_now() >= end)
			return -1;
		sleep_ms(20);
	}
	/* Fields after "(comm)" start at 3 (state); exit_code is field 52
	 * (Linux 3.5+), in waitpid(2) status format. */
	for (field = 3, tok = strtok_r(p + 2, " ", &save); tok != NULL;
	    field++, tok = strtok_r(NULL, " ", &save))
		if (field == 52)
			return atoi(tok);
	return -1;
}

/* ---- process table (faults) ---------------------------------------------- */

long harness_proc_status(pid_t pid, const char *field)
{
	char path[64], *buf, *line;
	size_t fl = strlen(field);
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	buf = harness_read_file(path, NULL);
	if (buf == NULL)
		return -1;
	for (line = buf; line != NULL && *line != '\0'; ) {
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			v = strtol(line + fl + 1, NULL, 10);
			break;
		}
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	free(buf);
	return v;
}

long harness_busy_threads(pid_t pid)
{
	char path[96], *comm;
	struct dirent *e;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%.20s/comm",
		    (long)pid, e->d_name);
		if ((comm = harness_read_file(path, NULL)) == NULL)
			continue;       /* ended meanwhile */
		if (strcmp(comm, "fnl-idle\n") != 0)
			n++;
		free(comm);
	}
	closedir(d);
	return n;
}

/* State letter and parent of pid from /proc/PID/stat; -1 if gone. */
static int proc_state(pid_t pid, char *state, pid_t *ppid)
{
	char path[64], buf[1024], *p;
	int fd, pp;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 1, " %c %d", state, &pp) != 2)
		return -1;
	*ppid = pp;
	return 0;
}

/* 1 if one entry of pid's environ equals one of env_any. */
static int env_has(pid_t pid, const char *const *env_any)
{
	char path[64], *buf, *p;
	size_t n, i;
	int found = 0;

	if (env_any == NULL || env_any[0] == NULL)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
	buf = harness_read_file(path, &n);
	if (buf == NULL)
		return 0;
	for (p = buf; p < buf + n && !found; p += strlen(p) + 1)
		for (i = 0; env_any[i] != NULL && !found; i++)
			found = strcmp(p, env_any[i]) == 0;
	free(buf);
	return found;
}

/* Append "pid [cmdline]; " to desc. */
static void describe(pid_t pid, char *desc, size_t len, size_t *used)
{
	char cmd[256];
	int m;

	if (desc == NULL || *used >= len)
		return;
	proc_cmdline(pid, cmd, sizeof(cmd));
	m = snprintf(desc + *used, len - *used, "%ld [%s]; ", (long)pid, cmd);
	if (m > 0)
		*used += (size_t)m;
}

/* One scan of /proc; see harness_procs. sig > 0: send it to each. */
static int procs_once(const char *const *env_any, long uid, int sig,
    char *desc, size_t len)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	pid_t pid, ppid, self = getpid();
	size_t used = 0;
	int count = 0;
	char st;

	if (desc != NULL && len > 0)
		desc[0] = '\0';
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atol(de->d_name);
		if (pid == self || proc_state(pid, &st, &ppid) == -1 ||
		    st == 'Z')
			continue;
		if (!env_has(pid, env_any) && !(uid >= 0 &&
		    harness_proc_status(pid, "Uid") == uid))
			continue;
		if (sig > 0)
			kill(pid, sig);
		count++;
		describe(pid, desc, len, &used);
	}
	closedir(d);
	return count;
}

int harness_procs(const char *const *env_any, long uid, int wait_ms_,
    char *desc, size_t len)
{
	double end = harness_now() + wait_ms_ / 1000.0;
	int n;

	for (;;) {
		n = procs_once(env_any, uid, 0, desc, len);
		if (n <= 0 || harness_now() >= end)
			return n;
		sleep_ms(20);
	}
}

int harness_procs_kill(const char *const *env_any, long uid)
{
	return procs_once(env_any, uid, SIGKILL, NULL, 0);
}

int harness_uid_tasks(long uid)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int count = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (isdigit((unsigned char)de->d_name[0]) &&
		    harness_proc_status((pid_t)atol(de->d_name), "Uid") == uid)
			count++;
	closedir(d);
	return count;
}

int harness_zombies(pid_t ppid, int wait_ms_, char *desc, size_t len)
{
	double end = harness_now() + wait_ms_ / 1000.0;
	struct dirent *de;
	pid_t pid, pp;
	size_t used;
	int count;
	char st;
	DIR *d;

	for (;;) {
		d = opendir("/proc");
		if (d == NULL)
			return -1;
		count = 0;
		used = 0;
		if (desc != NULL && len > 0)
			desc[0] = '\0';
		while ((de = readdir(d)) != NULL) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			pid = (pid_t)atol(de->d_name);
			if (proc_state(pid, &st, &pp) == 0 && st == 'Z' &&
			    pp == ppid) {
				count++;
				describe(pid, desc, len, &used);
			}
		}
		closedir(d);
		if (count == 0 || harness_now() >= end)
			return count;
		sleep_ms(20);
	}
}

/* Run argv to completion (output to our stderr); its exit code or -1. */
static int run_tool(const char *const argv[])
{
	const char *envp[] = { PATH_ENV, NULL };
	pid_t pid = harness_spawn(argv, envp, -1, STDERR_FILENO, STDERR_FILENO);
	int status;

	if (pid == -1 || wait_ms(pid, 30000, &status) != 1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int harness_ensure_user(const char *name, uid_t *uid, gid_t *gid)
{
	const char *gadd[] = { "/usr/sbin/groupadd", "--system", name, NULL };
	const char *uadd[] = { "/usr/sbin/useradd", "--system",
	    "--no-create-home", "--home-dir", "/nonexistent", "--shell",
	    "/usr/sbin/nologin", "--gid", name, name, NULL };
	struct passwd *pw;
	struct group *gr;

	if (getgrnam(name) == NULL && run_tool(gadd) != 0) {
		hfail("groupadd %s failed", name);
		return -1;
	}
	if (getpwnam(name) == NULL && run_tool(uadd) != 0) {
		hfail("useradd %s failed", name);
		return -1;
	}
	pw = getpwnam(name);
	gr = getgrnam(name);
	if (pw == NULL || gr == NULL) {
		hfail("user or group %s still missing", name);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = gr->gr_gid;
	return 0;
}

/* ---- raw HTTP/1.1 client ------------------------------------------------- */

int harness_http_connect(const struct harness *h)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd == -1)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)h->port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		hfail("connect 127.0.0.1:%d: %s", h->port, strerror(errno));
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int harness_http_send(int fd, const char *path, const char *extra,
    int keep_alive)
{
	char req[2048];
	size_t off = 0;
	ssize_t w;
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n"
	    "Host: localhost\r\n%s%s\r\n", path, extra ? extra : "",
	    keep_alive ? "" : "Connection: close\r\n");

	if (n < 0 || (size_t)n >= sizeof(req))
		return -1;
	while (off < (size_t)n) {
		w = send(fd, req + off, (size_t)n - off, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* Copy the value of header line "name: value" (line without CRLF, llen
 * bytes) into buf if the name matches; 1 if it did. */
static int head_value(const char *line, size_t llen, const char *name,
    char *buf, size_t len)
{
	size_t nl = strlen(name), vl;
	const char *v;

	if (llen <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return 0;
	for (v = line + nl + 1; v < line + llen && (*v == ' ' || *v == '\t');
	    v++)
		;
	vl = (size_t)(line + llen - v);
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (vl >= len)
		vl = len - 1;
	memcpy(buf, v, vl);
	buf[vl] = '\0';
	return 1;
}

/* Head state the body reader needs beyond struct hhttp. */
struct hhead {
	long long clen;       /* -1: none */
	int chunked;
};

static int parse_head(const char *buf, size_t len, struct hhttp *r,
    struct hhead *hh, size_t *head_len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4), *line, *nl;
	char v[64];
	int minor;

	memset(r, 0, sizeof(*r));
	hh->clen = -1;
	hh->chunked = 0;
	if (end == NULL)
		return len > 65536 ? -1 : 1;
	*head_len = (size_t)(end - buf) + 4;
	if (sscanf(buf, "HTTP/1.%d %d", &minor, &r->status) != 2)
		return -1;
	r->keep = minor >= 1;
	for (line = memchr(buf, '\n', len) + 1; line < end; line = nl + 1) {
		size_t ll;

		nl = memchr(line, '\n', (size_t)(end + 2 - line));
		if (nl == NULL)
			break;
		ll = (size_t)(nl - line);
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		head_value(line, ll, "X-Request-Id", r->rid, sizeof(r->rid));
		head_value(line, ll, "Retry-After", r->retry_after,
		    sizeof(r->retry_after));
		if (head_value(line, ll, "Content-Length", v, sizeof(v)))
			hh->clen = atoll(v);
		if (head_value(line, ll, "Transfer-Encoding", v, sizeof(v)))
			hh->chunked = strcasecmp(v, "chunked") == 0;
		if (head_value(line, ll, "Connection", v, sizeof(v)))
			r->keep = strcasecmp(v, "close") != 0;
	}
	return 0;
}

int harness_http_head(const char *buf, size_t len, struct hhttp *r,
    size_t *head_len)
{
	struct hhead hh;

	return parse_head(buf, len, r, &hh, head_len);
}

/* Buffered reader with one deadline. */
struct hrd {
	int fd;
	double deadline;
	size_t pos, len;
	char buf[65536];
};

/* More bytes into an empty buffer: 1, 0 at EOF, -1 on error/time out. */
static int rd_fill(struct hrd *rd)
{
	struct pollfd pfd = { .fd = rd->fd, .events = POLLIN };
	double left;
	ssize_t n;

	for (;;) {
		left = rd->deadline - harness_now();
		if (left <= 0)
			return -1;
		n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n == -1 && errno != EINTR)
			return -1;
		if (n <= 0)
			continue;
		n = read(rd->fd, rd->buf, sizeof(rd->buf));
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -1;
		rd->pos = 0;
		rd->len = (size_t)n;
		return 1;
	}
}

/* Discard n bytes (n < 0: to EOF); the count discarded. */
static long long rd_skip(struct hrd *rd, long long n)
{
	long long done = 0;
	size_t k;

	while (n < 0 || done < n) {
		if (rd->pos == rd->len && rd_fill(rd) != 1)
			break;
		k = rd->len - rd->pos;
		if (n >= 0 && (long long)k > n - done)
			k = (size_t)(n - done);
		rd->pos += k;
		done += (long long)k;
	}
	return done;
}

/* One line without its CRLF into line; 0, or -1 at EOF/error. */
static int rd_line(struct hrd *rd, char *line, size_t cap)
{
	size_t n = 0;
	char c;

	for (;;) {
		if (rd->pos == rd->len && rd_fill(rd) != 1)
			return -1;
		c = rd->buf[rd->pos++];
		if (c == '\n')
			break;
		if (n + 1 < cap)
			line[n++] = c;
	}
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	return 0;
}

/* Chunked body (RFC 9112 7.1): decoded bytes into r->body_len; 1 if the
 * last chunk and the trailer section came. */
static int rd_chunked(struct hrd *rd, struct hhttp *r)
{
	char line[256];
	long long size;

	for (;;) {
		if (rd_line(rd, line, sizeof(line)) == -1)
			return 0;
		size = strtoll(line, NULL, 16);
		if (size < 0)
			return 0;
		if (size == 0)
			break;
		if (rd_skip(rd, size) != size)
			return 0;
		r->body_len += (size_t)size;
		if (rd_line(rd, line, sizeof(line)) == -1 || line[0] != '\0')
			return 0;
	}
	do {
		if (rd_line(rd, line, sizeof(line)) == -1)
			return 0;
	} while (line[0] != '\0');
	return 1;
}

int harness_http_read(int fd, struct hhttp *r, int timeout_ms)
{
	struct hrd *rd = malloc(sizeof(*rd));
	struct hhead hh;
	size_t have = 0, head_len = 0;
	char *head = malloc(65536 + 1);
	int rc = -1, p = 1;

	memset(r, 0, sizeof(*r));
	if (rd == NULL || head == NULL)
		goto out;
	rd->fd = fd;
	rd->deadline = harness_now() + timeout_ms / 1000.0;
	rd->pos = rd->len = 0;
	/* The head, byte by byte out of the buffer (it is small). */
	while (p == 1 && have < 65536) {
		if (rd->pos == rd->len && rd_fill(rd) != 1)
			break;
		head[have++] = rd->buf[rd->pos++];
		if (have >= 4 && memcmp(head + have - 4, "\r\n\r\n", 4) == 0)
			p = parse_head(head, have, r, &hh, &head_len);
	}
	if (p != 0)
		goto out;
	rc = 0;
	if (r->status == 204 || r->status == 304 || (r->status >= 100 &&
	    r->status < 200)) {
		r->complete = 1;
	} else if (hh.chunked) {
		r->complete = rd_chunked(rd, r);
	} else if (hh.clen >= 0) {
		r->body_len = (size_t)rd_skip(rd, hh.clen);
		r->complete = (long long)r->body_len == hh.clen;
	} else {
		r->body_len = (size_t)rd_skip(rd, -1);
		r->complete = 1;      /* delimited by the close */
		r->keep = 0;
	}
	if (!r->complete)
		r->keep = 0;
out:
	free(head);
	free(rd);
	return rc;
}

/* ---- ops: daemons started by argv, commands with captured output ------- */

/* PATH, the sanitizer variables that are set, then extra: into envp (cap
 * entries, NULL-terminated), with storage for the copies in store. */
static void ops_env(const char **envp, size_t cap, char store[][1024],
    const char *const *extra)
{
	static const char *const pass[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS",
	    "LSAN_OPTIONS", "MSAN_OPTIONS", "TSAN_OPTIONS" };
	size_t ne = 0, i;

	envp[ne++] = PATH_ENV;
	for (i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
		const char *v = getenv(pass[i]);
		int n;

		if (v == NULL)
			continue;
		n = snprintf(store[i], 1024, "%s=%s", pass[i], v);
		if (n > 0 && n < 1024)
			envp[ne++] = store[i];
	}
	for (i = 0; extra != NULL && extra[i] != NULL && ne + 1 < cap; i++)
		envp[ne++] = extra[i];
	envp[ne] = NULL;
}

int harness_spawn_daemon(struct harness *h, const char *const *argv,
    const char *const *extra_env, int wait_sock)
{
	const char *envp[40];
	char store[5][1024], logp[512];
	double end;
	int logfd, status;

	ops_env(envp, sizeof(envp) / sizeof(envp[0]), store, extra_env);
	if (harness_path(h, "daemon.log", logp, sizeof(logp)) == -1)
		return -1;
	logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd == -1) {
		hfail("open %s: %s", logp, strerror(errno));
		return -1;
	}
	h->daemon_pid = harness_spawn(argv, envp, -1, logfd, logfd);
	close(logfd);
	if (h->daemon_pid == -1) {
		h->daemon_pid = 0;
		return -1;
	}
	if (!wait_sock)
		return 0;
	end = harness_now() + START_WAIT_MS / 1000.0;
	while (harness_now() < end) {
		if (child_gone(h->daemon_pid, &status)) {
			char *log = harness_daemon_log(h);

			hfail("%s exited (status 0x%x) while starting:\n%s",
			    argv[0], (unsigned)status, log);
			free(log);
			h->daemon_pid = 0;
			return -1;
		}
		if (access(h->sock, F_OK) == 0 && connects_unix(h->sock))
			return 0;
		sleep_ms(20);
	}
	hfail("%s: socket %s not accepting within %d ms", argv[0], h->sock,
	    START_WAIT_MS);
	harness_stop_daemon(h);
	return -1;
}

/* Append what fd has to *buf (cap/used grown as needed); 0 at EOF or
 * error, 1 if more may come. */
static int ops_read_some(int fd, char **buf, size_t *cap, size_t *used)
{
	char *nb;
	ssize_t n;

	if (*cap - *used < 4096) {
		nb = realloc(*buf, *cap * 2 + 4096);
		if (nb == NULL)
			return 0;
		*buf = nb;
		*cap = *cap * 2 + 4096;
	}
	n = read(fd, *buf + *used, *cap - *used - 1);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	*used += (size_t)n;
	return 1;
}

int harness_run(const char *const *argv, const char *const *extra_env,
    const char *in_path, char **out, size_t *out_len, char **err,
    int timeout_ms)
{
	const char *envp[40];
	char store[5][1024], *buf[2] = { NULL, NULL };
	size_t cap[2] = { 0, 0 }, used[2] = { 0, 0 };
	struct pollfd pfd[2];
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, in_fd = -1, status = -1;
	int open_n = 2, i, left, rc = -1;
	double end = harness_now() + timeout_ms / 1000.0;
	pid_t pid;

	ops_env(envp, sizeof(envp) / sizeof(envp[0]), store, extra_env);
	for (i = 0; i < 2; i++) {
		buf[i] = malloc(4096);
		cap[i] = 4096;
	}
	if (buf[0] == NULL || buf[1] == NULL || pipe2(po, O_CLOEXEC) == -1 ||
	    pipe2(pe, O_CLOEXEC) == -1)
		goto out;
	if (in_path != NULL &&
	    (in_fd = open(in_path, O_RDONLY | O_CLOEXEC)) == -1) {
		hfail("open %s: %s", in_path, strerror(errno));
		goto out;
	}
	pid = harness_spawn(argv, envp, in_fd, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	if (pid == -1)
		goto out;
	pfd[0].fd = po[0];
	pfd[1].fd = pe[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while (open_n > 0) {
		left = (int)((end - harness_now()) * 1000);
		if (left <= 0)
			break;
		if (poll(pfd, 2, left) == -1 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++)
			if (pfd[i].fd >= 0 && (pfd[i].revents &
			    (POLLIN | POLLHUP | POLLERR)) &&
			    !ops_read_some(pfd[i].fd, &buf[i], &cap[i],
			    &used[i])) {
				pfd[i].fd = -1;
				open_n--;
			}
	}
	left = (int)((end - harness_now()) * 1000);
	if (open_n > 0 || wait_ms(pid, left > 0 ? left : 0, &status) != 1) {
		hfail("%s: still running after %d ms: SIGKILL", argv[0],
		    timeout_ms);
		kill(pid, SIGKILL);
		wait_ms(pid, 5000, &status);
		status = -1;
	}
	rc = status;
out:
	for (i = 0; i < 2; i++) {
		if (buf[i] != NULL)
			buf[i][used[i]] = '\0';
	}
	if (out != NULL)
		*out = buf[0] != NULL ? buf[0] : strdup("");
	else
		free(buf[0]);
	if (out_len != NULL)
		*out_len = used[0];
	if (err != NULL)
		*err = buf[1] != NULL ? buf[1] : strdup("");
	else
		free(buf[1]);
	for (i = 0; i < 2; i++) {
		if (po[i] != -1)
			close(po[i]);
		if (pe[i] != -1)
			close(pe[i]);
	}
	if (in_fd != -1)
		close(in_fd);
	return rc;
}
