/* tenants.c — see tenants.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "tenants.h"

#define TENANTS_MAX 4096

/* The text each tenant file had when it last loaded, for a reload that
 * finds it broken. Only the loading thread touches it. */
struct good {
	struct good *next;
	char *name;
	char *text;
	size_t len;
};

static struct good *goods;
static pthread_mutex_t goods_lock = PTHREAD_MUTEX_INITIALIZER;

static struct good *
good_find(const char *name)
{
	for (struct good *g = goods; g != NULL; g = g->next)
		if (strcmp(g->name, name) == 0)
			return g;
	return NULL;
}

static void
good_keep(const char *name, const char *text, size_t len)
{
	struct good *g = good_find(name);
	char *t = malloc(len + 1);

	if (t == NULL)
		return;
	memcpy(t, text, len);
	t[len] = '\0';
	if (g == NULL) {
		if ((g = calloc(1, sizeof(*g))) == NULL ||
		    (g->name = strdup(name)) == NULL) {
			free(g);
			free(t);
			return;
		}
		g->next = goods;
		goods = g;
	}
	free(g->text);
	g->text = t;
	g->len = len;
}

/* Forget the last good versions of files no longer in DIR (a tenant
 * removed, then a broken file of the same name must not bring the old
 * one back). Called with goods_lock held. */
static void
goods_forget(const char *dir)
{
	for (struct good **pp = &goods; *pp != NULL;) {
		char file[4200];
		struct stat st;

		snprintf(file, sizeof(file), "%s/%s.yaml", dir, (*pp)->name);
		if (lstat(file, &st) == 0) {
			pp = &(*pp)->next;
			continue;
		}
		struct good *g = *pp;
		*pp = g->next;
		free(g->name);
		free(g->text);
		free(g);
	}
}

