#!/usr/bin/env python3
"""Generates the test model with operators zkinfer cannot prove yet.

    pip install -r scripts/requirements-demo.txt
    python3 scripts/make_unsupported_model.py [OUT_DIR]    # default: tests/data/unsupported

Writes OUT_DIR/network.onnx and OUT_DIR/input.json. A dense layer, then two
NonZero nodes (a data-dependent shape: not supported) whose counts are added to
it, so that the tests see every unsupported operator
reported at once, by node, before any proving. Update the tests that use it when
zkinfer learns these operators.
"""
import json
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from onnx_example import finish, save

SEED = 20261126


def build(rng):
    inits = [
        numpy_helper.from_array(rng.uniform(-1, 1, size=(4, 3)).astype(np.float32), "dense.weight"),
    ]
    nodes = [
        helper.make_node("MatMul", ["input", "dense.weight"], ["h"], name="dense"),
        helper.make_node("NonZero", ["h"], ["where_nonzero"], name="nonzero_node"),
        helper.make_node("ReduceSum", ["where_nonzero"], ["count"], name="count_node", keepdims=0),
        helper.make_node("Cast", ["count"], ["count_f"], name="count_float", to=TensorProto.FLOAT),
        helper.make_node("Relu", ["h"], ["positive"], name="relu"),
        helper.make_node("NonZero", ["positive"], ["where_positive"], name="other_nonzero_node"),
        helper.make_node("ReduceSum", ["where_positive"], ["other_count"], name="other_count_node", keepdims=0),
        helper.make_node("Cast", ["other_count"], ["other_f"], name="other_count_float", to=TensorProto.FLOAT),
        helper.make_node("Add", ["h", "count_f"], ["shifted"], name="join"),
        helper.make_node("Add", ["shifted", "other_f"], ["output"], name="join_other"),
    ]
    graph = helper.make_graph(
        nodes,
        "zkinfer_unsupported",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch_size", 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch_size", 3])],
        inits,
    )
    return finish(graph, "zkinfer make_unsupported_model.py")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("tests", "data", "unsupported")
    os.makedirs(out, exist_ok=True)
    rng = np.random.RandomState(SEED)
    model = build(rng)
    save(out, model)
    x = rng.uniform(-1.0, 1.0, size=(1, 4)).astype(np.float32)
    with open(os.path.join(out, "input.json"), "w") as f:
        json.dump({"input_data": [[round(float(v), 6) for v in x.flatten()]]}, f)
        f.write("\n")
    print(f"wrote {out}/network.onnx and {out}/input.json")


if __name__ == "__main__":
    main()
