//! Real key generation, proving and verification on a small peer model.

use zkinfer_circuits::compile::{compile, CompileOptions};
use zkinfer_models::input::read_input_file;
use zkinfer_models::onnx::OnnxModel;
use zkinfer_models::peer::peer_model;
use zkinfer_prover::compiled::CompiledModel;
use zkinfer_prover::keys::{keygen, ProvingKey};
use zkinfer_prover::prove::{prove, witness};
use zkinfer_prover::srs::SrsStore;
use zkinfer_verifier::{verify, Proof, VerifyingKey};

#[test]
fn mlp_proves_and_verifies_and_tampering_is_rejected() {
    let (onnx, input) = peer_model("1l_mlp");
    let data = read_input_file(&input).unwrap();
    let model = OnnxModel::load(&onnx, data.shapes.as_deref(), &[3]).unwrap();
    let reference = model.run_float(&data.tensors).unwrap();
    let opts = CompileOptions::default();
    let c = compile(&model.lower().unwrap(), &data.tensors, &reference, &opts).unwrap();
    let compiled = CompiledModel::new(c, "1l_mlp", "x", model.input_shapes.clone(), opts);
    let dir = tempfile::tempdir().unwrap();
    let srs = SrsStore::new(dir.path()).get(compiled.shape.k).unwrap();
    let pk = keygen(&compiled, &srs).unwrap();
    let pk = ProvingKey::from_bytes(&pk.to_bytes(), "pk").unwrap();
    let vk = VerifyingKey::from_bytes(&pk.verifying_key().to_bytes(), "vk").unwrap();
    let params = srs.verifier_params();
    let w = witness(&compiled, &data.tensors).unwrap();
    let proof = prove(&compiled, &pk, &srs.params, w).unwrap();
    let proof = Proof::from_bytes(&proof.to_bytes(), "proof").unwrap();
    verify(&vk, &params, &proof).unwrap();
    let out = proof.outputs_f64().unwrap();
    for (o, r) in out.iter().zip(&reference[0]) {
        assert!((o - r).abs() < 0.05, "{o} vs {r}");
    }
    let mut bad = proof.clone();
    bad.proof[100] ^= 1;
    assert!(verify(&vk, &params, &bad).is_err());
    let mut bad = proof.clone();
    bad.instances[0][0] ^= 1;
    assert!(verify(&vk, &params, &bad).is_err());
}
