//! `Gather` and `GatherElements` by computed indices, on any axis (a Gather with
//! constant indices is data movement, see `data_movement`), and `GatherND`
//! (tract's GatherNd), whose index tuples become one flat index over the
//! indexed axes.
//!
//! Each output element reads one of `A` data elements (`A` the gathered axis's
//! length) at `base + j·stride`, `j` its index:
//! - a constant index picks the element;
//! - a constant table is looked up in the function table, the key
//!   `base + stride·index` an affine map of the index (tree ensembles' node
//!   tables, token embeddings);
//! - computed data is selected arithmetically: `Σ_j [index = j]·data_j`, one exact
//!   comparison per candidate and one product per computed candidate (the
//!   comparison is a boolean, so the rescaled product is exact). This suits short
//!   axes, such as a tree node picking one of a few features.
//!
//! A negative index counts from the end, as ONNX says ([`wrap_negative`]).
//! Indices must then lie in `0..A`: a computed index outside selects nothing
//! (0), and the reference evaluator refuses a key outside a table.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::array::{Gather, GatherElements, GatherNd};

use super::super::lower::{Ctx, Lowering};
use super::super::value::{offset_off_axis, strides, tensor_to_f64, Value};
use super::data_movement::DataMovementLowering;
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem, View};
use crate::func::Func;

pub(crate) struct GatherLowering;

/// The longest axis selected arithmetically from computed data: each output
/// element costs one comparison and one product per candidate.
const MAX_SELECT_AXIS: usize = 4096;

/// One output element: its index, and where its candidates lie in the data.
struct Pick {
    index: Elem,
    base: usize,
    stride: usize,
}

fn axis_of(node: &TypedNode) -> Option<(bool, usize)> {
    if let Some(g) = node.op_as::<Gather>() {
        Some((false, g.axis))
    } else {
        node.op_as::<GatherElements>().map(|g| (true, g.axis))
    }
}

impl Lowering for GatherLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        axis_of(node).is_some()
    }

    fn supports(&self, node: &TypedNode, const_inputs: &[bool]) -> std::result::Result<(), String> {
        let (elements, _) = axis_of(node).ok_or("not a Gather")?;
        if !elements && const_inputs.get(1).copied().unwrap_or(false) {
            return DataMovementLowering.supports(node, const_inputs);
        }
        Ok(())
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let (elements, axis) = axis_of(ctx.node).ok_or_else(|| ctx.fail("not a Gather"))?;
        if !elements && inputs[1].as_const().is_some() {
            return DataMovementLowering.lower(ctx, inputs);
        }
        let data_shape = inputs[0].shape();
        let axis_len = *data_shape.get(axis).ok_or_else(|| ctx.fail("the axis is out of range"))?;
        let idx = index_elems(ctx, &inputs[1])?;
        let idx = wrap_negative(ctx, &idx, axis_len);
        let idx_shape = inputs[1].shape();
        let (picks, out_shape) = if elements {
            elements_picks(&data_shape, axis, &idx_shape, &idx)
        } else {
            gather_picks(&data_shape, axis, &idx_shape, &idx)
        };
        Ok(vec![Value::View(gathered(ctx, &inputs[0], axis_len, out_shape, &picks)?)])
    }
}

pub(crate) struct GatherNdLowering;

impl Lowering for GatherNdLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<GatherNd>()
    }

    fn supports(&self, _node: &TypedNode, _const_inputs: &[bool]) -> std::result::Result<(), String> {
        Ok(())
    }

    /// Output `(batch b, tuple r, inner i)` reads `data[b, t_1, …, t_n, i]` for
    /// the tuple `t = indices[b, r, :]`: a [`Pick`] over the `A = Π` indexed
    /// lengths, with the flat index `Σ t_m·S_m` (`S` the strides within the
    /// indexed axes), an affine map of computed tuples.
    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let batch_dims = ctx.node.op_as::<GatherNd>().ok_or_else(|| ctx.fail("not a GatherNd"))?.batch_dims;
        let data_shape = inputs[0].shape();
        let idx_shape = inputs[1].shape();
        let n = *idx_shape.last().ok_or_else(|| ctx.fail("indices without a last axis"))?;
        if idx_shape.len() <= batch_dims || data_shape.len() < batch_dims + n {
            return Err(ctx.fail(format!("indices {idx_shape:?} do not index data {data_shape:?}")));
        }
        let indexed = &data_shape[batch_dims..batch_dims + n];
        let axis_len: usize = indexed.iter().product();
        let inner: usize = data_shape[batch_dims + n..].iter().product();
        let batch: usize = data_shape[..batch_dims].iter().product();
        let tuples = idx_shape[batch_dims..idx_shape.len() - 1].iter().product::<usize>();
        let idx = index_elems(ctx, &inputs[1])?;
        let idx = wrap_negative_tuples(ctx, &idx, indexed);
        let within = strides(indexed);
        // One flat index per tuple: constants fold, computed tuples become
        // affine rows.
        let mut flat = vec![Elem::Const(0.0); batch * tuples];
        let mut rows = Vec::new();
        let mut computed = Vec::new();
        for (t, slot) in flat.iter_mut().enumerate() {
            let tuple = &idx[t * n..(t + 1) * n];
            let mut row = AffineRow { bias: 0.0, terms: Vec::new() };
            for (&e, &stride) in tuple.iter().zip(&within) {
                match e {
                    Elem::Const(c) => row.bias += c * stride as f64,
                    e => row.terms.push((e, stride as f64)),
                }
            }
            if row.terms.is_empty() {
                *slot = Elem::Const(row.bias);
            } else {
                rows.push(row);
                computed.push(t);
            }
        }
        if !rows.is_empty() {
            let name = format!("{}.flat_index", ctx.name());
            let origin = ctx.op_name();
            let keys = ctx.g.affine(&name, &origin, vec![rows.len()], rows);
            for (t, e) in computed.into_iter().zip(keys.elems) {
                flat[t] = e;
            }
        }
        let mut picks = Vec::with_capacity(batch * tuples * inner);
        for (t, &index) in flat.iter().enumerate() {
            let b = t / tuples.max(1);
            for i in 0..inner {
                picks.push(Pick { index, base: b * axis_len * inner + i, stride: inner });
            }
        }
        let mut out_shape = idx_shape[..idx_shape.len() - 1].to_vec();
        out_shape.extend_from_slice(&data_shape[batch_dims + n..]);
        Ok(vec![Value::View(gathered(ctx, &inputs[0], axis_len, out_shape, &picks)?)])
    }
}

