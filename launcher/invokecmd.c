/* invokecmd.c — `fnlauncher invoke`: run one function locally, through the
 * very code that serves nginx. A socketpair stands in for nginx: this
 * side writes the FastCGI request (FastCGI spec sections 5 and 6) and
 * reads the response; the other end is served by server_local(). So
 * routing, environment, limits, identity and teardown are the same. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fastcgi.h>

#include "cgiresp.h"
#include "fcgiwrite.h"
#include "invokecmd.h"
#include "manifest.h"
#include "reply.h"
#include "server.h"
#include "signals.h"

#define MAX_HEADERS 128

struct invoke_opts {
	const char *file;
	const char *method;
	const char *headers[MAX_HEADERS];
	size_t nheaders;
	const char *data;         /* -d: DATA, @FILE or @- */
	int include;              /* -i */
	const char *target;       /* NAME[/path][?query] */
};

static void wait_readable(int fd);

/* All LEN bytes of BUF written to FD (READING false) or read from it
 * (READING true: signals are taken while we wait); false when the
 * daemon side is gone. */
static bool
io_all(int fd, void *buf, size_t len, bool reading)
{
	char *p = buf;

	while (len > 0) {
		if (reading)
			wait_readable(fd);
		ssize_t n = reading ? read(fd, p, len) : write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

#define record fcgiw_record

/* One param; a value too long for a record is said. */
static bool
param(int fd, const char *name, const char *value)
{
	if (strlen(name) + strlen(value) + 8 > 65535) {
		fprintf(stderr, "fnlauncher: invoke: %s is too long\n", name);
		return false;
	}
	return fcgiw_param(fd, name, value);
}

/* "X-Foo-Bar" -> "HTTP_X_FOO_BAR" (RFC 3875 section 4.1.18). */
static void
http_name(const char *h, size_t len, char *out, size_t size)
{
	size_t pos = (size_t)snprintf(out, size, "HTTP_");

	for (size_t i = 0; i < len && pos + 1 < size; i++)
		out[pos++] = h[i] == '-' ? '_' :
		    (char)((h[i] >= 'a' && h[i] <= 'z') ? h[i] - 32 : h[i]);
	out[pos] = '\0';
}

/* The params nginx would send for this request. */
static bool
send_params(int fd, const struct invoke_opts *o, const char *prefix,
    long long clen)
{
	char uri[8192], path[8192], name[300], cl[32];
	const char *q = strchr(o->target, '?');
	size_t plen = q ? (size_t)(q - o->target) : strlen(o->target);
	bool ok = true;

	snprintf(path, sizeof(path), "%s%.*s", prefix, (int)plen, o->target);
	snprintf(uri, sizeof(uri), "%s%s", prefix, o->target);
	snprintf(cl, sizeof(cl), "%lld", clen);
	ok = ok && param(fd, "GATEWAY_INTERFACE", "CGI/1.1");
	ok = ok && param(fd, "SERVER_SOFTWARE", "fnlauncher-invoke/" PACKAGE_VERSION);
	ok = ok && param(fd, "SERVER_PROTOCOL", "HTTP/1.1");
	ok = ok && param(fd, "SERVER_NAME", "localhost");
	ok = ok && param(fd, "REQUEST_SCHEME", "http");
	ok = ok && param(fd, "REMOTE_ADDR", "127.0.0.1");
	ok = ok && param(fd, "REQUEST_METHOD", o->method);
	ok = ok && param(fd, "REQUEST_URI", uri);
	ok = ok && param(fd, "DOCUMENT_URI", path);
	ok = ok && param(fd, "QUERY_STRING", q ? q + 1 : "");
	if (clen > 0)
		ok = ok && param(fd, "CONTENT_LENGTH", cl);
	for (size_t i = 0; ok && i < o->nheaders; i++) {
		const char *h = o->headers[i], *colon = strchr(h, ':');
		const char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strncasecmp(h, "Content-Type:", 13) == 0)
			ok = param(fd, "CONTENT_TYPE", v);
		else {
			http_name(h, (size_t)(colon - h), name, sizeof(name));
			ok = param(fd, name, v);
		}
	}
	return ok && record(fd, FCGI_PARAMS, NULL, 0);
}

/* Standard input copied to an unlinked file: CONTENT_LENGTH must be
 * known before the body is sent. */
static int
spool_stdin(void)
{
	const char *dir = getenv("TMPDIR");
	char buf[32768];
	ssize_t n;
	int fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	while ((n = read(0, buf, sizeof(buf))) > 0)
		if (!fcgiw_all(fd, buf, (size_t)n)) {
			close(fd);
			return -1;
		}
	return fd;
}

/* The body: -d DATA, -d @FILE, -d @- (stdin). Returns an fd to read it
 * from (-1: none) and its length in *LEN (-1: unknown until read). */
static int
open_body(const struct invoke_opts *o, long long *len)
{
	*len = 0;
	if (o->data == NULL)
		return -1;
	if (o->data[0] != '@') {
		*len = (long long)strlen(o->data);
		return -1;
	}
	int fd = strcmp(o->data, "@-") == 0 ? spool_stdin()
	    : open(o->data + 1, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		off_t end = lseek(fd, 0, SEEK_END);
		*len = end >= 0 ? (long long)end : -1;
		lseek(fd, 0, SEEK_SET);
	}
	return fd;
}

static bool
send_body(int fd, const struct invoke_opts *o, int bfd)
{
	char buf[32768];
	ssize_t n;

	if (bfd < 0) {
		const char *d = o->data ? o->data : "";
		for (size_t len = strlen(d), off = 0; off < len; off += 32768) {
			size_t chunk = len - off < 32768 ? len - off : 32768;
			if (!record(fd, FCGI_STDIN, d + off, chunk))
				return false;
		}
	} else {
		while ((n = read(bfd, buf, sizeof(buf))) > 0)
			if (!record(fd, FCGI_STDIN, buf, (size_t)n))
				return false;
	}
	return record(fd, FCGI_STDIN, NULL, 0);
}

/* The response: STDOUT records through a CGI header parser, then the
 * body to our stdout; STDERR records to our stderr. */
struct reader {
	struct cgiresp *cgi;
	int include;
	int status;
	bool headers_done, failed;
};

static void
print_headers(struct reader *r)
{
	const char *reason;
	int status = cgiresp_status(r->cgi, &reason);

	if (status == 0)
		status = cgiresp_find(r->cgi, "Location") ? 302 : 200;
	r->status = status;
	if (!r->include)
		return;
	printf("HTTP/1.1 %d %s\r\n", status, *reason ? reason : reply_reason(status));
	for (size_t i = 0; i < cgiresp_count(r->cgi); i++)
		printf("%s: %s\r\n", cgiresp_get(r->cgi, i)->name,
		    cgiresp_get(r->cgi, i)->value);
	printf("\r\n");
}

static void
on_stdout(struct reader *r, const char *data, size_t len)
{
	size_t used = 0;

	if (!r->headers_done) {
		enum cgiresp_state st = cgiresp_feed(r->cgi, data, len, &used);
		if (st == CGIRESP_MORE)
			return;
		if (st == CGIRESP_ERROR) {
			r->failed = true;
			return;
		}
		r->headers_done = true;
		print_headers(r);
	}
	fwrite(data + used, 1, len - used, stdout);
}

/* SIGTERM, SIGINT or SIGHUP while we wait: the invocation ends as the
 * daemon ends one at the end of a drain (its process killed, 503), and
 * we go on reading until its teardown and record are done. */
static int sig_fd = -1;
static int interrupted;

/* Wait until FD is readable, taking signals meanwhile. */
static void
wait_readable(int fd)
{
	struct pollfd pfd[2] = {
		{ .fd = fd, .events = POLLIN }, { .fd = sig_fd, .events = POLLIN },
	};
	int sig;

	for (;;) {
		if (poll(pfd, sig_fd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			return;
		if (pfd[0].revents != 0)
			return;
		if (sig_fd >= 0 && pfd[1].revents != 0 &&
		    (sig = signals_next(sig_fd)) != 0 && sig != SIGUSR1 &&
		    !interrupted) {
			interrupted = sig;
			fprintf(stderr, "fnlauncher: invoke: %s: stopping the function\n",
			    sigabbrev_np(sig));
			server_local_stop();
		}
	}
}

static bool
read_full(int fd, void *buf, size_t len)
{
	return io_all(fd, buf, len, true);
}

/* Read records until FCGI_END_REQUEST. Returns false on a broken stream. */
static bool
read_response(int fd, struct reader *r)
{
	unsigned char h[FCGI_HEADER_LEN], *buf = malloc(FCGI_MAX_LENGTH + 256);

	if (buf == NULL)
		return false;
	for (;;) {
		if (!read_full(fd, h, sizeof(h)))
			break;
		size_t clen = ((size_t)h[4] << 8) | h[5], plen = h[6];
		if (!read_full(fd, buf, clen + plen))
			break;
		if (h[1] == FCGI_STDOUT)
			on_stdout(r, (char *)buf, clen);
		else if (h[1] == FCGI_STDERR)
			fwrite(buf, 1, clen, stderr);
		else if (h[1] == FCGI_END_REQUEST) {
			free(buf);
			return true;
		}
	}
	free(buf);
	return false;
}

static void
invoke_usage(FILE *f)
{
	fprintf(f, "usage: fnlauncher invoke [-c FILE] [-X METHOD] [-H 'Name: value']... "
	    "[-d DATA|@FILE|@-] [-i] NAME[/path][?query]\n");
}

/* Returns -1 to go on, else an exit code. */
static int
invoke_flags(int argc, char **argv, const char *file, struct invoke_opts *o)
{
	int c;

	o->file = file;
	o->method = NULL;
	optind = 1;
	while ((c = getopt(argc, argv, "c:X:H:d:i")) != -1) {
		switch (c) {
		case 'c': o->file = optarg; break;
		case 'X': o->method = optarg; break;
		case 'd': o->data = optarg; break;
		case 'i': o->include = 1; break;
		case 'H':
			if (strchr(optarg, ':') == NULL || optarg[0] == ':' ||
			    o->nheaders == MAX_HEADERS) {
				fprintf(stderr, "fnlauncher: invoke: bad header: %s\n", optarg);
				return 2;
			}
			o->headers[o->nheaders++] = optarg;
			break;
		default: invoke_usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || argv[optind][0] == '/' || argv[optind][0] == '\0') {
		invoke_usage(stderr);
		return 2;
	}
	o->target = argv[optind];
	if (o->method == NULL)
		o->method = o->data ? "POST" : "GET";
	return -1;
}

/* The prefix, so that the request path routes like one from nginx. */
static char *
manifest_prefix(const char *file)
{
	struct manifest_errors errs = { 0 };
	struct manifest *m = NULL;
	char *prefix = NULL;

	if (manifest_load(file, &m, &errs) == 0) {
		prefix = strdup(m->prefix);
		manifest_free(m);
	}
	manifest_errors_clear(&errs);
	return prefix;
}

int
invokecmd_main(int argc, char **argv, const char *default_file)
{
	struct invoke_opts o = { 0 };
	struct reader r = { 0 };
	int sv[2], bfd, rc = invoke_flags(argc, argv, default_file, &o);
	long long clen;
	char *prefix;

	if (rc >= 0)
		return rc;
	r.include = o.include;
	if ((prefix = manifest_prefix(o.file)) == NULL) {
		fprintf(stderr, "fnlauncher: invoke: cannot load %s (try fnlauncher -t -c %s)\n",
		    o.file, o.file);
		return 1;
	}
	bfd = open_body(&o, &clen);
	if ((o.data != NULL && o.data[0] == '@' && bfd < 0) || clen < 0) {
		fprintf(stderr, "fnlauncher: invoke: %s: %s\n", o.data + 1, strerror(errno));
		free(prefix);
		return 1;
	}
	if ((sig_fd = signals_take()) < 0 ||    /* before the thread starts */
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    server_local(o.file, sv[1]) < 0 ||
	    (r.cgi = cgiresp_new(CGIRESP_MAX_HEADER)) == NULL) {
		free(prefix);
		return 1;
	}
	/* Responder, FCGI_KEEP_CONN: the daemon then keeps the connection
	 * until we close it, after its teardown and record, instead of
	 * ending it with the response. */
	unsigned char begin[8] = { 0, FCGI_RESPONDER, FCGI_KEEP_CONN, 0, 0, 0,
	    0, 0 };
	bool sent = record(sv[0], FCGI_BEGIN_REQUEST, begin, sizeof(begin)) &&
	    send_params(sv[0], &o, prefix, clen) && send_body(sv[0], &o, bfd);
	bool done = read_response(sv[0], &r);
	/* Wait for the teardown and the record: the daemon side ends the
	 * connection after both, whatever became of the response (a cut
	 * response closes it before them). */
	shutdown(sv[0], SHUT_WR);
	char sink[512];
	do
		wait_readable(sv[0]);
	while (read(sv[0], sink, sizeof(sink)) > 0);
	server_local_wait();
	fflush(stdout);
	if (!sent && !done)
		fprintf(stderr, "fnlauncher: invoke: the request could not be sent\n");
	else if (!done)
		fprintf(stderr, "fnlauncher: invoke: the response was cut short\n");
	rc = (done && !r.failed && r.status >= 200 && r.status < 400) ? 0 : 1;
	cgiresp_free(r.cgi);
	free(prefix);
	if (bfd >= 0)
		close(bfd);
	close(sv[0]);
	return rc;
}
