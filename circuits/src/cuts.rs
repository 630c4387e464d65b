//! Where to cut a graph into segments ([`crate::segment`]): the cuts that make
//! the largest segment as small as possible, since a chain's per-job memory is
//! the largest segment's.
//!
//! A segment's size is estimated in cells, a proxy for both its proving memory
//! and its work that does not depend on which lanes its own plan will choose:
//! its dot-product rows times a dot row's columns, its element-wise rows
//! (including one range check per value of its input boundary) times an
//! element row's, and the Poseidon rows of its packed boundaries
//! ([`crate::chips::poseidon::commitment_rows`]) times the chip's columns. A
//! dynamic programme over the allowed cut positions then minimises the largest
//! segment, in steps of about 19% ([`size_class`]: the estimate is no finer);
//! among plans of one class, the values crossing the cuts (each is range-checked
//! and hashed twice, so small boundaries save work); then the sum of squared
//! sizes (so the segments that the largest does not constrain stay even).

use zkinfer_models::ir::{Graph, Op};

use crate::chips::dot::job_rows;
use crate::chips::poseidon::{commitment_rows, PARTIAL_PER_ROW};
use crate::segment::{allowed_cuts, first_cut, live_counts};
use crate::shape::CircuitShape;

/// Most cut positions the programme weighs (evenly spaced among the allowed
/// ones beyond that), which keeps splitting a graph of thousands of nodes fast.
const MAX_CANDIDATES: usize = 400;

/// Slot width assumed for a boundary's packed commitment when estimating its rows.
const ESTIMATE_SLOT_BITS: u32 = 32;

/// Cells of an element-wise row: operands, result, limbs and a constant.
const ELEM_ROW_CELLS: usize = 9;

/// Cells of a Poseidon row: 18 advice and 14 fixed columns.
const HASH_ROW_CELLS: usize = 32;

/// How segment sizes are estimated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CellModel {
    /// Terms per dot row (a dot row has a weight and an input cell per term).
    pub dot_width: usize,
}

impl CellModel {
    /// The model of a planned circuit.
    pub fn of(shape: &CircuitShape) -> Self {
        CellModel { dot_width: shape.dot_width.max(1) as usize }
    }
}

/// Dot-product and element-wise rows of each node.
fn node_rows(graph: &Graph, dot_width: usize) -> Vec<(usize, usize)> {
    graph
        .nodes
        .iter()
        .map(|node| match &node.op {
            Op::Linear(l) => (l.terms.rows().map(|t| job_rows(t.len(), dot_width)).sum(), 0),
            Op::Bilinear { terms } => (terms.rows().map(|t| job_rows(t.len(), dot_width)).sum(), 0),
            Op::Reduce { sets, konst, .. } => {
                (0, sets.rows().zip(konst).map(|(s, k)| s.len().saturating_sub(1) + usize::from(k.is_some())).sum())
            }
            _ => (0, node.len()),
        })
        .collect()
}

/// Estimated cells of every possible segment, from prefix sums.
struct Estimator {
    dot: Vec<usize>,
    elem: Vec<usize>,
    live: Vec<usize>,
    dot_row_cells: usize,
    nodes: usize,
}

impl Estimator {
    fn new(graph: &Graph, model: CellModel) -> Self {
        let (mut dot, mut elem) = (vec![0], vec![0]);
        for (d, e) in node_rows(graph, model.dot_width) {
            dot.push(dot.last().copied().unwrap_or(0) + d);
            elem.push(elem.last().copied().unwrap_or(0) + e);
        }
        let dot_row_cells = 2 * model.dot_width + 2;
        Estimator { dot, elem, live: live_counts(graph), dot_row_cells, nodes: graph.nodes.len() }
    }

    /// Values crossing the cut before node `c` (0 at either end of the graph).
    fn boundary(&self, c: usize) -> usize {
        if c == 0 || c >= self.nodes {
            0
        } else {
            self.live[c]
        }
    }

    /// Cells of the segment covering nodes `[a, b)`.
    fn cells(&self, a: usize, b: usize) -> usize {
        let (input, output) = (self.boundary(a), self.boundary(b));
        let hash = |n: usize| if n == 0 { 0 } else { commitment_rows(n, PARTIAL_PER_ROW, Some(ESTIMATE_SLOT_BITS)) };
        (self.dot[b] - self.dot[a]) * self.dot_row_cells
            + (self.elem[b] - self.elem[a] + input) * ELEM_ROW_CELLS
            + (hash(input) + hash(output)) * HASH_ROW_CELLS
    }
}

/// The size class of a segment of `cells`: `⌊4·log2(cells)⌋`, so sizes within
/// about 19% of each other compare equal.
fn size_class(cells: usize) -> u32 {
    (4.0 * (cells.max(1) as f64).log2()) as u32
}

