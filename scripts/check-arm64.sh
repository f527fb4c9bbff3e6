#!/usr/bin/env bash
# Runs each function's arm64 zip (target/lambda/*/bootstrap.zip, from
# scripts/build-lambdas.sh) under qemu's user-mode emulator against the local
# runtime-API stand-in: every function must start and answer its sample event. Installs
# qemu-user-static and an arm64 glibc from Debian when they are missing.
# Usage: scripts/check-arm64.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/lib/emulators.sh
source scripts/lib/emulators.sh
if ! command -v qemu-aarch64-static >/dev/null || [ ! -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; then
  mkdir -p "$LOG_DIR"
  apt_install qemu-user-static libc6-arm64-cross
fi
bins=$(mktemp -d)
trap 'rm -rf "$bins"' EXIT
for zip in target/lambda/*/bootstrap.zip; do
  f=$(basename "$(dirname "$zip")")
  python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("bootstrap"))' "$zip" "$bins/$f"
  chmod +x "$bins/$f"
done
python3 scripts/bench/cold_start.py --runs "${1:-1}" --bin-dir "$bins" \
  --runner "qemu-aarch64-static -L /usr/aarch64-linux-gnu"
