//! `Gather` of a constant table by computed indices (token embeddings): each
//! output element looks up `(tag, key, table[key])` in the function table, with the
//! key `index · row_len + column` an affine map of the index. Gathers with constant
//! indices are data movement (see `data_movement`).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::array::Gather;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{tensor_to_f64, Value};
use super::data_movement::DataMovementLowering;
use crate::error::Result;
use crate::fgraph::AffineRow;

pub(crate) struct EmbeddingLowering;

impl Lowering for EmbeddingLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<Gather>()
    }

    fn supports(&self, node: &TypedNode, const_inputs: &[bool]) -> std::result::Result<(), String> {
        match (const_inputs.first().copied(), const_inputs.get(1).copied()) {
            (_, Some(true)) => DataMovementLowering.supports(node, const_inputs),
            (Some(true), Some(false)) => match node.op_as::<Gather>() {
                Some(g) if g.axis == 0 => Ok(()),
                _ => Err("a Gather by computed indices is supported on axis 0 only".into()),
            },
            _ => Err("a Gather of a computed tensor by computed indices is not supported yet".into()),
        }
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        if inputs[1].as_const().is_some() {
            return DataMovementLowering.lower(ctx, inputs);
        }
        let table_t = inputs[0].as_const().ok_or_else(|| ctx.fail("the gathered table is not constant"))?;
        let table = tensor_to_f64(table_t).map_err(|e| ctx.fail(e.to_string()))?;
        let table_shape = inputs[0].shape();
        if table_shape.is_empty() {
            return Err(ctx.fail("a scalar table"));
        }
        let row_len: usize = table_shape[1..].iter().product();
        let idx = inputs[1].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let mut out_shape = idx.shape.clone();
        out_shape.extend_from_slice(&table_shape[1..]);
        let name = ctx.name().to_string();
        // key = index · row_len + column (the reference refuses keys outside the
        // table, negative indices included).
        let keys = idx
            .elems
            .iter()
            .flat_map(|e| {
                (0..row_len).map(move |col| AffineRow { bias: col as f64, terms: vec![(*e, row_len as f64)] })
            })
            .collect();
        let keys = ctx.g.affine(&format!("{name}.key"), "Gather", out_shape.clone(), keys);
        let view = ctx.g.table_lookup(&name, "Gather", table, out_shape, &keys.elems);
        Ok(vec![Value::View(view)])
    }
}
