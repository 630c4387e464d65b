//! The proof pipeline, step for step in halo2's transcript order.

use std::time::Instant;

use halo2_axiom::arithmetic::eval_polynomial;
use halo2_axiom::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_axiom::halo2curves::ff::{Field, PrimeField};
use halo2_axiom::halo2curves::group::Curve;
use halo2_axiom::plonk::{Any, Circuit, VerifyingKey};
use halo2_axiom::poly::commitment::{Params, ParamsProver};
use halo2_axiom::poly::kzg::commitment::ParamsKZG;
use halo2_axiom::transcript::{EncodedChallenge, TranscriptWrite};
use halo2_axiom::{SerdeCurveAffine, SerdeFormat};
use rand::RngCore;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::arguments::{lookup_product, permutation_products, permute_lookup};
use super::engine::{root_of_unity, Direction, Engines};
use super::expr::{compress, Columns, Dag};
use super::multiopen::{open, Query};
use super::quotient::{quotient, LookupPolys, QuotientInputs};
use super::synth::{synthesize, Synthesis};
use super::NativeError;

/// Seconds spent in each phase of one proof.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseTimes {
    /// Synthesis and the key-consistency check.
    pub synthesis_s: f64,
    /// Advice interpolation and commitments.
    pub advice_s: f64,
    /// Lookup permutations and products.
    pub lookups_s: f64,
    /// Permutation products.
    pub permutation_s: f64,
    /// The quotient and its commitments.
    pub quotient_s: f64,
    /// Evaluations and the multi-opening.
    pub opening_s: f64,
    /// Busy seconds inside the MSM engine (summed over concurrent calls).
    pub msm_s: f64,
    /// Busy seconds inside the NTT engine (summed over concurrent calls).
    pub ntt_s: f64,
}

fn lap(clock: &mut Instant) -> f64 {
    let elapsed = clock.elapsed().as_secs_f64();
    *clock = Instant::now();
    elapsed
}

struct Ctx<'a> {
    engines: &'a Engines,
    g: &'a [G1Affine],
    g_lagrange: Vec<G1Affine>,
    k: u32,
}

/// halo2 keeps the SRS's Lagrange bases private; they are read back from its
/// serialisation (`k`, then `n` monomial bases, then `n` Lagrange bases).
fn lagrange_bases(params: &ParamsKZG<Bn256>) -> Result<Vec<G1Affine>, NativeError> {
    let mut bytes = Vec::new();
    params.write_custom(&mut bytes, SerdeFormat::RawBytesUnchecked).map_err(NativeError::Transcript)?;
    let n = params.n() as usize;
    let mut reader = &bytes[4..];
    let mut read = || G1Affine::read(&mut reader, SerdeFormat::RawBytesUnchecked).map_err(NativeError::Transcript);
    for _ in 0..n {
        read()?;
    }
    (0..n).map(|_| read()).collect()
}

impl Ctx<'_> {
    fn to_coeff(&self, values: &[Fr]) -> Vec<Fr> {
        let mut coeffs = values.to_vec();
        self.engines.ntt.ntt(&mut coeffs, self.k, Direction::Inverse);
        coeffs
    }

    fn to_coeff_all(&self, polys: &mut [Vec<Fr>]) {
        polys.par_iter_mut().for_each(|values| self.engines.ntt.ntt(values, self.k, Direction::Inverse));
    }

    fn commit(&self, coeffs: &[Fr]) -> G1Affine {
        self.engines.msm.msm(coeffs, self.g).to_affine()
    }

    /// Commits to Lagrange values directly (witness values are small integers,
    /// which the bucket MSM handles much faster than full-width coefficients).
    fn write_lagrange<E: EncodedChallenge<G1Affine>, T: TranscriptWrite<G1Affine, E>>(
        &self,
        transcript: &mut T,
        values: &[Fr],
    ) -> Result<(), NativeError> {
        let point = match fold_signs(values, &self.g_lagrange) {
            Some((scalars, bases)) => self.engines.msm.msm(&scalars, &bases),
            None => self.engines.msm.msm(values, &self.g_lagrange),
        };
        transcript.write_point(point.to_affine()).map_err(NativeError::Transcript)
    }

    fn write<E: EncodedChallenge<G1Affine>, T: TranscriptWrite<G1Affine, E>>(
        &self,
        transcript: &mut T,
        coeffs: &[Fr],
    ) -> Result<(), NativeError> {
        transcript.write_point(self.commit(coeffs)).map_err(NativeError::Transcript)
    }
}

