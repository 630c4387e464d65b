//! tract's whole-sequence GRU (`GruSeq`), which replaces the `Scan` of an ONNX
//! GRU with `linear_before_reset` (what PyTorch exports) over four or more steps:
//! unrolled here into one [`super::recurrent::gru_cell`] per step.
//!
//! Inputs are `X [batch, T, in], W [3h, in], R [3h, h], B [6h]?, h0`, or once
//! tract has moved the input-side product out of the op (`projected`, above 64
//! hidden units) `X·Wᵀ + Wb [batch, T, 3h], R, B?, h0`. Each step (backwards
//! when `chunk < 0`) takes `xh = x_t·Wᵀ + Wb` and `rh = h·Rᵀ + Rb`. Outputs are
//! every step's state `Y [batch, T, h]` (empty unless `emit_y`) and the last
//! state `[batch, 1, h]`.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::gru_seq::GruSeq;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{tensor_to_f64, Value};
use super::recurrent::gru_cell;
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem, View};

pub(crate) struct GruSeqLowering;

/// Positions of the recurrent weight and the bias among a `GruSeq`'s inputs.
fn slots(op: &GruSeq) -> (usize, Option<usize>) {
    let r = if op.projected { 1 } else { 2 };
    (r, op.has_bias.then_some(r + 1))
}

impl Lowering for GruSeqLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<GruSeq>()
    }

    fn supports(&self, node: &TypedNode, const_inputs: &[bool]) -> std::result::Result<(), String> {
        let Some(op) = node.op_as::<GruSeq>() else { return Err("not a GruSeq".into()) };
        let (r, b) = slots(op);
        let mut weights = vec![r];
        weights.extend(b);
        if !op.projected {
            weights.push(1);
        }
        if weights.iter().any(|&i| const_inputs.get(i) != Some(&true)) {
            return Err("the GRU's weights and biases must be constants (weights known at compile time)".into());
        }
        Ok(())
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<GruSeq>().ok_or_else(|| ctx.fail("not a GruSeq"))?.clone();
        let h = op.hidden;
        let (r_slot, b_slot) = slots(&op);
        let constant = |ctx: &Ctx<'_>, slot: usize, what: &str| -> Result<Vec<f64>> {
            let t = inputs
                .get(slot)
                .and_then(Value::as_const)
                .ok_or_else(|| ctx.fail(format!("{what} is not constant")))?;
            tensor_to_f64(t).map_err(|e| ctx.fail(e.to_string()))
        };
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let h0 = inputs.last().ok_or_else(|| ctx.fail("no initial state"))?;
        let h0 = h0.to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let r = constant(ctx, r_slot, "R")?;
        let bias = match b_slot {
            Some(slot) => constant(ctx, slot, "B")?,
            None => vec![0.0; 6 * h],
        };
        let &[batch, steps, width] = x.shape.as_slice() else {
            return Err(ctx.fail(format!("input of shape {:?}, expected [batch, steps, features]", x.shape)));
        };
        if h == 0 || r.len() != 3 * h * h || bias.len() != 6 * h || h0.elems.len() != batch * h {
            return Err(ctx.fail("GRU weight, bias and state shapes do not match its hidden size"));
        }
        let name = ctx.name().to_string();
        let origin = ctx.op_name();
        let at = |b: usize, t: usize, k: usize| x.elems[(b * steps + t) * width + k];
        // The input-side gates of every step at once: [T, batch, 3h].
        let xh_rows: Vec<AffineRow> = if op.projected {
            if width != 3 * h {
                return Err(ctx.fail(format!("projected input has {width} features, expected {}", 3 * h)));
            }
            (0..steps)
                .flat_map(|t| (0..batch).flat_map(move |b| (0..3 * h).map(move |g| (b, t, g))))
                .map(|(b, t, g)| AffineRow { bias: 0.0, terms: vec![(at(b, t, g), 1.0)] })
                .collect()
        } else {
            let w = constant(ctx, 1, "W")?;
            if w.len() != 3 * h * width {
                return Err(ctx.fail(format!("W has {} values, expected {}", w.len(), 3 * h * width)));
            }
            let mut rows = Vec::with_capacity(steps * batch * 3 * h);
            for t in 0..steps {
                for b in 0..batch {
                    for g in 0..3 * h {
                        let terms = (0..width).map(|k| (at(b, t, k), w[g * width + k])).collect();
                        rows.push(AffineRow { bias: bias[g], terms });
                    }
                }
            }
            rows
        };
        let xh_all = ctx.g.affine(&format!("{name}.xw"), &origin, vec![steps, batch, 3 * h], xh_rows);
        let mut state = View { elems: h0.elems, shape: vec![batch, h] };
        // Every step's state, only when the op emits it.
        let mut y = vec![Elem::Const(0.0); if op.emit_y { batch * steps * h } else { 0 }];
        for step in 0..steps {
            let t = if op.chunk < 0 { steps - 1 - step } else { step };
            let xh = View {
                elems: xh_all.elems[t * batch * 3 * h..(t + 1) * batch * 3 * h].to_vec(),
                shape: vec![batch, 3 * h],
            };
            let rh_rows = (0..batch)
                .flat_map(|b| (0..3 * h).map(move |g| (b, g)))
                .map(|(b, g)| AffineRow {
                    bias: bias[3 * h + g],
                    terms: (0..h).map(|j| (state.elems[b * h + j], r[g * h + j])).collect(),
                })
                .collect();
            let rh = ctx.g.affine(&format!("{name}.rh{t}"), &origin, vec![batch, 3 * h], rh_rows);
            state = gru_cell(ctx, &format!("{name}.h{t}"), h, &xh, &rh, &state)?;
            if op.emit_y {
                for b in 0..batch {
                    y[(b * steps + t) * h..(b * steps + t + 1) * h].copy_from_slice(&state.elems[b * h..(b + 1) * h]);
                }
            }
        }
        let y = View { elems: y, shape: vec![batch, if op.emit_y { steps } else { 0 }, h] };
        let last = View { elems: state.elems, shape: vec![batch, 1, h] };
        Ok(vec![Value::View(y), Value::View(last)])
    }
}
