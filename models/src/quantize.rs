//! Float graph → quantised IR at one fixed-point scale.
//!
//! Inputs, weights and activations all use `scale` fractional bits. A linear map with
//! fractional weights produces values at twice the scale and is followed by a
//! [`Op::Rescale`]; one with integer weights (sums, copies, additions) stays at the
//! scale. Products are rescaled at once ([`Op::MulRescale`]). A rescale whose only
//! consumer is a ReLU absorbs it. A maximum's positive constant is at least one
//! unit (and a minimum's negative constant at most minus one), so that a floor
//! that keeps a divisor positive does so at every scale.

use std::collections::HashMap;

use crate::arith::quantize;
use crate::error::{Error, Result};
use crate::fgraph::{Elem, FGraph, FOp};
use crate::ir::{live_nodes, Csr, Graph, Input, Linear, Node, Op, Operand, Output, ReduceKind, Ref};

/// Largest integer weight kept at scale 0 (beyond it, weights are treated as fractional).
const MAX_INTEGER_WEIGHT: f64 = (1u64 << 24) as f64;

/// A row of a linear map whose weights are all below `2^-PRECISE_BELOW` in
/// magnitude is a precise row ([`precise_bits`]). The choice depends on the
/// weights alone, not on the scale, so that the graph's structure (and with it
/// the circuit layout) is the same at every scale.
const PRECISE_BELOW: i32 = 8;

/// Significant bits a precise row's largest weight is given (at most the
/// scale's worth of extra bits).
const PRECISE_TARGET: f64 = 10.0;

/// For a row whose largest weight is `w_max`: `None` for an ordinary row, or
/// the extra fractional bits `k ≤ scale` of a precise row (possibly 0 at a
/// high scale).
///
/// Precise rows (a standard scaler's `1/σ` for a feature measured in
/// thousands, composed with the next layer's weights, say) are computed at
/// scale `scale + k` and brought back by a second rescale: per-row weight
/// precision for the price of one more rescale of those rows only.
pub fn precise_bits(w_max: f64, scale: u32) -> Option<u32> {
    if w_max <= 0.0 || !w_max.is_finite() || w_max >= f64::powi(2.0, -PRECISE_BELOW) {
        return None;
    }
    let bits = w_max.log2() + f64::from(scale);
    Some((PRECISE_TARGET - bits).ceil().clamp(0.0, f64::from(scale)) as u32)
}

/// Where each float element lives in the IR: the IR node of each float node,
/// and the elements moved elsewhere (precise rows).
struct Placement {
    node: Vec<u32>,
    moved: HashMap<Ref, Ref>,
}

impl Placement {
    fn get(&self, r: Ref) -> Ref {
        self.moved.get(&r).copied().unwrap_or(Ref { node: self.node[r.node as usize], index: r.index })
    }
}

fn q(x: f64, scale: u32, what: impl FnOnce() -> String) -> Result<i64> {
    quantize(x, scale).ok_or_else(|| Error::Quantize { what: what(), value: x, scale })
}

/// Pushes `round(x · m / 2^scale)` (half up) for each `(x, m)`: a one-term
/// [`Linear`] at the weights' scale and its [`Op::Rescale`], both named `name`;
/// returns the rescale's node. With `m = 2^(scale − d)` it divides by `2^d`.
fn push_shift(nodes: &mut Vec<Node>, name: &str, origin: &str, scale: u32, items: Vec<(Ref, i64)>) -> usize {
    let n = items.len();
    let mut terms = Csr::new();
    for item in items {
        terms.push_row([item]);
    }
    let op = Op::Linear(Linear { bias: vec![0; n], terms, weight_scale: scale, params: None });
    nodes.push(Node { name: name.into(), origin: origin.into(), shape: vec![n], op });
    let src = (0..n).map(|i| Ref::new(nodes.len() - 1, i)).collect();
    nodes.push(Node { name: name.into(), origin: origin.into(), shape: vec![n], op: Op::Rescale { src, relu: false } });
    nodes.len() - 1
}

