/* tenants.h — the tenants of a shared host: one admin-owned file
 * NAME.yaml per tenant in the main manifest's tenants_dir, each parsed
 * on its own (manifest_parse_tenant) into M->tenants.
 *
 * A broken tenant file never affects another tenant or the main
 * manifest: on a reload it keeps the version last loaded from it (its
 * text is kept here and parsed again against the new main manifest), on
 * the first load it is left out; every problem is reported as
 * FILE:LINE:COL: message. */
#ifndef FN_TENANTS_H
#define FN_TENANTS_H

#include <stdbool.h>

#include "manifest.h"

/* REPORT gets each problem (ERROR true) or note, one line each. */
typedef void tenants_report_fn(bool error, const char *line, void *arg);

/* Load the tenant files of M->tenants_dir into M->tenants (sorted by
 * name); only the file of tenant ONLY when ONLY is not NULL. KEEP_LAST:
 * a broken file keeps its last good version (the daemon); else it is
 * left out (fnlauncher -t). Returns the number of broken files, or -1
 * when ONLY names no file or the folder cannot be read. */
int tenants_load(struct manifest *m, const char *only, bool keep_last,
    tenants_report_fn *report, void *arg);

/* The tenant NAME of M, or NULL. */
const struct manifest *tenants_find(const struct manifest *m,
    const char *name);

/* The tenant whose hosts has HOST (a Host header: case and a ":port"
 * are ignored), or NULL. */
const struct manifest *tenants_by_host(const struct manifest *m,
    const char *host);

#endif
