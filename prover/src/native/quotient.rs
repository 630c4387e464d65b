//! The quotient `h(X) = Σ y^i·c_i(X) / (X^n − 1)` over halo2's extended domain,
//! evaluated one coset of the base domain at a time.
//!
//! halo2's extended domain is `ζ·⟨ω_E⟩` of size `E = 2^{k_E}`. It splits into
//! `E/n` cosets `s_j·⟨ω⟩` with `s_j = ζ·ω_E^j`; point `ζ·ω_E^{j + t·E/n}` is row
//! `t` of coset `j`. On one coset every polynomial is a size-`n` coset transform
//! of its coefficients, a rotation by `r` is a shift of `r` rows, and `X^n − 1` is
//! the constant `s_j^n − 1`. So only one coset's worth of column values is ever
//! held, never the extended domain per column; the key stores no extended copies.

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::{Field, PrimeField, WithSmallOrderMulGroup};
use halo2_axiom::plonk::ConstraintSystem;
use rayon::prelude::*;

use super::engine::{root_of_unity, Direction, Engines};
use super::expr::{compress, rotated, Columns};
use super::resident::{Coefficients, CosetTransform, Resident};
use super::terms::{compile, GateStep, LookupExprs, Term};
use super::NativeError;

/// A lookup's committed polynomials, in coefficient form.
pub struct LookupPolys {
    /// The permuted input `A'`.
    pub permuted_input: Vec<Fr>,
    /// The permuted table `S'`.
    pub permuted_table: Vec<Fr>,
    /// The grand product `Z`.
    pub product: Vec<Fr>,
}

/// Everything the quotient depends on, in coefficient form.
pub struct QuotientInputs<'a> {
    /// The key's constraint system.
    pub cs: &'a ConstraintSystem<Fr>,
    /// log2 of the number of rows.
    pub k: u32,
    /// Fixed columns.
    pub fixed: &'a [Vec<Fr>],
    /// Advice columns.
    pub advice: &'a [Vec<Fr>],
    /// Instance columns.
    pub instance: &'a [Vec<Fr>],
    /// Permutation polynomials `σ`.
    pub sigma: &'a [Vec<Fr>],
    /// Permutation grand products, one per chunk of columns.
    pub permutation_products: &'a [Vec<Fr>],
    /// Lookups.
    pub lookups: &'a [LookupPolys],
    /// `L_0`, `L_last` and the active-row indicator `1 − L_last − L_blind`.
    pub l0: &'a [Fr],
    /// See `l0`.
    pub l_last: &'a [Fr],
    /// See `l0`.
    pub l_active: &'a [Fr],
    /// Challenges.
    pub theta: Fr,
    /// See `theta`.
    pub beta: Fr,
    /// See `theta`.
    pub gamma: Fr,
    /// See `theta`.
    pub y: Fr,
}

const BLOCK: usize = 256;

/// How many columns' coset values may be resident at once (raised to the widest
/// term). Each costs `n` field elements; past the budget a column is transformed
/// again when it is next needed.
const RESIDENT_COLUMNS: usize = 16;

/// The values on one coset that do not depend on the circuit's columns.
struct Frame {
    l0: Vec<Fr>,
    l_last: Vec<Fr>,
    l_active: Vec<Fr>,
    /// `s·ω^t`.
    points: Vec<Fr>,
}

/// Evaluates polynomials on one coset `shift·⟨ω⟩`.
struct OnCoset<'a> {
    engines: &'a Engines,
    k: u32,
    shift: Fr,
}

impl OnCoset<'_> {
    fn one(&self, coeffs: &[Fr]) -> Vec<Fr> {
        let mut values = coeffs.to_vec();
        self.engines.ntt.coset_ntt(&mut values, self.k, self.shift);
        values
    }

    fn many(&self, polys: &[Vec<Fr>]) -> Vec<Vec<Fr>> {
        polys.par_iter().map(|p| self.one(p)).collect()
    }
}

