/* cluster.c — three fnlauncher hosts behind one nginx upstream (issue 7,
 * "Scale-out"), with conf/nginx-cluster.conf's settings.
 *
 * The hosts are network namespaces of their own when the machine allows
 * it (root, iproute2, veth and bridge): fnlc-h1..3, each with eth0 on the
 * bridge fnlc-br in the root namespace, addresses 10.231.0.11-13/24; nginx
 * runs in the root namespace as 10.231.0.1. Every daemon runs the same
 * manifest, with "listen: 0.0.0.0:9000" and "allow_from: [10.231.0.1]",
 * as a production host would. Otherwise the hosts are loopback addresses
 * 127.0.0.2-4 (one port for all three, given with -s; nginx's peer is
 * 127.0.0.1). The mode is probed at start and printed;
 * FNL_CLUSTER_MODE=netns or =loopback forces one. Only the addresses the
 * test creates (or 127.0.0.2-4) are ever connected to. The namespaces,
 * veths and the bridge are removed at the end, and at the start too
 * (leftovers of a crashed run); a lock file keeps two runs from sharing
 * them (the second one uses loopback).
 *
 * Functions (the same everywhere): hello answers "host=<FNL_HOST>" (the
 * host's ID, set per daemon and passed with pass_env); post appends its
 * body and request id to spool/post-<FNL_HOST>.log (its side effect),
 * sleeps 1 s, then answers "host=<ID> posted=<body>".
 *
 * Tests (each starts its three daemons and nginx, and ends with no
 * process of the run left):
 *   kill_restart  sequential GETs for >= 6 s; h2 gets SIGKILL at 1.5 s and
 *                 is started again at 3 s: no GET fails, nginx retried at
 *                 least one (the dead host was tried), and h2 answers
 *                 again once max_fails' fail_timeout (2 s here) has passed.
 *   drain         a client alternating GET and POST plus one sending GETs;
 *                 after 1 s, the host where a POST runs gets SIGTERM: no
 *                 request of either method fails, nginx retried at least
 *                 one elsewhere, that POST completes on the drained host,
 *                 which exits 0, and every POST's side effect happened
 *                 exactly once, on the host that answered it.
 *   post_no_replay  a POST whose host gets SIGKILL while the function
 *                 sleeps: the client gets 502, the side effect happened on
 *                 that host only (nginx did not replay it elsewhere).
 *
 * FNL_CLUSTER_NEXT_UPSTREAM overrides the value of fastcgi_next_upstream
 * (default "error timeout"), to watch the assertions fail: "off" fails
 * kill_restart and drain, "error timeout non_idempotent" fails
 * post_no_replay. FNL_KEEP_TMP=1 keeps the temp dir (logs, nginx's access
 * log with the upstreams tried per request). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  /* close_range, mkdtemp, nftw */
#endif
#include "harness_check.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NHOST 3
#define NS_PORT 9000
#define NS_NGINX_ADDR "10.231.0.1"
#define NS_NET "10.231.0.0/16"     /* must be unused on this machine */
#define BRIDGE "fnlc-br"
#define LOCK_PATH "/run/lock/fnlauncher-cluster-test.lock"
#define FAIL_TIMEOUT_S 2           /* nginx's fail_timeout in the tests */
#define GET_TIMEOUT_MS 3000
#define POST_TIMEOUT_MS 6000
#define START_MS 10000
#define MAX_RESULTS 40000

enum mode { MODE_NETNS, MODE_LOOPBACK };

static enum mode MODE;
static char IP_BIN[64];
static char RUN_DIR[128];      /* TMPDIR of this run: removed at the end */
static char TAG_ENV[192];      /* "FNL_TAG=<RUN_DIR>": every process of ours */
static char NO_NETNS[512];     /* loopback mode: why not netns */

struct host {
	char id[8];                /* "h1" */
	char env[16];              /* "FNL_HOST=h1", the host's ID */
	char ns[16];               /* "fnlc-h1" (netns mode) */
	char ip[32];               /* "10.231.0.11" or "127.0.0.2" */
	char addr[48];             /* ip:port */
	pid_t pid;                 /* 0: not running */
};

static struct {
	struct harness *h;         /* temp dir; nginx (h->port, h->nginx_pid) */
	struct host host[NHOST];
	int port;                  /* the daemons' port */
} C;

/* ---- small helpers ------------------------------------------------------- */

static void sleep_until(double t)
{
	double left = t - harness_now();

	if (left > 0)
		harness_sleep_ms((int)(left * 1000) + 1);
}

/* A TCP connect to ip:port: 1 accepted, 0 refused, -1 other error
 * (unreachable yet, timed out). */
static int tcp_probe(const char *ip, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct pollfd pfd;
	socklen_t sl = sizeof(int);
	int fd, err = 0, rc;

	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return -1;
	sa.sin_port = htons((unsigned short)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		return 1;
	}
	if (errno != EINPROGRESS) {
		rc = errno == ECONNREFUSED ? 0 : -1;
		close(fd);
		return rc;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, 500) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	return err == 0 ? 1 : err == ECONNREFUSED ? 0 : -1;
}

/* ---- ip(8) and the namespaces -------------------------------------------- */

/* Run IP_BIN with the arguments (NULL terminated): its exit code, -1 if
 * it could not run; *out (may be NULL) gets stdout. quiet: no stderr. */
