//! Real key generation, proving and verification (no MockProver) on peer models,
//! with every file round-tripped through its on-disk encoding; then tampering: a
//! changed public output, flipped proof bytes, appended bytes, another model's
//! verifying key, another model's proving key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use halo2_axiom::halo2curves::bn256::Fr;
use zkinfer_circuits::compile::CompileOptions;
use zkinfer_prover::error::ProverError;
use zkinfer_prover::keys::{keygen, ProvingKey};
use zkinfer_prover::prove::prove;
use zkinfer_prover::srs::{LoadedSrs, SrsStore};
use zkinfer_tests::{load_files, load_peer, max_diff, prepare, Prepared};
use zkinfer_verifier::{verify, verify_raw, Proof, VerifierParams, VerifyError, VerifyingKey};

/// One SRS cache for the whole test binary (the largest size is generated once,
/// smaller ones are downsized from it).
fn srs_store() -> &'static SrsStore {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    static STORE: OnceLock<SrsStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let dir = DIR.get_or_init(|| tempfile::tempdir().expect("tempdir"));
        let store = SrsStore::new(dir.path());
        store.get(15).expect("srs");
        store
    })
}

/// A proven model, with every artifact decoded from its file bytes.
struct Proven {
    prepared: Prepared,
    pk: ProvingKey,
    vk: VerifyingKey,
    params: VerifierParams,
    srs: LoadedSrs,
    proof: Proof,
}

fn prove_model(name: &str) -> Proven {
    let (model, inputs) = load_peer(name);
    prove_prepared(prepare(model, inputs, &CompileOptions::default()))
}

fn prove_prepared(prepared: Prepared) -> Proven {
    let srs = srs_store().get(prepared.compiled.shape.k).expect("srs");
    let pk = keygen(&prepared.compiled, &srs).expect("keygen");
    let pk = ProvingKey::from_bytes(&pk.to_bytes(), "pk").expect("pk round trip");
    let vk = VerifyingKey::from_bytes(&pk.verifying_key().to_bytes(), "vk").expect("vk round trip");
    let params = VerifierParams::from_bytes(&srs.verifier_params().to_bytes(), "params").expect("params round trip");
    let proof = prove(&prepared.compiled, &pk, &srs.params, prepared.witness()).expect("prove");
    let proof = Proof::from_bytes(&proof.to_bytes(), "proof").expect("proof round trip");
    Proven { prepared, pk, vk, params, srs, proof }
}

fn check_honest_and_tampered(p: &Proven, name: &str) {
    verify(&p.vk, &p.params, &p.proof).unwrap_or_else(|e| panic!("{name}: honest proof rejected: {e}"));

    // The public outputs are exactly the integer reference, within the reported
    // error of tract's float output.
    let w = p.prepared.witness();
    assert_eq!(p.proof.outputs().expect("outputs"), w.outputs, "{name}");
    let err = max_diff(&[p.proof.outputs_f64().expect("outputs")], &[p.prepared.reference.concat()]);
    assert!(err <= p.prepared.compiled.settings.calibration_max_abs_error + 1e-12, "{name}: {err}");

    // A changed public output.
    let mut bad = p.proof.clone();
    let mut out = bad.instances_fr().expect("instances");
    out[0] += Fr::one();
    bad.instances = out.iter().map(halo2_axiom::halo2curves::ff::PrimeField::to_repr).collect();
    assert!(matches!(verify(&p.vk, &p.params, &bad), Err(VerifyError::Rejected(_))), "{name}: changed output accepted");

    // One flipped byte anywhere in the proof (start, middle, end).
    let len = p.proof.proof.len();
    for at in [0, 31, len / 2, len - 1] {
        let mut bad = p.proof.clone();
        bad.proof[at] ^= 0x01;
        assert!(verify(&p.vk, &p.params, &bad).is_err(), "{name}: flipped byte {at} accepted");
    }

    // Extra bytes after a valid proof.
    let mut bad = p.proof.clone();
    bad.proof.push(0);
    assert!(verify(&p.vk, &p.params, &bad).is_err(), "{name}: appended byte accepted");

    // A flipped byte in the proof file is caught by its checksum, before verification.
    let mut bytes = p.proof.to_bytes();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    let err = Proof::from_bytes(&bytes, "proof.bin").expect_err("corrupt proof file").to_string();
    assert!(err.contains("corrupt"), "{err}");
}

