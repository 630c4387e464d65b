//! The verifying-key file: the circuit shape (from which the constraint system is
//! rebuilt), model metadata, digests binding it to its circuit and SRS, and
//! halo2's verifying key.

use halo2_axiom::halo2curves::bn256::{Fr, G1Affine};
use halo2_axiom::halo2curves::ff::PrimeField;
use halo2_axiom::plonk::VerifyingKey as Halo2Vk;
use halo2_axiom::SerdeFormat;
use serde::{Deserialize, Serialize};
use zkinfer_circuits::{CircuitShape, ModelCircuit};

use crate::artifact::{self, ArtifactError, Kind};
use crate::model_info::ModelInfo;

/// The serialised form.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct VkBody {
    shape: CircuitShape,
    model: ModelInfo,
    srs_digest: [u8; 32],
    halo2: Vec<u8>,
}

/// A verifying key with its metadata.
#[derive(Clone, Debug)]
pub struct VerifyingKey {
    /// Circuit shape.
    pub shape: CircuitShape,
    /// Model metadata.
    pub model: ModelInfo,
    /// Digest of the SRS the key was made with.
    pub srs_digest: [u8; 32],
    /// halo2's key.
    pub vk: Halo2Vk<G1Affine>,
}

/// A circuit's identity: halo2's hash of its pinned verifying key (domain,
/// constraint system, fixed and permutation commitments).
pub fn circuit_digest(vk: &Halo2Vk<G1Affine>) -> [u8; 32] {
    let repr: Fr = vk.transcript_repr();
    repr.to_repr()
}

impl VerifyingKey {
    /// The circuit digest.
    pub fn digest(&self) -> [u8; 32] {
        circuit_digest(&self.vk)
    }

    /// Encodes the file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = VkBody {
            shape: self.shape.clone(),
            model: self.model.clone(),
            srs_digest: self.srs_digest,
            halo2: self.vk.to_bytes(SerdeFormat::RawBytes),
        };
        artifact::encode(Kind::VerifyingKey, &body)
    }

    /// Decodes and checks a file named `what`.
    pub fn from_bytes(bytes: &[u8], what: &str) -> Result<Self, ArtifactError> {
        let body: VkBody = artifact::decode(Kind::VerifyingKey, bytes, what)?;
        let corrupt =
            |reason: String| ArtifactError::Corrupt { what: what.to_string(), kind: Kind::VerifyingKey, reason };
        body.shape.validate().map_err(|e| corrupt(format!("invalid circuit shape: {e}")))?;
        let vk =
            Halo2Vk::<G1Affine>::from_bytes::<ModelCircuit>(&body.halo2, SerdeFormat::RawBytes, body.shape.clone())
                .map_err(|e| corrupt(format!("invalid halo2 verifying key: {e}")))?;
        if vk.get_domain().k() != body.shape.k {
            return Err(corrupt("halo2 key size does not match its shape".into()));
        }
        Ok(VerifyingKey { shape: body.shape, model: body.model, srs_digest: body.srs_digest, vk })
    }
}