static int ip_cmd(char **out, int quiet, ...)
{
	const char *argv[24];
	char *err = NULL;
	va_list ap;
	size_t n = 0;
	int st;

	argv[n++] = IP_BIN;
	va_start(ap, quiet);
	while (n < 23 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	st = harness_run(argv, NULL, NULL, out, NULL, &err, 10000);
	if (!quiet && (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)) {
		size_t i;

		fprintf(stderr, "cluster: failed:");
		for (i = 0; i < n; i++)
			fprintf(stderr, " %s", argv[i]);
		fprintf(stderr, ": %s", err != NULL ? err : "\n");
	}
	free(err);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Remove the namespaces, veths and bridge of this or a crashed earlier
 * run (only ours: the names are ours, and the lock is held). Processes
 * still inside a namespace are killed first. */
static void netns_teardown(void)
{
	char ns[16], *pids, *p, *end;
	int i;

	for (i = 1; i <= NHOST; i++) {
		snprintf(ns, sizeof(ns), "fnlc-h%d", i);
		pids = NULL;
		if (ip_cmd(&pids, 1, "netns", "pids", ns, NULL) == 0 &&
		    pids != NULL)
			for (p = pids; *p != '\0'; p = end) {
				long pid = strtol(p, &end, 10);

				if (end == p)
					break;
				if (pid > 1)
					kill((pid_t)pid, SIGKILL);
			}
		free(pids);
		ip_cmd(NULL, 1, "link", "del", ns, NULL);
		ip_cmd(NULL, 1, "netns", "del", ns, NULL);
	}
	ip_cmd(NULL, 1, "link", "del", BRIDGE, NULL);
}

/* Set up the namespaces; 0, or -1 with the reason in why. */
static int netns_setup(char *why, size_t len)
{
	static const char *const ips[] = { "/usr/sbin/ip", "/sbin/ip",
	    "/usr/bin/ip", "/bin/ip" };
	char *out = NULL, ns[16], cidr[32], ip[32];
	int fd, i, ok;
	size_t k;
	double end;

	if (geteuid() != 0) {
		snprintf(why, len, "not root");
		return -1;
	}
	for (k = 0; k < sizeof(ips) / sizeof(ips[0]); k++)
		if (access(ips[k], X_OK) == 0) {
			snprintf(IP_BIN, sizeof(IP_BIN), "%s", ips[k]);
			break;
		}
	if (IP_BIN[0] == '\0') {
		snprintf(why, len, "no ip(8) (Debian: apt-get install "
		    "iproute2)");
		return -1;
	}
	/* Held until we exit: a second run at the same time uses loopback. */
	fd = open(LOCK_PATH, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(why, len, "%s: %s", LOCK_PATH, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(why, len, "another run holds %s", LOCK_PATH);
		close(fd);
		return -1;
	}
	netns_teardown();
	/* 10.231.0.0/16 must be ours alone: no address or route in it. */
	if (ip_cmd(&out, 0, "-o", "addr", "show", "to", NS_NET, NULL) != 0 ||
	    out[0] != '\0') {
		snprintf(why, len, "%s already in use here: %s", NS_NET,
		    out ? out : "ip failed");
		free(out);
		return -1;
	}
	free(out);
	out = NULL;
	if (ip_cmd(&out, 0, "-o", "route", "show", "root", NS_NET, NULL) !=
	    0 || out[0] != '\0') {
		snprintf(why, len, "routes in %s exist here: %s", NS_NET,
		    out ? out : "ip failed");
		free(out);
		return -1;
	}
	free(out);
	ok = ip_cmd(NULL, 0, "link", "add", BRIDGE, "type", "bridge",
	    NULL) == 0 &&
	    ip_cmd(NULL, 0, "addr", "add", NS_NGINX_ADDR "/24", "dev",
	    BRIDGE, NULL) == 0 &&
	    ip_cmd(NULL, 0, "link", "set", BRIDGE, "up", NULL) == 0;
	for (i = 1; ok && i <= NHOST; i++) {
		snprintf(ns, sizeof(ns), "fnlc-h%d", i);
		snprintf(cidr, sizeof(cidr), "10.231.0.1%d/24", i);
		ok = ip_cmd(NULL, 0, "netns", "add", ns, NULL) == 0 &&
		    ip_cmd(NULL, 0, "link", "add", ns, "type", "veth", "peer",
		    "name", "eth0", "netns", ns, NULL) == 0 &&
		    ip_cmd(NULL, 0, "link", "set", ns, "master", BRIDGE, "up",
		    NULL) == 0 &&
		    ip_cmd(NULL, 0, "-n", ns, "addr", "add", cidr, "dev", "eth0",
		    NULL) == 0 &&
		    ip_cmd(NULL, 0, "-n", ns, "link", "set", "eth0", "up",
		    NULL) == 0 &&
		    ip_cmd(NULL, 0, "-n", ns, "link", "set", "lo", "up",
		    NULL) == 0;
	}
	if (!ok) {
		snprintf(why, len, "could not create namespaces, veths and "
		    "a bridge (see above)");
		netns_teardown();
		return -1;
	}
	/* Reachable once a connect to a closed port is refused. */
	for (i = 1; i <= NHOST; i++) {
		snprintf(ip, sizeof(ip), "10.231.0.1%d", i);
		end = harness_now() + 5;
		while (tcp_probe(ip, NS_PORT) != 0 && harness_now() < end)
			harness_sleep_ms(50);
		if (tcp_probe(ip, NS_PORT) != 0) {
			snprintf(why, len, "%s not reachable over the bridge",
			    ip);
			netns_teardown();
			return -1;
		}
	}
	return 0;
}

/* ---- functions, manifest, nginx ------------------------------------------ */

static const char HELLO[] =
    "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhost=%s\\n' "
    "\"$FNL_HOST\"\n";
static const char POST[] =
    "#!/bin/sh\nbody=$(cat)\n"
    "printf '%s %s\\n' \"$body\" \"$FN_REQUEST_ID\" >> "
    "@DIR@/spool/post-$FNL_HOST.log\n"
    "sleep 1\n"
    "printf 'Content-Type: text/plain\\n\\nhost=%s posted=%s\\n' "
    "\"$FNL_HOST\" \"$body\"\n";

/* The same manifest for every host; mode-dependent only in where the
 * hosts listen and who nginx is. */
static int write_manifest(void)
{
	char text[2048];

	snprintf(text, sizeof(text),
	    "# generated by t/cluster.c: the same file on every host\n"
	    "%s"
	    "allow_from: [%s]\n"
	    "shutdown_timeout: 5s\n"
	    "defaults:\n"
	    "  timeout: 10s\n"
	    "  pass_env: [FNL_HOST, FNL_TAG]\n"
	    "  limits: { nproc: 4096 }\n"
	    "functions:\n"
	    "  hello: { path: @DIR@/bin/hello, methods: [GET, HEAD] }\n"
	    "  post: { path: @DIR@/bin/post, methods: [POST] }\n",
	    MODE == MODE_NETNS ? "listen: 0.0.0.0:9000\n" : "",
	    MODE == MODE_NETNS ? NS_NGINX_ADDR : "127.0.0.1");
	return harness_write(C.h, "cluster.yaml", text, 0644);
}

/* nginx's http block: the upstream of the three hosts, a log of the
 * upstreams tried per request, the location that passes to it, and one
 * location per host for its health alone (/_hosts/hN/_/health). */
static int start_nginx(void)
{
	const char *nu = getenv("FNL_CLUSTER_NEXT_UPSTREAM");
	char *text = malloc(16384), servers[512] = "", hostloc[2048] = "";
	size_t su = 0, hu = 0;
	int i, n, rc;

	if (text == NULL)
		return -1;
	for (i = 0; i < NHOST; i++) {
		su += (size_t)snprintf(servers + su, sizeof(servers) - su,
		    "    server %s max_fails=1 fail_timeout=%ds;\n",
		    C.host[i].addr, FAIL_TIMEOUT_S);
		hu += (size_t)snprintf(hostloc + hu, sizeof(hostloc) - hu,
		    "    location /_hosts/%s/ {\n"
		    "      rewrite ^/_hosts/%s(/_/.*)$ $1 break;\n"
		    "      include /etc/nginx/fastcgi_params;\n"
		    "      fastcgi_pass %s;\n"
		    "    }\n", C.host[i].id, C.host[i].id, C.host[i].addr);
	}
	n = snprintf(text, 16384,
	    "  log_format cluster '$msec $request_method $uri $status "
	    "up=[$upstream_addr] ust=[$upstream_status] rt=$request_time';\n"
	    "  access_log @DIR@/nginx/access.log cluster;\n"
	    "  upstream fnlauncher {\n"
	    "%s"
	    "    keepalive 32;\n"
	    "  }\n"
	    "  server {\n"
	    "    listen 127.0.0.1:@PORT@;\n"
	    "    server_name cluster;\n"
	    "    location / {\n"
	    "      include /etc/nginx/fastcgi_params;\n"
	    "      fastcgi_pass fnlauncher;\n"
	    "      fastcgi_keep_conn on;\n"
	    "      fastcgi_next_upstream %s;\n"
	    "      fastcgi_next_upstream_tries 3;\n"
	    "      fastcgi_connect_timeout 1s;\n"
	    "      fastcgi_read_timeout 10s;\n"
	    "      add_header X-Upstream $upstream_addr always;\n"
	    "    }\n"
	    "%s"
	    "  }\n", servers, nu != NULL && nu[0] != '\0' ? nu :
	    "error timeout", hostloc);
	C.h->worker_connections = 1024;
	rc = n > 0 && n < 16384 ? harness_start_nginx_http(C.h, text) : -1;
	free(text);
	return rc;
}

/* Start host i's daemon (again); wait until it accepts connections. */
static int start_host(int i)
{
	struct host *ho = &C.host[i];
	const char *argv[12], *extra[] = { ho->env, TAG_ENV, NULL };
	char manifest[512], logp[512];
	size_t na = 0;
	int st;
	double end;

	if (harness_path(C.h, "cluster.yaml", manifest, sizeof(manifest)) ||
	    snprintf(logp, sizeof(logp), "%s/daemon-%s.log", C.h->dir,
	    ho->id) >= (int)sizeof(logp))
		return -1;
	if (MODE == MODE_NETNS) {
		/* ip netns exec execs the daemon: its pid is ours to watch. */
		argv[na++] = IP_BIN;
		argv[na++] = "netns";
		argv[na++] = "exec";
		argv[na++] = ho->ns;
	}
	argv[na++] = harness_fnl_bin;
	argv[na++] = "-c";
	argv[na++] = manifest;
	if (MODE != MODE_NETNS) {
		argv[na++] = "-s";
		argv[na++] = ho->addr;
	}
	argv[na] = NULL;
	ho->pid = harness_spawn_logged(argv, extra, logp);
	if (ho->pid == -1) {
		ho->pid = 0;
		return -1;
	}
	for (end = harness_now() + START_MS / 1000.0; harness_now() < end;
	    harness_sleep_ms(20)) {
		if (waitpid(ho->pid, &st, WNOHANG) == ho->pid) {
			fprintf(stderr, "cluster: %s exited (0x%x) while "
			    "starting; see %s\n", ho->id, (unsigned)st, logp);
			ho->pid = 0;
			return -1;
		}
		if (tcp_probe(ho->ip, C.port) == 1)
			return 0;
	}
	fprintf(stderr, "cluster: %s not accepting on %s\n", ho->id,
	    ho->addr);
	return -1;
}

/* SIGTERM (or sig), then SIGKILL; the wait status or -1. */
static int stop_host(int i, int sig, int grace_ms)
{
	int st = -1;

	if (C.host[i].pid <= 0)
		return -1;
	kill(C.host[i].pid, sig);
	if (harness_wait_ms(C.host[i].pid, grace_ms, &st) != 1) {
		kill(C.host[i].pid, SIGKILL);
		if (harness_wait_ms(C.host[i].pid, 5000, &st) != 1)
			st = -1;
	}
	C.host[i].pid = 0;
	return st;
}

/* A loopback port free on 127.0.0.2-4 a moment ago. */
static int loopback_port(void)
{
	int attempt, i, p, fd, ok;
	struct sockaddr_in sa = { .sin_family = AF_INET };

	for (attempt = 0; attempt < 20; attempt++) {
		p = harness_free_port();
		if (p <= 0)
			return -1;
		for (ok = 1, i = 0; ok && i < NHOST; i++) {
			fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			inet_pton(AF_INET, C.host[i].ip, &sa.sin_addr);
			sa.sin_port = htons((unsigned short)p);
			ok = fd != -1 && bind(fd, (struct sockaddr *)&sa,
			    sizeof(sa)) == 0;
			if (fd != -1)
				close(fd);
		}
		if (ok)
			return p;
	}
	return -1;
}

/* ---- the client ---------------------------------------------------------- */

struct result {
	double t0, t1;
	int post;
	int status;                /* 0: no response */
	char host[8];              /* from "host=..." in the body */
	char up[128];              /* X-Upstream: the upstreams nginx tried */
	char marker[24];           /* a POST's body */
	char err[64];
};

/* One request over a new connection to nginx (HTTP/1.0: the response
 * ends with the connection), answered within timeout_ms. */
static void http_req(const char *method, const char *path, const char *body,
    int timeout_ms, struct result *r)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char req[512], buf[16384], *p, *e;
	size_t got = 0, off = 0;
	struct pollfd pfd;
	double end = harness_now() + timeout_ms / 1000.0;
	ssize_t n;
	int fd, len;

	r->status = 0;
	r->host[0] = r->up[0] = r->err[0] = '\0';
	if (body != NULL)
		len = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\n"
		    "Host: cluster\r\nContent-Type: text/plain\r\n"
		    "Content-Length: %zu\r\n\r\n%s", method, path, strlen(body),
		    body);
	else
		len = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\n"
		    "Host: cluster\r\n\r\n", method, path);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)C.h->port);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		snprintf(r->err, sizeof(r->err), "connect: %s",
		    strerror(errno));
		goto out;
	}
	while (off < (size_t)len) {
		n = send(fd, req + off, (size_t)len - off, MSG_NOSIGNAL);
		if (n <= 0) {
			snprintf(r->err, sizeof(r->err), "send: %s",
			    strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		int left = (int)((end - harness_now()) * 1000);

		if (left <= 0) {
			snprintf(r->err, sizeof(r->err), "no answer within "
			    "%d ms", timeout_ms);
			goto out;
		}
		if (poll(&pfd, 1, left) <= 0)
			continue;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(r->err, sizeof(r->err), "read: %s",
			    strerror(errno));
			goto out;
		}
		if (n == 0 || got + (size_t)n == sizeof(buf) - 1) {
			got += (size_t)n;
			break;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &r->status) != 1) {
		snprintf(r->err, sizeof(r->err), "no status line");
		r->status = 0;
		goto out;
	}
	e = strstr(buf, "\r\n\r\n");
	if ((p = strcasestr(buf, "\r\nX-Upstream: ")) != NULL &&
	    (e == NULL || p < e)) {
		p += 14;
		n = (ssize_t)strcspn(p, "\r\n");
		snprintf(r->up, sizeof(r->up), "%.*s", (int)n, p);
	}
	if (e != NULL && (p = strstr(e, "host=")) != NULL) {
		p += 5;
		n = (ssize_t)strcspn(p, " \r\n");
		snprintf(r->host, sizeof(r->host), "%.*s", (int)n, p);
	}
out:
	if (fd != -1)
		close(fd);
}

