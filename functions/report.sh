#!/bin/sh
# report.sh — slow work, run as an async job: "async: true" in the
# manifest, so a POST is answered 202 at once and this runs afterwards.
#
#   curl -si -X POST --data-binary 'the data' http://127.0.0.1:8080/fn/report
#   curl -s http://127.0.0.1:8080/fn/_/jobs/ID      # the Location above
#
# Delivery is at least once (a job running when the daemon died runs
# again): make the work idempotent, keyed on FN_JOB_ID.

sleep 2                 # the slow part
bytes=$(wc -c)          # stdin is the request body, as it was spooled
printf 'Content-Type: text/plain\n\n'
printf 'report of %s bytes: job %s, attempt %s, trigger %s\n' "$bytes" \
    "${FN_JOB_ID:-none}" "${FN_JOB_ATTEMPT:-1}" "${FN_TRIGGER:-http}"
