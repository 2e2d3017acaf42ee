#!/bin/sh
# echo.sh — send the request body back, as it arrives.
#
#   curl -X POST --data-binary @file http://127.0.0.1:8080/fn/echo
#
# stdin is exactly the request body, then EOF. fnlauncher feeds stdin and
# reads stdout at the same time, so echoing a body of any allowed size
# (max_body) never deadlocks, and the bytes flow back as cat writes them.

# Answer with the request's own type (unset when there is no body).
printf 'Content-Type: %s\n\n' "${CONTENT_TYPE:-application/octet-stream}"

# Replace the shell with cat: one process less, and cat's exit status
# is the function's.
exec cat
