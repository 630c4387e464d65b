//! Proving: witness from the integer reference, then halo2's SHPLONK prover with the
//! EVM-compatible Keccak transcript.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use halo2_axiom::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_axiom::plonk::create_proof;
use halo2_axiom::poly::commitment::Params;
use halo2_axiom::poly::kzg::commitment::{KZGCommitmentScheme, ParamsKZG};
use halo2_axiom::poly::kzg::multiopen::ProverSHPLONK;
use halo2_axiom::transcript::{EncodedChallenge, TranscriptWrite, TranscriptWriterBuffer};
use zkinfer_circuits::{ModelCircuit, Witness};
use zkinfer_models::eval::evaluate;
use zkinfer_models::quantize_inputs;
use zkinfer_verifier::transcript::{ChallengeEvm, EvmTranscript};
use zkinfer_verifier::Proof;

use crate::compiled::CompiledModel;
use crate::error::{ProverError, Result};
use crate::keys::{KeyMaterial, ProvingKey};
use crate::native::{self, Engines, PhaseTimes};
use serde::{Deserialize, Serialize};

/// Quantises `inputs`, runs the integer reference and builds the witness. Fails with
/// the node name when a value leaves the circuit's range.
pub fn witness(compiled: &CompiledModel, inputs: &[Vec<f64>]) -> Result<Witness> {
    let q = quantize_inputs(inputs, compiled.graph.scale)?;
    let trace = evaluate(&compiled.graph, &q)?;
    Ok(Witness::generate(&compiled.program(), &compiled.shape, trace)?)
}

/// Checks that the key, model and parameters belong together.
pub fn check_compatible(compiled: &CompiledModel, pk: &ProvingKey, params: &ParamsKZG<Bn256>) -> Result<()> {
    if pk.model_digest != compiled.digest() {
        return Err(ProverError::Mismatch(
            "the proving key was made for a different compiled model\n  hint: run `zkinfer setup` on this compiled model".into(),
        ));
    }
    if params.k() != pk.shape.k {
        return Err(ProverError::Mismatch(format!(
            "the SRS is for k = {} but the key needs k = {}",
            params.k(),
            pk.shape.k
        )));
    }
    if zkinfer_verifier::VerifierParams::from_kzg(params).srs_digest() != pk.srs_digest {
        return Err(ProverError::Mismatch(
            "the SRS differs from the one the proving key was made with\n  hint: use the same --srs (or SRS cache) as `zkinfer setup`".into(),
        ));
    }
    Ok(())
}

/// Which prover core makes a proof. Both write the same proof format.
///
/// The default is the native core: it is the faster one on the benchmark
/// (docs/benchmarks.md, "The native prover core"); halo2-axiom's stays available
/// while the native one proves itself as the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProverKind {
    /// halo2-axiom's `create_proof`.
    Halo2,
    /// zkinfer's own core ([`crate::native`]): MSM/NTT through the engine seam, a
    /// proving key that is only the verifying key.
    #[default]
    Native,
}

impl ProverKind {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            ProverKind::Halo2 => "halo2",
            ProverKind::Native => "native",
        }
    }
}

impl std::str::FromStr for ProverKind {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "halo2" => Ok(ProverKind::Halo2),
            "native" => Ok(ProverKind::Native),
            other => Err(format!("unknown prover \"{other}\"; use native or halo2")),
        }
    }
}

/// Proves `witness` with the chosen core; the native core runs on `engines`.
/// Returns the proof and, for the native core, its phase times.
pub fn prove_with(
    kind: ProverKind,
    compiled: &CompiledModel,
    pk: &ProvingKey,
    params: &ParamsKZG<Bn256>,
    witness: Witness,
    engines: &Engines,
) -> Result<(Proof, Option<PhaseTimes>)> {
    match kind {
        ProverKind::Halo2 => Ok((prove(compiled, pk, params, witness)?, None)),
        ProverKind::Native => {
            let (proof, times) = prove_native(compiled, pk, params, witness, engines)?;
            Ok((proof, Some(times)))
        }
    }
}

