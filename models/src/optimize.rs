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
use std::collections::HashMap;

use crate::ir::live_nodes;
use crate::params::{LinearParams, ParamId};

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
    let mut out = FLinear { bias: Vec::with_capacity(outer.bias.len()), ..FLinear::default() };
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
        if u.by_output[a] || u.consumers[a] != [b] || inner.params.is_some() || outer.params.is_some() {
            continue;
        }
        let before = linear_cost(inner, width) + linear_cost(outer, width);
        let limit = inner.terms.items.len() + outer.terms.items.len();
        let Some(c) = compose(outer, a, inner, limit) else { continue };
        if linear_cost(&c, width) > before {
            continue;
        }
        absorb(g, u, a, b, c);
        return true;
    }
    false
}

/// Replaces linear node `b` by `c`, which now reads what `a` read: `a`'s producers
/// feed `b`, and `a` feeds nothing (it becomes empty).
fn absorb(g: &mut FGraph, u: &mut Uses, a: usize, b: usize, c: FLinear) {
    let FOp::Linear(inner) = &g.nodes[a].op else { return };
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
}

/// With hidden weights: folds into the parametrised linear node `a` the linear
/// node `b` that scales and shifts `a`'s outputs one by one (`b_i = s_i · a_j + c_i`:
/// a bias added after a matrix product, a batch normalisation after a
/// convolution), when `a` feeds only `b`, every weight parameter of `a` meets a
/// single scale and every bias parameter a single (scale, shift). The scaled
/// weights and shifted biases become new parameters, so the folded constants are
/// hidden too. Returns whether it folded.
fn fold_into_params(g: &mut FGraph, u: &mut Uses, b: usize) -> bool {
    let FOp::Linear(outer) = &g.nodes[b].op else { return false };
    if outer.params.is_some() {
        return false;
    }
    let mut picks: Vec<(usize, f64, f64)> = Vec::with_capacity(outer.bias.len()); // (a's row, s, c)
    let mut source = None;
    for (row, &c) in outer.terms.rows().zip(&outer.bias) {
        let [(r, s)] = row else { return false };
        if *source.get_or_insert(r.node) != r.node {
            return false;
        }
        picks.push((r.index as usize, *s, c));
    }
    let Some(a) = source.map(|n| n as usize) else { return false };
    let FOp::Linear(inner) = &g.nodes[a].op else { return false };
    let Some(params) = &inner.params else { return false };
    if u.by_output[a] || u.consumers[a] != [b] {
        return false;
    }
    let span = |j: usize| inner.terms.offsets[j] as usize..inner.terms.offsets[j + 1] as usize;
    let mut scale: HashMap<ParamId, f64> = HashMap::new();
    let mut shift: HashMap<ParamId, (f64, f64)> = HashMap::new();
    for &(j, s, c) in &picks {
        for p in &params.terms[span(j)] {
            let Some(p) = p else { return false };
            if *scale.entry(*p).or_insert(s) != s {
                return false;
            }
        }
        let Some(q) = params.bias[j] else { return false };
        if *shift.entry(q).or_insert((s, c)) != (s, c) {
            return false;
        }
    }
    // New parameters, one per old one, in the order first met.
    let mut fresh: HashMap<ParamId, ParamId> = HashMap::new();
    let mut values: Vec<f64> = Vec::new();
    let first = g.params.len() as ParamId;
    let mut renumber = |old: ParamId, value: f64| {
        *fresh.entry(old).or_insert_with(|| {
            values.push(value);
            first + values.len() as ParamId - 1
        })
    };
    let (mut folded, mut new_params) = (FLinear::default(), LinearParams::default());
    for &(j, s, c) in &picks {
        let range = span(j);
        let mut terms = Vec::with_capacity(range.len());
        for (&(r, w), p) in inner.terms.items[range.clone()].iter().zip(&params.terms[range]) {
            let p = p.unwrap_or_default();
            terms.push((r, w * s));
            new_params.terms.push(Some(renumber(p, g.params[p as usize] * s)));
        }
        let q = params.bias[j].unwrap_or_default();
        let bias = inner.bias[j] * s + c;
        new_params.bias.push(Some(renumber(q, bias)));
        folded.bias.push(bias);
        folded.terms.push_row(terms);
    }
    folded.params = Some(new_params);
    g.params.extend(values);
    absorb(g, u, a, b, folded);
    true
}

/// Composes affine chains wherever that does not increase the cost estimate
/// (never across parametrised nodes, whose terms must keep naming their
/// parameters), and with hidden weights folds per-output scales and shifts into
/// the parametrised node before them ([`fold_into_params`]). Returns how many
/// compositions and folds were made.
pub fn compose_linear(g: &mut FGraph, width: usize) -> usize {
    let mut u = uses(g);
    let mut merged = 0;
    for b in 0..g.nodes.len() {
        while compose_one(g, &mut u, b, width) || (g.hide_weights && fold_into_params(g, &mut u, b)) {
            merged += 1;
        }
    }
    eliminate_dead(g);
    merged
}

