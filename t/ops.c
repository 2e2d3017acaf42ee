/* ops.c — the "ops" Check suite: running the daemon in production.
 * SPEC.md sections 2, 8 and 9 are the contract; everything goes through
 * real nginx and curl. This file has the binary's setup, the fixtures,
 * the function scripts every TCase gets and the shared helpers (ops.h);
 * the tests are in ops_observe.c, ops_signals.c and ops_run.c.
 *
 * Each TCase starts its own nginx (+ daemon) in the runner process
 * (unchecked fixture); the activation tests start the daemon themselves,
 * through systemd-socket-activate or spawn-fcgi. Records are validated
 * by t/data/check_records.py (strict JSON, every field of SPEC 8 with
 * its type); metrics by promtool (Debian: prometheus). A missing tool
 * fails its test with a message saying what to install; nothing is
 * skipped silently. Every request carries "X-Fnl-Test: <temp dir>", so
 * what a failed test left running can be found and killed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct harness *ops_h;
char ops_checker[512];
char ops_tag_hdr[160];
char ops_tag_env[160];

/* ---- functions ----------------------------------------------------------- */

#define CT "printf 'Content-Type: text/plain\\n\\n'\n"

static const struct { const char *rel, *text; } SCRIPTS[] = {
	{ "bin/hello", "#!/bin/sh\n" CT "echo \"hello q=$QUERY_STRING "
	    "p=$PATH_INFO m=$REQUEST_METHOD s=$SCRIPT_NAME\"\n" },
	{ "bin/echo", "#!/bin/sh\nprintf 'Content-Type: "
	    "application/octet-stream\\n\\n'\nexec cat\n" },
	{ "bin/sleeper", "#!/bin/sh\nsleep 30\n" },
	{ "bin/segv", "#!/bin/sh\nkill -SEGV $$\n" },
	{ "bin/exit3", "#!/bin/sh\n" CT "echo partial\nexit 3\n" },
	{ "bin/early3", "#!/bin/sh\nexit 3\n" },
	/* One second, with a marker as soon as it runs. */
	{ "bin/hold", "#!/bin/sh\n: > @DIR@/spool/hold.$FN_REQUEST_ID\n"
	    "sleep 1\n" CT "echo held\n" },
	/* 50 MiB, every page written: RSS really gets there. */
	{ "bin/mem", "#!" OPS_PYTHON "\nb = bytearray(50 << 20)\n"
	    "for i in range(0, len(b), 4096):\n    b[i] = 1\n"
	    "print('Content-Type: text/plain\\n\\nmem', sum(b[::4096]))\n" },
	/* Spins until it has 300 ms of user CPU time by its own getrusage
	 * (asking the clock in a tight loop would be mostly system time). */
	{ "bin/spin", "#!" OPS_PYTHON "\nimport resource\n"
	    "while resource.getrusage(resource.RUSAGE_SELF).ru_utime < 0.3:\n"
	    "    for _ in range(10000):\n        pass\n"
	    "print('Content-Type: text/plain\\n\\nspun')\n" },
	{ "bin/errlines", "#!/bin/sh\necho 'line one' >&2\n"
	    "echo 'line two' >&2\necho 'line three' >&2\n" CT "echo ok\n" },
	/* 100 lines of 99 bytes + LF: 10000 bytes of stderr in a burst
	 * as it exits, after its response (like a traceback at exit). */
	{ "bin/errflood", "#!/bin/sh\n" CT "echo flooded\n"
	    "exec awk 'BEGIN { for (i = 0; i < 100; i++) "
	    "printf \"%099d\\n\", 0 }' >&2\n" },
	{ "bin/version", "#!/bin/sh\n" CT "printf '%s' \"$VERSION\"\n" },
	{ "bin/nofile", "#!/bin/sh\n" CT "ulimit -n\n" },
	{ "bin/redir", "#!/bin/sh\nprintf 'Location: "
	    "https://example.org/there\\n\\n'\n" },
};

/* ---- fixtures ------------------------------------------------------------ */

