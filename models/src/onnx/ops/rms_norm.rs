//! `RmsNorm` (tract's fusion of LayerNormalization's second half):
//! `y = x / sqrt(mean(x²) + eps)` along one axis, as products, a mean, an exact
//! integer square root floored at `sqrt(eps)` (at least one unit in fixed point)
//! and divisions by it.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::nn::RmsNorm;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{strides, Value};
use crate::error::Result;
use crate::fgraph::AffineRow;
use crate::ir::ReduceKind;

pub(crate) struct RmsNormLowering;

impl Lowering for RmsNormLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<RmsNorm>()
    }

    fn supports(&self, _node: &TypedNode, _const_inputs: &[bool]) -> std::result::Result<(), String> {
        Ok(())
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<RmsNorm>().ok_or_else(|| ctx.fail("not an RmsNorm"))?.clone();
        let eps = op.eps.cast_to_scalar::<f64>().map_err(|e| ctx.fail(e.to_string()))?;
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let shape = x.shape.clone();
        if op.axis >= shape.len() {
            return Err(ctx.fail(format!("axis {} of a rank-{} tensor", op.axis, shape.len())));
        }
        let n = shape[op.axis];
        let mut group_shape = shape.clone();
        group_shape[op.axis] = 1;
        let (si, so) = (strides(&shape), strides(&group_shape));
        let group_of: Vec<usize> = (0..x.elems.len())
            .map(|flat| (0..shape.len()).filter(|d| *d != op.axis).map(|d| ((flat / si[d]) % shape[d]) * so[d]).sum())
            .collect();
        let name = ctx.name().to_string();
        let origin = "RmsNorm";
        let squares = ctx.g.multiply(
            &format!("{name}.square"),
            origin,
            shape.clone(),
            x.elems.iter().map(|e| (*e, *e)).collect(),
        );
        let groups: usize = group_shape.iter().product();
        let mut rows = vec![AffineRow { bias: eps, terms: Vec::new() }; groups];
        for (e, g) in squares.elems.iter().zip(&group_of) {
            rows[*g].terms.push((*e, 1.0 / n as f64));
        }
        let mean = ctx.g.affine(&format!("{name}.mean"), origin, group_shape.clone(), rows);
        let rms = ctx.g.sqrt(&format!("{name}.sqrt"), origin, group_shape.clone(), &mean.elems);
        // sqrt(mean + eps) ≥ sqrt(eps) in real numbers, so this floor changes
        // nothing there; in fixed point it is at least one unit, where a row of
        // small values (or eps, at a low scale) would round the norm to 0.
        let floor = eps.sqrt().max(f64::MIN_POSITIVE);
        let sets = rms.elems.iter().map(|&e| vec![e, crate::fgraph::Elem::Const(floor)]).collect();
        let rms = ctx.g.reduce(&format!("{name}.floor"), origin, ReduceKind::Max, group_shape, sets);
        let pairs = x.elems.iter().zip(&group_of).map(|(e, g)| (*e, rms.elems[*g])).collect();
        let y = ctx.g.divide(&name, origin, shape, pairs).ok_or_else(|| ctx.fail("a constant over a computed norm"))?;
        Ok(vec![Value::View(y)])
    }
}
