//! Softmax over axes, as the circuit proves it: `m = max(x)`, `e_i = exp(x_i − m)`
//! (a table lookup; every input is at most 0), `s = Σ e_i`, `y_i = e_i / s` (a
//! division by a positive value, `s ≥ 1` since one `e_i` is `e^0`). LogSoftmax
//! is `y_i = x_i − m − ln s`, one logarithm per group ([`super::math`]).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::nn::{Softmax, SoftmaxKind};

use super::super::lower::{Ctx, Lowering};
use super::super::value::{strides, Value};
use super::math::{self, Namer};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem};
use crate::func::Func;
use crate::ir::ReduceKind;

pub(crate) struct SoftmaxLowering;

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
        let shape = x.shape.clone();
        // Group the elements by their position outside the softmax axes.
        let group_shape: Vec<usize> =
            shape.iter().enumerate().map(|(d, n)| if op.axes.contains(&d) { 1 } else { *n }).collect();
        let (si, so) = (strides(&shape), strides(&group_shape));
        let groups_n: usize = group_shape.iter().product();
        let mut group_of = Vec::with_capacity(x.elems.len());
        let mut groups: Vec<Vec<Elem>> = vec![Vec::new(); groups_n];
        for (flat, e) in x.elems.iter().enumerate() {
            let g: usize =
                (0..shape.len()).filter(|d| !op.axes.contains(d)).map(|d| ((flat / si[d]) % shape[d]) * so[d]).sum();
            group_of.push(g);
            groups[g].push(*e);
        }
        let name = ctx.name().to_string();
        let origin = "Softmax";
        let group_size = x.elems.len().checked_div(groups_n).unwrap_or(0);
        let max = ctx.g.reduce(&format!("{name}.max"), origin, ReduceKind::Max, group_shape.clone(), groups);
        let shifted_rows = x
            .elems
            .iter()
            .zip(&group_of)
            .map(|(e, g)| AffineRow { bias: 0.0, terms: vec![(*e, 1.0), (max.elems[*g], -1.0)] })
            .collect();
        let shifted = ctx.g.affine(&format!("{name}.shift"), origin, shape.clone(), shifted_rows);
        let exp = ctx.g.map(&format!("{name}.exp"), origin, Func::Exp, shape.clone(), &shifted.elems);
        let mut sum_rows = vec![AffineRow::default(); groups_n];
        for (e, g) in exp.elems.iter().zip(&group_of) {
            sum_rows[*g].terms.push((*e, 1.0));
        }
        let sums = ctx.g.affine(&format!("{name}.sum"), origin, group_shape, sum_rows);
        if op.kind == SoftmaxKind::LogSoftmax {
            let n = Namer { name: &name, origin: "LogSoftmax" };
            let y = math::log_softmax(ctx.g, &n, shape, &shifted.elems, &sums, &group_of, group_size);
            return Ok(vec![Value::View(y)]);
        }
        let pairs = exp.elems.iter().zip(&group_of).map(|(e, g)| (*e, sums.elems[*g])).collect();
        let y = ctx
            .g
            .divide(&name, origin, shape, pairs)
            .ok_or_else(|| ctx.fail("a constant numerator over a computed sum"))?;
        Ok(vec![Value::View(y)])
    }
}