/// Scales with equal keys quantise `g` to graphs of the same structure (the
/// same nodes, shapes and references, so the same circuit layout): lookups
/// whose table scale is below the graph scale ([`crate::func::Func::table_scale`])
/// get a rescale first; everything else is laid out alike at every scale.
pub fn structure_key(g: &FGraph, scale: u32) -> Vec<bool> {
    g.nodes
        .iter()
        .filter_map(|n| match &n.op {
            FOp::Map { func, .. } => Some(func.table_scale(scale) < scale),
            _ => None,
        })
        .collect()
}

/// Quantises `g` at `scale` fractional bits.
pub fn quantize_graph(g: &FGraph, scale: u32) -> Result<Graph> {
    let mut nodes: Vec<Node> = Vec::with_capacity(g.nodes.len());
    // float node -> IR node holding its (rescaled) outputs
    let mut map = Placement { node: Vec::with_capacity(g.nodes.len()), moved: HashMap::new() };
    for (f, fnode) in g.nodes.iter().enumerate() {
        let name = fnode.name.clone();
        let origin = fnode.origin.clone();
        let shape = vec![fnode.len];
        let what = |kind: &str| format!("{kind} of node `{}` ({})", fnode.name, fnode.origin);
        let refs = |v: &[Ref]| -> Vec<Ref> { v.iter().map(|r| map.get(*r)).collect() };
        match &fnode.op {
            FOp::Input { index } => {
                nodes.push(Node { name, origin, shape, op: Op::Input { index: *index } });
            }
            FOp::Linear(l) => {
                // Hidden weights are always fractional: whether they are whole
                // numbers must not show in the circuit.
                let integral = l.params.is_none()
                    && l.terms.items.iter().all(|(_, w)| w.fract() == 0.0 && w.abs() <= MAX_INTEGER_WEIGHT);
                let (w_scale, b_scale) = if integral { (0, scale) } else { (scale, 2 * scale) };
                // Extra fractional bits per row (fixed weights only: hidden
                // weights must not show their size in the circuit).
                let extra: Vec<Option<u32>> = l
                    .terms
                    .rows()
                    .map(|row| {
                        let w_max = row.iter().fold(0.0f64, |m, (_, w)| m.max(w.abs()));
                        if integral || l.params.is_some() {
                            None
                        } else {
                            precise_bits(w_max, scale)
                        }
                    })
                    .collect();
                let mut terms = Csr::new();
                for (row, k) in l.terms.rows().zip(&extra) {
                    let k = k.unwrap_or(0);
                    let mut qrow = Vec::with_capacity(row.len());
                    // Weights that round to zero stay, so that the graph's structure
                    // (and with it the circuit layout) does not depend on the scale.
                    for &(r, w) in row {
                        qrow.push((map.get(r), q(w, w_scale + k, || what("a weight"))?));
                    }
                    terms.push_row(qrow);
                }
                let bias = l
                    .bias
                    .iter()
                    .zip(&extra)
                    .map(|(&b, k)| q(b, b_scale + k.unwrap_or(0), || what("a bias")))
                    .collect::<Result<Vec<_>>>()?;
                nodes.push(Node {
                    name: name.clone(),
                    origin: origin.clone(),
                    shape: shape.clone(),
                    op: Op::Linear(Linear { bias, terms, weight_scale: w_scale, params: l.params.clone() }),
                });
                if !integral {
                    let lin = (nodes.len() - 1) as u32;
                    nodes.push(Node {
                        name: name.clone(),
                        origin: origin.clone(),
                        shape,
                        op: Op::Rescale {
                            src: (0..fnode.len).map(|i| Ref::new(lin as usize, i)).collect(),
                            relu: false,
                        },
                    });
                    let precise: Vec<(usize, u32)> =
                        extra.iter().enumerate().filter_map(|(i, k)| k.map(|k| (i, k))).collect();
                    if !precise.is_empty() {
                        // The precise rows, at scale s + k, times 2^(s−k) and rescaled.
                        let rescaled = nodes.len() - 1;
                        let items =
                            precise.iter().map(|&(i, k)| (Ref::new(rescaled, i), 1i64 << (scale - k))).collect();
                        let back = push_shift(&mut nodes, &format!("{name}.precise"), &origin, scale, items);
                        for (j, &(i, _)) in precise.iter().enumerate() {
                            map.moved.insert(Ref::new(f, i), Ref::new(back, j));
                        }
                        // The node's own position stays the full-width rescale.
                        map.node.push(rescaled as u32);
                        continue;
                    }
                }
            }
            FOp::Dot { terms } => {
                let mut qterms = Csr::new();
                for row in terms.rows() {
                    qterms.push_row(row.iter().map(|(a, b)| (map.get(*a), map.get(*b))));
                }
                nodes.push(Node {
                    name: name.clone(),
                    origin: origin.clone(),
                    shape: shape.clone(),
                    op: Op::Bilinear { terms: qterms },
                });
                let dot = nodes.len() - 1;
                let src = (0..fnode.len).map(|i| Ref::new(dot, i)).collect();
                nodes.push(Node { name, origin, shape, op: Op::Rescale { src, relu: false } });
            }
            FOp::Mul { a, b } => {
                nodes.push(Node { name, origin, shape, op: Op::MulRescale { a: refs(a), b: refs(b) } })
            }
            FOp::Table { data, src } => {
                let data = data.iter().map(|&v| q(v, scale, || what("a table entry"))).collect::<Result<Vec<_>>>()?;
                nodes.push(Node { name, origin, shape, op: Op::Gather { data, src: refs(src) } })
            }
            FOp::Sqrt { src } => nodes.push(Node { name, origin, shape, op: Op::Sqrt { src: refs(src) } }),
            FOp::Div { a, b } => {
                nodes.push(Node { name, origin, shape, op: Op::DivRescale { a: refs(a), b: refs(b) } })
            }
            FOp::Map { func, src } => {
                // At the table's scale u (below the graph scale past the
                // table-size cap: x·2^u rescaled by 2^s), clamped to the
                // table's range, then looked up.
                let bits = func.table_bits(scale);
                let (lo, hi) = func.input_range(bits);
                let n = src.len();
                let mut x = refs(src);
                let u = func.table_scale(scale);
                if u < scale {
                    let items = x.iter().map(|&r| (r, 1i64 << u)).collect();
                    let rescaled = push_shift(&mut nodes, &format!("{name}.to_table_scale"), &origin, scale, items);
                    x = (0..n).map(|i| Ref::new(rescaled, i)).collect();
                }
                let singletons = |refs: Vec<Ref>| {
                    let mut sets = Csr::new();
                    for r in refs {
                        sets.push_row([r]);
                    }
                    sets
                };
                let low = singletons(x);
                nodes.push(Node {
                    name: format!("{name}.clamp_low"),
                    origin: origin.clone(),
                    shape: shape.clone(),
                    op: Op::Reduce { kind: ReduceKind::Max, sets: low, konst: vec![Some(lo); n] },
                });
                let low_id = nodes.len() - 1;
                let high = singletons((0..n).map(|i| Ref::new(low_id, i)).collect());
                nodes.push(Node {
                    name: format!("{name}.clamp_high"),
                    origin: origin.clone(),
                    shape: shape.clone(),
                    op: Op::Reduce { kind: ReduceKind::Min, sets: high, konst: vec![Some(hi); n] },
                });
                let high_id = nodes.len() - 1;
                let src = (0..n).map(|i| Ref::new(high_id, i)).collect();
                nodes.push(Node { name, origin, shape, op: Op::Lookup { func: *func, src, bits } });
            }
            FOp::Wrap { period, src } => {
                // n = round(x / period) from x·W, W = round(2^2s / period) split as
                // W_hi·2^s + W_lo: t = rescale(x·W_lo), y = rescale(x·W_hi + t) (the
                // turns at scale s, to within a unit however large x is), n =
                // rescale(y); then r = rescale(x·2^s − n·round(period·2^2s)).
                let n = src.len();
                let x = refs(src);
                let w = q(1.0 / period, 2 * scale, || what("the inverse period"))?;
                let (w_hi, w_lo) = (w.div_euclid(1 << scale), w.rem_euclid(1 << scale));
                let period_2s = q(*period, 2 * scale, || what("the period"))?;
                let linear = |rows: Vec<Vec<(Ref, i64)>>| {
                    let mut terms = Csr::new();
                    for row in rows {
                        terms.push_row(row);
                    }
                    Op::Linear(Linear { bias: vec![0; n], terms, weight_scale: scale, params: None })
                };
                let all = |node: usize| (0..n).map(|i| Ref::new(node, i)).collect::<Vec<_>>();
                let mut push = |suffix: &str, op: Op| {
                    let name = format!("{name}.{suffix}");
                    nodes.push(Node { name, origin: origin.clone(), shape: shape.clone(), op });
                    nodes.len() - 1
                };
                let low = push("turns_low", linear(x.iter().map(|r| vec![(*r, w_lo)]).collect()));
                let low = push("turns_low.rescale", Op::Rescale { src: all(low), relu: false });
                let rows = x.iter().enumerate().map(|(i, r)| vec![(*r, w_hi), (Ref::new(low, i), 1)]).collect();
                let turns = push("turns", linear(rows));
                let turns = push("turns.rescale", Op::Rescale { src: all(turns), relu: false });
                let count = push("count", Op::Rescale { src: all(turns), relu: false });
                let rows = x
                    .iter()
                    .enumerate()
                    .map(|(i, r)| vec![(*r, 1i64 << scale), (Ref::new(count, i), -period_2s)])
                    .collect();
                let reduced = push("reduced", linear(rows));
                nodes.push(Node { name, origin, shape, op: Op::Rescale { src: all(reduced), relu: false } });
            }
            FOp::Recip { src } => {
                // max(x, 1 unit), then round(2^s · 2^s / m) by a division whose
                // numerator, the constant 1.0, is one affine cell.
                let n = src.len();
                let mut sets = Csr::new();
                for r in refs(src) {
                    sets.push_row([r]);
                }
                let op = Op::Reduce { kind: ReduceKind::Max, sets, konst: vec![Some(1); n] };
                nodes.push(Node { name: format!("{name}.clamp"), origin: origin.clone(), shape: shape.clone(), op });
                let clamp = nodes.len() - 1;
                let mut terms = Csr::new();
                terms.push_row([(Ref::new(clamp, 0), 0)]);
                let one = Op::Linear(Linear { bias: vec![1i64 << scale], terms, weight_scale: 0, params: None });
                nodes.push(Node { name: format!("{name}.one"), origin: origin.clone(), shape: vec![1], op: one });
                let one = nodes.len() - 1;
                let a = vec![Ref::new(one, 0); n];
                let b = (0..n).map(|i| Ref::new(clamp, i)).collect();
                nodes.push(Node { name, origin, shape, op: Op::DivRescale { a, b } });
            }
            FOp::Reduce { kind, sets, konst } => {
                let mut qsets = Csr::new();
                for row in sets.rows() {
                    qsets.push_row(row.iter().map(|r| map.get(*r)));
                }
                // A positive lower bound stays positive, a negative upper bound
                // negative: max(x, 1e-6) is a floor above zero at every scale.
                let bound = |k: f64| -> Result<i64> {
                    let v = q(k, scale, || what("a constant"))?;
                    Ok(match kind {
                        ReduceKind::Max if k > 0.0 => v.max(1),
                        ReduceKind::Min if k < 0.0 => v.min(-1),
                        _ => v,
                    })
                };
                let konst = konst.iter().map(|k| k.map(bound).transpose()).collect::<Result<Vec<_>>>()?;
                nodes.push(Node { name, origin, shape, op: Op::Reduce { kind: *kind, sets: qsets, konst } });
            }
        }
        map.node.push((nodes.len() - 1) as u32);
    }
    let inputs = g
        .inputs
        .iter()
        .map(|i| Input { name: i.name.clone(), shape: i.shape.clone(), node: map.node[i.node] })
        .collect();
    // Input nodes carry the model's shape rather than a flat one.
    let mut graph = Graph { scale, nodes, inputs, outputs: Vec::new() };
    for input in &graph.inputs {
        graph.nodes[input.node as usize].shape = input.shape.clone();
    }
    for (i, v) in g.outputs.iter().enumerate() {
        let elems = v
            .elems
            .iter()
            .map(|e| match e {
                Elem::Ref(r) => Ok(Operand::Ref(map.get(*r))),
                Elem::Const(c) => q(*c, scale, || format!("constant element of output {i}")).map(Operand::Const),
            })
            .collect::<Result<Vec<_>>>()?;
        graph.outputs.push(Output { shape: v.shape.clone(), elems });
    }
    fuse_rescale_relu(&mut graph);
    Ok(graph)
}

