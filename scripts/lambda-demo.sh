#!/usr/bin/env bash
# Signs up and logs in through the Lambda functions themselves, with no AWS setup:
# `cargo lambda watch` on 127.0.0.1 runs `codes` and `account` against the embedded store,
# and `cargo lambda invoke` feeds them API Gateway events built from events/.
# Usage: scripts/lambda-demo.sh   (uses a throwaway data folder; stops watch on exit)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(scripts/lambda-tools.sh):$PATH"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export ROSTER_DATA_DIR="$work/data"

# Deployed functions leave the embedded store out; here they run on it.
features=$(ls functions | sed 's|$|/embedded-store|' | paste -sd, -)
cargo lambda watch -A 127.0.0.1 -P "$port" -F "$features" >"$work/watch.log" 2>&1 &
watch_pid=$!
trap 'kill "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  grep -q "runtime_addr" "$work/watch.log" 2>/dev/null && break
  sleep 1
done

# event <template> <out> <json body>: the template with a new body.
event() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
e["body"] = sys.argv[3]
json.dump(e, open(sys.argv[2], "w"))
PY
}
invoke() {
  cargo lambda invoke "$1" --invoke-address 127.0.0.1 --invoke-port "$port" --data-file "$2" \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["statusCode"], r.get("cookies") or "", r["body"])'
}

phone='{"region": 1, "phone": "2015550123"}'
echo "== codes: send_code"
invoke codes events/codes/send_code.json
code=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[-1])["text"].split()[-1])' "$ROSTER_DATA_DIR/outbox.jsonl")
echo "   code from the outbox: $code"
echo "== codes: verify_code"
event events/codes/verify_code.json "$work/verify.json" "{\"region\": 1, \"phone\": \"2015550123\", \"code\": \"$code\"}"
out=$(invoke codes "$work/verify.json"); echo "$out"
token=$(echo "$out" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read().split(" ",2)[2])["result"]["verification_token"])')
echo "== account: register"
event events/account/register.json "$work/register.json" "{\"nickname\": \"Tom\", \"password\": \"P@ssw0rd\", \"verification_token\": \"$token\"}"
invoke account "$work/register.json"
echo "== account: login"
invoke account events/account/login.json
