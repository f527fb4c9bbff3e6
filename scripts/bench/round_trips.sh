#!/usr/bin/env bash
# Prints the store round trips of every route: one successful request of each, counted by
# a wrapper around the embedded store (tests/api/round_trips.rs, which also pins them).
# Usage: scripts/bench/round_trips.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo test -q -p roster --no-default-features --features sqlite --test api \
  round_trips::sqlite::every_route_costs_what_the_table_says -- --nocapture 2>/dev/null |
  grep '^|'
