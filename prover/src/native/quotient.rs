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
use super::expr::{compile, compress, rotated, Columns, Node};
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
    gates: Vec<Node>,
    lookups: Vec<(Vec<Node>, Vec<Node>)>,
}

fn compile_all(cs: &ConstraintSystem<Fr>) -> Result<Compiled, NativeError> {
    let gates = cs.gates().iter().flat_map(|g| g.polynomials().iter()).map(compile).collect::<Result<_, _>>()?;
    let lookups = cs
        .lookups()
        .iter()
        .map(|l| {
            let input = l.input_expressions().iter().map(compile).collect::<Result<Vec<_>, _>>()?;
            let table = l.table_expressions().iter().map(compile).collect::<Result<Vec<_>, _>>()?;
            Ok((input, table))
        })
        .collect::<Result<_, NativeError>>()?;
    Ok(Compiled { gates, lookups })
}

/// One coset's values of every polynomial.
struct Coset {
    fixed: Vec<Vec<Fr>>,
    advice: Vec<Vec<Fr>>,
    instance: Vec<Vec<Fr>>,
    sigma: Vec<Vec<Fr>>,
    products: Vec<Vec<Fr>>,
    lookups: Vec<[Vec<Fr>; 3]>,
    l0: Vec<Fr>,
    l_last: Vec<Fr>,
    l_active: Vec<Fr>,
    /// `s·ω^t`.
    points: Vec<Fr>,
}

fn coset(inputs: &QuotientInputs<'_>, engines: &Engines, shift: Fr) -> Coset {
    let k = inputs.k;
    let on_coset = |coeffs: &[Fr]| {
        let mut values = coeffs.to_vec();
        engines.ntt.coset_ntt(&mut values, k, shift);
        values
    };
    let many = |polys: &[Vec<Fr>]| polys.iter().map(|p| on_coset(p)).collect::<Vec<_>>();
    let omega = root_of_unity(k);
    let mut points = Vec::with_capacity(1 << k);
    let mut point = shift;
    for _ in 0..1usize << k {
        points.push(point);
        point *= omega;
    }
    Coset {
        fixed: many(inputs.fixed),
        advice: many(inputs.advice),
        instance: many(inputs.instance),
        sigma: many(inputs.sigma),
        products: many(inputs.permutation_products),
        lookups: inputs
            .lookups
            .iter()
            .map(|l| [on_coset(&l.permuted_input), on_coset(&l.permuted_table), on_coset(&l.product)])
            .collect(),
        l0: on_coset(inputs.l0),
        l_last: on_coset(inputs.l_last),
        l_active: on_coset(inputs.l_active),
        points,
    }
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
    for j in 0..cosets {
        let shift = Fr::ZETA * extended_omega.pow_vartime([j as u64]);
        let values = coset(inputs, engines, shift);
        let vanishing_inv = Option::<Fr>::from((shift.pow_vartime([n as u64]) - Fr::ONE).invert())
            .ok_or_else(|| NativeError::Internal("the extended coset meets the base domain".into()))?;
        let chunk: Vec<Fr> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .flat_map_iter(|block| {
                let start = block * BLOCK;
                let len = BLOCK.min(n - start);
                let mut acc = numerator_block(inputs, &compiled, &values, start, len);
                acc.iter_mut().for_each(|v| *v *= vanishing_inv);
                acc
            })
            .collect();
        for (t, value) in chunk.into_iter().enumerate() {
            h[j + t * cosets] = value;
        }
    }
    engines.ntt.ntt(&mut h, extended_k, Direction::Inverse);
    // Back from the coset: coefficient i times ζ^{−i} (ζ³ = 1).
    let zeta_powers = [Fr::ONE, Fr::ZETA.square(), Fr::ZETA];
    h.par_iter_mut().enumerate().for_each(|(i, c)| *c *= zeta_powers[i % 3]);
    h.truncate(n * pieces);
    Ok(h.chunks_exact(n).map(<[Fr]>::to_vec).collect())
}