static void
say(tenants_report_fn *report, void *arg, bool error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
say(tenants_report_fn *report, void *arg, bool error, const char *fmt, ...)
{
	char line[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	report(error, line, arg);
}

/* What only the file system can tell: the file is the admin's, the
 * user is an account (not root), the folder is the tenant's. NULL, or
 * the problem. */
static const char *
check_io(const struct manifest *t, const struct stat *fst, char *buf,
    size_t size)
{
	struct passwd pw, *pwp = NULL;
	char pwbuf[16384];
	struct stat st;

	if (fst->st_uid != 0 || (fst->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(buf, size, "the file must be owned by root and not "
		    "writable by group or others (it is the admin's)");
		return buf;
	}
	if (strcmp(t->tenant_user, FN_USER_DYNAMIC) != 0) {
		if (getpwnam_r(t->tenant_user, &pw, pwbuf, sizeof(pwbuf),
		    &pwp) != 0 || pwp == NULL) {
			snprintf(buf, size, "user \"%s\": no such user",
			    t->tenant_user);
			return buf;
		}
		if (pw.pw_uid == 0 || pw.pw_gid == 0) {
			snprintf(buf, size, "user \"%s\": a tenant never runs "
			    "as root (uid or group 0)", t->tenant_user);
			return buf;
		}
	}
	if (t->functions_dir == NULL)
		return NULL;
	if (lstat(t->functions_dir, &st) < 0) {
		snprintf(buf, size, "functions_dir %s: %s", t->functions_dir,
		    strerror(errno));
		return buf;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(buf, size, "functions_dir %s: not a folder (a "
		    "symlink is not followed)", t->functions_dir);
		return buf;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(buf, size, "functions_dir %s: writable by group or "
		    "others", t->functions_dir);
		return buf;
	}
	if (pwp == NULL && st.st_uid != 0) {
		/* a dynamic uid owns nothing yet: the folder is root's */
		snprintf(buf, size, "functions_dir %s: owned by uid %u; a "
		    "tenant with user: dynamic needs a folder owned by root",
		    t->functions_dir, (unsigned)st.st_uid);
		return buf;
	}
	if (pwp != NULL && st.st_uid != pw.pw_uid && st.st_uid != 0) {
		snprintf(buf, size, "functions_dir %s: owned by uid %u, not "
		    "by %s or root", t->functions_dir, (unsigned)st.st_uid,
		    t->tenant_user);
		return buf;
	}
	return NULL;
}

/* Parse TEXT as tenant NAME of M; every problem reported when REPORT. */
static struct manifest *
parse_one(const struct manifest *m, const char *name, const char *file,
    const char *text, size_t len, const struct stat *st,
    tenants_report_fn *report, void *arg)
{
	struct manifest_errors errs = { 0 };
	struct manifest *t = NULL;
	char line[1024];
	const char *why;

	if (manifest_parse_tenant(text, len, file, name, m, &t, &errs) < 0) {
		for (size_t i = 0; report != NULL && i < errs.n; i++)
			report(true, manifest_error_format(file, &errs.v[i],
			    line, sizeof(line)), arg);
		manifest_errors_clear(&errs);
		return NULL;
	}
	if (auth_load(t, &errs) < 0) {
		for (size_t i = 0; report != NULL && i < errs.n; i++)
			report(true, manifest_error_format(file, &errs.v[i],
			    line, sizeof(line)), arg);
		manifest_errors_clear(&errs);
		manifest_free(t);
		return NULL;
	}
	if ((why = check_io(t, st, line, sizeof(line))) != NULL) {
		if (report != NULL)
			say(report, arg, true, "%s: %s", file, why);
		manifest_free(t);
		return NULL;
	}
	return t;
}

static int
cmp_tenant(const void *a, const void *b)
{
	return strcmp((*(struct manifest *const *)a)->tenant,
	    (*(struct manifest *const *)b)->tenant);
}

/* NAME.yaml with a valid NAME: its name into OUT. */
static bool
tenant_file(const char *fname, char *out, size_t size)
{
	size_t n = strlen(fname);

	if (fname[0] == '.' || n < 6 || strcmp(fname + n - 5, ".yaml") != 0 ||
	    n - 5 >= size)
		return false;
	memcpy(out, fname, n - 5);
	out[n - 5] = '\0';
	return true;
}

int
tenants_load(struct manifest *m, const char *only, bool keep_last,
    tenants_report_fn *report, void *arg)
{
	struct manifest **v;
	struct dirent *de;
	size_t n = 0;
	int bad = 0;
	bool found = false;
	DIR *d;

	if (m->tenants_dir == NULL) {
		if (only != NULL)
			say(report, arg, true, "%s: no tenants_dir: no tenant "
			    "\"%s\"", m->file, only);
		return only != NULL ? -1 : 0;
	}
	if ((d = opendir(m->tenants_dir)) == NULL) {
		say(report, arg, true, "%s: tenants_dir %s: %s", m->file,
		    m->tenants_dir, strerror(errno));
		return -1;
	}
	if ((v = calloc(TENANTS_MAX, sizeof(*v))) == NULL) {
		closedir(d);
		return -1;
	}
	pthread_mutex_lock(&goods_lock);
	while ((de = readdir(d)) != NULL && n < TENANTS_MAX) {
		char name[FN_NAME_MAX + 8], file[4200];
		struct manifest *t;
		struct manifest_errors errs = { 0 };
		struct stat st;
		char *text = NULL;
		size_t len = 0;
		bool have_st = false;
		int fd;

		if (!tenant_file(de->d_name, name, sizeof(name)))
			continue;
		snprintf(file, sizeof(file), "%s/%s", m->tenants_dir,
		    de->d_name);
		if (!manifest_valid_tenant(name)) {
			if (only == NULL)
				say(report, arg, true, "%s: \"%s\" is not a "
				    "tenant name ([a-z0-9][a-z0-9_-], at most 64): "
				    "file left out", file, name);
			bad += only == NULL;
			continue;
		}
		if (only != NULL && strcmp(only, name) != 0)
			continue;
		found = true;
		/* never through a symlink; owner and mode of the file read */
		memset(&st, 0, sizeof(st));
		fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			have_st = true;
		if (!have_st) {
			say(report, arg, true, "%s: %s", file, fd < 0 ?
			    strerror(errno) : "not a regular file");
			if (fd >= 0)
				close(fd);
			t = NULL;
		} else {
			close(fd);
			t = NULL;
			if (manifest_read(file, &text, &len, &errs) < 0) {
				char line[1024];
				for (size_t i = 0; i < errs.n; i++)
					report(true, manifest_error_format(
					    file, &errs.v[i], line,
					    sizeof(line)), arg);
				manifest_errors_clear(&errs);
			} else {
				t = parse_one(m, name, file, text, len, &st,
				    report, arg);
			}
		}
		if (t != NULL) {
			if (keep_last)
				good_keep(name, text, len);
		} else {
			/* the last good version, only of a file that is still
			 * the admin's */
			struct good *g = keep_last && have_st ?
			    good_find(name) : NULL;
			bad++;
			if (g != NULL && (t = parse_one(m, name, file, g->text,
			    g->len, &st, NULL, NULL)) != NULL)
				say(report, arg, false, "%s: tenant %s keeps "
				    "its last good version", file, name);
			else
				say(report, arg, false, "%s: tenant %s is "
				    "left out", file, name);
		}
		free(text);
		if (t != NULL)
			v[n++] = t;
	}
	if (keep_last && only == NULL)
		goods_forget(m->tenants_dir);
	pthread_mutex_unlock(&goods_lock);
	closedir(d);
	if (only != NULL && !found) {
		say(report, arg, true, "%s: no tenant file %s.yaml in %s",
		    m->file, only, m->tenants_dir);
		free(v);
		return -1;
	}
	qsort(v, n, sizeof(*v), cmp_tenant);
	m->tenants = v;
	m->ntenants = n;
	return bad;
}

const struct manifest *
tenants_find(const struct manifest *m, const char *name)
{
	size_t lo = 0, hi = m->ntenants;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, m->tenants[mid]->tenant);
		if (c == 0)
			return m->tenants[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct manifest *
tenants_by_host(const struct manifest *m, const char *host)
{
	size_t hlen;

	if (host == NULL || m->ntenants == 0)
		return NULL;
	hlen = strcspn(host, ":");
	if (host[0] == '[')
		return NULL;
	for (size_t i = 0; i < m->ntenants; i++)
		for (size_t j = 0; j < m->tenants[i]->nhosts; j++) {
			const char *h = m->tenants[i]->hosts[j];
			if (strlen(h) == hlen && strncasecmp(h, host, hlen) == 0)
				return m->tenants[i];
		}
	return NULL;
}
