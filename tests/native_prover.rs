//! zkinfer's native prover core against halo2-axiom's verifier, with real keys.
//!
//! - Proofs of the peer models the foundation proves (and models with function
//!   tables, the EVM profile and a Poseidon-hashed input) verify with halo2's
//!   `verify_proof` and with zkinfer's verifier; flipped bytes and a changed
//!   public value are rejected.
//! - For the same seed, the native prover's advice commitments equal halo2's.
//! - A native proving key is only the verifying key, and survives its file round
//!   trip; halo2's prover refuses it clearly; a key of another circuit is refused
//!   before any proof is written.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, OnceLock};

use halo2_axiom::halo2curves::bn256::{Bn256, Fr};
use halo2_axiom::plonk::create_proof;
use halo2_axiom::poly::kzg::commitment::KZGCommitmentScheme;
use halo2_axiom::poly::kzg::multiopen::ProverSHPLONK;
use halo2_axiom::transcript::TranscriptWriterBuffer;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zkinfer_circuits::compile::CompileOptions;
use zkinfer_circuits::plan::Profile;
use zkinfer_circuits::visibility::{Visibilities, Visibility};
use zkinfer_circuits::ModelCircuit;
use zkinfer_models::ir::Op;
use zkinfer_prover::error::ProverError;
use zkinfer_prover::keys::{keygen, keygen_native, KeyMaterial, ProvingKey};
use zkinfer_prover::native::{self, select, EngineChoice, Engines, NativeError};
use zkinfer_prover::prove::{prove, prove_native};
use zkinfer_prover::srs::SrsStore;
use zkinfer_tests::{load_peer, prepare, Prepared};
use zkinfer_verifier::transcript::{ChallengeEvm, EvmTranscript};
use zkinfer_verifier::{verify, verify_raw, VerifyError};

fn srs_store() -> &'static SrsStore {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    static STORE: OnceLock<SrsStore> = OnceLock::new();
    STORE.get_or_init(|| SrsStore::new(DIR.get_or_init(|| tempfile::tempdir().expect("tempdir")).path()))
}

fn prepared(name: &str, options: &CompileOptions) -> Prepared {
    let (model, inputs) = load_peer(name);
    prepare(model, inputs, options)
}

/// Proves natively with a native (verifying-key-only) key read back from its
/// file, verifies with halo2 and zkinfer, and checks tampering is rejected.
fn check(name: &str, options: &CompileOptions) {
    check_on(name, options, &Engines::cpu());
}

/// [`check`] with the MSMs and transforms on `engines`.
fn check_on(name: &str, options: &CompileOptions, engines: &Engines) {
    let p = prepared(name, options);
    let srs = srs_store().get(p.compiled.shape.k).expect("srs");
    let pk = keygen_native(&p.compiled, &srs).expect("keygen");
    let pk = ProvingKey::from_bytes(&pk.to_bytes(), "pk").expect("native key round trip");
    assert!(matches!(pk.key, KeyMaterial::Native(_)), "{name}: the key file must stay a native key");
    let vk = pk.verifying_key();
    let (proof, _) = prove_native(&p.compiled, &pk, &srs.params, p.witness(), engines)
        .unwrap_or_else(|e| panic!("{name}: native proving failed: {e}"));
    assert_eq!(engines.fallback(), None, "{name}: the engine fell back to the CPU");
    let instances = proof.instances_fr().expect("instances");
    verify_raw(&srs.params, &vk.vk, &instances, &proof.proof)
        .unwrap_or_else(|e| panic!("{name}: halo2's verify_proof rejected the native proof: {e}"));
    verify(&vk, &srs.verifier_params(), &proof).unwrap_or_else(|e| panic!("{name}: zkinfer rejected: {e}"));

    // Tampering: a flipped byte in each third of the transcript, a changed
    // public value.
    let len = proof.proof.len();
    for at in [10, len / 3, 2 * len / 3, len - 1] {
        let mut bytes = proof.proof.clone();
        bytes[at] ^= 1;
        assert!(verify_raw(&srs.params, &vk.vk, &instances, &bytes).is_err(), "{name}: flipped byte {at} accepted");
    }
    if let Some(first) = instances.first() {
        let mut changed = instances.clone();
        changed[0] = *first + Fr::one();
        assert!(
            matches!(verify_raw(&srs.params, &vk.vk, &changed, &proof.proof), Err(VerifyError::Rejected(_))),
            "{name}: a changed public value was accepted"
        );
    }
}

#[test]
fn foundation_models_prove_natively() {
    for name in ["1l_mlp", "1l_conv", "1l_average", "1l_max_pool", "4l_relu_conv_fc", "lenet_5"] {
        check(name, &CompileOptions::default());
    }
}

/// The GPU engine's proofs verify like the CPU's (`--features gpu` on a machine
/// with a GPU; skipped, saying why, elsewhere).
#[test]
fn proofs_made_with_the_gpu_engine_verify_and_tampering_is_rejected() {
    let selection = select(EngineChoice::Gpu);
    if selection.engines.device() != "gpu" {
        eprintln!("skipped: no GPU engine here ({})", selection.warning.unwrap_or_default());
        return;
    }
    for name in ["4l_relu_conv_fc", "lenet_5"] {
        check_on(name, &CompileOptions::default(), &selection.engines);
    }
}