/* A client loop in a thread of its own, recording every request. */
struct loop {
	const char *name;
	int alternate;             /* 0: GETs only; 1: GET, POST, GET, ... */
	atomic_int stop;
	atomic_size_t n;           /* results[0..n) are complete */
	struct result *res;
	pthread_t thread;
};

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	size_t i;

	for (i = 0; i < MAX_RESULTS && !atomic_load(&l->stop); i++) {
		struct result *r = &l->res[i];

		memset(r, 0, sizeof(*r));
		r->post = l->alternate && i % 2 == 1;
		r->t0 = harness_now();
		if (r->post) {
			snprintf(r->marker, sizeof(r->marker), "%s-%zu",
			    l->name, i);
			http_req("POST", "/post", r->marker, POST_TIMEOUT_MS,
			    r);
		} else
			http_req("GET", "/hello", NULL, GET_TIMEOUT_MS, r);
		r->t1 = harness_now();
		atomic_store(&l->n, i + 1);
	}
	return NULL;
}

static struct loop *loop_start(const char *name, int alternate)
{
	struct loop *l = calloc(1, sizeof(*l));

	ck_assert_ptr_nonnull(l);
	l->res = calloc(MAX_RESULTS, sizeof(*l->res));
	ck_assert_ptr_nonnull(l->res);
	l->name = name;
	l->alternate = alternate;
	atomic_init(&l->stop, 0);
	atomic_init(&l->n, 0);
	ck_assert_int_eq(pthread_create(&l->thread, NULL, loop_main, l), 0);
	return l;
}

