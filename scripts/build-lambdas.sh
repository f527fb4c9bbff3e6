#!/usr/bin/env bash
# Builds every function for Lambda (arm64, zip) with the pinned cargo-lambda and prints
# each zip's size and each unzipped binary's size.
# Usage: scripts/build-lambdas.sh [--x86-64]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(scripts/lambda-tools.sh):$PATH"
arch_flag=--arm64
target=aarch64-unknown-linux-gnu
if [ "${1:-}" = "--x86-64" ]; then
  arch_flag=--x86-64
  target=x86_64-unknown-linux-gnu
fi
if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi
functions=$(for m in functions/*/Cargo.toml; do basename "$(dirname "$m")"; done)
for f in $functions; do
  echo "==> building $f ($target)"
  cargo lambda build --release "$arch_flag" --output-format zip --package "$f" >/dev/null
done
printf '\n%-10s %12s %14s\n' function "zip bytes" "binary bytes"
for f in $functions; do
  zip="target/lambda/$f/bootstrap.zip"
  binary=$(python3 -c 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).getinfo("bootstrap").file_size)' "$zip")
  printf '%-10s %12d %14d\n' "$f" "$(stat -c %s "$zip")" "$binary"
done
