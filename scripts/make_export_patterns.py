#!/usr/bin/env python3
"""Generates small ONNX models written the way exporters (PyTorch above all)
write real networks, for tests/export_patterns.rs:

    pip install -r scripts/requirements-demo.txt
    python3 scripts/make_export_patterns.py [OUT_DIR]   # default: tests/data/export_patterns

Each model gets OUT_DIR/<name>/network.onnx and input.json (EZKL's layout),
with fixed pseudo-random weights, byte for byte the same on every run. The
patterns: dynamic reshape chains (Shape → Gather → Unsqueeze → Concat →
Reshape), LayerNorm decomposed into ReduceMean/Pow/Sqrt/Div and as the
LayerNormalization op, GELU by Erf and by Tanh, causal masks by Where with −∞
and built from Range/Less, a manual softmax, Einsum, Gemm with alpha/beta and
transA, Expand/Tile, negative Gather indices, reversed Slice, reflect Pad,
ArgMax outputs, token embeddings (int64 input), depthwise and dilated
convolutions, ceil-mode pooling, squeeze-excitation, DepthToSpace, nearest
upsampling with a skip connection, Dropout/Identity and a dynamic batch, an
attention mask given as an input (BERT), GroupNorm decomposed, SAME_UPPER
padding, a bidirectional LSTM and a GRU with linear_before_reset, and 8-bit
QDQ and QOperator (QLinearConv, QLinearMatMul) models, dynamic 8-bit
quantisation (DynamicQuantizeLinear, ConvInteger, MatMulInteger), and a
six-step GRU and 1×1 residual convolution with the weights in a file beside
the model (external data, as PyTorch's dynamo exporter writes), control flow
(tf2onnx's while loop, a scripted for loop, If on a shape and on a value), uses
tract alone gets wrong (a reverse LSTM, computed negative indices, values past
a function's table), and ONNX's fused Attention with a boolean mask.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper
from onnx import numpy_helper as nh

N = helper.make_node


class Models:
    def __init__(self, out, seed):
        self.out = out
        self.rng = np.random.default_rng(seed)

    def w(self, name, *shape, s=0.4):
        return nh.from_array(self.rng.uniform(-s, s, size=shape).astype(np.float32), name)

    def near_one(self, name, n, s=0.2):
        return nh.from_array((1 + self.rng.uniform(-s, s, n)).astype(np.float32), name)

    def uniform(self, *shape):
        return self.rng.uniform(-1, 1, shape)

    def save(self, name, nodes, inits, inputs, outputs, data, external=False, expected=False, opset=17):
        """With `external`, the weights go to network.onnx.data beside the
        model, as PyTorch's dynamo exporter writes them. With `expected`,
        onnxruntime's outputs go to input.json as `output_data`."""
        graph = helper.make_graph(nodes, name, inputs, outputs, inits)
        model = helper.make_model(graph, producer_name="zkinfer make_export_patterns.py",
                                  opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 8 if opset <= 17 else 10
        onnx.checker.check_model(model)
        d = os.path.join(self.out, name)
        os.makedirs(d, exist_ok=True)
        if external:
            onnx.external_data_helper.convert_model_to_external_data(
                model, all_tensors_to_one_file=True, location="network.onnx.data", size_threshold=128)
            with open(os.path.join(d, "network.onnx.data"), "wb"):
                pass  # written afresh below, tensor by tensor
            onnx.external_data_helper.write_external_data_tensors(model, d)
        with open(os.path.join(d, "network.onnx"), "wb") as f:
            f.write(model.SerializeToString(deterministic=True))
        flat = [[float(v) for v in np.asarray(x, dtype=np.float64).ravel()] for x in data]
        files = {"input_data": flat}
        if expected:
            import onnxruntime
            session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
            feeds = {i.name: np.asarray(x, dtype=np.float32) for i, x in zip(inputs, data)}
            files["output_data"] = [[float(v) for v in np.asarray(y, dtype=np.float64).ravel()]
                                    for y in session.run(None, feeds)]
        with open(os.path.join(d, "input.json"), "w") as f:
            json.dump(files, f)
            f.write("\n")


def c(name, values, dtype=np.float32):
    return nh.from_array(np.array(values, dtype=dtype), name)


def vi(name, shape, kind=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, kind, shape)


def transformer_block(m):
    """Pre-norm attention block as torch.onnx writes it."""
    t, d, heads = 6, 8, 2
    hd = d // heads
    inits = [m.w("wq", d, d), m.w("bq", d, s=.1), m.w("wk", d, d), m.w("bk", d, s=.1), m.w("wv", d, d),
             m.w("bv", d, s=.1), m.w("wo", d, d), m.w("w1", d, 2 * d), m.w("b1", 2 * d, s=.1), m.w("w2", 2 * d, d),
             m.w("b2", d, s=.1), m.near_one("gamma", d), m.w("beta", d, s=.1),
             c("two", 2.0), c("eps", 1e-5), c("sqrt_hd", np.sqrt(hd)), c("sqrt2", np.sqrt(2.0)), c("one", 1.0),
             c("half", 0.5), c("i0", [0], np.int64), c("heads", [heads], np.int64), c("hdim", [hd], np.int64),
             c("dmodel", [d], np.int64), c("g0", 0, np.int64), c("g1", 1, np.int64),
             c("mask", np.triu(np.ones((t, t), dtype=bool), 1), np.bool_), c("neginf", -np.inf)]
    nodes = [N("ReduceMean", ["x"], ["mu"], axes=[-1], keepdims=1), N("Sub", ["x", "mu"], ["xc"]),
             N("Pow", ["xc", "two"], ["xc2"]), N("ReduceMean", ["xc2"], ["var"], axes=[-1], keepdims=1),
             N("Add", ["var", "eps"], ["ve"]), N("Sqrt", ["ve"], ["sd"]), N("Div", ["xc", "sd"], ["xn"]),
             N("Mul", ["xn", "gamma"], ["xg"]), N("Add", ["xg", "beta"], ["h"]),
             N("Shape", ["h"], ["shp"]), N("Gather", ["shp", "g0"], ["bsz"], axis=0),
             N("Gather", ["shp", "g1"], ["tlen"], axis=0), N("Unsqueeze", ["bsz", "i0"], ["bsz1"]),
             N("Unsqueeze", ["tlen", "i0"], ["tlen1"]),
             N("Concat", ["bsz1", "tlen1", "heads", "hdim"], ["split_shape"], axis=0),
             N("Concat", ["bsz1", "tlen1", "dmodel"], ["merge_shape"], axis=0)]
    for p in "qkv":
        nodes += [N("MatMul", ["h", f"w{p}"], [f"{p}0"]), N("Add", [f"{p}0", f"b{p}"], [f"{p}1"]),
                  N("Reshape", [f"{p}1", "split_shape"], [f"{p}2"])]
    nodes += [N("Transpose", ["q2"], ["qt"], perm=[0, 2, 1, 3]), N("Transpose", ["k2"], ["kt"], perm=[0, 2, 3, 1]),
              N("Transpose", ["v2"], ["vt"], perm=[0, 2, 1, 3]), N("MatMul", ["qt", "kt"], ["s0"]),
              N("Div", ["s0", "sqrt_hd"], ["s1"]), N("Where", ["mask", "neginf", "s1"], ["s2"]),
              N("Softmax", ["s2"], ["att"], axis=-1), N("MatMul", ["att", "vt"], ["o0"]),
              N("Transpose", ["o0"], ["o1"], perm=[0, 2, 1, 3]), N("Reshape", ["o1", "merge_shape"], ["o2"]),
              N("MatMul", ["o2", "wo"], ["o3"]), N("Add", ["x", "o3"], ["r1"]),
              N("MatMul", ["r1", "w1"], ["m0"]), N("Add", ["m0", "b1"], ["m1"]), N("Div", ["m1", "sqrt2"], ["e0"]),
              N("Erf", ["e0"], ["e1"]), N("Add", ["e1", "one"], ["e2"]), N("Mul", ["m1", "e2"], ["e3"]),
              N("Mul", ["e3", "half"], ["e4"]), N("MatMul", ["e4", "w2"], ["m2"]), N("Add", ["m2", "b2"], ["m3"]),
              N("Add", ["r1", "m3"], ["y"])]
    m.save("transformer_block", nodes, inits, [vi("x", ["batch", t, d])], [vi("y", ["batch", t, d])],
           [m.uniform(1, t, d)])


def mobilenet_block(m):
    inits = [m.w("c1w", 8, 3, 3, 3), m.w("c1b", 8, s=.1), m.near_one("bns", 8), m.w("bnb", 8, s=.1),
             m.w("bnm", 8, s=.1), c("bnv", 1.25 * np.ones(8)), c("zero", 0.0), c("six", 6.0),
             m.w("dw", 8, 1, 3, 3), m.w("dwb", 8, s=.1), m.w("pw", 8, 8, 1, 1), m.w("pwb", 8, s=.1),
             m.w("fc", 5, 8), m.w("fcb", 5, s=.1)]
    nodes = [N("Conv", ["x", "c1w", "c1b"], ["a"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
             N("BatchNormalization", ["a", "bns", "bnb", "bnm", "bnv"], ["b"]), N("Clip", ["b", "zero", "six"], ["c"]),
             N("Conv", ["c", "dw", "dwb"], ["d"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=8),
             N("HardSwish", ["d"], ["e"]), N("Conv", ["e", "pw", "pwb"], ["f"], kernel_shape=[1, 1]),
             N("Add", ["f", "c"], ["g"]), N("GlobalAveragePool", ["g"], ["h"]), N("Flatten", ["h"], ["i"]),
             N("Gemm", ["i", "fc", "fcb"], ["j"], transB=1), N("Softmax", ["j"], ["y"], axis=1)]
    m.save("mobilenet_block", nodes, inits, [vi("x", [1, 3, 12, 12])], [vi("y", [1, 5])], [m.uniform(1, 3, 12, 12)])


def unet_tiny(m):
    inits = [m.w("e1", 4, 2, 3, 3), m.w("e1b", 4, s=.1), m.w("e2", 8, 4, 3, 3, s=.3), m.w("e2b", 8, s=.1),
             c("roi", [], np.float32), c("scales", [1, 1, 2, 2]), m.w("d1", 2, 12, 3, 3, s=.3), m.w("d1b", 2, s=.1)]
    nodes = [N("Conv", ["x", "e1", "e1b"], ["a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), N("Relu", ["a"], ["b"]),
             N("MaxPool", ["b"], ["c"], kernel_shape=[2, 2], strides=[2, 2]),
             N("Conv", ["c", "e2", "e2b"], ["d"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), N("Relu", ["d"], ["e"]),
             N("Resize", ["e", "roi", "scales"], ["f"], mode="nearest"), N("Concat", ["f", "b"], ["g"], axis=1),
             N("Conv", ["g", "d1", "d1b"], ["h"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), N("Sigmoid", ["h"], ["y"])]
    m.save("unet_tiny", nodes, inits, [vi("x", [1, 2, 8, 8])], [vi("y", [1, 2, 8, 8])], [m.uniform(1, 2, 8, 8)])


def conv1d_gelu(m):
    inits = [m.w("cw", 6, 3, 3), m.w("cb", 6, s=.1), m.near_one("s", 6), m.w("b", 6, s=.1), m.w("m", 6, s=.1),
             c("v", 1.25 * np.ones(6)), c("c044", 0.044715), c("c3", 3.0), c("k", np.sqrt(2 / np.pi)),
             c("one", 1.0), c("half", 0.5), m.w("fw", 4, 6), m.w("fb", 4, s=.1)]
    nodes = [N("Conv", ["x", "cw", "cb"], ["a"], kernel_shape=[3], pads=[1, 1]),
             N("BatchNormalization", ["a", "s", "b", "m", "v"], ["bn"]), N("Pow", ["bn", "c3"], ["p3"]),
             N("Mul", ["p3", "c044"], ["t1"]), N("Add", ["bn", "t1"], ["t2"]), N("Mul", ["t2", "k"], ["t3"]),
             N("Tanh", ["t3"], ["t4"]), N("Add", ["t4", "one"], ["t5"]), N("Mul", ["bn", "t5"], ["t6"]),
             N("Mul", ["t6", "half"], ["g"]), N("ReduceMean", ["g"], ["pool"], axes=[2], keepdims=0),
             N("Gemm", ["pool", "fw", "fb"], ["y"], transB=1)]
    m.save("conv1d_gelu", nodes, inits, [vi("x", [1, 3, 12])], [vi("y", [1, 4])], [m.uniform(1, 3, 12)])


def misc_ops(m):
    inits = [m.near_one("g", 8), m.w("bt", 8, s=.1), m.w("w", 8, 8), m.w("wb", 8, s=.1),
             c("split", [4, 4], np.int64), c("st", [-1], np.int64), c("en", [-100], np.int64), c("axs", [1], np.int64),
             c("stp", [-1], np.int64), c("pads", [0, 0, 1, 0, 0, 1], np.int64), c("unsq", [0], np.int64),
             c("lo", 0.0)]
    nodes = [N("LayerNormalization", ["x", "g", "bt"], ["ln"], axis=-1, epsilon=1e-5),
             N("MatMul", ["ln", "w"], ["h0"]), N("Add", ["h0", "wb"], ["h"]),
             N("Split", ["h", "split"], ["ha", "hb"], axis=-1), N("Sigmoid", ["hb"], ["sg"]),
             N("Mul", ["ha", "sg"], ["glu"]), N("Slice", ["glu", "st", "en", "axs", "stp"], ["rev"]),
             N("Unsqueeze", ["rev", "unsq"], ["u"]), N("Pad", ["u", "pads"], ["pd"], mode="reflect"),
             N("Squeeze", ["pd", "unsq"], ["sqz"]), N("Clip", ["sqz", "lo"], ["cl"]),
             N("Max", ["cl", "sqz", "sqz"], ["mx3"]), N("ReduceL2", ["mx3"], ["l2"], axes=[1], keepdims=1),
             N("ArgMax", ["mx3"], ["am"], axis=1, keepdims=0)]
    m.save("misc_ops", nodes, inits, [vi("x", [5, 8])], [vi("l2", [5, 1]), vi("am", [5], TensorProto.INT64)],
           [m.uniform(5, 8)])


def embedding(m):
    inits = [m.w("emb", 20, 8, s=1.0), m.w("pos", 6, 8, s=.2), m.w("w", 3, 8), m.w("b", 3, s=.1)]
    nodes = [N("Gather", ["emb", "tok"], ["e"], axis=0), N("Add", ["e", "pos"], ["ep"]),
             N("ReduceMean", ["ep"], ["mean"], axes=[1], keepdims=0), N("Gemm", ["mean", "w", "b"], ["y"], transB=1)]
    m.save("embedding", nodes, inits, [vi("tok", [1, 6], TensorProto.INT64)], [vi("y", [1, 3])],
           [np.array([[3, 1, 19, 0, 7, 7]])])


def cnn_misc(m):
    inits = [m.w("c1", 8, 3, 3, 3), m.w("c1b", 8, s=.1), m.w("se1", 4, 8, 1, 1), m.w("se1b", 4, s=.1),
             m.w("se2", 8, 4, 1, 1), m.w("se2b", 8, s=.1), c("zero", 0.0), c("six", 6.0),
             c("shp", [0, -1], np.int64), m.w("fc", 3, 72), m.w("fcb", 3, s=.1)]
    nodes = [N("Conv", ["x", "c1", "c1b"], ["a"], kernel_shape=[3, 3], dilations=[2, 2], pads=[2, 2, 2, 2]),
             N("Max", ["a", "zero"], ["a1"]), N("Min", ["a1", "six"], ["a2"]),
             N("MaxPool", ["a2"], ["p"], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
             N("GlobalAveragePool", ["p"], ["sq"]), N("Conv", ["sq", "se1", "se1b"], ["s1"], kernel_shape=[1, 1]),
             N("Relu", ["s1"], ["s2"]), N("Conv", ["s2", "se2", "se2b"], ["s3"], kernel_shape=[1, 1]),
             N("Sigmoid", ["s3"], ["s4"]), N("Mul", ["p", "s4"], ["se"]),
             N("AveragePool", ["se"], ["ap"], kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1],
               count_include_pad=0),
             N("DepthToSpace", ["ap"], ["d2s"], blocksize=2, mode="CRD"), N("Reshape", ["d2s", "shp"], ["flat"]),
             N("Gemm", ["flat", "fc", "fcb"], ["y"], transB=1)]
    m.save("cnn_misc", nodes, inits, [vi("x", [1, 3, 11, 11])], [vi("y", [1, 3])], [m.uniform(1, 3, 11, 11)])


def manual_ops(m):
    t = 5
    inits = [m.w("wa", 6, 4), m.w("wc", 4, s=.1), c("ax", [1], np.int64), m.w("ew", 3, 4, 4),
             c("tshape", [2, 1, 1], np.int64), c("reps", [1, 2, 1], np.int64), c("idx", [-1, 0], np.int64),
             c("start", 0, np.int64), c("limit", t, np.int64), c("delta", 1, np.int64), c("one64", [1], np.int64),
             c("zero64", [0], np.int64), c("ninf", -1e9)]
    nodes = [N("Gemm", ["x", "wa", "wc"], ["g"], transA=1, alpha=0.5, beta=2.0),
             N("ReduceMax", ["g"], ["mx"], axes=[1], keepdims=1), N("Sub", ["g", "mx"], ["gs"]),
             N("Exp", ["gs"], ["ge"]), N("ReduceSum", ["ge", "ax"], ["gsum"], keepdims=1),
             N("Div", ["ge", "gsum"], ["sm"]), N("Einsum", ["sm", "ew"], ["es"], equation="ti,kij->tkj"),
             N("Expand", ["sm", "tshape"], ["ex"]), N("Tile", ["ex", "reps"], ["ti"]),
             N("Gather", ["sm", "idx"], ["last_first"], axis=0),
             N("Range", ["start", "limit", "delta"], ["r"]), N("Unsqueeze", ["r", "one64"], ["rc"]),
             N("Unsqueeze", ["r", "zero64"], ["rr"]), N("Less", ["rc", "rr"], ["fut"]),
             N("Transpose", ["sm"], ["sm_t"], perm=[1, 0]), N("MatMul", ["sm", "sm_t"], ["sc"]),
             N("Where", ["fut", "ninf", "sc"], ["scm"]), N("Softmax", ["scm"], ["att"], axis=-1)]
    m.save("manual_ops", nodes, inits, [vi("x", [6, t])],
           [vi("es", [t, 3, 4]), vi("ti", [2, 2 * t, 4]), vi("last_first", [2, 4]), vi("att", [t, t])],
           [m.uniform(6, t)])


def mlp_misc(m):
    inits = [m.w("w1", 16, 10), m.w("b1", 16, s=.1), m.w("w2", 4, 16), m.w("b2", 4, s=.1), c("ax", [1], np.int64)]
    nodes = [N("Gemm", ["x", "w1", "b1"], ["a"], transB=1), N("Dropout", ["a"], ["b"]),
             N("LeakyRelu", ["b"], ["c"], alpha=0.01), N("Identity", ["c"], ["d"]),
             N("Gemm", ["d", "w2", "b2"], ["e"], transB=1), N("LogSoftmax", ["e"], ["y"], axis=1),
             N("ReduceSum", ["d", "ax"], ["z"], keepdims=0)]
    m.save("mlp_misc", nodes, inits, [vi("x", ["batch", 10])], [vi("y", ["batch", 4]), vi("z", ["batch"])],
           [m.uniform(1, 10)])


def bert_mask(m):
    """The attention mask as a model input: scores + (1 − mask)·(−10000)."""
    t, d = 4, 4
    inits = [m.w("wq", d, d), m.w("wk", d, d), m.w("wv", d, d), c("one", 1.0), c("big", -10000.0),
             c("ax1", [1], np.int64), c("sc", 0.5)]
    nodes = [N("MatMul", ["x", "wq"], ["q"]), N("MatMul", ["x", "wk"], ["k"]), N("MatMul", ["x", "wv"], ["v"]),
             N("Transpose", ["k"], ["kt"], perm=[0, 2, 1]), N("MatMul", ["q", "kt"], ["s"]), N("Mul", ["s", "sc"], ["s1"]),
             N("Unsqueeze", ["mask", "ax1"], ["m1"]), N("Sub", ["one", "m1"], ["m2"]), N("Mul", ["m2", "big"], ["m3"]),
             N("Add", ["s1", "m3"], ["s2"]), N("Softmax", ["s2"], ["a"], axis=-1), N("MatMul", ["a", "v"], ["y"])]
    m.save("bert_mask", nodes, inits, [vi("x", [1, t, d]), vi("mask", [1, t])], [vi("y", [1, t, d])],
           [m.uniform(1, t, d), np.array([[1, 1, 1, 0]])])


def groupnorm_same(m):
    """GroupNorm as exporters decompose it, after a SAME_UPPER convolution."""
    inits = [m.w("cw", 4, 2, 3, 3), m.w("cb", 4, s=.1), c("gshape", [1, 2, -1], np.int64), c("ones2", [1.0, 1.0]),
             c("zeros2", [0.0, 0.0]), c("back", [1, 4, 4, 4], np.int64), c("gg", 1.1 * np.ones((4, 1, 1))),
             c("gb", 0.05 * np.ones((4, 1, 1)))]
    nodes = [N("Conv", ["x", "cw", "cb"], ["a"], kernel_shape=[3, 3], auto_pad="SAME_UPPER"),
             N("Reshape", ["a", "gshape"], ["r"]),
             N("InstanceNormalization", ["r", "ones2", "zeros2"], ["inn"], epsilon=1e-5),
             N("Reshape", ["inn", "back"], ["r2"]), N("Mul", ["r2", "gg"], ["r3"]), N("Add", ["r3", "gb"], ["y"])]
    m.save("groupnorm_same", nodes, inits, [vi("x", [1, 2, 4, 4])], [vi("y", [1, 4, 4, 4])], [m.uniform(1, 2, 4, 4)])


def recurrent(m):
    """A bidirectional LSTM and a GRU with linear_before_reset (PyTorch's), 3 steps."""
    h, i, steps = 3, 2, 3
    inits = [m.w("W", 2, 4 * h, i), m.w("R", 2, 4 * h, h), m.w("B", 2, 8 * h, s=.1),
             m.w("GW", 1, 3 * h, i), m.w("GR", 1, 3 * h, h), m.w("GB", 1, 6 * h, s=.1)]
    nodes = [N("LSTM", ["x", "W", "R", "B"], ["Y", "Yh"], hidden_size=h, direction="bidirectional"),
             N("GRU", ["x", "GW", "GR", "GB"], ["GY", "GYh"], hidden_size=h, linear_before_reset=1)]
    m.save("recurrent", nodes, inits, [vi("x", [steps, 1, i])],
           [vi("Y", [steps, 2, 1, h]), vi("GYh", [1, 1, h])], [m.uniform(steps, 1, i)])


def gru_residual_external(m):
    """What PyTorch's default (dynamo) exporter writes for a GRU over 6 steps
    followed by a convolution whose residual tract folds into its bias: GRU
    with linear_before_reset, which tract runs as one whole-sequence op; the
    GRU's last state as a 1×1 image; a 3×3 convolution plus the residual; and
    every weight in network.onnx.data beside the model (ONNX external data)."""
    h, i, steps = 4, 3, 6
    inits = [m.w("W", 1, 3 * h, i), m.w("R", 1, 3 * h, h), m.w("B", 1, 6 * h, s=.1),
             m.w("K", h, h, 3, 3, s=.3), c("shape", [1, h, 1, 1], np.int64)]
    nodes = [N("GRU", ["x", "W", "R", "B"], ["Y", "Yh"], hidden_size=h, linear_before_reset=1),
             N("Reshape", ["Yh", "shape"], ["img"]),
             N("Conv", ["img", "K"], ["conv"], pads=[1, 1, 1, 1]),
             N("Add", ["conv", "img"], ["out"])]
    m.save("gru_residual_external", nodes, inits, [vi("x", [steps, 1, i])], [vi("out", [1, h, 1, 1])],
           [m.uniform(steps, 1, i)], external=True)


def quantised(m):
    """8-bit models as onnxruntime's static quantisation writes them: QDQ
    (QuantizeLinear/DequantizeLinear around Conv and MatMul) and QOperator
    (QLinearConv with a per-channel kernel scale, QLinearMatMul)."""
    kernel = m.rng.integers(-127, 128, size=(4, 2, 3, 3)).astype(np.int8)
    inits = [c("xs", 0.01), c("xz", 0, np.uint8), c("w_q", kernel, np.int8), c("ws", 0.004), c("wz", 0, np.int8),
             m.w("b", 4, s=.1), c("ys", 0.02), c("yz", 0, np.uint8),
             c("fw_q", m.rng.integers(-127, 128, size=(64, 3)).astype(np.int8), np.int8), c("fws", 0.003),
             c("fwz", 0, np.int8), c("shp", [1, -1], np.int64),
             c("qws", [0.004, 0.005, 0.003, 0.006]), c("qwz", [0, 0, 0, 0], np.int8), c("qys", 0.03),
             c("qyz", 128, np.uint8), c("qb", m.rng.integers(-100, 100, size=4).astype(np.int32), np.int32)]
    nodes = [N("QuantizeLinear", ["x", "xs", "xz"], ["xq"]), N("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
             N("DequantizeLinear", ["w_q", "ws", "wz"], ["wd"]),
             N("Conv", ["xd", "wd", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]), N("Relu", ["c"], ["r"]),
             N("QuantizeLinear", ["r", "ys", "yz"], ["rq"]), N("DequantizeLinear", ["rq", "ys", "yz"], ["rd"]),
             N("Reshape", ["rd", "shp"], ["f"]), N("DequantizeLinear", ["fw_q", "fws", "fwz"], ["fwd"]),
             N("MatMul", ["f", "fwd"], ["qdq"]),
             N("QLinearConv", ["xq", "xs", "xz", "w_q", "qws", "qwz", "qys", "qyz", "qb"], ["cq"],
               kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             N("DequantizeLinear", ["cq", "qys", "qyz"], ["qop"]),
             N("Reshape", ["cq", "shp"], ["cqf"]),
             N("QLinearMatMul", ["cqf", "qys", "qyz", "fw_q", "fws", "fwz", "mms", "mmz"], ["mq"]),
             N("DequantizeLinear", ["mq", "mms", "mmz"], ["qmm"])]
    inits += [c("mms", 0.05), c("mmz", 128, np.uint8)]
    m.save("quantised", nodes, inits, [vi("x", [1, 2, 4, 4])],
           [vi("qdq", [1, 3]), vi("qop", [1, 4, 4, 4]), vi("qmm", [1, 3])], [m.rng.uniform(0, 1, (1, 2, 4, 4))])


def dynamic_quantised(m):
    """8-bit dynamic quantisation as onnxruntime's quantize_dynamic writes it:
    DynamicQuantizeLinear on each activation, ConvInteger and MatMulInteger with
    8-bit weights (uint8 with a zero point, int8, and uint8 with per-column
    zero points and scales), Cast to float, Mul by the product of the two
    scales, then the float bias."""
    k_q = m.rng.integers(0, 256, size=(4, 2, 3, 3)).astype(np.uint8)
    w1_q = m.rng.integers(-127, 128, size=(64, 16)).astype(np.int8)
    w2_q = m.rng.integers(0, 256, size=(16, 3)).astype(np.uint8)
    inits = [c("k_quantized", k_q, np.uint8), c("k_scale", 0.003), c("k_zero_point", 120, np.uint8),
             m.w("kb", 4, s=.1), c("kb_shape", [1, 4, 1, 1], np.int64),
             c("w1_quantized", w1_q, np.int8), c("w1_scale", 0.004), c("w1_zero_point", 0, np.int8), m.w("b1", 16, s=.1),
             c("w2_quantized", w2_q, np.uint8), c("w2_scale", [0.005, 0.004, 0.006]),
             c("w2_zero_point", [120, 128, 135], np.uint8),
             m.w("b2", 3, s=.1), c("shp", [1, -1], np.int64)]

    def integer_layer(kind, x, w, out, extra):
        return [N("DynamicQuantizeLinear", [x], [f"{x}_quantized", f"{x}_scale", f"{x}_zero_point"]),
                N("Mul", [f"{x}_scale", f"{w}_scale"], [f"{x}_{w}_scale"]),
                N(kind, [f"{x}_quantized", f"{w}_quantized", f"{x}_zero_point", f"{w}_zero_point"],
                  [f"{out}_quantized"], **extra),
                N("Cast", [f"{out}_quantized"], [f"{out}_cast"], to=TensorProto.FLOAT),
                N("Mul", [f"{out}_cast", f"{x}_{w}_scale"], [f"{out}_scaled"])]

    nodes = [N("Reshape", ["kb", "kb_shape"], ["kb_reshaped"])]
    nodes += integer_layer("ConvInteger", "x", "k", "c", dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
    nodes += [N("Add", ["c_scaled", "kb_reshaped"], ["c"]), N("Relu", ["c"], ["r"]), N("Reshape", ["r", "shp"], ["f"])]
    nodes += integer_layer("MatMulInteger", "f", "w1", "m1", {})
    nodes += [N("Add", ["m1_scaled", "b1"], ["a1"]), N("Relu", ["a1"], ["h"])]
    nodes += integer_layer("MatMulInteger", "h", "w2", "m2", {})
    nodes += [N("Add", ["m2_scaled", "b2"], ["y"])]
    m.save("dynamic_quantised", nodes, inits, [vi("x", [1, 2, 4, 4])], [vi("y", [1, 3])],
           [m.rng.uniform(-1, 1, (1, 2, 4, 4))])


def control_flow(m):
    """Control flow as exporters write it, checked against onnxruntime:
    tf2onnx's `while` loop for a Keras recurrent layer (a counter and a time
    step carried and compared with the length, the input read by Gather at the
    time step, the weights carried unchanged, the states stacked as a scan
    output); PyTorch's scripted `for` loop (a constant trip count, the
    condition passed through, the counter used as a number); an `If` on a
    static shape (constant condition) and one on a computed value (both
    branches computed, then selected)."""
    steps, i, h = 5, 3, 4
    body_w = helper.make_graph(
        [N("Gather", ["xs", "time"], ["xt"], axis=0),
         N("MatMul", ["xt", "W_in"], ["xw"]), N("MatMul", ["h_in", "U_in"], ["hu"]),
         N("Add", ["xw", "hu"], ["pre"]), N("Add", ["pre", "rnn_b"], ["pre_b"]), N("Tanh", ["pre_b"], ["h_out"]),
         N("Identity", ["h_out"], ["h_scan"]),
         N("Add", ["time", "one"], ["time_out"]),
         N("Cast", ["time_out"], ["time_f"], to=TensorProto.FLOAT), N("Less", ["time_f", "len_f"], ["below"]),
         N("Cast", ["counter"], ["counter_f"], to=TensorProto.FLOAT), N("Less", ["counter_f", "len_f"], ["under"]),
         N("And", ["below", "under"], ["cond_out"])],
        "while_body",
        [vi("counter", [], TensorProto.INT64), vi("cond_in", [], TensorProto.BOOL), vi("time", [], TensorProto.INT32),
         vi("h_in", [1, h]), vi("W_in", [i, h]), vi("U_in", [h, h])],
        [vi("cond_out", [], TensorProto.BOOL), vi("time_out", [], TensorProto.INT32), vi("h_out", [1, h]),
         vi("W_in", [i, h]), vi("U_in", [h, h]), vi("h_scan", [1, h])],
        [c("one", 1, np.int32), c("len_f", float(steps)), m.w("rnn_b", 1, h, s=.1)])
    body_for = helper.make_graph(
        [N("Cast", ["iter"], ["iter_f"], to=TensorProto.FLOAT), N("Mul", ["iter_f", "tenth"], ["shift"]),
         N("MatMul", ["acc", "V"], ["av"]), N("Add", ["av", "shift"], ["pre"]), N("Relu", ["pre"], ["acc_out"]),
         N("Mul", ["acc_out", "two"], ["doubled"]), N("Identity", ["go"], ["go_out"])],
        "for_body",
        [vi("iter", [], TensorProto.INT64), vi("go", [], TensorProto.BOOL), vi("acc", [1, h])],
        [vi("go_out", [], TensorProto.BOOL), vi("acc_out", [1, h]), vi("doubled", [1, h])],
        [c("tenth", 0.1), c("two", 2.0)])
    then_static = helper.make_graph([N("Mul", ["last", "half"], ["scaled"])], "then_static", [],
                                    [vi("scaled", [1, h])], [c("half", 0.5)])
    else_static = helper.make_graph([N("Sigmoid", ["last"], ["squashed"])], "else_static", [],
                                    [vi("squashed", [1, h])])
    then_computed = helper.make_graph([N("Relu", ["h_final"], ["kept"])], "then_computed", [], [vi("kept", [1, h])])
    else_computed = helper.make_graph([N("Neg", ["h_final"], ["flipped"]), N("Mul", ["flipped", "quarter"], ["small"])],
                                      "else_computed", [], [vi("small", [1, h])], [c("quarter", 0.25)])
    inits = [c("perm_shape", [steps, 1, i], np.int64), c("max", steps, np.int64), c("t0", 0, np.int32),
             c("zero_f", 0.0), c("len0", float(steps)), c("h0", np.zeros((1, h))), m.w("W", i, h), m.w("U", h, h),
             c("trip", 3, np.int64), c("yes", True, np.bool_), m.w("V", h, h), c("one_idx", 1, np.int64),
             c("expected_steps", steps, np.int64)]
    nodes = [N("Transpose", ["x"], ["xt_all"], perm=[1, 0, 2]), N("Reshape", ["xt_all", "perm_shape"], ["xs"]),
             N("Less", ["zero_f", "len0"], ["c0"]), N("And", ["c0", "c0"], ["cond0"]),
             N("Loop", ["max", "cond0", "t0", "h0", "W", "U"], ["t_final", "h_final", "W_out", "U_out", "hs"],
               body=body_w),
             N("Loop", ["trip", "yes", "h_final"], ["last", "doubled_all"], body=body_for),
             N("Shape", ["x"], ["x_shape"]), N("Gather", ["x_shape", "one_idx"], ["seq_len"], axis=0),
             N("Equal", ["seq_len", "expected_steps"], ["static_cond"]),
             N("If", ["static_cond"], ["picked"], then_branch=then_static, else_branch=else_static),
             N("ReduceSum", ["h_final"], ["total"], keepdims=0), N("Greater", ["total", "zero_f"], ["positive"]),
             N("If", ["positive"], ["selected"], then_branch=then_computed, else_branch=else_computed)]
    m.save("control_flow", nodes, inits, [vi("x", [1, steps, i])],
           [vi("hs", [steps, 1, h]), vi("doubled_all", [3, 1, h]), vi("picked", [1, h]), vi("selected", [1, h])],
           [m.uniform(1, steps, i)], expected=True)


def onnx_semantics(m):
    """Uses where tract alone would not give ONNX's result, checked against
    onnxruntime: a reverse LSTM (tract runs it forward), Gather by a computed
    negative index (counted from the end), ScatterElements adding duplicates,
    ReduceLogSumExp of values up to 30 (past the exponential's table), the
    logarithm of values up to 420 and acosh of values up to 49 (past their
    tables), Pow by a different integer exponent per column of a negative
    base, MatMul broadcasting size-1 batch axes on both sides, and
    ReverseSequence over the first 3 of 4 steps (tract cannot load it)."""
    t, b, i, h = 4, 1, 3, 4
    inits = [m.w("W", 1, 4 * h, i), m.w("R", 1, 4 * h, h), c("flat_shape", [t * b * i], np.int64),
             c("len", t * b * i, np.int64), c("zeros", np.zeros(6)), c("scatter_at", [0, 2, 2, 5], np.int64),
             c("s0", [0], np.int64), c("s4", [4], np.int64), c("thirty", 30.0), c("four_hundred", 400.0),
             c("twenty", 20.0), c("forty", 40.0), c("nine", 9.0), c("exponents", [1.0, 2.0, 3.0]),
             c("a_shape", [2, 1, 2, 3], np.int64), m.w("B", 1, 2, 3, 2), c("lens", [t - 1], np.int64)]
    nodes = [N("LSTM", ["x", "W", "R"], ["Y", "Y_h"], direction="reverse", hidden_size=h),
             N("Reshape", ["x", "flat_shape"], ["flat"]),
             N("ArgMax", ["flat"], ["top"], axis=0, keepdims=1), N("Sub", ["top", "len"], ["from_end"]),
             N("Gather", ["flat", "from_end"], ["picked"], axis=0),
             N("Slice", ["flat", "s0", "s4"], ["first4"]),
             N("ScatterElements", ["zeros", "scatter_at", "first4"], ["scattered"], axis=0, reduction="add"),
             N("Mul", ["x", "thirty"], ["big"]), N("ReduceLogSumExp", ["big"], ["lse"], axes=[2], keepdims=0),
             N("Mul", ["x", "x"], ["sq"]), N("Mul", ["sq", "four_hundred"], ["sq400"]),
             N("Add", ["sq400", "twenty"], ["large"]), N("Log", ["large"], ["log_large"]),
             N("Abs", ["x"], ["ax"]), N("Mul", ["ax", "forty"], ["ax40"]), N("Add", ["ax40", "nine"], ["past"]),
             N("Acosh", ["past"], ["acosh_past"]),
             N("Pow", ["x", "exponents"], ["powers"]),
             N("Reshape", ["x", "a_shape"], ["a"]), N("MatMul", ["a", "B"], ["broadcast_product"]),
             N("ReverseSequence", ["x", "lens"], ["reversed"], time_axis=0, batch_axis=1)]
    m.save("onnx_semantics", nodes, inits, [vi("x", [t, b, i])],
           [vi("Y", [t, 1, b, h]), vi("Y_h", [1, b, h]), vi("picked", [1]), vi("scattered", [6]), vi("lse", [t, b]),
            vi("log_large", [t, b, i]), vi("acosh_past", [t, b, i]), vi("powers", [t, b, i]),
            vi("broadcast_product", [2, 2, 2, 2]), vi("reversed", [t, b, i])],
           [m.uniform(t, b, i)], expected=True)


def attention_op(m):
    """ONNX's fused Attention (opset 23) and Swish with alpha (opset 24),
    checked against onnxruntime: a boolean mask (tract would add it as 0/1),
    a causal mask, and a slope tract would ignore."""
    s, d = 3, 4
    mask = np.array([[True, False, True], [True, True, False], [False, True, True]])
    inits = [c("half", 0.5), nh.from_array(mask, "mask")]
    nodes = [N("Mul", ["x", "half"], ["k"]),
             N("Attention", ["x", "k", "x", "mask"], ["masked"]),
             N("Attention", ["x", "k", "x"], ["causal"], is_causal=1),
             N("Swish", ["x"], ["swish"], alpha=0.5)]
    m.save("attention_op", nodes, inits, [vi("x", [1, 2, s, d])],
           [vi("masked", [1, 2, s, d]), vi("causal", [1, 2, s, d]), vi("swish", [1, 2, s, d])],
           [m.uniform(1, 2, s, d)], expected=True,
           opset=24)


MODELS = [transformer_block, mobilenet_block, unet_tiny, conv1d_gelu, misc_ops, embedding, cnn_misc, manual_ops,
          mlp_misc, bert_mask, groupnorm_same, recurrent, quantised, dynamic_quantised, gru_residual_external,
          control_flow, onnx_semantics, attention_op]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "data", "export_patterns")
    for i, make in enumerate(MODELS):
        make(Models(out, 20261126 + i))
    print(f"wrote {len(MODELS)} models under {out}")


if __name__ == "__main__":
    main()
