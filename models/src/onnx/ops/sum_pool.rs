//! `SumPool` (AveragePool, GlobalAveragePool, sum pooling) → affine rows.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::cnn::SumPool;

use super::super::lower::{Ctx, Lowering};
use super::super::value::Value;
use super::geometry::Geometry;
use crate::error::Result;
use crate::fgraph::AffineRow;

pub(crate) struct SumPoolLowering;

impl Lowering for SumPoolLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<SumPool>()
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<SumPool>().ok_or_else(|| ctx.fail("not a SumPool"))?.clone();
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let out_shape = ctx.out_shape();
        let Geometry { input, output, windows, out_spatial } =
            Geometry::new(&op.pool_spec, &x.shape, &out_shape).map_err(|e| ctx.fail(e))?;
        let mut rows = vec![AffineRow::default(); out_shape.iter().product()];
        for n in 0..input.n {
            for c in 0..input.c {
                for (pos, taps) in windows.taps.iter().enumerate() {
                    let valid: Vec<usize> = taps.iter().flatten().copied().collect();
                    let weight = if !op.normalize {
                        1.0
                    } else if op.count_include_pad {
                        1.0 / windows.padded_counts[pos].max(1) as f64
                    } else {
                        1.0 / valid.len().max(1) as f64
                    };
                    let row = &mut rows[output.index(n, c, out_spatial[pos])];
                    row.terms = valid.iter().map(|off| (x.elems[input.index(n, c, *off)], weight)).collect();
                }
            }
        }
        let view = ctx.g.affine(ctx.name(), "SumPool", out_shape, rows);
        Ok(vec![Value::View(view)])
    }
}
