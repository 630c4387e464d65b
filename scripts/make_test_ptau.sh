#!/usr/bin/env bash
# Generates tests/data/pot6.ptau, a small Perpetual-Powers-of-Tau file made by
# snarkjs (npm), so the tests can import a real ceremony-format SRS. snarkjs mixes
# fresh randomness into every contribution, so the output differs between runs;
# the committed file is one such run.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${ZKINFER_SNARKJS_DIR:-${TMPDIR:-/tmp}/zkinfer-snarkjs}"
mkdir -p "$tools"
npm install --silent --prefix "$tools" snarkjs@0.7.6 >/dev/null
snarkjs="$tools/node_modules/.bin/snarkjs"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$snarkjs" powersoftau new bn128 6 "$work/pot6_0.ptau" >/dev/null
"$snarkjs" powersoftau contribute "$work/pot6_0.ptau" "$work/pot6_1.ptau" --name="zkinfer test" -e="zkinfer test entropy" >/dev/null
"$snarkjs" powersoftau prepare phase2 "$work/pot6_1.ptau" "$work/pot6.ptau" >/dev/null
"$snarkjs" powersoftau verify "$work/pot6.ptau" >/dev/null
mkdir -p tests/data
cp "$work/pot6.ptau" tests/data/pot6.ptau
echo "wrote tests/data/pot6.ptau"
