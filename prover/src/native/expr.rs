//! Gate and lookup expressions, compiled from halo2's [`Expression`] trees into
//! one DAG with common subexpressions shared (compressed selectors, for one,
//! repeat the same products in every gate they guard), evaluated a block of rows
//! at a time over column buffers: Lagrange values on the base domain, or values
//! on one coset of the extended domain. A rotation by `r` is an index shift by
//! `r` modulo `n` in both.

use std::collections::HashMap;

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::{Field, PrimeField};
use halo2_axiom::plonk::Expression;

use super::NativeError;

/// A column kind and index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// A fixed column.
    Fixed(usize),
    /// An advice column.
    Advice(usize),
    /// An instance column.
    Instance(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Op {
    Constant([u8; 32]),
    Query(Source, i32),
    Negated(usize),
    Sum(usize, usize),
    Product(usize, usize),
    Scaled(usize, [u8; 32]),
}

/// Expressions as a DAG of shared nodes; [`Dag::add`] returns a node id.
#[derive(Default)]
pub struct Dag {
    ops: Vec<Op>,
    ids: HashMap<Op, usize>,
}

/// The column buffers an expression reads, all of the same length `n`.
#[derive(Clone, Copy)]
pub struct Columns<'a> {
    /// Fixed columns.
    pub fixed: &'a [Vec<Fr>],
    /// Advice columns.
    pub advice: &'a [Vec<Fr>],
    /// Instance columns.
    pub instance: &'a [Vec<Fr>],
}

impl Source {
    /// The source of a constraint system's column.
    pub fn of(column: &halo2_axiom::plonk::Column<halo2_axiom::plonk::Any>) -> Self {
        match column.column_type() {
            halo2_axiom::plonk::Any::Advice(_) => Source::Advice(column.index()),
            halo2_axiom::plonk::Any::Fixed => Source::Fixed(column.index()),
            halo2_axiom::plonk::Any::Instance => Source::Instance(column.index()),
        }
    }
}

impl<'a> Columns<'a> {
    /// The values of one column.
    pub fn get(&self, source: Source) -> &'a [Fr] {
        match source {
            Source::Fixed(i) => &self.fixed[i],
            Source::Advice(i) => &self.advice[i],
            Source::Instance(i) => &self.instance[i],
        }
    }
}

/// Copies `len` values of `column` starting at row `start + rotation`, wrapping
/// around the domain.
pub fn rotated(column: &[Fr], start: usize, len: usize, rotation: i32, out: &mut Vec<Fr>) {
    let n = column.len() as i64;
    let first = (start as i64 + rotation as i64).rem_euclid(n) as usize;
    out.clear();
    if first + len <= column.len() {
        out.extend_from_slice(&column[first..first + len]);
    } else {
        let head = column.len() - first;
        out.extend_from_slice(&column[first..]);
        out.extend_from_slice(&column[..len - head]);
    }
}

fn scalar(bytes: &[u8; 32]) -> Fr {
    Option::from(Fr::from_repr(*bytes)).unwrap_or(Fr::ZERO)
}

impl Dag {
    /// An empty DAG.
    pub fn new() -> Self {
        Self::default()
    }

    fn intern(&mut self, op: Op) -> usize {
        if let Some(id) = self.ids.get(&op) {
            return *id;
        }
        self.ops.push(op);
        self.ids.insert(op, self.ops.len() - 1);
        self.ops.len() - 1
    }

    /// Adds an expression of a key's constraint system (selectors already turned
    /// into fixed columns, no challenges) and returns its node.
    pub fn add(&mut self, expression: &Expression<Fr>) -> Result<usize, NativeError> {
        let op = match expression {
            Expression::Constant(c) => Op::Constant(c.to_repr()),
            Expression::Selector(_) => {
                return Err(NativeError::Unsupported("a virtual selector left in the key's constraint system".into()))
            }
            Expression::Challenge(_) => return Err(NativeError::Unsupported("challenges in gate expressions".into())),
            Expression::Fixed(q) => Op::Query(Source::Fixed(q.column_index()), q.rotation().0),
            Expression::Advice(q) => Op::Query(Source::Advice(q.column_index()), q.rotation().0),
            Expression::Instance(q) => Op::Query(Source::Instance(q.column_index()), q.rotation().0),
            Expression::Negated(a) => Op::Negated(self.add(a)?),
            Expression::Sum(a, b) => {
                let (a, b) = (self.add(a)?, self.add(b)?);
                Op::Sum(a.min(b), a.max(b))
            }
            Expression::Product(a, b) => {
                let (a, b) = (self.add(a)?, self.add(b)?);
                Op::Product(a.min(b), a.max(b))
            }
            Expression::Scaled(a, c) => Op::Scaled(self.add(a)?, c.to_repr()),
        };
        Ok(self.intern(op))
    }

    /// The distinct columns the DAG reads, in order of first use.
    pub fn sources(&self) -> Vec<Source> {
        let mut sources = Vec::new();
        for op in &self.ops {
            if let Op::Query(source, _) = op {
                if !sources.contains(source) {
                    sources.push(*source);
                }
            }
        }
        sources
    }

