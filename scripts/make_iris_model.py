#!/usr/bin/env python3
"""Generates the iris-code example: Daugman-style phase bits of Gabor responses.

    pip install -r scripts/requirements-demo.txt
    python3 scripts/make_iris_model.py [OUT_DIR]    # default: examples/iris

Writes OUT_DIR/network.onnx, OUT_DIR/input.json and OUT_DIR/input_other.json
(EZKL's input layout), deterministically.

The input is a normalised iris strip, 1x1x16x128 (16 radial samples from pupil to
limbus, 128 angular samples around the eye), 8-bit grey levels k/256 in [0, 1).
The network:

  1. wraps the angular axis around (Slice + Concat: the strip is a ring), 7 columns
     on each side;
  2. convolves with 4 complex 2D Gabor filters in polar coordinates, real and
     imaginary parts as 8 output channels (kernel 7 radial x 15 angular, stride 3
     radially and 8 angularly: 4 rings x 16 angles), each filter's mean removed so
     that it has no DC response, as Daugman's; the weights are multiples of 1/256
     that sum to exactly zero, so fixed point at scale >= 8 represents the filters
     and the images exactly and only responses within half a unit of zero can
     round to the other side;
  3. quantises the phase: Greater(response, 0), then Cast to float, giving the
     output "code": 8 x 4 x 16 = 512 bits (the sign of the real and of the
     imaginary part of each complex response).

The two sample images are synthetic but iris-like: radial furrows (noise smoothed
along the radius), a few angular sinusoids, crypts (dark blobs) and a collarette
band, each from its own seed.
"""
import json
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from onnx_example import finish, save

SEED = 20261126
RINGS, ANGLES = 16, 128
KH, KW = 7, 15
STRIDE = (3, 8)
WRAP = KW // 2
# Weights and grey levels are multiples of 2^-GRID_BITS: exact in fixed point at
# any scale >= GRID_BITS, so the proven responses are the float responses exactly.
GRID_BITS = 8
# (angular wavelength in samples, orientation of the wave vector in degrees,
#  radial and angular Gaussian widths in samples)
FILTERS = [
    (8.0, 0.0, 2.0, 3.0),
    (14.0, 0.0, 2.0, 4.5),
    (8.0, 35.0, 2.0, 3.0),
    (8.0, -35.0, 2.0, 3.0),
]


def on_grid_zero_sum(w):
    """`w` rounded to multiples of 2^-GRID_BITS with an exactly zero sum: the
    entries that rounded furthest in the direction of the excess move one step back."""
    unit = 2.0**GRID_BITS
    q = np.round(w * unit)
    excess = int(q.sum())
    if excess:
        error = (q - w * unit).flatten()
        order = np.argsort(-np.sign(excess) * error, kind="stable")[:abs(excess)]
        flat = q.flatten()
        flat[order] -= np.sign(excess)
        q = flat.reshape(w.shape)
    assert q.sum() == 0
    return q / unit


