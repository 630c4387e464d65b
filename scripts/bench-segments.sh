#!/usr/bin/env bash
# Segmented proving against one circuit, on one model in one run:
#   scripts/bench-segments.sh MODEL.onnx INPUT.json SEGMENTS JOBS [OUT.json]
# runs `zkinfer run` (the whole model as one circuit), then `zkinfer split
# --segments SEGMENTS` and `zkinfer prove-chain --jobs JOBS`, verifies the chain,
# and writes one JSON (default docs/benchmarks-segments.json) with both reports:
# setup/prove seconds, wall time, peak memory per job, k and rows per segment.
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1 input=$2 segments=$3 jobs=$4 out=${5:-docs/benchmarks-segments.json}
cargo build --release -q -p zkinfer-cli
bin=target/release/zkinfer
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ZKINFER_SRS_DIR="$work/srs"
"$bin" -q run "$model" --input "$input" --out "$work/whole" >/dev/null
"$bin" -q split "$model" --input "$input" --segments "$segments" --out "$work/chain" --srs-dir "$work/srs" >/dev/null
"$bin" -q prove-chain --plan "$work/chain/plan.json" --input "$input" --jobs "$jobs" --srs-dir "$work/srs" >/dev/null
"$bin" -q verify-chain --plan "$work/chain/plan.json" >/dev/null
python3 - "$work/whole/report.json" "$work/chain/chain-report.json" "$out" <<'PY'
import json, os, platform, sys
whole, chain, out = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
row = {
    "model": whole["model"],
    "machine": {"cpu": cpu, "cores": os.cpu_count()},
    "whole": {k: whole[k] for k in ["k", "rows", "setup_s", "prove_s", "peak_rss_mib", "proof_bytes", "max_abs_error"]},
    "chain": chain,
}
rows = json.load(open(out)) if os.path.exists(out) else []
rows = [r for r in rows if r["model"] != row["model"]] + [row]
json.dump(rows, open(out, "w"), indent=2)
w, c = row["whole"], row["chain"]
print(f'{row["model"]}: one circuit k={w["k"]} setup+prove {w["setup_s"] + w["prove_s"]:.2f} s, peak {w["peak_rss_mib"]:.0f} MiB | '
      f'{len(c["segments"])} segments: k={[s["k"] for s in c["segments"]]} setup+prove {c["cpu_s"]:.2f} s in all, '
      f'{c["wall_s"]:.2f} s wall with {c["jobs"]} jobs, peak {c["max_peak_rss_mib"]:.0f} MiB per job')
PY
