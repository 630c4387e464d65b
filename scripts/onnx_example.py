"""What the example-model generators share: the ONNX model around a graph, and
its deterministic file. Imported by scripts/make_*_model.py (their own directory
is on Python's path when they run)."""
import os

import onnx
from onnx import helper


def finish(graph, producer):
    """The checked opset-13, IR-8 model of `graph`, produced by `producer`."""
    model = helper.make_model(graph, producer_name=producer, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def save(out, model):
    """Writes OUT/network.onnx, byte for byte the same on every run."""
    with open(os.path.join(out, "network.onnx"), "wb") as f:
        f.write(model.SerializeToString(deterministic=True))
