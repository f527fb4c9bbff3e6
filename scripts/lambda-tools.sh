#!/usr/bin/env bash
# Installs the pinned cargo-lambda into .test-tools/lambda-venv (once) and prints the
# folder to put on PATH:  export PATH="$(scripts/lambda-tools.sh):$PATH"
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.test-tools/lambda-venv
stamp="$venv/.installed-$(sha256sum scripts/dev-tools/requirements.txt | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/dev-tools/requirements.txt >&2
  touch "$stamp"
fi
echo "$PWD/$venv/bin"
