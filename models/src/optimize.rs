//! Graph simplification before quantisation.
//!
//! - Dead-node elimination.
//! - Composition of chains of affine maps (`B ∘ A` when `A` feeds only `B`) where
//!   the composed map is no more expensive to prove than the two separately. This
//!   folds BatchNormalization and other affine ops into the neighbouring conv/gemm,
//!   merges pooling sums into the following layer when cheaper, and collapses
//!   activation-free stacks of dense layers; it also removes a rescaling step and
//!   its rounding error each time.

use crate::fgraph::{normalize_row, AffineRow, Elem, FGraph, FLinear, FOp};
use crate::ir::{live_nodes, Csr};

/// Row-count estimate of proving a linear node with dot products `width` terms wide:
/// the dot rows, plus one rescaling row per output when weights are fractional.
pub fn linear_cost(lin: &FLinear, width: usize) -> usize {
    let dot: usize = lin.terms.rows().map(|r| r.len().div_ceil(width).max(1)).sum();
    let fractional = lin.terms.items.iter().any(|(_, w)| w.fract() != 0.0);
    dot + if fractional { lin.bias.len() } else { 0 }
}

/// Who reads each node: the set of consumer nodes, and whether an output reads it.
struct Uses {
    consumers: Vec<Vec<usize>>,
    by_output: Vec<bool>,
}

fn uses(g: &FGraph) -> Uses {
    let mut consumers = vec![Vec::new(); g.nodes.len()];
    for (id, node) in g.nodes.iter().enumerate() {
        node.op.for_each_ref(|r| {
            let c = &mut consumers[r.node as usize];
            if c.last() != Some(&id) {
                c.push(id);
            }
        });
    }
    let mut by_output = vec![false; g.nodes.len()];
    for v in &g.outputs {
        for e in &v.elems {
            if let Elem::Ref(r) = e {
                by_output[r.node as usize] = true;
            }
        }
    }
    for c in &mut consumers {
        c.sort_unstable();
        c.dedup();
    }
    Uses { consumers, by_output }
}

/// Composes `outer ∘ inner` (`inner` = node `a`), or returns `None` when the result
/// would have more than `limit` terms.
fn compose(outer: &FLinear, a: usize, inner: &FLinear, limit: usize) -> Option<FLinear> {
    let mut out = FLinear { bias: Vec::with_capacity(outer.bias.len()), terms: Csr::new() };
    for (row, &b) in outer.terms.rows().zip(&outer.bias) {
        let mut acc = AffineRow { bias: b, terms: Vec::new() };
        for &(r, w) in row {
            if r.node as usize == a {
                let i = r.index as usize;
                acc.bias += w * inner.bias[i];
                acc.terms.extend(inner.terms.row(i).iter().map(|&(t, v)| (Elem::Ref(t), w * v)));
            } else {
                acc.terms.push((Elem::Ref(r), w));
            }
        }
        let (bias, terms) = normalize_row(acc);
        out.bias.push(bias);
        out.terms.push_row(terms);
        if out.terms.items.len() > limit {
            return None;
        }
    }
    Some(out)
}

/// Composes into linear node `b` one linear producer that feeds only `b`, when
/// that does not increase the cost estimate, and keeps `u` up to date. Returns
/// whether it did.
fn compose_one(g: &mut FGraph, u: &mut Uses, b: usize, width: usize) -> bool {
    let FOp::Linear(outer) = &g.nodes[b].op else { return false };
    let mut producers: Vec<usize> = outer.terms.items.iter().map(|(r, _)| r.node as usize).collect();
    producers.sort_unstable();
    producers.dedup();
    for a in producers {
        let FOp::Linear(inner) = &g.nodes[a].op else { continue };
        if u.by_output[a] || u.consumers[a] != [b] {
            continue;
        }
        let before = linear_cost(inner, width) + linear_cost(outer, width);
        let limit = inner.terms.items.len() + outer.terms.items.len();
        let Some(c) = compose(outer, a, inner, limit) else { continue };
        if linear_cost(&c, width) > before {
            continue;
        }
        // `a`'s producers now feed `b`; `a` feeds nothing.
        let mut inner_producers: Vec<usize> = inner.terms.items.iter().map(|(r, _)| r.node as usize).collect();
        inner_producers.sort_unstable();
        inner_producers.dedup();
        for p in inner_producers {
            let list = &mut u.consumers[p];
            list.retain(|&x| x != a);
            if let Err(pos) = list.binary_search(&b) {
                list.insert(pos, b);
            }
        }
        u.consumers[a].clear();
        g.nodes[b].op = FOp::Linear(c);
        g.nodes[a].op = FOp::Linear(FLinear::default());
        g.nodes[a].len = 0;
        return true;
    }
    false
}

