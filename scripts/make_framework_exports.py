#!/usr/bin/env python3
"""Exports standard architectures the way users export them, for
scripts/bench_frameworks.py (not used by the test suite; nothing is committed):

    python3 -m venv /tmp/torch && /tmp/torch/bin/pip install -r scripts/requirements-torch.txt
    /tmp/torch/bin/python scripts/make_framework_exports.py OUT_DIR        # PyTorch and Hugging Face models
    python3 -m venv /tmp/keras && /tmp/keras/bin/pip install -r scripts/requirements-keras.txt
    /tmp/keras/bin/python scripts/make_framework_exports.py OUT_DIR        # Keras models through tf2onnx

Names after OUT_DIR export only those models.

Each model gets OUT_DIR/<name>/network.onnx (with network.onnx.data beside it
when the exporter writes external data, as torch.onnx.export does by default)
and input.json (EZKL's layout). Weights are the frameworks' random
initialisation with a fixed seed: what matters here is that the exporters'
graphs load, lower, prove and agree with onnxruntime, not what the weights
mean. Images are 32x32 (or 64x64 where a network needs it) so that the
circuits stay small. The PyTorch models use its default (dynamo) exporter
unless the name ends in `_legacy` (TorchScript exporter, opset 17) or
`_scripted` (a scripted module, through the TorchScript exporter: its Python
loop becomes an ONNX Loop) or in `_opset23` (opset 23, where attention is
ONNX's fused Attention operator). The Keras recurrent layers become ONNX Loops
too (tf2onnx's while loops), and torch.cond an ONNX If.
"""
import json
import os
import sys


def wanted(name):
    """Whether `name` is among the models named after OUT_DIR (all if none)."""
    return len(sys.argv) <= 2 or name in sys.argv[2:]


def save_inputs(d, arrays):
    with open(os.path.join(d, "input.json"), "w") as f:
        json.dump({"input_data": [[float(v) for v in a.reshape(-1).tolist()] for a in arrays]}, f)
        f.write("\n")


