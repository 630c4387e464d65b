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
use halo2_axiom::plonk::{Any, ConstraintSystem};
use rayon::prelude::*;

use super::engine::{root_of_unity, Direction, Engines};
use super::expr::{compress, rotated, Columns, Dag};
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

struct Compiled {
    dag: Dag,
    gates: Vec<usize>,
    lookups: Vec<(Vec<usize>, Vec<usize>)>,
}

fn compile_all(cs: &ConstraintSystem<Fr>) -> Result<Compiled, NativeError> {
    let mut dag = Dag::new();
    let mut gates = Vec::new();
    for poly in cs.gates().iter().flat_map(|g| g.polynomials().iter()) {
        gates.push(dag.add(poly)?);
    }
    let mut lookups = Vec::new();
    for lookup in cs.lookups() {
        let input = lookup.input_expressions().iter().map(|e| dag.add(e)).collect::<Result<Vec<_>, _>>()?;
        let table = lookup.table_expressions().iter().map(|e| dag.add(e)).collect::<Result<Vec<_>, _>>()?;
        lookups.push((input, table));
    }
    Ok(Compiled { dag, gates, lookups })
}

/// One coset's values of the columns every constraint may read.
struct Coset {
    fixed: Vec<Vec<Fr>>,
    advice: Vec<Vec<Fr>>,
    instance: Vec<Vec<Fr>>,
    l0: Vec<Fr>,
    l_last: Vec<Fr>,
    l_active: Vec<Fr>,
    /// `s·ω^t`.
    points: Vec<Fr>,
}

impl Coset {
    fn columns(&self) -> Columns<'_> {
        Columns { fixed: &self.fixed, advice: &self.advice, instance: &self.instance }
    }

    fn values(&self, column: &halo2_axiom::plonk::Column<Any>) -> &[Fr] {
        match column.column_type() {
            Any::Advice(_) => &self.advice[column.index()],
            Any::Fixed => &self.fixed[column.index()],
            Any::Instance => &self.instance[column.index()],
        }
    }
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