void ops_prepare(const char *manifest)
{
	size_t i;

	ops_h = harness_new();
	ck_assert_msg(ops_h != NULL, "cannot make the temp dir");
	snprintf(ops_tag_hdr, sizeof(ops_tag_hdr), "X-Fnl-Test: %s",
	    ops_h->dir);
	snprintf(ops_tag_env, sizeof(ops_tag_env), "HTTP_X_FNL_TEST=%s",
	    ops_h->dir);
	for (i = 0; i < sizeof(SCRIPTS) / sizeof(SCRIPTS[0]); i++)
		if (harness_write(ops_h, SCRIPTS[i].rel, SCRIPTS[i].text,
		    0755) != 0)
			goto fail;
	if (manifest == NULL ||
	    harness_write(ops_h, "manifest.yaml", manifest, 0644) == 0)
		return;
fail:
	harness_abort(&ops_h, "cannot write the temp dir");
}

void ops_start(int start_daemon)
{
	if ((!start_daemon ||
	    harness_start_daemon(ops_h, "manifest.yaml", NULL) == 0) &&
	    harness_start_nginx(ops_h, NULL) == 0)
		return;
	harness_abort(&ops_h, "could not start nginx and the daemon");
}

void ops_up(const char *manifest, int start_daemon)
{
	ops_prepare(manifest);
	ops_start(start_daemon);
}

static void down(void)
{
	const char *const tag[] = { ops_tag_env, NULL };

	if (ops_h == NULL)
		return;
	harness_procs_kill(tag, -1);
	harness_free(ops_h);
	ops_h = NULL;
}

/* After every test: nothing of an invocation (or a daemon a test
 * started) still running, no sanitizer report. */
static void no_leftovers(void)
{
	harness_assert_clean(ops_h);
}

/* ---- helpers ------------------------------------------------------------- */

