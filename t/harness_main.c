/* harness_main.c — the one main() of the system-test binaries. See
 * harness_check.h for the contract: a binary defines `harness_binary`
 * (its name, what it needs, its suite) and this runs it. */
#include "harness_check.h"
#include "harness_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define EXIT_SKIP 77    /* automake: the test was skipped */
#define EXIT_HARD 99    /* automake: a hard error, not the tests' verdict */

const char *harness_fnl_bin;

/* ---- main ---------------------------------------------------------------- */

/* $FNL_BIN is an absolute path to an executable: 0, or -1 with why. */
static int find_daemon(char *why, size_t len)
{
	harness_fnl_bin = getenv("FNL_BIN");
	if (harness_fnl_bin == NULL || harness_fnl_bin[0] != '/' ||
	    access(harness_fnl_bin, X_OK) != 0) {
		snprintf(why, len, "FNL_BIN must be the daemon's absolute path "
		    "(make check sets it); it is %s", harness_fnl_bin ?
		    harness_fnl_bin : "unset");
		return -1;
	}
	return 0;
}

/* What b needs is here: 0, or -1 with why. */
static int find_needs(const struct harness_binary *b, char *why, size_t len)
{
	const char *nginx = getenv("NGINX") ? getenv("NGINX") :
	    "/usr/sbin/nginx";
	const char *curl = getenv("CURL") ? getenv("CURL") : "/usr/bin/curl";

	if ((b->needs & HARNESS_NEEDS_NGINX) && (access(nginx, X_OK) != 0 ||
	    access("/etc/nginx/fastcgi_params", R_OK) != 0)) {
		snprintf(why, len, "needs %s and /etc/nginx/fastcgi_params "
		    "(Debian: nginx-light)", nginx);
		return -1;
	}
	if ((b->needs & HARNESS_NEEDS_CURL) && access(curl, X_OK) != 0) {
		snprintf(why, len, "needs %s (Debian: curl)", curl);
		return -1;
	}
	return 0;
}

/* One line saying who the tests run as: root decides what can run. */
static void say_who(const struct harness_binary *b)
{
	printf("%s: running as uid %ld%s\n", b->name, (long)geteuid(),
	    geteuid() == 0 ? " (root)" : " (not root: tests that need root "
	    "say SKIP)");
}

/* A skip counter that Check's forked test processes share; NULL (with
 * a message) if it cannot be mapped. */
static unsigned *shared_counter(void)
{
	unsigned *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (c != MAP_FAILED)
		return c;
	perror("harness: mmap");
	return NULL;
}

/* Run b's suite: 1 if a test failed, 77 if every test skipped, else 0
 * (99 if it could not run). */
static int run_suite(const struct harness_binary *b)
{
	SRunner *sr;
	int run, failed;

	if ((hint_skips = shared_counter()) == NULL)
		return EXIT_HARD;
	sr = srunner_create(b->suite());
	srunner_run_all(sr, CK_ENV);
	run = srunner_ntests_run(sr);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (*hint_skips > 0)
		printf("%s: %u of %d checks said SKIP (lines above)\n",
		    b->name, *hint_skips, run);
	if (failed > 0)
		return 1;
	return run > 0 && *hint_skips >= (unsigned)run ? EXIT_SKIP : 0;
}

/* The binary cannot run here: say why, exit 77. */
static int skip_all(const struct harness_binary *b, const char *why)
{
	printf("SKIP: %s: %s\n", b->name, why);
	return EXIT_SKIP;
}

/* The harness cannot run: say why, exit 99. */
static int hard_error(const struct harness_binary *b, const char *why)
{
	fprintf(stderr, "%s: %s\n", b->name, why);
	return EXIT_HARD;
}

int main(void)
{
	const struct harness_binary *b = &harness_binary;
	char why[512] = "";
	int rc;

	/* Line by line: Check forks each test with what stdio holds. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (find_daemon(why, sizeof(why)) != 0)
		return hard_error(b, why);
	if (find_needs(b, why, sizeof(why)) != 0)
		return skip_all(b, why);
	say_who(b);
	rc = b->setup != NULL ? b->setup(why, sizeof(why)) : 0;
	if (rc == HARNESS_SKIP_ALL)
		return skip_all(b, why);
	if (rc != 0)
		return hard_error(b, why);
	rc = run_suite(b);
	if (b->teardown != NULL)
		b->teardown();
	return rc;
}
