//! The integer reference evaluator: the ground truth every circuit must equal.
//!
//! Besides the values it records, per node, how many bits the range-checked
//! quantities need, so that a circuit's value range can be chosen (and an input
//! that would overflow it is refused before any proving).

use crate::arith::{rescale, signed_bits, unsigned_bits};
use crate::error::{Error, Result};
use crate::ir::{Graph, Op, Operand, ReduceKind, Ref};

/// Bits needed by the range checks of one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RangeNeed {
    /// Bits for values checked as signed (`-2^(b-1) <= v < 2^(b-1)`).
    pub signed: u32,
    /// Bits for values checked as non-negative (`0 <= v < 2^b`).
    pub unsigned: u32,
}

impl RangeNeed {
    /// Widest requirement: the value range `B` must be at least this.
    pub fn bits(&self) -> u32 {
        self.signed.max(self.unsigned)
    }

    fn merge(&mut self, other: RangeNeed) {
        self.signed = self.signed.max(other.signed);
        self.unsigned = self.unsigned.max(other.unsigned);
    }
}

/// Result of evaluating a graph on integer inputs.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Output values of every node, in node order.
    pub values: Vec<Vec<i128>>,
    /// Range requirement of every node.
    pub needs: Vec<RangeNeed>,
}

impl Trace {
    /// Value of one element.
    pub fn get(&self, r: Ref) -> i128 {
        self.values[r.node as usize][r.index as usize]
    }

    /// Value of an operand.
    pub fn operand(&self, o: Operand) -> i128 {
        match o {
            Operand::Ref(r) => self.get(r),
            Operand::Const(c) => c as i128,
        }
    }

    /// The model outputs as integers, concatenated in output order.
    pub fn outputs(&self, graph: &Graph) -> Vec<i128> {
        graph.outputs.iter().flat_map(|o| o.elems.iter().map(|e| self.operand(*e))).collect()
    }

    /// The widest range requirement over the whole graph.
    pub fn range_need(&self) -> RangeNeed {
        let mut all = RangeNeed::default();
        for n in &self.needs {
            all.merge(*n);
        }
        all
    }

    /// Checks that every range-checked value fits in `bits`; names the first node
    /// that does not.
    pub fn check_bits(&self, graph: &Graph, bits: u32) -> Result<()> {
        for (id, need) in self.needs.iter().enumerate() {
            if need.bits() > bits {
                let node = &graph.nodes[id];
                return Err(Error::OutOfRange {
                    node: node.name.clone(),
                    op: node.origin.clone(),
                    needed: need.bits(),
                    available: bits,
                });
            }
        }
        Ok(())
    }
}

/// One step of a max/min chain: the result and the two non-negative differences the
/// circuit range-checks.
pub fn reduce_step(kind: ReduceKind, acc: i128, x: i128) -> (i128, i128, i128) {
    match kind {
        ReduceKind::Max => {
            let c = acc.max(x);
            (c, c - acc, c - x)
        }
        ReduceKind::Min => {
            let c = acc.min(x);
            (c, acc - c, x - c)
        }
    }
}

fn overflow(graph: &Graph, id: usize) -> Error {
    let node = &graph.nodes[id];
    Error::Overflow { node: node.name.clone(), op: node.origin.clone() }
}

