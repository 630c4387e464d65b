//! The verifier's part of the KZG structured reference string: `G1`, `G2` and
//! `s·G2`, and the circuit size `k`. A few hundred bytes, so it travels with the
//! verifying key to phones and browsers.

use halo2_axiom::halo2curves::bn256::{Bn256, G1Affine, G2Affine};
use halo2_axiom::poly::kzg::commitment::ParamsKZG;
use halo2_axiom::{SerdeCurveAffine, SerdeFormat};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use sha3::{Digest, Keccak256};

use crate::artifact::{self, ArtifactError, Kind};

/// Verifier parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifierParams {
    /// Circuit size they are for.
    pub k: u32,
    /// `G1` generator of the SRS (uncompressed, checked encoding).
    pub g: Vec<u8>,
    /// `G2` generator.
    pub g2: Vec<u8>,
    /// `s·G2`.
    pub s_g2: Vec<u8>,
}

fn point_bytes<C: SerdeCurveAffine>(p: &C) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = p.write(&mut out, SerdeFormat::RawBytes);
    out
}

fn read_point<C: SerdeCurveAffine>(bytes: &[u8], name: &str) -> Result<C, String> {
    let mut r = bytes;
    let p = C::read(&mut r, SerdeFormat::RawBytes).map_err(|e| format!("{name}: {e}"))?;
    if !r.is_empty() {
        return Err(format!("{name}: {} trailing bytes", r.len()));
    }
    Ok(p)
}

impl VerifierParams {
    /// Extracts the verifier's part of full KZG parameters.
    pub fn from_kzg(params: &ParamsKZG<Bn256>) -> Self {
        use halo2_axiom::poly::commitment::{Params, ParamsProver};
        VerifierParams {
            k: params.k(),
            g: point_bytes(&params.get_g()[0]),
            g2: point_bytes(&params.g2()),
            s_g2: point_bytes(&params.s_g2()),
        }
    }

    /// Digest identifying the SRS (independent of `k`): two keys made from the same
    /// ceremony share it.
    pub fn srs_digest(&self) -> [u8; 32] {
        let mut h = Keccak256::new();
        h.update(&self.g);
        h.update(&self.g2);
        h.update(&self.s_g2);
        h.finalize().into()
    }

    /// halo2 KZG parameters usable by the verifier (only `G1[0]`, `G2`, `s·G2`).
    pub fn to_kzg(&self) -> Result<ParamsKZG<Bn256>, String> {
        let g: G1Affine = read_point(&self.g, "G1")?;
        let g2: G2Affine = read_point(&self.g2, "G2")?;
        let s_g2: G2Affine = read_point(&self.s_g2, "s·G2")?;
        if !(1..=28).contains(&self.k) {
            return Err(format!("k = {} is out of range", self.k));
        }
        // `from_parts` needs an instance to call; a k = 0 setup is two points.
        let base = ParamsKZG::<Bn256>::setup(0, ChaCha20Rng::seed_from_u64(0));
        Ok(base.from_parts(self.k, vec![g], Some(Vec::new()), g2, s_g2))
    }

    /// Encodes the file.
    pub fn to_bytes(&self) -> Vec<u8> {
        artifact::encode(Kind::VerifierParams, self)
    }

    /// Decodes and checks a file named `what`.
    pub fn from_bytes(bytes: &[u8], what: &str) -> Result<Self, ArtifactError> {
        let p: VerifierParams = artifact::decode(Kind::VerifierParams, bytes, what)?;
        p.to_kzg().map_err(|reason| ArtifactError::Corrupt {
            what: what.to_string(),
            kind: Kind::VerifierParams,
            reason,
        })?;
        Ok(p)
    }
}