/* curl path (tagged); the request must complete. */
void ops_req(struct hresp *r, const char *path, const char *const *args)
{
	const char *argv[48];
	size_t n = 0, i;

	argv[n++] = "-H";
	argv[n++] = ops_tag_hdr;
	for (i = 0; args != NULL && args[i] != NULL && n < 47; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	harness_req(ops_h, r, path, argv);
}

void ops_rid_of(const struct hresp *r, char *rid, size_t len)
{
	ck_assert_msg(hresp_header(r, "X-Request-Id", rid, len) != NULL &&
	    rid[0] != '\0', "no X-Request-Id:\n%s", r->headers);
}

/* GET path: its status, its request id into rid (may be NULL). */
int ops_get(const char *path, char *rid, size_t len, char **body)
{
	struct hresp r;
	int st;

	ops_req(&r, path, NULL);
	if (rid != NULL)
		ops_rid_of(&r, rid, len);
	st = r.status;
	if (body != NULL)
		*body = strdup(r.body);
	hresp_free(&r);
	return st;
}

/* Lines of the daemon log that contain every needle. */
int ops_log_count(const char *const *needles)
{
	char *log = harness_daemon_log(ops_h), *line, *save = NULL;
	int count = 0;
	size_t i;

	for (line = strtok_r(log, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		for (i = 0; needles[i] != NULL; i++)
			if (strstr(line, needles[i]) == NULL)
				break;
		count += needles[i] == NULL;
	}
	free(log);
	return count;
}

/* Poll up to ms until ops_log_count(needles) >= want; the last count. */
int ops_log_wait(const char *const *needles, int want, int ms)
{
	double end = harness_now() + ms / 1000.0;
	int n;

	while ((n = ops_log_count(needles)) < want && harness_now() < end)
		harness_sleep_ms(50);
	return n;
}

void ops_bg_start(struct ops_bg *b, const char *path)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	b->pid = fork();
	ck_assert_int_ne(b->pid, -1);
	if (b->pid == 0) {
		const char *args[] = { "-H", ops_tag_hdr, NULL };
		char rid[64] = "-";
		struct hresp r;
		FILE *f = fdopen(p[1], "w");

		close(p[0]);
		if (f == NULL || harness_curl(ops_h, &r, path, args) != 0)
			_exit(1);
		if (hresp_header(&r, "X-Request-Id", rid, sizeof(rid)) == NULL)
			snprintf(rid, sizeof(rid), "-");
		fprintf(f, "%d %s\n", r.status, rid);
		fwrite(r.body, 1, r.body_len, f);
		_exit(fclose(f) == 0 ? 0 : 1);
	}
	close(p[1]);
	b->fd = p[0];
}

/* Wait up to ms for b: its status (0 if it did not report), request id
 * and body (up to blen - 1 bytes). */
int ops_bg_wait(struct ops_bg *b, int ms, char *rid, size_t rlen, char *body,
    size_t blen)
{
	double end = harness_now() + ms / 1000.0;
	char buf[4096], *nl;
	size_t used = 0;
	struct pollfd pfd = { .fd = b->fd, .events = POLLIN };
	int status = 0, left;
	ssize_t n;

	for (;;) {
		left = (int)((end - harness_now()) * 1000);
		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		n = read(b->fd, buf + used, sizeof(buf) - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		if (used == sizeof(buf) - 1)
			break;
	}
	buf[used] = '\0';
	close(b->fd);
	kill(b->pid, SIGKILL);
	waitpid(b->pid, NULL, 0);
	rid[0] = body[0] = '\0';
	nl = strchr(buf, '\n');
	if (nl == NULL || sscanf(buf, "%d", &status) != 1)
		return 0;
	*nl = '\0';
	snprintf(rid, rlen, "%s", strchr(buf, ' ') ? strchr(buf, ' ') + 1 : "");
	snprintf(body, blen, "%s", nl + 1);
	return status;
}

/* ---- invocation records -------------------------------------------------- */

/* Validate the JSON lines in path with check_records.py (asserted) and
 * parse its summary into *out (the caller frees); the count. */
size_t ops_load_records(const char *path, struct ops_rec **out)
{
	const char *argv[] = { OPS_PYTHON, ops_checker, NULL };
	char *text = NULL, *err = NULL, *line, *save = NULL;
	struct ops_rec *v = NULL;
	size_t n = 0;
	int st;

	ck_assert_msg(access(OPS_PYTHON, X_OK) == 0, "%s is missing: install "
	    "Debian's python3 (check.sh installs it)", OPS_PYTHON);
	ck_assert_msg(access(ops_checker, R_OK) == 0, "%s is missing",
	    ops_checker);
	st = harness_run(argv, NULL, path, &text, NULL, &err, 20000);
	ck_assert_msg(st == 0, "invocation records in %s are not valid "
	    "(wait status 0x%x):\n%s%s", path, (unsigned)st, text, err);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char f[11][96], *tok, *s2 = NULL;
		int k = 0;

		for (tok = strtok_r(line, "\t", &s2); tok != NULL && k < 11;
		    tok = strtok_r(NULL, "\t", &s2))
			snprintf(f[k++], sizeof(f[0]), "%s", tok);
		ck_assert_msg(k == 11, "checker output: %d fields", k);
		v = realloc(v, (n + 1) * sizeof(*v));
		ck_assert_ptr_nonnull(v);
		memset(&v[n], 0, sizeof(v[n]));
		snprintf(v[n].rid, sizeof(v[n].rid), "%s", f[0]);
		v[n].fn_null = strcmp(f[1], "null") == 0;
		snprintf(v[n].fn, sizeof(v[n].fn), "%s", f[1]);
		v[n].status = atoi(f[2]);
		snprintf(v[n].outcome, sizeof(v[n].outcome), "%s", f[3]);
		v[n].exit_code = strcmp(f[4], "null") == 0 ? -1 : atoi(f[4]);
		v[n].sig = strcmp(f[5], "null") == 0 ? 0 : atoi(f[5]);
		v[n].rss = atol(f[6]);
		v[n].cpu_user = atof(f[7]);
		v[n].duration = atof(f[8]);
		v[n].bytes_in = atoll(f[9]);
		v[n].bytes_out = atoll(f[10]);
		n++;
	}
	free(text);
	free(err);
	*out = v;
	return n;
}

const struct ops_rec *ops_find_rec(const struct ops_rec *v, size_t n,
    const char *rid)
{
	const struct ops_rec *found = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].rid, rid) == 0) {
			ck_assert_msg(found == NULL, "two records for %s", rid);
			found = &v[i];
		}
	return found;
}