static void loop_stop(struct loop *l)
{
	atomic_store(&l->stop, 1);
	pthread_join(l->thread, NULL);
}

static void loop_free(struct loop *l)
{
	free(l->res);
	free(l);
}

/* A response is good: 200 with the host's ID (and, for a POST, its own
 * marker echoed). */
static int good(const struct result *r)
{
	return r->status == 200 && r->host[0] != '\0';
}

/* Failures of l into desc (the first few); their count. */
static int failures(const struct loop *l, double t_base, char *desc,
    size_t len)
{
	size_t i, n = atomic_load(&l->n), used = 0;
	int bad = 0, m;

	desc[0] = '\0';
	for (i = 0; i < n; i++) {
		const struct result *r = &l->res[i];

		if (good(r))
			continue;
		if (bad++ < 5 && used < len) {
			m = snprintf(desc + used, len - used, "\n  %s #%zu %s at "
			    "%.2f s: status %d, %s, upstreams [%s]", l->name, i,
			    r->post ? "POST" : "GET", r->t0 - t_base, r->status,
			    r->err[0] ? r->err : "no host in body", r->up);
			if (m > 0)
				used += (size_t)m;
		}
	}
	return bad;
}

/* Requests of l that nginx passed to more than one upstream (a retry),
 * answered after t. */
