//! Bounds that the circuit's constraints themselves put on every element: what
//! any accepted witness satisfies, not what an honest run happens to produce.
//!
//! Packed commitments ([`crate::poseidon::native::hash_packed`]) rely on them: a
//! packing of `w`-bit slots is injective only over values in
//! `[-2^(w-1), 2^(w-1))`, so the slot width of a boundary must cover the bounds
//! of every element on both sides of it.
//!
//! Per operation (see [`crate::chips::elementwise`]):
//! - a model input, a rescale (plain or after a product) and a division are
//!   signed-range-checked: `[-2^(B-1), 2^(B-1))`;
//! - a rescale with ReLU and a square root are checked non-negative over `B`
//!   bits: `[0, 2^B)`;
//! - a maximum or minimum equals one of its operands or its constant;
//! - a table lookup or a gather yields an entry of its table;
//! - a linear map with fixed weights and a sum of products follow by interval
//!   arithmetic. Witness (hidden) weights are unbounded.

use zkinfer_models::func::Func;
use zkinfer_models::ir::{Graph, Op, Ref};

use crate::shape::Ranges;

/// Values beyond this magnitude count as unbounded (no useful packing exists).
const LIMIT: i128 = 1 << 120;

/// An inclusive integer interval; `None` where the constraints bound nothing.
pub type Interval = Option<(i128, i128)>;

fn join(a: Interval, b: Interval) -> Interval {
    Some((a?.0.min(b?.0), a?.1.max(b?.1)))
}

fn checked(lo: i128, hi: i128) -> Interval {
    (lo >= -LIMIT && hi <= LIMIT).then_some((lo, hi))
}

fn scaled(i: Interval, w: i128) -> Interval {
    let (lo, hi) = i?;
    let (a, b) = (lo.checked_mul(w)?, hi.checked_mul(w)?);
    checked(a.min(b), a.max(b))
}

fn product(a: Interval, b: Interval) -> Interval {
    let ((a0, a1), (b0, b1)) = (a?, b?);
    let corners = [a0.checked_mul(b0)?, a0.checked_mul(b1)?, a1.checked_mul(b0)?, a1.checked_mul(b1)?];
    checked(*corners.iter().min()?, *corners.iter().max()?)
}

fn sum(a: Interval, b: Interval) -> Interval {
    let ((a0, a1), (b0, b1)) = (a?, b?);
    checked(a0.checked_add(b0)?, a1.checked_add(b1)?)
}

fn span(values: impl Iterator<Item = i128>) -> Interval {
    values.fold(None, |acc: Interval, v| Some(acc.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v)))))
}

/// The interval of every element of `graph`, per node, for a circuit with value
/// range `ranges`.
pub fn intervals(graph: &Graph, ranges: &Ranges) -> Vec<Vec<Interval>> {
    let half = 1i128 << (ranges.value_bits - 1);
    let signed = Some((-half, half - 1));
    let non_negative = Some((0, 2 * half - 1));
    let mut tables: Vec<((Func, u32), Interval)> = Vec::new();
    let mut out: Vec<Vec<Interval>> = Vec::with_capacity(graph.nodes.len());
    for node in &graph.nodes {
        let at = |r: &Ref, out: &[Vec<Interval>]| out[r.node as usize][r.index as usize];
        let values: Vec<Interval> = match &node.op {
            Op::Input { .. } => vec![signed; node.len()],
            Op::Rescale { relu: false, .. } | Op::MulRescale { .. } | Op::DivRescale { .. } => {
                vec![signed; node.len()]
            }
            Op::Rescale { relu: true, .. } | Op::Sqrt { .. } => vec![non_negative; node.len()],
            Op::Linear(l) if l.params.is_some() => vec![None; node.len()],
            Op::Linear(l) => l
                .terms
                .rows()
                .zip(&l.bias)
                .map(|(terms, &b)| {
                    terms
                        .iter()
                        .try_fold((b as i128, b as i128), |acc, (r, w)| sum(Some(acc), scaled(at(r, &out), *w as i128)))
                })
                .collect(),
            Op::Bilinear { terms } => terms
                .rows()
                .map(|pairs| {
                    pairs.iter().try_fold((0, 0), |acc, (a, b)| sum(Some(acc), product(at(a, &out), at(b, &out))))
                })
                .collect(),
            Op::Reduce { sets, konst, .. } => sets
                .rows()
                .zip(konst)
                .map(|(set, k)| {
                    // `None` while the set is still empty.
                    let start: Option<Interval> = k.map(|k| Some((k as i128, k as i128)));
                    let joined = set.iter().fold(start, |acc, r| {
                        Some(match acc {
                            None => at(r, &out),
                            Some(acc) => join(acc, at(r, &out)),
                        })
                    });
                    joined.flatten()
                })
                .collect(),
            Op::Gather { data, .. } => vec![span(data.iter().map(|&v| v as i128)); node.len()],
            Op::Lookup { func, bits, .. } => {
                let key = (*func, *bits);
                let interval = match tables.iter().find(|(k, _)| *k == key) {
                    Some((_, i)) => *i,
                    None => {
                        let (lo, hi) = func.input_range(*bits);
                        let i = span((lo..=hi).map(|x| func.table_value(x, graph.scale) as i128));
                        tables.push((key, i));
                        i
                    }
                };
                vec![interval; node.len()]
            }
        };
        out.push(values);
    }
    out
}