/* Poll up to ms until dir/rel has a record for every rid; load them. */
size_t ops_wait_records(const char *rel, const char *const *rids,
    struct ops_rec **out, int ms)
{
	double end = harness_now() + ms / 1000.0;
	char path[512];
	size_t n, i;

	ck_assert_int_eq(harness_path(ops_h, rel, path, sizeof(path)), 0);
	for (;;) {
		*out = NULL;
		n = access(path, F_OK) == 0 ? ops_load_records(path, out) : 0;
		for (i = 0; rids[i] != NULL; i++)
			if (ops_find_rec(*out, n, rids[i]) == NULL)
				break;
		if (rids[i] == NULL || harness_now() >= end)
			return n;
		free(*out);
		harness_sleep_ms(100);
	}
}

/* ---- metrics ------------------------------------------------------------- */

/* The value of sample name{labels} ("k=v" strings, NULL terminated, any
 * order, exactly these labels) in a Prometheus text exposition; 0 when
 * absent. */
double ops_metric(const char *text, const char *name,
    const char *const *labels)
{
	const char *line, *end, *p;
	size_t nl = strlen(name);

	for (line = text; *line != '\0'; line = *end ? end + 1 : end) {
		char pairs[8][160];
		int np = 0, i, j, match;

		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		if (*line == '#' || strncmp(line, name, nl) != 0 ||
		    (line[nl] != '{' && line[nl] != ' '))
			continue;
		p = line + nl;
		if (*p == '{') {
			for (p++; *p != '}' && p < end && np < 8; np++) {
				size_t k = 0;

				while (*p != '=' && p < end && k < 150)
					pairs[np][k++] = *p++;
				pairs[np][k++] = '=';
				p += 2;                 /* =" */
				while (*p != '"' && p < end && k < 159) {
					if (*p == '\\')
						p++;
					pairs[np][k++] = *p++;
				}
				pairs[np][k] = '\0';
				p++;                    /* " */
				if (*p == ',')
					p++;
			}
			p++;                            /* } */
		}
		for (i = 0; labels[i] != NULL; i++)
			;
		match = i == np;
		for (i = 0; match && labels[i] != NULL; i++) {
			for (j = 0; j < np; j++)
				if (strcmp(labels[i], pairs[j]) == 0)
					break;
			match = j < np;
		}
		if (match)
			return strtod(p, NULL);
	}
	return 0;
}

char *ops_get_metrics(void)
{
	char ct[128], *body;
	struct hresp r;

	ops_req(&r, "/_/metrics", NULL);
	OPS_ASSERT_STATUS("/_/metrics", &r, 200);
	ck_assert_msg(hresp_header(&r, "Content-Type", ct, sizeof(ct)) &&
	    strncmp(ct, "text/plain", 10) == 0, "metrics Content-Type %s",
	    ct);
	body = strdup(r.body);
	hresp_free(&r);
	return body;
}

/* ---- suite --------------------------------------------------------------- */

TCase *ops_tcase(const char *name, void (*setup)(void), int timeout)
{
	return harness_tcase(name, timeout, setup, down, NULL, no_leftovers);
}

static Suite *suite_ops(void)
{
	Suite *s = suite_create("ops");

	ops_add_observe(s);
	ops_add_signals(s);
	ops_add_run(s);
	return s;
}

/* The record checker is in the source tree ($FNL_SRCDIR). */
static int ops_setup(char *why, size_t len)
{
	const char *src = getenv("FNL_SRCDIR");
	int n = snprintf(ops_checker, sizeof(ops_checker),
	    "%s/t/data/check_records.py", src != NULL ? src : ".");

	if (n > 0 && (size_t)n < sizeof(ops_checker))
		return 0;
	snprintf(why, len, "FNL_SRCDIR is too long");
	return -1;
}

HARNESS_BINARY(ops, HARNESS_NEEDS_NGINX | HARNESS_NEEDS_CURL,
    .setup = ops_setup, .suite = suite_ops);