static int retried_after(const struct loop *l, double t)
{
	size_t i, n = atomic_load(&l->n);
	int c = 0;

	for (i = 0; i < n; i++)
		if (l->res[i].t1 > t && strchr(l->res[i].up, ',') != NULL)
			c++;
	return c;
}

/* ---- the cluster --------------------------------------------------------- */

/* Kill what an earlier failed test left (daemons, functions). */
static void sweep(void)
{
	const char *tag[] = { TAG_ENV, NULL };
	char desc[512];

	if (harness_procs(tag, -1, 0, desc, sizeof(desc)) > 0) {
		harness_procs_kill(tag, -1);
		harness_procs(tag, -1, 3000, desc, sizeof(desc));
	}
}

/* Post side effects: lines of spool/post-hN.log with marker, per host. */
static int marker_count(int i, const char *marker)
{
	char rel[64], path[512], *text, *line, *save = NULL;
	size_t ml = strlen(marker);
	int c = 0;

	snprintf(rel, sizeof(rel), "spool/post-%s.log", C.host[i].id);
	if (harness_path(C.h, rel, path, sizeof(path)) != 0 ||
	    (text = harness_read_file(path, NULL)) == NULL)
		return 0;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, marker, ml) == 0 && line[ml] == ' ')
			c++;
	free(text);
	return c;
}

/* The last line of host i's post log (its first word into buf); 0 if
 * none. */
static int last_post(int i, char *buf, size_t len)
{
	char rel[64], path[512], *text, *p;
	size_t l;

	snprintf(rel, sizeof(rel), "spool/post-%s.log", C.host[i].id);
	if (harness_path(C.h, rel, path, sizeof(path)) != 0 ||
	    (text = harness_read_file(path, &l)) == NULL)
		return 0;
	while (l > 0 && text[l - 1] == '\n')
		text[--l] = '\0';
	p = strrchr(text, '\n');
	p = p != NULL ? p + 1 : text;
	snprintf(buf, len, "%.*s", (int)strcspn(p, " "), p);
	free(text);
	return buf[0] != '\0';
}

static const char *log_tail(int i)
{
	static char buf[1200];
	char path[512], *text;
	size_t len;

	snprintf(path, sizeof(path), "%s/daemon-%s.log", C.h->dir,
	    C.host[i].id);
	text = harness_read_file(path, &len);
	snprintf(buf, sizeof(buf), "%s", text == NULL ? "(no log)" :
	    len > sizeof(buf) - 1 ? text + len - (sizeof(buf) - 1) : text);
	free(text);
	return buf;
}

