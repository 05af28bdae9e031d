#!/usr/bin/env bash
# Tests of deploy/hooks.json with the real `webhook` tool (Debian package `webhook`): a copy of
# the hook whose command is a stub is served on a free local port, and signed requests show
# which ones trigger a deploy. Needs webhook, curl and openssl.
#
# Usage: deploy/tests/hooks_test.sh   (prints one line per case, then "N passed, M failed")
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HOOKS="$HERE/../hooks.json"
WEBHOOK_BIN="${WEBHOOK_BIN:-$(command -v webhook || true)}"
for tool in "$WEBHOOK_BIN" curl openssl; do
  if [[ -z "$tool" ]] || ! command -v "$tool" >/dev/null; then
    echo "hooks_test: needs webhook, curl and openssl (apt-get install webhook curl openssl)" >&2
    exit 1
  fi
done

TMP="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

RAN="$TMP/ran.log"
printf '#!/bin/sh\necho ran >>"%s"\n' "$RAN" >"$TMP/stub.sh"
chmod +x "$TMP/stub.sh"
sed -e "s#\"/opt/skim/deploy/webhook.sh\"#\"$TMP/stub.sh\"#" -e "s#\"/opt/skim\"#\"$TMP\"#" "$HOOKS" >"$TMP/hooks.json"
grep -q "$TMP/stub.sh" "$TMP/hooks.json" || { echo "hooks_test: execute-command is not /opt/skim/deploy/webhook.sh" >&2; exit 1; }

PASSED=0
FAILED=0

# start_server SECRET: serve the hooks with SKIM_WEBHOOK_SECRET=SECRET on a free port.
start_server() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  local attempt
  for attempt in 1 2 3 4 5; do
    PORT=$((20000 + RANDOM % 20000))
    SKIM_WEBHOOK_SECRET="$1" "$WEBHOOK_BIN" -template -hooks "$TMP/hooks.json" -ip 127.0.0.1 \
      -port "$PORT" -verbose >"$TMP/server.log" 2>&1 &
    SERVER_PID=$!
    local i
    for ((i = 0; i < 50; i++)); do
      if grep -q "serving hooks" "$TMP/server.log" 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        if grep -q "couldn't load hooks" "$TMP/server.log"; then
          echo "hooks_test: webhook could not load hooks.json:" >&2
          cat "$TMP/server.log" >&2
          exit 1
        fi
        return 0
      fi
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill "$SERVER_PID" 2>/dev/null || true
    echo "hooks_test: webhook did not start on port $PORT (attempt $attempt)" >&2
  done
  exit 1
}

# send SECRET REF: a GitHub-style push event for REF signed with SECRET; sets STATUS and RUNS.
send() {
  local body sig
  body="{\"ref\":\"$2\",\"after\":\"0123456789abcdef0123456789abcdef01234567\"}"
  sig="$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$1" | sed 's/^.* //')"
  : >"$RAN"
  STATUS="$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'X-GitHub-Event: push' -H "X-Hub-Signature-256: sha256=$sig" -d "$body" \
    "http://127.0.0.1:$PORT/hooks/deploy")"
  sleep 0.3 # the command runs after the response
  RUNS="$(wc -l <"$RAN")"
}

expect() { # expect DESCRIPTION WANT_RUNS
  if [[ "$RUNS" == "$2" ]]; then
    PASSED=$((PASSED + 1))
    echo "ok   - $1 (HTTP $STATUS)"
  else
    FAILED=$((FAILED + 1))
    echo "FAIL - $1: deploy ran $RUNS times, expected $2 (HTTP $STATUS)"
    sed 's/^/      /' "$TMP/server.log"
  fi
}

SECRET="test-secret-$RANDOM$RANDOM"
start_server "$SECRET"
send "$SECRET" refs/heads/main
expect "a signed push to main deploys" 1
send "not-the-secret" refs/heads/main
expect "a push signed with the wrong secret does not deploy" 0
send "$SECRET" refs/heads/feature
expect "a signed push to another branch does not deploy" 0
body_unsigned() {
  : >"$RAN"
  STATUS="$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"ref":"refs/heads/main"}' "http://127.0.0.1:$PORT/hooks/deploy")"
  sleep 0.3
  RUNS="$(wc -l <"$RAN")"
}
body_unsigned
expect "an unsigned push does not deploy" 0

# Forgetting the secret must not leave the hook open: webhook refuses an empty HMAC secret.
start_server ""
send "" refs/heads/main
expect "with SKIM_WEBHOOK_SECRET unset nothing deploys" 0

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
