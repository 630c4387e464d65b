#!/usr/bin/env bash
# On a GPU machine (no Rust needed there): the GPU engine against the CPU, result
# for result and timed, then whole proofs with both engines, with the GPU's
# memory sampled. Build the binary first, on a machine with Rust:
#   scripts/setup-gpu.sh && . ~/.cache/zkinfer/gpu/env.sh
#   cargo build --release -p zkinfer-cli --features gpu
# then run this script where the GPU is, next to the binary:
#   ZKINFER_BIN=target/release/zkinfer ZKINFER_PEER_MODELS=../shared/peer-models \
#     scripts/gpu-device-check.sh [OUT_DIR]
# Writes OUT_DIR (default $OUT or out/gpu-check): gpu.csv (card, driver),
# engines.json (bench-engines), bench.json (bench --engine cpu,gpu) and
# gpu-memory.csv (memory used, sampled every 100 ms during the bench).
set -euo pipefail
bin=${ZKINFER_BIN:-target/release/zkinfer}
out=${1:-${OUT:-out/gpu-check}}
models=${MODELS:-lenet_5,4l_relu_conv_fc}
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >"$out/gpu.csv" 2>&1 || true
"$bin" bench-engines --engine gpu --min-log 10 --max-log "${MAX_LOG:-22}" --step 2 --out "$out/engines.json" \
  2>&1 | tee "$out/engines.log"
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$out/gpu-memory.csv" 2>/dev/null &
sampler=$!
trap 'kill $sampler 2>/dev/null || true' EXIT
"$bin" bench --models "$models" --prover native --engine cpu,gpu --out "$out/bench.json" --work "$out/work" \
  2>&1 | tee "$out/bench.log"
kill $sampler 2>/dev/null || true
echo "peak GPU memory during the bench: $(sort -n "$out/gpu-memory.csv" | tail -1) MiB"