impl CosetTransform for OnCoset<'_> {
    fn transform(&self, coeffs: &[Fr]) -> Vec<Fr> {
        self.one(coeffs)
    }
}

fn frame(inputs: &QuotientInputs<'_>, on: &OnCoset<'_>) -> Frame {
    let omega = root_of_unity(inputs.k);
    let mut points = Vec::with_capacity(1 << inputs.k);
    let mut point = on.shift;
    for _ in 0..1usize << inputs.k {
        points.push(point);
        point *= omega;
    }
    Frame { l0: on.one(inputs.l0), l_last: on.one(inputs.l_last), l_active: on.one(inputs.l_active), points }
}

/// `y^{m−1−i}` for each of the `m` constraints, in the verifier's order (gates,
/// permutation, lookups): the numerator is `Σ y^{m−1−i}·c_i`, so each group can
/// be added on its own.
struct Weights {
    powers: Vec<Fr>,
    permutation: usize,
    lookups: usize,
}

impl Weights {
    fn new(y: Fr, gates: usize, sets: usize, lookups: usize) -> Self {
        let permutation_terms = if sets == 0 { 0 } else { 2 * sets + 1 };
        let total = gates + permutation_terms + 5 * lookups;
        let mut powers = vec![Fr::ONE; total];
        for i in (0..total.saturating_sub(1)).rev() {
            powers[i] = powers[i + 1] * y;
        }
        Weights { powers, permutation: gates, lookups: gates + permutation_terms }
    }
}

/// Adds `w·values` to `acc`.
fn add_weighted(acc: &mut [Fr], weight: Fr, values: impl Iterator<Item = Fr>) {
    acc.iter_mut().zip(values).for_each(|(a, v)| *a += weight * v);
}

/// The quotient's pieces `h_0, …, h_{d−2}` (each `n` coefficients) with
/// `h = Σ X^{n·i}·h_i`, where `d` is the constraint system's degree.
pub fn quotient(inputs: &QuotientInputs<'_>, engines: &Engines) -> Result<Vec<Vec<Fr>>, NativeError> {
    let cs = inputs.cs;
    let compiled = compile(cs, RESIDENT_COLUMNS)?;
    let k = inputs.k;
    let n = 1usize << k;
    let degree = cs.degree();
    let pieces = degree - 1;
    let mut extended_k = k;
    while (1usize << extended_k) < n * pieces {
        extended_k += 1;
    }
    let cosets = 1usize << (extended_k - k);
    let extended_omega = root_of_unity(extended_k);
    let mut h = vec![Fr::ZERO; 1 << extended_k];
    let weights = Weights::new(inputs.y, compiled.gate_polys, inputs.permutation_products.len(), inputs.lookups.len());
    let coefficients = Coefficients { fixed: inputs.fixed, advice: inputs.advice, instance: inputs.instance };
    // The permutation's columns come in chunks of `degree − 2`, each with its σs.
    let chunk_len = degree - 2;
    for j in 0..cosets {
        let on = OnCoset { engines, k, shift: Fr::ZETA * extended_omega.pow_vartime([j as u64]) };
        let vanishing_inv = Option::<Fr>::from((on.shift.pow_vartime([n as u64]) - Fr::ONE).invert())
            .ok_or_else(|| NativeError::Internal("the extended coset meets the base domain".into()))?;
        let frame = frame(inputs, &on);
        let mut resident = Resident::new(coefficients, &on, &compiled.reads, RESIDENT_COLUMNS);
        let mut numerator = vec![Fr::ZERO; n];
        let mut previous_product = None;
        for (step, term) in compiled.order.iter().enumerate() {
            resident.prepare(step);
            let columns = resident.columns();
            match *term {
                Term::Gates(g) => gate_terms(&compiled.gates[g], &weights, &columns, &mut numerator),
                Term::Lookup(l) => {
                    let polys = &inputs.lookups[l];
                    let on_coset = [&polys.permuted_input, &polys.permuted_table, &polys.product].map(|p| on.one(p));
                    let exprs = &compiled.lookups[l];
                    let w = &weights.powers[weights.lookups + 5 * l..];
                    lookup_terms(inputs, exprs, w, &frame, &columns, &on_coset, &mut numerator);
                }
                Term::Permutation(i) => {
                    let sigma = inputs.sigma.chunks(chunk_len).nth(i).unwrap_or_default();
                    let (sigma, product) = (on.many(sigma), on.one(&inputs.permutation_products[i]));
                    let chunk = PermutationChunk {
                        index: i,
                        first_column: i * chunk_len,
                        sets: inputs.permutation_products.len(),
                        values: compiled.reads[step].iter().map(|s| resident.values(*s)).collect(),
                        sigma: &sigma,
                        product: &product,
                        previous: previous_product.as_deref(),
                    };
                    let w = &weights.powers[weights.permutation..];
                    permutation_terms(inputs, &chunk, w, &frame, &mut numerator);
                    previous_product = Some(product);
                }
            }
        }
        for (t, value) in numerator.into_iter().enumerate() {
            h[j + t * cosets] = value * vanishing_inv;
        }
    }
    engines.ntt.ntt(&mut h, extended_k, Direction::Inverse);
    // Back from the coset: coefficient i times ζ^{−i} (ζ³ = 1).
    let zeta_powers = [Fr::ONE, Fr::ZETA.square(), Fr::ZETA];
    h.par_iter_mut().enumerate().for_each(|(i, c)| *c *= zeta_powers[i % 3]);
    h.truncate(n * pieces);
    Ok(h.chunks_exact(n).map(<[Fr]>::to_vec).collect())
}

