/* tz.h — time zones for schedule_tz: the zone's TZif file
 * (/usr/share/zoneinfo/NAME, RFC 8536) read into its transitions, and
 * the UTC offset in effect at a time. The daemon is threaded, so it
 * never switches the process' TZ to ask localtime(3).
 *
 * After the file's last transition the offset of the footer's POSIX TZ
 * rule applies (std and dst with M.w.d rules), so a schedule stays
 * right past 2037 in a zone that still changes its clocks. */
#ifndef FN_TZ_H
#define FN_TZ_H

#include <stddef.h>
#include <time.h>

struct tz;

/* Zone NAME ("Europe/Paris", "UTC"), or NULL with the problem in WHY. */
struct tz *tz_load(const char *name, char *why, size_t size);
void tz_free(struct tz *z);

/* 0 when NAME is a zone tz_load can read, else -1 with WHY. */
int tz_check(const char *name, char *why, size_t size);

/* Seconds east of UTC in effect at T. */
long tz_offset(const struct tz *z, time_t t);

#endif