/* Checked fixture: three daemons and nginx, all answering. */
static void cluster_up(void)
{
	struct result r;
	int i, seen[NHOST] = { 0 }, tries;
	char path[64];

	sweep();
	memset(&C, 0, sizeof(C));
	C.h = harness_new();
	ck_assert_ptr_nonnull(C.h);
	for (i = 0; i < NHOST; i++) {
		struct host *ho = &C.host[i];

		snprintf(ho->id, sizeof(ho->id), "h%d", i + 1);
		snprintf(ho->env, sizeof(ho->env), "FNL_HOST=h%d", i + 1);
		snprintf(ho->ns, sizeof(ho->ns), "fnlc-h%d", i + 1);
		if (MODE == MODE_NETNS)
			snprintf(ho->ip, sizeof(ho->ip), "10.231.0.1%d", i + 1);
		else
			snprintf(ho->ip, sizeof(ho->ip), "127.0.0.%d", i + 2);
	}
	C.port = MODE == MODE_NETNS ? NS_PORT : loopback_port();
	ck_assert_int_gt(C.port, 0);
	for (i = 0; i < NHOST; i++)
		snprintf(C.host[i].addr, sizeof(C.host[i].addr), "%s:%d",
		    C.host[i].ip, C.port);
	ck_assert_int_eq(harness_write(C.h, "bin/hello", HELLO, 0755), 0);
	ck_assert_int_eq(harness_write(C.h, "bin/post", POST, 0755), 0);
	ck_assert_int_eq(write_manifest(), 0);
	for (i = 0; i < NHOST; i++)
		ck_assert_msg(start_host(i) == 0, "%s did not start:\n%s",
		    C.host[i].id, log_tail(i));
	ck_assert_msg(start_nginx() == 0, "nginx did not start");
	/* Each host healthy on its own, through nginx... */
	for (i = 0; i < NHOST; i++) {
		snprintf(path, sizeof(path), "/_hosts/%s/_/health",
		    C.host[i].id);
		http_req("GET", path, NULL, GET_TIMEOUT_MS, &r);
		ck_assert_msg(r.status == 200, "%s: %s answered %d %s",
		    C.host[i].id, path, r.status, r.err);
	}
	/* ... and all three in the upstream's rotation. */
	for (tries = 0; tries < 9; tries++) {
		http_req("GET", "/hello", NULL, GET_TIMEOUT_MS, &r);
		ck_assert_msg(good(&r), "warm-up GET: status %d %s",
		    r.status, r.err);
		for (i = 0; i < NHOST; i++)
			if (strcmp(r.host, C.host[i].id) == 0)
				seen[i] = 1;
	}
	for (i = 0; i < NHOST; i++)
		ck_assert_msg(seen[i], "%s never answered in 9 GETs",
		    C.host[i].id);
}

/* Checked fixture: stop everything; nothing of the run may be left. */
static void cluster_down(void)
{
	const char *tag[] = { TAG_ENV, NULL };
	char desc[1024];
	int i, left;

	harness_stop_nginx(C.h);
	for (i = 0; i < NHOST; i++)
		stop_host(i, SIGTERM, 8000);
	/* Orphans of a SIGKILLed host finish their sleep 1 and die. */
	left = harness_procs(tag, -1, 3000, desc, sizeof(desc));
	if (left > 0)
		harness_procs_kill(tag, -1);
	harness_free(C.h);
	C.h = NULL;
	ck_assert_msg(left == 0, "processes of the run left: %s", desc);
}

static int host_index(const char *id)
{
	int i;

	for (i = 0; i < NHOST; i++)
		if (strcmp(C.host[i].id, id) == 0)
			return i;
	return -1;
}

/* ---- tests --------------------------------------------------------------- */

START_TEST(kill_restart)
{
	const int victim = 1;
	struct loop *l;
	char desc[1600];
	double t0, t_kill, t_restart, t_back = -1, end;
	size_t i, n, per[NHOST] = { 0 };
	int st, bad, during = 0, retries;

	l = loop_start("get", 0);
	t0 = harness_now();
	sleep_until(t0 + 1.5);
	t_kill = harness_now();
	ck_assert_int_eq(kill(C.host[victim].pid, SIGKILL), 0);
	ck_assert_int_eq(harness_wait_ms(C.host[victim].pid, 5000, &st), 1);
	C.host[victim].pid = 0;
	sleep_until(t0 + 3.0);
	t_restart = harness_now();
	ck_assert_msg(start_host(victim) == 0, "restart of %s failed:\n%s",
	    C.host[victim].id, log_tail(victim));
	/* Back once nginx tries it again: after fail_timeout, bounded. */
	end = t_restart + 3 * FAIL_TIMEOUT_S + 10;
	while (harness_now() < end) {
		n = atomic_load(&l->n);
		for (i = 0; i < n && t_back < 0; i++)
			if (l->res[i].t0 > t_restart &&
			    strcmp(l->res[i].host, C.host[victim].id) == 0)
				t_back = l->res[i].t1;
		if (t_back > 0 && harness_now() >= t0 + 6.0)
			break;
		harness_sleep_ms(50);
	}
	loop_stop(l);

	n = atomic_load(&l->n);
	for (i = 0; i < n; i++) {
		int h = host_index(l->res[i].host);

		if (h >= 0)
			per[h]++;
		if (h == victim && l->res[i].t0 > t_kill &&
		    l->res[i].t1 < t_restart)
			during++;
	}
	bad = failures(l, t0, desc, sizeof(desc));
	retries = retried_after(l, t_kill);
	printf("cluster: kill_restart: %zu GETs in %.1f s (h1 %zu, h2 %zu, "
	    "h3 %zu), %d failed, %d retried on another host after the "
	    "SIGKILL, h2 back %.1f s after its restart\n", n,
	    harness_now() - t0, per[0], per[1], per[2], bad, retries,
	    t_back > 0 ? t_back - t_restart : -1.0);
	ck_assert_msg(bad == 0, "%d of %zu GETs failed (SIGKILL at %.2f s, "
	    "restart at %.2f s):%s", bad, n, t_kill - t0, t_restart - t0,
	    desc);
	ck_assert_msg(during == 0, "%d GETs answered by %s while it was "
	    "dead", during, C.host[victim].id);
	ck_assert_msg(retries > 0, "no request was retried after the SIGKILL:"
	    " nginx never tried the dead host?");
	ck_assert_msg(t_back > 0, "%s took no traffic within %.0f s of its "
	    "restart\n%s", C.host[victim].id, end - t_restart,
	    log_tail(victim));
	loop_free(l);
}
END_TEST

