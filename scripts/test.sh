#!/usr/bin/env bash
# Roster's single test command.
#
#   scripts/test.sh                 run `cargo test --workspace --locked --no-fail-fast`
#   scripts/test.sh -- CMD [ARG..]  run CMD instead (debugging), same environment
#
# Installs the test tools into .test-tools/ (gitignored) when missing or out of
# date, starts DynamoDB Local and a moto server on free loopback ports for the
# duration of the run only, exports their URLs, runs the tests and prints a
# per-store summary, then fuzzes the local server against its OpenAPI document with
# schemathesis (scripts/test-tools/fuzz.py). Exits non-zero when either fails.
#
# Environment given to the test command:
#   ROSTER_TEST_DYNAMODB_URL  http://127.0.0.1:<port>  DynamoDB Local (-inMemory -sharedDb)
#   ROSTER_TEST_MOTO_URL      http://127.0.0.1:<port>  moto server (SNS etc.; /moto-api/data.json)
#   AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1  (fake, emulators only)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib/emulators.sh
source "$ROOT/scripts/lib/emulators.sh"

usage() {
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
}

CUSTOM_CMD=()
if (($#)); then
  case "$1" in
    --)
      shift
      (($#)) || { usage >&2; die "no command given after --"; }
      CUSTOM_CMD=("$@")
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      die "unknown argument: $1 (to run a different command, put it after --)"
      ;;
  esac
fi

START_SECONDS=$SECONDS

# shellcheck disable=SC2317  # invoked by trap
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_emulators
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

install_test_tools

# The SAM template must lint clean (cfn-lint exits non-zero on errors and warnings).
if ((${#CUSTOM_CMD[@]} == 0)); then
  step "cfn-lint template.yaml"
  "$TOOLS_DIR/venv/bin/cfn-lint" template.yaml || die "cfn-lint found problems in template.yaml"
fi

DYNAMODB_PORT=$(pick_port)
MOTO_PORT=$(pick_port "$DYNAMODB_PORT")
step "starting emulators (logs: $LOG_DIR)"
start_watchdog
start_dynamodb "$DYNAMODB_PORT"
start_moto "$MOTO_PORT"

export ROSTER_TEST_DYNAMODB_URL="http://127.0.0.1:$DYNAMODB_PORT"
export ROSTER_TEST_MOTO_URL="http://127.0.0.1:$MOTO_PORT"
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_PROFILE

TEST_LOG="$LOG_DIR/test-run.log"
if ((${#CUSTOM_CMD[@]})); then
  step "running: ${CUSTOM_CMD[*]} (log: $TEST_LOG)"
  TEST_CMD=("${CUSTOM_CMD[@]}")
else
  step "running: cargo test --workspace --locked --no-fail-fast (log: $TEST_LOG)"
  TEST_CMD=(cargo test --workspace --locked --no-fail-fast)
fi

TEST_START=$SECONDS
set +e
"${TEST_CMD[@]}" 2>&1 | tee "$TEST_LOG"
TEST_RC=${PIPESTATUS[0]}
set -e
TEST_SECONDS=$((SECONDS - TEST_START))

stop_emulators

# The local server against its OpenAPI document: schemathesis with a logged-in user
# (the cargo tests built target/debug/roster-local).
FUZZ_RC=0
if ((${#CUSTOM_CMD[@]} == 0)) && ((TEST_RC == 0)); then
  step "schemathesis against the local server (reports: $LOG_DIR/fuzz)"
  rm -rf "$LOG_DIR/fuzz"
  set +e
  python3 scripts/test-tools/fuzz.py --binary target/debug/roster-local \
    --schemathesis "$TOOLS_DIR/fuzz-venv/bin/schemathesis" --report-dir "$LOG_DIR/fuzz" 2>&1 |
    tee "$LOG_DIR/fuzz.log"
  FUZZ_RC=${PIPESTATUS[0]}
  set -e
fi

# Count `test <path> ... ok|FAILED|ignored` lines per store.
read -r SQLITE_OK SQLITE_FAIL DDB_OK DDB_FAIL ALL_OK ALL_FAIL ALL_IGNORED < <(
  awk '
    BEGIN { so = sf = dok = df = ok = f = ig = 0 }
    { sub(/\r$/, "") }
    /^test .+ \.\.\. ok$/     { res = "ok" }
    /^test .+ \.\.\. FAILED$/ { res = "FAILED" }
    /^test .+ \.\.\. ignored/ { ig++; next }
    !/^test .+ \.\.\. (ok|FAILED)$/ { next }
    {
      if (res == "ok") ok++; else f++
      if (index($0, "sqlite::"))   { if (res == "ok") so++;  else sf++ }
      if (index($0, "dynamodb::")) { if (res == "ok") dok++; else df++ }
    }
    END { print so, sf, dok, df, ok, f, ig }
  ' "$TEST_LOG"
)

echo
echo "===== Roster test summary ====="
echo "test command wall time: ${TEST_SECONDS} s (whole script: $((SECONDS - START_SECONDS)) s)"
printf 'store embedded (sqlite) -> %d passed, %d failed\n' "$SQLITE_OK" "$SQLITE_FAIL"
printf 'store dynamodb -> %d passed, %d failed\n' "$DDB_OK" "$DDB_FAIL"
echo "test command exit status: $TEST_RC"
printf 'overall: %d passed, %d failed, %d skipped\n' "$ALL_OK" "$ALL_FAIL" "$ALL_IGNORED"

if ((${#CUSTOM_CMD[@]} == 0)) && ((TEST_RC == 0)); then
  grep -E '^schemathesis: ' "$LOG_DIR/fuzz.log" || true
  echo "schemathesis exit status: $FUZZ_RC"
fi

if ((TEST_RC != 0)); then
  exit "$TEST_RC"
fi
if ((FUZZ_RC != 0)); then
  die "schemathesis found answers outside the OpenAPI document (see $LOG_DIR/fuzz.log)"
fi
if ((${#CUSTOM_CMD[@]} == 0)); then
  if ((SQLITE_OK + SQLITE_FAIL == 0)) || ((DDB_OK + DDB_FAIL == 0)); then
    die "no test ran for a store (embedded (sqlite): $((SQLITE_OK + SQLITE_FAIL)), dynamodb: $((DDB_OK + DDB_FAIL))); test paths must contain sqlite:: / dynamodb::"
  fi
fi
exit 0
