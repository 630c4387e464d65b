//! `MaxPool` → max over each window (padding taps excluded, as ONNX specifies).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::cnn::MaxPool;

use super::super::lower::{Ctx, Lowering};
use super::super::value::Value;
use super::geometry::Geometry;
use crate::error::Result;
use crate::fgraph::Elem;
use crate::ir::ReduceKind;

pub(crate) struct MaxPoolLowering;

impl Lowering for MaxPoolLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<MaxPool>()
    }

    fn supports(&self, node: &TypedNode, _const_inputs: &[bool]) -> std::result::Result<(), String> {
        match node.op_as::<MaxPool>() {
            Some(op) if op.with_index_outputs.is_some() => Err("MaxPool with index outputs is not supported".into()),
            _ => Ok(()),
        }
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<MaxPool>().ok_or_else(|| ctx.fail("not a MaxPool"))?.clone();
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let out_shape = ctx.out_shape();
        let Geometry { input, output, windows, out_spatial } =
            Geometry::new(&op.pool_spec, &x.shape, &out_shape).map_err(|e| ctx.fail(e))?;
        let mut sets: Vec<Vec<Elem>> = vec![Vec::new(); out_shape.iter().product()];
        for n in 0..input.n {
            for c in 0..input.c {
                for (pos, taps) in windows.taps.iter().enumerate() {
                    let set = &mut sets[output.index(n, c, out_spatial[pos])];
                    set.extend(taps.iter().flatten().map(|off| x.elems[input.index(n, c, *off)]));
                    if set.is_empty() {
                        return Err(ctx.fail("a pooling window covers only padding"));
                    }
                }
            }
        }
        let view = ctx.g.reduce(ctx.name(), "MaxPool", ReduceKind::Max, out_shape, sets);
        Ok(vec![Value::View(view)])
    }
}
