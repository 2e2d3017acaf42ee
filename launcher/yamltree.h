/* yamltree.h — a YAML document as a small tree of scalars, sequences and
 * mappings, built from libyaml's event API with hard limits (depth, node
 * count) and no anchors or aliases. Pure: bytes in, tree or error out. */
#ifndef FN_YAMLTREE_H
#define FN_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define YTREE_MAX_DEPTH 32      /* nested sequences and mappings */
#define YTREE_MAX_NODES 100000  /* scalars, sequences and mappings */

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ynode {
	enum ynode_kind kind;
	unsigned line;          /* 1-based, from the event's start mark */
	unsigned col;           /* 1-based */
	bool plain;             /* scalar written without quotes */
	char *text;             /* scalar: NUL-terminated copy */
	size_t len;             /* scalar: length (text may hold NULs) */
	struct ynode **kids;    /* seq: items; map: key, value, key, value... */
	size_t nkids;
	size_t cap;
};

struct ytree_error {
	unsigned line;          /* 0 when the error has no place */
	unsigned col;
	char msg[128];
};

/* Parse LEN bytes of TEXT (one document at most). Returns 0 and sets
 * *ROOT (NULL for a stream without a document), or -1 and fills *ERR.
 * The caller frees the tree with ytree_free(). */
int ytree_parse(const char *text, size_t len, struct ynode **root,
    struct ytree_error *err);

void ytree_free(struct ynode *n);

/* The scalar keys of mapping MAP that repeat an earlier key (YAML wants
 * them unique), into DUPS (room for MAP->nkids / 2). Returns how many,
 * or -1 for lack of memory. O(n log n): maps may have many keys. */
ssize_t ytree_dup_keys(const struct ynode *map, const struct ynode **dups);

/* true for a plain scalar that YAML reads as null: "", "~", "null". */
bool ynode_is_null(const struct ynode *n);

#endif