START_TEST(drain)
{
	struct loop *lp, *lg;
	char desc[1600], desc2[1600], inflight[24] = "", last[NHOST][24];
	double t0, t_term, t_exit, end;
	size_t i, n;
	int st, got, bad, bad2, retries, after = 0, j, total;
	int posts = 0, wrong = 0;
	char effect[256] = "";
	int victim = -1;
	const struct result *ir = NULL;

	lp = loop_start("post", 1);
	lg = loop_start("get", 0);
	t0 = harness_now();
	/* After at least 1 s of traffic, SIGTERM the host on which a POST
	 * runs now: its side effect written, its 1 s sleep begun. */
	sleep_until(t0 + 1.0);
	for (j = 0; j < NHOST; j++)
		if (!last_post(j, last[j], sizeof(last[j])))
			last[j][0] = '\0';
	for (end = t0 + 10; victim < 0 && harness_now() < end; harness_sleep_ms(5))
		for (j = 0; j < NHOST && victim < 0; j++)
			if (last_post(j, inflight, sizeof(inflight)) &&
			    strcmp(inflight, last[j]) != 0)
				victim = j;
	ck_assert_msg(victim >= 0, "no POST ran within 10 s");
	t_term = harness_now();
	ck_assert_int_eq(kill(C.host[victim].pid, SIGTERM), 0);
	got = harness_wait_ms(C.host[victim].pid, 5000 + 3000, &st);
	t_exit = harness_now();
	if (got == 1)
		C.host[victim].pid = 0;
	/* The others keep serving, the victim stays away. */
	sleep_until(t_exit + 2.0);
	loop_stop(lp);
	loop_stop(lg);

	n = atomic_load(&lp->n);
	for (i = 0; i < n; i++)
		if (strcmp(lp->res[i].marker, inflight) == 0)
			ir = &lp->res[i];
	bad = failures(lp, t0, desc, sizeof(desc));
	bad2 = failures(lg, t0, desc2, sizeof(desc2));
	retries = retried_after(lp, t_term) + retried_after(lg, t_term);
	for (i = 0; i < atomic_load(&lg->n); i++)
		if (lg->res[i].t0 > t_exit &&
		    strcmp(lg->res[i].host, C.host[victim].id) == 0)
			after++;
	/* Every POST answered 200 did its work exactly once, where it said. */
	for (i = 0; i < n; i++) {
		const struct result *r = &lp->res[i];

		if (!r->post || !good(r))
			continue;
		posts++;
		for (total = 0, j = 0; j < NHOST; j++)
			total += marker_count(j, r->marker);
		if (total == 1 && marker_count(host_index(r->host),
		    r->marker) == 1)
			continue;
		if (wrong++ == 0)
			snprintf(effect, sizeof(effect), "POST %s (answered by "
			    "%s): its side effect happened %d times, %d on %s",
			    r->marker, r->host, total, marker_count(
			    host_index(r->host), r->marker), r->host);
	}
	printf("cluster: drain: %zu + %zu requests, SIGTERM to %s at %.2f s "
	    "with POST %s in flight, exit after %.2f s (status 0x%x), %d + %d "
	    "failed, %d retried on another host after the SIGTERM\n",
	    n, atomic_load(&lg->n), C.host[victim].id, t_term - t0, inflight,
	    t_exit - t_term,
	    got == 1 ? (unsigned)st : 0xdead, bad, bad2, retries);
	ck_assert_msg(bad == 0 && bad2 == 0, "%d + %d requests failed around "
	    "the drain (SIGTERM at %.2f s):%s%s", bad, bad2, t_term - t0,
	    desc, desc2);
	ck_assert_msg(got == 1, "%s still running %.1f s after SIGTERM\n%s",
	    C.host[victim].id, t_exit - t_term, log_tail(victim));
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: wait status "
	    "0x%x after SIGTERM\n%s", C.host[victim].id, (unsigned)st,
	    log_tail(victim));
	ck_assert_msg(ir != NULL && ir->status == 200 &&
	    strcmp(ir->host, C.host[victim].id) == 0, "the POST in flight at "
	    "the SIGTERM (%s) did not complete on %s: status %d, host %s, %s",
	    inflight, C.host[victim].id, ir ? ir->status : -1,
	    ir ? ir->host : "-", ir ? ir->err : "not sent");
	ck_assert_msg(posts > 0 && wrong == 0, "%d POSTs answered 200, %d "
	    "with the wrong side effects; first: %s", posts, wrong, effect);
	ck_assert_msg(retries > 0, "no request was retried after the "
	    "SIGTERM: nginx never tried the draining host?");
	ck_assert_msg(after == 0, "%d requests answered by %s after it exited",
	    after, C.host[victim].id);
	loop_free(lp);
	loop_free(lg);
}
END_TEST

