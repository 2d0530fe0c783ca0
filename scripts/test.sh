#!/usr/bin/env bash
# Every test of cairn: formatting, lints, unit tests and the integration
# tests (real binaries, as root, on real overlayfs, with real peers).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace 2>&1 | tee "$log" || status=$?
# One closing line over every test binary.
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "cairn: %d passed, %d failed, %d skipped\n", p, f, i }' "$log"
exit "$status"
