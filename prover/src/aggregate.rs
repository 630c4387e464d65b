//! Aggregation of a segment chain into one proof, with snark-verifier's halo2
//! aggregation circuit (SHPLONK accumulation).
//!
//! 1. Every segment is proven again with the native prover over a **Poseidon**
//!    transcript ([`segment_snark`]): the aggregation circuit re-runs the
//!    verifier's transcript in-circuit, where Keccak would be far too costly.
//! 2. [`aggregate`] builds the circuit that verifies all of them (deferring the
//!    pairings into one KZG accumulator), **constrains every chain link inside the
//!    circuit** (segment `i`'s output commitment equals segment `i + 1`'s input
//!    commitment), exposes the accumulator and every segment's public values, and
//!    proves it with the EVM (Keccak) transcript.
//!
//! The result is checked by `zkinfer_verifier::aggregate::verify_aggregate` (the
//! halo2 proof plus the accumulator's pairing), and on-chain by the Solidity
//! verifier `zkinfer_verifier::evm::solidity_aggregation_verifier` generates.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use halo2_axiom::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_axiom::plonk::{keygen_pk, keygen_vk, VerifyingKey as Halo2Vk};
use halo2_axiom::poly::commitment::Params;
use halo2_axiom::poly::kzg::commitment::ParamsKZG;
use snark_verifier_sdk::evm::gen_evm_proof_shplonk;
use snark_verifier_sdk::halo2::aggregation::{AggregationCircuit, AggregationConfigParams, VerifierUniversality};
use snark_verifier_sdk::halo2::{PoseidonTranscript, POSEIDON_SPEC};
use snark_verifier_sdk::snark_verifier::halo2_base::gates::circuit::CircuitBuilderStage;
use snark_verifier_sdk::snark_verifier::system::halo2::{compile, Config};
use snark_verifier_sdk::{CircuitExt, NativeLoader, Snark, SHPLONK};
use zkinfer_circuits::visibility::{Exposed, InstancePart, TensorKind};
use zkinfer_circuits::Witness;

use crate::compiled::CompiledModel;
use crate::error::{ProverError, Result};
use crate::keys::ProvingKey;
use crate::native::Engines;
use crate::prove::prove_native_into;

/// Public values of an aggregated proof before the segments': the KZG
/// accumulator, two G1 points as 3 limbs of 88 bits per coordinate.
pub const ACCUMULATOR_VALUES: usize = 12;

/// One link of the chain: public value `from_index` of segment `from` equals
/// public value `to_index` of segment `from + 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainLink {
    /// The earlier segment.
    pub from: usize,
    /// Position of its output commitment among its public values.
    pub from_index: usize,
    /// Position of the next segment's input commitment among its public values.
    pub to_index: usize,
}

/// Where the commitment of `kind`'s first tensor sits among the public values.
pub fn commitment_position(parts: &[InstancePart], kind: TensorKind) -> Option<usize> {
    let mut offset = 0;
    for part in parts {
        if part.kind == kind && part.index == 0 && part.what == Exposed::Commitment {
            return Some(offset);
        }
        offset += part.cells();
    }
    None
}

/// The links of a chain whose segments expose `parts`.
pub fn chain_links(parts: &[Vec<InstancePart>]) -> Result<Vec<ChainLink>> {
    (1..parts.len())
        .map(|to| {
            let missing = |segment: usize, what: &str| {
                ProverError::Mismatch(format!(
                    "segment {segment} exposes no {what} commitment, so it cannot be linked (was it made by `zkinfer split`?)"
                ))
            };
            Ok(ChainLink {
                from: to - 1,
                from_index: commitment_position(&parts[to - 1], TensorKind::Output)
                    .ok_or_else(|| missing(to - 1, "output"))?,
                to_index: commitment_position(&parts[to], TensorKind::Input).ok_or_else(|| missing(to, "input"))?,
            })
        })
        .collect()
}