/// Indices as ONNX reads them: a negative index counts from the end of its
/// axis of `len`. Constants wrap here; a computed index that is not provably
/// non-negative becomes `i + len − len·[i ≥ 0]` (one exact step lookup each).
pub(crate) fn wrap_negative(ctx: &mut Ctx<'_>, idx: &[Elem], len: usize) -> Vec<Elem> {
    let mut out: Vec<Elem> = idx
        .iter()
        .map(|&e| match e {
            Elem::Const(c) if c < 0.0 => Elem::Const(c + len as f64),
            e => e,
        })
        .collect();
    let signed: Vec<usize> =
        (0..out.len()).filter(|&i| matches!(out[i], Elem::Ref(_)) && !ctx.g.nonnegative(out[i])).collect();
    if signed.is_empty() {
        return out;
    }
    let name = ctx.name().to_string();
    let origin = ctx.op_name();
    let elems: Vec<Elem> = signed.iter().map(|&i| out[i]).collect();
    let shape = vec![elems.len()];
    let nonneg = ctx.g.map(&format!("{name}.index_sign"), &origin, Func::NonNegative, shape.clone(), &elems);
    let len = len as f64;
    let rows = elems
        .iter()
        .zip(&nonneg.elems)
        .map(|(&e, &n)| AffineRow { bias: len, terms: vec![(e, 1.0), (n, -len)] })
        .collect();
    let wrapped = ctx.g.affine(&format!("{name}.index"), &origin, shape, rows);
    for (&i, &e) in signed.iter().zip(&wrapped.elems) {
        out[i] = e;
    }
    out
}

/// Wraps each component of `q`-tuples of indices (`idx` flat, tuple after
/// tuple) by the length of the axis it indexes.
pub(crate) fn wrap_negative_tuples(ctx: &mut Ctx<'_>, idx: &[Elem], lens: &[usize]) -> Vec<Elem> {
    let q = lens.len().max(1);
    let mut out = idx.to_vec();
    for (m, &len) in lens.iter().enumerate() {
        let component: Vec<Elem> = idx.iter().skip(m).step_by(q).copied().collect();
        for (t, e) in wrap_negative(ctx, &component, len).into_iter().enumerate() {
            out[t * q + m] = e;
        }
    }
    out
}

fn index_elems(ctx: &Ctx<'_>, value: &Value) -> Result<Vec<Elem>> {
    Ok(match value.as_const() {
        Some(t) => tensor_to_f64(t).map_err(|e| ctx.fail(e.to_string()))?.into_iter().map(Elem::Const).collect(),
        None => value.to_view().map_err(|e| ctx.fail(e.to_string()))?.elems,
    })
}

/// Gather: output `data[:axis] + indices + data[axis+1:]`.
fn gather_picks(data: &[usize], axis: usize, idx_shape: &[usize], idx: &[Elem]) -> (Vec<Pick>, Vec<usize>) {
    let outer: usize = data[..axis].iter().product();
    let inner: usize = data[axis + 1..].iter().product();
    let mut picks = Vec::with_capacity(outer * idx.len() * inner);
    for o in 0..outer {
        for &index in idx {
            for i in 0..inner {
                picks.push(Pick { index, base: o * data[axis] * inner + i, stride: inner });
            }
        }
    }
    let mut shape = data[..axis].to_vec();
    shape.extend_from_slice(idx_shape);
    shape.extend_from_slice(&data[axis + 1..]);
    (picks, shape)
}

