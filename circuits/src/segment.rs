//! Cutting a quantised graph into segments proven separately and linked by
//! commitments (see [`crate::visibility`]).
//!
//! A cut before node `c` is crossed by the *live set*: every element made before
//! `c` that a node at or after `c`, or a model output, still reads. Segment `s`
//! covers the nodes `[c_s, c_{s+1})`; its one input is the live set at `c_s` (for
//! the first segment, the model's inputs) and its one output the live set at
//! `c_{s+1}` (for the last, the model's outputs), both in (node, index) order.
//! Neighbouring segments therefore hash the same values in the same order, and
//! equal commitments link them.

use std::ops::Range;

use zkinfer_models::ir::{Graph, Input, Node, Op, Operand, Output, Ref};

use crate::error::CircuitError;

/// One segment of a graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// The segment as a graph of its own.
    pub graph: Graph,
    /// The nodes of the whole graph it covers.
    pub nodes: Range<usize>,
    /// Elements of the whole graph it takes as its input (empty for the first
    /// segment, which takes the model's inputs).
    pub inputs: Vec<Ref>,
    /// Elements of the whole graph it outputs (empty for the last segment, whose
    /// outputs are the model's).
    pub outputs: Vec<Ref>,
}

/// For each cut position `c` in `0..=n`, the number of elements live across it.
pub fn live_counts(graph: &Graph) -> Vec<usize> {
    counts_across(graph, |_| true)
}

/// Whether each cut position `c` in `0..=n` may be cut: no element crossing it
/// is a double-scale product awaiting its rescale (a [`Op::Linear`] with
/// fractional weights), which the next segment could not range-check as an
/// input.
pub fn allowed_cuts(graph: &Graph) -> Vec<bool> {
    let wide = |node: usize| {
        matches!(&graph.nodes[node].op, Op::Linear(l) if l.weight_scale != 0)
            || matches!(&graph.nodes[node].op, Op::Bilinear { .. })
    };
    counts_across(graph, wide).into_iter().map(|c| c == 0).collect()
}

/// For each cut position, the number of elements of nodes accepted by `count`
/// that are live across it.
fn counts_across(graph: &Graph, count: impl Fn(usize) -> bool) -> Vec<usize> {
    let n = graph.nodes.len();
    let last = last_uses(graph);
    let mut diff = vec![0isize; n + 2];
    for (node, uses) in last.iter().enumerate() {
        if !count(node) {
            continue;
        }
        for &l in uses {
            if let Some(l) = l {
                // Live across every cut c with node < c <= l.
                diff[node + 1] += 1;
                diff[l + 1] -= 1;
            }
        }
    }
    let mut counts = Vec::with_capacity(n + 1);
    let mut run = 0isize;
    for d in diff.iter().take(n + 1) {
        run += d;
        counts.push(run.max(0) as usize);
    }
    counts
}

/// Per element, the last node that reads it (`n` for a model output; `None` when
/// nothing reads it).
fn last_uses(graph: &Graph) -> Vec<Vec<Option<usize>>> {
    let n = graph.nodes.len();
    let mut last: Vec<Vec<Option<usize>>> = graph.nodes.iter().map(|node| vec![None; node.len()]).collect();
    for (id, node) in graph.nodes.iter().enumerate() {
        node.op.for_each_ref(|r| {
            let slot = &mut last[r.node as usize][r.index as usize];
            *slot = Some(slot.map_or(id, |s: usize| s.max(id)));
        });
    }
    for output in &graph.outputs {
        for e in &output.elems {
            if let Operand::Ref(r) = e {
                last[r.node as usize][r.index as usize] = Some(n);
            }
        }
    }
    last
}

/// The elements live across the cut before node `c`, in (node, index) order.
fn live_at(last: &[Vec<Option<usize>>], c: usize) -> Vec<Ref> {
    let mut refs = Vec::new();
    for (node, uses) in last.iter().enumerate().take(c) {
        for (index, l) in uses.iter().enumerate() {
            if l.is_some_and(|l| l >= c) {
                refs.push(Ref::new(node, index));
            }
        }
    }
    refs
}

/// The first cut allowed: every model input belongs to the first segment.
pub fn first_cut(graph: &Graph) -> usize {
    graph.inputs.iter().map(|i| i.node as usize + 1).max().unwrap_or(1).max(1)
}