/// Up to `count - 1` cuts (strictly increasing, each an allowed cut) that make
/// the largest segment, estimated by `model`, as small as possible; fewer when
/// the graph has too few places to cut.
pub fn balanced_cuts(graph: &Graph, count: usize, model: CellModel) -> Vec<usize> {
    let n = graph.nodes.len();
    let lo = first_cut(graph);
    if count <= 1 || n <= lo {
        return Vec::new();
    }
    let allowed = allowed_cuts(graph);
    let mut candidates: Vec<usize> = (lo..n).filter(|&c| allowed[c]).collect();
    if candidates.len() > MAX_CANDIDATES {
        let step = candidates.len() as f64 / MAX_CANDIDATES as f64;
        candidates = (0..MAX_CANDIDATES).map(|i| candidates[(i as f64 * step) as usize]).collect();
    }
    let segments = count.min(candidates.len() + 1);
    if segments <= 1 {
        return Vec::new();
    }
    let est = Estimator::new(graph, model);
    // Positions: 0 (the start), the candidates, then n (the end).
    let positions: Vec<usize> =
        std::iter::once(0).chain(candidates.iter().copied()).chain(std::iter::once(n)).collect();
    let p = positions.len();
    // best[j][i]: (size class of the largest segment, Σ boundaries, Σ sizes²)
    // covering [0, positions[i]) with j + 1 segments; from[j][i] the previous
    // position.
    const NONE: (u32, usize, usize) = (u32::MAX, usize::MAX, usize::MAX);
    let mut best = vec![vec![NONE; p]; segments];
    let mut from = vec![vec![0usize; p]; segments];
    for i in 1..p {
        let cells = est.cells(0, positions[i]);
        best[0][i] = (size_class(cells), est.boundary(positions[i]), cells.saturating_mul(cells));
    }
    for j in 1..segments {
        for i in (j + 1)..p {
            for prev in j..i {
                let (largest, boundaries, squares) = best[j - 1][prev];
                if largest == u32::MAX {
                    continue;
                }
                let cells = est.cells(positions[prev], positions[i]);
                let value = (
                    largest.max(size_class(cells)),
                    boundaries + est.boundary(positions[i]),
                    squares.saturating_add(cells.saturating_mul(cells)),
                );
                if value < best[j][i] {
                    best[j][i] = value;
                    from[j][i] = prev;
                }
            }
        }
    }
    let mut cuts = Vec::with_capacity(segments - 1);
    let mut at = p - 1;
    for j in (1..segments).rev() {
        at = from[j][at];
        cuts.push(positions[at]);
    }
    cuts.reverse();
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkinfer_models::ir::{Csr, Input, Linear, Node, Operand, Output, Ref};

    /// A chain of `heavy` dot products followed by rescales, each layer's weight given.
    fn chain(weights: &[usize]) -> Graph {
        let width = 4;
        let node = |name: String, op: Op| Node { name, origin: "test".into(), shape: vec![width], op };
        let mut nodes = vec![node("x".into(), Op::Input { index: 0 })];
        for (layer, &terms) in weights.iter().enumerate() {
            let src = nodes.len() - 1;
            let mut csr = Csr::new();
            for _ in 0..width {
                csr.push_row((0..terms).map(|t| (Ref::new(src, t % width), 1)));
            }
            let linear = Linear { bias: vec![0; width], terms: csr, weight_scale: 4, params: None };
            nodes.push(node(format!("lin{layer}"), Op::Linear(linear)));
            let lin = nodes.len() - 1;
            nodes.push(node(
                format!("rs{layer}"),
                Op::Rescale { src: (0..width).map(|i| Ref::new(lin, i)).collect(), relu: false },
            ));
        }
        let last = nodes.len() - 1;
        Graph {
            scale: 4,
            inputs: vec![Input { name: "x".into(), shape: vec![width], node: 0 }],
            outputs: vec![Output {
                shape: vec![width],
                elems: (0..width).map(|i| Operand::Ref(Ref::new(last, i))).collect(),
            }],
            nodes,
        }
    }

    const ONE_LANE: CellModel = CellModel { dot_width: 1 };

    fn largest(graph: &Graph, cuts: &[usize]) -> usize {
        let est = Estimator::new(graph, ONE_LANE);
        let bounds: Vec<usize> =
            std::iter::once(0).chain(cuts.iter().copied()).chain(std::iter::once(graph.nodes.len())).collect();
        bounds.windows(2).map(|w| est.cells(w[0], w[1])).max().unwrap_or(0)
    }

    #[test]
    fn cuts_minimise_the_largest_segment() {
        // Layer weights 1000, 10, 10, 1000, 10, 1000 (terms per output).
        let g = chain(&[1000, 10, 10, 1000, 10, 1000]);
        let cuts = balanced_cuts(&g, 3, ONE_LANE);
        assert_eq!(cuts.len(), 2);
        let allowed = allowed_cuts(&g);
        assert!(cuts.iter().all(|&c| allowed[c]), "{cuts:?}");
        // No other pair of allowed cuts gives a smaller largest segment.
        let best = largest(&g, &cuts);
        let positions: Vec<usize> = (first_cut(&g)..g.nodes.len()).filter(|&c| allowed[c]).collect();
        for (i, &a) in positions.iter().enumerate() {
            for &b in &positions[i + 1..] {
                assert!(size_class(largest(&g, &[a, b])) >= size_class(best), "cuts {a}, {b} beat {cuts:?}");
            }
        }
        // One heavy layer per segment (nodes 1, 7 and 11 are the heavy maps).
        let bounds = [0, cuts[0], cuts[1], g.nodes.len()];
        for (s, heavy) in [1, 7, 11].iter().enumerate() {
            assert!((bounds[s]..bounds[s + 1]).contains(heavy), "{cuts:?}");
        }
    }

    #[test]
    fn too_few_places_give_fewer_cuts() {
        let g = chain(&[5, 5]);
        let allowed = (first_cut(&g)..g.nodes.len()).filter(|&c| allowed_cuts(&g)[c]).count();
        assert_eq!(balanced_cuts(&g, 10, ONE_LANE).len(), allowed);
        assert!(balanced_cuts(&g, 1, ONE_LANE).is_empty());
    }
}
