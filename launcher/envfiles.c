/* envfiles.c — see envfiles.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envfiles.h"
#include "manifest_schema.h"
#include "units.h"

int
envfiles_parse(const char *text, size_t len, struct fn_kv **out, size_t *n,
    char *why, size_t wlen)
{
	struct fn_kv *kv = NULL;
	size_t cap = 0, count = 0, lineno = 0;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *eq;
		size_t l = (size_t)(le - p);
		char name[256];

		lineno++;
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l == 0 || p[0] == '#')
			goto next;
		eq = memchr(p, '=', l);
		if (eq == NULL || eq == p || (size_t)(eq - p) >= sizeof(name)) {
			snprintf(why, wlen, "line %zu: not NAME=value", lineno);
			goto fail;
		}
		memcpy(name, p, (size_t)(eq - p));
		name[eq - p] = '\0';
		if (!units_valid_env_name(name) ||
		    memchr(eq + 1, '\0', l - (size_t)(eq - p) - 1) != NULL) {
			snprintf(why, wlen, "line %zu: not NAME=value", lineno);
			goto fail;
		}
		if (count == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct fn_kv *nk = realloc(kv, (nc + 1) * sizeof(*nk));
			if (nk == NULL)
				goto nomem;
			kv = nk;
			cap = nc;
		}
		kv[count].name = strdup(name);
		kv[count].value = strndup(eq + 1, l - (size_t)(eq - p) - 1);
		if (kv[count].name == NULL || kv[count].value == NULL) {
			free(kv[count].name);
			free(kv[count].value);
			goto nomem;
		}
		count++;
next:
		p = nl ? nl + 1 : end;
	}
	*out = kv;
	*n = count;
	return 0;
nomem:
	snprintf(why, wlen, "out of memory");
fail:
	manifest_env_free(kv, count);
	return -1;
}

char *
envfiles_read_private(const char *file, size_t max, size_t *len, char *why,
    size_t wlen)
{
	char *buf = NULL;
	struct stat st;
	ssize_t r;
	int fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		snprintf(why, wlen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		snprintf(why, wlen, "not a regular file");
	else if (st.st_uid != geteuid())
		snprintf(why, wlen, "owned by uid %u, not by the daemon's user",
		    (unsigned)st.st_uid);
	else if (st.st_mode & 077)
		snprintf(why, wlen, "mode %04o: group or others may read or "
		    "write it (chmod 600)", (unsigned)(st.st_mode & 07777));
	else if ((size_t)st.st_size > max)
		snprintf(why, wlen, "larger than %zu bytes", max);
	else if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		snprintf(why, wlen, "out of memory");
	else if ((r = read(fd, buf, (size_t)st.st_size)) != st.st_size) {
		snprintf(why, wlen, "short read");
		free(buf);
		buf = NULL;
	} else {
		*len = (size_t)r;
		buf[r] = '\0';
	}
	close(fd);
	return buf;
}

/* FILE's variables, checked and parsed. */
static int
read_one(const char *file, struct fn_kv **kv, size_t *n, char *why,
    size_t wlen)
{
	size_t len = 0;
	char *buf = envfiles_read_private(file, ENVFILES_MAX_BYTES, &len, why,
	    wlen);
	int rc;

	if (buf == NULL)
		return -1;
	rc = envfiles_parse(buf, len, kv, n, why, wlen);
	free(buf);
	return rc;
}

/* S's env: its files' variables, then its own (a name in both: its
 * own wins, as a later layer does). */
static int
load_spec(struct fn_spec *s, struct manifest_errors *errs)
{
	int rc = 0;

	for (size_t f = 0; f < s->nenv_files; f++) {
		struct fn_kv *kv = NULL, *merged;
		size_t n = 0, total;
		char why[256];

		if (read_one(s->env_files[f], &kv, &n, why, sizeof(why)) < 0) {
			(void)manifest_error_add(errs, 0, 0, "%s%s: env_files %s: %s",
			    s->name ? "function " : "defaults",
			    s->name ? s->name : "", s->env_files[f], why);
			rc = -1;
			continue;
		}
		/* the file's names that the spec does not set yet, first */
		total = n;
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < s->nenv; j++)
				if (kv[i].name && strcmp(kv[i].name, s->env[j].name) == 0) {
					free(kv[i].name);
					free(kv[i].value);
					kv[i].name = NULL;
					total--;
				}
		merged = calloc(total + s->nenv + 1, sizeof(*merged));
		if (merged == NULL) {
			manifest_env_free(kv, n);
			(void)manifest_error_add(errs, 0, 0, "out of memory");
			return -1;
		}
		total = 0;
		for (size_t i = 0; i < n; i++)
			if (kv[i].name != NULL)
				merged[total++] = kv[i];
		for (size_t j = 0; j < s->nenv; j++)
			merged[total++] = s->env[j];
		free(kv);
		free(s->env);
		s->env = merged;
		s->nenv = total;
	}
	return rc;
}

int
envfiles_load(struct manifest *m, struct manifest_errors *errs)
{
	int rc;

	/* What the manifest holds itself (for -t's warning), before the
	 * files' variables join it. */
	m->inline_env = m->defaults.nenv > 0;
	for (size_t i = 0; i < m->nfunctions && !m->inline_env; i++)
		m->inline_env = m->functions[i].nenv > 0;
	rc = load_spec(&m->defaults, errs);

	for (size_t i = 0; i < m->nfunctions; i++)
		if (load_spec(&m->functions[i], errs) < 0)
			rc = -1;
	return rc;
}