fn main_columns(inputs: &QuotientInputs<'_>, on: &OnCoset<'_>) -> Coset {
    let omega = root_of_unity(inputs.k);
    let mut points = Vec::with_capacity(1 << inputs.k);
    let mut point = on.shift;
    for _ in 0..1usize << inputs.k {
        points.push(point);
        point *= omega;
    }
    Coset {
        fixed: on.many(inputs.fixed),
        advice: on.many(inputs.advice),
        instance: on.many(inputs.instance),
        l0: on.one(inputs.l0),
        l_last: on.one(inputs.l_last),
        l_active: on.one(inputs.l_active),
        points,
    }
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
    let compiled = compile_all(cs)?;
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
    let weights = Weights::new(inputs.y, compiled.gates.len(), inputs.permutation_products.len(), inputs.lookups.len());
    for j in 0..cosets {
        let on = OnCoset { engines, k, shift: Fr::ZETA * extended_omega.pow_vartime([j as u64]) };
        let vanishing_inv = Option::<Fr>::from((on.shift.pow_vartime([n as u64]) - Fr::ONE).invert())
            .ok_or_else(|| NativeError::Internal("the extended coset meets the base domain".into()))?;
        let main = main_columns(inputs, &on);
        let (mut numerator, compressed) = gates_and_compressions(inputs, &compiled, &weights, &main);
        permutation_terms(inputs, &weights, &main, &on, &mut numerator);
        lookup_terms(inputs, &weights, &main, &on, &compressed, &mut numerator);
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

/// A lookup's compressed input and table values on (part of) a coset.
type Compressed = (Vec<Fr>, Vec<Fr>);

/// The gates' weighted sum on one coset, and every lookup's compressed input and
/// table values (both come from the one DAG evaluation).
fn gates_and_compressions(
    inputs: &QuotientInputs<'_>,
    compiled: &Compiled,
    weights: &Weights,
    c: &Coset,
) -> (Vec<Fr>, Vec<Compressed>) {
    let n = c.points.len();
    let columns = c.columns();
    let blocks: Vec<(Vec<Fr>, Vec<Compressed>)> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map_init(Vec::new, |scratch, block| {
            let start = block * BLOCK;
            let len = BLOCK.min(n - start);
            compiled.dag.evaluate(&columns, start, len, scratch);
            let mut acc = vec![Fr::ZERO; len];
            for (i, &gate) in compiled.gates.iter().enumerate() {
                add_weighted(&mut acc, weights.powers[i], scratch[gate].iter().copied());
            }
            let compressed = compiled
                .lookups
                .iter()
                .map(|(input, table)| {
                    (compress(input, inputs.theta, scratch, len), compress(table, inputs.theta, scratch, len))
                })
                .collect();
            (acc, compressed)
        })
        .collect();
    let mut numerator = Vec::with_capacity(n);
    let mut compressed: Vec<Compressed> =
        compiled.lookups.iter().map(|_| (Vec::with_capacity(n), Vec::with_capacity(n))).collect();
    for (acc, parts) in blocks {
        numerator.extend(acc);
        for ((input, table), (i, t)) in compressed.iter_mut().zip(parts) {
            input.extend(i);
            table.extend(t);
        }
    }
    (numerator, compressed)
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

/// The permutation argument's constraints, one grand product (and its chunk of
/// σ polynomials) brought to the coset at a time.
fn permutation_terms(
    inputs: &QuotientInputs<'_>,
    weights: &Weights,
    c: &Coset,
    on: &OnCoset<'_>,
    numerator: &mut [Fr],
) {
    let sets = inputs.permutation_products.len();
    if sets == 0 {
        return;
    }
    let (beta, gamma) = (inputs.beta, inputs.gamma);
    let w = &weights.powers[weights.permutation..];
    let last_rotation = -(inputs.cs.blinding_factors() as i32 + 1);
    let chunk_len = inputs.cs.degree() - 2;
    let columns = inputs.cs.permutation().get_columns();
    let mut previous: Option<Vec<Fr>> = None;
    for (i, ((z_coeff, chunk), sigma_coeff)) in inputs
        .permutation_products
        .iter()
        .zip(columns.chunks(chunk_len))
        .zip(inputs.sigma.chunks(chunk_len))
        .enumerate()
    {
        let z = on.one(z_coeff);
        let sigma = on.many(sigma_coeff);
        let delta_start = Fr::DELTA.pow_vartime([(i * chunk_len) as u64]);
        let prev = previous.as_deref();
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
            if let Some(prev) = prev {
                let prev_last = window(prev, start, len, last_rotation);
                add_weighted(acc, w[2 + i - 1], (0..len).map(|t| l0[t] * (z_now[t] - prev_last[t])));
            }
            let mut left = window(&z, start, len, 1);
            let mut right = z_now.to_vec();
            let mut current: Vec<Fr> = c.points[start..start + len].iter().map(|x| beta * x * delta_start).collect();
            for (column, sigma) in chunk.iter().zip(&sigma) {
                let values = &c.values(column)[start..start + len];
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
        previous = Some(z);
    }
}

/// The lookup arguments' constraints, one lookup's `A'`, `S'`, `Z` at a time.
fn lookup_terms(
    inputs: &QuotientInputs<'_>,
    weights: &Weights,
    c: &Coset,
    on: &OnCoset<'_>,
    compressed: &[Compressed],
    numerator: &mut [Fr],
) {
    let (beta, gamma) = (inputs.beta, inputs.gamma);
    for (l, (polys, (input, table))) in inputs.lookups.iter().zip(compressed).enumerate() {
        let w = &weights.powers[weights.lookups + 5 * l..];
        let a = on.one(&polys.permuted_input);
        let s = on.one(&polys.permuted_table);
        let z = on.one(&polys.product);
        per_block(numerator, |start, acc| {
            let len = acc.len();
            let range = start..start + len;
            let (l0, l_last, active) = (&c.l0[range.clone()], &c.l_last[range.clone()], &c.l_active[range.clone()]);
            let (z_now, a_now, s_now) = (&z[range.clone()], &a[range.clone()], &s[range.clone()]);
            let (input, table) = (&input[range.clone()], &table[range]);
            let z_next = window(&z, start, len, 1);
            let a_prev = window(&a, start, len, -1);
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
}
