//! Gate and lookup expressions, compiled from halo2's [`Expression`] into a tree
//! that evaluates a block of rows at a time over column buffers (Lagrange values
//! on the base domain, or values on one coset of the extended domain: a rotation
//! by `r` is an index shift by `r` modulo `n` in both).

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::Field;
use halo2_axiom::plonk::Expression;

use super::NativeError;

/// A column kind and index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// A fixed column.
    Fixed(usize),
    /// An advice column.
    Advice(usize),
    /// An instance column.
    Instance(usize),
}

/// A compiled expression.
#[derive(Clone, Debug)]
pub enum Node {
    /// A constant.
    Constant(Fr),
    /// A column at a rotation.
    Query(Source, i32),
    /// `-a`.
    Negated(Box<Node>),
    /// `a + b`.
    Sum(Box<Node>, Box<Node>),
    /// `a · b`.
    Product(Box<Node>, Box<Node>),
    /// `a · c`.
    Scaled(Box<Node>, Fr),
}

/// Compiles an expression of a key's constraint system (selectors already turned
/// into fixed columns, no challenges).
pub fn compile(expression: &Expression<Fr>) -> Result<Node, NativeError> {
    Ok(match expression {
        Expression::Constant(c) => Node::Constant(*c),
        Expression::Selector(_) => {
            return Err(NativeError::Unsupported("a virtual selector left in the key's constraint system".into()))
        }
        Expression::Challenge(_) => return Err(NativeError::Unsupported("challenges in gate expressions".into())),
        Expression::Fixed(q) => Node::Query(Source::Fixed(q.column_index()), q.rotation().0),
        Expression::Advice(q) => Node::Query(Source::Advice(q.column_index()), q.rotation().0),
        Expression::Instance(q) => Node::Query(Source::Instance(q.column_index()), q.rotation().0),
        Expression::Negated(a) => Node::Negated(Box::new(compile(a)?)),
        Expression::Sum(a, b) => Node::Sum(Box::new(compile(a)?), Box::new(compile(b)?)),
        Expression::Product(a, b) => Node::Product(Box::new(compile(a)?), Box::new(compile(b)?)),
        Expression::Scaled(a, c) => Node::Scaled(Box::new(compile(a)?), *c),
    })
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

impl<'a> Columns<'a> {
    fn get(&self, source: Source) -> &'a [Fr] {
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

impl Node {
    /// The values of the expression on rows `start..start + len`.
    pub fn evaluate(&self, columns: &Columns<'_>, start: usize, len: usize) -> Vec<Fr> {
        match self {
            Node::Constant(c) => vec![*c; len],
            Node::Query(source, rotation) => {
                let mut out = Vec::with_capacity(len);
                rotated(columns.get(*source), start, len, *rotation, &mut out);
                out
            }
            Node::Negated(a) => {
                let mut values = a.evaluate(columns, start, len);
                values.iter_mut().for_each(|v| *v = -*v);
                values
            }
            Node::Sum(a, b) => {
                let mut values = a.evaluate(columns, start, len);
                match b.as_ref() {
                    Node::Constant(c) => values.iter_mut().for_each(|v| *v += c),
                    _ => values.iter_mut().zip(b.evaluate(columns, start, len)).for_each(|(v, w)| *v += w),
                }
                values
            }
            Node::Product(a, b) => {
                let mut values = a.evaluate(columns, start, len);
                match b.as_ref() {
                    Node::Constant(c) => values.iter_mut().for_each(|v| *v *= c),
                    _ => values.iter_mut().zip(b.evaluate(columns, start, len)).for_each(|(v, w)| *v *= w),
                }
                values
            }
            Node::Scaled(a, c) => {
                let mut values = a.evaluate(columns, start, len);
                values.iter_mut().for_each(|v| *v *= c);
                values
            }
        }
    }
}

/// `Σ θ^{m−1−i}·e_i` over the rows of a block: the compression halo2 applies to
/// a lookup's input and table expressions.
pub fn compress(nodes: &[Node], theta: Fr, columns: &Columns<'_>, start: usize, len: usize) -> Vec<Fr> {
    let mut acc = vec![Fr::ZERO; len];
    for node in nodes {
        let values = node.evaluate(columns, start, len);
        acc.iter_mut().zip(values).for_each(|(a, v)| *a = *a * theta + v);
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn compiled_expressions_evaluate_like_halo2s() {
        let a: Vec<Fr> = (0..8u64).map(|i| Fr::from(i * i + 3)).collect();
        let f: Vec<Fr> = (0..8u64).map(|i| Fr::from(2 * i + 1)).collect();
        let node = Node::Sum(
            Box::new(Node::Product(
                Box::new(Node::Query(Source::Advice(0), 1)),
                Box::new(Node::Query(Source::Fixed(0), 0)),
            )),
            Box::new(Node::Negated(Box::new(Node::Scaled(Box::new(Node::Query(Source::Advice(0), -1)), Fr::from(5))))),
        );
        let columns = Columns { fixed: std::slice::from_ref(&f), advice: std::slice::from_ref(&a), instance: &[] };
        let values = node.evaluate(&columns, 0, 8);
        for (row, value) in values.iter().enumerate() {
            let expected = a[(row + 1) % 8] * f[row] - a[(row + 7) % 8] * Fr::from(5);
            assert_eq!(*value, expected, "row {row}");
        }
    }
}
