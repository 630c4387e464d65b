//! `Iff` (ONNX `Where`) with a constant condition — masks, such as causal
//! attention's — is data movement: each output element is one of its inputs'
//! elements. A condition computed from the input is not supported yet.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::logic::Iff;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{broadcast_indices, broadcast_shape, tensor_to_f64, Value};
use crate::error::Result;
use crate::fgraph::View;

pub(crate) struct SelectLowering;

impl Lowering for SelectLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<Iff>()
    }

    fn supports(&self, _node: &TypedNode, const_inputs: &[bool]) -> std::result::Result<(), String> {
        if const_inputs.first().copied().unwrap_or(false) {
            Ok(())
        } else {
            Err("a condition computed from the input (comparison-based Where) is not supported yet".into())
        }
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let cond_t = inputs[0].as_const().ok_or_else(|| ctx.fail("the condition is not constant"))?;
        let cond = tensor_to_f64(cond_t).map_err(|e| ctx.fail(e.to_string()))?;
        let cond_shape = inputs[0].shape();
        let a = inputs[1].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let b = inputs[2].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let shape = broadcast_shape(&cond_shape, &a.shape)
            .and_then(|s| broadcast_shape(&s, &b.shape))
            .ok_or_else(|| ctx.fail("condition and branches do not broadcast"))?;
        let (ic, ia, ib) = (
            broadcast_indices(&cond_shape, &shape),
            broadcast_indices(&a.shape, &shape),
            broadcast_indices(&b.shape, &shape),
        );
        let elems = (0..ic.len()).map(|i| if cond[ic[i]] != 0.0 { a.elems[ia[i]] } else { b.elems[ib[i]] }).collect();
        Ok(vec![Value::View(View { shape, elems })])
    }
}
