//! Ceremony SRS import: the Perpetual Powers of Tau `.ptau` format written by
//! snarkjs, and a pairing check that any imported SRS is a consistent sequence of
//! powers.
//!
//! `.ptau` layout: `"ptau"`, version (u32 LE), section count (u32 LE), then sections
//! of `type (u32 LE) | size (u64 LE) | data`. Section 1 holds the field size in
//! bytes, the base-field modulus and the power; section 2 the `τ^i·G1` points and
//! section 3 the `τ^i·G2` points, coordinates in Montgomery form, little-endian.

use std::path::Path;

use halo2_axiom::arithmetic::best_multiexp;
use halo2_axiom::halo2curves::bn256::{Bn256, Fq, Fq2, Fr, G1Affine, G2Affine, G2};
use halo2_axiom::halo2curves::ff::PrimeField;
use halo2_axiom::halo2curves::group::cofactor::CofactorGroup;
use halo2_axiom::halo2curves::group::Curve;
use halo2_axiom::halo2curves::pairing::Engine;
use halo2_axiom::halo2curves::serde::SerdeObject;
use halo2_axiom::halo2curves::CurveAffine;
use halo2_axiom::poly::commitment::ParamsProver;
use halo2_axiom::poly::kzg::commitment::ParamsKZG;
use rand::Rng;

use crate::error::{ProverError, Result};

/// BN254's base-field modulus, little-endian (what section 1 must hold).
const BN254_Q_LE: [u8; 32] = [
    0x47, 0xfd, 0x7c, 0xd8, 0x16, 0x8c, 0x20, 0x3c, 0x8d, 0xca, 0x71, 0x68, 0x91, 0x6a, 0x81, 0x97, 0x5d, 0x58, 0x81,
    0x81, 0xb6, 0x45, 0x50, 0xb8, 0x29, 0xa0, 0x31, 0xe1, 0x72, 0x4e, 0x64, 0x30,
];

/// Whether `bytes` look like a `.ptau` file.
pub fn is_ptau(bytes: &[u8]) -> bool {
    bytes.starts_with(b"ptau")
}

fn fq(bytes: &[u8]) -> Option<Fq> {
    Fq::from_raw_bytes(bytes)
}

fn g1(bytes: &[u8]) -> Option<G1Affine> {
    Option::from(G1Affine::from_xy(fq(&bytes[..32])?, fq(&bytes[32..64])?))
}

fn g2(bytes: &[u8]) -> Option<G2Affine> {
    let x = Fq2::new(fq(&bytes[..32])?, fq(&bytes[32..64])?);
    let y = Fq2::new(fq(&bytes[64..96])?, fq(&bytes[96..128])?);
    let p: G2Affine = Option::from(G2Affine::from_xy(x, y))?;
    bool::from(G2::from(p).is_torsion_free()).then_some(p)
}

/// Reads the first `2^k` powers of a `.ptau` file as KZG parameters, checking
/// every point and the consistency of the powers.
pub fn read_ptau(bytes: &[u8], path: &Path, k: u32) -> Result<ParamsKZG<Bn256>> {
    let bad = |reason: String| ProverError::Srs { path: path.to_path_buf(), reason };
    let u32_at = |at: usize| -> Option<u32> { Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?)) };
    if !is_ptau(bytes) || u32_at(4) != Some(1) {
        return Err(bad("not a version-1 .ptau file".into()));
    }
    let count = u32_at(8).ok_or_else(|| bad("truncated header".into()))?;
    let mut sections: Vec<(u32, usize, usize)> = Vec::new();
    let mut at = 12usize;
    for _ in 0..count.min(64) {
        let kind = u32_at(at).ok_or_else(|| bad("truncated section table".into()))?;
        let size = bytes
            .get(at + 4..at + 12)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .ok_or_else(|| bad("truncated section table".into()))?;
        let start = at + 12;
        let end = usize::try_from(size).ok().and_then(|s| start.checked_add(s)).filter(|e| *e <= bytes.len());
        let end = end.ok_or_else(|| bad(format!("section {kind} runs past the end of the file")))?;
        sections.push((kind, start, end));
        at = end;
    }
    let section = |kind: u32| -> Result<&[u8]> {
        sections
            .iter()
            .find(|(t, _, _)| *t == kind)
            .map(|&(_, s, e)| &bytes[s..e])
            .ok_or_else(|| bad(format!("section {kind} is missing")))
    };
    let header = section(1)?;
    if header.len() < 44 || u32::from_le_bytes([header[0], header[1], header[2], header[3]]) != 32 {
        return Err(bad("only 32-byte fields are supported".into()));
    }
    if header[4..36] != BN254_Q_LE {
        return Err(bad("the file is for another curve, not BN254 (bn128)".into()));
    }
    let power = u32::from_le_bytes([header[36], header[37], header[38], header[39]]);
    if k > power {
        return Err(bad(format!("it holds 2^{power} powers, the circuit needs k = {k}")));
    }
    let n = 1usize << k;
    let tau_g1 = section(2)?;
    let tau_g2 = section(3)?;
    if tau_g1.len() < n * 64 || tau_g2.len() < 2 * 128 {
        return Err(bad("the powers of tau sections are too short".into()));
    }
    let g: Vec<G1Affine> = (0..n)
        .map(|i| g1(&tau_g1[i * 64..(i + 1) * 64]).ok_or_else(|| bad(format!("τ^{i}·G1 is not a curve point"))))
        .collect::<Result<_>>()?;
    let g2_0 = g2(&tau_g2[..128]).ok_or_else(|| bad("G2 is not a point of the G2 subgroup".into()))?;
    let s_g2 = g2(&tau_g2[128..256]).ok_or_else(|| bad("τ·G2 is not a point of the G2 subgroup".into()))?;
    let base = ParamsKZG::<Bn256>::setup(1, rand::rngs::OsRng);
    let params = base.from_parts(k, g, None, g2_0, s_g2);
    check_powers(&params).map_err(bad)?;
    Ok(params)
}

/// Checks that `params` hold consecutive powers of one secret: the generators are
/// the standard ones, and `e(Σ rᵢ·τ^(i+1)G1, G2) = e(Σ rᵢ·τ^i G1, τG2)` for random
/// `rᵢ`.
pub fn check_powers(params: &ParamsKZG<Bn256>) -> std::result::Result<(), String> {
    let g = params.get_g();
    if g.first() != Some(&G1Affine::generator()) || params.g2() != G2Affine::generator() {
        return Err("the first powers are not the standard generators".into());
    }
    if g.len() < 2 {
        return Ok(());
    }
    let mut rng = rand::rngs::OsRng;
    let r: Vec<Fr> = (0..g.len() - 1).map(|_| Fr::from_u128(rng.gen::<u128>())).collect();
    let a = best_multiexp(&r, &g[1..]).to_affine();
    let b = best_multiexp(&r, &g[..g.len() - 1]).to_affine();
    if Bn256::pairing(&a, &params.g2()) != Bn256::pairing(&b, &params.s_g2()) {
        return Err("the points are not consecutive powers of one secret (pairing check failed)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_axiom::halo2curves::ff::Field;

    #[test]
    fn locally_generated_powers_pass_and_forged_ones_fail() {
        let params = ParamsKZG::<Bn256>::setup(4, rand::rngs::OsRng);
        check_powers(&params).unwrap();
        let mut g = params.get_g().to_vec();
        g[5] = (g[5] * Fr::random(rand::rngs::OsRng)).to_affine();
        let forged = params.from_parts(4, g, None, params.g2(), params.s_g2());
        assert!(check_powers(&forged).is_err());
    }
}
