/* reply.h — responses fnlauncher writes itself: the JSON errors of
 * SPEC.md section 7, plain answers (health), and the reason phrases. */
#ifndef FN_REPLY_H
#define FN_REPLY_H

#include <stddef.h>
#include <fcgiapp.h>

/* The reason phrase of STATUS ("Not Found"), or "Unknown". */
const char *reply_reason(int status);

/* A complete error response: Status, Content-Type: application/json,
 * X-Request-Id, EXTRA (already "Name: value\r\n" lines, may be NULL),
 * and {"error":CODE,"message":MESSAGE,"function":FUNCTION,"request_id":ID}.
 * Returns the number of body bytes written. */
size_t reply_error(FCGX_Request *req, int status, const char *code,
    const char *message, const char *function, const char *request_id,
    const char *extra);

/* A complete response with BODY (LEN bytes) of type CTYPE, and EXTRA
 * header lines as reply_error's (may be NULL). */
size_t reply_body(FCGX_Request *req, int status, const char *ctype,
    const char *body, size_t len, const char *request_id, const char *extra);

#endif
