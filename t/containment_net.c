/* containment_net.c — issue 12, row 10: a function that reaches the
 * daemon's own listener is nginx: it runs any tenant's function with
 * the params it likes and reads the admin endpoints. Both listeners are
 * tried: the fixture daemon's unix socket (socket_mode as default), and
 * a second daemon on the same functions listening on 127.0.0.1 with
 * allow_from [127.0.0.1] (the default written out: a daemon on TCP may
 * come to require it). Neither may answer a function. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "containment.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgiclient.h"

#define PATH_ENV \
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Start a second daemon on the fixture's functions, listening on
 * 127.0.0.1:port; its pid. */
static pid_t tcp_daemon(int port)
{
	const char *bin = getenv("FNL_BIN"), *envp[] = { PATH_ENV, NULL };
	char manifest[512], logp[512], listen[64], *text;
	size_t n = strlen(ct_manifest) + 64;
	double end;
	pid_t pid;
	int logfd, fd = -1;

	ck_assert_ptr_nonnull(bin);
	text = malloc(n);
	ck_assert_ptr_nonnull(text);
	snprintf(text, n, "allow_from: [127.0.0.1]\n%s", ct_manifest);
	ck_assert_int_eq(harness_write(ct_h, "tcp.yaml", text, 0600), 0);
	free(text);
	ck_assert_int_eq(harness_path(ct_h, "tcp.yaml", manifest,
	    sizeof(manifest)), 0);
	ck_assert_int_eq(harness_path(ct_h, "daemon-tcp.log", logp,
	    sizeof(logp)), 0);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	ck_assert_int_ge(logfd, 0);
	{
		const char *argv[] = { bin, "-c", manifest, "-s", listen,
		    NULL };

		pid = harness_spawn(argv, envp, -1, logfd, logfd);
	}
	close(logfd);
	ck_assert_int_gt(pid, 0);
	for (end = harness_now() + 10; harness_now() < end && fd < 0; ) {
		fd = fcgic_connect_tcp(NULL, "127.0.0.1", port);
		if (fd < 0)
			harness_sleep_ms(20);
	}
	if (fd < 0) {
		kill(pid, SIGKILL);
		ck_abort_msg("the daemon on %s did not listen (see %s)", listen,
		    logp);
	}
	close(fd);
	return pid;
}

static void stop(pid_t pid)
{
	int st;

	kill(pid, SIGTERM);
	if (harness_wait_ms(pid, 15000, &st) != 1) {
		kill(pid, SIGKILL);
		harness_wait_ms(pid, 5000, &st);
	}
}

/* As nginx would: GET /attacker with X-Act: fcgi and X-Targets, straight
 * to the TCP daemon; the attacker's body (the caller frees). */
static char *attack_through_tcp(int port, const char *targets)
{
	char t[600];
	const char *nv[] = { "REQUEST_METHOD=GET", "DOCUMENT_URI=/attacker",
	    "SCRIPT_NAME=/attacker", "REQUEST_URI=/attacker", "QUERY_STRING=",
	    "SERVER_PROTOCOL=HTTP/1.1", "SERVER_NAME=localhost",
	    "REMOTE_ADDR=127.0.0.1", "CONTENT_LENGTH=", "HTTP_X_ACT=fcgi", t };
	struct fcgic_buf b = { 0 };
	struct fcgic_resp r;
	const char *body = NULL;
	char *out;
	int fd;

	snprintf(t, sizeof(t), "HTTP_X_TARGETS=%s", targets);
	ck_assert_int_eq(fcgic_request(&b, 1, 0, nv, sizeof(nv) /
	    sizeof(nv[0]), NULL, 0), 0);
	fd = fcgic_connect_tcp(NULL, "127.0.0.1", port);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcgic_send(fd, b.p, b.len), 0);
	ck_assert_int_eq(fcgic_read(fd, 1, &r, 40000), 0);
	close(fd);
	fcgic_buf_free(&b);
	ck_assert_msg(r.ended && fcgic_status(&r, &body) == 200,
	    "GET /attacker on the TCP daemon: ended %d, %zu bytes", r.ended,
	    r.raw_bytes);
	out = strdup(body);
	fcgic_resp_free(&r);
	ck_assert_ptr_nonnull(out);
	return out;
}

START_TEST(row10_function_forges_fastcgi)
{
	int port = harness_free_port();
	char targets[600], tcp[64], targets_h[700], *via_tcp;
	struct hresp a;
	pid_t d2;

	ck_assert_int_gt(port, 0);
	d2 = tcp_daemon(port);
	snprintf(tcp, sizeof(tcp), "tcp:127.0.0.1:%d", port);
	snprintf(targets, sizeof(targets), "unix:%s,%s", ct_h->sock, tcp);
	snprintf(targets_h, sizeof(targets_h), "X-Targets: %s", targets);
	{
		const char *args[] = { "-H", "X-Act: fcgi", "-H", targets_h,
		    NULL };

		ct_req(&a, "attacker", args);
	}
	via_tcp = attack_through_tcp(port, tcp);
	stop(d2);
	ck_assert_msg(!ct_has_line(a.body, "GOT") && !ct_has_line(via_tcp,
	    "GOT"), "row 10: a function got answers from the daemon's "
	    "listener (forged REMOTE_ADDR 6.6.6.6, /_/metrics).\n--- the "
	    "attacker under the unix-socket daemon said:\n%s--- the attacker "
	    "under the TCP daemon said:\n%s", a.body, via_tcp);
	free(via_tcp);
	hresp_free(&a);
}
END_TEST

/* Through nginx (its location passes /_/ on, as "allow 127.0.0.1"
 * would for every function on the host): the daemon finds the HTTP
 * client's socket and its owner, a function, and refuses. The test's
 * own request (root) still gets the metrics. */
START_TEST(row10_function_reads_metrics_through_nginx)
{
	static const char script[] = "#!/bin/sh\n"
	    "printf 'Content-Type: text/plain\\n\\n'\n"
	    "curl -s -o /dev/null -w 'metrics=%{http_code}\\n' "
	    "http://127.0.0.1:@PORT@/_/metrics\n";
	struct hresp a, r;

	ck_assert(harness_write(ct_h, "drop/scraper", script, 0755) == 0);
	ct_req(&a, "scraper", NULL);
	ck_assert_msg(a.status == 200 && strcmp(a.body, "metrics=403\n") == 0,
	    "row 10: a function read /_/metrics through nginx: %d %s\n%s",
	    a.status, a.body, ct_log_tail());
	hresp_free(&a);
	ck_assert(harness_curl(ct_h, &r, "/_/metrics", NULL) == 0);
	ck_assert_msg(r.status == 200 && strstr(r.body, "fnlauncher_") != NULL,
	    "the test's own /_/metrics: %d", r.status);
	hresp_free(&r);
}
END_TEST

void ct_add_net(TCase *tc)
{
	tcase_add_test(tc, row10_function_forges_fastcgi);
	tcase_add_test(tc, row10_function_reads_metrics_through_nginx);
}
