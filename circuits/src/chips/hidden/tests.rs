//! MockProver tests of hidden weights in a dot lane: an honest witness passes;
//! a parameter that takes two values, a term slipped into a free slot, a changed
//! bias or a wrong product each fail the constraint that guards it; and the
//! verifying key does not depend on the hidden values.

use halo2_axiom::circuit::{Cell, Layouter, SimpleFloorPlanner, Value};
use halo2_axiom::dev::{MockProver, VerifyFailure};
use halo2_axiom::halo2curves::bn256::{Bn256, Fr};
use halo2_axiom::plonk::{keygen_vk, Advice, Circuit, Column, ConstraintSystem, Error};
use halo2_axiom::poly::kzg::commitment::ParamsKZG;
use rand::SeedableRng;
use zkinfer_models::params::ParamId;

use super::{HiddenJob, ParamCells};
use crate::chips::dot::{job_rows, DotConfig};
use crate::chips::fe;

const WIDTH: usize = 3;

/// One job: bias, weights, inputs, parameter of each term, parameter of the bias.
#[derive(Clone, Debug)]
struct Job {
    bias: i64,
    weights: Vec<i64>,
    xs: Vec<i64>,
    ids: Vec<Option<ParamId>>,
    bias_id: Option<ParamId>,
}

#[derive(Clone, Debug, Default)]
struct TestCircuit {
    jobs: Vec<Job>,
    /// Job and term whose weight takes another value (the sums follow it).
    other_value: Option<(usize, usize)>,
    /// Job whose bias takes another value (the sums follow it).
    other_bias: Option<usize>,
    /// Job whose first free slot gets an extra term `7 · 2` (the sums follow it).
    extra_term: Option<usize>,
    /// Job and row whose running sum is off by one.
    wrong_sum: Option<(usize, usize)>,
}

#[derive(Clone, Debug)]
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
        let constants = meta.fixed_column();
        meta.enable_constant(constants);
        let src = meta.advice_column();
        meta.enable_equality(src);
        Cfg { dot: DotConfig::configure_with(meta, WIDTH, true), src }
    }

    fn synthesize(&self, cfg: Cfg, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let hidden = cfg.dot.hidden.clone().ok_or(Error::Synthesis)?;
        layouter.assign_region(
            || "hidden dots",
            |mut region| {
                let mut params = ParamCells::default();
                region.assign_advice(cfg.dot.acc, 0, Value::known(Fr::zero()));
                let (mut row, mut src_row) = (0, 0);
                for (j, job) in self.jobs.iter().enumerate() {
                    let mut weights = job.weights.clone();
                    let mut bias = job.bias;
                    if let Some((tj, ti)) = self.other_value {
                        if tj == j {
                            weights[ti] += 1;
                        }
                    }
                    if self.other_bias == Some(j) {
                        bias += 1;
                    }
                    let sources: Vec<Option<Cell>> = job
                        .xs
                        .iter()
                        .map(|x| {
                            let c = region.assign_advice(cfg.src, src_row, Value::known(fe::<Fr>(*x as i128))).cell();
                            src_row += 1;
                            Some(c)
                        })
                        .collect();
                    let inputs: Vec<Value<Fr>> = job.xs.iter().map(|x| Value::known(fe(*x as i128))).collect();
                    let (mut all_weights, mut all_inputs) = (weights.clone(), inputs.clone());
                    if self.extra_term == Some(j) {
                        all_weights.push(7);
                        all_inputs.push(Value::known(fe::<Fr>(2)));
                    }
                    let mut w = DotConfig::witness_of(WIDTH, bias, &all_weights, all_inputs);
                    if let Some((tj, tr)) = self.wrong_sum {
                        if tj == j {
                            w.sums[tr] = w.sums[tr] + Value::known(Fr::one());
                        }
                    }
                    let h = HiddenJob { weights: &weights, ids: &job.ids, bias, bias_id: job.bias_id };
                    cfg.dot.assign(&mut region, row, h.fixed_bias(), &h.fixed_weights(), &w, &sources)?;
                    hidden.assign_job(&mut region, row, &h, &mut params, true)?;
                    if self.extra_term == Some(j) {
                        let n = weights.len();
                        let (at, slot) = (row + n / WIDTH, n % WIDTH);
                        region.assign_advice(cfg.dot.x[slot], at, Value::known(fe::<Fr>(2)));
                        region.assign_advice(hidden.h[slot], at, Value::known(fe::<Fr>(7)));
                    }
                    row += job_rows(weights.len(), WIDTH);
                }
                Ok(())
            },
        )
    }
}

