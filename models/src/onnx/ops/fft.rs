//! tract's `Fft` (ONNX DFT) and `Stft` (ONNX STFT): discrete Fourier transforms
//! of tensors whose last axis holds `[re, im]`, unnormalised (tract scales an
//! inverse afterwards). With constant lengths they are linear maps: each output
//! `X_k = Σ_n w_n·x_n·e^(∓2πi·kn/N)` is one affine row over the `2N` inputs of
//! its line (or frame), with `cos` and `sin` weights (times the STFT window).

use std::f64::consts::TAU;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::fft::{Fft, Stft};

use super::super::lower::{Ctx, Lowering};
use super::super::value::{strides, Value};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem};

pub(crate) struct FftLowering;

impl Lowering for FftLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<Fft>()
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<Fft>().ok_or_else(|| ctx.fail("not an Fft"))?.clone();
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let rank = x.shape.len();
        if rank < 2 || x.shape[rank - 1] != 2 || op.axis >= rank - 1 {
            return Err(ctx.fail(format!("Fft along axis {} of shape {:?} (last axis [re, im])", op.axis, x.shape)));
        }
        let st = strides(&x.shape);
        let len = x.shape[op.axis];
        // Forward e^(−iθ), inverse e^(+iθ).
        let sign = if op.inverse { 1.0 } else { -1.0 };
        let rows = (0..x.elems.len())
            .map(|flat| {
                let k = (flat / st[op.axis]) % len;
                let part = flat % 2;
                let line = flat - k * st[op.axis] - part;
                let samples: Vec<(Elem, Elem)> =
                    (0..len).map(|n| (x.elems[line + n * st[op.axis]], x.elems[line + n * st[op.axis] + 1])).collect();
                transform_row(&samples, None, k, part, sign)
            })
            .collect();
        let name = ctx.name().to_string();
        Ok(vec![Value::View(ctx.g.affine(&name, "DFT", x.shape.clone(), rows))])
    }
}

/// One output of a transform of `samples` (each `(re, im)`, optionally times a
/// window): bin `k`, real (`part` 0) or imaginary part, `e^(sign·iθ)`.
fn transform_row(samples: &[(Elem, Elem)], window: Option<&[f64]>, k: usize, part: usize, sign: f64) -> AffineRow {
    let len = samples.len();
    let terms = samples
        .iter()
        .enumerate()
        .flat_map(|(n, &(re, im))| {
            let theta = TAU * ((k * n) % len) as f64 / len as f64;
            let w = window.map_or(1.0, |w| w[n]);
            let (s, c) = (w * sign * theta.sin(), w * theta.cos());
            // (re + i·im)(c + i·s) = (re·c − im·s) + i(re·s + im·c)
            if part == 0 {
                [(re, c), (im, -s)]
            } else {
                [(re, s), (im, c)]
            }
        })
        .filter(|(_, w)| w.abs() > 1e-15)
        .collect();
    AffineRow { bias: 0.0, terms }
}

pub(crate) struct StftLowering;

impl Lowering for StftLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<Stft>()
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<Stft>().ok_or_else(|| ctx.fail("not an Stft"))?.clone();
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let rank = x.shape.len();
        if rank < 2 || x.shape[rank - 1] != 2 || op.axis >= rank - 1 || op.frame == 0 || op.stride == 0 {
            return Err(ctx.fail(format!("STFT along axis {} of shape {:?}", op.axis, x.shape)));
        }
        if x.shape[op.axis] < op.frame {
            return Err(ctx.fail(format!("STFT frame {} longer than the signal {}", op.frame, x.shape[op.axis])));
        }
        // The window, zero-padded to the frame and centred (as tract does).
        let window = match &op.window {
            None => None,
            Some(w) => {
                let w = super::super::value::tensor_to_f64(w).map_err(|e| ctx.fail(e.to_string()))?;
                if w.len() > op.frame {
                    return Err(ctx.fail("the STFT window is longer than the frame"));
                }
                let left = (op.frame - w.len()) / 2;
                let mut padded = vec![0.0; op.frame];
                padded[left..left + w.len()].copy_from_slice(&w);
                Some(padded)
            }
        };
        let frames = (x.shape[op.axis] - op.frame) / op.stride + 1;
        let mut out_shape = x.shape.clone();
        out_shape[op.axis] = frames;
        out_shape.insert(op.axis + 1, op.frame);
        let (ist, ost) = (strides(&x.shape), strides(&out_shape));
        let n_out: usize = out_shape.iter().product();
        let rows = (0..n_out)
            .map(|o| {
                let coords: Vec<usize> = (0..out_shape.len()).map(|d| (o / ost[d]) % out_shape[d]).collect();
                let (f, k, part) = (coords[op.axis], coords[op.axis + 1], coords[out_shape.len() - 1]);
                let base: usize = (0..rank - 1)
                    .map(|i| match i.cmp(&op.axis) {
                        std::cmp::Ordering::Less => coords[i] * ist[i],
                        std::cmp::Ordering::Equal => f * op.stride * ist[i],
                        std::cmp::Ordering::Greater => coords[i + 1] * ist[i],
                    })
                    .sum();
                let samples: Vec<(Elem, Elem)> = (0..op.frame)
                    .map(|n| (x.elems[base + n * ist[op.axis]], x.elems[base + n * ist[op.axis] + 1]))
                    .collect();
                transform_row(&samples, window.as_deref(), k, part, -1.0)
            })
            .collect();
        let name = ctx.name().to_string();
        Ok(vec![Value::View(ctx.g.affine(&name, "STFT", out_shape, rows))])
    }
}