/// Rewrites `Rescale → ReLU` into one `Rescale { relu: true }` where the ReLU reads
/// every element of the rescale exactly once and nothing else reads them.
pub fn fuse_rescale_relu(g: &mut Graph) {
    let mut uses: Vec<usize> = g.nodes.iter().map(|_| 0).collect();
    let mut elem_uses: HashMap<Ref, usize> = HashMap::new();
    for node in &g.nodes {
        node.op.for_each_ref(|r| {
            uses[r.node as usize] += 1;
            *elem_uses.entry(r).or_default() += 1;
        });
    }
    for out in &g.outputs {
        for e in &out.elems {
            if let Operand::Ref(r) = e {
                uses[r.node as usize] += 1;
                *elem_uses.entry(*r).or_default() += 1;
            }
        }
    }
    let mut alias: HashMap<u32, (u32, Vec<u32>)> = HashMap::new(); // relu node -> (rescale node, index map)
    for y in 0..g.nodes.len() {
        let Op::Reduce { kind: ReduceKind::Max, sets, konst } = &g.nodes[y].op else {
            continue;
        };
        if !konst.iter().all(|k| *k == Some(0)) || sets.rows().any(|s| s.len() != 1) || sets.is_empty() {
            continue;
        }
        let x = sets.items[0].node;
        let Op::Rescale { src, relu: false } = &g.nodes[x as usize].op else { continue };
        let covers_once = sets.items.iter().all(|r| r.node == x && elem_uses.get(r) == Some(&1));
        if !covers_once || sets.len() != src.len() || uses[x as usize] != src.len() {
            continue;
        }
        alias.insert(y as u32, (x, sets.items.iter().map(|r| r.index).collect()));
    }
    if alias.is_empty() {
        return;
    }
    for (x, _) in alias.values() {
        if let Op::Rescale { relu, .. } = &mut g.nodes[*x as usize].op {
            *relu = true;
        }
    }
    let redirect = |r: &mut Ref| {
        if let Some((x, idx)) = alias.get(&r.node) {
            *r = Ref { node: *x, index: idx[r.index as usize] };
        }
    };
    for node in &mut g.nodes {
        node.op.for_each_ref_mut(redirect);
    }
    for out in &mut g.outputs {
        for e in &mut out.elems {
            if let Operand::Ref(r) = e {
                redirect(r);
            }
        }
    }
    eliminate_dead(g);
}

