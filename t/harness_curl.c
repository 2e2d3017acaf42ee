/* harness_curl.c — curl runs for the tests, parsed into status, headers and body. See harness.h for the contract. */
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


#define CURL_DEFAULT "/usr/bin/curl"

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
	char hfile[512], bfile[512], url[16384], rel[64], *code;
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
	code = hint_slurp_fd(pfd[0], NULL);
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

const char *harness_line_value(const char *text, const char *name,
    char sep, char *buf, size_t len)
{
	size_t nl = strlen(name), vl;
	const char *line, *end, *v;
	int http = sep == ':';

	if (text == NULL || len == 0)
		return NULL;
	for (line = text; *line != '\0'; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		if (http && (line == end || (*line == '\r' && line + 1 == end)))
			break;          /* the end of the header block */
		if ((http ? strncasecmp(line, name, nl) :
		    strncmp(line, name, nl)) != 0 || line[nl] != sep)
			continue;
		v = line + nl + 1;
		vl = (size_t)(end - v);
		if (http) {
			for (; v < end && (*v == ' ' || *v == '\t'); v++)
				vl--;
			while (vl > 0 && (v[vl - 1] == '\r' ||
			    v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
		}
		if (vl >= len)
			vl = len - 1;
		memcpy(buf, v, vl);
		buf[vl] = '\0';
		return buf;
	}
	return NULL;
}

const char *hresp_header(const struct hresp *r, const char *name, char *buf,
    size_t len)
{
	return harness_line_value(r->headers, name, ':', buf, len);
}

/* Where the value of "key" starts in body (after the colon and
 * blanks), or NULL. */
static const char *json_value_at(const char *body, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	if ((p = strstr(body, pat)) == NULL)
		return NULL;
	for (p += strlen(pat); *p == ' ' || *p == ':'; p++)
		;
	return p;
}

const char *harness_json_value(const char *body, const char *key, char *buf,
    size_t len)
{
	const char *p = json_value_at(body, key);
	size_t n = 0;
	int quoted;

	if (p == NULL || len == 0)
		return NULL;
	if ((quoted = *p == '"'))
		p++;
	while (*p != '\0' && n + 1 < len && (quoted ? *p != '"' :
	    *p != ',' && *p != '}' && *p != ' ')) {
		if (quoted && *p == '\\' && p[1] != '\0')
			p++;
		buf[n++] = *p++;
	}
	buf[n] = '\0';
	return buf;
}

const char *harness_json_str(const char *body, const char *key, char *buf,
    size_t len)
{
	const char *p = json_value_at(body, key);

	if (p == NULL || *p != '"')
		return NULL;
	return harness_json_value(body, key, buf, len);
}

int harness_curl_timed(const struct harness *h, const char *path,
    const char *needle, double *t_needle, double *t_total, char **body)
{
	return harness_curl_stream(h, path, needle, NULL, t_needle, t_total,
	    body);
}

int harness_curl_stream(const struct harness *h, const char *path,
    const char *needle, const char *mark, double *t_needle, double *t_total,
    char **body)
{
	const char *bin = getenv("CURL") ? getenv("CURL") : CURL_DEFAULT;
	const char *argv[CURL_MAX_ARGS], *envp[] = { PATH_ENV, NULL };
	size_t n, cap = 0, used = 0;
	char url[1024], *buf = NULL;
	double t0;
	int pfd[2], status, more = 1;
	pid_t pid;

	*t_needle = -1;
	*t_total = -1;
	if (pipe2(pfd, O_CLOEXEC) == -1)
		return -1;
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
		return -1;
	}
	while (more == 1) {
		more = hint_read_some(pfd[0], &buf, &cap, &used);
		if (more >= 0 && *t_needle < 0 && strstr(buf, needle) != NULL) {
			*t_needle = harness_now() - t0;
			if (mark != NULL)
				harness_write_file(mark, "", 0, 0644);
		}
	}
	*t_total = harness_now() - t0;
	close(pfd[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (more < 0) {
		free(buf);
		return -1;
	}
	if (body != NULL)
		*body = buf;
	else
		free(buf);
	return 0;
}