/// Which nodes of `g` an output depends on (inputs count as live).
pub fn live(g: &FGraph) -> Vec<bool> {
    let roots =
        g.inputs.iter().map(|i| i.node).chain(g.outputs.iter().flat_map(|v| v.elems.iter()).filter_map(|e| match e {
            Elem::Ref(r) => Some(r.node as usize),
            Elem::Const(_) => None,
        }));
    let nodes = &g.nodes;
    live_nodes(nodes.len(), roots, |id, mark| nodes[id].op.for_each_ref(|r| mark(r.node as usize)))
}

/// Removes nodes that no output depends on (inputs always stay) and renumbers
/// references.
pub fn eliminate_dead(g: &mut FGraph) {
    let live = live(g);
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

    /// A hidden-weights layer of 2 outputs over `x` (3 elements), weights
    /// `0.5, -1, 2, 0.25, 1.5, -0.75` and biases `0.1, -0.2`.
    fn hidden_dense(g: &mut FGraph, x: &crate::fgraph::View) -> crate::fgraph::View {
        use crate::fgraph::{LayerWeights, WeightedRow};
        let rows = (0..2)
            .map(|o| WeightedRow { bias: Some(o), terms: (0..3).map(|i| (x.elems[i], o * 3 + i)).collect() })
            .collect();
        let layer = LayerWeights { weights: &[0.5, -1.0, 2.0, 0.25, 1.5, -0.75], bias: Some(&[0.1, -0.2]) };
        g.weighted(("fc", "EinSum"), vec![2], rows, layer, |o| o).expect("weighted")
    }

    fn per_output(
        g: &mut FGraph,
        name: &str,
        x: &crate::fgraph::View,
        rows: &[(usize, f64, f64)],
    ) -> crate::fgraph::View {
        let rows = rows.iter().map(|&(j, s, c)| AffineRow { bias: c, terms: vec![(x.elems[j], s)] }).collect();
        g.affine(name, "Mul", vec![x.len()], rows)
    }

    #[test]
    fn hidden_weights_fold_channelwise_scale_and_shift() {
        let mut g = FGraph { hide_weights: true, ..FGraph::default() };
        let x = g.add_input("x", vec![3]);
        let h = hidden_dense(&mut g, &x);
        let bn = per_output(&mut g, "bn", &h, &[(0, 1.5, 0.25), (1, -0.5, 0.0)]);
        let y = per_output(&mut g, "bias", &bn, &[(0, 1.0, 0.3), (1, 1.0, -0.1)]);
        g.outputs = vec![y];
        let input = vec![vec![0.3, -1.2, 2.0]];
        let before = g.outputs_of(&g.evaluate(&input));
        assert_eq!(compose_linear(&mut g, 8), 2, "the scale, then the shift");
        assert_eq!(g.nodes.len(), 2, "input and one parametrised node");
        let after = g.outputs_of(&g.evaluate(&input));
        for (b, a) in before[0].iter().zip(&after[0]) {
            assert!((b - a).abs() < 1e-12, "{b} vs {a}");
        }
        let FOp::Linear(l) = &g.nodes[1].op else { panic!("linear") };
        let params = l.params.as_ref().expect("still parametrised");
        // Every weight and bias is a fresh parameter holding its folded value.
        for ((_, w), p) in l.terms.items.iter().zip(&params.terms) {
            assert_eq!(g.params[p.expect("hidden") as usize], *w);
        }
        for (b, p) in l.bias.iter().zip(&params.bias) {
            assert_eq!(g.params[p.expect("hidden") as usize], *b);
        }
        assert!((l.bias[0] - (0.1 * 1.5 + 0.25 + 0.3)).abs() < 1e-12);
    }

    #[test]
    fn hidden_weights_keep_a_mixing_layer_apart() {
        // One output of the layer read with two scales: its parameters would need
        // two values, so nothing folds.
        let mut g = FGraph { hide_weights: true, ..FGraph::default() };
        let x = g.add_input("x", vec![3]);
        let h = hidden_dense(&mut g, &x);
        let mixed = per_output(&mut g, "mixed", &h, &[(0, 2.0, 0.0), (0, 3.0, 0.0)]);
        g.outputs = vec![mixed];
        let nodes = g.nodes.len();
        assert_eq!(compose_linear(&mut g, 8), 0);
        assert_eq!(g.nodes.len(), nodes);
        assert!(matches!(&g.nodes[1].op, FOp::Linear(l) if l.params.is_some() && l.bias.len() == 2));
    }
}