/// Cuts `graph` before each node of `cuts` (strictly increasing, within
/// `first_cut(graph)..nodes`).
pub fn split(graph: &Graph, cuts: &[usize]) -> Result<Vec<Segment>, CircuitError> {
    if zkinfer_models::params::has_params(graph) {
        return Err(CircuitError::Settings(
            "segmented proving keeps weights fixed: hidden weights would need one commitment spanning the segments\n  hint: use --weights-visibility fixed with segments".into(),
        ));
    }
    let n = graph.nodes.len();
    let lo = first_cut(graph);
    if cuts.windows(2).any(|w| w[0] >= w[1]) || cuts.iter().any(|&c| c < lo || c >= n) {
        return Err(CircuitError::Settings(format!(
            "segment cuts {cuts:?} must increase strictly within {lo}..{n} (the model's inputs stay in the first segment)"
        )));
    }
    let allowed = allowed_cuts(graph);
    if let Some(c) = cuts.iter().find(|&&c| !allowed[c]) {
        return Err(CircuitError::Settings(format!(
            "cannot cut before node {c} (`{}`): a product awaiting its rescale crosses it",
            graph.nodes[*c].name
        )));
    }
    let last = last_uses(graph);
    let bounds: Vec<usize> = std::iter::once(0).chain(cuts.iter().copied()).chain(std::iter::once(n)).collect();
    let count = bounds.len() - 1;
    let mut segments = Vec::with_capacity(count);
    for s in 0..count {
        let (start, end) = (bounds[s], bounds[s + 1]);
        let inputs = if s == 0 { Vec::new() } else { live_at(&last, start) };
        let outputs = if s + 1 == count { Vec::new() } else { live_at(&last, end) };
        segments.push(Segment {
            graph: segment_graph(graph, start..end, &inputs, &outputs, s + 1 == count)?,
            nodes: start..end,
            inputs,
            outputs,
        });
    }
    Ok(segments)
}

fn segment_graph(
    graph: &Graph,
    nodes: Range<usize>,
    inputs: &[Ref],
    outputs: &[Ref],
    last: bool,
) -> Result<Graph, CircuitError> {
    let first = nodes.start == 0;
    let offset = if first { 0 } else { 1 };
    let position = |r: Ref| inputs.binary_search_by(|p| (p.node, p.index).cmp(&(r.node, r.index))).ok();
    let remap = |r: Ref| -> Option<Ref> {
        if (r.node as usize) < nodes.start {
            position(r).map(|i| Ref::new(0, i))
        } else {
            Some(Ref::new(r.node as usize - nodes.start + offset, r.index as usize))
        }
    };
    let mut out = Graph { scale: graph.scale, nodes: Vec::new(), inputs: Vec::new(), outputs: Vec::new() };
    if first {
        out.inputs = graph.inputs.clone();
    } else {
        out.nodes.push(Node {
            name: "segment input".into(),
            origin: "Input".into(),
            shape: vec![inputs.len()],
            op: Op::Input { index: 0 },
        });
        out.inputs.push(Input { name: "boundary".into(), shape: vec![inputs.len()], node: 0 });
    }
    let mut missing = None;
    for node in &graph.nodes[nodes.clone()] {
        let mut node = node.clone();
        node.op.for_each_ref_mut(|r| match remap(*r) {
            Some(m) => *r = m,
            None => missing = Some(*r),
        });
        out.nodes.push(node);
    }
    let operand = |e: &Operand| -> Option<Operand> {
        match e {
            Operand::Const(c) => Some(Operand::Const(*c)),
            Operand::Ref(r) => remap(*r).map(Operand::Ref),
        }
    };
    if last {
        for o in &graph.outputs {
            let elems = o.elems.iter().map(operand).collect::<Option<Vec<_>>>();
            out.outputs.push(Output { shape: o.shape.clone(), elems: elems.ok_or_else(internal)? });
        }
    } else {
        let elems = outputs.iter().map(|r| remap(*r).map(Operand::Ref)).collect::<Option<Vec<_>>>();
        out.outputs.push(Output { shape: vec![outputs.len()], elems: elems.ok_or_else(internal)? });
    }
    if missing.is_some() {
        return Err(internal());
    }
    out.validate().map_err(|e| CircuitError::Settings(format!("segment graph: {e}")))?;
    Ok(out)
}

fn internal() -> CircuitError {
    CircuitError::Settings("internal: a segment reads an element outside its input".into())
}

#[cfg(test)]
#[path = "segment_tests.rs"]
mod tests;
