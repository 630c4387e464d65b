//! Softmax over axes, as the circuit proves it: `m = max(x)`, `e_i = exp(x_i − m)`
//! (a table lookup; every input is at most 0), `s = Σ e_i`, `y_i = e_i / s` (a
//! division by a positive value, `s ≥ 1` since one `e_i` is `e^0`). LogSoftmax
//! is `y_i = x_i − m − ln s`, one logarithm per group ([`super::math`]).
//!
//! Masked elements (an attention mask written as −∞ or a huge negative constant,
//! or added as one: [`MASKED_AT_OR_BELOW`]) weigh exactly 0 in float: where
//! their group has an element that is not masked, they leave the max and the
//! sum, and their output is the constant 0 (LogSoftmax: −∞).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::nn::{Softmax, SoftmaxKind};
use tract_transformers::ops::scaled_masked_softmax::ScaledMaskedSoftmax;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{broadcast_indices, strides, Value};
use super::math::{self, Namer};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem, FGraph, FOp, View};
use crate::func::Func;
use crate::ir::ReduceKind;

pub(crate) struct SoftmaxLowering;

/// A constant input at or below this is a masked position: `e^(c − max)` is 0
/// in float32 for any max a circuit can hold (PyTorch masks with −∞, −1e9 or
/// float32's lowest; BERT-style −10000 additive masks meet this too).
pub(crate) const MASKED_AT_OR_BELOW: f64 = -1.0e4;

/// A constant at or below [`MASKED_AT_OR_BELOW`], or a computed element with
/// such an offset on terms of total weight at most 1 (an additive mask on
/// possibly scaled scores, `x/√d + (−1e9)`): `e^(x + c − max)` is 0 unless an
/// activation reached 10⁴. A mask computed from an input (BERT's
/// `(1 − m)·(−10000)`) has a heavy term and stays an ordinary element.
fn is_masked(g: &FGraph, e: &Elem) -> bool {
    match e {
        Elem::Const(c) => *c <= MASKED_AT_OR_BELOW,
        Elem::Ref(r) => match &g.nodes[r.node as usize].op {
            FOp::Linear(l) => {
                let i = r.index as usize;
                l.bias[i] <= MASKED_AT_OR_BELOW && l.terms.row(i).iter().map(|(_, w)| w.abs()).sum::<f64>() <= 1.0
            }
            _ => false,
        },
    }
}

impl Lowering for SoftmaxLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<Softmax>()
    }

    fn supports(&self, node: &TypedNode, _const_inputs: &[bool]) -> std::result::Result<(), String> {
        match node.op_as::<Softmax>() {
            Some(s) if s.quant_output_dt.is_some() => Err("quantised (integer) softmax is not supported".into()),
            Some(_) => Ok(()),
            None => Err("not a Softmax".into()),
        }
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<Softmax>().ok_or_else(|| ctx.fail("not a Softmax"))?.clone();
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let y = softmax(ctx, x, &op.axes, op.kind == SoftmaxKind::LogSoftmax)?;
        Ok(vec![Value::View(y)])
    }
}

/// Where a computed boolean attention mask is false, the score is lowered by
/// this much (as BERT's additive masks do): `e^(x − 10⁴ − max)` is 0. The
/// rewrite that turns a boolean ONNX Attention mask into a bias uses it too.
pub(crate) const MASK_PENALTY: f64 = 1.0e4;

/// tract's fused `softmax(x · scale + mask)` over the last axis (what an ONNX
/// `Attention` with a mask or `is_causal` becomes): a float mask is added, a
/// boolean one keeps the scores where it is true; with `post_softmax_mask`, the
/// probabilities are zeroed where it is false. A row a constant mask hides
/// entirely gets probabilities 0, as ONNX's Attention defines.
pub(crate) struct ScaledMaskedSoftmaxLowering;

impl Lowering for ScaledMaskedSoftmaxLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<ScaledMaskedSoftmax>()
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<ScaledMaskedSoftmax>().ok_or_else(|| ctx.fail("not a ScaledMaskedSoftmax"))?.clone();
        let scale = op.scale.cast_to_scalar::<f32>().map_err(|e| ctx.fail(e.to_string()))? as f64;
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let mask = inputs[1].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let boolean = ctx.input_types.get(1) == Some(&DatumType::Bool);
        let at = broadcast_indices(&mask.shape, &x.shape);
        let rows = x
            .elems
            .iter()
            .zip(&at)
            .map(|(&e, &j)| match (boolean, mask.elems[j]) {
                (false, m) => AffineRow { bias: 0.0, terms: vec![(e, scale), (m, 1.0)] },
                (true, Elem::Const(c)) if c != 0.0 => AffineRow { bias: 0.0, terms: vec![(e, scale)] },
                (true, Elem::Const(_)) => AffineRow { bias: f64::NEG_INFINITY, terms: vec![] },
                (true, m) => AffineRow { bias: -MASK_PENALTY, terms: vec![(e, scale), (m, MASK_PENALTY)] },
            })
            .collect();
        let name = ctx.name().to_string();
        let mut scores = ctx.g.affine(&format!("{name}.scores"), "ScaledMaskedSoftmax", x.shape.clone(), rows);
        // A row a constant mask hides everywhere (false, or −∞) attends to
        // nothing: ONNX's Attention gives 0 there (opset 23 on). Its scores
        // are replaced by zeros, and its probabilities by zeros after the
        // softmax. (A finite bias, however negative, is an ordinary softmax.)
        let last = x.shape.len().saturating_sub(1);
        let width = x.shape.get(last).copied().unwrap_or(1).max(1);
        let hidden = |j: usize| match mask.elems[j] {
            Elem::Const(c) if boolean => c == 0.0,
            Elem::Const(c) => c == f64::NEG_INFINITY,
            Elem::Ref(_) => false,
        };
        let empty: Vec<bool> = at.chunks(width).map(|row| row.iter().all(|&j| hidden(j))).collect();
        for (row, _) in scores.elems.chunks_mut(width).zip(&empty).filter(|(_, e)| **e) {
            row.fill(Elem::Const(0.0));
        }
        let mut y = softmax(ctx, scores, &[last], false)?;
        for (row, _) in y.elems.chunks_mut(width).zip(&empty).filter(|(_, e)| **e) {
            row.fill(Elem::Const(0.0));
        }
        if op.post_softmax_mask && boolean {
            let pairs = y.elems.iter().zip(&at).map(|(&p, &j)| (p, mask.elems[j])).collect();
            y = ctx.g.multiply(&format!("{name}.kept"), "ScaledMaskedSoftmax", y.shape.clone(), pairs);
        }
        Ok(vec![Value::View(y)])
    }
}

