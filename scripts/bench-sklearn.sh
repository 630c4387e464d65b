#!/usr/bin/env bash
# The scikit-learn exports of tests/data/sklearn (scripts/make_sklearn_models.py),
# zkinfer and EZKL 23.0.5 side by side on this machine:
#   ../shared/bench/ezkl-setup.sh        # once: EZKL's venv
#   scripts/bench-sklearn.sh [OUT.json]  # default docs/benchmarks-sklearn.json
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/benchmarks-sklearn.json}
models=$(ls tests/data/sklearn | paste -sd, -)
cargo build --release -q -p zkinfer-cli
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target/release/zkinfer bench --models-dir tests/data/sklearn --models "$models" --ezkl \
  --ezkl-script ../shared/bench/ezkl_flow.py --work "$work" --out "$out"
