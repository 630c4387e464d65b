//! The iris-code user story end to end with real keys: a private iris image
//! (`hashed`: only its Poseidon commitment is public) through a public
//! iris-code model gives a public 512-bit code. The code equals the float
//! model's; the commitment equals the one computed natively at enrolment; a
//! proof presented with another eye's commitment, or with a changed code bit, is
//! rejected.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::{Field, PrimeField};
use zkinfer_circuits::compile::CompileOptions;
use zkinfer_circuits::poseidon::hash_integers;
use zkinfer_circuits::visibility::{TensorKind, Visibilities, Visibility};
use zkinfer_models::input::read_input_file;
use zkinfer_models::onnx::OnnxModel;
use zkinfer_models::quantize_inputs;
use zkinfer_prover::keys::keygen;
use zkinfer_prover::prove::{prove, witness};
use zkinfer_prover::srs::SrsStore;
use zkinfer_tests::prepare;
use zkinfer_verifier::{verify, Proof, VerifierParams, VerifyError, VerifyingKey};

fn iris(file: &str) -> Vec<Vec<f64>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/iris");
    read_input_file(&root.join(file)).expect("iris input").tensors
}

#[test]
fn private_iris_public_code() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/iris");
    let (enrolled, other) = (iris("input.json"), iris("input_other.json"));
    let lens: Vec<usize> = enrolled.iter().map(|t| t.len()).collect();
    let model = OnnxModel::load(&root.join("network.onnx"), None, &lens).expect("model");
    let float_code = |x: &[Vec<f64>]| model.run_float(x).expect("tract").concat();
    let (enrolled_float, other_float) = (float_code(&enrolled), float_code(&other));
    let visibility = Visibilities { input: Visibility::Hashed, ..Default::default() };
    let p = prepare(model, enrolled.clone(), &CompileOptions { visibility, ..Default::default() });
    let c = &p.compiled;
    let dir = tempfile::tempdir().expect("tempdir");
    let srs = SrsStore::new(dir.path()).get(c.shape.k).expect("srs");
    let pk = keygen(c, &srs).expect("keygen");
    let vk = VerifyingKey::from_bytes(&pk.verifying_key().to_bytes(), "vk").expect("vk");
    let params = VerifierParams::from_bytes(&srs.verifier_params().to_bytes(), "params").expect("params");
    let prove_eye = |x: &[Vec<f64>]| {
        let proof = prove(c, &pk, &srs.params, witness(c, x).expect("witness")).expect("prove");
        Proof::from_bytes(&proof.to_bytes(), "proof").expect("round trip")
    };
    // Enrolment: the app stores the commitment of the quantised image.
    let commitment = |x: &[Vec<f64>]| {
        let q = quantize_inputs(x, c.graph.scale).expect("quantise");
        hash_integers(&q[0].iter().map(|v| i128::from(*v)).collect::<Vec<_>>())
    };
    let (mine, theirs) = (prove_eye(&enrolled), prove_eye(&other));
    for (proof, x, float) in [(&mine, &enrolled, &enrolled_float), (&theirs, &other, &other_float)] {
        verify(&vk, &params, proof).expect("honest proof verifies");
        assert_eq!(proof.commitments(), Some(vec![(TensorKind::Input, 0, commitment(x))]));
        let code = proof.outputs_f64().expect("public code");
        assert_eq!(code.len(), 512);
        assert!(code.iter().all(|b| *b == 0.0 || *b == 1.0), "the code is bits");
        let differing = code.iter().zip(float.iter()).filter(|(a, b)| a != b).count();
        // The filters and grey levels are exact at the compiled scale (see
        // examples/iris/README.md): no response lies within a quantisation unit of 0.
        assert_eq!(differing, 0, "code bits differing from the float model");
    }
    // The verifier holds the enrolled commitment and expects it: the other eye's
    // proof, presented with the enrolled commitment, is rejected.
    let mut presented = theirs.instances_fr().expect("instances");
    presented[0] = commitment(&enrolled);
    let forged = Proof { instances: presented.iter().map(Fr::to_repr).collect(), ..theirs.clone() };
    assert!(matches!(verify(&vk, &params, &forged), Err(VerifyError::Rejected(_))));
    // One code bit flipped: rejected.
    let mut flipped = mine.instances_fr().expect("instances");
    flipped[100] = if flipped[100] == Fr::ZERO { Fr::from(1u64 << c.graph.scale) } else { Fr::ZERO };
    let forged = Proof { instances: flipped.iter().map(Fr::to_repr).collect(), ..mine.clone() };
    assert!(matches!(verify(&vk, &params, &forged), Err(VerifyError::Rejected(_))));
}
