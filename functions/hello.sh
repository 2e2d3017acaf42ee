#!/bin/sh
# hello.sh — the smallest fnlauncher function: a CGI-style shell script.
#
#   GET /fn/hello?name=you   ->   Hello, you!
#
# A CGI response is header lines, one blank line, then the body
# (RFC 3875 section 6). fnlauncher sets QUERY_STRING on every request
# (maybe empty); everything else about the request is in the environment.

# Take the first "name=" parameter. Never eval request data: split it
# with tr/sed, turn '+' and %20 into spaces, then keep only a safe set of
# characters (LC_ALL=C so the ranges mean ASCII) and at most 64 of them.
name=$(printf '%s\n' "${QUERY_STRING:-}" | tr '&' '\n' |
	sed -n 's/^name=//p' | head -n 1 |
	sed 's/+/ /g; s/%20/ /g' | LC_ALL=C tr -cd 'A-Za-z0-9 _-' | cut -c 1-64)
[ -n "$name" ] || name=world

printf 'Content-Type: text/plain\n'
printf '\n'
printf 'Hello, %s!\n' "$name"
