#!/usr/bin/env python3
"""hook.py — an example webhook receiver for GitHub, Stripe and Slack.

fnlauncher has already checked the signature (auth: in the manifest)
before this runs: a request that reaches it is genuine and fresh. The
secret is not in the environment; this script never sees it.

    functions:
      github: { path: webhooks/hook.py, async: true,
                auth: { hmac: { scheme: github, secret_file: /etc/fnlauncher/secrets/github } } }
      stripe: { path: webhooks/hook.py,
                auth: { hmac: { scheme: stripe, secret_file: /etc/fnlauncher/secrets/stripe } } }
      slack:  { path: webhooks/hook.py,
                auth: { hmac: { scheme: slack, secret_file: /etc/fnlauncher/secrets/slack } } }

With async: true the sender gets 202 at once and this runs from the
spool, retried on failure (FN_JOB_ID and FN_JOB_ATTEMPT tell which);
make the work idempotent, keyed on the delivery id below.
"""
import json
import os
import sys
import urllib.parse

body = sys.stdin.buffer.read()
env = os.environ
ctype = env.get("CONTENT_TYPE", "")

if "HTTP_X_GITHUB_EVENT" in env:            # GitHub
    event = env["HTTP_X_GITHUB_EVENT"]
    delivery = env.get("HTTP_X_GITHUB_DELIVERY", "")
    repo = json.loads(body or b"{}").get("repository", {}).get("full_name")
    what = f"github {event} for {repo}"
elif "HTTP_STRIPE_SIGNATURE" in env:        # Stripe
    ev = json.loads(body or b"{}")
    delivery = ev.get("id", "")
    what = f"stripe {ev.get('type')}"
elif "HTTP_X_SLACK_SIGNATURE" in env:       # Slack (slash command: a form)
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    delivery = form.get("trigger_id", [""])[0]
    what = f"slack {form.get('command', ['?'])[0]} from {form.get('user_name', ['?'])[0]}"
else:
    delivery, what = "", f"{len(body)} bytes of {ctype or 'unknown type'}"

# stderr goes to fnlauncher's log, with the function's name and request id
print(f"webhook: {what} (delivery {delivery or '-'}, job "
      f"{env.get('FN_JOB_ID', '-')}, attempt {env.get('FN_JOB_ATTEMPT', '-')})",
      file=sys.stderr)

sys.stdout.write("Content-Type: application/json\n\n")
sys.stdout.write(json.dumps({"ok": True, "received": what}) + "\n")
