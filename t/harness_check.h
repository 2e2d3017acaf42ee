/* harness_check.h — the Check side of the system-test binaries
 * (t/integration, t/faults, t/security, t/ops, t/cluster, ...): their one
 * main(), how a test says SKIP, and the assertions they share.
 *
 * A binary is its tests plus one definition:
 *
 *   HARNESS_BINARY(faults, HARNESS_NEEDS_NGINX | HARNESS_NEEDS_CURL,
 *       .suite = suite_faults);
 *
 * and, in Makefile.am, its sources with $(HARNESS_SRC) $(HARNESS_MAIN).
 * main() (harness_main.c) checks $FNL_BIN and what the binary needs,
 * says who it runs as, calls setup, runs the suite (CK_ENV: CK_RUN_SUITE,
 * CK_RUN_CASE, CK_VERBOSITY apply), calls teardown and exits 0, 1, 77
 * (SKIP: it cannot run here, or every test skipped) or 99 (the harness
 * itself could not run).
 *
 * SKIP. Check knows pass and fail only, so a test that cannot run here
 * (no root, no test user, no namespaces, ...) calls harness_skip(), which
 * prints one line to stdout, i.e. the test's automake log:
 *
 *   SKIP: FILE:LINE:TEST:ITERATION: reason
 *
 * and returns from the test, which Check then counts as passed. check.sh
 * counts these lines: a skipped test is reported as skipped, not passed.
 * A binary that cannot run at all prints "SKIP: NAME: reason" and exits
 * 77 (automake's SKIP). Never let a test that could not do its work end
 * as a plain pass. */
#ifndef FN_T_HARNESS_CHECK_H
#define FN_T_HARNESS_CHECK_H

#include <check.h>
#include <stddef.h>

#include "harness.h"

/* What a binary needs before any of its tests can run; when one is
 * missing, main() exits 77 with the reason. */
enum {
	/* $NGINX (default /usr/sbin/nginx) and /etc/nginx/fastcgi_params */
	HARNESS_NEEDS_NGINX = 1 << 0,
	/* $CURL (default /usr/bin/curl) */
	HARNESS_NEEDS_CURL = 1 << 1,
};

/* setup's answer when the binary cannot run here (why says it). */
#define HARNESS_SKIP_ALL 77

/* One per binary, named harness_binary: main() runs it. */
struct harness_binary {
	const char *name;            /* e.g. "faults", for messages */
	unsigned needs;              /* HARNESS_NEEDS_* */
	/* Once before suite() (may be NULL): 0 to run, HARNESS_SKIP_ALL to
	 * skip the binary, -1 to fail it; the reason into why (len bytes). */
	int (*setup)(char *why, size_t len);
	Suite *(*suite)(void);
	/* Once after the run, whatever the tests did (may be NULL); only
	 * when setup returned 0. */
	void (*teardown)(void);
};
extern const struct harness_binary harness_binary;
/* Define it: HARNESS_BINARY(name, needs, .suite = ..., [.setup = ...,]
 * [.teardown = ...]). */
#define HARNESS_BINARY(bname, bneeds, ...) \
	const struct harness_binary harness_binary = { .name = #bname, \
	    .needs = (bneeds), __VA_ARGS__ }

/* The daemon under test: $FNL_BIN, an absolute path to an executable
 * (main() checks it before anything runs). */
extern const char *harness_fnl_bin;

/* ---- SKIP ----------------------------------------------------------------
 * harness_skip(fmt, ...) inside a START_TEST body: print the SKIP line
 * with the reason and return from the test. harness_skip_if(why): the
 * same when why (a reason, as the predicates below return) is not NULL. */
#define harness_skip(...) \
	do { \
		harness_skip_note(__FILE__, __LINE__, _i, __VA_ARGS__); \
		return; \
	} while (0)
#define harness_skip_if(why) \
	do { \
		const char *harness_why_ = (why); \
		if (harness_why_ != NULL) \
			harness_skip("%s", harness_why_); \
	} while (0)

/* Print "SKIP: file:line:TEST:i: reason" (TEST: the running test) and
 * count it; for harness_skip, which also returns. */
void harness_skip_note(const char *file, int line, int i, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

/* Predicates for harness_skip_if: NULL when the thing is there, else the
 * reason (a static string). */
/* Root: identities, test users, namespaces. */
const char *harness_not_root(void);
/* A process may unshare(flags) (CLONE_NEWPID, CLONE_NEWNET, ...): tried
 * in a child. */
const char *harness_no_unshare(int flags);

/* ---- fixtures and requests ---------------------------------------------- */

/* A TCase with a timeout in seconds: up and down around all its tests
 * (unchecked fixture: once, in the runner process), each_up and
 * each_down around each test (checked fixture: in the test's process).
 * Any of them may be NULL. */
TCase *harness_tcase(const char *name, double timeout, void (*up)(void),
    void (*down)(void), void (*each_up)(void), void (*each_down)(void));
/* In a fixture that could not set up: free *hp (NULL after) and abort
 * the TCase with what (the harness has said why on stderr). */
void harness_abort(struct harness **hp, const char *what);
/* harness_curl through h's nginx; the request itself must complete
 * (asserted: curl ran and exited 0). */
void harness_req(const struct harness *h, struct hresp *r,
    const char *path, const char *const *args);

/* ---- assertions the binaries share -------------------------------------- */

/* After a test (a checked teardown): no process an invocation of h's
 * daemon started is left within 3 s, and the daemon log holds no
 * sanitizer report. h NULL: nothing to check. */
void harness_assert_clean(const struct harness *h);
/* An error of SPEC section 7: status, Content-Type application/json,
 * "error" == code (NULL: any code), X-Request-Id equal to the body's
 * "request_id". what names the request in failure messages. */
void harness_assert_error(const struct harness *h, const struct hresp *r,
    int status, const char *code, const char *what);

#endif
