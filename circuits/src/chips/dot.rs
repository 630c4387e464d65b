//! The wide dot-product lane: `bias + Σ w_i · x_i` with the weights in fixed
//! columns and `W` multiply-adds per row.
//!
//! Columns: advice `x_0..x_{W-1}` and `acc`, fixed `w_0..w_{W-1}`, `q`, `keep`,
//! `bias`. One degree-2 gate holds on every row:
//!
//! `q·acc[r+1] − keep·acc[r] − bias − Σ_i w_i·x_i = 0`
//!
//! A dot product of `n` terms starting at row `r0` takes `ceil(n/W)` rows (at least
//! one): `keep = 0` and `bias` on its first row, `keep = 1` after. Its result is
//! `acc[r0 + rows]`, which is also the (ignored) `acc` of the next job's first row,
//! so consecutive jobs share that row. Unused rows have every fixed cell zero, which
//! makes the gate vacuous.

use halo2_axiom::circuit::{Cell, Region, Value};
use halo2_axiom::halo2curves::ff::PrimeField;
use halo2_axiom::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed};
use halo2_axiom::poly::Rotation;

use super::fe;
use super::hidden::HiddenColumns;

/// Columns of one dot-product lane.
#[derive(Clone, Debug)]
pub struct DotConfig {
    /// Inputs, copied from where they were computed.
    pub x: Vec<Column<Advice>>,
    /// Running sum; holds each job's result one row past its last row.
    pub acc: Column<Advice>,
    /// Weights.
    pub w: Vec<Column<Fixed>>,
    /// 1 on the rows of a job.
    pub q: Column<Fixed>,
    /// 0 on a job's first row, 1 on the others.
    pub keep: Column<Fixed>,
    /// The job's constant on its first row.
    pub bias: Column<Fixed>,
    /// Hidden-weight columns, when the circuit hides weights.
    pub hidden: Option<HiddenColumns>,
}

/// The witness of one job: its inputs and the running sums, as plain data.
#[derive(Clone, Debug)]
pub struct DotWitness<F> {
    /// One value per term.
    pub inputs: Vec<Value<F>>,
    /// `acc` after each row; the last is the result.
    pub sums: Vec<Value<F>>,
}

/// Assigns the terms of row `r` of a dot job (at region row `at`): weights into the
/// fixed columns, inputs into the advice columns, each input copied from its
/// source when given. Shared by the wide and the compact lanes.
pub(crate) fn assign_terms<F: PrimeField>(
    region: &mut Region<'_, F>,
    (x, w): (&[Column<Advice>], &[Column<Fixed>]),
    at: usize,
    r: usize,
    weights: &[i64],
    witness: &DotWitness<F>,
    sources: &[Option<Cell>],
) {
    let width = x.len();
    let lo = (r * width).min(weights.len());
    let hi = ((r + 1) * width).min(weights.len());
    for (j, i) in (lo..hi).enumerate() {
        region.assign_fixed(w[j], at, fe::<F>(weights[i] as i128));
        let cell = region.assign_advice(x[j], at, witness.inputs[i]).cell();
        if let Some(src) = sources.get(i).copied().flatten() {
            region.constrain_equal(src, cell);
        }
    }
}

/// The running sums of a job whose terms are `products`, starting from `start`:
/// the accumulator after each of its rows (`width` terms each, at least one row).
pub(crate) fn running_sums<F: PrimeField>(width: usize, start: Value<F>, products: &[Value<F>]) -> Vec<Value<F>> {
    let mut acc = start;
    (0..job_rows(products.len(), width))
        .map(|r| {
            let (lo, hi) = ((r * width).min(products.len()), ((r + 1) * width).min(products.len()));
            for p in &products[lo..hi] {
                acc = acc + *p;
            }
            acc
        })
        .collect()
}

/// Rows a job of `terms` terms takes in a lane `width` wide.
pub fn job_rows(terms: usize, width: usize) -> usize {
    terms.div_ceil(width).max(1)
}

impl DotConfig {
    /// Allocates a lane of `width` terms per row and its gate.
    pub fn configure<F: PrimeField>(meta: &mut ConstraintSystem<F>, width: usize) -> Self {
        Self::configure_with(meta, width, false)
    }

