#!/usr/bin/env bash
# Run every test of the workspace: unit tests and the end-to-end suite
# (crates/rampart/tests/e2e, needs root and the packages .ci/run installs).
# Ends with one line adding up every test binary: "Tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --no-fail-fast -- --test-threads=2 "$@" 2>&1 | tee "$log" || status=$?
passed=$(grep -oE '^test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
failed=$(grep -oE '[0-9]+ failed;' "$log" | awk '{s+=$1} END {print s+0}')
echo
echo "Tests: ${passed} passed, ${failed} failed"
if [[ $status -eq 0 && $passed -eq 0 ]]; then
    echo "error: no test ran" >&2
    exit 1
fi
exit "$status"
