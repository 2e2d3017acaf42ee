/* once.h — say a thing once per key (a function's name, a cause), so
 * that what a busy function does wrong on every request is logged once,
 * not once a request. */
#ifndef FN_ONCE_H
#define FN_ONCE_H

#include <stdbool.h>

/* true the first time KIND and NAME are seen together, false after
 * (and once ONCE_MAX pairs have been seen, false for new ones too: the
 * set is bounded whatever requests name). */
bool once(const char *kind, const char *name);

#define ONCE_MAX 4096

#endif