    /// [`DotConfig::configure`], with hidden-weight columns when `hidden`
    /// ([`super::hidden`]): the gate gains `Σ on·h_i·x_i + on·(1 − keep)·hb`.
    pub fn configure_with<F: PrimeField>(meta: &mut ConstraintSystem<F>, width: usize, hidden: bool) -> Self {
        let x: Vec<_> = (0..width).map(|_| meta.advice_column()).collect();
        let acc = meta.advice_column();
        let w: Vec<_> = (0..width).map(|_| meta.fixed_column()).collect();
        let (q, keep, bias) = (meta.fixed_column(), meta.fixed_column(), meta.fixed_column());
        for col in x.iter().chain([&acc]) {
            meta.enable_equality(*col);
        }
        let hidden = hidden.then(|| HiddenColumns::configure(meta, width));
        meta.create_gate("dot", |m| {
            let q = m.query_fixed(q, Rotation::cur());
            let keep = m.query_fixed(keep, Rotation::cur());
            let bias = m.query_fixed(bias, Rotation::cur());
            let cur = m.query_advice(acc, Rotation::cur());
            let next = m.query_advice(acc, Rotation::next());
            let first = Expression::Constant(F::ONE) - keep.clone();
            let mut sum = keep * cur + bias;
            for (xc, wc) in x.iter().zip(&w) {
                sum = sum + m.query_advice(*xc, Rotation::cur()) * m.query_fixed(*wc, Rotation::cur());
            }
            if let Some(h) = &hidden {
                sum = sum + h.products(m, &x) + h.bias_term(m) * first;
            }
            vec![q * next - sum]
        });
        DotConfig { x, acc, w, q, keep, bias, hidden }
    }

    /// Terms per row.
    pub fn width(&self) -> usize {
        self.x.len()
    }

    /// The reference computation: running sums of `bias + Σ w_i·x_i`, row by row.
    pub fn witness<F: PrimeField>(&self, bias: i64, weights: &[i64], inputs: Vec<Value<F>>) -> DotWitness<F> {
        Self::witness_of(self.width(), bias, weights, inputs)
    }

    /// [`DotConfig::witness`] for a lane `width` terms wide (shared with the compact
    /// lane).
    pub fn witness_of<F: PrimeField>(width: usize, bias: i64, weights: &[i64], inputs: Vec<Value<F>>) -> DotWitness<F> {
        let products: Vec<Value<F>> =
            inputs.iter().zip(weights).map(|(x, w)| *x * Value::known(fe::<F>(*w as i128))).collect();
        let sums = running_sums(width, Value::known(fe::<F>(bias as i128)), &products);
        DotWitness { inputs, sums }
    }

