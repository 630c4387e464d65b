//! `Scan` (tract's loop: ONNX LSTM, GRU and RNN over several time steps, and
//! ONNX Scan) by unrolling: the body is lowered once per iteration, each
//! iteration reading its slice of the scanned inputs, the full inputs, and the
//! state the previous iteration left; scanned outputs are stacked along their
//! axis in iteration order, last values taken from the final iteration. The
//! circuit grows linearly with the sequence length, which is what proving a
//! recurrence costs.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::scan::{InputMapping, Scan, ScanInfo};

use super::super::lower::{lower_body, op_table, Ctx, Lowering, OpStatus};
use super::super::value::{strides, Value};
use crate::error::Result;
use crate::fgraph::{Elem, View};

pub(crate) struct ScanLowering;

/// Longest sequence unrolled: each iteration is a copy of the body's circuit.
const MAX_ITERATIONS: usize = 4096;

impl Lowering for ScanLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<Scan>()
    }

    fn supports(&self, node: &TypedNode, _const_inputs: &[bool]) -> std::result::Result<(), String> {
        let scan = node.op_as::<Scan>().ok_or("not a Scan")?;
        if scan.skip != 0 {
            return Err("a Scan that skips its first outputs".into());
        }
        if scan.reset_every_turn || scan.external_state {
            return Err("a Scan with externally managed state".into());
        }
        for info in scan.input_mapping.iter().filter_map(InputMapping::as_scan) {
            if info.chunk.unsigned_abs() != 1 {
                return Err(format!("a Scan over chunks of {} steps", info.chunk));
            }
        }
        match op_table(&scan.body).into_iter().find_map(|r| match r.status {
            OpStatus::Unsupported(reason) => {
                Some(format!("inside the loop body, node `{}` ({}): {reason}", r.node, r.op))
            }
            _ => None,
        }) {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let scan = ctx.node.op_as::<Scan>().ok_or_else(|| ctx.fail("not a Scan"))?.clone();
        let iterations = scan
            .input_mapping
            .iter()
            .zip(inputs)
            .find_map(|(m, v)| m.as_scan().map(|info| v.shape()[info.axis]))
            .ok_or_else(|| ctx.fail("a Scan without a scanned input"))?;
        if iterations > MAX_ITERATIONS {
            return Err(ctx.fail(format!("{iterations} iterations (at most {MAX_ITERATIONS} are unrolled)")));
        }
        let views =
            inputs.iter().map(|v| v.to_view().map_err(|e| ctx.fail(e.to_string()))).collect::<Result<Vec<_>>>()?;
        // State inputs, in order, take their initial values from the outer inputs.
        let mut states: Vec<Value> =
            scan.input_mapping.iter().zip(inputs).filter(|(m, _)| m.is_state()).map(|(_, v)| v.clone()).collect();
        let outputs = scan.output_mapping.len();
        let mut scanned: Vec<Vec<View>> = vec![Vec::new(); outputs];
        let mut last: Vec<Option<Value>> = vec![None; outputs];
        for t in 0..iterations {
            let mut state_iter = states.iter();
            let body_inputs = scan
                .input_mapping
                .iter()
                .zip(&views)
                .zip(inputs)
                .map(|((m, view), value)| match m {
                    InputMapping::Full => Ok(value.clone()),
                    InputMapping::State => state_iter.next().cloned().ok_or_else(|| ctx.fail("state count")),
                    InputMapping::Scan(info) => Ok(Value::View(slice(view, info, step(info, t, iterations)))),
                })
                .collect::<Result<Vec<Value>>>()?;
            let body_outputs = lower_body(ctx.g, &scan.body, body_inputs)?;
            let mut next_states = Vec::new();
            for (j, (mapping, value)) in scan.output_mapping.iter().zip(&body_outputs).enumerate() {
                if mapping.state {
                    next_states.push(value.clone());
                }
                if mapping.scan.is_some() {
                    scanned[j].push(value.to_view().map_err(|e| ctx.fail(e.to_string()))?);
                }
                if mapping.last_value_slot.is_some() {
                    last[j] = Some(value.clone());
                }
            }
            states = next_states;
        }
        let slots = ctx.out_shapes.len();
        let mut outer: Vec<Option<Value>> = vec![None; slots];
        for (j, mapping) in scan.output_mapping.iter().enumerate() {
            if let Some((slot, info)) = &mapping.scan {
                // A backward scan (negative chunk) produced its steps last first.
                if info.chunk < 0 {
                    scanned[j].reverse();
                }
                let stacked = stack(&scanned[j], info.axis).ok_or_else(|| ctx.fail("stacking the scanned outputs"))?;
                *outer.get_mut(*slot).ok_or_else(|| ctx.fail("output slot"))? = Some(Value::View(stacked));
            }
            if let Some(slot) = mapping.last_value_slot {
                *outer.get_mut(slot).ok_or_else(|| ctx.fail("output slot"))? = last[j].clone();
            }
        }
        outer.into_iter().map(|o| o.ok_or_else(|| ctx.fail("an output the loop never produced"))).collect()
    }
}

/// The position of iteration `t` along the scanned axis (backwards for a
/// negative chunk).
fn step(info: &ScanInfo, t: usize, iterations: usize) -> usize {
    if info.chunk < 0 {
        iterations - 1 - t
    } else {
        t
    }
}

/// The slice `at..at + 1` of `v` along `axis` (the axis kept, of length 1).
fn slice(v: &View, info: &ScanInfo, at: usize) -> View {
    let axis = info.axis;
    let st = strides(&v.shape);
    let elems = v
        .elems
        .iter()
        .enumerate()
        .filter(|(flat, _)| (flat / st[axis]) % v.shape[axis] == at)
        .map(|(_, e)| *e)
        .collect();
    let mut shape = v.shape.clone();
    shape[axis] = 1;
    View { shape, elems }
}

/// Views of equal shape, with length 1 along `axis`, stacked along it.
fn stack(parts: &[View], axis: usize) -> Option<View> {
    let first = parts.first()?;
    let mut shape = first.shape.clone();
    shape[axis] = parts.len();
    let outer: usize = shape[..axis].iter().product();
    let inner: usize = shape[axis + 1..].iter().product();
    let mut elems: Vec<Elem> = Vec::with_capacity(outer * parts.len() * inner);
    for o in 0..outer {
        for part in parts {
            elems.extend_from_slice(part.elems.get(o * inner..(o + 1) * inner)?);
        }
    }
    Some(View { shape, elems })
}
