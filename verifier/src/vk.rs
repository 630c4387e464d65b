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

/// Most fixed polynomials a circuit of `shape` can have: its fixed columns plus one
/// per selector (before compression).
pub fn max_fixed_polys(shape: &CircuitShape) -> usize {
    shape.fixed_columns() + shape.selectors()
}

/// Checks the header of halo2's verifying-key encoding before halo2 parses it:
/// version byte, circuit size equal to the shape's (halo2 allocates `2^k`-sized
/// selector tables from it) and a fixed-column count the shape allows.
pub fn check_halo2_header(bytes: &[u8], shape: &CircuitShape) -> Result<(), String> {
    let k = shape.k;
    if bytes.len() < 10 {
        return Err("the halo2 verifying key is truncated".into());
    }
    if bytes[0] != 0x02 {
        return Err(format!("unknown halo2 verifying-key version {}", bytes[0]));
    }
    let key_k = u32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    if key_k != k {
        return Err(format!("the halo2 key is for k = {key_k} but the circuit shape says k = {k}"));
    }
    if bytes[5] > 1 {
        return Err("invalid selector-compression flag".into());
    }
    let fixed = u32::from_le_bytes([bytes[6], bytes[7], bytes[8], bytes[9]]) as usize;
    if fixed > max_fixed_polys(shape) {
        return Err(format!("{fixed} fixed columns, more than the circuit shape allows"));
    }
    Ok(())
}

/// Parses halo2's verifying key from the front of `bytes` (after
/// [`check_halo2_header`]); returns it and the number of bytes it took.
pub fn read_halo2_vk(bytes: &[u8], shape: &CircuitShape) -> Result<(Halo2Vk<G1Affine>, usize), String> {
    check_halo2_header(bytes, shape)?;
    let mut reader = std::io::Cursor::new(bytes);
    let vk = Halo2Vk::<G1Affine>::read::<_, ModelCircuit>(&mut reader, SerdeFormat::RawBytes, shape.clone())
        .map_err(|e| format!("invalid halo2 verifying key: {e}"))?;
    Ok((vk, reader.position() as usize))
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
        let (vk, used) = read_halo2_vk(&body.halo2, &body.shape).map_err(&corrupt)?;
        if used != body.halo2.len() {
            return Err(corrupt(format!("{} unexpected bytes after the halo2 verifying key", body.halo2.len() - used)));
        }
        Ok(VerifyingKey { shape: body.shape, model: body.model, srs_digest: body.srs_digest, vk })
    }
}
