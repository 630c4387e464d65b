//! The KZG accumulator of an aggregated proof.
//!
//! An aggregation circuit verifies its inner proofs except for their final
//! pairings, which it folds into one accumulator `(lhs, rhs)` of G1 points and
//! exposes as its first 12 public values (each coordinate as 3 limbs of 88 bits,
//! little-endian). The aggregated proof means "every inner proof verifies" only
//! together with the check `e(lhs, [1]₂) = e(rhs, [τ]₂)`, which [`check_accumulator`]
//! performs (the generated Solidity verifier does the same).

use halo2_axiom::halo2curves::bn256::{Bn256, Fq, Fr, G1Affine, G2Affine, G2Prepared};
use halo2_axiom::halo2curves::ff::PrimeField;
use halo2_axiom::halo2curves::group::Group;
use halo2_axiom::halo2curves::pairing::{MillerLoopResult, MultiMillerLoop};
use halo2_axiom::halo2curves::{Coordinates, CurveAffine};

/// Public values holding the accumulator.
pub const ACCUMULATOR_VALUES: usize = 12;
const LIMBS: usize = 3;
const LIMB_BITS: usize = 88;

/// Why an accumulator is rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccumulatorError {
    /// Fewer public values than the accumulator needs.
    #[error("an aggregated proof has at least {ACCUMULATOR_VALUES} public values (its accumulator), this one {0}")]
    Missing(usize),
    /// A limb or coordinate out of range, or a point off the curve.
    #[error("the accumulator is malformed: {0}")]
    Malformed(&'static str),
    /// The pairing check fails: some inner proof does not verify.
    #[error("the accumulator's pairing check fails: an aggregated proof does not verify")]
    Pairing,
}

fn coordinate(limbs: &[Fr]) -> Result<Fq, AccumulatorError> {
    let mut bytes = [0u8; 32];
    let mut bit = 0;
    for limb in limbs {
        let repr = limb.to_repr();
        if repr.as_ref()[11..].iter().any(|b| *b != 0) {
            return Err(AccumulatorError::Malformed("a limb wider than 88 bits"));
        }
        // 88 bits = 11 bytes, placed at bit offset `bit` (a multiple of 8).
        for (i, b) in repr.as_ref()[..11].iter().enumerate() {
            let at = bit / 8 + i;
            if at >= 32 {
                if *b != 0 {
                    return Err(AccumulatorError::Malformed("a coordinate wider than 256 bits"));
                }
                continue;
            }
            bytes[at] = *b;
        }
        bit += LIMB_BITS;
    }
    Option::from(Fq::from_repr(bytes))
        .ok_or(AccumulatorError::Malformed("a coordinate not below the base field modulus"))
}

fn point(limbs: &[Fr]) -> Result<G1Affine, AccumulatorError> {
    let x = coordinate(&limbs[..LIMBS])?;
    let y = coordinate(&limbs[LIMBS..2 * LIMBS])?;
    Option::from(G1Affine::from_xy(x, y)).ok_or(AccumulatorError::Malformed("a point not on the curve"))
}

/// Checks the accumulator in `instances[..12]` against the SRS's `[1]₂`, `[τ]₂`.
pub fn check_accumulator(instances: &[Fr], g2: G2Affine, s_g2: G2Affine) -> Result<(), AccumulatorError> {
    if instances.len() < ACCUMULATOR_VALUES {
        return Err(AccumulatorError::Missing(instances.len()));
    }
    let lhs = point(&instances[..2 * LIMBS])?;
    let rhs = point(&instances[2 * LIMBS..4 * LIMBS])?;
    let neg_s_g2 = -s_g2;
    let result = Bn256::multi_miller_loop(&[(&lhs, &G2Prepared::from(g2)), (&rhs, &G2Prepared::from(neg_s_g2))])
        .final_exponentiation();
    if bool::from(result.is_identity()) {
        Ok(())
    } else {
        Err(AccumulatorError::Pairing)
    }
}

/// The 12 public values encoding accumulator `(lhs, rhs)` (for tests and tools);
/// `None` when a point is the identity.
pub fn encode_accumulator(lhs: G1Affine, rhs: G1Affine) -> Option<Vec<Fr>> {
    let mut out = Vec::with_capacity(ACCUMULATOR_VALUES);
    for p in [lhs, rhs] {
        let c: Coordinates<G1Affine> = Option::from(p.coordinates())?;
        for v in [c.x(), c.y()] {
            let bytes = v.to_repr();
            for limb in 0..LIMBS {
                let mut le = [0u8; 32];
                let from = (limb * 11).min(32);
                let to = (limb * 11 + 11).min(32);
                le[..to - from].copy_from_slice(&bytes.as_ref()[from..to]);
                out.push(Option::from(Fr::from_repr(le))?);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_axiom::poly::commitment::ParamsProver;
    use halo2_axiom::poly::kzg::commitment::ParamsKZG;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn a_valid_accumulator_passes_and_tampered_ones_fail() {
        let params = ParamsKZG::<Bn256>::setup(4, rand_chacha::ChaCha20Rng::seed_from_u64(3));
        // (τ·G, G) satisfies e(τG, [1]) = e(G, [τ]).
        let (g, tau_g) = (params.get_g()[0], params.get_g()[1]);
        let good = encode_accumulator(tau_g, g).expect("points");
        assert_eq!(good.len(), ACCUMULATOR_VALUES);
        check_accumulator(&good, params.g2(), params.s_g2()).expect("valid accumulator");
        let swapped = encode_accumulator(g, tau_g).expect("points");
        assert_eq!(check_accumulator(&swapped, params.g2(), params.s_g2()), Err(AccumulatorError::Pairing));
        let mut off_curve = good.clone();
        off_curve[0] += Fr::from(1);
        assert!(matches!(
            check_accumulator(&off_curve, params.g2(), params.s_g2()),
            Err(AccumulatorError::Malformed(_))
        ));
        let mut wide = good.clone();
        wide[1] = -Fr::from(1);
        assert!(matches!(check_accumulator(&wide, params.g2(), params.s_g2()), Err(AccumulatorError::Malformed(_))));
        assert_eq!(check_accumulator(&good[..11], params.g2(), params.s_g2()), Err(AccumulatorError::Missing(11)));
    }
}
