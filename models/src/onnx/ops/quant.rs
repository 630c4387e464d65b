//! `QuantizeLinear` and `DequantizeLinear` on computed tensors (QDQ models: the
//! "fake quantisation" an 8-bit export wraps around each layer). tract keeps them
//! as `QuantizeLinearU8`/`I8` (element-wise, holding `1/scale`) and
//! `DequantizeLinearF32`; constant ones fold away. Quantise:
//! `clamp(round_half_even(x / scale) + zero_point, qmin, qmax)` by an affine map,
//! the exact rounding ([`super::math::rounding`]) and two clamps; dequantise:
//! `(q − zero_point) · scale`, one affine map. The integer `q` is carried as a
//! value like any other (at the graph scale), so the circuit proves exactly the
//! rounding and saturation that 8-bit inference performs.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;
use tract_onnx::tract_core::ops::quant::{DequantizeLinearF32, QuantizeLinearI8, QuantizeLinearU8};

use super::super::lower::{Ctx, Lowering};
use super::super::value::Value;
use super::math::{self, Namer};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem, FGraph, View};
use crate::ir::ReduceKind;

pub(crate) struct QuantLowering;

/// `(1/scale, zero point, qmin, qmax)` of a quantising node.
fn quantizer(node: &TypedNode) -> Option<(f64, f64, f64, f64)> {
    let mini = &node.op_as::<ElementWiseOp>()?.0;
    if let Some(q) = mini.downcast_ref::<QuantizeLinearU8>() {
        return Some((f64::from(q.scale), f64::from(q.zero_point), 0.0, 255.0));
    }
    let q = mini.downcast_ref::<QuantizeLinearI8>()?;
    Some((f64::from(q.scale), f64::from(q.zero_point), -128.0, 127.0))
}

impl Lowering for QuantLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        quantizer(node).is_some() || node.op_is::<DequantizeLinearF32>()
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let node = ctx.name().to_string();
        let shape = x.shape.clone();
        if let Some(dq) = ctx.node.op_as::<DequantizeLinearF32>().cloned() {
            let (scale, zero) = (f64::from(dq.scale), f64::from(dq.zero_point));
            let rows = x.elems.iter().map(|&e| AffineRow { bias: -zero * scale, terms: vec![(e, scale)] }).collect();
            return Ok(vec![Value::View(ctx.g.affine(&node, "DequantizeLinear", shape, rows))]);
        }
        let (inv_scale, zero, qmin, qmax) = quantizer(ctx.node).ok_or_else(|| ctx.fail("not a QuantizeLinear"))?;
        let n = Namer { name: &node, origin: "QuantizeLinear" };
        let multipliers = vec![inv_scale; x.elems.len()];
        Ok(vec![Value::View(quantise(ctx.g, &n, shape, &x.elems, &multipliers, zero, (qmin, qmax)))])
    }
}

/// `clamp(round_half_even(x_i · m_i) + zero, qmin, qmax)` for each element: an
/// affine map, the exact rounding ([`math::rounding`]) and two clamps.
/// QuantizeLinear (`m_i = 1/scale`) and the requantisation of QLinearConv
/// (`m_i = x_scale·k_scale/y_scale`) share it.
pub(crate) fn quantise(
    g: &mut FGraph,
    n: &Namer<'_>,
    shape: Vec<usize>,
    x: &[Elem],
    multipliers: &[f64],
    zero: f64,
    (qmin, qmax): (f64, f64),
) -> View {
    let len = vec![x.len()];
    let rows = x.iter().zip(multipliers).map(|(&e, &m)| AffineRow { bias: 0.0, terms: vec![(e, m)] }).collect();
    let scaled = g.affine(&n.at("scaled"), n.origin, len.clone(), rows);
    let round = Namer { name: &n.at("round"), origin: n.origin };
    let rounded = math::rounding(g, &round, math::Rounding::HalfToEven, len.clone(), &scaled.elems);
    let rows = rounded.elems.iter().map(|&e| AffineRow { bias: zero, terms: vec![(e, 1.0)] }).collect();
    let shifted = g.affine(&n.at("shifted"), n.origin, len, rows);
    let low = math::clamp(g, n, "min", ReduceKind::Max, &shifted.elems, qmin);
    let high = math::clamp(g, n, "", ReduceKind::Min, &low.elems, qmax);
    View { shape, elems: high.elems }
}
