/* harness_check.c — what the system-test binaries share on the Check
 * side (see harness_check.h): TCases and their fixtures, requests that
 * must complete, what must hold after every test, and the shape of the
 * daemon's own error answers (SPEC section 7). */
#include "harness_check.h"

#include <stdio.h>
#include <string.h>

TCase *harness_tcase(const char *name, double timeout, void (*up)(void),
    void (*down)(void), void (*each_up)(void), void (*each_down)(void))
{
	TCase *tc = tcase_create(name);

	if (up != NULL || down != NULL)
		tcase_add_unchecked_fixture(tc, up, down);
	if (each_up != NULL || each_down != NULL)
		tcase_add_checked_fixture(tc, each_up, each_down);
	tcase_set_timeout(tc, timeout);
	return tc;
}

void harness_abort(struct harness **hp, const char *what)
{
	harness_free(*hp);
	*hp = NULL;
	ck_abort_msg("%s (see stderr)", what);
}

void harness_req(const struct harness *h, struct hresp *r,
    const char *path, const char *const *args)
{
	ck_assert_msg(harness_curl(h, r, path, args) == 0, "curl did not run");
	ck_assert_msg(r->curl_rc == 0, "curl %s exited %d", path, r->curl_rc);
}

void harness_assert_clean(const struct harness *h)
{
	static const char *const asan[] = { "ERROR: AddressSanitizer", NULL };
	static const char *const ubsan[] = { "runtime error:", NULL };
	char desc[2048];
	int n;

	if (h == NULL)
		return;
	n = harness_leftovers(h, 3000, desc, sizeof(desc));
	ck_assert_msg(n == 0, "%d process(es) left behind: %s", n, desc);
	ck_assert_msg(!harness_log_has(h, asan) && !harness_log_has(h, ubsan),
	    "sanitizer report in the daemon log:\n%s", harness_log_tail(h));
}

void harness_assert_error(const struct harness *h, const struct hresp *r,
    int status, const char *code, const char *what)
{
	char ct[128], rid[128], jv[256];

	if (what == NULL)
		what = "the response";
	ck_assert_msg(r->status == status, "%s: status %d, want %d; headers:"
	    "\n%s\nbody:\n%.500s\nlog tail:\n%s", what, r->status, status,
	    r->headers, r->body, harness_log_tail(h));
	if (hresp_header(r, "Content-Type", ct, sizeof(ct)) == NULL)
		snprintf(ct, sizeof(ct), "(none)");
	ck_assert_msg(strncmp(ct, "application/json", 16) == 0,
	    "%s: Content-Type %s, want application/json", what, ct);
	ck_assert_msg(harness_json_str(r->body, "error", jv, sizeof(jv)) !=
	    NULL, "%s: no \"error\" in body: %s", what, r->body);
	if (code != NULL)
		ck_assert_msg(strcmp(jv, code) == 0, "%s: error %s, want %s "
		    "(body %s)", what, jv, code, r->body);
	ck_assert_msg(hresp_header(r, "X-Request-Id", rid, sizeof(rid)) &&
	    rid[0] != '\0', "%s: no X-Request-Id", what);
	ck_assert_msg(harness_json_str(r->body, "request_id", jv,
	    sizeof(jv)) != NULL, "%s: no \"request_id\" in body: %s", what,
	    r->body);
	ck_assert_msg(strcmp(jv, rid) == 0, "%s: request_id %s in the body, "
	    "X-Request-Id %s", what, jv, rid);
}
