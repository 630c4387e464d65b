//! The proof file: the SHPLONK proof bytes (EVM transcript), the public instances
//! (the model's outputs), and the digest of the circuit it was made for.

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::PrimeField;
use serde::{Deserialize, Serialize};
use zkinfer_circuits::chips::fe;

use crate::artifact::{self, ArtifactError, Kind};

/// A proof and its public inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    /// Digest of the circuit (see [`crate::vk::circuit_digest`]).
    pub circuit_digest: [u8; 32],
    /// Public instances (field elements, little-endian).
    pub instances: Vec<[u8; 32]>,
    /// The proof transcript.
    pub proof: Vec<u8>,
    /// Fixed-point scale of the outputs.
    pub scale: u32,
    /// Shapes of the model outputs the instances hold, in order.
    pub output_shapes: Vec<Vec<usize>>,
}

impl Proof {
    /// Builds a proof record from field-element instances.
    pub fn new(
        circuit_digest: [u8; 32],
        instances: &[Fr],
        proof: Vec<u8>,
        scale: u32,
        output_shapes: Vec<Vec<usize>>,
    ) -> Self {
        Proof {
            circuit_digest,
            instances: instances.iter().map(|f| f.to_repr()).collect(),
            proof,
            scale,
            output_shapes,
        }
    }

    /// The instances as field elements; `None` for a non-canonical encoding.
    pub fn instances_fr(&self) -> Option<Vec<Fr>> {
        self.instances.iter().map(|b| Option::from(Fr::from_repr(*b))).collect()
    }

    /// The outputs as signed integers at the proof's scale (instances outside
    /// `±2^126` are not model outputs and give `None`).
    pub fn outputs(&self) -> Option<Vec<i128>> {
        self.instances_fr()?
            .iter()
            .map(|f| {
                let limit = 1i128 << 126;
                let pos = u128::from_le_bytes(f.to_repr()[..16].try_into().ok()?);
                let neg = u128::from_le_bytes((-*f).to_repr()[..16].try_into().ok()?);
                let v = if fe::<Fr>(pos as i128) == *f && pos < limit as u128 {
                    pos as i128
                } else if fe::<Fr>(-(neg as i128)) == *f && neg < limit as u128 {
                    -(neg as i128)
                } else {
                    return None;
                };
                Some(v)
            })
            .collect()
    }

    /// The outputs dequantised to floats.
    pub fn outputs_f64(&self) -> Option<Vec<f64>> {
        let scale = f64::powi(2.0, self.scale as i32);
        Some(self.outputs()?.into_iter().map(|v| v as f64 / scale).collect())
    }

    /// Encodes the file.
    pub fn to_bytes(&self) -> Vec<u8> {
        artifact::encode(Kind::Proof, self)
    }

    /// Decodes and checks a file named `what`.
    pub fn from_bytes(bytes: &[u8], what: &str) -> Result<Self, ArtifactError> {
        artifact::decode(Kind::Proof, bytes, what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_round_trip_through_field_elements() {
        let vals = [0i128, 5, -5, 1 << 40, -(1 << 40)];
        let inst: Vec<Fr> = vals.iter().map(|v| fe(*v)).collect();
        let p = Proof::new([0; 32], &inst, vec![], 4, vec![vec![5]]);
        assert_eq!(p.outputs().unwrap(), vals.to_vec());
        assert_eq!(p.outputs_f64().unwrap()[1], 5.0 / 16.0);
        let back = Proof::from_bytes(&p.to_bytes(), "p").unwrap();
        assert_eq!(back, p);
    }
}