/// Proves one segment over the Poseidon transcript the aggregation circuit
/// verifies, with the native prover (only the verifying key of `pk` is used).
pub fn segment_snark(
    compiled: &CompiledModel,
    pk: &ProvingKey,
    params: &ParamsKZG<Bn256>,
    witness: Witness,
    engines: &Engines,
) -> Result<Snark> {
    let mut transcript = PoseidonTranscript::<NativeLoader, Vec<u8>>::from_spec(Vec::new(), POSEIDON_SPEC.clone());
    let (instances, _) = prove_native_into(compiled, pk, params, witness, engines, &mut transcript)?;
    let proof = transcript.finalize();
    let protocol = compile(params, pk.halo2_vk(), Config::kzg().with_num_instance(vec![instances.len()]));
    Ok(Snark::new(protocol, vec![instances], proof))
}

/// An aggregated proof and what verifies it.
pub struct Aggregated {
    /// The proof (EVM transcript).
    pub proof: Vec<u8>,
    /// Its public values: the accumulator, then every segment's, in order.
    pub instances: Vec<Fr>,
    /// The aggregation circuit's verifying key.
    pub vk: Halo2Vk<G1Affine>,
    /// The aggregation circuit's configuration.
    pub config: AggregationConfigParams,
    /// Seconds of key generation.
    pub setup_s: f64,
    /// Seconds of proving.
    pub prove_s: f64,
}

fn circuit(
    stage: CircuitBuilderStage,
    config: AggregationConfigParams,
    params: &ParamsKZG<Bn256>,
    snarks: &[Snark],
    links: &[ChainLink],
) -> AggregationCircuit {
    let mut circuit =
        AggregationCircuit::new::<SHPLONK>(stage, config, params, snarks.iter().cloned(), VerifierUniversality::None);
    circuit.expose_previous_instances(false);
    let pairs: Vec<_> = links
        .iter()
        .map(|l| {
            (circuit.previous_instances()[l.from][l.from_index], circuit.previous_instances()[l.from + 1][l.to_index])
        })
        .collect();
    let ctx = circuit.builder.main(0);
    for (a, b) in pairs {
        ctx.constrain_equal(&a, &b);
    }
    circuit
}

/// The aggregation circuit's proving key for chains of snarks shaped like
/// `snarks` (same segment circuits; any inputs), with its configuration.
pub struct AggregationKey {
    pk: halo2_axiom::plonk::ProvingKey<G1Affine>,
    config: AggregationConfigParams,
    break_points: Vec<Vec<usize>>,
    links: Vec<ChainLink>,
    /// Seconds of key generation.
    pub setup_s: f64,
}

impl AggregationKey {
    /// The verifying key.
    pub fn vk(&self) -> &Halo2Vk<G1Affine> {
        self.pk.get_vk()
    }

    /// The circuit's configuration (needed to read the verifying key back).
    pub fn config(&self) -> AggregationConfigParams {
        self.config
    }
}

fn halo2_error(stage: &'static str) -> impl Fn(String) -> ProverError {
    move |message| ProverError::Halo2 { stage, message }
}

fn guarded<T>(stage: &'static str, f: impl FnOnce() -> std::result::Result<T, String>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|_| halo2_error(stage)("the aggregated proofs do not verify, or a chain link does not hold".into()))?
        .map_err(halo2_error(stage))
}

