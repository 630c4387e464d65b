//! `OneHot` of computed indices (what tract makes of `Hardmax`: ArgMax, then
//! OneHot; and ONNX `OneHot` of a computed tensor): output element `j` along the
//! new axis is `on` where the index equals `j` (or `j − depth`, ONNX's negative
//! indices) and `off` elsewhere, i.e. `off + (on − off) · [index = j]`, each
//! equality one exact table lookup ([`crate::func::Func::IsZero`]).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::array::OneHot;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{strides, tensor_to_f64, Value};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem};
use crate::func::Func;

pub(crate) struct OneHotLowering;

impl Lowering for OneHotLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<OneHot>()
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<OneHot>().ok_or_else(|| ctx.fail("not a OneHot"))?.clone();
        let scalar = |t: &Tensor, what: &str| -> std::result::Result<f64, String> {
            tensor_to_f64(t).map_err(|e| e.to_string())?.first().copied().ok_or_else(|| format!("empty {what} value"))
        };
        let on = scalar(&op.on, "on").map_err(|e| ctx.fail(e))?;
        let off = scalar(&op.off, "off").map_err(|e| ctx.fail(e))?;
        let idx = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let node = ctx.name().to_string();
        let mut shape = idx.shape.clone();
        if op.axis > shape.len() {
            return Err(ctx.fail(format!("axis {} is beyond the indices' rank {}", op.axis, shape.len())));
        }
        shape.insert(op.axis, op.dim);
        let (out_strides, in_strides) = (strides(&shape), strides(&idx.shape));
        // For each output element: its index element and its position j.
        let picks: Vec<(Elem, usize)> = (0..shape.iter().product())
            .map(|flat| {
                let j = (flat / out_strides[op.axis]) % op.dim;
                let source: usize = (0..shape.len())
                    .filter(|&d| d != op.axis)
                    .map(|d| {
                        let coord = (flat / out_strides[d]) % shape[d];
                        coord * in_strides[if d < op.axis { d } else { d - 1 }]
                    })
                    .sum();
                (idx.elems[source], j)
            })
            .collect();
        let n = picks.len();
        let equal = |g: &mut crate::fgraph::FGraph, suffix: &str, offset: f64| {
            let rows =
                picks.iter().map(|&(e, j)| AffineRow { bias: -(j as f64) + offset, terms: vec![(e, 1.0)] }).collect();
            let diff = g.affine(&format!("{node}.{suffix}.diff"), "OneHot", vec![n], rows);
            g.map(&format!("{node}.{suffix}"), "OneHot", Func::IsZero, vec![n], &diff.elems)
        };
        let hit = equal(ctx.g, "equal", 0.0);
        let wrapped = equal(ctx.g, "equal_negative", op.dim as f64);
        let rows = hit
            .elems
            .iter()
            .zip(&wrapped.elems)
            .map(|(&a, &b)| AffineRow { bias: off, terms: vec![(a, on - off), (b, on - off)] })
            .collect();
        Ok(vec![Value::View(ctx.g.affine(&node, "OneHot", shape, rows))])
    }
}