/// Composes affine chains wherever that does not increase the cost estimate.
/// Returns how many compositions were made.
pub fn compose_linear(g: &mut FGraph, width: usize) -> usize {
    let mut u = uses(g);
    let mut merged = 0;
    for b in 0..g.nodes.len() {
        while compose_one(g, &mut u, b, width) {
            merged += 1;
        }
    }
    eliminate_dead(g);
    merged
}

/// Removes nodes that no output depends on (inputs always stay) and renumbers
/// references.
pub fn eliminate_dead(g: &mut FGraph) {
    let roots: Vec<usize> = g
        .inputs
        .iter()
        .map(|i| i.node)
        .chain(g.outputs.iter().flat_map(|v| v.elems.iter()).filter_map(|e| match e {
            Elem::Ref(r) => Some(r.node as usize),
            Elem::Const(_) => None,
        }))
        .collect();
    let nodes = &g.nodes;
    let live = live_nodes(nodes.len(), roots, |id, mark| nodes[id].op.for_each_ref(|r| mark(r.node as usize)));
    if live.iter().all(|&l| l) {
        return;
    }
    let mut remap = vec![u32::MAX; live.len()];
    let old = std::mem::take(&mut g.nodes);
    for (id, mut node) in old.into_iter().enumerate() {
        if live[id] {
            node.op.for_each_ref_mut(|r| r.node = remap[r.node as usize]);
            remap[id] = g.nodes.len() as u32;
            g.nodes.push(node);
        }
    }
    for input in &mut g.inputs {
        input.node = remap[input.node] as usize;
    }
    for v in &mut g.outputs {
        for e in &mut v.elems {
            if let Elem::Ref(r) = e {
                r.node = remap[r.node as usize];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fgraph::AffineRow;

    fn dense(g: &mut FGraph, name: &str, x: &crate::fgraph::View, w: &[&[f64]], b: &[f64]) -> crate::fgraph::View {
        let rows = w
            .iter()
            .zip(b)
            .map(|(wr, &bias)| AffineRow { bias, terms: wr.iter().zip(&x.elems).map(|(&w, &e)| (e, w)).collect() })
            .collect();
        g.affine(name, "Gemm", vec![w.len()], rows)
    }

    #[test]
    fn composes_dense_chain_and_keeps_semantics() {
        let mut g = FGraph::default();
        let x = g.add_input("x", vec![3]);
        let h = dense(
            &mut g,
            "fc1",
            &x,
            &[&[0.5, 1.0, -1.0], &[0.25, 0.0, 2.0], &[1.5, -0.5, 0.0], &[0.1, 0.2, 0.3]],
            &[0.1, 0.2, 0.3, 0.4],
        );
        let y = dense(&mut g, "fc2", &h, &[&[1.0, -1.0, 0.5, 2.0]], &[0.05]);
        g.outputs = vec![y];
        let input = vec![vec![0.3, -1.2, 2.0]];
        let before = g.outputs_of(&g.evaluate(&input));
        let merged = compose_linear(&mut g, 8);
        assert_eq!(merged, 1);
        assert_eq!(g.nodes.len(), 2, "input and one composed dense node remain");
        let after = g.outputs_of(&g.evaluate(&input));
        assert!((before[0][0] - after[0][0]).abs() < 1e-12);
    }

    #[test]
    fn does_not_compose_when_it_would_cost_more() {
        let mut g = FGraph::default();
        let x = g.add_input("x", vec![64]);
        // 64 -> 64 identity-like wide layer, then a 64 -> 64 layer reading all of it:
        // composition would be dense 64x64 either way; cost equal -> composes. Make the
        // outer layer cheap (each output reads one element) and the inner one dense,
        // with the inner output read by two consumers so it must stay.
        let w_inner: Vec<Vec<f64>> = (0..64).map(|i| (0..64).map(|j| ((i + j) % 7) as f64 * 0.1).collect()).collect();
        let w_ref: Vec<&[f64]> = w_inner.iter().map(|r| r.as_slice()).collect();
        let h = dense(&mut g, "wide", &x, &w_ref, &[0.0; 64]);
        let r1 = g.reduce(
            "relu",
            "Max",
            crate::ir::ReduceKind::Max,
            vec![64],
            h.elems.iter().map(|e| vec![*e, Elem::Const(0.0)]).collect(),
        );
        let scaled = g.affine(
            "scale",
            "Mul",
            vec![64],
            h.elems.iter().map(|e| AffineRow { bias: 0.0, terms: vec![(*e, 0.5)] }).collect(),
        );
        g.outputs = vec![r1, scaled];
        let nodes = g.nodes.len();
        assert_eq!(compose_linear(&mut g, 8), 0, "inner layer has two consumers");
        assert_eq!(g.nodes.len(), nodes);
    }
}
