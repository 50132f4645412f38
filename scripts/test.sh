#!/usr/bin/env bash
# Run every test of the workspace: unit tests and the end-to-end suite
# (crates/rampart/tests/e2e, needs root and the packages .ci/run installs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo test --workspace --no-fail-fast -- --test-threads=2 "$@"
