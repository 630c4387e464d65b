//! The quotient's numerator as a sequence of terms, each reading few columns.
//!
//! The numerator is `Σ y^{m−1−i}·c_i` over the gate polynomials, the permutation
//! argument's chunks and the lookups. A gate polynomial is linear in its top-level
//! sums, so one that reads many columns (a dot-product row reads every lane's
//! input and weight column) is split into addends, distributing a narrow factor
//! such as a selector over a wide sum. Addends are then packed, in order of the
//! columns they read, into steps that read at most a budget of columns each; a
//! step is one DAG, so addends in it still share subexpressions. Lookups and the
//! permutation's chunks are steps of their own.

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::Field;
use halo2_axiom::plonk::{ConstraintSystem, Expression};

use super::expr::{Dag, Source};
use super::NativeError;

/// Addends of gate polynomials, compiled into one DAG.
pub struct GateStep {
    /// The shared DAG.
    pub dag: Dag,
    /// (gate polynomial index in the verifier's order, scale, node): the step adds
    /// `scale·y^{m−1−index}·node`.
    pub addends: Vec<(usize, Fr, usize)>,
}

/// One lookup's input and table expressions.
pub struct LookupExprs {
    /// The shared DAG.
    pub dag: Dag,
    /// The input expressions' nodes.
    pub input: Vec<usize>,
    /// The table expressions' nodes.
    pub table: Vec<usize>,
}

/// A part of the numerator evaluated on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Term {
    /// A step of gate addends.
    Gates(usize),
    /// A lookup.
    Lookup(usize),
    /// A chunk of the permutation argument.
    Permutation(usize),
}

/// The numerator's terms in evaluation order.
pub struct Terms {
    /// The gate steps [`Term::Gates`] refers to.
    pub gates: Vec<GateStep>,
    /// The lookups [`Term::Lookup`] refers to.
    pub lookups: Vec<LookupExprs>,
    /// Number of gate polynomials.
    pub gate_polys: usize,
    /// Evaluation order.
    pub order: Vec<Term>,
    /// The columns each term of `order` reads.
    pub reads: Vec<Vec<Source>>,
}

fn collect_reads(e: &Expression<Fr>, out: &mut Vec<Source>) {
    match e {
        Expression::Fixed(q) => out.push(Source::Fixed(q.column_index())),
        Expression::Advice(q) => out.push(Source::Advice(q.column_index())),
        Expression::Instance(q) => out.push(Source::Instance(q.column_index())),
        Expression::Negated(a) | Expression::Scaled(a, _) => collect_reads(a, out),
        Expression::Sum(a, b) | Expression::Product(a, b) => {
            collect_reads(a, out);
            collect_reads(b, out);
        }
        Expression::Constant(_) | Expression::Selector(_) | Expression::Challenge(_) => {}
    }
}

/// The distinct columns an expression reads, sorted.
pub fn reads(e: &Expression<Fr>) -> Vec<Source> {
    let mut out = Vec::new();
    collect_reads(e, &mut out);
    out.sort();
    out.dedup();
    out
}

/// Splits `scale·e` into addends reading at most `limit` columns each where the
/// expression's sums allow; an addend that cannot be split is kept whole.
pub fn split(e: &Expression<Fr>, scale: Fr, limit: usize, out: &mut Vec<(Fr, Expression<Fr>)>) {
    if reads(e).len() <= limit {
        out.push((scale, e.clone()));
        return;
    }
    match e {
        Expression::Sum(a, b) => {
            split(a, scale, limit, out);
            split(b, scale, limit, out);
        }
        Expression::Negated(a) => split(a, -scale, limit, out),
        Expression::Scaled(a, c) => split(a, scale * c, limit, out),
        Expression::Product(a, b) => {
            let (ra, rb) = (reads(a).len(), reads(b).len());
            let (narrow, wide, narrow_reads) = if ra <= rb { (a, b, ra) } else { (b, a, rb) };
            let mut parts = Vec::new();
            split(wide, Fr::ONE, limit.saturating_sub(narrow_reads).max(1), &mut parts);
            if parts.len() == 1 {
                out.push((scale, e.clone()));
            } else {
                out.extend(parts.into_iter().map(|(s, part)| (scale * s, narrow.as_ref().clone() * part)));
            }
        }
        _ => out.push((scale, e.clone())),
    }
}

fn union(a: &[Source], b: &[Source]) -> Vec<Source> {
    let mut u: Vec<Source> = a.iter().chain(b).copied().collect();
    u.sort();
    u.dedup();
    u
}

