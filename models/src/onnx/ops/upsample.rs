//! `Resize` in nearest mode with integer scales (tract's `NearestUpsample`):
//! data movement, each output element one input element,
//! `out[i_0, …, i_n] = in[i_0 / s_0, …, i_n / s_n]`. The other resize modes are
//! [`super::resize`]'s.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::nn::NearestUpsample;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{strides, Value};
use crate::error::Result;
use crate::fgraph::View;

pub(crate) struct UpsampleLowering;

impl Lowering for UpsampleLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<NearestUpsample>()
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<NearestUpsample>().ok_or_else(|| ctx.fail("not a NearestUpsample"))?.clone();
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        if op.scales.len() != x.shape.len() || op.scales.contains(&0) {
            return Err(ctx.fail("scales do not match the input's rank"));
        }
        let out_shape: Vec<usize> = x.shape.iter().zip(&op.scales).map(|(d, s)| d * s).collect();
        let (si, so) = (strides(&x.shape), strides(&out_shape));
        let elems = (0..out_shape.iter().product())
            .map(|flat| {
                let source: usize =
                    (0..out_shape.len()).map(|d| ((flat / so[d]) % out_shape[d]) / op.scales[d] * si[d]).sum();
                x.elems[source]
            })
            .collect();
        Ok(vec![Value::View(View { shape: out_shape, elems })])
    }
}
