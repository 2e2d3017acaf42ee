/* pump.h — one run of a function: spawn, the I/O loop under one
 * deadline, and teardown. */
#ifndef FN_PUMP_H
#define FN_PUMP_H

#include "invocation.h"

/* Run INV->fn for INV->req and answer it (or, for a local redirect,
 * set INV->redirect and answer nothing). Sets the result fields. Never
 * fails the daemon: every error ends in a response (or a cut one). */
void pump_run(struct invocation *inv);

#endif
