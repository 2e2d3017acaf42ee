/* events.h — the events binary's parts (events.c: auth, schedules). */
#ifndef T_EVENTS_H
#define T_EVENTS_H

#include <check.h>

/* events_async.c: the "async" TCase. */
void events_async_tcases(Suite *s);

#endif
