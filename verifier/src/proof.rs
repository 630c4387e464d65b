//! The proof file: the SHPLONK proof bytes (EVM transcript), the public instances
//! (public input and output values, commitments of hashed tensors: see
//! [`zkinfer_circuits::visibility`]), and the digest of the circuit it was made for.

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::PrimeField;
use serde::{Deserialize, Serialize};
use zkinfer_circuits::chips::fe;
use zkinfer_circuits::visibility::{Exposed, InstancePart, TensorKind};

use crate::artifact::{self, ArtifactError, Kind};

/// One part of the instance layout and its instances.
type PartCells<'a> = (InstancePart, &'a [[u8; 32]]);

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
    /// Shapes of the model outputs, in order.
    pub output_shapes: Vec<Vec<usize>>,
    /// What the instances hold, in order.
    pub parts: Vec<InstancePart>,
}

impl Proof {
    /// Builds a proof record from field-element instances.
    pub fn new(
        circuit_digest: [u8; 32],
        instances: &[Fr],
        proof: Vec<u8>,
        scale: u32,
        output_shapes: Vec<Vec<usize>>,
        parts: Vec<InstancePart>,
    ) -> Self {
        Proof {
            circuit_digest,
            instances: instances.iter().map(|f| f.to_repr()).collect(),
            proof,
            scale,
            output_shapes,
            parts,
        }
    }

    /// The instances of each part, in order (`None` when the parts do not add up
    /// to the instances).
    fn split(&self) -> Option<Vec<PartCells<'_>>> {
        let mut rest = self.instances.as_slice();
        let mut out = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            if rest.len() < part.cells() {
                return None;
            }
            let (mine, tail) = rest.split_at(part.cells());
            out.push((*part, mine));
            rest = tail;
        }
        rest.is_empty().then_some(out)
    }

    /// The public values of every `public` tensor of `kind`, concatenated in order,
    /// as signed integers at the proof's scale (empty when none is public; `None`
    /// for instances that are not small signed integers).
    pub fn public_values(&self, kind: TensorKind) -> Option<Vec<i128>> {
        let mut values = Vec::new();
        for (part, cells) in self.split()? {
            if part.kind == kind && part.what == Exposed::Values {
                for bytes in cells {
                    values.push(small_integer(&Option::from(Fr::from_repr(*bytes))?)?);
                }
            }
        }
        Some(values)
    }

    /// The commitments of the `hashed` tensors: `(kind, index, Poseidon digest)`.
    pub fn commitments(&self) -> Option<Vec<(TensorKind, usize, Fr)>> {
        let mut out = Vec::new();
        for (part, cells) in self.split()? {
            if part.what == Exposed::Commitment {
                out.push((part.kind, part.index, Option::from(Fr::from_repr(*cells.first()?))?));
            }
        }
        Some(out)
    }

    /// The instances as field elements; `None` for a non-canonical encoding.
    pub fn instances_fr(&self) -> Option<Vec<Fr>> {
        self.instances.iter().map(|b| Option::from(Fr::from_repr(*b))).collect()
    }

    /// The public outputs as signed integers at the proof's scale (empty when the
    /// outputs are private or hashed; `None` for instances outside `±2^126`, which
    /// are not model outputs).
    pub fn outputs(&self) -> Option<Vec<i128>> {
        self.public_values(TensorKind::Output)
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

/// A field element as a signed integer, when it is within `±2^126`.
pub fn small_integer(f: &Fr) -> Option<i128> {
    let limit = 1u128 << 126;
    let pos = u128::from_le_bytes(f.to_repr()[..16].try_into().ok()?);
    let neg = u128::from_le_bytes((-*f).to_repr()[..16].try_into().ok()?);
    if fe::<Fr>(pos as i128) == *f && pos < limit {
        Some(pos as i128)
    } else if fe::<Fr>(-(neg as i128)) == *f && neg < limit {
        Some(-(neg as i128))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_round_trip_through_field_elements() {
        let vals = [0i128, 5, -5, 1 << 40, -(1 << 40)];
        let inst: Vec<Fr> = vals.iter().map(|v| fe(*v)).collect();
        let part = InstancePart { kind: TensorKind::Output, index: 0, len: 5, what: Exposed::Values, pack_bits: None };
        let p = Proof::new([0; 32], &inst, vec![], 4, vec![vec![5]], vec![part]);
        assert_eq!(p.outputs().unwrap(), vals.to_vec());
        assert_eq!(p.outputs_f64().unwrap()[1], 5.0 / 16.0);
        let back = Proof::from_bytes(&p.to_bytes(), "p").unwrap();
        assert_eq!(back, p);
    }
}
