#!/usr/bin/env python3
"""api.py — a small JSON API as an fnlauncher function (stdlib only).

  GET  /fn/api[/anything]          -> {"time", "function", "request_id", "path_info"}
  POST /fn/api  {"a": 1, "b": 2}   -> {"sum": 3}
  bad JSON                         -> 400 with a JSON error
  any other method                 -> 405 with Allow

CGI style (RFC 3875): print header lines, a blank line, then the body.
"Status:" sets the HTTP status; without it the status is 200.
The request body is stdin; anything written to stderr goes to
fnlauncher's log, tagged with the function name and request id.
"""
import json
import math
import os
import sys
import time

ALLOW = "GET, HEAD, POST"


def respond(status, obj, headers=()):
    """Write one complete CGI response with a JSON body."""
    body = (json.dumps(obj) + "\n").encode()
    head = "Status: %s\r\nContent-Type: application/json\r\n" % status
    for name, value in headers:
        head += "%s: %s\r\n" % (name, value)
    out = sys.stdout.buffer
    out.write(head.encode() + b"\r\n")
    if os.environ.get("REQUEST_METHOD") != "HEAD":
        out.write(body)
    out.flush()


def error(status, code, message, headers=()):
    print("%s: %s" % (code, message), file=sys.stderr)
    respond(status, {"error": code, "message": message}, headers)


def reject_constant(name):
    # json.loads accepts NaN and Infinity; JSON does not.
    raise ValueError("%s is not valid JSON" % name)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def get():
    respond("200 OK", {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "function": os.environ.get("FN_NAME", ""),
        "request_id": os.environ.get("FN_REQUEST_ID", ""),
        "path_info": os.environ.get("PATH_INFO", ""),
    })


def post():
    # stdin holds exactly the body (at most max_body bytes), then EOF.
    raw = sys.stdin.buffer.read()
    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        error("400 Bad Request", "bad_json", "body is not valid JSON: %s" % e)
        return
    if not isinstance(doc, dict) or not is_number(doc.get("a")) \
            or not is_number(doc.get("b")):
        error("400 Bad Request", "bad_request",
              'expected an object with numbers "a" and "b"')
        return
    total = doc["a"] + doc["b"]
    if isinstance(total, float) and not math.isfinite(total):
        error("400 Bad Request", "bad_request", "the sum is out of range")
        return
    respond("200 OK", {"sum": total})


def main():
    method = os.environ.get("REQUEST_METHOD", "GET")
    if method in ("GET", "HEAD"):
        get()
    elif method == "POST":
        post()
    else:
        error("405 Method Not Allowed", "method_not_allowed",
              "%s is not supported; use %s" % (method, ALLOW),
              [("Allow", ALLOW)])


if __name__ == "__main__":
    main()
