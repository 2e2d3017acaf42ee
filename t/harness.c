/* harness.c — temp dir, nginx, the daemon and curl for the integration
 * tests. See harness.h for the contract. Processes are started with
 * fork/execve and argument vectors; no shell ever sees a string. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* pipe2, close_range, strcasecmp, nftw, mkdtemp,
                      memmem */
#endif
#include "harness.h"
#include "harness_int.h"

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

void hint_fail(const char *fmt, ...)
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

void harness_sleep_ms(int ms)
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
		hint_fail("open /dev/null: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == -1) {
		hint_fail("fork: %s", strerror(errno));
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
int harness_wait_ms(pid_t pid, int ms, int *status)
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
		harness_sleep_ms(10);
	}
}

/* SIGTERM, then SIGKILL after grace_ms. Wait status or -1. */
static int stop_child(pid_t pid, int grace_ms)
{
	int status = -1;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	if (harness_wait_ms(pid, grace_ms, &status) == 1)
		return status;
	hint_fail("pid %ld ignored SIGTERM for %d ms: SIGKILL", (long)pid,
	    grace_ms);
	kill(pid, SIGKILL);
	if (harness_wait_ms(pid, 5000, &status) != 1)
		return -1;
	return status;
}

/* 1 if pid has exited (and is reaped), 0 if still running. */
int hint_child_gone(pid_t pid, int *status)
{
	return waitpid(pid, status, WNOHANG) == pid;
}

/* ---- files --------------------------------------------------------------- */

