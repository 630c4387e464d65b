#!/usr/bin/env python3
"""Runs ONNX's own operator test cases (`onnx.backend.test.case.node`, the
cases behind onnx's backend tests, with the reference outputs ONNX computed)
through `zkinfer compile` and `zkinfer witness`, and compares the circuit's
outputs with ONNX's:

    pip install -r scripts/requirements-demo.txt
    cargo build --release -p zkinfer-cli
    python3 scripts/sweep_onnx_node_tests.py [--zkinfer target/release/zkinfer] [--out DIR] [--json FILE]

Two variants of every case with numeric data:
- `inputs`: as ONNX wrote it, every tensor a model input (weights, axes,
  indices and scales too, which real models hold as constants);
- `constants`: every input but the first made an initializer, as exporters
  write weights, pads, axes and scales.

A case is `ok` when its max abs error is within 1% of the largest expected
output or 8 units of the chosen scale, `OFF` when it compiles but misses that
(a wrong result), else it failed to compile (the reason is kept). Nothing is
proven: the witness is what a proof would commit to (`tests/` prove circuits
against the same integer reference).
"""
import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.backend.test.case.node import collect_testcases


def numeric(a):
    return isinstance(a, np.ndarray) and a.dtype.kind in "fiub" and np.all(np.isfinite(a.astype(np.float64)))


def write(d, model, ins, outs):
    os.makedirs(d, exist_ok=True)
    onnx.save(model, os.path.join(d, "network.onnx"))
    with open(os.path.join(d, "input.json"), "w") as f:
        json.dump({"input_data": [a.astype(np.float64).reshape(-1).tolist() for a in ins],
                   "input_shapes": [list(a.shape) for a in ins],
                   "output_data": [a.astype(np.float64).reshape(-1).tolist() for a in outs]}, f)


def generate(root):
    """Writes both variants; returns their directories."""
    cases = []
    for case in collect_testcases(None):
        if case.kind != "node" or not case.data_sets:
            continue
        ins, outs = case.data_sets[0]
        if not all(numeric(a) for a in ins) or not all(numeric(a) and a.size > 0 for a in outs):
            continue
        if not ins or ins[0].size == 0:
            continue
        d = os.path.join(root, "inputs", case.name)
        write(d, case.model, ins, outs)
        cases.append(("inputs", case.name, d))
        names = [i.name for i in case.model.graph.input]
        if len(ins) < 2 or len(names) != len(ins):
            continue
        model = onnx.ModelProto()
        model.CopyFrom(case.model)
        for name, a in zip(names[1:], ins[1:]):
            model.graph.initializer.append(numpy_helper.from_array(a, name))
        first = model.graph.input[0]
        del model.graph.input[:]
        model.graph.input.append(first)
        d = os.path.join(root, "constants", case.name)
        write(d, model, ins[:1], outs)
        cases.append(("constants", case.name, d))
    return cases


def run(zkinfer, variant, name, d):
    work = os.path.join(d, "work")
    row = {"variant": variant, "case": name}
    inp = os.path.join(d, "input.json")
    try:
        p = subprocess.run([zkinfer, "compile", "-q", os.path.join(d, "network.onnx"), "-i", inp, "-o", work],
                           capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            lines = [l for l in p.stderr.splitlines() if not l.startswith("warning")]
            return {**row, "status": "compile fails", "error": " ".join(lines)[:400]}
        settings = json.load(open(os.path.join(work, "settings.json")))
        row.update(k=settings["k"], scale=settings["scale"])
        p = subprocess.run([zkinfer, "witness", "-q", work, "-i", inp], capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            return {**row, "status": "witness fails", "error": p.stderr[-400:]}
    except subprocess.TimeoutExpired:
        return {**row, "status": "timeout"}
    got = np.array([v for o in json.load(open(os.path.join(work, "witness.json")))["outputs"] for v in o["values"]])
    want = np.concatenate([np.array(o, dtype=np.float64).reshape(-1) for o in json.load(open(inp))["output_data"]])
    if got.size != want.size:
        return {**row, "status": f"{got.size} outputs, ONNX has {want.size}"}
    err, mag = float(np.abs(got - want).max()), float(np.abs(want).max())
    ok = err <= max(0.01 * mag, 8 * 2.0 ** -settings["scale"])
    return {**row, "status": "ok" if ok else "OFF", "max_abs_error": err, "largest_output": mag}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zkinfer", default=os.path.join(here, "..", "target", "release", "zkinfer"))
    ap.add_argument("--out", default="onnx-node-tests")
    ap.add_argument("--json", default="onnx-node-tests.json")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    cases = generate(args.out)
    print(f"{len(cases)} cases under {args.out}", file=sys.stderr)
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda c: run(args.zkinfer, *c), cases))
    summary = {}
    for r in rows:
        by = summary.setdefault(r["variant"], {})
        key = "compile fails" if r["status"].startswith("compile") else r["status"]
        by[key] = by.get(key, 0) + 1
    with open(args.json, "w") as f:
        json.dump({"onnx": onnx.__version__, "summary": summary, "cases": rows}, f, indent=1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
