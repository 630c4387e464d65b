#!/usr/bin/env bash
# The test command (README.md's, and what .ci/run calls): installs what the tests
# need that cargo does not fetch — solc 0.8.19 for the EVM tests, from npm — then
# runs the whole workspace's tests in release mode (halo2 is too slow in debug).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-solc.sh
exec cargo test --release --workspace "$@"
