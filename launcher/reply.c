/* reply.c — responses produced by fnlauncher itself. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "record.h"
#include "reply.h"

const char *
reply_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 302: return "Found";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 401: return "Unauthorized";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Unknown";
	}
}

size_t
reply_body(FCGX_Request *req, int status, const char *ctype,
    const char *body, size_t len, const char *request_id, const char *extra)
{
	FCGX_FPrintF(req->out,
	    "Status: %d %s\r\nContent-Type: %s\r\nX-Request-Id: %s\r\n%s\r\n",
	    status, reply_reason(status), ctype, request_id, extra ? extra : "");
	FCGX_PutStr(body, (int)len, req->out);
	return len;
}

size_t
reply_error(FCGX_Request *req, int status, const char *code,
    const char *message, const char *function, const char *request_id,
    const char *extra)
{
	char body[1024];
	size_t len = record_error_body(body, sizeof(body), code, message,
	    function, request_id);

	FCGX_FPrintF(req->out,
	    "Status: %d %s\r\nContent-Type: application/json\r\n"
	    "X-Request-Id: %s\r\n%s\r\n",
	    status, reply_reason(status), request_id, extra ? extra : "");
	FCGX_PutStr(body, (int)len, req->out);
	return len;
}
