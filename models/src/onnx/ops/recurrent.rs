//! tract's fused recurrent cells: ONNX LSTM and GRU over one time step, which
//! tract lowers to the gate matmuls (EinSum, proven as affine maps) and one
//! epilogue op for the gate arithmetic, lowered here to table lookups (Sigmoid,
//! Tanh) and products.
//!
//! - `LstmEpilogue(preact [rows, 4h], c_prev [rows, h]) → (H, C)`, gate order
//!   i, o, f, c: `C = σ(f)·c_prev + σ(i)·tanh(c)`, `H = σ(o)·tanh(C)`.
//! - `GruEpilogue(xh [rows, 3h], rh [rows, 3h], h_prev [rows, h]) → H`, gate
//!   order z, r, h, `linear_before_reset`: `z = σ(xz + rz)`, `r = σ(xr + rr)`,
//!   `n = tanh(xn + r·rn)`, `H = n + z·(h_prev − n)`.
//!
//! A zero initial state is constant, so its products fold away. Longer sequences
//! are a `Scan` around these cells ([`super::scan`]), or for a GRU tract's
//! whole-sequence `GruSeq` ([`super::gru_seq`]).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::gru_cell::GruEpilogue;
use tract_onnx::tract_core::ops::lstm_cell::LstmEpilogue;

use super::super::lower::{Ctx, Lowering};
use super::super::value::Value;
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem, View};
use crate::func::Func;

pub(crate) struct RecurrentLowering;

impl Lowering for RecurrentLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<LstmEpilogue>() || node.op_is::<GruEpilogue>()
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let views =
            inputs.iter().map(|v| v.to_view().map_err(|e| ctx.fail(e.to_string()))).collect::<Result<Vec<View>>>()?;
        if let Some(op) = ctx.node.op_as::<LstmEpilogue>() {
            let hidden = op.hidden;
            lstm(ctx, hidden, &views[0], &views[1])
        } else if let Some(op) = ctx.node.op_as::<GruEpilogue>() {
            let (hidden, name) = (op.hidden, ctx.name().to_string());
            Ok(vec![Value::View(gru_cell(ctx, &name, hidden, &views[0], &views[1], &views[2])?)])
        } else {
            Err(ctx.fail("not a recurrent cell"))
        }
    }
}

/// Element `j` of gate block `gate` (each `hidden` wide) of `row`; a gate tensor
/// of one row is broadcast over the state's rows, as tract does.
fn gate(v: &View, gates: usize, hidden: usize, row: usize, gate: usize, j: usize) -> Elem {
    let rows = v.elems.len() / (gates * hidden);
    let row = if rows == 1 { 0 } else { row };
    v.elems[row * gates * hidden + gate * hidden + j]
}

fn sum_rows(pairs: impl Iterator<Item = (Elem, Elem)>, weight: f64) -> Vec<AffineRow> {
    pairs.map(|(a, b)| AffineRow { bias: 0.0, terms: vec![(a, 1.0), (b, weight)] }).collect()
}

