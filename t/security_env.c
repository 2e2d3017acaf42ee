/* security_env.c — what crosses between nginx and the function: the
 * environment holds only allowed names (SPEC.md section 5: nothing of
 * the daemon's own environment, no HTTP_PROXY, no nginx param outside
 * pass_params, no shellshock), and X-Accel-* headers from the function
 * never reach nginx untrusted (section 6). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "security.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fcgiclient.h"

/* ---- environment through nginx ----------------------------------------- */

static const char *const ALLOWED[] = { "GATEWAY_INTERFACE",
    "SERVER_SOFTWARE", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL",
    "SERVER_ADDR", "REQUEST_METHOD", "REQUEST_URI", "REQUEST_SCHEME",
    "DOCUMENT_URI", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
    "REMOTE_ADDR", "REMOTE_PORT", "REMOTE_USER", "AUTH_TYPE", "HTTPS",
    "SCRIPT_NAME", "PATH_INFO", "SCRIPT_FILENAME", "FN_NAME",
    "FN_REQUEST_ID", "FN_TIMEOUT_MS", "FN_TRIGGER", "FN_JOB_ID",
    "FN_JOB_ATTEMPT", "PATH", NULL };

/* Every NAME= line of env(1) output is allowed (extra: one more allowed
 * name, may be NULL); returns the first offending line in bad. */
static int env_allowed(const char *body, const char *extra, char *bad,
    size_t len)
{
	const char *p, *eq, *end;
	size_t i, nl;

	for (p = body; *p != '\0'; p = *end ? end + 1 : end) {
		end = strchr(p, '\n');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		nl = eq ? (size_t)(eq - p) : (size_t)(end - p);
		if (nl > 5 && strncmp(p, "HTTP_", 5) == 0 &&
		    !(nl == 10 && strncmp(p, "HTTP_PROXY", 10) == 0))
			continue;
		for (i = 0; ALLOWED[i] != NULL; i++)
			if (strlen(ALLOWED[i]) == nl &&
			    strncmp(p, ALLOWED[i], nl) == 0)
				break;
		if (ALLOWED[i] != NULL || (extra && strlen(extra) == nl &&
		    strncmp(p, extra, nl) == 0))
			continue;
		snprintf(bad, len, "%.*s", (int)(end - p), p);
		return 0;
	}
	return 1;
}

START_TEST(env_only_allowed_names)
{
	static const char *const args[] = { "-H", "Proxy: http://evil:1/",
	    "-H", "X-Foo: bar", NULL };
	static const struct {
		const char *path;
		const char *extra;       /* the one pass_params name */
	} c[] = { { "/envall", NULL }, { "/envpass", "SECRET_PARAM" } };
	char bad[512];
	struct hresp r;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		sec_req(&r, c[i].path, args);
		SEC_ASSERT_STATUS(&r, 200, c[i].path);
		/* The headers did arrive (so their absence below means
		 * something). */
		ck_assert_msg(strstr(r.body, "\nHTTP_X_FOO=bar\n") != NULL,
		    "%s: no HTTP_X_FOO\n%s", c[i].path, r.body);
		ck_assert_msg(env_allowed(r.body, c[i].extra, bad, sizeof(bad)),
		    "%s: %s is not an allowed name\n%s", c[i].path, bad,
		    r.body);
		ck_assert_msg(strstr(r.body, "evil") == NULL &&
		    strstr(r.body, "leak") == NULL && strstr(r.body,
		    "nonexistent.so") == NULL, "%s: a refused value reached "
		    "the function:\n%s", c[i].path, r.body);
		ck_assert_msg((strstr(r.body, "\nSECRET_PARAM=x\n") != NULL) ==
		    (c[i].extra != NULL), "%s: SECRET_PARAM %s\n%s", c[i].path,
		    c[i].extra ? "missing" : "present", r.body);
		hresp_free(&r);
	}
}
END_TEST

/* Shellshock: a header value and a BASH_FUNC_ param never define a bash
 * function in the function's bash. The control shows the param vector is
 * live when bash does get it. */
START_TEST(env_shellshock)
{
	char hdr[600], m_hdr[512], m_par[512], m_ctl[512], fparam[600];
	char ctl_env[600];
	const char *args[] = { "-H", hdr, NULL };
	const char *nv[] = { "REQUEST_METHOD=GET", "DOCUMENT_URI=/shock",
	    "SCRIPT_NAME=/shock", "QUERY_STRING=", fparam, NULL };
	const char *argv[] = { "/bin/bash", "-c", "id -u", NULL };
	const char *envp[] = { SEC_PATH_ENV, ctl_env, NULL };
	struct fcgic_buf b = { 0 };
	struct fcgic_resp fr;
	struct hresp r;
	int st, fd;

	snprintf(m_hdr, sizeof(m_hdr), "%s/spool/pwned-hdr", sec_h->dir);
	snprintf(m_par, sizeof(m_par), "%s/spool/pwned-param", sec_h->dir);
	snprintf(m_ctl, sizeof(m_ctl), "%s/spool/pwned-ctl", sec_h->dir);
	snprintf(ctl_env, sizeof(ctl_env), "BASH_FUNC_id%%%%=() { echo pwned "
	    "> %s; }", m_ctl);
	ck_assert_int_ne(sec_run_child(argv, envp, -1, 0), -1);
	wait(&st);
	ck_assert_msg(access(m_ctl, F_OK) == 0, "control: bash did not "
	    "import BASH_FUNC_id%%%%");

	snprintf(hdr, sizeof(hdr), "X-Shock: () { :;}; echo pwned > %s", m_hdr);
	sec_req(&r, "/shock", args);
	SEC_ASSERT_STATUS(&r, 200, "/shock");
	ck_assert_msg(strstr(r.body, "shock=() { :;};") != NULL,
	    "the header did not reach the function: %s", r.body);
	hresp_free(&r);
	ck_assert_msg(access(m_hdr, F_OK) != 0, "shellshock header ran");

	snprintf(fparam, sizeof(fparam), "BASH_FUNC_id%%%%=() { echo pwned > "
	    "%s; }", m_par);
	ck_assert_int_eq(fcgic_request(&b, 1, 0, nv, 5, NULL, 0), 0);
	fd = fcgic_connect_unix(sec_h->sock);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcgic_send(fd, b.p, b.len), 0);
	ck_assert_int_eq(fcgic_read(fd, 1, &fr, 10000), 0);
	close(fd);
	ck_assert_msg(fr.ended && fcgic_status(&fr, NULL) == 200,
	    "raw /shock: no 200 (ended %d)", fr.ended);
	fcgic_resp_free(&fr);
	fcgic_buf_free(&b);
	ck_assert_msg(access(m_par, F_OK) != 0, "a BASH_FUNC_ param defined "
	    "a function in the function's bash");
}
END_TEST


