/* cluster_net.c — where the hosts live: network namespaces of their
 * own, fnlc-h1..3, on the bridge fnlc-br (root, iproute2, veth and
 * bridge), or loopback addresses 127.0.0.2-4; a TCP probe to tell when a
 * host accepts; and the test that the hosts, each on its own network
 * stack, answer nginx and no one else (hosts_allow_only_nginx). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cluster.h"
#include "fcgiclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOCK_PATH "/run/lock/fnlauncher-cluster-test.lock"

char cluster_ip_bin[64];

/* A TCP connect to ip:port: 1 accepted, 0 refused, -1 other error
 * (unreachable yet, timed out). */
int cluster_tcp_probe(const char *ip, int port)
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

/* Run cluster_ip_bin with the arguments (NULL terminated): its exit code, -1 if
 * it could not run; *out (may be NULL) gets stdout. quiet: no stderr. */
static int ip_cmd(char **out, int quiet, ...)
{
	const char *argv[24];
	char *err = NULL;
	va_list ap;
	size_t n = 0;
	int st;

	argv[n++] = cluster_ip_bin;
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
void cluster_netns_teardown(void)
{
	char ns[16], *pids, *p, *end;
	int i;

	for (i = 1; i <= CLUSTER_HOSTS; i++) {
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
	ip_cmd(NULL, 1, "link", "del", CLUSTER_BRIDGE, NULL);
}

/* Set up the namespaces; 0, or -1 with the reason in why. */
int cluster_netns_setup(char *why, size_t len)
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
			snprintf(cluster_ip_bin, sizeof(cluster_ip_bin), "%s",
			    ips[k]);
			break;
		}
	if (cluster_ip_bin[0] == '\0') {
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
	cluster_netns_teardown();
	/* 10.231.0.0/16 must be ours alone: no address or route in it. */
	if (ip_cmd(&out, 0, "-o", "addr", "show", "to", CLUSTER_NS_NET,
	    NULL) != 0 || out[0] != '\0') {
		snprintf(why, len, "%s already in use here: %s", CLUSTER_NS_NET,
		    out ? out : "ip failed");
		free(out);
		return -1;
	}
	free(out);
	out = NULL;
	if (ip_cmd(&out, 0, "-o", "route", "show", "root", CLUSTER_NS_NET,
	    NULL) != 0 || out[0] != '\0') {
		snprintf(why, len, "routes in %s exist here: %s",
		    CLUSTER_NS_NET,
		    out ? out : "ip failed");
		free(out);
		return -1;
	}
	free(out);
	ok = ip_cmd(NULL, 0, "link", "add", CLUSTER_BRIDGE, "type", "bridge",
	    NULL) == 0 &&
	    ip_cmd(NULL, 0, "addr", "add", CLUSTER_NS_NGINX "/24", "dev",
	    CLUSTER_BRIDGE, NULL) == 0 &&
	    ip_cmd(NULL, 0, "link", "set", CLUSTER_BRIDGE, "up", NULL) == 0;
	for (i = 1; ok && i <= CLUSTER_HOSTS; i++) {
		snprintf(ns, sizeof(ns), "fnlc-h%d", i);
		snprintf(cidr, sizeof(cidr), "10.231.0.1%d/24", i);
		ok = ip_cmd(NULL, 0, "netns", "add", ns, NULL) == 0 &&
		    ip_cmd(NULL, 0, "link", "add", ns, "type", "veth", "peer",
		    "name", "eth0", "netns", ns, NULL) == 0 &&
		    ip_cmd(NULL, 0, "link", "set", ns, "master",
		    CLUSTER_BRIDGE, "up", NULL) == 0 &&
		    ip_cmd(NULL, 0, "-n", ns, "addr", "add", cidr, "dev",
		    "eth0", NULL) == 0 &&
		    ip_cmd(NULL, 0, "-n", ns, "link", "set", "eth0", "up",
		    NULL) == 0 &&
		    ip_cmd(NULL, 0, "-n", ns, "link", "set", "lo", "up",
		    NULL) == 0;
	}
	if (!ok) {
		snprintf(why, len, "could not create namespaces, veths and "
		    "a bridge (see above)");
		cluster_netns_teardown();
		return -1;
	}
	/* Reachable once a connect to a closed port is refused. */
	for (i = 1; i <= CLUSTER_HOSTS; i++) {
		snprintf(ip, sizeof(ip), "10.231.0.1%d", i);
		end = harness_now() + 5;
		while (cluster_tcp_probe(ip, CLUSTER_NS_PORT) != 0 &&
		    harness_now() < end)
			harness_sleep_ms(50);
		if (cluster_tcp_probe(ip, CLUSTER_NS_PORT) != 0) {
			snprintf(why, len, "%s not reachable over the bridge",
			    ip);
			cluster_netns_teardown();
			return -1;
		}
	}
	return 0;
}

/* A loopback port free on 127.0.0.2-4 a moment ago. */
int cluster_loopback_port(void)
{
	int attempt, i, p, fd, ok;
	struct sockaddr_in sa = { .sin_family = AF_INET };

	for (attempt = 0; attempt < 20; attempt++) {
		p = harness_free_port();
		if (p <= 0)
			return -1;
		for (ok = 1, i = 0; ok && i < CLUSTER_HOSTS; i++) {
			fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			inet_pton(AF_INET, cluster.host[i].ip, &sa.sin_addr);
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

/* ---- each host answers nginx only --------------------------------------- */

/* GET /hello over FastCGI to to:port from address from (NULL: any): 1
 * if a response with status 200 came, 0 if the host closed the
 * connection without sending a byte, -1 otherwise. */
static int fcgi_hello(const char *from, const char *to, int port)
{
	static const char *const nv[] = { "REQUEST_METHOD=GET",
	    "DOCUMENT_URI=/hello", "SCRIPT_NAME=/hello", "QUERY_STRING=",
	    "SERVER_PROTOCOL=HTTP/1.1" };
	struct fcgic_buf b = { 0 };
	struct fcgic_resp r;
	int fd, rc = -1;

	if (fcgic_request(&b, 1, 0, nv, sizeof(nv) / sizeof(nv[0]), NULL,
	    0) != 0 || (fd = fcgic_connect_tcp(from, to, port)) < 0) {
		fcgic_buf_free(&b);
		return -1;
	}
	(void)fcgic_send(fd, b.p, b.len);      /* it may close first */
	if (fcgic_read(fd, 1, &r, 5000) == 0) {
		if (r.ended && fcgic_status(&r, NULL) == 200)
			rc = 1;
		else if (r.raw_bytes == 0 && (r.eof || r.reset))
			rc = 0;
		fcgic_resp_free(&r);
	}
	close(fd);
	fcgic_buf_free(&b);
	return rc;
}

/* fcgi_hello from inside network namespace ns (a child joins it);
 * -2 if the child could not. */
static int fcgi_hello_in(const char *ns, const char *to, int port)
{
	char path[64];
	pid_t pid;
	int st, fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	pid = fork();
	if (pid == 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
			_exit(3);
		_exit(fcgi_hello(NULL, to, port) + 1);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) > 2)
		return -2;
	return WEXITSTATUS(st) - 1;
}

/* The manifest every host runs says "listen: 0.0.0.0:9000" and
 * "allow_from: [10.231.0.1]": each host answers nginx's address, and
 * closes the connection of another host unanswered. Only hosts on
 * network stacks of their own can show it. */
START_TEST(hosts_allow_only_nginx)
{
	const struct host *to, *from;
	int i, got;

	if (cluster_mode != CLUSTER_NETNS)
		harness_skip("needs network namespaces for the hosts, and here "
		    "there are none: %s", cluster_no_netns);
	for (i = 0; i < CLUSTER_HOSTS; i++) {
		to = &cluster.host[i];
		from = &cluster.host[(i + 1) % CLUSTER_HOSTS];
		got = fcgi_hello(CLUSTER_NS_NGINX, to->ip, CLUSTER_NS_PORT);
		ck_assert_msg(got == 1, "%s from nginx's %s: %d, want an "
		    "answer\n%s", to->id, CLUSTER_NS_NGINX, got,
		    cluster_log_tail(i));
		got = fcgi_hello_in(from->ns, to->ip, CLUSTER_NS_PORT);
		ck_assert_msg(got == 0, "%s from %s (%s): %d, want the "
		    "connection closed unanswered\n%s", to->id, from->id,
		    from->ip, got, cluster_log_tail(i));
	}
}
END_TEST

void cluster_add_net(TCase *tc)
{
	tcase_add_test(tc, hosts_allow_only_nginx);
}
