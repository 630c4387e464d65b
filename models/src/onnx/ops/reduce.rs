//! `Reduce` over axes: Sum (GlobalAveragePool's numerator, ReduceSum) as an affine
//! map, Max and Min as max/min sets, ArgMax and ArgMin through them,
//! MeanOfSquares (InstanceNormalization's variance) as products and a mean,
//! Prod as a running product. Reduced axes
//! stay with size 1, as in tract.
//!
//! ArgMax of a set `x_0 … x_{L−1}` (first index on ties; ArgMin alike with the
//! minimum): with `m = max x_j` and `e_j = [x_j = m]` (an exact comparison, `m`
//! being one of the `x_j`), the first index attaining the maximum is
//! `min_j (j + L·(1 − e_j))`, since every index that does not attain it is
//! pushed past `L − 1`; the last one (`select_last_index`) is
//! `max_j (j − L·(1 − e_j))`. One max, one comparison per element and one min:
//! no chain of products.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::nn::{Reduce, Reducer};

use super::super::lower::{Ctx, Lowering};
use super::super::value::{strides, Value};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem, FGraph, View};
use crate::func::Func;
use crate::ir::ReduceKind;

pub(crate) struct ReduceLowering;

impl Lowering for ReduceLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<Reduce>()
    }

    fn supports(&self, node: &TypedNode, _const_inputs: &[bool]) -> std::result::Result<(), String> {
        match node.op_as::<Reduce>().map(|r| &r.reducer) {
            Some(
                Reducer::Sum
                | Reducer::Max
                | Reducer::Min
                | Reducer::ArgMax(_)
                | Reducer::ArgMin(_)
                | Reducer::MeanOfSquares
                | Reducer::Prod,
            ) => Ok(()),
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
            Reducer::Prod => {
                // A running product per set: one rescaled product per element.
                let mut acc: Vec<Elem> =
                    groups.iter().map(|g| g.first().copied().unwrap_or(Elem::Const(1.0))).collect();
                let depth = groups.iter().map(Vec::len).max().unwrap_or(0);
                for j in 1..depth {
                    let live: Vec<usize> = (0..groups.len()).filter(|&i| groups[i].len() > j).collect();
                    let pairs = live.iter().map(|&i| (acc[i], groups[i][j])).collect();
                    let product = ctx.g.multiply(&format!("{name}.prod{j}"), "Reduce<Prod>", vec![live.len()], pairs);
                    for (k, &i) in live.iter().enumerate() {
                        acc[i] = product.elems[k];
                    }
                }
                View { shape: out_shape, elems: acc }
            }
            Reducer::MeanOfSquares => {
                // Σ x² / n: one product per element, then an affine mean.
                let flat: Vec<(Elem, Elem)> = groups.iter().flatten().map(|&e| (e, e)).collect();
                let squares =
                    ctx.g.multiply(&format!("{name}.square"), "Reduce<MeanOfSquares>", vec![flat.len()], flat);
                let rows = regroup(&squares.elems, &groups)
                    .into_iter()
                    .map(|set| {
                        let w = 1.0 / set.len().max(1) as f64;
                        AffineRow { bias: 0.0, terms: set.into_iter().map(|e| (e, w)).collect() }
                    })
                    .collect();
                ctx.g.affine(name, "Reduce<MeanOfSquares>", out_shape, rows)
            }
            Reducer::Min => ctx.g.reduce(name, "Reduce<Min>", ReduceKind::Min, out_shape, groups),
            Reducer::ArgMax(last) => {
                arg_extreme(ctx.g, name, "Reduce<ArgMax>", ReduceKind::Max, last, out_shape, groups)
            }
            Reducer::ArgMin(last) => {
                arg_extreme(ctx.g, name, "Reduce<ArgMin>", ReduceKind::Min, last, out_shape, groups)
            }
            ref other => return Err(ctx.fail(format!("reduction {other:?} is not supported"))),
        };
        Ok(vec![Value::View(view)])
    }
}

/// The index of the first (or, with `last`, the last) element attaining each
/// set's maximum (`kind` Max) or minimum (Min); see the module notes.
fn arg_extreme(
    g: &mut FGraph,
    name: &str,
    origin: &str,
    kind: ReduceKind,
    last: bool,
    shape: Vec<usize>,
    sets: Vec<Vec<Elem>>,
) -> View {
    arg_extreme_and_value(g, name, origin, (kind, last), shape, sets).1
}

/// Each set's maximum (or minimum) and the index of its first (or last)
/// element attaining it.
pub(super) fn arg_extreme_and_value(
    g: &mut FGraph,
    name: &str,
    origin: &str,
    (kind, last): (ReduceKind, bool),
    shape: Vec<usize>,
    sets: Vec<Vec<Elem>>,
) -> (View, View) {
    let extreme = g.reduce(&format!("{name}.extreme"), origin, kind, shape.clone(), sets.clone());
    let flat: Vec<(Elem, Elem)> =
        sets.iter().zip(&extreme.elems).flat_map(|(set, &m)| set.iter().map(move |&x| (x, m))).collect();
    let n = vec![flat.len()];
    let diff = flat.iter().map(|&(x, m)| AffineRow { bias: 0.0, terms: vec![(x, 1.0), (m, -1.0)] }).collect();
    let diff = g.affine(&format!("{name}.diff"), origin, n.clone(), diff);
    let hit = g.map(&format!("{name}.hit"), origin, Func::IsZero, n.clone(), &diff.elems);
    // Candidates: j + L·(1 − e_j) for the first index, j − L·(1 − e_j) for the last.
    let sign = if last { -1.0 } else { 1.0 };
    let candidates = regroup(&hit.elems, &sets)
        .into_iter()
        .flat_map(|hits| {
            let len = hits.len() as f64;
            hits.into_iter()
                .enumerate()
                .map(move |(j, e)| AffineRow { bias: j as f64 + sign * len, terms: vec![(e, -sign * len)] })
        })
        .collect();
    let candidates = g.affine(&format!("{name}.candidate"), origin, n, candidates);
    let pick = if last { ReduceKind::Max } else { ReduceKind::Min };
    let index = g.reduce(name, origin, pick, shape, regroup(&candidates.elems, &sets));
    (extreme, index)
}

/// `flat` (one element per member of `sets`, in order) cut into the sets' sizes.
fn regroup(flat: &[Elem], sets: &[Vec<Elem>]) -> Vec<Vec<Elem>> {
    let mut rest = flat;
    sets.iter()
        .map(|set| {
            let (head, tail) = rest.split_at(set.len());
            rest = tail;
            head.to_vec()
        })
        .collect()
}
