#!/usr/bin/env python3
"""Compiles, proves and verifies the models of scripts/make_framework_exports.py
with zkinfer and compares the proven outputs with onnxruntime's:

    python3 scripts/bench_frameworks.py EXPORTS_DIR [--zkinfer target/release/zkinfer]
        [--prove-max-k 18] [--out docs/benchmarks-frameworks.json]

Every model is compiled (default calibration); those whose circuit has
k <= --prove-max-k are also set up, proven and verified (`zkinfer run`). Needs
onnxruntime and numpy (scripts/requirements-torch.txt has them). Prints a
markdown table and writes the rows as JSON.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort


def onnxruntime_outputs(model_dir):
    session = ort.InferenceSession(os.path.join(model_dir, "network.onnx"))
    data = json.load(open(os.path.join(model_dir, "input.json")))["input_data"]
    feeds = {}
    for spec, values in zip(session.get_inputs(), data):
        dtype = np.int64 if "int64" in spec.type else np.int32 if "int32" in spec.type else np.float32
        shape = [d if isinstance(d, int) else 1 for d in spec.shape]
        feeds[spec.name] = np.array(values, dtype=dtype).reshape(shape)
    return np.concatenate([np.asarray(o, dtype=np.float64).reshape(-1) for o in session.run(None, feeds)])


def run(cmd, timeout):
    start = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p, time.time() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("exports")
    ap.add_argument("--zkinfer", default="target/release/zkinfer")
    ap.add_argument("--prove-max-k", type=int, default=18)
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--out", default="docs/benchmarks-frameworks.json")
    ap.add_argument("models", nargs="*")
    a = ap.parse_intermixed_args()
    names = a.models or sorted(os.listdir(a.exports))
    rows = []
    for name in names:
        d = os.path.join(a.exports, name)
        work = os.path.join("target", "bench-frameworks", name)
        model, data = os.path.join(d, "network.onnx"), os.path.join(d, "input.json")
        row = {"model": name}
        p, secs = run([a.zkinfer, "compile", "-q", model, "-i", data, "-o", work], a.timeout)
        if p.returncode != 0:
            row["error"] = (p.stderr.strip().splitlines() or ["?"])[0]
            rows.append(row)
            print(name, "FAILED:", row["error"], flush=True)
            continue
        s = json.load(open(os.path.join(work, "settings.json")))
        row.update(compile_s=round(secs, 2), k=s["k"], scale=s["scale"], rows=s["rows"],
                   max_abs_error_vs_tract=s["calibration_max_abs_error"])
        reference = onnxruntime_outputs(d)
        row["onnxruntime_max_abs_output"] = float(np.abs(reference).max())
        if s["k"] <= a.prove_max_k:
            p, secs = run([a.zkinfer, "run", "-q", model, "-i", data, "-o", work], a.timeout)
            if p.returncode != 0:
                row["error"] = (p.stderr.strip().splitlines() or ["?"])[0]
            else:
                r = json.load(open(os.path.join(work, "report.json")))
                outputs = np.array(r["outputs"], dtype=np.float64).reshape(-1)
                row.update(prove_s=round(r["prove_s"], 2), verify_s=round(r["verify_s"], 3),
                           peak_rss_mib=round(r["peak_rss_mib"]), proof_bytes=r["proof_bytes"],
                           verified=r["verified"])
                if outputs.size == reference.size:
                    row["max_abs_error_vs_onnxruntime"] = float(np.abs(outputs - reference).max())
        rows.append(row)
        print(json.dumps(row), flush=True)
    with open(a.out, "w") as f:
        json.dump(rows, f, indent=1)
        f.write("\n")
    print("\n| model | k | scale | prove s | peak MiB | error vs onnxruntime | largest output |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r and "k" not in r:
            print(f"| {r['model']} | fails: {r['error']} | | | | | |")
            continue
        prove = f"{r['prove_s']}" if "prove_s" in r else "(compiled only)"
        err = r.get("max_abs_error_vs_onnxruntime", r.get("max_abs_error_vs_tract"))
        print(f"| {r['model']} | {r['k']} | {r['scale']} | {prove} | {r.get('peak_rss_mib', '')} | {err:.2e} | "
              f"{r['onnxruntime_max_abs_output']:.2e} |")
    sys.exit(1 if any("error" in r for r in rows) else 0)


if __name__ == "__main__":
    main()
