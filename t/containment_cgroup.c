/* containment_cgroup.c — the cgroup v2 leaf of each invocation: the
 * function runs in a leaf of its own, which is gone after the request;
 * where the controllers are on, the leaf carries the function's limits
 * (memory.max, memory.swap.max 0, memory.oom.group 1, pids.max,
 * cpu.max) and the record its memory peak; where they are not (cgroup
 * v1 holds them on this project's machine), those tests say SKIP with
 * the reason. The functions are shell scripts dropped into the
 * functions folder: they run with the built-in defaults. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "containment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Prints its cgroup v2 folder (mount point + path), then for each
 * controller file "name=value", or "name=-" when the leaf has none. */
static const char CGINFO[] = "#!/bin/sh\n"
    "printf 'Content-Type: text/plain\\n\\n'\n"
    "m=$(grep ' - cgroup2 ' /proc/self/mountinfo | head -n 1 | cut -d' ' -f5)\n"
    "p=$(sed -n 's/^0:://p' /proc/self/cgroup)\n"
    "echo \"leaf=$m$p\"\n"
    "for f in memory.max memory.swap.max memory.oom.group pids.max "
    "cpu.max; do\n"
    "  if [ -r \"$m$p/$f\" ]; then echo \"$f=$(cat \"$m$p/$f\")\"; "
    "else echo \"$f=-\"; fi\n"
    "done\n";

/* The value of "NAME=" in BODY's lines, into BUF; NULL if absent. */
static const char *
value_of(const char *body, const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);

	for (const char *p = body; p != NULL && *p != '\0';
	    p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			snprintf(buf, len, "%.*s", (int)strcspn(p + n + 1, "\n"),
			    p + n + 1);
			return buf;
		}
	return NULL;
}

static void
cginfo(struct hresp *r, char *leaf, size_t len)
{
	ck_assert(harness_write(ct_h, "drop/cginfo", CGINFO, 0755) == 0);
	ct_req(r, "cginfo", NULL);
	ck_assert_msg(r->status == 200 && value_of(r->body, "leaf", leaf, len),
	    "cginfo: %d %s\n%s", r->status, r->body, ct_log_tail());
}

/* The function runs in a leaf of its own ("i-REQUESTID.N"), removed
 * once its request is over. */
START_TEST(cgroup_leaf_per_invocation)
{
	char leaf[512], rid[64], again[512];
	struct hresp r, r2;
	struct stat st;

	if (access("/proc/self/cgroup", R_OK) != 0)
		ct_skip("no /proc/self/cgroup");
	cginfo(&r, leaf, sizeof(leaf));
	ck_assert_msg(hresp_header(&r, "X-Request-Id", rid, sizeof(rid)) &&
	    strstr(leaf, "/i-") != NULL && strstr(leaf, rid) != NULL,
	    "the function's cgroup is %s (request %s): not a leaf of its own",
	    leaf, rid);
	for (int i = 0; i < 50 && stat(leaf, &st) == 0; i++)
		harness_sleep_ms(20);
	ck_assert_msg(stat(leaf, &st) != 0, "the leaf %s is still there", leaf);
	cginfo(&r2, again, sizeof(again));
	ck_assert_msg(strcmp(leaf, again) != 0, "two requests, one leaf: %s",
	    leaf);
	hresp_free(&r);
	hresp_free(&r2);
}
END_TEST

/* Where the memory controller is on: memory.max is limits.memory
 * (512M), no swap, and an OOM kill takes the whole invocation. */
START_TEST(cgroup_memory_limits)
{
	char leaf[512], v[64];
	struct hresp r;

	cginfo(&r, leaf, sizeof(leaf));
	if (strcmp(value_of(r.body, "memory.max", v, sizeof(v)), "-") == 0) {
		hresp_free(&r);
		ct_skip("no memory controller in the daemon's cgroup subtree "
		    "(here cgroup v1 holds the controllers): memory is RLIMIT_DATA "
		    "only");
	}
	ck_assert_str_eq(value_of(r.body, "memory.max", v, sizeof(v)),
	    "536870912");
	ck_assert_str_eq(value_of(r.body, "memory.swap.max", v, sizeof(v)),
	    "0");
	ck_assert_str_eq(value_of(r.body, "memory.oom.group", v, sizeof(v)),
	    "1");
	hresp_free(&r);
}
END_TEST

/* Where the pids controller is on: pids.max is limits.nproc (64), for
 * this invocation alone. */
START_TEST(cgroup_pids_limit)
{
	char leaf[512], v[64];
	struct hresp r;

	cginfo(&r, leaf, sizeof(leaf));
	if (strcmp(value_of(r.body, "pids.max", v, sizeof(v)), "-") == 0) {
		hresp_free(&r);
		ct_skip("no pids controller in the daemon's cgroup subtree: "
		    "nproc is RLIMIT_NPROC (per uid) only");
	}
	ck_assert_str_eq(value_of(r.body, "pids.max", v, sizeof(v)), "64");
	hresp_free(&r);
}
END_TEST

/* Where the cpu controller is on: no cpu_quota is cpu.max "max"
 * (the default is unlimited). */
START_TEST(cgroup_cpu_unlimited_by_default)
{
	char leaf[512], v[64];
	struct hresp r;

	cginfo(&r, leaf, sizeof(leaf));
	if (strcmp(value_of(r.body, "cpu.max", v, sizeof(v)), "-") == 0) {
		hresp_free(&r);
		ct_skip("no cpu controller in the daemon's cgroup subtree: "
		    "cpu_quota does nothing");
	}
	ck_assert_msg(strncmp(value_of(r.body, "cpu.max", v, sizeof(v)), "max",
	    3) == 0, "cpu.max %s", v);
	hresp_free(&r);
}
END_TEST

void ct_add_cgroup(TCase *tc)
{
	tcase_add_test(tc, cgroup_leaf_per_invocation);
	tcase_add_test(tc, cgroup_memory_limits);
	tcase_add_test(tc, cgroup_pids_limit);
	tcase_add_test(tc, cgroup_cpu_unlimited_by_default);
}