/// Three jobs: a conv-like pair sharing parameters 0–4 and bias 10, and a job
/// mixing a fixed weight with hidden ones, its free slots padded.
fn circuit() -> TestCircuit {
    let shared = vec![3, -1, 4, 1, -5];
    TestCircuit {
        jobs: vec![
            Job {
                bias: 9,
                weights: shared.clone(),
                xs: vec![2, 7, 1, 8, 2],
                ids: (0..5).map(Some).collect(),
                bias_id: Some(10),
            },
            Job {
                bias: 9,
                weights: shared,
                xs: vec![1, 4, 1, 4, 2],
                ids: (0..5).map(Some).collect(),
                bias_id: Some(10),
            },
            Job {
                bias: 0,
                weights: vec![-1, 2, 4, 1],
                xs: vec![6, 6, 6, 6],
                ids: vec![Some(1), None, Some(2), Some(3)],
                bias_id: None,
            },
        ],
        ..Default::default()
    }
}

fn failures(c: &TestCircuit) -> Vec<VerifyFailure> {
    MockProver::run(7, c, vec![]).unwrap().verify().err().unwrap_or_default()
}

fn permutation_fails(errs: &[VerifyFailure]) -> bool {
    errs.iter().any(|e| matches!(e, VerifyFailure::Permutation { .. }))
}

#[test]
fn honest_hidden_weights_pass() {
    MockProver::run(7, &circuit(), vec![]).unwrap().assert_satisfied();
}

#[test]
fn a_parameter_with_two_values_fails_its_copy() {
    let mut c = circuit();
    c.other_value = Some((1, 3));
    let errs = failures(&c);
    assert!(permutation_fails(&errs), "{errs:?}");
}

#[test]
fn a_bias_with_two_values_fails_its_copy() {
    let mut c = circuit();
    c.other_bias = Some(1);
    let errs = failures(&c);
    assert!(permutation_fails(&errs), "{errs:?}");
}

#[test]
fn a_term_in_a_free_slot_fails_the_zero_copy() {
    let mut c = circuit();
    c.extra_term = Some(0);
    let errs = failures(&c);
    assert!(permutation_fails(&errs), "{errs:?}");
    assert!(
        !errs.iter().any(|e| matches!(e, VerifyFailure::ConstraintNotSatisfied { .. })),
        "the gate holds: {errs:?}"
    );
}

#[test]
fn a_wrong_sum_fails_the_gate() {
    let mut c = circuit();
    c.wrong_sum = Some((2, 0));
    let errs = failures(&c);
    assert!(errs.iter().any(|e| matches!(e, VerifyFailure::ConstraintNotSatisfied { .. })), "{errs:?}");
}

#[test]
fn the_verifying_key_does_not_depend_on_hidden_values() {
    let params = ParamsKZG::<Bn256>::setup(7, rand_chacha::ChaCha20Rng::seed_from_u64(7));
    let a = circuit();
    let mut b = circuit();
    for job in &mut b.jobs {
        for (w, id) in job.weights.iter_mut().zip(&job.ids) {
            if id.is_some() {
                *w = *w * 3 + 1;
            }
        }
        if job.bias_id.is_some() {
            job.bias = -job.bias;
        }
    }
    MockProver::run(7, &b, vec![]).unwrap().assert_satisfied();
    let (va, vb) = (keygen_vk(&params, &a).unwrap(), keygen_vk(&params, &b).unwrap());
    assert_eq!(va.transcript_repr(), vb.transcript_repr());
    // A fixed weight, by contrast, is in the key.
    let mut c = circuit();
    c.jobs[2].weights[1] += 1;
    assert_ne!(keygen_vk(&params, &c).unwrap().transcript_repr(), va.transcript_repr());
}

