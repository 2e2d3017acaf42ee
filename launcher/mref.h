/* mref.h — the manifest in use. A reload swaps it; every request holds
 * a reference to the one it started with until it is answered, so
 * requests in flight keep their configuration (SPEC.md section 9). */
#ifndef FN_MREF_H
#define FN_MREF_H

#include <stdatomic.h>

#include "manifest.h"

struct mref {
	struct manifest *m;
	atomic_int refs;
};

/* Make M (owned from now on) the manifest in use; the one before, if
 * any, goes once its last request lets it go. 0, or -1 on ENOMEM (M is
 * freed then). */
int mref_set(struct manifest *m);

/* A reference to the manifest in use; never NULL after mref_set. */
struct mref *mref_get(void);

/* Let a reference go. mref_put(NULL) is a no-op. */
void mref_put(struct mref *r);

#endif