/// Compiles a key's constraint system into terms that read at most `limit`
/// columns each where the gates allow.
pub fn compile(cs: &ConstraintSystem<Fr>, limit: usize) -> Result<Terms, NativeError> {
    let mut addends: Vec<(Vec<Source>, usize, Fr, Expression<Fr>)> = Vec::new();
    let mut gate_polys = 0;
    for poly in cs.gates().iter().flat_map(|g| g.polynomials()) {
        let mut parts = Vec::new();
        split(poly, Fr::ONE, limit, &mut parts);
        addends.extend(parts.into_iter().map(|(scale, e)| (reads(&e), gate_polys, scale, e)));
        gate_polys += 1;
    }
    addends.sort_by(|a, b| a.0.cmp(&b.0));

    let mut ordered: Vec<(Vec<Source>, Term)> = Vec::new();
    let mut gates: Vec<GateStep> = Vec::new();
    let mut step_reads: Vec<Source> = Vec::new();
    for (reads, poly, scale, e) in addends {
        let merged = union(&step_reads, &reads);
        let new_step = gates.is_empty() || (merged.len() > limit && !step_reads.is_empty());
        if new_step {
            if let Some(g) = gates.len().checked_sub(1) {
                ordered.push((std::mem::take(&mut step_reads), Term::Gates(g)));
            }
            gates.push(GateStep { dag: Dag::new(), addends: Vec::new() });
            step_reads = reads;
        } else {
            step_reads = merged;
        }
        let step = gates.last_mut().ok_or_else(|| NativeError::Internal("no gate step".into()))?;
        let node = step.dag.add(&e)?;
        step.addends.push((poly, scale, node));
    }
    if let Some(g) = gates.len().checked_sub(1) {
        ordered.push((step_reads, Term::Gates(g)));
    }

    let mut lookups = Vec::new();
    for (l, lookup) in cs.lookups().iter().enumerate() {
        let mut dag = Dag::new();
        let input = lookup.input_expressions().iter().map(|e| dag.add(e)).collect::<Result<Vec<_>, _>>()?;
        let table = lookup.table_expressions().iter().map(|e| dag.add(e)).collect::<Result<Vec<_>, _>>()?;
        let mut lookup_reads = dag.sources();
        lookup_reads.sort();
        ordered.push((lookup_reads, Term::Lookup(l)));
        lookups.push(LookupExprs { dag, input, table });
    }
    // Gate steps and lookups in any order (each adds its own weighted terms),
    // sorted by the columns they read so that neighbours share resident columns.
    // The permutation's chunks go last and in order: each reads the previous
    // chunk's grand product.
    ordered.sort_by(|a, b| a.0.cmp(&b.0));
    let chunk_len = (cs.degree() - 2).max(1);
    for (i, chunk) in cs.permutation().get_columns().chunks(chunk_len).enumerate() {
        ordered.push((chunk.iter().map(Source::of).collect(), Term::Permutation(i)));
    }
    let (reads, order) = ordered.into_iter().unzip();
    Ok(Terms { gates, lookups, gate_polys, order, reads })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::native::expr::Columns;
    use halo2_axiom::plonk::{Advice, Column, Fixed};
    use halo2_axiom::poly::Rotation;

    /// A dot-product row `q·next − (Σ x_i·w_i + bias)` of `width` lanes.
    fn dot_system(width: usize) -> ConstraintSystem<Fr> {
        let mut cs = ConstraintSystem::<Fr>::default();
        let x: Vec<Column<Advice>> = (0..width).map(|_| cs.advice_column()).collect();
        let w: Vec<Column<Fixed>> = (0..width).map(|_| cs.fixed_column()).collect();
        let (acc, q, bias) = (cs.advice_column(), cs.fixed_column(), cs.fixed_column());
        cs.create_gate("dot", |m| {
            let mut sum = m.query_fixed(bias, Rotation::cur());
            for (xc, wc) in x.iter().zip(&w) {
                sum = sum + m.query_advice(*xc, Rotation::cur()) * m.query_fixed(*wc, Rotation::cur());
            }
            vec![m.query_fixed(q, Rotation::cur()) * (m.query_advice(acc, Rotation::next()) - sum)]
        });
        cs
    }

    #[test]
    fn a_wide_gate_splits_into_steps_within_the_limit_and_sums_to_the_same() {
        let cs = dot_system(16);
        let terms = compile(&cs, 8).expect("compiles");
        assert_eq!(terms.gate_polys, 1);
        assert!(terms.gates.len() > 1, "the 35-column gate is split");
        for (term, reads) in terms.order.iter().zip(&terms.reads) {
            assert!(reads.len() <= 8, "{term:?} reads {} columns", reads.len());
        }
        // Σ scale·addend equals the whole polynomial on random columns.
        let n = 8;
        let random = |count: usize| -> Vec<Vec<Fr>> {
            (0..count).map(|_| (0..n).map(|_| Fr::random(rand::rngs::OsRng)).collect()).collect()
        };
        let (advice, fixed) = (random(cs.num_advice_columns()), random(cs.num_fixed_columns()));
        let columns = Columns { fixed: &fixed, advice: &advice, instance: &[] };
        let mut whole = Dag::new();
        let root = whole.add(&cs.gates()[0].polynomials()[0]).expect("compiles");
        let mut scratch = Vec::new();
        whole.evaluate(&columns, 0, n, &mut scratch);
        let expected = scratch[root].clone();
        let mut sum = vec![Fr::ZERO; n];
        for step in &terms.gates {
            step.dag.evaluate(&columns, 0, n, &mut scratch);
            for &(_, scale, node) in &step.addends {
                sum.iter_mut().zip(&scratch[node]).for_each(|(a, v)| *a += scale * v);
            }
        }
        assert_eq!(sum, expected);
    }

    #[test]
    fn narrow_gates_stay_whole() {
        let cs = dot_system(2);
        let terms = compile(&cs, 16).expect("compiles");
        assert_eq!(terms.gates.len(), 1);
        assert_eq!(terms.gates[0].addends.len(), 1);
        assert_eq!(terms.gates[0].addends[0].1, Fr::ONE);
    }
}