/// A dot product of two computed vectors in a lane of width 3 (five terms: a
/// free slot on the second row): the first factors copied into the term
/// columns, the second into the witness-weight columns.
#[derive(Clone, Debug, Default)]
struct ProductsCircuit {
    a: Vec<i64>,
    b: Vec<i64>,
    /// Term whose second factor differs from its source (the sums follow it).
    other_factor: Option<usize>,
    /// An extra term `7 · 2` in the free slot (the sums follow it).
    extra_term: bool,
}

impl Circuit<Fr> for ProductsCircuit {
    type Config = Cfg;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> Cfg {
        TestCircuit::configure(meta)
    }

    fn synthesize(&self, cfg: Cfg, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let hidden = cfg.dot.hidden.clone().ok_or(Error::Synthesis)?;
        layouter.assign_region(
            || "products",
            |mut region| {
                let mut params = ParamCells::default();
                region.assign_advice(cfg.dot.acc, 0, Value::known(Fr::zero()));
                let known = |v: i64| Value::known(fe::<Fr>(v as i128));
                let mut src = |v: i64, at: usize| region.assign_advice(cfg.src, at, known(v)).cell();
                let a_cells: Vec<Option<Cell>> = self.a.iter().enumerate().map(|(i, v)| Some(src(*v, i))).collect();
                let b_cells: Vec<Cell> = self.b.iter().enumerate().map(|(i, v)| src(*v, 10 + i)).collect();
                let mut b: Vec<Value<Fr>> = self.b.iter().map(|v| known(*v)).collect();
                if let Some(i) = self.other_factor {
                    b[i] = b[i] + Value::known(Fr::one());
                }
                let (mut all_a, mut all_b): (Vec<Value<Fr>>, Vec<Value<Fr>>) =
                    (self.a.iter().map(|v| known(*v)).collect(), b.clone());
                if self.extra_term {
                    all_a.push(known(2));
                    all_b.push(known(7));
                }
                let w = super::products_witness(WIDTH, all_a, &all_b);
                let w = crate::chips::dot::DotWitness { inputs: w.inputs[..self.a.len()].to_vec(), sums: w.sums };
                cfg.dot.assign(&mut region, 0, 0, &vec![0; self.a.len()], &w, &a_cells)?;
                hidden.assign_products(&mut region, 0, &b, &b_cells, &mut params)?;
                if self.extra_term {
                    let n = self.a.len();
                    region.assign_advice(cfg.dot.x[n % WIDTH], n / WIDTH, known(2));
                    region.assign_advice(hidden.h[n % WIDTH], n / WIDTH, known(7));
                }
                Ok(())
            },
        )
    }
}

fn products() -> ProductsCircuit {
    ProductsCircuit { a: vec![3, -1, 4, 1, -5], b: vec![2, 7, -1, 8, 2], ..Default::default() }
}

#[test]
fn honest_products_of_two_vectors_pass() {
    MockProver::run(7, &products(), vec![]).unwrap().assert_satisfied();
}

#[test]
fn a_second_factor_that_is_not_its_source_fails_the_copy() {
    let c = ProductsCircuit { other_factor: Some(3), ..products() };
    let errs = MockProver::run(7, &c, vec![]).unwrap().verify().unwrap_err();
    assert!(permutation_fails(&errs), "{errs:?}");
    assert!(
        !errs.iter().any(|e| matches!(e, VerifyFailure::ConstraintNotSatisfied { .. })),
        "the gate holds: {errs:?}"
    );
}

#[test]
fn a_product_in_a_free_slot_fails_the_zero_copy() {
    let c = ProductsCircuit { extra_term: true, ..products() };
    let errs = MockProver::run(7, &c, vec![]).unwrap().verify().unwrap_err();
    assert!(permutation_fails(&errs), "{errs:?}");
}