fn lstm(ctx: &mut Ctx<'_>, h: usize, pre: &View, c_prev: &View) -> Result<Vec<Value>> {
    let name = ctx.name().to_string();
    let origin = ctx.op_name();
    let rows = c_prev.elems.len() / h.max(1);
    if h == 0 || rows * h != c_prev.elems.len() || !pre.elems.len().is_multiple_of(4 * h) {
        return Err(ctx.fail("LSTM gate and state shapes do not match"));
    }
    let cells = rows * h;
    let at = |gate_index: usize| -> Vec<Elem> {
        (0..rows).flat_map(|r| (0..h).map(move |j| gate(pre, 4, h, r, gate_index, j))).collect()
    };
    let n = vec![cells];
    let i = ctx.g.map(&format!("{name}.i"), &origin, Func::Sigmoid, n.clone(), &at(0));
    let o = ctx.g.map(&format!("{name}.o"), &origin, Func::Sigmoid, n.clone(), &at(1));
    let f = ctx.g.map(&format!("{name}.f"), &origin, Func::Sigmoid, n.clone(), &at(2));
    let g = ctx.g.map(&format!("{name}.g"), &origin, Func::Tanh, n.clone(), &at(3));
    let keep = ctx.g.multiply(
        &format!("{name}.keep"),
        &origin,
        n.clone(),
        f.elems.iter().copied().zip(c_prev.elems.iter().copied()).collect(),
    );
    let write = ctx.g.multiply(
        &format!("{name}.write"),
        &origin,
        n.clone(),
        i.elems.iter().copied().zip(g.elems.iter().copied()).collect(),
    );
    let rows_c = sum_rows(keep.elems.iter().copied().zip(write.elems.iter().copied()), 1.0);
    let c = ctx.g.affine(&format!("{name}.c"), &origin, c_prev.shape.clone(), rows_c);
    let tc = ctx.g.map(&format!("{name}.tanh_c"), &origin, Func::Tanh, n.clone(), &c.elems);
    let hidden = ctx.g.multiply(
        &name,
        &origin,
        c_prev.shape.clone(),
        o.elems.iter().copied().zip(tc.elems.iter().copied()).collect(),
    );
    Ok(vec![Value::View(hidden), Value::View(c)])
}

/// One GRU step (nodes named after `name`): the next hidden state from the
/// input-side gates `xh`, the recurrent gates `rh` (biases included) and the
/// previous state.
pub(super) fn gru_cell(ctx: &mut Ctx<'_>, name: &str, h: usize, xh: &View, rh: &View, h_prev: &View) -> Result<View> {
    let origin = ctx.op_name();
    let rows = h_prev.elems.len() / h.max(1);
    if h == 0
        || rows * h != h_prev.elems.len()
        || !xh.elems.len().is_multiple_of(3 * h)
        || !rh.elems.len().is_multiple_of(3 * h)
    {
        return Err(ctx.fail("GRU gate and state shapes do not match"));
    }
    let cells = rows * h;
    let n = vec![cells];
    let both = |gate_index: usize| {
        (0..rows).flat_map(move |r| {
            (0..h).map(move |j| (gate(xh, 3, h, r, gate_index, j), gate(rh, 3, h, r, gate_index, j)))
        })
    };
    let z_in = ctx.g.affine(&format!("{name}.z_in"), &origin, n.clone(), sum_rows(both(0), 1.0));
    let r_in = ctx.g.affine(&format!("{name}.r_in"), &origin, n.clone(), sum_rows(both(1), 1.0));
    let z = ctx.g.map(&format!("{name}.z"), &origin, Func::Sigmoid, n.clone(), &z_in.elems);
    let r = ctx.g.map(&format!("{name}.r"), &origin, Func::Sigmoid, n.clone(), &r_in.elems);
    let (xn, rn): (Vec<Elem>, Vec<Elem>) = both(2).unzip();
    let reset = ctx.g.multiply(&format!("{name}.reset"), &origin, n.clone(), r.elems.iter().copied().zip(rn).collect());
    let n_in = ctx.g.affine(
        &format!("{name}.n_in"),
        &origin,
        n.clone(),
        sum_rows(xn.into_iter().zip(reset.elems.iter().copied()), 1.0),
    );
    let cand = ctx.g.map(&format!("{name}.n"), &origin, Func::Tanh, n.clone(), &n_in.elems);
    let diff = ctx.g.affine(
        &format!("{name}.diff"),
        &origin,
        n.clone(),
        sum_rows(h_prev.elems.iter().copied().zip(cand.elems.iter().copied()), -1.0),
    );
    let update = ctx.g.multiply(
        &format!("{name}.update"),
        &origin,
        n,
        z.elems.iter().copied().zip(diff.elems.iter().copied()).collect(),
    );
    Ok(ctx.g.affine(
        name,
        &origin,
        h_prev.shape.clone(),
        sum_rows(cand.elems.iter().copied().zip(update.elems.iter().copied()), 1.0),
    ))
}
