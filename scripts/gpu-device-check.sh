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
# gpu-memory.csv (memory used and utilisation, sampled every 200 ms).
# Diagnostics for the engine's routing (see docs/design.md, "The GPU engine"):
# ZKINFER_GPU_ALL_MSMS=1 sends every MSM to the GPU, ZKINFER_GPU_QUEUE=N sets
# how many calls may wait for it (0: any).
set -uo pipefail
bin=${ZKINFER_BIN:-target/release/zkinfer}
out=${1:-${OUT:-out/gpu-check}}
models=${MODELS:-lenet_5,4l_relu_conv_fc}
mkdir -p "$out"
[ -x "$bin" ] || { echo "gpu-device-check: no zkinfer binary at $bin (set ZKINFER_BIN)" >&2; exit 2; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >"$out/gpu.csv" 2>&1 || true
nvidia-smi --query-gpu=timestamp,memory.used,utilization.gpu --format=csv,noheader,nounits -lms 200 \
  >"$out/gpu-memory.csv" 2>/dev/null &
sampler=$!
trap 'kill $sampler 2>/dev/null || true' EXIT
status=0
# A difference or a fallback makes bench-engines fail; the whole proofs still run.
"$bin" bench-engines --engine gpu --min-log 10 --max-log "${MAX_LOG:-22}" --step 2 --out "$out/engines.json" \
  2>&1 | tee "$out/engines.log" || status=1
"$bin" bench --models "$models" --prover native --engine cpu,gpu --out "$out/bench.json" --work "$out/work" \
  2>&1 | tee "$out/bench.log" || status=1
kill $sampler 2>/dev/null || true
echo "peak GPU memory in use (whole device): $(cut -d, -f2 "$out/gpu-memory.csv" | sort -n | tail -1) MiB"
exit $status