def export_torch(out):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision.models as tv
    import transformers as T

    torch.manual_seed(0)

    class LSTMBi(nn.Module):
        def __init__(s):
            super().__init__()
            s.l = nn.LSTM(8, 12, num_layers=2, bidirectional=True, batch_first=True)
            s.f = nn.Linear(24, 3)

        def forward(s, x):
            y, _ = s.l(x)
            return s.f(y[:, -1])

    class EmbGRU(nn.Module):
        def __init__(s):
            super().__init__()
            s.e = nn.Embedding(10, 6)
            s.g = nn.GRU(6, 8, batch_first=True)
            s.f = nn.Linear(8, 2)

        def forward(s, x):
            _, h = s.g(s.e(x))
            return torch.softmax(s.f(h[-1]), -1)

    class MHA(nn.Module):
        def __init__(s):
            super().__init__()
            s.a = nn.MultiheadAttention(16, 4, batch_first=True)
            s.n = nn.LayerNorm(16)

        def forward(s, x):
            y, _ = s.a(x, x, x)
            return s.n(x + y)

    class UNet(nn.Module):
        def __init__(s):
            super().__init__()
            s.d1 = nn.Conv2d(1, 4, 3, padding=1)
            s.d2 = nn.Conv2d(4, 8, 3, padding=1, stride=2)
            s.b = nn.BatchNorm2d(8)
            s.u = nn.ConvTranspose2d(8, 4, 2, stride=2)
            s.o = nn.Conv2d(8, 2, 1)

        def forward(s, x):
            a = torch.relu(s.d1(x))
            b = torch.relu(s.b(s.d2(a)))
            return torch.sigmoid(s.o(torch.cat([a, s.u(b)], 1)))

    class STN(nn.Module):
        """A spatial transformer: an affine grid predicted from the input, then
        GridSample (bilinear, zero padding) and a classifier."""

        def __init__(self):
            super().__init__()
            self.loc = nn.Sequential(nn.Flatten(), nn.Linear(64, 6))
            nn.init.normal_(self.loc[1].weight, std=0.02)
            self.loc[1].bias.data = torch.tensor([0.9, 0.1, 0.05, -0.1, 0.9, 0.0])
            self.head = nn.Linear(64, 3)

        def forward(self, x):
            grid = F.affine_grid(self.loc(x).view(-1, 2, 3), x.size(), align_corners=False)
            return self.head(F.grid_sample(x, grid, align_corners=False).flatten(1))

    class Audio(nn.Module):
        def __init__(s):
            super().__init__()
            s.c = nn.Conv1d(1, 8, 9, stride=2)
            s.c2 = nn.Conv1d(8, 8, 5, dilation=2)
            s.p = nn.AdaptiveAvgPool1d(4)
            s.f = nn.Linear(32, 4)

        def forward(s, x):
            return s.f(torch.flatten(s.p(nn.functional.gelu(s.c2(torch.tanh(s.c(x))))), 1))

    class Wrap(nn.Module):
        def __init__(s, m, key):
            super().__init__()
            s.m, s.key = m, key

        def forward(s, *a):
            return getattr(s.m(*a), s.key)

    class CharRNN(nn.Module):
        """A recurrence written as a Python loop (scripted: an ONNX Loop)."""
        def __init__(s):
            super().__init__()
            s.cell, s.out = nn.Linear(8 + 16, 16), nn.Linear(16, 4)

        def forward(s, x):
            h = torch.zeros(1, 16)
            for t in range(x.size(1)):
                h = torch.tanh(s.cell(torch.cat([x[:, t], h], 1)))
            return s.out(h)

    class Gated(nn.Module):
        """torch.cond on a computed value (an ONNX If)."""
        def __init__(s):
            super().__init__()
            s.a, s.b = nn.Linear(8, 8), nn.Linear(8, 8)

        def forward(s, x):
            return torch.cond(x.sum() > 0, lambda x: s.a(x).relu(), lambda x: s.b(x).sigmoid(), (x,))

    img = lambda size=32: torch.randn(1, 3, size, size)
    ids = torch.tensor([[5, 17, 3, 9, 22, 1]])
    small = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, vocab_size=64,
                 max_position_embeddings=16)
    models = {
        "resnet18": lambda: (tv.resnet18(num_classes=10), (img(),)),
        "resnet18_legacy": lambda: (tv.resnet18(num_classes=10), (img(),)),
        "mobilenet_v2": lambda: (tv.mobilenet_v2(num_classes=10, width_mult=0.25), (img(),)),
        "mobilenet_v3_small": lambda: (tv.mobilenet_v3_small(num_classes=10), (img(),)),
        "efficientnet_b0": lambda: (tv.efficientnet_b0(num_classes=10), (img(),)),
        "squeezenet1_1": lambda: (tv.squeezenet1_1(num_classes=10), (img(64),)),
        "shufflenet_v2": lambda: (tv.shufflenet_v2_x0_5(num_classes=10), (img(),)),
        "regnet_x_400mf": lambda: (tv.regnet_x_400mf(num_classes=10), (img(),)),
        "mnasnet": lambda: (tv.mnasnet0_5(num_classes=10), (img(),)),
        "densenet_tiny": lambda: (tv.DenseNet(growth_rate=8, block_config=(2, 2, 2), num_init_features=16,
                                              num_classes=10), (img(),)),
        "googlenet": lambda: (tv.googlenet(num_classes=10, aux_logits=False, init_weights=True), (img(64),)),
        "convnext_tiny": lambda: (tv.convnext_tiny(num_classes=10), (img(),)),
        "vit_tiny": lambda: (tv.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                                  hidden_dim=32, mlp_dim=64, num_classes=10), (img(),)),
        "lstm_bi": lambda: (LSTMBi(), (torch.randn(1, 5, 8),)),
        "embedding_gru": lambda: (EmbGRU(), (torch.tensor([[1, 4, 2, 7, 3]]),)),
        "mha": lambda: (MHA(), (torch.randn(1, 5, 16),)),
        "transformer_encoder": lambda: (nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, batch_first=True),
                                                              2), (torch.randn(1, 6, 16),)),
        "unet_tiny": lambda: (UNet(), (torch.randn(1, 1, 16, 16),)),
        "char_rnn_scripted": lambda: (torch.jit.script(CharRNN()), (torch.randn(1, 6, 8),)),
        "torch_cond": lambda: (Gated(), (torch.randn(1, 8),)),
        "conv1d_audio": lambda: (Audio(), (torch.randn(1, 1, 128),)),
        "stn": lambda: (STN(), (torch.randn(1, 1, 8, 8),)),
        "bert": lambda: (Wrap(T.BertForSequenceClassification(T.BertConfig(**small, num_labels=3)), "logits"), (ids,)),
        "distilbert": lambda: (Wrap(T.DistilBertModel(T.DistilBertConfig(
            dim=32, n_layers=2, n_heads=2, hidden_dim=64, vocab_size=64, max_position_embeddings=16)),
            "last_hidden_state"), (ids,)),
        "gpt2": lambda: (Wrap(T.GPT2LMHeadModel(T.GPT2Config(n_embd=32, n_layer=2, n_head=2, vocab_size=64,
                                                             n_positions=16, use_cache=False)), "logits"), (ids,)),
        "llama": lambda: (Wrap(T.LlamaForCausalLM(T.LlamaConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, intermediate_size=64,
            vocab_size=64, max_position_embeddings=16, use_cache=False)), "logits"), (ids,)),
        "t5_encoder": lambda: (Wrap(T.T5EncoderModel(T.T5Config(d_model=32, d_kv=16, d_ff=64, num_layers=2,
                                                                 num_heads=2, vocab_size=64)),
                                    "last_hidden_state"), (ids,)),
        # At opset 23 the dynamo exporter writes scaled_dot_product_attention
        # as ONNX's fused Attention operator.
        "bert_opset23": lambda: (Wrap(T.BertForSequenceClassification(T.BertConfig(**small, num_labels=3)),
                                      "logits"), (ids,)),
        "gpt2_opset23": lambda: (Wrap(T.GPT2LMHeadModel(T.GPT2Config(n_embd=32, n_layer=2, n_head=2, vocab_size=64,
                                                                     n_positions=16, use_cache=False)), "logits"),
                                 (ids,)),
        "llama_opset23": lambda: (Wrap(T.LlamaForCausalLM(T.LlamaConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, intermediate_size=64,
            vocab_size=64, max_position_embeddings=16, use_cache=False)), "logits"), (ids,)),
        "vit_hf": lambda: (Wrap(T.ViTForImageClassification(T.ViTConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, image_size=16,
            patch_size=4, num_labels=5)), "logits"), (torch.randn(1, 3, 16, 16),)),
    }
    for name, make in models.items():
        if not wanted(name):
            continue
        model, args = make()
        model.eval()
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        legacy = name.endswith("_legacy") or name.endswith("_scripted")
        with torch.no_grad():
            opset = 17 if legacy else 23 if name.endswith("_opset23") else None
            torch.onnx.export(model, args, os.path.join(d, "network.onnx"), dynamo=not legacy, opset_version=opset)
        save_inputs(d, [a.numpy() for a in args])
        print("exported", name, flush=True)


