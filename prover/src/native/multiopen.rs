//! SHPLONK multi-opening (Boneh–Drake–Fisch–Gabizon), arranged exactly as
//! halo2's KZG SHPLONK prover arranges it, so its verifiers (Rust and Solidity)
//! accept the result: queries are grouped per polynomial into point sets,
//! polynomials with equal point sets share a rotation set, challenges `y`, `v`, `u`
//! are squeezed in halo2's order, and the two commitments are computed through
//! the MSM engine.

use halo2_axiom::arithmetic::{eval_polynomial, evaluate_vanishing_polynomial, kate_division, lagrange_interpolate};
use halo2_axiom::halo2curves::bn256::{Fr, G1Affine};
use halo2_axiom::halo2curves::ff::Field;
use halo2_axiom::halo2curves::group::Curve;
use halo2_axiom::transcript::{EncodedChallenge, TranscriptWrite};
use rayon::prelude::*;

use super::engine::Engines;
use super::NativeError;

/// An opening query: polynomial `poly` (an index into the polynomial list) at
/// `point`. Two queries name the same polynomial only by the same index, as halo2
/// compares polynomials by identity.
#[derive(Clone, Copy, Debug)]
pub struct Query {
    /// Index of the polynomial.
    pub poly: usize,
    /// Evaluation point.
    pub point: Fr,
}

struct RotationSet {
    polys: Vec<usize>,
    points: Vec<Fr>,
}

fn same_set(a: &[Fr], b: &[Fr]) -> bool {
    a.len() == b.len() && a.iter().all(|p| b.contains(p))
}

fn rotation_sets(queries: &[Query]) -> (Vec<RotationSet>, Vec<Fr>) {
    let mut super_points: Vec<Fr> = Vec::new();
    let mut per_poly: Vec<(usize, Vec<Fr>)> = Vec::new();
    for q in queries {
        if !super_points.contains(&q.point) {
            super_points.push(q.point);
        }
        match per_poly.iter_mut().find(|(p, _)| *p == q.poly) {
            Some((_, points)) => {
                if !points.contains(&q.point) {
                    points.push(q.point);
                }
            }
            None => per_poly.push((q.poly, vec![q.point])),
        }
    }
    let mut sets: Vec<RotationSet> = Vec::new();
    for (poly, points) in per_poly {
        match sets.iter_mut().find(|s| same_set(&s.points, &points)) {
            Some(set) => set.polys.push(poly),
            None => sets.push(RotationSet { polys: vec![poly], points }),
        }
    }
    (sets, super_points)
}

fn add_scaled(acc: &mut Vec<Fr>, poly: &[Fr], scale: Fr) {
    if acc.len() < poly.len() {
        acc.resize(poly.len(), Fr::ZERO);
    }
    acc.par_iter_mut().zip(poly.par_iter()).for_each(|(a, p)| *a += *p * scale);
}

fn commit(engines: &Engines, g: &[G1Affine], poly: &[Fr]) -> G1Affine {
    engines.msm.msm(poly, g).to_affine()
}

/// Writes the SHPLONK opening proof of `queries` over `polys` (coefficient form,
/// at most `g.len()` coefficients each) to `transcript`.
pub fn open<E: EncodedChallenge<G1Affine>, T: TranscriptWrite<G1Affine, E>>(
    engines: &Engines,
    g: &[G1Affine],
    polys: &[&[Fr]],
    queries: &[Query],
    transcript: &mut T,
) -> Result<(), NativeError> {
    let n = g.len();
    let y = transcript.squeeze_challenge().get_scalar();
    let (sets, super_points) = rotation_sets(queries);
    // Each polynomial's low-degree equivalent r(X): interpolates its evaluations
    // on its set's points.
    let interpolations: Vec<Vec<Vec<Fr>>> = sets
        .iter()
        .map(|set| {
            set.polys
                .par_iter()
                .map(|&p| {
                    let evals: Vec<Fr> = set.points.iter().map(|&x| eval_polynomial(polys[p], x)).collect();
                    lagrange_interpolate(&set.points, &evals)
                })
                .collect()
        })
        .collect();
    let v = transcript.squeeze_challenge().get_scalar();

    // h(X) = Σ_i v^i · (Σ_j y^j (p_j − r_j)) / Z_{S_i}(X)
    let mut h = vec![Fr::ZERO; n];
    let mut v_power = Fr::ONE;
    for (set, rs) in sets.iter().zip(&interpolations) {
        let mut numerator = vec![Fr::ZERO; n];
        let mut y_power = Fr::ONE;
        for (&p, r) in set.polys.iter().zip(rs) {
            let mut diff = polys[p].to_vec();
            diff.resize(n.max(diff.len()), Fr::ZERO);
            diff.iter_mut().zip(r).for_each(|(d, r)| *d -= r);
            add_scaled(&mut numerator, &diff, y_power);
            y_power *= y;
        }
        let quotient = set.points.iter().fold(numerator, |poly, point| kate_division(&poly, *point));
        add_scaled(&mut h, &quotient, v_power);
        v_power *= v;
    }
    h.truncate(n);
    transcript.write_point(commit(engines, g, &h)).map_err(NativeError::Transcript)?;
    let u = transcript.squeeze_challenge().get_scalar();

    // L(X) = Σ_i v^i Z_{T∖S_i}(u) (Σ_j y^j (p_j − r_j(u))) − Z_T(u)·h(X)
    let mut linear = vec![Fr::ZERO; n];
    let mut v_power = Fr::ONE;
    let mut first_z = None;
    for (set, rs) in sets.iter().zip(&interpolations) {
        let others: Vec<Fr> = super_points.iter().filter(|p| !set.points.contains(p)).copied().collect();
        let z_i = evaluate_vanishing_polynomial(&others, u);
        first_z.get_or_insert(z_i);
        let mut y_power = Fr::ONE;
        for (&p, r) in set.polys.iter().zip(rs) {
            let r_at_u = eval_polynomial(r, u);
            let scale = v_power * z_i * y_power;
            add_scaled(&mut linear, polys[p], scale);
            linear[0] -= r_at_u * scale;
            y_power *= y;
        }
        v_power *= v;
    }
    let z_t = evaluate_vanishing_polynomial(&super_points, u);
    add_scaled(&mut linear, &h, -z_t);
    let mut w = kate_division(&linear, u);
    let z0_inv = Option::<Fr>::from(first_z.unwrap_or(Fr::ONE).invert())
        .ok_or_else(|| NativeError::Internal("a vanishing evaluation is zero".into()))?;
    w.par_iter_mut().for_each(|c| *c *= z0_inv);
    transcript.write_point(commit(engines, g, &w)).map_err(NativeError::Transcript)?;
    Ok(())
}