struct one_post {
	char marker[24];
	struct result r;
};

static void *post_main(void *arg)
{
	struct one_post *op = arg;

	op->r.t0 = harness_now();
	http_req("POST", "/post", op->marker, 10000, &op->r);
	op->r.t1 = harness_now();
	return NULL;
}

START_TEST(post_no_replay)
{
	struct one_post op;
	pthread_t t;
	double end;
	int i, victim = -1, st, total, counts[NHOST];

	memset(&op, 0, sizeof(op));
	snprintf(op.marker, sizeof(op.marker), "c-%ld", (long)getpid());
	ck_assert_int_eq(pthread_create(&t, NULL, post_main, &op), 0);
	/* Where did it land? The function has written its side effect and
	 * sleeps: kill that host. */
	for (end = harness_now() + 5; victim < 0 && harness_now() < end;
	    harness_sleep_ms(5))
		for (i = 0; i < NHOST; i++)
			if (marker_count(i, op.marker) > 0)
				victim = i;
	ck_assert_msg(victim >= 0, "POST %s reached no host within 5 s",
	    op.marker);
	ck_assert_int_eq(kill(C.host[victim].pid, SIGKILL), 0);
	ck_assert_int_eq(harness_wait_ms(C.host[victim].pid, 5000, &st), 1);
	C.host[victim].pid = 0;
	pthread_join(t, NULL);
	/* A replay would run at once; leave time for the orphaned function
	 * to finish too. */
	harness_sleep_ms(1500);
	for (total = 0, i = 0; i < NHOST; i++)
		total += counts[i] = marker_count(i, op.marker);
	printf("cluster: post_no_replay: POST %s ran on %s, killed: client "
	    "got %d after %.2f s, upstreams [%s]; side effects h1 %d, h2 %d, "
	    "h3 %d\n", op.marker, C.host[victim].id, op.r.status,
	    op.r.t1 - op.r.t0, op.r.up, counts[0], counts[1], counts[2]);
	ck_assert_msg(op.r.status == 502, "client got %d (%s), upstreams [%s],"
	    " not 502", op.r.status, op.r.err, op.r.up);
	ck_assert_msg(total == 1 && counts[victim] == 1, "POST %s ran %d "
	    "times (h1 %d, h2 %d, h3 %d): replayed", op.marker, total,
	    counts[0], counts[1], counts[2]);
	ck_assert_msg(strchr(op.r.up, ',') == NULL, "nginx passed the POST "
	    "to several upstreams: %s", op.r.up);
}
END_TEST

/* ---- suite --------------------------------------------------------------- */

static Suite *suite_cluster(void)
{
	Suite *s = suite_create("cluster");
	TCase *tc = tcase_create("failover");

	tcase_add_checked_fixture(tc, cluster_up, cluster_down);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, kill_restart);
	tcase_add_test(tc, drain);
	tcase_add_test(tc, post_no_replay);
	suite_add_tcase(s, tc);
	return s;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* One temp dir for the whole run (every harness dir inside it, removed
 * at the end whatever the tests did), then the hosts' mode. */
static int cluster_setup(char *why, size_t len)
{
	const char *force = getenv("FNL_CLUSTER_MODE");
	const char *tmp = getenv("TMPDIR");

	/* 0755 so functions running as nobody get through. */
	snprintf(RUN_DIR, sizeof(RUN_DIR), "%s/fnl-cluster-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(RUN_DIR) == NULL || chmod(RUN_DIR, 0755) != 0) {
		snprintf(why, len, "mkdtemp %s: %s", RUN_DIR, strerror(errno));
		return -1;
	}
	setenv("TMPDIR", RUN_DIR, 1);
	snprintf(TAG_ENV, sizeof(TAG_ENV), "FNL_TAG=%s", RUN_DIR);

	if (force != NULL && strcmp(force, "loopback") == 0) {
		MODE = MODE_LOOPBACK;
		snprintf(NO_NETNS, sizeof(NO_NETNS), "FNL_CLUSTER_MODE=loopback");
	} else if (netns_setup(NO_NETNS, sizeof(NO_NETNS)) == 0) {
		MODE = MODE_NETNS;
	} else if (force != NULL && strcmp(force, "netns") == 0) {
		snprintf(why, len, "FNL_CLUSTER_MODE=netns, but: %s", NO_NETNS);
		return -1;
	} else
		MODE = MODE_LOOPBACK;
	if (MODE == MODE_NETNS)
		printf("cluster: mode netns: hosts fnlc-h1..3 at "
		    "10.231.0.11-13:%d, nginx at %s on bridge %s\n", NS_PORT,
		    NS_NGINX_ADDR, BRIDGE);
	else
		printf("cluster: mode loopback: hosts 127.0.0.2-4 (no network "
		    "namespaces: %s)\n", NO_NETNS);
	return 0;
}

/* Nothing of the run left: processes, namespaces, the temp dir. */
static void cluster_teardown(void)
{
	const char *keep = getenv("FNL_KEEP_TMP");

	sweep();
	if (MODE == MODE_NETNS)
		netns_teardown();
	if (keep != NULL && keep[0] == '1')
		printf("cluster: kept %s\n", RUN_DIR);
	else
		nftw(RUN_DIR, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

HARNESS_BINARY(cluster, HARNESS_NEEDS_NGINX, .setup = cluster_setup,
    .suite = suite_cluster, .teardown = cluster_teardown);