/// Softmax (or LogSoftmax) of `x` over `axes` (see the module notes).
fn softmax(ctx: &mut Ctx<'_>, x: View, axes: &[usize], log: bool) -> Result<View> {
    let shape = x.shape.clone();
    // Group the elements by their position outside the softmax axes.
    let group_shape: Vec<usize> =
        shape.iter().enumerate().map(|(d, n)| if axes.contains(&d) { 1 } else { *n }).collect();
    let (si, so) = (strides(&shape), strides(&group_shape));
    let groups_n: usize = group_shape.iter().product();
    let mut group_of = Vec::with_capacity(x.elems.len());
    for flat in 0..x.elems.len() {
        let g: usize =
            (0..shape.len()).filter(|d| !axes.contains(d)).map(|d| ((flat / si[d]) % shape[d]) * so[d]).sum();
        group_of.push(g);
    }
    // A masked element drops out where its group keeps another element.
    let masked: Vec<bool> = x.elems.iter().map(|e| is_masked(ctx.g, e)).collect();
    let mut live = vec![false; groups_n];
    for (m, g) in masked.iter().zip(&group_of) {
        live[*g] |= !m;
    }
    let dropped: Vec<bool> = masked.iter().zip(&group_of).map(|(m, g)| *m && live[*g]).collect();
    let mut groups: Vec<Vec<Elem>> = vec![Vec::new(); groups_n];
    for ((e, g), drop) in x.elems.iter().zip(&group_of).zip(&dropped) {
        if !drop {
            groups[*g].push(*e);
        }
    }
    let name = ctx.name().to_string();
    let origin = "Softmax";
    let group_size = groups.iter().map(Vec::len).max().unwrap_or(0);
    let max = ctx.g.reduce(&format!("{name}.max"), origin, ReduceKind::Max, group_shape.clone(), groups);
    let shifted_rows = x
        .elems
        .iter()
        .zip(&group_of)
        .zip(&dropped)
        .map(|((e, g), drop)| match drop {
            true => AffineRow::default(),
            false => AffineRow { bias: 0.0, terms: vec![(*e, 1.0), (max.elems[*g], -1.0)] },
        })
        .collect();
    let shifted = ctx.g.affine(&format!("{name}.shift"), origin, shape.clone(), shifted_rows);
    let mut exp = ctx.g.map(&format!("{name}.exp"), origin, Func::ExpNeg, shape.clone(), &shifted.elems);
    for (e, drop) in exp.elems.iter_mut().zip(&dropped) {
        if *drop {
            *e = Elem::Const(0.0);
        }
    }
    let mut sum_rows = vec![AffineRow::default(); groups_n];
    for ((e, g), drop) in exp.elems.iter().zip(&group_of).zip(&dropped) {
        if !drop {
            sum_rows[*g].terms.push((*e, 1.0));
        }
    }
    let sums = ctx.g.affine(&format!("{name}.sum"), origin, group_shape, sum_rows);
    if log {
        let n = Namer { name: &name, origin: "LogSoftmax" };
        let mut y = math::log_softmax(ctx.g, &n, shape, &shifted.elems, &sums, &group_of, group_size);
        for (e, drop) in y.elems.iter_mut().zip(&dropped) {
            if *drop {
                *e = Elem::Const(f64::NEG_INFINITY);
            }
        }
        return Ok(y);
    }
    let kept: Vec<usize> = (0..x.elems.len()).filter(|&i| !dropped[i]).collect();
    let pairs = kept.iter().map(|&i| (exp.elems[i], sums.elems[group_of[i]])).collect();
    let quotients = ctx
        .g
        .divide(&name, origin, vec![kept.len()], pairs)
        .ok_or_else(|| ctx.fail("a constant numerator over a computed sum"))?;
    let mut elems = vec![Elem::Const(0.0); x.elems.len()];
    for (&i, q) in kept.iter().zip(quotients.elems) {
        elems[i] = q;
    }
    Ok(View { shape, elems })
}
