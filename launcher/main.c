/* main.c — fnlauncher: flags, then a short sequence of steps. */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "dynid.h"
#include "fnlog.h"
#include "invokecmd.h"
#include "manifest.h"
#include "preflight.h"
#include "server.h"
#include "signals.h"
#include "tenants.h"
#include "async.h"
#include "scheduler.h"
#include "usage.h"

#define DEFAULT_MANIFEST SYSCONFDIR "/fnlauncher/fnlauncher.yaml"

struct opts {
	const char *file;
	const char *listen;
	const char *tenant;         /* -t --tenant NAME */
	int check;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: fnlauncher [-c FILE] [-s ADDR]   run the daemon (foreground)\n"
	    "       fnlauncher -t [-c FILE] [--tenant NAME]\n"
	    "                                        check the manifest (and the\n"
	    "                                        tenant files, or one) and exit\n"
	    "       fnlauncher usage [--by tenant|function|day] [--since T]\n"
	    "                  [--until T] [--format table|json|csv] FILE...\n"
	    "                                        sum invocation records\n"
	    "       fnlauncher invoke [-c FILE] [-X METHOD] [-H 'Name: value']...\n"
	    "                  [-d DATA|@FILE|@-] [-i] NAME[/path][?query]\n"
	    "                                        run one function locally\n"
	    "       fnlauncher -V | -h\n"
	    "  -c FILE  manifest (default %s)\n"
	    "  -s ADDR  listen on unix:/path, HOST:PORT or [V6]:PORT\n",
	    DEFAULT_MANIFEST);
}

/* Returns -1 to go on, else an exit code. */
static int
parse_flags(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "tenant", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->file = DEFAULT_MANIFEST;
	while ((c = getopt_long(argc, argv, "c:s:tVh", longs, NULL)) != -1) {
		switch (c) {
		case 'T': o->tenant = optarg; break;
		case 'c': o->file = optarg; break;
		case 's': o->listen = optarg; break;
		case 't': o->check = 1; break;
		case 'V': printf("fnlauncher %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o->tenant != NULL && !o->check) {
		fprintf(stderr, "fnlauncher: --tenant goes with -t\n");
		usage(stderr);
		return 2;
	}
	if (optind != argc) {
		fprintf(stderr, "fnlauncher: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

static void
print_problem(enum preflight_level level, const char *msg, void *arg)
{
	static const char *const word[] = {
		[PREFLIGHT_INFO] = "info: ", [PREFLIGHT_WARNING] = "warning: ",
		[PREFLIGHT_ERROR] = "",
	};
	static const enum fnlog_level prio[] = {
		[PREFLIGHT_INFO] = FNLOG_INFO, [PREFLIGHT_WARNING] = FNLOG_WARN,
		[PREFLIGHT_ERROR] = FNLOG_ERROR,
	};

	printf("%s%s: %s%s\n", fnlog_prio_for(STDOUT_FILENO, prio[level]),
	    (const char *)arg, word[level], msg);
}

/* A tenant's problems fail -t --tenant NAME; for plain -t (also
 * systemd's ExecReload) they are warnings: a customer's broken file
 * must not stop the reload of the others (the daemon keeps its last
 * good version). ARG: non-NULL for the strict way. */
static void
print_tenant(bool error, const char *line, void *arg)
{
	error = error && arg != NULL;
	printf("%s%s%s\n", fnlog_prio_for(STDOUT_FILENO, error ? FNLOG_ERROR :
	    FNLOG_WARN), error ? "" : "warning: ", line);
}

/* -t: every problem on its own line, FILE:LINE:COL: message (under
 * systemd's ExecReload, in the journal at priority err or warning). */
static int
check_manifest(const char *file, const char *tenant)
{
	struct manifest_errors errs = { 0 };
	struct manifest *m = NULL;
	char line[1024];

	if (manifest_load(file, &m, &errs) == 0) {
		size_t bad = preflight(m, print_problem, (void *)file);
		int tbad = tenants_load(m, tenant, false, print_tenant,
		    tenant != NULL ? (void *)tenant : NULL);
		if (tbad != 0 && tenant != NULL)
			bad++;
		for (size_t i = 0; tbad >= 0 && i < m->ntenants; i++)
			printf("%s: tenant %s: %zu functions, user %s%s%s\n",
			    m->tenants[i]->file, m->tenants[i]->tenant,
			    m->tenants[i]->nfunctions, m->tenants[i]->tenant_user,
			    m->tenants[i]->functions_dir ? ", drop-ins from " : "",
			    m->tenants[i]->functions_dir ?
			    m->tenants[i]->functions_dir : "");
		dynid_load(m);
		preflight_identities(m, print_problem, (void *)file);
		cgroup_describe(m, print_problem, (void *)file);
		scheduler_describe(m, print_problem, (void *)file);
		bad += async_describe(m, print_problem, (void *)file);
		manifest_free(m);
		if (bad > 0)
			return 1;
		printf("%s: configuration OK\n", file);
		return 0;
	}
	for (size_t i = 0; i < errs.n; i++)
		printf("%s%s\n", fnlog_prio_for(STDOUT_FILENO, FNLOG_ERROR),
		    manifest_error_format(file, &errs.v[i], line,
		    sizeof(line)));
	manifest_errors_clear(&errs);
	return 1;
}

/* Functions get fds 0, 1, 2 from us: make sure those numbers are taken,
 * so no pipe or socket of ours lands on them. */
static void
hold_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0) {
			int n = open("/dev/null", O_RDWR);
			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	int rc, sfd;

	if (argc > 1 && strcmp(argv[1], "invoke") == 0)
		return invokecmd_main(argc - 1, argv + 1, DEFAULT_MANIFEST);
	if (argc > 1 && strcmp(argv[1], "usage") == 0)
		return usage_main(argc - 1, argv + 1);
	if ((rc = parse_flags(argc, argv, &o)) >= 0)
		return rc;
	if (o.check)
		return check_manifest(o.file, o.tenant);
	hold_std_fds();
	preflight_listen(o.listen);
	if ((sfd = signals_take()) < 0 ||   /* before any thread starts */
	    server_subreaper() < 0 ||
	    server_load(o.file) < 0 ||
	    server_init_libfcgi() < 0 ||
	    server_start_threads() < 0 ||
	    server_listen(o.listen) < 0) {
		cgroup_cleanup();
		return 1;
	}
	return server_run(sfd);
}
