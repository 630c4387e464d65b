//! Operators that only move elements (reshape, transpose, squeeze, slice, concat,
//! broadcast, tile, gather with constant indices, identity). They are lowered by
//! running tract's own implementation on a tensor of element tags, so every
//! variant of these operators behaves exactly as tract defines it.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::array::{Gather, MultiBroadcastTo, Slice, Tile, TypedConcat};
use tract_onnx::tract_core::ops::change_axes::AxisOp;
use tract_onnx::tract_core::ops::downsample::Downsample;
use tract_onnx::tract_core::ops::identity::Identity;

use super::super::lower::{Ctx, Lowering};
use super::super::value::Value;
use crate::error::Result;
use crate::fgraph::{Elem, View};

pub(crate) struct DataMovementLowering;

/// Which inputs carry data (the others must be constants, e.g. gather indices).
fn data_inputs(node: &TypedNode) -> Option<Vec<usize>> {
    if node.op_is::<TypedConcat>() {
        Some((0..node.inputs.len()).collect())
    } else if node.op_is::<AxisOp>()
        || node.op_is::<Gather>()
        || node.op_is::<Slice>()
        || node.op_is::<MultiBroadcastTo>()
        || node.op_is::<Tile>()
        || node.op_is::<Downsample>()
        || node.op_is::<Identity>()
    {
        Some(vec![0])
    } else {
        None
    }
}

impl Lowering for DataMovementLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        data_inputs(node).is_some()
    }

    fn supports(&self, node: &TypedNode, const_inputs: &[bool]) -> std::result::Result<(), String> {
        let data = data_inputs(node).unwrap_or_default();
        for (i, &c) in const_inputs.iter().enumerate() {
            if !c && !data.contains(&i) {
                return Err(format!("input {i} must be a constant (e.g. gather indices known at compile time)"));
            }
        }
        Ok(())
    }

    fn moves_elements(&self) -> bool {
        true
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        if ctx.node.op_is::<Identity>() {
            return Ok(vec![inputs[0].clone()]);
        }
        let data = data_inputs(ctx.node).unwrap_or_default();
        // Tag every data element with its position in `table`; run the op on tags.
        let mut table: Vec<Elem> = Vec::new();
        let mut tagged: TVec<TValue> = tvec![];
        for (i, v) in inputs.iter().enumerate() {
            if data.contains(&i) {
                let view = v.to_view().map_err(|e| ctx.fail(e.to_string()))?;
                let tags: Vec<i64> = (table.len()..table.len() + view.len()).map(|t| t as i64).collect();
                table.extend(view.elems.iter().copied());
                let t = tract_ndarray::ArrayD::from_shape_vec(view.shape.as_slice(), tags)
                    .map_err(|e| ctx.fail(e.to_string()))?;
                tagged.push(Tensor::from(t).into_tvalue());
            } else {
                let t = v.as_const().ok_or_else(|| ctx.fail(format!("input {i} is not a constant")))?;
                tagged.push(t.clone().into_tvalue());
            }
        }
        let outputs = ctx
            .node
            .op
            .eval_out_of_plan(tagged)
            .map_err(|e| ctx.fail(format!("cannot trace element movement: {e}")))?
            .ok_or_else(|| ctx.fail("operator cannot be evaluated at compile time"))?;
        let mut views = Vec::with_capacity(outputs.len());
        for out in outputs {
            let shape = out.shape().to_vec();
            let tags = out.cast_to::<i64>().map_err(|e| ctx.fail(e.to_string()))?;
            let tags = tags.to_plain_array_view::<i64>().map_err(|e| ctx.fail(e.to_string()))?;
            let elems = tags
                .iter()
                .map(|&t| table.get(t as usize).copied().ok_or_else(|| ctx.fail("element tag out of range")))
                .collect::<Result<Vec<_>>>()?;
            views.push(Value::View(View { shape, elems }));
        }
        Ok(views)
    }
}