/// The narrowest slot width `w` with `[lo, hi]` inside `[-2^(w-1), 2^(w-1))`.
pub fn signed_bits((lo, hi): (i128, i128)) -> u32 {
    let mut w = 1;
    while w < 127 && (lo < -(1i128 << (w - 1)) || hi >= (1i128 << (w - 1))) {
        w += 1;
    }
    w
}

/// The slot width that covers every element of `graph`'s outputs, or `None`
/// when some output element is unbounded.
pub fn output_bits(graph: &Graph, ranges: &Ranges) -> Option<u32> {
    let all = intervals(graph, ranges);
    let mut bits = 1;
    for output in &graph.outputs {
        for e in &output.elems {
            let interval = match e {
                zkinfer_models::ir::Operand::Ref(r) => all[r.node as usize][r.index as usize],
                zkinfer_models::ir::Operand::Const(c) => Some((*c as i128, *c as i128)),
            };
            bits = bits.max(signed_bits(interval?));
        }
    }
    Some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkinfer_models::ir::{Csr, Input, Linear, Node, Operand, Output, ReduceKind};

    fn node(op: Op, len: usize) -> Node {
        Node { name: "n".into(), origin: "test".into(), shape: vec![len], op }
    }

    fn graph() -> Graph {
        let mut terms = Csr::new();
        terms.push_row([(Ref::new(0, 0), 3), (Ref::new(0, 1), -2)]);
        terms.push_row([(Ref::new(0, 1), 1)]);
        let linear = Linear { bias: vec![5, 0], terms, weight_scale: 0, params: None };
        let mut sets = Csr::new();
        sets.push_row([Ref::new(0, 0)]);
        Graph {
            scale: 4,
            nodes: vec![
                node(Op::Input { index: 0 }, 2),
                node(Op::Linear(linear), 2),
                node(Op::Rescale { src: vec![Ref::new(1, 0)], relu: true }, 1),
                node(Op::Reduce { kind: ReduceKind::Max, sets, konst: vec![Some(100)] }, 1),
            ],
            inputs: vec![Input { name: "x".into(), shape: vec![2], node: 0 }],
            outputs: vec![Output {
                shape: vec![4],
                elems: vec![
                    Operand::Ref(Ref::new(1, 0)),
                    Operand::Ref(Ref::new(2, 0)),
                    Operand::Ref(Ref::new(3, 0)),
                    Operand::Const(-3),
                ],
            }],
        }
    }

    #[test]
    fn constraints_bound_each_operation() {
        let ranges = Ranges { lookup_bits: 4, value_bits: 8, scale: 4 };
        let all = intervals(&graph(), &ranges);
        assert_eq!(all[0][0], Some((-128, 127)));
        // 5 + 3·[-128, 127] − 2·[-128, 127]
        assert_eq!(all[1][0], Some((5 - 384 - 254, 5 + 381 + 256)));
        assert_eq!(all[1][1], Some((-128, 127)));
        assert_eq!(all[2][0], Some((0, 255)), "a ReLU rescale is checked non-negative over B bits");
        assert_eq!(all[3][0], Some((-128, 127)), "max(x, 100) lies within x's range and 100");
        assert_eq!(output_bits(&graph(), &ranges), Some(signed_bits((-633, 642))));
        assert_eq!(signed_bits((-633, 642)), 11);
    }

    #[test]
    fn slot_widths_are_tight() {
        assert_eq!(signed_bits((-128, 127)), 8);
        assert_eq!(signed_bits((-129, 0)), 9);
        assert_eq!(signed_bits((0, 128)), 9);
        assert_eq!(signed_bits((0, 0)), 1);
    }

    #[test]
    fn witness_weights_bound_nothing() {
        let mut g = graph();
        if let Op::Linear(l) = &mut g.nodes[1].op {
            l.params = Some(Default::default());
        }
        let ranges = Ranges { lookup_bits: 4, value_bits: 8, scale: 4 };
        assert_eq!(intervals(&g, &ranges)[1][0], None);
        assert_eq!(output_bits(&g, &ranges), None);
    }
}
