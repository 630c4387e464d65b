//! `LRN` (local response normalisation across channels, AlexNet/GoogLeNet
//! style): `y = x / (bias + α/size · Σ_{c' near c} x_{c'}²)^β`. The squares are
//! products, the window sums one affine map, the power `d^(−β)` the constant
//! exponent lowering ([`super::math::pow_const`]: `exp(−β · ln d)`, with
//! `d ≥ bias > 0` inside the logarithm's table for the usual `bias = 1` and
//! small `α`), and the result one more product.

use tract_onnx::prelude::*;
use tract_onnx_opl::lrn::Lrn;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{strides, Value};
use super::math::{self, Namer};
use crate::error::Result;
use crate::fgraph::AffineRow;

pub(crate) struct LrnLowering;

impl Lowering for LrnLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<Lrn>()
    }

    fn supports(&self, node: &TypedNode, _const_inputs: &[bool]) -> std::result::Result<(), String> {
        let Some(op) = node.op_as::<Lrn>() else { return Err("not an LRN".into()) };
        if op.bias <= 0.0 || op.alpha < 0.0 || op.size == 0 {
            return Err(format!(
                "LRN with bias {} and alpha {} is not supported (the normaliser must stay positive: bias > 0, alpha ≥ 0)",
                op.bias, op.alpha
            ));
        }
        Ok(())
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<Lrn>().ok_or_else(|| ctx.fail("not an LRN"))?.clone();
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        if x.shape.len() < 2 {
            return Err(ctx.fail("LRN needs a channel axis (rank ≥ 2)"));
        }
        let node = ctx.name().to_string();
        let shape = x.shape.clone();
        let (channels, st) = (shape[1], strides(&shape));
        let squares =
            ctx.g.multiply(&format!("{node}.square"), "LRN", shape.clone(), x.elems.iter().map(|e| (*e, *e)).collect());
        let (before, after) = ((op.size - 1) / 2, (op.size - 1).div_ceil(2));
        let weight = f64::from(op.alpha) / op.size as f64;
        let rows = (0..x.len())
            .map(|i| {
                let c = (i / st[1]) % channels;
                let (lo, hi) = (c.saturating_sub(before), (c + after).min(channels - 1));
                let base = i - c * st[1];
                let terms = (lo..=hi).map(|k| (squares.elems[base + k * st[1]], weight)).collect();
                AffineRow { bias: f64::from(op.bias), terms }
            })
            .collect();
        let d = ctx.g.affine(&format!("{node}.normaliser"), "LRN", shape.clone(), rows);
        let scale = math::pow_const(
            ctx.g,
            &Namer { name: &format!("{node}.pow"), origin: "LRN" },
            shape.clone(),
            &d.elems,
            -f64::from(op.beta),
        );
        let pairs = x.elems.iter().copied().zip(scale.elems).collect();
        Ok(vec![Value::View(ctx.g.multiply(&node, "LRN", shape, pairs))])
    }
}
