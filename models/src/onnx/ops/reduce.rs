//! `Reduce` over axes: Sum (GlobalAveragePool's numerator, ReduceSum) as an affine
//! map, Max and Min as max/min sets. Reduced axes stay with size 1, as in tract.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::nn::{Reduce, Reducer};

use super::super::lower::{Ctx, Lowering};
use super::super::value::{strides, Value};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem};
use crate::ir::ReduceKind;

pub(crate) struct ReduceLowering;

impl Lowering for ReduceLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<Reduce>()
    }

    fn supports(&self, node: &TypedNode, _const_inputs: &[bool]) -> std::result::Result<(), String> {
        match node.op_as::<Reduce>().map(|r| &r.reducer) {
            Some(Reducer::Sum | Reducer::Max | Reducer::Min) => Ok(()),
            Some(other) => Err(format!("reduction {other:?} is not supported yet")),
            None => Err("not a Reduce".into()),
        }
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<Reduce>().ok_or_else(|| ctx.fail("not a Reduce"))?.clone();
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let out_shape = ctx.out_shape();
        let (si, so) = (strides(&x.shape), strides(&out_shape));
        let mut groups: Vec<Vec<Elem>> = vec![Vec::new(); out_shape.iter().product()];
        for (flat, e) in x.elems.iter().enumerate() {
            let mut out = 0;
            for d in 0..x.shape.len() {
                if !op.axes.contains(&d) {
                    out += ((flat / si[d]) % x.shape[d]) * so[d];
                }
            }
            groups[out].push(*e);
        }
        let name = ctx.name();
        let view = match op.reducer {
            Reducer::Sum => {
                let rows = groups
                    .into_iter()
                    .map(|g| AffineRow { bias: 0.0, terms: g.into_iter().map(|e| (e, 1.0)).collect() })
                    .collect();
                ctx.g.affine(name, "Reduce<Sum>", out_shape, rows)
            }
            Reducer::Max => ctx.g.reduce(name, "Reduce<Max>", ReduceKind::Max, out_shape, groups),
            Reducer::Min => ctx.g.reduce(name, "Reduce<Min>", ReduceKind::Min, out_shape, groups),
            ref other => return Err(ctx.fail(format!("reduction {other:?} is not supported"))),
        };
        Ok(vec![Value::View(view)])
    }
}