def export_keras(out):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf
    import tf2onnx
    from tensorflow import keras
    L = keras.layers
    tf.random.set_seed(0)
    rng = np.random.default_rng(0)

    def attention():
        i = L.Input((6, 16))
        x = L.LayerNormalization()(i + L.MultiHeadAttention(2, 8)(i, i))
        return keras.Model(i, L.Dense(4)(x))

    models = {
        "keras_cnn": lambda: (keras.Sequential([
            L.Input((28, 28, 1)), L.Conv2D(8, 3, activation="relu"), L.MaxPooling2D(), L.BatchNormalization(),
            L.Conv2D(16, 3, padding="same", activation="swish"), L.GlobalAveragePooling2D(),
            L.Dense(10, activation="softmax")]), (28, 28, 1), np.float32),
        "keras_text": lambda: (keras.Sequential([
            L.Input((8,), dtype="int32"), L.Embedding(50, 8), L.Conv1D(8, 3, activation="relu"),
            L.GlobalMaxPooling1D(), L.Dense(2, activation="sigmoid")]), (8,), np.int32),
        "keras_attention": lambda: (attention(), (6, 16), np.float32),
        # Recurrent layers traced as functions become ONNX Loops (tf2onnx's while loops).
        "keras_lstm": lambda: (keras.Sequential([L.Input((10, 8)), L.LSTM(16), L.Dense(3)]), (10, 8), np.float32),
        # go_backwards: tf2onnx reverses the sequence with ReverseSequence.
        "keras_lstm_backwards": lambda: (keras.Sequential([L.Input((10, 8)), L.LSTM(16, go_backwards=True),
                                                           L.Dense(3)]), (10, 8), np.float32),
        "keras_gru_stacked": lambda: (keras.Sequential([
            L.Input((8, 6)), L.GRU(12, return_sequences=True), L.GRU(8), L.Dense(2, activation="softmax")]),
            (8, 6), np.float32),
        "keras_simple_rnn": lambda: (keras.Sequential([L.Input((12, 4)), L.SimpleRNN(8), L.Dense(1)]), (12, 4),
                                     np.float32),
        "keras_mobilenet_v2": lambda: (keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35,
                                                                      weights=None, classes=10), (32, 32, 3),
                                       np.float32),
    }
    for name, make in models.items():
        if not wanted(name):
            continue
        model, shape, dtype = make()
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        kind = tf.int32 if dtype == np.int32 else tf.float32
        spec = (tf.TensorSpec((1,) + shape, kind, name="x"),)
        # tf2onnx's from_keras does not know Keras 3 models; a traced function does.
        fn = tf.function(lambda x, m=model: m(x, training=False))
        tf2onnx.convert.from_function(fn, input_signature=spec, opset=17, output_path=os.path.join(d, "network.onnx"))
        x = rng.integers(0, 50, (1,) + shape) if dtype == np.int32 else rng.standard_normal((1,) + shape)
        save_inputs(d, [x.astype(dtype)])
        print("exported", name, flush=True)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "framework-exports"
    done = False
    for framework, export in (("torch", export_torch), ("tensorflow", export_keras)):
        try:
            __import__(framework)
        except ImportError:
            continue
        export(out)
        done = True
    if not done:
        sys.exit("neither torch nor tensorflow is installed: see the requirements files named at the top")


if __name__ == "__main__":
    main()