/// Proves `witness` with zkinfer's native prover core. Only the verifying key of
/// `pk` is used.
pub fn prove_native(
    compiled: &CompiledModel,
    pk: &ProvingKey,
    params: &ParamsKZG<Bn256>,
    witness: Witness,
    engines: &Engines,
) -> Result<(Proof, PhaseTimes)> {
    let mut transcript = EvmTranscript::<Vec<u8>>::init(Vec::new());
    let (instances, times) = prove_native_into(compiled, pk, params, witness, engines, &mut transcript)?;
    Ok((finish(compiled, pk, &instances, transcript.finalize()), times))
}

/// Proves `witness` with the native core into `transcript` (any Fiat–Shamir
/// transcript: the EVM one for zkinfer proofs, the Poseidon one for aggregation);
/// returns the public values and the phase times.
pub fn prove_native_into<E, T>(
    compiled: &CompiledModel,
    pk: &ProvingKey,
    params: &ParamsKZG<Bn256>,
    witness: Witness,
    engines: &Engines,
    transcript: &mut T,
) -> Result<(Vec<Fr>, PhaseTimes)>
where
    E: EncodedChallenge<G1Affine>,
    T: TranscriptWrite<G1Affine, E>,
{
    check_compatible(compiled, pk, params)?;
    let (instances, circuit) = circuit_of(compiled, witness);
    let times = native::create_proof(
        params,
        pk.halo2_vk(),
        circuit,
        &[&instances],
        &mut rand::rngs::OsRng,
        transcript,
        engines,
    )?;
    Ok((instances, times))
}

/// The public values of `witness` and the circuit that proves it.
fn circuit_of(compiled: &CompiledModel, witness: Witness) -> (Vec<Fr>, ModelCircuit) {
    let instances = witness.instances();
    (instances, ModelCircuit::new(compiled.shape.clone(), compiled.program()).with_witness(Arc::new(witness)))
}

fn finish(compiled: &CompiledModel, pk: &ProvingKey, instances: &[Fr], bytes: Vec<u8>) -> Proof {
    let digest = zkinfer_verifier::vk::circuit_digest(pk.halo2_vk());
    let shapes = compiled.model.output_shapes.clone();
    let parts = zkinfer_circuits::plan::graph_instances(&compiled.graph, &compiled.shape.visibility);
    Proof::new(digest, instances, bytes, compiled.graph.scale, shapes, parts)
}

/// Proves `witness` for the compiled model with key `pk` (halo2-axiom's prover).
pub fn prove(compiled: &CompiledModel, pk: &ProvingKey, params: &ParamsKZG<Bn256>, witness: Witness) -> Result<Proof> {
    check_compatible(compiled, pk, params)?;
    let KeyMaterial::Halo2(halo2_pk) = &pk.key else {
        return Err(ProverError::Mismatch(
            "this proving key holds only the verifying key (it was made for the native prover)\n  hint: prove with --prover native, or run `zkinfer setup --prover halo2`".into(),
        ));
    };
    let (instances, circuit) = circuit_of(compiled, witness);
    let mut transcript = EvmTranscript::<Vec<u8>>::init(Vec::new());
    let result = catch_unwind(AssertUnwindSafe(|| {
        create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, ChallengeEvm, _, _, _>(
            params,
            halo2_pk,
            &[circuit],
            &[&[&instances]],
            rand::rngs::OsRng,
            &mut transcript,
        )
    }))
    .map_err(|_| ProverError::Halo2 { stage: "proving", message: "internal panic in halo2".into() })?;
    result.map_err(|e| ProverError::Halo2 { stage: "proving", message: format!("{e:?}") })?;
    Ok(finish(compiled, pk, &instances, transcript.finalize()))
}
