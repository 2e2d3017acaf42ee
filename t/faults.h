/* faults.h — what the fault files share (faults.c has them): the
 * servers of the fixture, the function every fault calls, and how a
 * fault checks what it left behind. One file per kind of fault adds its
 * tests to a TCase the suite sets up: faults_crash.c (dies, hits a
 * limit, prints garbage), faults_teardown.c (what the invocation
 * started goes), faults_io.c (bodies and endless output), faults_load.c
 * (more requests than slots, many in a row). */
#ifndef FN_T_FAULTS_H
#define FN_T_FAULTS_H

#include <stddef.h>
#include <sys/types.h>

#include "harness_check.h"

/* How long what a fault left behind may take to go. */
#define FAULTS_SETTLE_MS 2000
/* Answered, or gone, within: the functions of faults 6, 7 and 16 would
 * run 30 s on their own, so this tells the daemon's doing from theirs
 * without betting on how busy the machine is. */
#define FAULTS_PROMPT_S 10
/* The fork bomb's user (root only): nproc counts every process of a
 * uid, so not nobody, which others may share. */
#define FAULTS_USER "fnltest"

/* The fixture's servers (NULL outside a TCase). */
extern struct harness *faults_h;
/* "X-Fnl-Test: <temp dir>": every request carries it, so every process
 * of this run can be found (and killed) by its environment. */
extern char faults_tag_hdr[160];

/* curl path with the tag header and args (may be NULL); *secs: from the
 * request to the answer. */
void faults_curl(struct hresp *r, const char *path, const char *const *args,
    double *secs);
/* One line "fault NUM NAME: ..." on stdout, for the issue note. */
void faults_report(int num, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The request id of r into rid (asserted present). */
void faults_rid_of(const struct hresp *r, char *rid, size_t len);
/* status, and for an error of SPEC 7 its JSON code (code or alt; code
 * NULL: not checked). */
void faults_assert_answer(const char *what, const struct hresp *r,
    int status, const char *code, const char *alt);
/* The invocation record of rid contains want. */
void faults_assert_record(const char *rid, const char *want);
/* The daemon log's lines that mention rid, for failure messages
 * (static buffer). */
const char *faults_log_about(const char *rid);
/* A file of len bytes in out/; its "@path" for curl into arg. */
void faults_payload(const char *rel, size_t len, char *arg, size_t alen);

/* The daemon's numbers before a fault. */
struct faults_snap {
	int fds;
	long threads, rss_kb, hwm_kb;
};
/* The numbers once the daemon is idle. */
void faults_snap(struct faults_snap *s);
/* 1 for a sanitizer build of the daemon: ASan's quarantine holds freed
 * memory back by design, so its RSS says nothing about leaks
 * (LeakSanitizer does, at exit). */
int faults_sanitized(void);
/* (b) no process with one of env (NULL terminated, may be NULL) or of
 * uid (-1: none) left within FAULTS_SETTLE_MS. */
void faults_assert_gone(const char *what, const char *const *env,
    long uid);
/* (b) to (e) after a fault with request id rid ("" when there were many:
 * then every process of this run is checked), against the numbers b
 * from before it. */
void faults_settle(const char *what, const char *rid,
    const struct faults_snap *b);

/* Each kind of fault adds its tests. */
void faults_add_crash(TCase *tc);
void faults_add_teardown(TCase *tc);
void faults_add_user(TCase *tc);     /* root: a test user */
void faults_add_io(TCase *tc);
void faults_add_load(TCase *tc);

#endif