/// Bits of the scalar's canonical integer.
fn bit_length(value: &Fr) -> u32 {
    let repr = value.to_repr();
    let bytes = repr.as_ref();
    bytes.iter().rposition(|b| *b != 0).map_or(0, |i| 8 * i as u32 + (8 - bytes[i].leading_zeros()))
}

/// Witness values are small integers of either sign; a negative one is `p − v`,
/// a full-width scalar. `v·G = |v|·(−G)` turns every one into a small scalar, which
/// the bucket MSM handles several times faster. Returns the folded scalars and
/// bases when that leaves most of them at most 128 bits wide (blinding rows stay
/// random, and random columns are left alone).
fn fold_signs(values: &[Fr], bases: &[G1Affine]) -> Option<(Vec<Fr>, Vec<G1Affine>)> {
    const NARROW: u32 = 128;
    let folded: Vec<(Fr, bool)> = values
        .par_iter()
        .map(|v| {
            let negated = -*v;
            if bit_length(&negated) < bit_length(v) {
                (negated, true)
            } else {
                (*v, false)
            }
        })
        .collect();
    let narrow = folded.par_iter().filter(|(v, _)| bit_length(v) <= NARROW).count();
    if 2 * narrow < folded.len() {
        return None;
    }
    let signed_bases =
        folded.par_iter().zip(bases).map(|((_, negate), base)| if *negate { -*base } else { *base }).collect();
    Some((folded.into_iter().map(|(v, _)| v).collect(), signed_bases))
}

fn random_combination(polys: &[Vec<Fr>], weights: &[Fr]) -> Vec<Fr> {
    let n = polys.first().map_or(0, Vec::len);
    (0..n).into_par_iter().map(|i| polys.iter().zip(weights).map(|(p, w)| p[i] * w).sum()).collect()
}

/// Checks, with one MSM per kind, that the synthesized fixed columns and
/// permutation (Lagrange values) are the ones the verifying key commits to: for
/// random weights `w_i`, `Commit(Σ w_i·p_i) = Σ w_i·C_i`.
fn check_key(ctx: &Ctx<'_>, expected: &[G1Affine], polys: &[Vec<Fr>], what: &str) -> Result<(), NativeError> {
    if expected.len() != polys.len() {
        return Err(NativeError::Circuit(format!(
            "the circuit has {} {what}, the verifying key {}",
            polys.len(),
            expected.len()
        )));
    }
    if polys.is_empty() {
        return Ok(());
    }
    let weights: Vec<Fr> = (0..polys.len()).map(|_| Fr::random(rand::rngs::OsRng)).collect();
    let combined = ctx.engines.msm.msm(&random_combination(polys, &weights), &ctx.g_lagrange).to_affine();
    let claimed = ctx.engines.msm.msm(&weights, expected).to_affine();
    if combined != claimed {
        return Err(NativeError::Circuit(format!(
            "the circuit's {what} differ from the verifying key's: the key was made for another circuit"
        )));
    }
    Ok(())
}

fn rotate(omega: Fr, x: Fr, rotation: i32) -> Fr {
    if rotation >= 0 {
        x * omega.pow_vartime([rotation as u64])
    } else {
        let inv: Fr = Option::from(omega.invert()).unwrap_or(Fr::ONE);
        x * inv.pow_vartime([rotation.unsigned_abs() as u64])
    }
}

fn scalar<E: EncodedChallenge<G1Affine>, T: TranscriptWrite<G1Affine, E>>(
    transcript: &mut T,
    value: Fr,
) -> Result<(), NativeError> {
    transcript.write_scalar(value).map_err(NativeError::Transcript)
}