/// Evaluates `graph` on quantised inputs (one vector per model input, row-major).
pub fn evaluate(graph: &Graph, inputs: &[Vec<i64>]) -> Result<Trace> {
    if inputs.len() != graph.inputs.len() {
        return Err(Error::InputCount { expected: graph.inputs.len(), got: inputs.len() });
    }
    let scale = graph.scale;
    let mut values: Vec<Vec<i128>> = Vec::with_capacity(graph.nodes.len());
    let mut needs = Vec::with_capacity(graph.nodes.len());
    for (id, node) in graph.nodes.iter().enumerate() {
        let get = |r: &Ref| values[r.node as usize][r.index as usize];
        let mut need = RangeNeed::default();
        let out: Vec<i128> = match &node.op {
            Op::Input { index } => {
                let data = &inputs[*index];
                if data.len() != node.len() {
                    return Err(Error::InputLength {
                        input: *index,
                        name: graph.inputs[*index].name.clone(),
                        shape: node.shape.clone(),
                        expected: node.len(),
                        got: data.len(),
                    });
                }
                let v: Vec<i128> = data.iter().map(|&x| x as i128).collect();
                for &x in &v {
                    need.signed = need.signed.max(signed_bits(x));
                }
                v
            }
            Op::Linear(l) => {
                let mut out = Vec::with_capacity(l.bias.len());
                for (row, &b) in l.terms.rows().zip(&l.bias) {
                    let mut acc = b as i128;
                    for (r, w) in row {
                        let term = get(r).checked_mul(*w as i128).ok_or_else(|| overflow(graph, id))?;
                        acc = acc.checked_add(term).ok_or_else(|| overflow(graph, id))?;
                    }
                    out.push(acc);
                }
                out
            }
            Op::Bilinear { terms } => {
                let mut out = Vec::with_capacity(terms.len());
                for row in terms.rows() {
                    let mut acc: i128 = 0;
                    for (x, y) in row {
                        let term = get(x).checked_mul(get(y)).ok_or_else(|| overflow(graph, id))?;
                        acc = acc.checked_add(term).ok_or_else(|| overflow(graph, id))?;
                    }
                    out.push(acc);
                }
                out
            }
            Op::Rescale { src, relu } => src
                .iter()
                .map(|r| {
                    let y = rescale(get(r), scale);
                    if *relu {
                        let c = y.max(0);
                        need.unsigned = need.unsigned.max(unsigned_bits(c).max(unsigned_bits(c - y)));
                        c
                    } else {
                        need.signed = need.signed.max(signed_bits(y));
                        y
                    }
                })
                .collect(),
            Op::MulRescale { a, b } => {
                let mut out = Vec::with_capacity(a.len());
                for (x, y) in a.iter().zip(b) {
                    let p = get(x).checked_mul(get(y)).ok_or_else(|| overflow(graph, id))?;
                    let v = rescale(p, scale);
                    need.signed = need.signed.max(signed_bits(v));
                    out.push(v);
                }
                out
            }
            Op::Gather { data, src } => {
                let mut out = Vec::with_capacity(src.len());
                for r in src {
                    let key = get(r);
                    let unit = 1i128 << scale;
                    let i = key.div_euclid(unit);
                    if key.rem_euclid(unit) != 0 || i < 0 || i as usize >= data.len() {
                        let node = &graph.nodes[id];
                        return Err(Error::BadIndex {
                            node: node.name.clone(),
                            op: node.origin.clone(),
                            index: key as f64 / unit as f64,
                            len: data.len(),
                        });
                    }
                    let v = data[i as usize] as i128;
                    need.signed = need.signed.max(signed_bits(v));
                    out.push(v);
                }
                out
            }
            Op::Sqrt { src } => {
                let mut out = Vec::with_capacity(src.len());
                for r in src {
                    let x = get(r);
                    if x < 0 {
                        let node = &graph.nodes[id];
                        return Err(Error::NegativeSqrt { node: node.name.clone(), op: node.origin.clone(), value: x });
                    }
                    let n = x.checked_mul(1i128 << scale).ok_or_else(|| overflow(graph, id))?;
                    let c = crate::arith::isqrt(n);
                    let d = n - c * c;
                    need.unsigned =
                        need.unsigned.max(unsigned_bits(c).max(unsigned_bits(d)).max(unsigned_bits(2 * c - d)));
                    out.push(c);
                }
                out
            }
            Op::DivRescale { a, b } => {
                let mut out = Vec::with_capacity(a.len());
                for (x, y) in a.iter().zip(b) {
                    let (num, den) = (get(x).checked_mul(1i128 << scale).ok_or_else(|| overflow(graph, id))?, get(y));
                    if den <= 0 {
                        let node = &graph.nodes[id];
                        return Err(Error::NonPositiveDivisor {
                            node: node.name.clone(),
                            op: node.origin.clone(),
                            value: den,
                        });
                    }
                    let (c, r) = crate::arith::div_round(num, den);
                    need.signed = need.signed.max(signed_bits(c));
                    need.unsigned = need.unsigned.max(unsigned_bits(r).max(unsigned_bits(2 * den - 1 - r)));
                    out.push(c);
                }
                out
            }
            Op::Lookup { func, src, bits } => {
                let (lo, hi) = func.input_range(*bits);
                let mut out = Vec::with_capacity(src.len());
                for r in src {
                    let x = get(r);
                    if x < lo as i128 || x > hi as i128 {
                        let node = &graph.nodes[id];
                        return Err(Error::OutOfRange {
                            node: node.name.clone(),
                            op: node.origin.clone(),
                            needed: signed_bits(x),
                            available: *bits,
                        });
                    }
                    let y = func.table_value(x as i64, scale) as i128;
                    need.signed = need.signed.max(signed_bits(y));
                    out.push(y);
                }
                out
            }
            Op::Reduce { kind, sets, konst } => sets
                .rows()
                .zip(konst)
                .map(|(set, k)| {
                    let mut acc = get(&set[0]);
                    let rest = set[1..].iter().map(get).chain(k.map(|k| k as i128));
                    for x in rest {
                        let (c, d1, d2) = reduce_step(*kind, acc, x);
                        need.unsigned = need.unsigned.max(unsigned_bits(d1).max(unsigned_bits(d2)));
                        acc = c;
                    }
                    acc
                })
                .collect(),
        };
        values.push(out);
        needs.push(need);
    }
    Ok(Trace { values, needs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Csr, Input, Linear, Node, Output};

    fn tiny_graph() -> Graph {
        // y = relu(rescale(2*x0 - x1 + 3)); z = max(y, x0)
        let mut terms = Csr::new();
        terms.push_row([(Ref::new(0, 0), 2i64 << 4), (Ref::new(0, 1), -(1i64 << 4))]);
        let mut sets = Csr::new();
        sets.push_row([Ref::new(2, 0), Ref::new(0, 0)]);
        Graph {
            scale: 4,
            inputs: vec![Input { name: "x".into(), shape: vec![2], node: 0 }],
            nodes: vec![
                Node { name: "x".into(), origin: "Source".into(), shape: vec![2], op: Op::Input { index: 0 } },
                Node {
                    name: "lin".into(),
                    origin: "Gemm".into(),
                    shape: vec![1],
                    op: Op::Linear(Linear { bias: vec![3 << 8], terms, weight_scale: 4, params: None }),
                },
                Node {
                    name: "relu".into(),
                    origin: "Relu".into(),
                    shape: vec![1],
                    op: Op::Rescale { src: vec![Ref::new(1, 0)], relu: true },
                },
                Node {
                    name: "max".into(),
                    origin: "Max".into(),
                    shape: vec![1],
                    op: Op::Reduce { kind: ReduceKind::Max, sets, konst: vec![Some(-5)] },
                },
            ],
            outputs: vec![Output { shape: vec![1], elems: vec![Operand::Ref(Ref::new(3, 0))] }],
        }
    }

    #[test]
    fn evaluates_linear_rescale_relu_and_max() {
        let g = tiny_graph();
        g.validate().unwrap();
        // x = (1.0, 0.5) at scale 4 -> (16, 8); 2*1 - 0.5 + 3 = 4.5 -> 72
        let t = evaluate(&g, &[vec![16, 8]]).unwrap();
        assert_eq!(t.values[1][0], 72 << 4);
        assert_eq!(t.values[2][0], 72);
        assert_eq!(t.outputs(&g), vec![72]);
        // negative pre-activation is clamped to zero, then max with x0 = -16 and -5
        let t = evaluate(&g, &[vec![-16, 80]]).unwrap();
        assert_eq!(t.values[2][0], 0);
        assert_eq!(t.outputs(&g), vec![0]);
    }

    #[test]
    fn reports_needed_bits_and_refuses_narrow_ranges() {
        let g = tiny_graph();
        let t = evaluate(&g, &[vec![16, 8]]).unwrap();
        assert_eq!(t.needs[0].signed, signed_bits(16));
        assert!(t.check_bits(&g, 16).is_ok());
        let err = t.check_bits(&g, 6).unwrap_err();
        assert!(matches!(err, Error::OutOfRange { .. }), "{err}");
    }

    #[test]
    fn wrong_input_length_is_a_clear_error() {
        let g = tiny_graph();
        let err = evaluate(&g, &[vec![1, 2, 3]]).unwrap_err();
        assert!(err.to_string().contains("expects 2 values"), "{err}");
    }
}
