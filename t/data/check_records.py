# check_records.py — used by t/ops.c: validate invocation records (SPEC.md
# section 8), one JSON object per line on stdin, strictly: no NaN or
# Infinity, no duplicate keys, every field with its type. Prints one
# tab-separated line per record for the C side to compare values:
#   request_id function status outcome exit_code signal max_rss_kb
#   cpu_user_ms duration_ms bytes_in bytes_out
# (null printed as "null"). On the first bad record: "BAD line N: why"
# and exit 1.
import json
import re
import sys

OUTCOMES = {"ok", "error", "timeout", "crashed", "refused", "rejected",
            "client_abort", "exec_failed"}
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$")


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return (is_int(v) or isinstance(v, float)) and v >= 0


def no_dupes(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def bad_constant(name):
    raise ValueError("non-JSON constant " + name)


# field -> (check, description)
FIELDS = {
    "ts": (lambda v: isinstance(v, str) and TS.match(v), "RFC 3339 string"),
    "request_id": (lambda v: isinstance(v, str) and v != "", "string"),
    "function": (lambda v: v is None or isinstance(v, str), "string|null"),
    "method": (lambda v: isinstance(v, str), "string"),
    "uri": (lambda v: isinstance(v, str), "string"),
    "status": (lambda v: is_int(v) and 100 <= v <= 599, "int 100-599"),
    "outcome": (lambda v: v in OUTCOMES, "one of " + ",".join(sorted(OUTCOMES))),
    "exit_code": (lambda v: v is None or (is_int(v) and 0 <= v <= 255),
                  "int|null"),
    "signal": (lambda v: v is None or (is_int(v) and 1 <= v <= 64),
               "int|null"),
    "duration_ms": (is_num, "number"),
    "cpu_user_ms": (is_num, "number"),
    "cpu_sys_ms": (is_num, "number"),
    "max_rss_kb": (lambda v: is_int(v) and v >= 0, "int"),
    "bytes_in": (lambda v: is_int(v) and v >= 0, "int"),
    "bytes_out": (lambda v: is_int(v) and v >= 0, "int"),
    "remote_addr": (lambda v: isinstance(v, str) and v != "", "string"),
}


def show(v):
    return "null" if v is None else str(v)


def main():
    n = 0
    for n, line in enumerate(sys.stdin.buffer.read().split(b"\n"), 1):
        if line == b"":
            continue
        try:
            rec = json.loads(line.decode("utf-8"),
                             object_pairs_hook=no_dupes,
                             parse_constant=bad_constant)
        except ValueError as e:
            print("BAD line %d: not JSON (%s): %r" % (n, e, line[:200]))
            return 1
        if not isinstance(rec, dict):
            print("BAD line %d: not an object" % n)
            return 1
        for key, (ok, what) in FIELDS.items():
            if key not in rec:
                print("BAD line %d: no %s: %r" % (n, key, line[:300]))
                return 1
            if not ok(rec[key]):
                print("BAD line %d: %s=%r is not %s" % (n, key, rec[key], what))
                return 1
        print("\t".join(show(rec[k]) for k in (
            "request_id", "function", "status", "outcome", "exit_code",
            "signal", "max_rss_kb", "cpu_user_ms", "duration_ms",
            "bytes_in", "bytes_out")))
    return 0


sys.exit(main())
