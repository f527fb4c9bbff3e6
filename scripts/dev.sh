#!/usr/bin/env bash
# The README's run command: the whole API on 127.0.0.1 (port $ROSTER_PORT, default 7700)
# with the embedded store in $ROSTER_DATA_DIR (default .roster-data). No AWS needed.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet -p roster --bin roster-local
