#!/usr/bin/env bash
# Smoke test of a deployed stack (or the local server).
# Usage: scripts/smoke.sh <base URL>
# Optional: SMOKE_TEST_NUMBER=+12015550100 SMOKE_TEST_CODE=123456 (an entry of the stack's
# TestNumbers) also runs a passwordless login, an authenticated read and a logout.
# Sends no SMS to anyone: without a test number it touches only read-only routes.
set -euo pipefail
base=${1:?usage: scripts/smoke.sh <base URL>}
base=${base%/}
fail() { echo "FAIL: $*" >&2; exit 1; }
check() { # check <name> <expected substring> <curl args...>
  local name=$1 want=$2; shift 2
  local got
  got=$(curl -sS --max-time 15 "$@") || fail "$name: request failed"
  [[ "$got" == *"$want"* ]] || fail "$name: expected $want in: ${got:0:300}"
  echo "ok   $name"
}
check "regionlist" '"code":200' "$base/user/regionlist"
check "jwks" '"kty":"OKP"' "$base/.well-known/jwks.json"
check "unknown route is a JSON 404" '"code":404' "$base/user/no-such-route"
check "bad phone is a 400 naming the field" '"field":"phone"' -H 'content-type: application/json' \
  -d '{"region":86,"phone":"123"}' "$base/user/check_phone_available"
check "no credentials is 403" '"code":403' "$base/user/get_token"
if [ -n "${SMOKE_TEST_NUMBER:-}" ]; then
  national=${SMOKE_TEST_NUMBER#+1}
  jar=$(mktemp); trap 'rm -f "$jar"' EXIT
  check "send_code (test number, no SMS)" '"code":' -H 'content-type: application/json' \
    -d "{\"region\":1,\"phone\":\"$national\",\"purpose\":\"login\"}" "$base/user/send_code"
  check "login_sms" '"code":200' -c "$jar" -H 'content-type: application/json' \
    -d "{\"region\":1,\"phone\":\"$national\",\"code\":\"$SMOKE_TEST_CODE\"}" "$base/user/login_sms"
  check "get_token with the cookie" '"token"' -b "$jar" "$base/user/get_token"
  check "logout" '"code":200' -b "$jar" -X POST "$base/user/logout"
  check "the cookie is revoked" '"code":403' -b "$jar" "$base/user/get_token"
fi
echo "smoke test passed: $base"