/// `Σ y^{m−1−i}·c_i` on rows `start..start+len` of one coset, with the
/// constraints in the verifier's order: gates, permutation, lookups.
fn numerator_block(inputs: &QuotientInputs<'_>, compiled: &Compiled, c: &Coset, start: usize, len: usize) -> Vec<Fr> {
    let (y, beta, gamma) = (inputs.y, inputs.beta, inputs.gamma);
    let columns = Columns { fixed: &c.fixed, advice: &c.advice, instance: &c.instance };
    let mut acc = vec![Fr::ZERO; len];
    let mut fold = |values: &[Fr]| acc.iter_mut().zip(values).for_each(|(a, v)| *a = *a * y + v);
    for gate in &compiled.gates {
        fold(&gate.evaluate(&columns, start, len));
    }
    let slice = |column: &[Fr], rotation: i32| {
        let mut out = Vec::with_capacity(len);
        rotated(column, start, len, rotation, &mut out);
        out
    };
    let l0 = &c.l0[start..start + len];
    let l_last = &c.l_last[start..start + len];
    let active = &c.l_active[start..start + len];
    let one = Fr::ONE;

    // Permutation.
    let blinding = inputs.cs.blinding_factors() as i32;
    let sets = &c.products;
    if let (Some(first), Some(last)) = (sets.first(), sets.last()) {
        let first = &first[start..start + len];
        fold(&(0..len).map(|t| l0[t] * (one - first[t])).collect::<Vec<_>>());
        let last = &last[start..start + len];
        fold(&(0..len).map(|t| l_last[t] * (last[t].square() - last[t])).collect::<Vec<_>>());
        for pair in sets.windows(2) {
            let previous_last = slice(&pair[0], -(blinding + 1));
            let current = &pair[1][start..start + len];
            fold(&(0..len).map(|t| l0[t] * (current[t] - previous_last[t])).collect::<Vec<_>>());
        }
        let chunk_len = inputs.cs.degree() - 2;
        let permuted = inputs.cs.permutation().get_columns();
        let mut delta = Fr::ONE;
        for ((set, columns), sigmas) in sets.iter().zip(permuted.chunks(chunk_len)).zip(c.sigma.chunks(chunk_len)) {
            let mut left = slice(set, 1);
            let mut right = set[start..start + len].to_vec();
            let mut current: Vec<Fr> = c.points[start..start + len].iter().map(|x| beta * x * delta).collect();
            for (column, sigma) in columns.iter().zip(sigmas) {
                let values = match column.column_type() {
                    Any::Advice(_) => &c.advice[column.index()],
                    Any::Fixed => &c.fixed[column.index()],
                    Any::Instance => &c.instance[column.index()],
                };
                let values = &values[start..start + len];
                let sigma = &sigma[start..start + len];
                for t in 0..len {
                    left[t] *= values[t] + beta * sigma[t] + gamma;
                    right[t] *= values[t] + current[t] + gamma;
                    current[t] *= Fr::DELTA;
                }
                delta *= Fr::DELTA;
            }
            fold(&(0..len).map(|t| (left[t] - right[t]) * active[t]).collect::<Vec<_>>());
        }
    }

    // Lookups.
    for ((input, table), [a, s, z]) in compiled.lookups.iter().zip(&c.lookups) {
        let z_now = &z[start..start + len];
        let z_next = slice(z, 1);
        let a_now = &a[start..start + len];
        let a_prev = slice(a, -1);
        let s_now = &s[start..start + len];
        let compressed_input = compress(input, inputs.theta, &columns, start, len);
        let compressed_table = compress(table, inputs.theta, &columns, start, len);
        fold(&(0..len).map(|t| l0[t] * (one - z_now[t])).collect::<Vec<_>>());
        fold(&(0..len).map(|t| l_last[t] * (z_now[t].square() - z_now[t])).collect::<Vec<_>>());
        fold(
            &(0..len)
                .map(|t| {
                    let left = z_next[t] * (a_now[t] + beta) * (s_now[t] + gamma);
                    let right = z_now[t] * (compressed_input[t] + beta) * (compressed_table[t] + gamma);
                    (left - right) * active[t]
                })
                .collect::<Vec<_>>(),
        );
        fold(&(0..len).map(|t| l0[t] * (a_now[t] - s_now[t])).collect::<Vec<_>>());
        fold(&(0..len).map(|t| (a_now[t] - s_now[t]) * (a_now[t] - a_prev[t]) * active[t]).collect::<Vec<_>>());
    }
    acc
}
