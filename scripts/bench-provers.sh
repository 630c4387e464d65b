#!/usr/bin/env bash
# The two prover cores side by side, proving alone (no compile, no key generation
# in the measured process):
#   scripts/bench-provers.sh [MODEL ...]        (default: lenet_5 4l_relu_conv_fc)
# For each peer model: `zkinfer compile` once; then for each core, `zkinfer setup
# --prover CORE` (its proving key) and `zkinfer prove` three times under
# /usr/bin/time (wall seconds and peak RSS; the median run is kept), then
# `zkinfer verify`. Writes docs/benchmarks-provers.json (override with
# ZKINFER_BENCH_PROVERS_OUT). EZKL's figures for the same models come from
# `zkinfer bench --ezkl` (docs/benchmarks-native.json).
set -euo pipefail
cd "$(dirname "$0")/.."
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(lenet_5 4l_relu_conv_fc)
out=${ZKINFER_BENCH_PROVERS_OUT:-docs/benchmarks-provers.json}
peer=${ZKINFER_PEER_MODELS:-../shared/peer-models}
cargo build --release -q -p zkinfer-cli
bin=target/release/zkinfer
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ZKINFER_SRS_DIR=${ZKINFER_SRS_DIR:-$work/srs}
rows=()
for m in "${models[@]}"; do
  "$bin" -q compile "$peer/$m/network.onnx" --input "$peer/$m/input.json" --out "$work/$m" >/dev/null 2>&1
  for core in halo2 native; do
    d="$work/$m/$core"
    mkdir -p "$d"
    "$bin" -q setup "$work/$m" --out "$d" --prover "$core" >/dev/null 2>&1
    cp "$work/$m/model.compiled" "$d/"
    for i in 1 2 3; do
      /usr/bin/time -f "%e %M" -o "$d/time$i" "$bin" -q prove "$d" --input "$peer/$m/input.json" >/dev/null 2>&1
    done
    "$bin" -q verify "$d" >/dev/null
    rows+=("$m $core $(stat -c %s "$d/pk.bin") $(cat "$d"/time1 "$d"/time2 "$d"/time3 | tr '\n' ' ')")
  done
done
printf '%s\n' "${rows[@]}" >"$work/rows.txt"
python3 - "$out" "$work/rows.txt" <<'PY'
import json, os, platform, sys
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
rows = []
for line in open(sys.argv[2]):
    f = line.split()
    model, core, pk = f[0], f[1], int(f[2])
    runs = sorted((float(f[i]), float(f[i + 1]) / 1024) for i in range(3, len(f), 2))
    wall, rss = runs[len(runs) // 2]
    rows.append({"model": model, "prover": core, "prove_s": wall, "peak_rss_mib": round(rss, 1), "pk_bytes": pk,
                 "runs": [{"prove_s": w, "peak_rss_mib": round(r, 1)} for w, r in runs]})
for r in rows:
    base = next(b for b in rows if b["model"] == r["model"] and b["prover"] == "halo2")
    r["vs_halo2"] = {k: round(r[k] / base[k], 6) for k in ["prove_s", "peak_rss_mib", "pk_bytes"]}
json.dump({"machine": {"cpu": cpu, "cores": os.cpu_count()}, "method": "zkinfer prove alone, median of 3, /usr/bin/time",
           "rows": rows}, open(sys.argv[1], "w"), indent=2)
print("| model | prover | prove s | peak MiB | pk bytes | vs halo2 (time, memory, key) |")
print("|---|---|---|---|---|---|")
for r in rows:
    v = r["vs_halo2"]
    print(f'| {r["model"]} | {r["prover"]} | {r["prove_s"]:.2f} | {r["peak_rss_mib"]:.0f} | {r["pk_bytes"]:,} | '
          f'{v["prove_s"]:.2f}× / {v["peak_rss_mib"]:.2f}× / {v["pk_bytes"]:.1e}× |')
PY
