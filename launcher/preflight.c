/* preflight.c — see preflight.h. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "execcheck.h"
#include "identity.h"
#include "preflight.h"

/* The built-in identity; a daemon that is not root runs functions as
 * itself and only complains about a user or group it was asked for. */
#define DEFAULT_USER "nobody"
#define DEFAULT_GROUP "nogroup"

static bool
is_self_user(const char *user)
{
	struct passwd *pw = getpwuid(geteuid());

	return strcmp(user, DEFAULT_USER) == 0 ||
	    (pw != NULL && strcmp(pw->pw_name, user) == 0);
}

static bool
is_self_group(const char *group)
{
	struct group *gr = getgrgid(getegid());

	return strcmp(group, DEFAULT_GROUP) == 0 ||
	    (gr != NULL && strcmp(gr->gr_name, group) == 0);
}

/* A daemon that is not root: identity and namespaces are out of reach. */
static size_t
check_unprivileged(const struct fn_spec *fn, preflight_report report,
    void *arg)
{
	const char *name = fn->name ? fn->name : "(defaults)";
	char msg[512];
	size_t errors = 0;

	if (!is_self_user(fn->user) || !is_self_group(fn->group)) {
		snprintf(msg, sizeof(msg), "function %s: user %s, group %s: a daemon that is not root cannot switch users",
		    name, fn->user, fn->group);
		report(PREFLIGHT_ERROR, msg, arg);
		errors++;
	}
	if (fn->isolate != 0) {
		snprintf(msg, sizeof(msg), "function %s: isolate needs a daemon started as root", name);
		report(PREFLIGHT_ERROR, msg, arg);
		errors++;
	}
	return errors;
}

/* As root: would this function be refused at run time? */
static void
check_privileged(const struct fn_spec *fn, preflight_report report,
    void *arg)
{
	struct identity id;
	char err[PATH_MAX + 128], msg[PATH_MAX + 256], real[PATH_MAX];

	if (identity_resolve(fn->user, fn->group, &id, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "function %s: %s", fn->name, err);
		report(PREFLIGHT_WARNING, msg, arg);
		return;
	}
	if (id.uid == 0 && !fn->allow_root) {
		snprintf(msg, sizeof(msg), "function %s: user %s is root and allow_root is false: requests will get 403",
		    fn->name, fn->user);
		report(PREFLIGHT_WARNING, msg, arg);
	}
	if (execcheck(fn->path, id.uid, real, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "function %s: requests will get 403: %s",
		    fn->name, err);
		report(PREFLIGHT_WARNING, msg, arg);
	}
}

/* The unix socket's folder: a start by hand fails without it (with
 * systemd, RuntimeDirectory= makes /run/fnlauncher, or the socket unit
 * holds the socket). */
static void
check_socket_folder(const struct manifest *m, preflight_report report,
    void *arg)
{
	char dir[PATH_MAX], msg[2 * PATH_MAX + 256];
	const char *path, *slash;
	struct stat st;

	if (m->listen == NULL || strncmp(m->listen, "unix:", 5) != 0)
		return;
	path = m->listen + 5;
	slash = strrchr(path, '/');
	if (slash == NULL || slash == path ||
	    (size_t)(slash - path) >= sizeof(dir))
		return;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return;
	snprintf(msg, sizeof(msg), "listen: the folder %s does not exist: a start by hand fails (mkdir -p %s first; under systemd the unit's RuntimeDirectory= makes it)",
	    dir, dir);
	report(PREFLIGHT_WARNING, msg, arg);
}

/* Files the manifest names that are not there (any daemon). */
static void
check_files(const struct manifest *m, preflight_report report, void *arg)
{
	char msg[PATH_MAX + 256];
	struct stat st;

	check_socket_folder(m, report, arg);
	if (m->functions_dir != NULL &&
	    (stat(m->functions_dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
		snprintf(msg, sizeof(msg), "functions_dir %s is not a folder: drop-ins will not be found",
		    m->functions_dir);
		report(PREFLIGHT_WARNING, msg, arg);
	}
	for (size_t i = 0; i < m->nfunctions; i++) {
		const struct fn_spec *fn = &m->functions[i];
		if (access(fn->path, X_OK) < 0) {
			snprintf(msg, sizeof(msg), "function %s: %s: %s: requests will get 502",
			    fn->name, fn->path, strerror(errno));
			report(PREFLIGHT_WARNING, msg, arg);
		}
		if (fn->cwd != NULL && (stat(fn->cwd, &st) < 0 || !S_ISDIR(st.st_mode))) {
			snprintf(msg, sizeof(msg), "function %s: cwd %s is not a folder: requests will get 502",
			    fn->name, fn->cwd);
			report(PREFLIGHT_WARNING, msg, arg);
		}
	}
}

size_t
preflight(const struct manifest *m, preflight_report report, void *arg)
{
	size_t errors = 0;

	check_files(m, report, arg);

	if (geteuid() != 0) {
		errors += check_unprivileged(&m->defaults, report, arg);
		for (size_t i = 0; i < m->nfunctions; i++)
			errors += check_unprivileged(&m->functions[i], report, arg);
		return errors;
	}
	for (size_t i = 0; i < m->nfunctions; i++)
		check_privileged(&m->functions[i], report, arg);
	return 0;
}