#[test]
fn models_prove_verify_and_reject_tampering() {
    let mlp = prove_model("1l_mlp");
    check_honest_and_tampered(&mlp, "1l_mlp");
    let cnn = prove_model("4l_relu_conv_fc");
    check_honest_and_tampered(&cnn, "4l_relu_conv_fc");
    let lenet = prove_model("lenet_5");
    check_honest_and_tampered(&lenet, "lenet_5");

    // Another model's verifying key: refused by the digest check with a precise
    // message, and rejected by the pairing check when that is bypassed.
    let err = verify(&mlp.vk, &mlp.params, &cnn.proof).unwrap_err();
    assert!(matches!(err, VerifyError::CircuitMismatch { .. }), "{err}");
    assert!(err.to_string().contains("different circuit"));
    let instances = lenet.proof.instances_fr().expect("instances");
    let kzg = lenet.params.to_kzg().expect("params");
    assert!(verify_raw(&kzg, &cnn.vk.vk, &instances, &lenet.proof.proof).is_err());
    let mut forged = lenet.proof.clone();
    forged.circuit_digest = cnn.vk.digest();
    assert!(verify(&cnn.vk, &cnn.params, &forged).is_err(), "lenet proof accepted by another model's key");

    // Verifier parameters of another size.
    assert!(matches!(verify(&lenet.vk, &cnn.params, &lenet.proof), Err(VerifyError::ParamsMismatch(_))));

    // Another model's proving key is refused before proving.
    let err = prove(&lenet.prepared.compiled, &cnn.pk, &cnn.srs.params, lenet.prepared.witness())
        .expect_err("mismatched key must be refused");
    assert!(matches!(err, ProverError::Mismatch(_)), "{err}");
    assert!(err.to_string().contains("different compiled model"), "{err}");
}

#[test]
fn models_with_table_lookups_and_divisions_prove_and_reject_tampering() {
    // Sigmoid by lookup into the function table (fast profile; the compact one is
    // proven in `tests/evm.rs`).
    let sigmoid = prove_model("2l_relu_sigmoid_small");
    assert!(sigmoid.prepared.compiled.shape.uses_func_table());
    check_honest_and_tampered(&sigmoid, "2l_relu_sigmoid_small");
    // Softmax: exp by lookup, divisions by the sum.
    let softmax = prove_model("1l_softmax");
    check_honest_and_tampered(&softmax, "1l_softmax");
}

#[test]
fn dynamically_quantised_model_proves_and_rejects_tampering() {
    // onnxruntime's dynamic quantisation: DynamicQuantizeLinear, ConvInteger,
    // MatMulInteger (made by scripts/make_export_patterns.py).
    let proven = prove_test_data("export_patterns/dynamic_quantised");
    let err = proven.prepared.compiled.settings.calibration_max_abs_error;
    assert!(err < 1e-2, "dynamic_quantised: error {err} against tract");
}

#[test]
fn sklearn_tree_ensemble_proves_and_rejects_tampering() {
    // A binary gradient-boosting classifier exported by skl2onnx
    // (TreeEnsembleClassifier with a logistic output; made by
    // scripts/make_sklearn_models.py), rewritten into comparisons and matrix
    // products before tract loads it.
    prove_test_data("sklearn/gradient_boosting");
}

/// Proves the model under `tests/data/<dir>` with its input, with real keys,
/// and checks that the proof verifies and that tampering is rejected.
fn prove_test_data(dir: &str) -> Proven {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(dir);
    let (model, inputs) = load_files(&path.join("network.onnx"), &path.join("input.json"));
    let proven = prove_prepared(prepare(model, inputs, &CompileOptions::default()));
    check_honest_and_tampered(&proven, dir);
    proven
}
