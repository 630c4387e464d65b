#!/usr/bin/env bash
# Benchmarks the wasm verifier in node: builds the package (scripts/build-wasm.sh)
# and the release CLI, proves the demo model and every peer model that
# `zkinfer run` proves in seconds, then runs verifier/js/bench.mjs, which writes
# docs/benchmarks-wasm.json and prints the Markdown table of docs/benchmarks.md.
#
#   scripts/bench-wasm.sh [--runs N]
#
# Peer models come from $ZKINFER_PEER_MODELS (default ../shared/peer-models);
# missing ones are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/build-wasm.sh
cargo build --release -p zkinfer-cli
zkinfer="$root/target/release/zkinfer"

work=$(mktemp -d "${TMPDIR:-/tmp}/zkinfer-wasm-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$zkinfer" run examples/demo_cnn/network.onnx -q --out "$work/demo_cnn"
peers="${ZKINFER_PEER_MODELS:-$root/../shared/peer-models}"
for m in 1l_mlp 1l_conv 1l_average 1l_max_pool 1l_softmax 2l_relu_sigmoid_small layernorm 4l_relu_conv_fc lenet_5; do
  if [ -f "$peers/$m/network.onnx" ]; then
    "$zkinfer" run "$peers/$m/network.onnx" --input "$peers/$m/input.json" -q --out "$work/$m"
  else
    echo "skipping $m: not in $peers"
  fi
done

js=verifier/js
if [ ! -x "$js/node_modules/.bin/wasm-opt" ] || [ "$js/package-lock.json" -nt "$js/node_modules/.package-lock.json" ]; then
  (cd "$js" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
(cd "$js" && node bench.mjs --artifacts "$work" --out "$root/docs/benchmarks-wasm.json" "$@")
