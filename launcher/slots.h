/* slots.h — in-flight counters per function name (concurrency), kept
 * across reloads and for drop-ins that come and go. */
#ifndef FN_SLOTS_H
#define FN_SLOTS_H

struct slots;

struct slots *slots_new(void);
void slots_free(struct slots *s);

/* Take one slot of NAME if fewer than LIMIT are taken: 0, else -1. */
int slots_take(struct slots *s, const char *name, unsigned limit);

/* Give back a slot taken with slots_take. */
void slots_give(struct slots *s, const char *name);

/* Slots of NAME in use now. */
unsigned slots_used(struct slots *s, const char *name);

#endif