/// Removes IR nodes no output depends on (inputs stay) and renumbers references.
pub fn eliminate_dead(g: &mut Graph) {
    let roots: Vec<usize> = g
        .inputs
        .iter()
        .map(|i| i.node as usize)
        .chain(g.outputs.iter().flat_map(|o| o.elems.iter()).filter_map(|e| match e {
            Operand::Ref(r) => Some(r.node as usize),
            Operand::Const(_) => None,
        }))
        .collect();
    let nodes = &g.nodes;
    let live = live_nodes(nodes.len(), roots, |id, mark| nodes[id].op.for_each_ref(|r| mark(r.node as usize)));
    let mut remap = vec![u32::MAX; live.len()];
    let old = std::mem::take(&mut g.nodes);
    for (id, mut node) in old.into_iter().enumerate() {
        if live[id] {
            node.op.for_each_ref_mut(|r| r.node = remap[r.node as usize]);
            remap[id] = g.nodes.len() as u32;
            g.nodes.push(node);
        }
    }
    for i in &mut g.inputs {
        i.node = remap[i.node as usize];
    }
    for out in &mut g.outputs {
        for e in &mut out.elems {
            if let Operand::Ref(r) = e {
                r.node = remap[r.node as usize];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::evaluate;
    use crate::fgraph::AffineRow;

    #[test]
    fn quantised_graph_tracks_float_and_fuses_relu() {
        let mut g = FGraph::default();
        let x = g.add_input("x", vec![2]);
        let rows = vec![
            AffineRow { bias: 0.25, terms: vec![(x.elems[0], 0.75), (x.elems[1], -1.5)] },
            AffineRow { bias: -0.125, terms: vec![(x.elems[0], -0.5), (x.elems[1], 0.5)] },
        ];
        let h = g.affine("fc", "Gemm", vec![2], rows);
        let relu = g.reduce(
            "relu",
            "Max",
            ReduceKind::Max,
            vec![2],
            h.elems.iter().map(|e| vec![*e, Elem::Const(0.0)]).collect(),
        );
        g.outputs = vec![relu];
        let graph = quantize_graph(&g, 8).unwrap();
        graph.validate().unwrap();
        assert!(graph.nodes.iter().any(|n| matches!(n.op, Op::Rescale { relu: true, .. })));
        assert!(!graph.nodes.iter().any(|n| matches!(n.op, Op::Reduce { .. })), "relu fused away");
        let input = [0.6, -0.3];
        let want = g.outputs_of(&g.evaluate(&[input.to_vec()]));
        let qin: Vec<i64> = input.iter().map(|v| quantize(*v, 8).unwrap()).collect();
        let got = evaluate(&graph, &[qin]).unwrap().outputs(&graph);
        for (w, g) in want[0].iter().zip(&got) {
            assert!((w - *g as f64 / 256.0).abs() < 4.0 / 256.0, "{w} vs {g}");
        }
    }

    #[test]
    fn positive_floors_stay_positive_at_every_scale() {
        let mut g = FGraph::default();
        let x = g.add_input("x", vec![2]);
        let floor = g.reduce("floor", "Max", ReduceKind::Max, vec![1], vec![vec![x.elems[0], Elem::Const(1e-6)]]);
        let cap = g.reduce("cap", "Min", ReduceKind::Min, vec![1], vec![vec![x.elems[1], Elem::Const(-1e-6)]]);
        let relu = g.reduce("relu", "Max", ReduceKind::Max, vec![1], vec![vec![x.elems[1], Elem::Const(0.0)]]);
        g.outputs = vec![floor, cap, relu];
        for scale in [4, 8] {
            let graph = quantize_graph(&g, scale).unwrap();
            let out = evaluate(&graph, &[vec![0, 0]]).unwrap().outputs(&graph);
            assert_eq!(out, vec![1, -1, 0], "at scale {scale}: 1e-6 rounds to 0 but a floor stays a unit");
        }
    }

    #[test]
    fn tiny_weights_get_extra_bits() {
        assert_eq!(precise_bits(0.5, 10), None);
        assert_eq!(precise_bits(0.004, 10), None, "not all below 2^-8");
        assert_eq!(precise_bits(0.0005, 10), Some(10), "capped at the scale");
        assert_eq!(precise_bits(0.0003, 12), Some(10), "0.3 bits raised to 10");
        assert_eq!(precise_bits(0.003, 16), Some(3));
        assert_eq!(precise_bits(0.0, 10), None);
        // The structure does not depend on the scale.
        assert!((1..=16).all(|s| precise_bits(0.001, s).is_some()));
    }

    #[test]
    fn rows_of_tiny_weights_are_computed_precisely() {
        // A standard scaler's 1/σ for a feature in the thousands, next to an
        // ordinary row: at scale 8 the tiny weight would round to 0 units.
        let mut g = FGraph::default();
        let x = g.add_input("x", vec![2]);
        let rows = vec![
            AffineRow { bias: -0.4, terms: vec![(x.elems[0], 0.0012)] },
            AffineRow { bias: 0.25, terms: vec![(x.elems[1], 0.75)] },
        ];
        let h = g.affine("scaler", "Mul", vec![2], rows);
        g.outputs = vec![h];
        let graph = quantize_graph(&g, 8).unwrap();
        graph.validate().unwrap();
        let precise: Vec<&Node> = graph.nodes.iter().filter(|n| n.name.ends_with(".precise")).collect();
        assert_eq!(precise.len(), 2, "one extra linear map and its rescale");
        assert!(precise.iter().all(|n| n.len() == 1), "only the tiny row is redone");
        let input = [900.0, 0.5];
        let want = g.outputs_of(&g.evaluate(&[input.to_vec()]));
        let qin: Vec<i64> = input.iter().map(|v| quantize(*v, 8).unwrap()).collect();
        let got = evaluate(&graph, &[qin]).unwrap().outputs(&graph);
        for (w, g) in want[0].iter().zip(&got) {
            assert!((w - *g as f64 / 256.0).abs() <= 1.0 / 256.0, "{w} vs {g}");
        }
    }

    #[test]
    fn integer_weights_need_no_rescale() {
        let mut g = FGraph::default();
        let x = g.add_input("x", vec![2]);
        let sum = g.affine(
            "add",
            "Add",
            vec![1],
            vec![AffineRow { bias: 0.5, terms: vec![(x.elems[0], 1.0), (x.elems[1], 1.0)] }],
        );
        g.outputs = vec![sum];
        let graph = quantize_graph(&g, 6).unwrap();
        assert_eq!(graph.nodes.len(), 2);
        let t = evaluate(&graph, &[vec![64, 32]]).unwrap();
        assert_eq!(t.outputs(&graph), vec![64 + 32 + 32]);
    }

    #[test]
    fn periodic_reduction_and_reciprocals_are_integer_exact() {
        let mut g = FGraph::default();
        let x = g.add_input("x", vec![7]);
        let w = g.wrap("wrap", "Sin", std::f64::consts::TAU, vec![7], &x.elems);
        let r = g.recip("recip", "Recip", vec![7], &x.elems);
        g.outputs = vec![w, r];
        let input = [-20.0, -3.2, 0.0, 0.25, 3.2, 6.0, 1000.0];
        let want = g.outputs_of(&g.evaluate(&[input.to_vec()]));
        for scale in [6, 10, 14] {
            let graph = quantize_graph(&g, scale).unwrap();
            graph.validate().unwrap();
            let qin: Vec<i64> = input.iter().map(|v| quantize(*v, scale).unwrap()).collect();
            let out = evaluate(&graph, std::slice::from_ref(&qin)).unwrap().outputs(&graph);
            let unit = f64::powi(2.0, scale as i32);
            for (i, &q) in qin.iter().enumerate() {
                // The reduction: x − n·round(2π·2^2s)/2^s, within a unit of the real
                // one and inside [−π, π] up to the rounding.
                // (Near ±π either end may be chosen: compare modulo 2π.)
                let r = out[i] as f64 / unit;
                let d = crate::fgraph::wrap(r - want[0][i], std::f64::consts::TAU);
                assert!(d.abs() <= 1.0 / unit, "wrap({}) = {r} at scale {scale}", input[i]);
                assert!(r.abs() <= std::f64::consts::PI + 2.0 / unit, "wrap({}) = {r} at scale {scale}", input[i]);
                // The reciprocal: round(2^2s / max(q, 1)), exactly.
                let d = q.max(1) as i128;
                let exact = (2 * (1i128 << (2 * scale)) + d).div_euclid(2 * d);
                assert_eq!(out[7 + i], exact, "1/{} at scale {scale}", input[i]);
            }
        }
    }
}
