//! Array operators that are affine maps or data movement:
//! - `CumSum` (ONNX CumSum, inclusive or exclusive, forwards or reversed): each
//!   output the sum of a prefix (or suffix) along the axis;
//! - `Trilu` with a constant diagonal offset: the kept triangle, zeros elsewhere;
//! - `ScatterElements` with constant indices and no reduction: the data, with
//!   the indexed positions replaced by the updates (later updates win, as in
//!   ONNX).
//! - `ScatterND` with constant indices and no reduction: each index tuple names
//!   a slice of the data (its leading coordinates), replaced by the matching
//!   slice of the updates;
//! - both by computed indices, and both with a reduction (`add`, `mul`, `max`,
//!   `min`): [`super::scatter`].

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::array::{CumSum, ScatterElements, ScatterNd, ScatterReduction, Trilu};

use super::super::lower::{Ctx, Lowering};
use super::super::value::{offset_off_axis, strides, tensor_to_f64, Value};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem, View};

pub(crate) struct ArrayLowering;

impl Lowering for ArrayLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<CumSum>() || node.op_is::<Trilu>() || node.op_is::<ScatterElements>() || node.op_is::<ScatterNd>()
    }

    fn supports(&self, node: &TypedNode, const_inputs: &[bool]) -> std::result::Result<(), String> {
        if node.op_is::<Trilu>() && !const_inputs.get(1).copied().unwrap_or(false) {
            return Err("Trilu with a computed diagonal offset".into());
        }
        Ok(())
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let view = if let Some(op) = ctx.node.op_as::<CumSum>() {
            let op = op.clone();
            cumsum(ctx, &x, &op)
        } else if let Some(op) = ctx.node.op_as::<Trilu>() {
            let upper = op.upper;
            let k = const_ints(ctx, &inputs[1])?.first().copied().unwrap_or(0);
            trilu(&x, upper, k)
        } else if let Some(op) = ctx.node.op_as::<ScatterNd>() {
            let reduction = op.reduction;
            let updates = inputs[2].to_view().map_err(|e| ctx.fail(e.to_string()))?;
            match inputs[1].as_const() {
                Some(_) if reduction == ScatterReduction::None => {
                    let indices = const_ints(ctx, &inputs[1])?;
                    scatter_nd(ctx, x, &inputs[1].shape(), &indices, &updates)?
                }
                _ => {
                    let indices = inputs[1].to_view().map_err(|e| ctx.fail(e.to_string()))?;
                    super::scatter::nd(ctx, x, &indices, &updates, reduction)?
                }
            }
        } else {
            let op = ctx.node.op_as::<ScatterElements>().ok_or_else(|| ctx.fail("not a ScatterElements"))?;
            let (axis, reduction) = (op.axis, op.reduction);
            let updates = inputs[2].to_view().map_err(|e| ctx.fail(e.to_string()))?;
            match inputs[1].as_const() {
                Some(_) if reduction == ScatterReduction::None => {
                    let indices = const_ints(ctx, &inputs[1])?;
                    scatter(ctx, x, axis, &inputs[1].shape(), &indices, &updates)?
                }
                _ => {
                    let indices = inputs[1].to_view().map_err(|e| ctx.fail(e.to_string()))?;
                    super::scatter::elements(ctx, x, axis, &indices, &updates, reduction)?
                }
            }
        };
        Ok(vec![Value::View(view)])
    }
}

fn const_ints(ctx: &Ctx<'_>, v: &Value) -> Result<Vec<i64>> {
    let t = v.as_const().ok_or_else(|| ctx.fail("a computed index"))?;
    Ok(tensor_to_f64(t).map_err(|e| ctx.fail(e.to_string()))?.into_iter().map(|f| f as i64).collect())
}

fn cumsum(ctx: &mut Ctx<'_>, x: &View, op: &CumSum) -> View {
    let st = strides(&x.shape);
    let len = x.shape[op.axis];
    let rows = (0..x.elems.len())
        .map(|flat| {
            let at = (flat / st[op.axis]) % len;
            let base = flat - at * st[op.axis];
            let range: Vec<usize> = match (op.reverse, op.exclusive) {
                (false, false) => (0..=at).collect(),
                (false, true) => (0..at).collect(),
                (true, false) => (at..len).collect(),
                (true, true) => (at + 1..len).collect(),
            };
            AffineRow { bias: 0.0, terms: range.into_iter().map(|j| (x.elems[base + j * st[op.axis]], 1.0)).collect() }
        })
        .collect();
    let name = ctx.name().to_string();
    let origin = ctx.op_name();
    ctx.g.affine(&name, &origin, x.shape.clone(), rows)
}

fn trilu(x: &View, upper: bool, k: i64) -> View {
    let rank = x.shape.len();
    let (rows, cols) = (x.shape[rank.saturating_sub(2)], x.shape[rank - 1]);
    let elems = x
        .elems
        .iter()
        .enumerate()
        .map(|(flat, e)| {
            let (row, col) = (((flat / cols) % rows) as i64, (flat % cols) as i64);
            let keep = if upper { col >= row + k } else { col <= row + k };
            if keep {
                *e
            } else {
                Elem::Const(0.0)
            }
        })
        .collect();
    View { shape: x.shape.clone(), elems }
}

fn scatter(
    ctx: &Ctx<'_>,
    mut x: View,
    axis: usize,
    idx_shape: &[usize],
    indices: &[i64],
    updates: &View,
) -> Result<View> {
    let ds = strides(&x.shape);
    let len = x.shape[axis] as i64;
    for (flat, (&index, &update)) in indices.iter().zip(&updates.elems).enumerate() {
        let index = if index < 0 { index + len } else { index };
        if !(0..len).contains(&index) {
            return Err(ctx.fail(format!("index {index} is outside 0..{len}")));
        }
        let target = offset_off_axis(flat, idx_shape, &ds, axis) + index as usize * ds[axis];
        x.elems[target] = update;
    }
    Ok(x)
}

/// ScatterND: `indices` has shape `[..., q]`; each of its `q`-tuples names the
/// slice `data[i_0, …, i_{q−1}, :, …]`, which the matching slice of `updates`
/// replaces (later tuples win).
fn scatter_nd(ctx: &Ctx<'_>, mut x: View, idx_shape: &[usize], indices: &[i64], updates: &View) -> Result<View> {
    let q = idx_shape.last().copied().unwrap_or(0);
    if q == 0 || q > x.shape.len() {
        return Err(ctx.fail(format!("index tuples of length {q} for data of rank {}", x.shape.len())));
    }
    let ds = strides(&x.shape);
    let slice: usize = x.shape[q..].iter().product();
    let tuples = indices.len() / q;
    if updates.elems.len() != tuples * slice {
        return Err(ctx.fail(format!("{} updates for {tuples} slices of {slice}", updates.elems.len())));
    }
    for (t, tuple) in indices.chunks(q).enumerate() {
        let mut start = 0;
        for (d, &i) in tuple.iter().enumerate() {
            let len = x.shape[d] as i64;
            let i = if i < 0 { i + len } else { i };
            if !(0..len).contains(&i) {
                return Err(ctx.fail(format!("index {i} is outside 0..{len} on axis {d}")));
            }
            start += i as usize * ds[d];
        }
        x.elems[start..start + slice].copy_from_slice(&updates.elems[t * slice..(t + 1) * slice]);
    }
    Ok(x)
}