#[test]
fn function_tables_and_normalisation_prove_natively() {
    for name in ["1l_softmax", "2l_relu_sigmoid_small", "layernorm"] {
        check(name, &CompileOptions::default());
    }
}

/// Recurrent nets and tree ensembles (LSTM/GRU epilogues, ArgMax and gathers by
/// computed indices) with real keys: verified, and tampering rejected.
#[test]
fn recurrent_and_tree_models_prove_natively() {
    for name in ["lstm", "gru", "xgboost", "random_forest"] {
        check(name, &CompileOptions::default());
    }
}

#[test]
fn the_evm_profile_and_a_hashed_input_prove_natively() {
    check("1l_mlp", &CompileOptions { profile: Profile::Evm, ..Default::default() });
    let hashed = Visibilities { input: Visibility::Hashed, ..Default::default() };
    check("1l_conv", &CompileOptions { visibility: hashed, scale: Some(8), ..Default::default() });
}

/// The advice commitments open the proof right after the instances: with the
/// same random stream both provers must write the same bytes up to there.
#[test]
fn advice_commitments_match_halo2s_for_the_same_seed() {
    let p = prepared("4l_relu_conv_fc", &CompileOptions::default());
    let srs = srs_store().get(p.compiled.shape.k).expect("srs");
    let pk = keygen(&p.compiled, &srs).expect("keygen");
    let KeyMaterial::Halo2(halo2_pk) = &pk.key else { panic!("keygen makes a halo2 key") };
    let witness = p.witness();
    let instances = witness.instances();
    let circuit = ModelCircuit::new(p.compiled.shape.clone(), p.compiled.program()).with_witness(Arc::new(witness));

    let mut theirs = EvmTranscript::<Vec<u8>>::init(Vec::new());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, ChallengeEvm, _, _, _>(
        &srs.params,
        halo2_pk,
        std::slice::from_ref(&circuit),
        &[&[&instances]],
        ChaCha20Rng::seed_from_u64(42),
        &mut theirs,
    )
    .expect("halo2 proof");
    let theirs = theirs.finalize();

    let mut ours = EvmTranscript::<Vec<u8>>::init(Vec::new());
    native::create_proof(
        &srs.params,
        halo2_pk.get_vk(),
        circuit,
        &[&instances],
        &mut ChaCha20Rng::seed_from_u64(42),
        &mut ours,
        &Engines::cpu(),
    )
    .expect("native proof");
    let ours = ours.finalize();

    assert_eq!(ours.len(), theirs.len(), "both proofs have the same layout and length");
    let advice = halo2_pk.get_vk().cs().num_advice_columns() * 64;
    assert_eq!(ours[..advice], theirs[..advice], "advice commitments differ");
    assert_ne!(ours[advice..], theirs[advice..], "later commitments use independent randomness");
    // Both verify.
    verify_raw(&srs.params, halo2_pk.get_vk(), &instances, &ours).expect("native proof verifies");
    verify_raw(&srs.params, halo2_pk.get_vk(), &instances, &theirs).expect("halo2 proof verifies");
}

#[test]
fn keys_of_the_wrong_kind_or_circuit_are_refused() {
    let mlp = prepared("1l_mlp", &CompileOptions::default());
    let srs = srs_store().get(mlp.compiled.shape.k).expect("srs");
    let native_key = keygen_native(&mlp.compiled, &srs).expect("keygen");
    let full_key = keygen(&mlp.compiled, &srs).expect("keygen");
    assert!(
        native_key.to_bytes().len() * 10 < full_key.to_bytes().len(),
        "a native key is the verifying key alone: {} vs {} bytes",
        native_key.to_bytes().len(),
        full_key.to_bytes().len()
    );
    assert_eq!(native_key.verifying_key().digest(), full_key.verifying_key().digest(), "same verifying key");
    let err = prove(&mlp.compiled, &native_key, &srs.params, mlp.witness()).expect_err("halo2 needs its full key");
    assert!(err.to_string().contains("--prover native"), "{err}");

    // Same circuit shape, other weights: the fixed-column check catches it.
    let mut other = prepared("1l_mlp", &CompileOptions::default());
    let mut changed = false;
    for node in other.compiled.graph.nodes.iter_mut() {
        if let Op::Linear(linear) = &mut node.op {
            linear.bias[0] += 1;
            changed = true;
            break;
        }
    }
    assert!(changed, "1l_mlp has a linear layer");
    let circuit =
        ModelCircuit::new(other.compiled.shape.clone(), other.compiled.program()).with_witness(Arc::new(mlp.witness()));
    let vk = native_key.halo2_vk();
    let mut transcript = EvmTranscript::<Vec<u8>>::init(Vec::new());
    let err = native::create_proof(
        &srs.params,
        vk,
        circuit,
        &[&mlp.witness().instances()],
        &mut rand::rngs::OsRng,
        &mut transcript,
        &Engines::cpu(),
    )
    .expect_err("the key belongs to other weights");
    assert!(matches!(err, NativeError::Circuit(ref m) if m.contains("another circuit")), "{err}");
    let _ = ProverError::from(err);
}