/// A step of gate addends, weighted and added to the numerator.
fn gate_terms(step: &GateStep, weights: &Weights, columns: &Columns<'_>, numerator: &mut [Fr]) {
    let scaled: Vec<(Fr, usize)> =
        step.addends.iter().map(|&(i, scale, node)| (weights.powers[i] * scale, node)).collect();
    numerator.par_chunks_mut(BLOCK).enumerate().for_each_init(Vec::new, |scratch, (b, acc)| {
        step.dag.evaluate(columns, b * BLOCK, acc.len(), scratch);
        for &(weight, node) in &scaled {
            add_weighted(acc, weight, scratch[node].iter().copied());
        }
    });
}

/// Rows `start..start+len` of `column` rotated by `rotation`.
fn window(column: &[Fr], start: usize, len: usize, rotation: i32) -> Vec<Fr> {
    let mut out = Vec::with_capacity(len);
    rotated(column, start, len, rotation, &mut out);
    out
}

/// Runs `f(start, acc_block)` over the numerator in parallel blocks.
fn per_block(numerator: &mut [Fr], f: impl Fn(usize, &mut [Fr]) + Sync) {
    numerator.par_chunks_mut(BLOCK).enumerate().for_each(|(b, acc)| f(b * BLOCK, acc));
}

/// One chunk of the permutation argument on the coset.
struct PermutationChunk<'a> {
    /// Which chunk, of how many.
    index: usize,
    sets: usize,
    /// The position of its first column in the permutation (its `δ` power).
    first_column: usize,
    /// The chunk's columns, their `σ` and the chunk's grand product `Z_i`.
    values: Vec<&'a [Fr]>,
    sigma: &'a [Vec<Fr>],
    product: &'a [Fr],
    /// `Z_{i−1}`, for the link between chunks.
    previous: Option<&'a [Fr]>,
}