def gabor_bank():
    """Real and imaginary parts of each filter, zero mean (exactly, on the weight
    grid) and unit L2 norm before rounding: [8, 1, KH, KW]."""
    dr = np.arange(KH, dtype=np.float64) - KH // 2
    dt = np.arange(KW, dtype=np.float64) - KW // 2
    r, t = np.meshgrid(dr, dt, indexing="ij")
    kernels = []
    for wavelength, degrees, sigma_r, sigma_t in FILTERS:
        phi = np.deg2rad(degrees)
        envelope = np.exp(-r**2 / (2 * sigma_r**2) - t**2 / (2 * sigma_t**2))
        phase = 2 * np.pi / wavelength * (t * np.cos(phi) + r * np.sin(phi))
        for part in (envelope * np.cos(phase), envelope * np.sin(phase)):
            part = part - part.mean()
            kernels.append(on_grid_zero_sum(part / np.linalg.norm(part)))
    return np.stack(kernels)[:, None, :, :].astype(np.float32)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def build():
    inits = [
        numpy_helper.from_array(gabor_bank(), "gabor.weight"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
        ints("tail.starts", [ANGLES - WRAP]),
        ints("tail.ends", [ANGLES]),
        ints("head.starts", [0]),
        ints("head.ends", [WRAP]),
        ints("angle_axis", [3]),
    ]
    nodes = [
        helper.make_node("Slice", ["input", "tail.starts", "tail.ends", "angle_axis"], ["tail"], name="wrap_tail"),
        helper.make_node("Slice", ["input", "head.starts", "head.ends", "angle_axis"], ["head"], name="wrap_head"),
        helper.make_node("Concat", ["tail", "input", "head"], ["ring"], name="wrap", axis=3),
        helper.make_node("Conv", ["ring", "gabor.weight"], ["response"], name="gabor",
                         kernel_shape=[KH, KW], strides=list(STRIDE)),
        helper.make_node("Greater", ["response", "zero"], ["positive"], name="phase_bit"),
        helper.make_node("Cast", ["positive"], ["code"], name="to_float", to=TensorProto.FLOAT),
    ]
    out_h = (RINGS - KH) // STRIDE[0] + 1
    out_w = (ANGLES + 2 * WRAP - KW) // STRIDE[1] + 1
    graph = helper.make_graph(
        nodes,
        "zkinfer_iris_code",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch_size", 1, RINGS, ANGLES])],
        [helper.make_tensor_value_info("code", TensorProto.FLOAT, ["batch_size", 2 * len(FILTERS), out_h, out_w])],
        inits,
    )
    return finish(graph, "zkinfer make_iris_model.py")


def smooth(a, axis, width):
    """Circular moving average of `a` along `axis` over `width` samples."""
    out = np.zeros_like(a)
    for s in range(-(width // 2), width // 2 + 1):
        out += np.roll(a, s, axis=axis)
    return out / (2 * (width // 2) + 1)


def iris(rng):
    """A synthetic normalised iris strip in [0, 1], shape [RINGS, ANGLES]."""
    r = (np.arange(RINGS)[:, None] + 0.5) / RINGS  # 0 at the pupil, 1 at the limbus
    t = np.arange(ANGLES)[None, :] * 2 * np.pi / ANGLES
    # Radial furrows: noise elongated along the radius, fine along the angle.
    furrows = smooth(smooth(rng.normal(size=(RINGS, ANGLES)), 0, 9), 1, 3)
    furrows /= furrows.std()
    # A few angular sinusoids whose phase drifts with the radius.
    waves = np.zeros((RINGS, ANGLES))
    for _ in range(4):
        k = rng.randint(3, 17)
        waves += rng.uniform(0.3, 1.0) * np.cos(k * t + rng.uniform(0, 2 * np.pi) + rng.uniform(-2, 2) * r)
    waves /= np.abs(waves).max()
    # Crypts: dark blobs, wrapping around the angle.
    crypts = np.zeros((RINGS, ANGLES))
    for _ in range(rng.randint(4, 8)):
        r0, t0 = rng.uniform(0.2, 0.9), rng.uniform(0, 2 * np.pi)
        dt = np.angle(np.exp(1j * (t - t0)))
        crypts += np.exp(-((r - r0) / 0.08) ** 2 - (dt / rng.uniform(0.05, 0.12)) ** 2)
    # The collarette: a brighter ring about a third of the way out.
    collarette = np.exp(-((r - rng.uniform(0.28, 0.4)) / 0.06) ** 2) * np.ones((1, ANGLES))
    image = 0.45 + 0.12 * furrows + 0.08 * waves - 0.25 * crypts + 0.15 * collarette + 0.1 * r
    image += 0.02 * rng.normal(size=(RINGS, ANGLES))
    # 8-bit grey levels, as a camera gives (k / 2^GRID_BITS).
    levels = 2.0**GRID_BITS
    return (np.clip(np.round(image * levels), 0, levels - 1) / levels).astype(np.float32)


def write_input(path, image):
    with open(path, "w") as f:
        # Grey levels k/256 print exactly (at most 8 decimals).
        json.dump({"input_data": [[float(v) for v in image.flatten()]]}, f)
        f.write("\n")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("examples", "iris")
    os.makedirs(out, exist_ok=True)
    model = build()
    save(out, model)
    write_input(os.path.join(out, "input.json"), iris(np.random.RandomState(SEED)))
    write_input(os.path.join(out, "input_other.json"), iris(np.random.RandomState(SEED + 1)))
    print(f"wrote {out}/network.onnx, {out}/input.json and {out}/input_other.json")


if __name__ == "__main__":
    main()