    /// Number of distinct nodes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the DAG has no nodes.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Evaluates every node on rows `start..start + len` into `scratch[id]`
    /// (reused between calls; one per thread).
    pub fn evaluate(&self, columns: &Columns<'_>, start: usize, len: usize, scratch: &mut Vec<Vec<Fr>>) {
        scratch.resize_with(self.ops.len(), Vec::new);
        for (id, op) in self.ops.iter().enumerate() {
            let (done, rest) = scratch.split_at_mut(id);
            let out = &mut rest[0];
            match *op {
                Op::Constant(c) => {
                    out.clear();
                    out.resize(len, scalar(&c));
                }
                Op::Query(source, rotation) => rotated(columns.get(source), start, len, rotation, out),
                Op::Negated(a) => {
                    out.clear();
                    out.extend(done[a].iter().map(|v| -*v));
                }
                Op::Sum(a, b) => {
                    out.clear();
                    match (self.ops[a], self.ops[b]) {
                        (Op::Constant(c), _) => {
                            let c = scalar(&c);
                            out.extend(done[b].iter().map(|v| *v + c));
                        }
                        (_, Op::Constant(c)) => {
                            let c = scalar(&c);
                            out.extend(done[a].iter().map(|v| *v + c));
                        }
                        _ => out.extend(done[a].iter().zip(&done[b]).map(|(x, y)| *x + y)),
                    }
                }
                Op::Product(a, b) => {
                    out.clear();
                    match (self.ops[a], self.ops[b]) {
                        (Op::Constant(c), _) => {
                            let c = scalar(&c);
                            out.extend(done[b].iter().map(|v| *v * c));
                        }
                        (_, Op::Constant(c)) => {
                            let c = scalar(&c);
                            out.extend(done[a].iter().map(|v| *v * c));
                        }
                        _ => out.extend(done[a].iter().zip(&done[b]).map(|(x, y)| *x * y)),
                    }
                }
                Op::Scaled(a, c) => {
                    let c = scalar(&c);
                    out.clear();
                    out.extend(done[a].iter().map(|v| *v * c));
                }
            }
        }
    }
}

/// `Σ θ^{m−1−i}·e_i` over a block whose nodes are evaluated in `scratch`: the
/// compression halo2 applies to a lookup's input and table expressions.
pub fn compress(roots: &[usize], theta: Fr, scratch: &[Vec<Fr>], len: usize) -> Vec<Fr> {
    let mut acc = vec![Fr::ZERO; len];
    for &root in roots {
        acc.iter_mut().zip(&scratch[root]).for_each(|(a, v)| *a = *a * theta + v);
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_axiom::plonk::{Advice, Column, ConstraintSystem, Fixed};
    use halo2_axiom::poly::Rotation;

    #[test]
    fn rotations_wrap_around_the_domain() {
        let column: Vec<Fr> = (0..8u64).map(Fr::from).collect();
        let mut out = Vec::new();
        rotated(&column, 6, 4, 1, &mut out);
        assert_eq!(out, [7u64, 0, 1, 2].map(Fr::from));
        rotated(&column, 0, 3, -1, &mut out);
        assert_eq!(out, [7u64, 0, 1].map(Fr::from));
        rotated(&column, 2, 2, 0, &mut out);
        assert_eq!(out, [2u64, 3].map(Fr::from));
    }

    #[test]
    fn the_dag_shares_nodes_and_evaluates_like_halo2() {
        let mut cs = ConstraintSystem::<Fr>::default();
        let a: Column<Advice> = cs.advice_column();
        let f: Column<Fixed> = cs.fixed_column();
        let mut exprs = Vec::new();
        cs.create_gate("g", |m| {
            let next = m.query_advice(a, Rotation::next());
            let prev = m.query_advice(a, Rotation::prev());
            let q = m.query_fixed(f, Rotation::cur());
            let e1 = q.clone() * next.clone() - prev.clone() * Fr::from(5);
            let e2 = next * q + Expression::Constant(Fr::from(3));
            exprs = vec![e1.clone(), e2.clone()];
            vec![e1, e2]
        });
        let mut dag = Dag::new();
        let roots: Vec<usize> = exprs.iter().map(|e| dag.add(e).expect("compiles")).collect();
        // e1 has 7 nodes (q, next, prev, q·next, 5·prev, −5·prev, the sum); e2 adds
        // only the constant and its sum: next·q is q·next, and the leaves are shared.
        assert_eq!(dag.len(), 9, "12 without sharing");

        let av: Vec<Fr> = (0..8u64).map(|i| Fr::from(i * i + 3)).collect();
        let fv: Vec<Fr> = (0..8u64).map(|i| Fr::from(2 * i + 1)).collect();
        let columns = Columns { fixed: std::slice::from_ref(&fv), advice: std::slice::from_ref(&av), instance: &[] };
        let mut scratch = Vec::new();
        dag.evaluate(&columns, 0, 8, &mut scratch);
        for row in 0..8 {
            let e1 = fv[row] * av[(row + 1) % 8] - av[(row + 7) % 8] * Fr::from(5);
            let e2 = av[(row + 1) % 8] * fv[row] + Fr::from(3);
            assert_eq!(scratch[roots[0]][row], e1, "row {row}");
            assert_eq!(scratch[roots[1]][row], e2, "row {row}");
        }
    }
}
