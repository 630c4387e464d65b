#!/usr/bin/env bash
# Dynamically quantised peer models, as onnxruntime's quantize_dynamic writes them:
#   pip install -r scripts/requirements-demo.txt onnxruntime
#   scripts/bench-dynamic-quant.sh [OUT.json] [MODEL ...]
# For each model of ../shared/peer-models (default: 1l_mlp 4l_relu_conv_fc
# lenet_5 self_attention), converts it to opset 13 (onnxruntime writes the
# DynamicQuantizeLinear pattern from opset 11 on), quantises its weights to int8
# with quantize_dynamic, then runs `zkinfer run` on the peer input: compile,
# keys, prove, verify, against tract's float output of the quantised model.
# Writes one JSON (default docs/benchmarks-dynamic-quant.json).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/benchmarks-dynamic-quant.json}
shift || true
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(1l_mlp 4l_relu_conv_fc lenet_5 self_attention)
peers=../shared/peer-models
python=${PYTHON:-python3}
cargo build --release -q -p zkinfer-cli
bin=target/release/zkinfer
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ZKINFER_SRS_DIR="$work/srs"
reports=()
for m in "${models[@]}"; do
  "$python" - "$peers/$m/network.onnx" "$work/$m.onnx" <<'PY'
import sys, onnx
from onnx import version_converter
from onnxruntime.quantization import QuantType, quantize_dynamic
src, dst = sys.argv[1], sys.argv[2]
onnx.save(version_converter.convert_version(onnx.load(src), 13), dst + ".opset13.onnx")
quantize_dynamic(dst + ".opset13.onnx", dst, weight_type=QuantType.QInt8)
PY
  "$bin" -q run "$work/$m.onnx" --input "$peers/$m/input.json" --out "$work/$m" >/dev/null
  reports+=("$work/$m/report.json")
done
python3 - "$out" "${reports[@]}" <<'PY'
import json, os, platform, sys
out, paths = sys.argv[1], sys.argv[2:]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
keys = ["model", "k", "rows", "scale", "value_bits", "setup_s", "prove_s", "verify_s", "peak_rss_mib", "proof_bytes",
        "max_abs_error", "verified", "prover"]
rows = [{k: json.load(open(p)).get(k) for k in keys} for p in paths]
json.dump({"machine": {"cpu": cpu, "cores": os.cpu_count()}, "quantiser": "onnxruntime quantize_dynamic, int8 weights",
           "models": rows}, open(out, "w"), indent=2)
for r in rows:
    print(f'{r["model"]}: k={r["k"]} rows={r["rows"]} setup {r["setup_s"]:.2f} s, prove {r["prove_s"]:.2f} s, '
          f'peak {r["peak_rss_mib"]:.0f} MiB, error {r["max_abs_error"]:.2e}, verified {r["verified"]}')
PY
