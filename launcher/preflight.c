/* preflight.c — see preflight.h. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
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
	    strcmp(user, FN_USER_DYNAMIC) == 0 ||
	    (pw != NULL && strcmp(pw->pw_name, user) == 0);
}

static bool
is_self_group(const char *group)
{
	struct group *gr = getgrgid(getegid());

	return group == NULL || strcmp(group, DEFAULT_GROUP) == 0 ||
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
		    name, fn->user, fn->group ? fn->group : "(the user's)");
		report(PREFLIGHT_ERROR, msg, arg);
		errors++;
	}
	/* The default isolation is a root daemon's; asking for any is not. */
	if (fn->isolate_set && fn->isolate != 0) {
		snprintf(msg, sizeof(msg), "function %s: isolate needs a daemon started as root", name);
		report(PREFLIGHT_ERROR, msg, arg);
		errors++;
	}
	return errors;
}

/* A TCP listener without allow_from: refused at start-up. And who else
 * than nginx could open the unix socket. */
static size_t
check_listener(const struct manifest *m, preflight_report report, void *arg)
{
	char msg[512];

	if (m->listen != NULL && strncmp(m->listen, "unix:", 5) != 0 &&
	    !m->allow_from_set) {
		snprintf(msg, sizeof(msg), "listen %s: a TCP listener needs allow_from: the addresses of the nginx hosts that may connect",
		    m->listen);
		report(PREFLIGHT_ERROR, msg, arg);
		return 1;
	}
	if (m->listen != NULL && strncmp(m->listen, "unix:", 5) == 0 &&
	    (m->socket_mode & 0006)) {
		snprintf(msg, sizeof(msg), "socket_mode %04o lets any local user connect to the socket (functions are refused by their uid, other users are not): use 0660 with socket_group set to nginx's group",
		    (unsigned)m->socket_mode);
		report(PREFLIGHT_WARNING, msg, arg);
	}
	return 0;
}

/* A function whose group may open the unix socket: it is refused by
 * its uid, but say so (a group is for nginx). */
static void
check_socket_group(const struct manifest *m, const struct fn_spec *fn,
    const struct identity *id, preflight_report report, void *arg)
{
	struct group *gr;
	char msg[512];

	if (m->listen == NULL || strncmp(m->listen, "unix:", 5) != 0 ||
	    !(m->socket_mode & 0060) || m->socket_group == NULL ||
	    (gr = getgrnam(m->socket_group)) == NULL)
		return;
	bool in = id->gid == gr->gr_gid;
	for (size_t i = 0; i < id->ngroups && !in; i++)
		in = id->groups[i] == gr->gr_gid;
	if (!in)
		return;
	snprintf(msg, sizeof(msg), "function %s: its group %s may open the daemon's socket (socket_group): the daemon refuses its uid, but the group is meant for nginx alone",
	    fn->name, m->socket_group);
	report(PREFLIGHT_WARNING, msg, arg);
}

/* As root: would this function be refused at run time? */
static void
check_privileged(const struct manifest *m, const struct fn_spec *fn,
    preflight_report report, void *arg)
{
	struct identity id;
	char err[PATH_MAX + 128], msg[PATH_MAX + 256], real[PATH_MAX];

	if (identity_of(m, fn, &id, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "function %s: %s", fn->name, err);
		report(PREFLIGHT_WARNING, msg, arg);
		return;
	}
	check_socket_group(m, fn, &id, report, arg);
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
static const char *listen_override;

void
preflight_listen(const char *addr)
{
	listen_override = addr;
}

static void
check_socket_folder(const struct manifest *m, preflight_report report,
    void *arg)
{
	char dir[PATH_MAX], msg[2 * PATH_MAX + 256];
	const char *path, *slash;
	const char *listen = listen_override ? listen_override : m->listen;
	struct stat st;

	/* socket activation: systemd holds the socket */
	if (listen == NULL || strncmp(listen, "unix:", 5) != 0 ||
	    getenv("LISTEN_FDS") != NULL)
		return;
	path = listen + 5;
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

/* env: values are secrets: a manifest that holds some must not be
 * readable by others (make install makes it 0600). */
static void
check_secrets(const struct manifest *m, preflight_report report, void *arg)
{
	char msg[PATH_MAX + 256];
	struct stat st;

	if (!m->inline_env || m->file[0] == '\0' || stat(m->file, &st) < 0 ||
	    !(st.st_mode & S_IROTH))
		return;
	snprintf(msg, sizeof(msg), "%s holds env: values and is readable by others (mode %04o): any local user, and every function, can read them; chmod 600 it (or 640 with the daemon's group)",
	    m->file, (unsigned)(st.st_mode & 07777));
	report(PREFLIGHT_WARNING, msg, arg);
}

/* Files the manifest names that are not there (any daemon). */
static void
check_files(const struct manifest *m, preflight_report report, void *arg)
{
	char msg[PATH_MAX + 256];
	struct stat st;

	check_socket_folder(m, report, arg);
	check_secrets(m, report, arg);
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
	errors += check_listener(m, report, arg);

	if (geteuid() != 0) {
		report(PREFLIGHT_WARNING, "not started as root: every function runs as this user, without a uid of its own, private /tmp and IPC or other namespaces: one tenant only", arg);
		errors += check_unprivileged(&m->defaults, report, arg);
		for (size_t i = 0; i < m->nfunctions; i++)
			errors += check_unprivileged(&m->functions[i], report, arg);
		return errors;
	}
	for (size_t i = 0; i < m->nfunctions; i++)
		check_privileged(m, &m->functions[i], report, arg);
	return errors;
}

void
preflight_identities(const struct manifest *m, preflight_report report,
    void *arg)
{
	char err[PATH_MAX + 128], msg[PATH_MAX + 512];
	struct identity id;

	if (geteuid() != 0)
		return;
	for (size_t i = 0; i < m->nfunctions; i++) {
		const struct fn_spec *fn = &m->functions[i];
		bool dyn = strcmp(fn->user, FN_USER_DYNAMIC) == 0;
		if (identity_of(m, fn, &id, err, sizeof(err)) < 0)
			continue;       /* check_privileged said why */
		snprintf(msg, sizeof(msg), "function %s: uid %u gid %u (%s%s)",
		    fn->name, (unsigned)id.uid, (unsigned)id.gid,
		    dyn ? "dynamic" : "user ", dyn ? "" : fn->user);
		report(PREFLIGHT_INFO, msg, arg);
	}
	/* Functions that share a real user can read each other's memory
	 * and environment, trace and signal each other. */
	for (size_t i = 0; i < m->nfunctions; i++) {
		const struct fn_spec *a = &m->functions[i];
		size_t n = 0, first = SIZE_MAX;
		if (strcmp(a->user, FN_USER_DYNAMIC) == 0)
			continue;
		for (size_t j = 0; j < m->nfunctions; j++)
			if (strcmp(m->functions[j].user, a->user) == 0) {
				if (first == SIZE_MAX)
					first = j;
				n++;
			}
		if (n < 2 || first != i)
			continue;
		snprintf(msg, sizeof(msg), "%zu functions run as user %s (%s and others): each can read the others' memory and environment, trace and signal them; give each its own user, or user: dynamic",
		    n, a->user, a->name);
		report(PREFLIGHT_WARNING, msg, arg);
	}
}