/// One chunk's permutation constraints (its start, its end if last, its link to
/// the previous chunk, and its product rule), added to the numerator; `w` are
/// the permutation argument's weights.
fn permutation_terms(
    inputs: &QuotientInputs<'_>,
    chunk: &PermutationChunk<'_>,
    w: &[Fr],
    c: &Frame,
    numerator: &mut [Fr],
) {
    let (beta, gamma) = (inputs.beta, inputs.gamma);
    let (i, sets) = (chunk.index, chunk.sets);
    let last_rotation = -(inputs.cs.blinding_factors() as i32 + 1);
    let delta_start = Fr::DELTA.pow_vartime([chunk.first_column as u64]);
    let z = chunk.product;
    per_block(numerator, |start, acc| {
        let len = acc.len();
        let z_now = &z[start..start + len];
        let l0 = &c.l0[start..start + len];
        if i == 0 {
            add_weighted(acc, w[0], (0..len).map(|t| l0[t] * (Fr::ONE - z_now[t])));
        }
        if i + 1 == sets {
            let l_last = &c.l_last[start..start + len];
            add_weighted(acc, w[1], (0..len).map(|t| l_last[t] * (z_now[t].square() - z_now[t])));
        }
        if let Some(prev) = chunk.previous {
            let prev_last = window(prev, start, len, last_rotation);
            add_weighted(acc, w[2 + i - 1], (0..len).map(|t| l0[t] * (z_now[t] - prev_last[t])));
        }
        let mut left = window(z, start, len, 1);
        let mut right = z_now.to_vec();
        let mut current: Vec<Fr> = c.points[start..start + len].iter().map(|x| beta * x * delta_start).collect();
        for (values, sigma) in chunk.values.iter().zip(chunk.sigma) {
            let values = &values[start..start + len];
            let sigma = &sigma[start..start + len];
            for t in 0..len {
                left[t] *= values[t] + beta * sigma[t] + gamma;
                right[t] *= values[t] + current[t] + gamma;
                current[t] *= Fr::DELTA;
            }
        }
        let active = &c.l_active[start..start + len];
        add_weighted(acc, w[2 + (sets - 1) + i], (0..len).map(|t| (left[t] - right[t]) * active[t]));
    });
}

/// One lookup's five constraints, added to the numerator. The compressed input
/// and table are evaluated block by block from the resident columns; `polys`
/// holds `A'`, `S'` and `Z` on the coset, and `w` the lookup's weights.
fn lookup_terms(
    inputs: &QuotientInputs<'_>,
    exprs: &LookupExprs,
    w: &[Fr],
    c: &Frame,
    columns: &Columns<'_>,
    polys: &[Vec<Fr>; 3],
    numerator: &mut [Fr],
) {
    let (beta, gamma, theta) = (inputs.beta, inputs.gamma, inputs.theta);
    let [a, s, z] = polys;
    numerator.par_chunks_mut(BLOCK).enumerate().for_each_init(Vec::new, |scratch, (b, acc)| {
        let start = b * BLOCK;
        let len = acc.len();
        exprs.dag.evaluate(columns, start, len, scratch);
        let input = compress(&exprs.input, theta, scratch, len);
        let table = compress(&exprs.table, theta, scratch, len);
        let range = start..start + len;
        let (l0, l_last, active) = (&c.l0[range.clone()], &c.l_last[range.clone()], &c.l_active[range.clone()]);
        let (z_now, a_now, s_now) = (&z[range.clone()], &a[range.clone()], &s[range]);
        let z_next = window(z, start, len, 1);
        let a_prev = window(a, start, len, -1);
        add_weighted(acc, w[0], (0..len).map(|t| l0[t] * (Fr::ONE - z_now[t])));
        add_weighted(acc, w[1], (0..len).map(|t| l_last[t] * (z_now[t].square() - z_now[t])));
        add_weighted(
            acc,
            w[2],
            (0..len).map(|t| {
                let left = z_next[t] * (a_now[t] + beta) * (s_now[t] + gamma);
                let right = z_now[t] * (input[t] + beta) * (table[t] + gamma);
                (left - right) * active[t]
            }),
        );
        add_weighted(acc, w[3], (0..len).map(|t| l0[t] * (a_now[t] - s_now[t])));
        add_weighted(acc, w[4], (0..len).map(|t| (a_now[t] - s_now[t]) * (a_now[t] - a_prev[t]) * active[t]));
    });
}
