/* spool.h — the async spool's files (the layout is in async.h): the
 * folders made, checked and locked; a job written durably; results
 * written whole; jobs read back, finished, buried in the dead letters;
 * old results swept. The state of jobs in memory is async.c's. */
#ifndef FN_SPOOL_H
#define FN_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <fcgiapp.h>

#include "manifest.h"
#include "preflight.h"

#define SPOOL_ID_LEN 32         /* hex digits of 128 random bits */
#define SPOOL_MAGIC "fnljob1 "  /* the first line of its files */

/* DIR made (parents 0755, itself 0700), the daemon's own, locked
 * against a second daemon, its folders made, tmp/ emptied. 0, or -1
 * (logged). */
int spool_open(const char *dir);
const char *spool_dir(void);

bool spool_valid_id(const char *id);
void spool_new_id(char id[SPOOL_ID_LEN + 1]);

/* A new job of function KEY: PARAMS ("NAME=value") and the body from
 * BODY_FD (at offset 0) when not -1, else from IN, at most MAX_BODY
 * bytes (*BYTES: how many), written to tmp/ID, fsync'd, renamed into
 * new/ and new/ fsync'd. 0, or -1 with errno (EFBIG: over MAX_BODY; EIO:
 * the body was cut short; a file system's error). */
int spool_write_job(const char *key, char *const *params, FCGX_Stream *in,
    int body_fd, uint64_t max_body, char id[SPOOL_ID_LEN + 1],
    uint64_t *bytes);

/* Job ID's file, open, and (*RECORDS) where its records after
 * BEGIN_REQUEST start. An fd, or -1. */
int spool_open_job(const char *id, off_t *records);

/* results/ID written whole (DATA, LEN bytes: its first line
 * SPOOL_MAGIC "STATE ATTEMPTS DUE_MS KEY", then the JSON), fsync'd, and
 * with DURABLE the folder too. 0 or -1 with errno. */
int spool_put_result(const char *id, const char *data, size_t len,
    bool durable);

/* The first line of results/ID. */
bool spool_result_meta(const char *id, char *state, size_t ssize,
    unsigned *attempts, int64_t *due, char *key, size_t ksize);

/* The JSON of results/ID (malloc'd, *LEN bytes), or NULL. */
char *spool_read_result(const char *id, size_t *len);

void spool_done(const char *id);        /* new/ID removed */
int spool_bury(const char *id);         /* new/ID into dead/ */
bool spool_is_dead(const char *id);

/* FN(ID, KEY, ACCEPTED_MS, ARG) for each job in new/. */
typedef void (*spool_job_fn)(const char *id, const char *key,
    int64_t accepted_ms, void *arg);
void spool_each_job(spool_job_fn fn, void *arg);

/* Results older than KEEP_MS removed, but not ACTIVE ones. */
void spool_sweep(uint64_t keep_ms, bool (*active)(const char *id));

/* For -t: DIR and what it holds (without opening it as a daemon); the
 * number of errors reported (a folder it cannot be). */
size_t spool_describe(const char *dir, preflight_report report, void *arg);

#endif
