/* yamltree.c — YAML bytes to a bounded tree (yamltree.h).
 *
 * libyaml's document loader expands aliases and has no limits, so an alias
 * bomb or a deeply nested file costs unbounded memory. The event API lets
 * us refuse anchors and aliases outright and stop at YTREE_MAX_DEPTH and
 * YTREE_MAX_NODES before anything grows. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "yamltree.h"

struct builder {
	struct ynode *root;
	struct ynode *stack[YTREE_MAX_DEPTH]; /* open sequences and mappings */
	size_t depth;
	size_t nodes;
	unsigned docs;
	struct ytree_error *err;
};

static int set_error(struct ytree_error *err, unsigned line, unsigned col,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
set_error(struct ytree_error *err, unsigned line, unsigned col,
    const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	/* Truncation only shortens a message; msg stays terminated. */
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int
mark_error(struct ytree_error *err, const yaml_mark_t *m, const char *msg)
{
	return set_error(err, (unsigned)m->line + 1, (unsigned)m->column + 1,
	    "%s", msg);
}

void
ytree_free(struct ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		ytree_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n);
}

bool
ynode_is_null(const struct ynode *n)
{
	return n != NULL && n->kind == YNODE_SCALAR && n->plain &&
	    (n->len == 0 || strcmp(n->text, "~") == 0 ||
	    strcmp(n->text, "null") == 0 || strcmp(n->text, "Null") == 0 ||
	    strcmp(n->text, "NULL") == 0);
}

/* A new node of KIND at the event's start mark, hung under the innermost
 * open collection (or made the root). Counts against YTREE_MAX_NODES. */
static struct ynode *
add_node(struct builder *b, enum ynode_kind kind, const yaml_event_t *ev)
{
	struct ynode *n, *parent;

	if (b->nodes >= YTREE_MAX_NODES) {
		mark_error(b->err, &ev->start_mark, "too many nodes (more than "
		    "100000)");
		return NULL;
	}
	if ((n = calloc(1, sizeof(*n))) == NULL)
		goto oom;
	n->kind = kind;
	n->line = (unsigned)ev->start_mark.line + 1;
	n->col = (unsigned)ev->start_mark.column + 1;
	if (b->depth == 0) {
		b->root = n;
	} else {
		parent = b->stack[b->depth - 1];
		if (parent->nkids == parent->cap) {
			size_t cap = parent->cap ? parent->cap * 2 : 8;
			struct ynode **v = realloc(parent->kids,
			    cap * sizeof(*v));

			if (v == NULL) {
				free(n);
				goto oom;
			}
			parent->kids = v;
			parent->cap = cap;
		}
		parent->kids[parent->nkids++] = n;
	}
	b->nodes++;
	return n;
oom:
	set_error(b->err, 0, 0, "out of memory");
	return NULL;
}

static int
on_scalar(struct builder *b, const yaml_event_t *ev)
{
	struct ynode *n;
	size_t len = ev->data.scalar.length;

	if (ev->data.scalar.anchor != NULL)
		return mark_error(b->err, &ev->start_mark,
		    "anchors and aliases are not supported");
	if ((n = add_node(b, YNODE_SCALAR, ev)) == NULL)
		return -1;
	if ((n->text = malloc(len + 1)) == NULL)
		return set_error(b->err, 0, 0, "out of memory");
	memcpy(n->text, ev->data.scalar.value, len);
	n->text[len] = '\0';
	n->len = len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	return 0;
}

static int
on_open(struct builder *b, const yaml_event_t *ev, enum ynode_kind kind,
    const yaml_char_t *anchor)
{
	struct ynode *n;

	if (anchor != NULL)
		return mark_error(b->err, &ev->start_mark,
		    "anchors and aliases are not supported");
	if (b->depth >= YTREE_MAX_DEPTH)
		return mark_error(b->err, &ev->start_mark,
		    "nesting deeper than 32 levels");
	if ((n = add_node(b, kind, ev)) == NULL)
		return -1;
	b->stack[b->depth++] = n;
	return 0;
}

static int
on_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->docs++ > 0)
			return mark_error(b->err, &ev->start_mark,
			    "only one YAML document is allowed");
		return 0;
	case YAML_ALIAS_EVENT:
		return mark_error(b->err, &ev->start_mark,
		    "anchors and aliases are not supported");
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_open(b, ev, YNODE_SEQ,
		    ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return on_open(b, ev, YNODE_MAP,
		    ev->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth > 0)
			b->depth--;
		return 0;
	default:
		return 0;
	}
}

/* libyaml's own message. Reader errors (bad UTF-8, control characters)
 * carry only a byte offset: turn it into line:col ourselves. */
static void
parser_error(const yaml_parser_t *p, const char *text, size_t len,
    struct ytree_error *err)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";
	unsigned line = 1, col = 1;
	size_t i;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		set_error(err, 0, 0, "out of memory");
		break;
	case YAML_READER_ERROR:
		for (i = 0; i < p->problem_offset && i < len; i++) {
			if (text[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		set_error(err, line, col, "%s", problem);
		break;
	default:
		mark_error(err, &p->problem_mark, problem);
		break;
	}
}

int
ytree_parse(const char *text, size_t len, struct ynode **root,
    struct ytree_error *err)
{
	struct builder b = { .err = err };
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = 0, done = 0;

	*root = NULL;
	if (!yaml_parser_initialize(&p))
		return set_error(err, 0, 0, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			parser_error(&p, text, len, err);
			rc = -1;
			break;
		}
		rc = on_event(&b, &ev);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (rc < 0) {
		ytree_free(b.root);
		return -1;
	}
	*root = b.root;
	return 0;
}

static int
cmp_keys(const void *a, const void *b)
{
	const struct ynode *x = *(const struct ynode *const *)a;
	const struct ynode *y = *(const struct ynode *const *)b;
	int c = strcmp(x->text, y->text);

	if (c != 0)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

ssize_t
ytree_dup_keys(const struct ynode *map, const struct ynode **dups)
{
	const struct ynode **keys;
	size_t i, n = 0, ndups = 0;

	if (map->kind != YNODE_MAP || map->nkids < 4)
		return 0;
	if ((keys = calloc(map->nkids / 2, sizeof(*keys))) == NULL)
		return -1;
	for (i = 0; i + 1 < map->nkids; i += 2)
		if (map->kids[i]->kind == YNODE_SCALAR)
			keys[n++] = map->kids[i];
	/* Sorted by text, then place: a repeat follows its first use. */
	qsort(keys, n, sizeof(*keys), cmp_keys);
	for (i = 1; i < n; i++)
		if (strcmp(keys[i - 1]->text, keys[i]->text) == 0)
			dups[ndups++] = keys[i];
	free(keys);
	return (ssize_t)ndups;
}
