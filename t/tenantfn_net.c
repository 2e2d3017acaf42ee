/* tenantfn_net.c — a function that talks FastCGI to the daemon itself
 * (issue 12, row 10): with the daemon's listener in reach, a function
 * is nginx — it runs any tenant's function with the params it likes
 * (here REMOTE_ADDR 6.6.6.6) and reads the admin endpoints. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tenantfn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcgiclient.h"

/* The params nginx would send for GET uri, from 6.6.6.6. */
static int forge(struct fcgic_buf *b, const char *uri)
{
	char s[3][160];
	const char *nv[] = { s[0], s[1], s[2], "REQUEST_METHOD=GET",
	    "QUERY_STRING=", "SERVER_PROTOCOL=HTTP/1.1",
	    "SERVER_NAME=localhost", "REMOTE_ADDR=6.6.6.6", "REMOTE_PORT=6666",
	    "HTTP_X_ACT=whoami", "CONTENT_LENGTH=" };

	snprintf(s[0], sizeof(s[0]), "DOCUMENT_URI=%s", uri);
	snprintf(s[1], sizeof(s[1]), "SCRIPT_NAME=%s", uri);
	snprintf(s[2], sizeof(s[2]), "REQUEST_URI=%s", uri);
	return fcgic_request(b, 1, 0, nv, sizeof(nv) / sizeof(nv[0]), NULL,
	    0);
}

/* The first line of text that contains needle (else its first line),
 * cut at 200 bytes, into buf. */
static void pick_line(const char *text, const char *needle, char *buf,
    size_t len)
{
	const char *p = strstr(text, needle);
	size_t n;

	if (p == NULL)
		p = text;
	while (p > text && p[-1] != '\n')
		p--;
	n = strcspn(p, "\r\n");
	if (n > 200)
		n = 200;
	snprintf(buf, len, "%.*s", (int)n, p);
}

/* Connect to target ("unix:PATH" or "tcp:ADDR:PORT"); fd or -1. */
static int dial(const char *target)
{
	char addr[64];
	const char *colon;

	if (strncmp(target, "unix:", 5) == 0)
		return fcgic_connect_unix(target + 5);
	if (strncmp(target, "tcp:", 4) != 0 ||
	    (colon = strrchr(target + 4, ':')) == NULL ||
	    (size_t)(colon - target - 4) >= sizeof(addr)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(addr, sizeof(addr), "%.*s", (int)(colon - target - 4),
	    target + 4);
	return fcgic_connect_tcp(NULL, addr, atoi(colon + 1));
}

/* One forged request of uri to target; says GOT (and what) when
 * anything came back. */
static void try_one(const char *target, const char *uri, const char *needle)
{
	struct fcgic_buf b = { 0 };
	struct fcgic_resp r;
	const char *body = NULL;
	char line[256];
	int fd = dial(target), st;

	if (fd < 0) {
		tfn_say("DENIED connect %s: %s", target, strerror(errno));
		return;
	}
	if (forge(&b, uri) < 0 || fcgic_send(fd, b.p, b.len) < 0) {
		tfn_say("REFUSED %s %s: send: %s", target, uri,
		    strerror(errno));
		goto out;
	}
	if (fcgic_read(fd, 1, &r, 5000) < 0) {
		tfn_say("REFUSED %s %s: read: %s", target, uri,
		    strerror(errno));
		goto out;
	}
	if (r.raw_bytes == 0)
		tfn_say("REFUSED %s %s: no byte back (%s)", target, uri,
		    r.eof ? "closed" : r.reset ? "reset" : r.timed_out ?
		    "timed out" : "?");
	else {
		st = fcgic_status(&r, &body);
		pick_line(body != NULL ? body : (const char *)r.out.p, needle,
		    line, sizeof(line));
		tfn_say("GOT %s %s: %zu bytes, status %d: %s", target, uri,
		    r.raw_bytes, st, line);
	}
	fcgic_resp_free(&r);
out:
	fcgic_buf_free(&b);
	close(fd);
}

/* Row 10: for each target of X-Targets (comma-separated "unix:PATH",
 * "tcp:ADDR:PORT"), run the function X-Victim (default victim) as if
 * from 6.6.6.6, and read PREFIX_/metrics. */
int tfn_fcgi(struct tfn *t)
{
	char targets[1024], uri[128], *tok, *save = NULL;

	(void)t;
	printf("Content-Type: text/plain\n\n");
	snprintf(targets, sizeof(targets), "%s", tfn_hdr("TARGETS", ""));
	snprintf(uri, sizeof(uri), "/%s", tfn_hdr("VICTIM", "victim"));
	for (tok = strtok_r(targets, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		try_one(tok, uri, "whoami");
		try_one(tok, "/_/metrics", "fnlauncher_");
	}
	return 0;
}
