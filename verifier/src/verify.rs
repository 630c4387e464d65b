//! Verification: metadata checks that give precise errors, then halo2's SHPLONK
//! verifier with the EVM transcript.

use halo2_axiom::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_axiom::plonk::{verify_proof, VerifyingKey as Halo2Vk};
use halo2_axiom::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_axiom::poly::kzg::multiopen::VerifierSHPLONK;
use halo2_axiom::poly::kzg::strategy::SingleStrategy;

use crate::artifact::hex;
use crate::params::VerifierParams;
use crate::proof::Proof;
use crate::transcript::EvmTranscript;
use crate::vk::VerifyingKey;

/// Why a proof is not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    /// The proof names another circuit.
    #[error("the proof was made for a different circuit (circuit digest {proof}) than this verifying key ({vk})\n  hint: use the verifying key from the same `zkinfer setup` as the proving key that made the proof")]
    CircuitMismatch {
        /// Digest in the proof, hex.
        proof: String,
        /// Digest of the verifying key, hex.
        vk: String,
    },
    /// The verifier parameters are for another SRS or size.
    #[error("the verifier parameters do not match the verifying key: {0}\n  hint: use the verifier parameters written by the same `zkinfer setup`")]
    ParamsMismatch(String),
    /// Wrong number of public values.
    #[error("the proof carries {got} public values but the circuit has {expected}")]
    InstanceCount {
        /// Circuit's count.
        expected: usize,
        /// Proof's count.
        got: usize,
    },
    /// The proof's scale, output shapes or instance layout differ from the key's.
    #[error("the proof's output scale, shapes or public-value layout differ from the verifying key's (the proof file was edited or belongs to another model)")]
    MetadataMismatch,
    /// A public value is not a field element.
    #[error("a public value in the proof is not a valid field element")]
    BadInstance,
    /// The proof does not verify.
    #[error("the proof is invalid: {0}")]
    Rejected(String),
}

/// Verifies `proof` against `vk` and `params`, checking first that all three
/// belong together.
pub fn verify(vk: &VerifyingKey, params: &VerifierParams, proof: &Proof) -> Result<(), VerifyError> {
    let digest = vk.digest();
    if proof.circuit_digest != digest {
        return Err(VerifyError::CircuitMismatch { proof: hex(&proof.circuit_digest), vk: hex(&digest) });
    }
    if params.srs_digest() != vk.srs_digest {
        return Err(VerifyError::ParamsMismatch("they come from another SRS".into()));
    }
    if params.k != vk.shape.k {
        return Err(VerifyError::ParamsMismatch(format!(
            "they are for k = {}, the circuit has k = {}",
            params.k, vk.shape.k
        )));
    }
    // The proof file's metadata must agree with the key: outputs are interpreted
    // with the key's scale and shapes, which the proof alone does not bind.
    if proof.scale != vk.model.scale || proof.output_shapes != vk.model.output_shapes {
        return Err(VerifyError::MetadataMismatch);
    }
    let lens = |shapes: &[Vec<usize>]| shapes.iter().map(|s| s.iter().product()).collect::<Vec<usize>>();
    let parts =
        vk.shape.visibility.instances(&lens(&vk.model.input_shapes), &lens(&vk.model.output_shapes), vk.model.weights);
    if proof.parts != parts {
        return Err(VerifyError::MetadataMismatch);
    }
    let instances = proof.instances_fr().ok_or(VerifyError::BadInstance)?;
    if instances.len() != vk.shape.instances as usize {
        return Err(VerifyError::InstanceCount { expected: vk.shape.instances as usize, got: instances.len() });
    }
    let kzg = params.to_kzg().map_err(VerifyError::ParamsMismatch)?;
    verify_raw(&kzg, &vk.vk, &instances, &proof.proof)
}

/// halo2 verification alone: no metadata checks. The whole proof must be consumed.
pub fn verify_raw(
    params: &ParamsKZG<Bn256>,
    vk: &Halo2Vk<G1Affine>,
    instances: &[Fr],
    proof: &[u8],
) -> Result<(), VerifyError> {
    let mut transcript = EvmTranscript::new(proof);
    verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, _>(
        params,
        vk,
        SingleStrategy::new(params),
        &[&[instances]],
        &mut transcript,
    )
    .map_err(|e| VerifyError::Rejected(format!("{e:?}")))?;
    let rest = transcript.into_inner();
    if !rest.is_empty() {
        return Err(VerifyError::Rejected(format!("{} unexpected bytes after the proof", rest.len())));
    }
    Ok(())
}