/// Generates the key of the circuit that aggregates `snarks` (a chain linked by
/// `links`) with `2^k` rows; `params` must hold `2^k` points of the SRS the
/// segments were proven with.
pub fn aggregation_keygen(params: &ParamsKZG<Bn256>, snarks: &[Snark], links: &[ChainLink]) -> Result<AggregationKey> {
    let k = params.k();
    if k < 12 {
        return Err(ProverError::Mismatch(format!("an aggregation circuit needs k ≥ 12, not {k}")));
    }
    for l in links {
        let fits = |segment: usize, index: usize| snarks.get(segment).is_some_and(|s| index < s.instances[0].len());
        if !fits(l.from, l.from_index) || !fits(l.from + 1, l.to_index) {
            return Err(ProverError::Mismatch(format!("chain link {l:?} points past the segments' public values")));
        }
    }
    let start = Instant::now();
    let base = AggregationConfigParams { degree: k, lookup_bits: k as usize - 1, ..Default::default() };
    guarded("aggregation key generation", || {
        let mut keygen = circuit(CircuitBuilderStage::Keygen, base, params, snarks, links);
        let config = keygen.calculate_params(Some(20));
        let vk = keygen_vk(params, &keygen).map_err(|e| format!("{e:?}"))?;
        let pk = keygen_pk(params, vk, &keygen).map_err(|e| format!("{e:?}"))?;
        Ok(AggregationKey {
            pk,
            config,
            break_points: keygen.break_points(),
            links: links.to_vec(),
            setup_s: start.elapsed().as_secs_f64(),
        })
    })
}

/// Proves the aggregation of `snarks` with `key`. Fails when a snark does not
/// verify or a chain link does not hold (the circuit constrains both).
pub fn aggregation_prove(params: &ParamsKZG<Bn256>, key: &AggregationKey, snarks: Vec<Snark>) -> Result<Aggregated> {
    let start = Instant::now();
    let (proof, instances) = guarded("aggregation proving", || {
        let prover = circuit(CircuitBuilderStage::Prover, key.config, params, &snarks, &key.links)
            .use_break_points(key.break_points.clone());
        let instances = prover.instances();
        // snark-verifier-sdk checks the proof it made and panics if it fails.
        let proof = gen_evm_proof_shplonk(params, &key.pk, prover, instances.clone());
        Ok((proof, instances.into_iter().next().unwrap_or_default()))
    })?;
    Ok(Aggregated {
        proof,
        instances,
        vk: key.vk().clone(),
        config: key.config,
        setup_s: key.setup_s,
        prove_s: start.elapsed().as_secs_f64(),
    })
}

/// Key generation and proof in one: see [`aggregation_keygen`] and
/// [`aggregation_prove`].
pub fn aggregate(params: &ParamsKZG<Bn256>, snarks: Vec<Snark>, links: &[ChainLink]) -> Result<Aggregated> {
    let key = aggregation_keygen(params, &snarks, links)?;
    aggregation_prove(params, &key, snarks)
}

/// Reads an aggregation circuit's verifying key (halo2's raw format) made with
/// `config`.
pub fn read_aggregation_vk(bytes: &[u8], config: AggregationConfigParams) -> Result<Halo2Vk<G1Affine>> {
    let mut reader = bytes;
    catch_unwind(AssertUnwindSafe(|| {
        Halo2Vk::read::<_, AggregationCircuit>(&mut reader, halo2_axiom::SerdeFormat::RawBytes, config)
    }))
    .map_err(|_| ProverError::Mismatch("malformed aggregation verifying key".into()))?
    .map_err(|e| ProverError::Mismatch(format!("invalid aggregation verifying key: {e}")))
}

/// Verifies an aggregated proof: the aggregation circuit's halo2 proof (EVM
/// transcript), then the KZG accumulator its first public values carry.
pub fn verify_aggregated(
    params: &ParamsKZG<Bn256>,
    vk: &Halo2Vk<G1Affine>,
    instances: &[Fr],
    proof: &[u8],
) -> Result<()> {
    zkinfer_verifier::verify_raw(params, vk, instances, proof)
        .map_err(|e| ProverError::Mismatch(format!("the aggregated proof does not verify: {e}")))?;
    zkinfer_verifier::aggregate::check_accumulator(instances, params.g2(), params.s_g2())
        .map_err(|e| ProverError::Mismatch(e.to_string()))
}