/// GatherElements: output shaped like the indices, each reading the data at its
/// own coordinates with the axis coordinate replaced by its index.
fn elements_picks(data: &[usize], axis: usize, idx_shape: &[usize], idx: &[Elem]) -> (Vec<Pick>, Vec<usize>) {
    let ds = strides(data);
    let picks = idx
        .iter()
        .enumerate()
        .map(|(flat, &index)| Pick { index, base: offset_off_axis(flat, idx_shape, &ds, axis), stride: ds[axis] })
        .collect();
    (picks, idx_shape.to_vec())
}

/// The picks from `data`: looked up when it is a constant table, selected
/// arithmetically when it is computed.
fn gathered(ctx: &mut Ctx<'_>, data: &Value, axis_len: usize, shape: Vec<usize>, picks: &[Pick]) -> Result<View> {
    match data.as_const() {
        Some(table) => {
            let table = tensor_to_f64(table).map_err(|e| ctx.fail(e.to_string()))?;
            Ok(lookup(ctx, table, shape, picks))
        }
        None => {
            let data = data.to_view().map_err(|e| ctx.fail(e.to_string()))?;
            select(ctx, &data, axis_len, shape, picks)
        }
    }
}

/// A constant table: one lookup per output, keyed by `base + stride·index`.
fn lookup(ctx: &mut Ctx<'_>, table: Vec<f64>, shape: Vec<usize>, picks: &[Pick]) -> View {
    let name = ctx.name().to_string();
    let origin = ctx.op_name();
    let keys = picks
        .iter()
        .map(|p| match p.index {
            Elem::Const(c) => AffineRow { bias: p.base as f64 + p.stride as f64 * c, terms: vec![] },
            e => AffineRow { bias: p.base as f64, terms: vec![(e, p.stride as f64)] },
        })
        .collect();
    let keys = ctx.g.affine(&format!("{name}.key"), &origin, shape.clone(), keys);
    ctx.g.table_lookup(&name, &origin, table, shape, &keys.elems)
}

/// Computed data: `Σ_j [index = j]·data[base + j·stride]`.
fn select(ctx: &mut Ctx<'_>, data: &View, axis_len: usize, shape: Vec<usize>, picks: &[Pick]) -> Result<View> {
    let name = ctx.name().to_string();
    let origin = ctx.op_name();
    let at = |p: &Pick, j: usize| data.elems[p.base + j * p.stride];
    // Constant indices pick directly; computed ones compare against every j.
    let computed: Vec<&Pick> = picks.iter().filter(|p| matches!(p.index, Elem::Ref(_))).collect();
    if !computed.is_empty() && axis_len > MAX_SELECT_AXIS {
        return Err(ctx.fail(format!(
            "selecting from a computed axis of {axis_len} by computed indices (at most {MAX_SELECT_AXIS})"
        )));
    }
    let mut selected = Vec::new();
    if !computed.is_empty() {
        let n = vec![computed.len() * axis_len];
        let diffs = computed
            .iter()
            .flat_map(|p| (0..axis_len).map(move |j| AffineRow { bias: -(j as f64), terms: vec![(p.index, 1.0)] }))
            .collect();
        let diffs = ctx.g.affine(&format!("{name}.offset"), &origin, n.clone(), diffs);
        let hits = ctx.g.map(&format!("{name}.hit"), &origin, Func::IsZero, n, &diffs.elems);
        // Products only where the candidate is computed; constants weight the hit.
        let mut pairs = Vec::new();
        for (k, p) in computed.iter().enumerate() {
            for j in 0..axis_len {
                if let e @ Elem::Ref(_) = at(p, j) {
                    pairs.push((hits.elems[k * axis_len + j], e));
                }
            }
        }
        let products = if pairs.is_empty() {
            Vec::new()
        } else {
            ctx.g.multiply(&format!("{name}.pick"), &origin, vec![pairs.len()], pairs).elems
        };
        let mut next = products.into_iter();
        let rows = computed
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let mut terms = Vec::new();
                for j in 0..axis_len {
                    match at(p, j) {
                        Elem::Ref(_) => terms.extend(next.next().map(|e| (e, 1.0))),
                        Elem::Const(c) if c != 0.0 => terms.push((hits.elems[k * axis_len + j], c)),
                        Elem::Const(_) => {}
                    }
                }
                AffineRow { bias: 0.0, terms }
            })
            .collect();
        selected = ctx.g.affine(&format!("{name}.sum"), &origin, vec![computed.len()], rows).elems;
    }
    let mut selected = selected.into_iter();
    let mut elems = Vec::with_capacity(picks.len());
    for p in picks {
        elems.push(match p.index {
            Elem::Const(c) => {
                let j = c.round();
                if j < 0.0 || j as usize >= axis_len || j != c {
                    return Err(ctx.fail(format!("index {c} is outside 0..{axis_len}")));
                }
                at(p, j as usize)
            }
            Elem::Ref(_) => selected.next().ok_or_else(|| ctx.fail("selection count"))?,
        });
    }
    Ok(View { shape, elems })
}