int harness_path(const struct harness *h, const char *rel, char *buf,
    size_t len)
{
	int n = snprintf(buf, len, "%s/%s", h->dir, rel);

	if (n < 0 || (size_t)n >= len) {
		hint_fail("path too long: %s/%s", h->dir, rel);
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
		hint_fail("open %s: %s", path, strerror(errno));
		return -1;
	}
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			hint_fail("write %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	/* fchmod after the content is complete: a drop-in scanner never sees
	 * a half-written executable. */
	if (fchmod(fd, mode) == -1 || close(fd) == -1) {
		hint_fail("chmod/close %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}


int hint_read_some(int fd, char **buf, size_t *cap, size_t *used)
{
	char *nb;
	ssize_t n;

	if (*cap - *used < 4096) {
		nb = realloc(*buf, *cap * 2 + 4096);
		if (nb == NULL)
			return -1;
		*buf = nb;
		*cap = *cap * 2 + 4096;
	}
	n = read(fd, *buf + *used, *cap - *used - 1);
	if (n > 0)
		*used += (size_t)n;
	(*buf)[*used] = '\0';
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 1;
	return n > 0;
}

/* Read fd to EOF into a malloc'd NUL-terminated buffer. */
char *hint_slurp_fd(int fd, size_t *len)
{
	size_t cap = 0, used = 0;
	char *buf = NULL;
	int rc;

	while ((rc = hint_read_some(fd, &buf, &cap, &used)) == 1)
		;
	if (rc < 0) {
		free(buf);
		return NULL;
	}
	if (len != NULL)
		*len = used;
	return buf;
}

char *harness_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *s;

	if (fd == -1)
		return NULL;
	s = hint_slurp_fd(fd, len);
	close(fd);
	return s;
}

int harness_dir_count(const struct harness *h, const char *rel,
    const char *prefix)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (harness_path(h, rel, path, sizeof(path)) != 0 ||
	    (d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.' &&
		    strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

char *harness_expand(const struct harness *h, const char *text)
{
	static const char *const keys[] = { "@DIR@", "@SOCK@", "@SH@",
	    "@PORT@" };
	char port[16];
	const char *vals[] = { h->dir, h->sock, h->sh, port };
	enum { NKEYS = 4 };
	size_t cap = strlen(text) + 1, used = 0, i, vl;
	const char *p = text;
	char *out;

	snprintf(port, sizeof(port), "%d", h->port);

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
	const char *base = getenv("FNL_TEST_TMPDIR");
	struct harness *h = calloc(1, sizeof(*h));
	char path[512], *rp;
	size_t i;
	int n;

	if (h == NULL)
		return NULL;
	/* As root the daemon gives each function a /tmp of its own (isolate
	 * tmp): what the functions run and write (bin/, spool/) must live
	 * elsewhere. */
	if (base == NULL && geteuid() == 0) {
		base = HARNESS_ROOT_TMP;
		if (mkdir(base, 0755) == -1 && errno != EEXIST) {
			hint_fail("mkdir %s: %s", base, strerror(errno));
			free(h);
			return NULL;
		}
	}
	if (base == NULL)
		base = getenv("TMPDIR");
	/* The socket path must fit sun_path (108 bytes). */
	if (base == NULL || base[0] != '/' || strlen(base) > 60)
		base = "/tmp";
	n = snprintf(h->dir, sizeof(h->dir), "%s/fnl-it-XXXXXX", base);
	if (n < 0 || (size_t)n >= sizeof(h->dir) || mkdtemp(h->dir) == NULL) {
		hint_fail("mkdtemp %s: %s", h->dir, strerror(errno));
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
	hint_fail("setting up %s: %s", h->dir, strerror(errno));
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
		hint_fail("remove %s: %s", path, strerror(errno));
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

int harness_connects_unix(const char *path)
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

/* The frame of every nginx.conf the harness writes; %d is
 * worker_connections, %s the caller's part of the http block.
 * master_process off: nginx stays a single process, our child, with our
 * own credentials — so it can always connect to the daemon's socket
 * whatever socket_mode the daemon applies, and there are no workers
 * switching to nobody that would need access to the temp dir. */
static const char NGINX_MAIN[] =
    "daemon off;\n"
    "master_process off;\n"
    "worker_processes 1;\n"
    "pid @DIR@/nginx/nginx.pid;\n"
    "error_log @DIR@/nginx/error.log info;\n"
    "events { worker_connections %d; }\n"
    "http {\n"
    "  default_type application/octet-stream;\n"
    "  client_body_temp_path @DIR@/nginx/client_body;\n"
    "  fastcgi_temp_path @DIR@/nginx/fastcgi;\n"
    "  proxy_temp_path @DIR@/nginx/proxy;\n"
    "  uwsgi_temp_path @DIR@/nginx/uwsgi;\n"
    "  scgi_temp_path @DIR@/nginx/scgi;\n"
    "%s"
    "}\n";

/* harness_start_nginx's part: one server passing everything to the
 * daemon's socket; %s is the caller's extra locations. */
static const char NGINX_SERVER[] =
    "  access_log @DIR@/nginx/access.log;\n"
    "  client_max_body_size 64m;\n"
    "  fastcgi_connect_timeout 5s;\n"
    "  fastcgi_send_timeout 60s;\n"
    "  fastcgi_read_timeout 60s;\n"
    "  server {\n"
    "    listen 127.0.0.1:@PORT@;\n"
    "    server_name localhost;\n"
    "    location / {\n"
    "      include /etc/nginx/fastcgi_params;\n"
    "      fastcgi_pass unix:@SOCK@;\n"
    "    }\n"
    "%s\n"
    "  }\n";

/* Write the conf for h->port and start nginx; wait until it listens.
 * 1 if the port was taken (caller retries), 0 ok, -1 error. */
static int nginx_try(struct harness *h, const char *http)
{
	char conf[512], prefix[512], elog[512], pidf[512], *text;
	const char *bin = getenv("NGINX") ? getenv("NGINX") : NGINX_DEFAULT;
	const char *envp[] = { PATH_ENV, NULL };
	double end;
	int n, status, rc;
	size_t cap = sizeof(NGINX_MAIN) + strlen(http) + 32;
	char *raw = malloc(cap);

	if (raw == NULL)
		return -1;
	n = snprintf(raw, cap, NGINX_MAIN, h->worker_connections > 0 ?
	    h->worker_connections : 512, http);
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
		if (hint_child_gone(h->nginx_pid, &status)) {
			char *log = harness_read_file(elog, NULL);

			h->nginx_pid = 0;
			rc = (log && strstr(log, "Address already in use")) ?
			    1 : -1;
			if (rc == -1)
				hint_fail("nginx exited (status %d):\n%s", status,
				    log ? log : "(no error log)");
			free(log);
			return rc;
		}
		if (access(pidf, F_OK) == 0 && connects_tcp(h->port))
			return 0;
		harness_sleep_ms(20);
	}
	hint_fail("nginx did not listen on 127.0.0.1:%d within %d ms", h->port,
	    START_WAIT_MS);
	harness_stop_nginx(h);
	return -1;
}

int harness_start_nginx_http(struct harness *h, const char *http)
{
	int attempt, rc = -1;

	for (attempt = 0; attempt < 5; attempt++) {
		h->port = harness_free_port();
		if (h->port <= 0)
			return -1;
		rc = nginx_try(h, http);
		if (rc != 1)
			return rc;
	}
	hint_fail("no free port for nginx after %d attempts", attempt);
	return -1;
}

int harness_start_nginx(struct harness *h, const char *extra_locations)
{
	const char *extra = extra_locations ? extra_locations : "";
	size_t cap = sizeof(NGINX_SERVER) + strlen(extra);
	char *http = malloc(cap);
	int n, rc = -1;

	if (http == NULL)
		return -1;
	n = snprintf(http, cap, NGINX_SERVER, extra);
	if (n > 0 && (size_t)n < cap)
		rc = harness_start_nginx_http(h, http);
	free(http);
	return rc;
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
	const char *bin = getenv("FNL_BIN");
	char manifest[512], listen[160];
	const char *argv[] = { bin, "-c", manifest, "-s", listen, NULL };

	if (bin == NULL || bin[0] == '\0') {
		hint_fail("FNL_BIN is not set");
		return -1;
	}
	if (harness_path(h, manifest_rel, manifest, sizeof(manifest)) == -1)
		return -1;
	snprintf(listen, sizeof(listen), "unix:%s", h->sock);
	return harness_spawn_daemon(h, argv, extra_env, 1);
}

int harness_serve(struct harness *h, const char *manifest,
    const char *const *extra_env, const char *extra_locations)
{
	if (harness_write(h, "manifest.yaml", manifest, 0644) != 0 ||
	    harness_start_daemon(h, "manifest.yaml", extra_env) != 0)
		return -1;
	return harness_start_nginx(h, extra_locations);
}

int hint_await_daemon(struct harness *h, const char *what)
{
	double end = harness_now() + START_WAIT_MS / 1000.0;
	int status;

	while (harness_now() < end) {
		if (hint_child_gone(h->daemon_pid, &status)) {
			char *log = harness_daemon_log(h);

			hint_fail("%s exited (status 0x%x) while starting:\n%s",
			    what, (unsigned)status, log);
			free(log);
			h->daemon_pid = 0;
			return -1;
		}
		if (access(h->sock, F_OK) == 0 &&
		    harness_connects_unix(h->sock))
			return 0;
		harness_sleep_ms(20);
	}
	hint_fail("%s: socket %s not accepting within %d ms", what, h->sock,
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

const char *harness_log_tail(const struct harness *h)
{
	static char buf[2048];
	char *log = harness_daemon_log(h);
	size_t len = strlen(log);

	snprintf(buf, sizeof(buf), "%s", len > sizeof(buf) - 1 ?
	    log + len - (sizeof(buf) - 1) : log);
	free(log);
	return buf;
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

char *harness_record(const struct harness *h, const char *rel,
    const char *rid, int wait_ms)
{
	char path[512], pat[96];
	double end = harness_now() + wait_ms / 1000.0;

	snprintf(pat, sizeof(pat), "\"request_id\":\"%s\"", rid);
	if (harness_path(h, rel, path, sizeof(path)) != 0)
		return NULL;
	do {
		char *all = harness_read_file(path, NULL), *p, *nl, *line;

		if (all != NULL && (p = strstr(all, pat)) != NULL) {
			while (p > all && p[-1] != '\n')
				p--;
			nl = strchr(p, '\n');
			line = strndup(p, nl ? (size_t)(nl - p) : strlen(p));
			free(all);
			return line;
		}
		free(all);
		harness_sleep_ms(50);
	} while (harness_now() < end);
	return NULL;
}
