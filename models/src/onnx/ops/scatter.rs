//! ScatterElements and ScatterND by computed indices, and with a reduction by
//! any indices: every write compares its index with each position it may land
//! on, one exact `IsZero` lookup per candidate (constant indices fold), and
//! each write it may receive updates a position as
//! `x_p ← x_p + [key_w = p]·(combine(x_p, update_w) − x_p)`, where `combine`
//! is the update itself, or the sum, product, maximum or minimum of the two
//! for ONNX's `reduction` `add`, `mul`, `max` and `min`.
//!
//! An index is an integer in fixed point, so the comparisons are exact. As for
//! Gather by computed indices, a negative index counts from the end
//! ([`super::gather::wrap_negative`]); an index outside the axis writes nothing
//! (ONNX: an error). Of two writes to one position the later
//! wins, as in tract (ONNX leaves duplicates undefined without a reduction).

use tract_onnx::tract_core::ops::array::ScatterReduction;

use super::super::lower::Ctx;
use super::super::value::{offset_off_axis, strides};
use super::gather::{wrap_negative, wrap_negative_tuples};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem, View};
use crate::func::Func;
use crate::ir::ReduceKind;

/// Most comparisons one scatter may make (writes × candidate positions).
const MAX_COMPARISONS: usize = 1 << 20;

/// One write: its computed key, the values it writes (a slice) and the
/// positions it may land on, `(key value, first position of the slice)`.
struct Write {
    key: Elem,
    values: Vec<Elem>,
    candidates: Vec<(f64, usize)>,
}

/// ScatterElements along `axis`: update `u` lands at its own coordinates with
/// the axis coordinate replaced by its index.
pub(crate) fn elements(
    ctx: &mut Ctx<'_>,
    x: View,
    axis: usize,
    indices: &View,
    updates: &View,
    reduction: ScatterReduction,
) -> Result<View> {
    let ds = strides(&x.shape);
    let len = x.shape[axis];
    let keys = wrap_negative(ctx, &indices.elems, len);
    let writes = keys
        .iter()
        .zip(&updates.elems)
        .enumerate()
        .map(|(flat, (&key, &value))| {
            let base = offset_off_axis(flat, &indices.shape, &ds, axis);
            Write { key, values: vec![value], candidates: (0..len).map(|j| (j as f64, base + j * ds[axis])).collect() }
        })
        .collect();
    scatter(ctx, x, writes, reduction)
}

/// ScatterND: each `q`-tuple of `indices` (shape `[..., q]`) names the slice
/// `x[i_0, …, i_{q−1}, :, …]`, which the matching slice of `updates` replaces.
/// The tuple is compared as one key, `Σ_d i_d·stride_d`.
pub(crate) fn nd(
    ctx: &mut Ctx<'_>,
    x: View,
    indices: &View,
    updates: &View,
    reduction: ScatterReduction,
) -> Result<View> {
    let q = indices.shape.last().copied().unwrap_or(0);
    if q == 0 || q > x.shape.len() {
        return Err(ctx.fail(format!("index tuples of length {q} for data of rank {}", x.shape.len())));
    }
    let ds = strides(&x.shape);
    let slice: usize = x.shape[q..].iter().product();
    let slices: usize = x.shape[..q].iter().product();
    let tuples = indices.elems.len() / q;
    if updates.elems.len() != tuples * slice {
        return Err(ctx.fail(format!("{} updates for {tuples} slices of {slice}", updates.elems.len())));
    }
    let name = ctx.name().to_string();
    let origin = ctx.op_name();
    let tuples_elems = wrap_negative_tuples(ctx, &indices.elems, &x.shape[..q]);
    let rows = tuples_elems
        .chunks(q)
        .map(|tuple| AffineRow { bias: 0.0, terms: tuple.iter().zip(&ds).map(|(&i, &s)| (i, s as f64)).collect() })
        .collect();
    let keys = ctx.g.affine(&format!("{name}.key"), &origin, vec![tuples], rows);
    let candidates: Vec<(f64, usize)> = (0..slices).map(|k| ((k * slice) as f64, k * slice)).collect();
    let writes = keys
        .elems
        .iter()
        .enumerate()
        .map(|(t, &key)| Write {
            key,
            values: updates.elems[t * slice..(t + 1) * slice].to_vec(),
            candidates: candidates.clone(),
        })
        .collect();
    scatter(ctx, x, writes, reduction)
}