/* Params that name the variables fnlauncher sets, or that a loader or a
 * shell would act on, sent straight to the socket: none of them reaches
 * the function, and fnlauncher's own values stand. */
START_TEST(env_params_cannot_override)
{
	static const char *const nv[] = { "REQUEST_METHOD=GET",
	    "DOCUMENT_URI=/envall", "SCRIPT_NAME=/evil", "QUERY_STRING=",
	    "SCRIPT_FILENAME=/evil", "PATH=/evil", "LD_PRELOAD=/evil.so",
	    "LD_LIBRARY_PATH=/evil", "FN_NAME=evil", "FN_REQUEST_ID=evil",
	    "FN_TIMEOUT_MS=evil", "GATEWAY_INTERFACE=evil", "PATH_INFO=/evil",
	    "HTTP_PROXY=evil", "HTTP_Proxy=evil", "http_proxy=evil",
	    "IFS=evil", "BASH_ENV=/evil", "ENV=/evil", "PS4=evil",
	    "FN_TRIGGER=async", "FN_TRIGGER_KEY=evil", "FN_JOB_ID=evil",
	    "FN_JOB_ATTEMPT=evil", "HTTP_X_OK=fine" };
	static const char *const want[] = { "\nSCRIPT_FILENAME=/usr/bin/env\n",
	    "\nPATH=/usr/local/bin:/usr/bin:/bin\n", "\nFN_NAME=envall\n",
	    "\nGATEWAY_INTERFACE=CGI/1.1\n", "\nSCRIPT_NAME=/envall\n",
	    "\nFN_TIMEOUT_MS=20000\n", "\nFN_TRIGGER=http\n",
	    "\nHTTP_X_OK=fine\n" };
	struct fcgic_buf b = { 0 };
	struct fcgic_resp r;
	const char *body;
	char bad[512], *env;
	size_t i;
	int fd;

	ck_assert_int_eq(fcgic_request(&b, 1, 0, nv, sizeof(nv) /
	    sizeof(nv[0]), NULL, 0), 0);
	fd = fcgic_connect_unix(sec_h->sock);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcgic_send(fd, b.p, b.len), 0);
	ck_assert_int_eq(fcgic_read(fd, 1, &r, 10000), 0);
	close(fd);
	fcgic_buf_free(&b);
	ck_assert_msg(r.ended && fcgic_status(&r, &body) == 200, "raw /envall: "
	    "no 200\n%s", harness_log_tail(sec_h));
	/* env(1) output with a leading newline, so every line is "\nX=". */
	env = malloc(strlen(body) + 2);
	ck_assert_ptr_nonnull(env);
	sprintf(env, "\n%s", body);
	ck_assert_msg(env_allowed(body, NULL, bad, sizeof(bad)),
	    "%s is not an allowed name\n%s", bad, body);
	ck_assert_msg(strstr(body, "evil") == NULL, "a param overrode or "
	    "added a variable:\n%s", body);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(env, want[i]) != NULL, "want %.*s in\n%s",
		    (int)strlen(want[i]) - 2, want[i] + 1, body);
	free(env);
	fcgic_resp_free(&r);
}
END_TEST

/* ---- X-Accel-* response headers ----------------------------------------- */

/* integration.c checks "X-Accel-Redirect" (stripped; passed with
 * trust_accel_headers). Here: the spellings nginx would also act on. */
START_TEST(accel_any_case_stripped)
{
	static const struct {
		const char *path;
		int status;
		const char *body;
	} c[] = {
		{ "/acc_lower", 200, "function body\n" },
		{ "/acc_upper", 200, "function body\n" },
		{ "/acc_mixed", 200, "function body\n" },
		{ "/acc_trusted", 418, "redirected\n" },   /* control */
	};
	struct hresp r;
	char v[128];
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		sec_req(&r, c[i].path, NULL);
		SEC_ASSERT_STATUS(&r, c[i].status, c[i].path);
		ck_assert_msg(strcmp(r.body, c[i].body) == 0, "%s: body [%s]",
		    c[i].path, r.body);
		ck_assert_msg(hresp_header(&r, "X-Accel-Redirect", v,
		    sizeof(v)) == NULL, "%s: X-Accel-Redirect: %s reached the "
		    "client", c[i].path, v);
		hresp_free(&r);
	}
}
END_TEST

void sec_add_env(TCase *tc)
{
	tcase_add_test(tc, accel_any_case_stripped);
	tcase_add_test(tc, env_params_cannot_override);
	tcase_add_test(tc, env_only_allowed_names);
	tcase_add_test(tc, env_shellshock);
}