    /// Fixes the weights, bias and flags of a job starting at `row` and assigns its
    /// witness. Each input `i` is copied from `sources[i]` when given. Returns the
    /// result cell (`acc` at `row + rows`).
    pub fn assign<F: PrimeField>(
        &self,
        region: &mut Region<'_, F>,
        row: usize,
        bias: i64,
        weights: &[i64],
        witness: &DotWitness<F>,
        sources: &[Option<Cell>],
    ) -> Result<Cell, Error> {
        let width = self.width();
        let rows = job_rows(weights.len(), width);
        for r in 0..rows {
            let at = row + r;
            region.assign_fixed(self.q, at, F::ONE);
            region.assign_fixed(self.keep, at, if r == 0 { F::ZERO } else { F::ONE });
            region.assign_fixed(self.bias, at, if r == 0 { fe::<F>(bias as i128) } else { F::ZERO });
            assign_terms(region, (&self.x, &self.w), at, r, weights, witness, sources);
        }
        let mut out = None;
        for (r, sum) in witness.sums.iter().enumerate() {
            out = Some(region.assign_advice(self.acc, row + r + 1, *sum).cell());
        }
        out.ok_or(Error::Synthesis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_axiom::circuit::{Layouter, SimpleFloorPlanner};
    use halo2_axiom::dev::{FailureLocation, MockProver, VerifyFailure};
    use halo2_axiom::halo2curves::bn256::Fr;
    use halo2_axiom::plonk::Circuit;

    /// Two jobs in one lane of width 3, inputs copied from a column of sources.
    #[derive(Clone, Default)]
    struct TestCircuit {
        jobs: Vec<(i64, Vec<i64>, Vec<i64>)>,
        tamper_sum: Option<(usize, usize)>,
        tamper_input: Option<(usize, usize)>,
    }

    #[derive(Clone)]
    struct Cfg {
        dot: DotConfig,
        src: Column<Advice>,
    }

    impl Circuit<Fr> for TestCircuit {
        type Config = Cfg;
        type FloorPlanner = SimpleFloorPlanner;
        type Params = ();

        fn without_witnesses(&self) -> Self {
            self.clone()
        }

        fn configure(meta: &mut ConstraintSystem<Fr>) -> Cfg {
            let src = meta.advice_column();
            meta.enable_equality(src);
            Cfg { dot: DotConfig::configure(meta, 3), src }
        }

        fn synthesize(&self, cfg: Cfg, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
            layouter.assign_region(
                || "dots",
                |mut region| {
                    region.assign_advice(cfg.dot.acc, 0, Value::known(Fr::zero()));
                    let (mut row, mut src_row) = (0, 0);
                    for (j, (bias, weights, xs)) in self.jobs.iter().enumerate() {
                        let sources: Vec<Option<Cell>> = xs
                            .iter()
                            .map(|x| {
                                let c =
                                    region.assign_advice(cfg.src, src_row, Value::known(fe::<Fr>(*x as i128))).cell();
                                src_row += 1;
                                Some(c)
                            })
                            .collect();
                        let mut inputs: Vec<Value<Fr>> = xs.iter().map(|x| Value::known(fe(*x as i128))).collect();
                        if let Some((tj, ti)) = self.tamper_input {
                            if tj == j {
                                inputs[ti] = inputs[ti] + Value::known(Fr::one());
                            }
                        }
                        let mut w = cfg.dot.witness(*bias, weights, inputs);
                        if let Some((tj, tr)) = self.tamper_sum {
                            if tj == j {
                                w.sums[tr] = w.sums[tr] + Value::known(Fr::one());
                            }
                        }
                        cfg.dot.assign(&mut region, row, *bias, weights, &w, &sources)?;
                        row += job_rows(weights.len(), 3);
                    }
                    Ok(())
                },
            )
        }
    }

    fn circuit() -> TestCircuit {
        TestCircuit {
            jobs: vec![(5, vec![1, -2, 3, 4, 5], vec![7, 1, -1, 2, 0]), (-3, vec![2], vec![9])],
            ..Default::default()
        }
    }

    #[test]
    fn honest_dot_products_pass() {
        let prover = MockProver::run(6, &circuit(), vec![]).unwrap();
        prover.assert_satisfied();
    }

    #[test]
    fn wrong_partial_sum_fails_the_dot_gate() {
        let mut c = circuit();
        c.tamper_sum = Some((0, 0));
        let prover = MockProver::run(6, &c, vec![]).unwrap();
        let errs = prover.verify().unwrap_err();
        assert!(
            errs.iter().any(|e| matches!(e, VerifyFailure::ConstraintNotSatisfied { constraint, location: FailureLocation::InRegion { offset: 0, .. }, .. } if constraint.to_string().contains("dot"))),
            "{errs:?}"
        );
    }

    #[test]
    fn wrong_product_fails_the_dot_gate() {
        // The final sum of job 1 (one row) off by one: the gate on its row fails.
        let mut c = circuit();
        c.tamper_sum = Some((1, 0));
        let errs = MockProver::run(6, &c, vec![]).unwrap().verify().unwrap_err();
        assert!(errs.iter().any(|e| matches!(e, VerifyFailure::ConstraintNotSatisfied { .. })), "{errs:?}");
    }

    #[test]
    fn input_that_differs_from_its_source_fails_the_copy() {
        let mut c = circuit();
        c.tamper_input = Some((0, 3));
        let errs = MockProver::run(6, &c, vec![]).unwrap().verify().unwrap_err();
        assert!(errs.iter().any(|e| matches!(e, VerifyFailure::Permutation { .. })), "{errs:?}");
    }
}