/// Applies the writes: hits `[key = candidate]`, then, write by write, each
/// position it may touch `x_p + hit·(value − x_p)`.
fn scatter(ctx: &mut Ctx<'_>, mut x: View, mut writes: Vec<Write>, reduction: ScatterReduction) -> Result<View> {
    // A constant key lands on its one position; only computed keys compare.
    for w in &mut writes {
        if let Elem::Const(c) = w.key {
            w.candidates.retain(|&(k, _)| k == c);
        }
    }
    let computed = |w: &Write| matches!(w.key, Elem::Ref(_));
    let comparisons: usize = writes.iter().filter(|w| computed(w)).map(|w| w.candidates.len()).sum();
    if comparisons > MAX_COMPARISONS {
        return Err(ctx.fail(format!(
            "a scatter by computed indices needing {comparisons} comparisons (at most {MAX_COMPARISONS})"
        )));
    }
    let name = ctx.name().to_string();
    let origin = ctx.op_name();
    let offsets = writes
        .iter()
        .filter(|w| computed(w))
        .flat_map(|w| w.candidates.iter().map(move |&(k, _)| AffineRow { bias: -k, terms: vec![(w.key, 1.0)] }))
        .collect();
    let offsets = ctx.g.affine(&format!("{name}.offset"), &origin, vec![comparisons], offsets);
    let compared = ctx.g.map(&format!("{name}.hit"), &origin, Func::IsZero, vec![comparisons], &offsets.elems);
    let mut compared = compared.elems.into_iter();
    // Later writes win (as tract does): each position's changes `(hit, value)`
    // in write order; round `r` applies each position's `r`-th change to its
    // current value.
    let mut per_position: Vec<Vec<(Elem, Elem)>> = vec![Vec::new(); x.elems.len()];
    for w in &writes {
        for &(_, start) in &w.candidates {
            // A constant key kept only its own position.
            let h = match w.key {
                Elem::Const(_) => Elem::Const(1.0),
                Elem::Ref(_) => compared.next().ok_or_else(|| ctx.fail("hit count"))?,
            };
            for (e, &value) in w.values.iter().enumerate() {
                let position = start + e;
                if position >= x.elems.len() {
                    return Err(ctx.fail(format!("position {position} is outside the data")));
                }
                per_position[position].push((h, value));
            }
        }
    }
    let rounds = per_position.iter().map(Vec::len).max().unwrap_or(0);
    for round in 0..rounds {
        let touched: Vec<usize> = (0..x.elems.len()).filter(|&p| per_position[p].len() > round).collect();
        let pairs: Vec<(Elem, Elem)> = touched.iter().map(|&p| (x.elems[p], per_position[p][round].1)).collect();
        let combined = combine(ctx, &format!("{name}.combine{round}"), &pairs, reduction);
        let deltas = touched
            .iter()
            .zip(&combined)
            .map(|(&p, &c)| AffineRow { bias: 0.0, terms: vec![(c, 1.0), (x.elems[p], -1.0)] })
            .collect();
        let deltas = ctx.g.affine(&format!("{name}.delta{round}"), &origin, vec![touched.len()], deltas);
        let pairs = touched.iter().zip(&deltas.elems).map(|(&p, &d)| (per_position[p][round].0, d)).collect();
        let applied = ctx.g.multiply(&format!("{name}.apply{round}"), &origin, vec![touched.len()], pairs);
        let rows = touched
            .iter()
            .zip(&applied.elems)
            .map(|(&p, &a)| AffineRow { bias: 0.0, terms: vec![(x.elems[p], 1.0), (a, 1.0)] })
            .collect();
        let suffix = if round + 1 == rounds { String::new() } else { format!(".write{round}") };
        let out = ctx.g.affine(&format!("{name}{suffix}"), &origin, vec![touched.len()], rows);
        for (&p, &e) in touched.iter().zip(&out.elems) {
            x.elems[p] = e;
        }
    }
    Ok(x)
}

/// What each write makes of a position's current value `x` and its update `u`:
/// `u`, or `x + u`, `x·u`, `max(x, u)`, `min(x, u)` for ONNX's reductions.
fn combine(ctx: &mut Ctx<'_>, name: &str, pairs: &[(Elem, Elem)], reduction: ScatterReduction) -> Vec<Elem> {
    let origin = ctx.op_name();
    let shape = vec![pairs.len()];
    match reduction {
        ScatterReduction::None => pairs.iter().map(|p| p.1).collect(),
        ScatterReduction::Add => {
            let rows = pairs.iter().map(|&(x, u)| AffineRow { bias: 0.0, terms: vec![(x, 1.0), (u, 1.0)] }).collect();
            ctx.g.affine(name, &origin, shape, rows).elems
        }
        ScatterReduction::Mul => ctx.g.multiply(name, &origin, shape, pairs.to_vec()).elems,
        ScatterReduction::Max | ScatterReduction::Min => {
            let kind = if reduction == ScatterReduction::Max { ReduceKind::Max } else { ReduceKind::Min };
            let sets = pairs.iter().map(|&(x, u)| vec![x, u]).collect();
            ctx.g.reduce(name, &origin, kind, shape, sets).elems
        }
    }
}