/// Proves `circuit` with `instances` (one slice per instance column) against
/// `vk`, writing the proof to `transcript`. The circuit is synthesized once; its
/// fixed columns and copy constraints are checked against the key.
pub fn create_proof<C, E, T>(
    params: &ParamsKZG<Bn256>,
    vk: &VerifyingKey<G1Affine>,
    circuit: C,
    instances: &[&[Fr]],
    rng: &mut impl RngCore,
    transcript: &mut T,
    engines: &Engines,
) -> Result<PhaseTimes, NativeError>
where
    C: Circuit<Fr>,
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    let mut times = PhaseTimes::default();
    let mut clock = Instant::now();
    let (engines, engine_clock) = engines.timed();
    let engines = &engines;
    let k = vk.get_domain().k();
    if params.k() != k {
        return Err(NativeError::Circuit(format!("the parameters are for k = {}, the key for k = {k}", params.k())));
    }
    let n = 1usize << k;
    let ctx = Ctx { engines, g: &params.get_g()[..n], g_lagrange: lagrange_bases(params)?, k };
    let Synthesis { cs: synthesized_cs, advice, fixed, copies } = synthesize(&circuit, k, instances)?;
    // The witness lives in the circuit: free it before the polynomials grow.
    drop(circuit);
    let cs = vk.cs();
    if format!("{:?}", synthesized_cs.pinned()) != format!("{:?}", cs.pinned()) {
        return Err(NativeError::Circuit("the circuit's constraint system differs from the verifying key's".into()));
    }
    drop(synthesized_cs);
    if cs.degree() < 3 {
        return Err(NativeError::Unsupported("constraint systems of degree below 3".into()));
    }
    let blinding = cs.blinding_factors();
    let usable = n - (blinding + 1);
    if instances.len() != cs.num_instance_columns() {
        return Err(NativeError::Circuit(format!(
            "{} instance columns given, the circuit has {}",
            instances.len(),
            cs.num_instance_columns()
        )));
    }
    if let Some(long) = instances.iter().find(|v| v.len() > usable) {
        return Err(NativeError::Circuit(format!("{} instance values do not fit {usable} usable rows", long.len())));
    }
    // Every column is held in one basis at a time: Lagrange values while the
    // arguments are built, then coefficients (converted in place).
    let mut fixed = fixed;
    check_key(&ctx, vk.fixed_commitments(), &fixed, "fixed columns")?;
    let mut sigma = copies.sigma_values(k);
    drop(copies);
    check_key(&ctx, vk.permutation().commitments(), &sigma, "copy constraints")?;
    times.synthesis_s = lap(&mut clock);

    vk.hash_into(transcript).map_err(|e| NativeError::Transcript(std::io::Error::other(format!("{e:?}"))))?;
    for values in instances {
        for value in values.iter() {
            transcript.common_scalar(*value).map_err(NativeError::Transcript)?;
        }
    }
    let mut instance: Vec<Vec<Fr>> = instances
        .iter()
        .map(|values| {
            let mut column = values.to_vec();
            column.resize(n, Fr::ZERO);
            column
        })
        .collect();

    let mut advice = advice;
    for column in &mut advice {
        for cell in &mut column[usable..] {
            *cell = Fr::random(&mut *rng);
        }
    }
    // halo2 draws a (for KZG unused) blind per column next; drawing it too keeps
    // the random stream, and so the advice commitments, equal to halo2's for the
    // same seed.
    for _ in 0..advice.len() {
        let _ = Fr::random(&mut *rng);
    }
    for values in &advice {
        ctx.write_lagrange(transcript, values)?;
    }
    times.advice_s = lap(&mut clock);

    // Lookups: permuted columns.
    let theta = transcript.squeeze_challenge().get_scalar();
    let lagrange = Columns { fixed: &fixed, advice: &advice, instance: &instance };
    let compressed_all = |dag: &Dag, roots: &[usize]| -> Vec<Fr> {
        const BLOCK: usize = 1 << 12;
        let blocks: Vec<Vec<Fr>> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .map_init(Vec::new, |scratch, b| {
                let len = BLOCK.min(n - b * BLOCK);
                dag.evaluate(&lagrange, b * BLOCK, len, scratch);
                compress(roots, theta, scratch, len)
            })
            .collect();
        blocks.concat()
    };
    let mut lookups = Vec::new();
    for lookup in cs.lookups() {
        let mut dag = Dag::new();
        let input_roots = lookup.input_expressions().iter().map(|e| dag.add(e)).collect::<Result<Vec<_>, _>>()?;
        let table_roots = lookup.table_expressions().iter().map(|e| dag.add(e)).collect::<Result<Vec<_>, _>>()?;
        let input = compressed_all(&dag, &input_roots);
        let table = compressed_all(&dag, &table_roots);
        let (a, s) = permute_lookup(lookup.name(), &input, &table, usable, rng)?;
        ctx.write_lagrange(transcript, &a)?;
        ctx.write_lagrange(transcript, &s)?;
        lookups.push((input, table, a, s));
    }
    times.lookups_s = lap(&mut clock);

    // Permutation products.
    let beta = transcript.squeeze_challenge().get_scalar();
    let gamma = transcript.squeeze_challenge().get_scalar();
    let permuted_values: Vec<&[Fr]> = cs
        .permutation()
        .get_columns()
        .iter()
        .map(|column| match column.column_type() {
            Any::Advice(_) => &advice[column.index()][..],
            Any::Fixed => &fixed[column.index()][..],
            Any::Instance => &instance[column.index()][..],
        })
        .collect();
    let chunk_len = cs.degree() - 2;
    let mut products = permutation_products(&permuted_values, &sigma, chunk_len, beta, gamma, blinding, rng);
    for z in &products {
        ctx.write_lagrange(transcript, z)?;
    }
    ctx.to_coeff_all(&mut products);
    ctx.to_coeff_all(&mut sigma);
    let product_coeff = products;
    let sigma_coeff = sigma;
    times.permutation_s = lap(&mut clock);

    // Lookup products.
    let mut lookup_polys = Vec::with_capacity(lookups.len());
    for (input, table, a, s) in lookups {
        let z = lookup_product(&input, &table, &a, &s, beta, gamma, blinding, rng);
        drop((input, table));
        ctx.write_lagrange(transcript, &z)?;
        let mut polys = [a, s, z];
        ctx.to_coeff_all(&mut polys);
        let [permuted_input, permuted_table, product] = polys;
        lookup_polys.push(LookupPolys { permuted_input, permuted_table, product });
    }
    ctx.to_coeff_all(&mut advice);
    ctx.to_coeff_all(&mut fixed);
    ctx.to_coeff_all(&mut instance);
    let (advice_coeff, fixed_coeff, instance_coeff) = (advice, fixed, instance);
    times.lookups_s += lap(&mut clock);

    // Vanishing argument.
    let random_poly: Vec<Fr> = (0..n).map(|_| Fr::random(&mut *rng)).collect();
    ctx.write(transcript, &random_poly)?;
    let y = transcript.squeeze_challenge().get_scalar();
    let indicator = |rows: &[usize], value: Fr| {
        let mut v = vec![Fr::ZERO; n];
        rows.iter().for_each(|&r| v[r] = value);
        ctx.to_coeff(&v)
    };
    let l0 = indicator(&[0], Fr::ONE);
    let l_last = indicator(&[usable], Fr::ONE);
    let mut active = vec![Fr::ONE; n];
    active[usable..].iter_mut().for_each(|v| *v = Fr::ZERO);
    let l_active = ctx.to_coeff(&active);
    let pieces = quotient(
        &QuotientInputs {
            cs,
            k,
            fixed: &fixed_coeff,
            advice: &advice_coeff,
            instance: &instance_coeff,
            sigma: &sigma_coeff,
            permutation_products: &product_coeff,
            lookups: &lookup_polys,
            l0: &l0,
            l_last: &l_last,
            l_active: &l_active,
            theta,
            beta,
            gamma,
            y,
        },
        engines,
    )?;
    for piece in &pieces {
        ctx.write(transcript, piece)?;
    }
    times.quotient_s = lap(&mut clock);

    // Evaluations.
    let x = transcript.squeeze_challenge().get_scalar();
    let omega = root_of_unity(k);
    let at = |rotation: i32| rotate(omega, x, rotation);
    for (column, rotation) in cs.advice_queries() {
        scalar(transcript, eval_polynomial(&advice_coeff[column.index()], at(rotation.0)))?;
    }
    for (column, rotation) in cs.fixed_queries() {
        scalar(transcript, eval_polynomial(&fixed_coeff[column.index()], at(rotation.0)))?;
    }
    scalar(transcript, eval_polynomial(&random_poly, x))?;
    for sigma in &sigma_coeff {
        scalar(transcript, eval_polynomial(sigma, x))?;
    }
    let last_rotation = -(blinding as i32 + 1);
    for (i, z) in product_coeff.iter().enumerate() {
        scalar(transcript, eval_polynomial(z, x))?;
        scalar(transcript, eval_polynomial(z, at(1)))?;
        if i + 1 < product_coeff.len() {
            scalar(transcript, eval_polynomial(z, at(last_rotation)))?;
        }
    }
    for l in &lookup_polys {
        scalar(transcript, eval_polynomial(&l.product, x))?;
        scalar(transcript, eval_polynomial(&l.product, at(1)))?;
        scalar(transcript, eval_polynomial(&l.permuted_input, x))?;
        scalar(transcript, eval_polynomial(&l.permuted_input, at(-1)))?;
        scalar(transcript, eval_polynomial(&l.permuted_table, x))?;
    }

    // The combined quotient h(X) = Σ x^{n·i} h_i(X).
    let xn = x.pow_vartime([n as u64]);
    let h = pieces
        .iter()
        .rev()
        .fold(vec![Fr::ZERO; n], |acc, piece| acc.iter().zip(piece).map(|(a, p)| *a * xn + p).collect());
    drop(pieces);

    // Opening queries, in halo2's order.
    let mut polys: Vec<&[Fr]> = Vec::new();
    let advice_base = polys.len();
    polys.extend(advice_coeff.iter().map(Vec::as_slice));
    let product_base = polys.len();
    polys.extend(product_coeff.iter().map(Vec::as_slice));
    let lookup_base = polys.len();
    for l in &lookup_polys {
        polys.extend([l.product.as_slice(), l.permuted_input.as_slice(), l.permuted_table.as_slice()]);
    }
    let fixed_base = polys.len();
    polys.extend(fixed_coeff.iter().map(Vec::as_slice));
    let sigma_base = polys.len();
    polys.extend(sigma_coeff.iter().map(Vec::as_slice));
    let h_index = polys.len();
    polys.push(&h);
    let random_index = polys.len();
    polys.push(&random_poly);

    let mut queries = Vec::new();
    let mut add = |poly: usize, point: Fr| queries.push(Query { poly, point });
    for (column, rotation) in cs.advice_queries() {
        add(advice_base + column.index(), at(rotation.0));
    }
    for i in 0..product_coeff.len() {
        add(product_base + i, x);
        add(product_base + i, at(1));
    }
    for i in (0..product_coeff.len()).rev().skip(1) {
        add(product_base + i, at(last_rotation));
    }
    for i in 0..lookup_polys.len() {
        let (z, a, s) = (lookup_base + 3 * i, lookup_base + 3 * i + 1, lookup_base + 3 * i + 2);
        add(z, x);
        add(a, x);
        add(s, x);
        add(a, at(-1));
        add(z, at(1));
    }
    for (column, rotation) in cs.fixed_queries() {
        add(fixed_base + column.index(), at(rotation.0));
    }
    for i in 0..sigma_coeff.len() {
        add(sigma_base + i, x);
    }
    add(h_index, x);
    add(random_index, x);
    open(engines, ctx.g, &polys, &queries, transcript)?;
    times.opening_s = lap(&mut clock);
    times.msm_s = engine_clock.msm_s();
    times.ntt_s = engine_clock.ntt_s();
    Ok(times)
}
