/* request.h — the request stage: from a request read off a FastCGI
 * connection to its answer and its record. Routing (route.h), the
 * admin endpoints, admission (inflight.h), the function's run (pump.h),
 * local redirects (RFC 3875 section 6.2.2), the invocation record and
 * the metrics. */
#ifndef FN_REQUEST_H
#define FN_REQUEST_H

#include <fcgiapp.h>

/* Answer REQ (a request FCGX_Accept_r has read) and record it. Never
 * fails the daemon: every error ends in an answer. Afterwards
 * REQ->keepConnection says whether the connection may carry another. */
void request_handle(FCGX_Request *req);

#endif
