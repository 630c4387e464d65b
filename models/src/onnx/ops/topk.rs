//! `TopK` with a constant `k`: the `k` largest (or smallest) elements along an
//! axis, in order, and their indices, lower indices first among equal values (as
//! tract's stable sort gives). Round `t` takes the maximum of what is left and the
//! first index attaining it ([`super::reduce::arg_extreme_and_value`]), then
//! pushes that one element below every other — `x_j − [j = i_t]·(x_j − min + 1)`,
//! one exact comparison and one product per element — so round `t + 1` finds the
//! next. The smallest `k` are the largest of `−x`. Cost: about four rows per
//! element per round.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::array::Topk;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{strides, tensor_to_f64, Value};
use super::math::{self, Namer};
use super::reduce::arg_extreme_and_value;
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem, View};
use crate::func::Func;
use crate::ir::ReduceKind;

pub(crate) struct TopkLowering;

impl Lowering for TopkLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<Topk>()
    }

    fn supports(&self, _node: &TypedNode, const_inputs: &[bool]) -> std::result::Result<(), String> {
        if const_inputs.get(1).copied().unwrap_or(false) {
            Ok(())
        } else {
            Err("TopK with a computed k is not supported (k must be a constant)".into())
        }
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<Topk>().ok_or_else(|| ctx.fail("not a TopK"))?.clone();
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let k = inputs[1]
            .as_const()
            .and_then(|t| tensor_to_f64(t).ok())
            .and_then(|v| v.first().copied())
            .ok_or_else(|| ctx.fail("k is not a constant"))?;
        let (axis, n) = (op.axis, x.shape.get(op.axis).copied().unwrap_or(0));
        if k < 1.0 || k as usize > n {
            return Err(ctx.fail(format!("k = {k} is outside 1..={n} (the axis's length)")));
        }
        let k = k as usize;
        let node = ctx.name().to_string();
        let origin = "Topk";
        let st = strides(&x.shape);
        let inner: usize = x.shape[axis + 1..].iter().product();
        let outer: usize = x.shape[..axis].iter().product();
        // One row per position off the axis: the flat indices along the axis.
        let rows: Vec<Vec<usize>> = (0..outer)
            .flat_map(|o| (0..inner).map(move |i| (o, i)))
            .map(|(o, i)| (0..n).map(|j| o * n * inner + j * st[axis] + i).collect())
            .collect();
        let namer = Namer { name: &node, origin };
        let signed = |g: &mut crate::fgraph::FGraph, suffix: &str, elems: Vec<Elem>| -> Vec<Elem> {
            if op.largest {
                elems
            } else {
                math::scaled(g, &namer, suffix, &elems, -1.0, 0.0).elems
            }
        };
        let flat: Vec<Elem> = rows.iter().flat_map(|r| r.iter().map(|&f| x.elems[f])).collect();
        let mut current: Vec<Vec<Elem>> =
            signed(ctx.g, "negated", flat).chunks(n.max(1)).map(<[Elem]>::to_vec).collect();
        let low = ctx.g.reduce(&format!("{node}.floor"), origin, ReduceKind::Min, vec![rows.len()], current.clone());
        let (mut values, mut indices) = (Vec::with_capacity(k), Vec::with_capacity(k));
        for t in 0..k {
            let (m, idx) = arg_extreme_and_value(
                ctx.g,
                &format!("{node}.round{t}"),
                origin,
                (ReduceKind::Max, false),
                vec![rows.len()],
                current.clone(),
            );
            values.push(m.elems);
            indices.push(idx.elems.clone());
            if t + 1 == k {
                break;
            }
            // Push the chosen element below every other: x − [j = i]·(x − min + 1).
            let pairs: Vec<(Elem, f64)> = idx.elems.iter().flat_map(|&i| (0..n).map(move |j| (i, j as f64))).collect();
            let diff = pairs.iter().map(|&(i, j)| AffineRow { bias: -j, terms: vec![(i, 1.0)] }).collect();
            let len = vec![pairs.len()];
            let diff = ctx.g.affine(&format!("{node}.round{t}.diff"), origin, len.clone(), diff);
            let hit = ctx.g.map(&format!("{node}.round{t}.hit"), origin, Func::IsZero, len.clone(), &diff.elems);
            let gap_rows = current
                .iter()
                .zip(&low.elems)
                .flat_map(|(set, &lo)| {
                    set.iter().map(move |&e| AffineRow { bias: 1.0, terms: vec![(e, 1.0), (lo, -1.0)] })
                })
                .collect();
            let gap = ctx.g.affine(&format!("{node}.round{t}.gap"), origin, len.clone(), gap_rows);
            let pairs = hit.elems.iter().copied().zip(gap.elems.iter().copied()).collect();
            let penalty = ctx.g.multiply(&format!("{node}.round{t}.penalty"), origin, len.clone(), pairs);
            let flat_current: Vec<Elem> = current.concat();
            let next = flat_current
                .iter()
                .zip(&penalty.elems)
                .map(|(&e, &p)| AffineRow { bias: 0.0, terms: vec![(e, 1.0), (p, -1.0)] })
                .collect();
            let next = ctx.g.affine(&format!("{node}.round{t}.rest"), origin, len, next);
            current = next.elems.chunks(n).map(<[Elem]>::to_vec).collect();
        }
        // Place round t of row r at its output position (axis index t).
        let mut shape = x.shape.clone();
        shape[axis] = k;
        let out_st = strides(&shape);
        let mut value_elems = vec![Elem::Const(0.0); shape.iter().product()];
        let mut index_elems = value_elems.clone();
        for (r, (o, i)) in (0..outer).flat_map(|o| (0..inner).map(move |i| (o, i))).enumerate() {
            for t in 0..k {
                let at = o * k * inner + t * out_st[axis] + i;
                value_elems[at] = values[t][r];
                index_elems[at] = indices[t][r];
            }
        }
        let value_elems = if op.largest { value_elems } else { signed(ctx.g, "values", value_elems) };
        Ok(vec![
            Value::View(View { shape: shape.clone(), elems: value_elems }),
            Value::View(View { shape, elems: index_elems }),
        ])
    }
}
