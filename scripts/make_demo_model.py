#!/usr/bin/env python3
"""Generates the bundled demo model: a small CNN with fixed pseudo-random weights.

    pip install -r scripts/requirements-demo.txt
    python3 scripts/make_demo_model.py [OUT_DIR]    # default: examples/demo_cnn

Writes OUT_DIR/network.onnx and OUT_DIR/input.json (EZKL's input layout). The
network exercises what zkinfer proves today: Conv with padding and stride,
BatchNormalization, Relu, MaxPool, GlobalAveragePool, Flatten and Gemm.
"""
import json
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from onnx_example import finish, save

SEED = 20261125


def build(rng):
    def w(name, *shape, scale=0.5):
        return numpy_helper.from_array((rng.uniform(-scale, scale, size=shape)).astype(np.float32), name)

    inits = [
        w("conv1.weight", 4, 1, 3, 3),
        w("conv1.bias", 4),
        numpy_helper.from_array((1.0 + rng.uniform(-0.2, 0.2, size=4)).astype(np.float32), "bn.scale"),
        w("bn.bias", 4, scale=0.1),
        w("bn.mean", 4, scale=0.1),
        numpy_helper.from_array((1.0 + rng.uniform(0.0, 0.5, size=4)).astype(np.float32), "bn.var"),
        w("conv2.weight", 8, 4, 3, 3, scale=0.3),
        w("conv2.bias", 8, scale=0.1),
        w("fc.weight", 10, 8, scale=0.5),
        w("fc.bias", 10, scale=0.1),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"], ["c1"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["b1"],
                         name="bn1", epsilon=1e-5),
        helper.make_node("Relu", ["b1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], name="conv2",
                         kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["output"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "zkinfer_demo_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch_size", 1, 12, 12])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch_size", 10])],
        inits,
    )
    return finish(graph, "zkinfer make_demo_model.py")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("examples", "demo_cnn")
    os.makedirs(out, exist_ok=True)
    rng = np.random.RandomState(SEED)
    model = build(rng)
    save(out, model)
    image = rng.uniform(0.0, 1.0, size=(1, 1, 12, 12)).astype(np.float32)
    with open(os.path.join(out, "input.json"), "w") as f:
        json.dump({"input_data": [[round(float(v), 6) for v in image.flatten()]]}, f)
        f.write("\n")
    print(f"wrote {out}/network.onnx and {out}/input.json")


if __name__ == "__main__":
    main()
