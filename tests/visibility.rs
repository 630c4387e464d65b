//! Tensor visibility end to end, with real keys: a `hashed` input is bound by its
//! Poseidon commitment (the one `zkinfer hash` computes natively), `public`
//! inputs are instances, private outputs are not; each exposed value is checked
//! by tampering with it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use halo2_axiom::dev::MockProver;
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::PrimeField;
use zkinfer_circuits::chips::poseidon::PoseidonWitness;
use zkinfer_circuits::compile::CompileOptions;
use zkinfer_circuits::poseidon::{hash, hash_integers};
use zkinfer_circuits::visibility::{TensorKind, Visibilities, Visibility};
use zkinfer_circuits::ModelCircuit;
use zkinfer_models::onnx::OnnxModel;
use zkinfer_models::quantize_inputs;
use zkinfer_prover::keys::keygen;
use zkinfer_prover::prove::{prove, witness};
use zkinfer_prover::srs::SrsStore;
use zkinfer_tests::{prepare, Prepared};
use zkinfer_verifier::{verify, Proof, VerifierParams, VerifyError, VerifyingKey};

fn demo_input() -> (OnnxModel, Vec<Vec<f64>>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/demo_cnn");
    let data = zkinfer_models::input::read_input_file(&root.join("input.json")).expect("input");
    let lens: Vec<usize> = data.tensors.iter().map(|t| t.len()).collect();
    let model = OnnxModel::load(&root.join("network.onnx"), None, &lens).expect("model");
    (model, data.tensors)
}

struct Proven {
    prepared: Prepared,
    vk: VerifyingKey,
    params: VerifierParams,
    proofs: Vec<Proof>,
}

/// Compiles the demo model with `visibility`, proves its input and `others`.
fn prove_demo(visibility: Visibilities, others: &[Vec<Vec<f64>>]) -> Proven {
    let (model, inputs) = demo_input();
    let opts = CompileOptions { visibility, scale: Some(8), ..Default::default() };
    let prepared = prepare(model, inputs.clone(), &opts);
    let dir = tempfile::tempdir().expect("tempdir");
    let srs = SrsStore::new(dir.path()).get(prepared.compiled.shape.k).expect("srs");
    let pk = keygen(&prepared.compiled, &srs).expect("keygen");
    let vk = VerifyingKey::from_bytes(&pk.verifying_key().to_bytes(), "vk").expect("vk");
    let params = VerifierParams::from_bytes(&srs.verifier_params().to_bytes(), "params").expect("params");
    let proofs = std::iter::once(&inputs)
        .chain(others)
        .map(|x| {
            let w = witness(&prepared.compiled, x).expect("witness");
            let proof = prove(&prepared.compiled, &pk, &srs.params, w).expect("prove");
            Proof::from_bytes(&proof.to_bytes(), "proof").expect("proof round trip")
        })
        .collect();
    Proven { prepared, vk, params, proofs }
}

fn with_instances(proof: &Proof, instances: &[Fr]) -> Proof {
    Proof { instances: instances.iter().map(PrimeField::to_repr).collect(), ..proof.clone() }
}

fn other_input(inputs: &[Vec<f64>]) -> Vec<Vec<f64>> {
    inputs.iter().map(|t| t.iter().map(|v| 1.0 - v).collect()).collect()
}

#[test]
fn hashed_input_is_bound_by_its_commitment() {
    let (_, inputs) = demo_input();
    let other = other_input(&inputs);
    let vis = Visibilities { input: Visibility::Hashed, ..Default::default() };
    let p = prove_demo(vis, std::slice::from_ref(&other));
    let scale = p.prepared.compiled.graph.scale;
    let commitment = |x: &[Vec<f64>]| {
        let q = quantize_inputs(x, scale).expect("quantise");
        hash_integers(&q[0].iter().map(|v| i128::from(*v)).collect::<Vec<_>>())
    };
    let (mine, theirs) = (&p.proofs[0], &p.proofs[1]);
    for (proof, x) in [(mine, &inputs), (theirs, &other)] {
        verify(&p.vk, &p.params, proof).expect("honest proof verifies");
        let commitments = proof.commitments().expect("layout");
        assert_eq!(commitments, vec![(TensorKind::Input, 0, commitment(x))], "commitment = native hash");
        // The commitment comes first; the outputs stay public after it.
        assert_eq!(proof.outputs().expect("outputs").len(), 10);
    }
    assert_ne!(commitment(&inputs), commitment(&other));

    // The other image's commitment with this proof: rejected.
    let mut instances = mine.instances_fr().expect("instances");
    instances[0] = commitment(&other);
    let swapped = with_instances(mine, &instances);
    assert!(matches!(verify(&p.vk, &p.params, &swapped), Err(VerifyError::Rejected(_))));
    // A commitment changed by one: rejected.
    let mut instances = mine.instances_fr().expect("instances");
    instances[0] += Fr::one();
    assert!(matches!(verify(&p.vk, &p.params, &with_instances(mine, &instances)), Err(VerifyError::Rejected(_))));
}

#[test]
fn hashed_input_chain_must_hash_the_cells_the_model_reads() {
    // A consistent Poseidon chain over another input, claiming its digest, while
    // the model computes on the real input: the copy constraints reject it.
    let (_, inputs) = demo_input();
    let vis = Visibilities { input: Visibility::Hashed, ..Default::default() };
    let opts = CompileOptions { visibility: vis, scale: Some(8), ..Default::default() };
    let (model, _) = demo_input();
    let prepared = prepare(model, inputs.clone(), &opts);
    let mock = |w: zkinfer_circuits::Witness, instances: Vec<Fr>| {
        let circuit =
            ModelCircuit::new(prepared.compiled.shape.clone(), prepared.compiled.program()).with_witness(Arc::new(w));
        MockProver::run(prepared.compiled.shape.k, &circuit, vec![instances]).expect("synthesis").verify()
    };
    let good = prepared.witness();
    assert_eq!(mock(good.clone(), good.instances()), Ok(()));
    let q = quantize_inputs(&other_input(&inputs), prepared.compiled.graph.scale).expect("quantise");
    let forged: Vec<Fr> = q[0].iter().map(|v| zkinfer_circuits::chips::fe::<Fr>(i128::from(*v))).collect();
    let mut bad = good.clone();
    bad.hashes[0] = PoseidonWitness::new(&forged, prepared.compiled.shape.poseidon_partial_per_row());
    bad.instances[0] = hash(&forged);
    assert!(mock(bad.clone(), bad.instances()).is_err());
}

#[test]
fn public_input_and_private_output() {
    let vis = Visibilities { input: Visibility::Public, output: Visibility::Private, ..Default::default() };
    let p = prove_demo(vis, &[]);
    let proof = &p.proofs[0];
    verify(&p.vk, &p.params, proof).expect("honest proof verifies");
    let (_, inputs) = demo_input();
    let q = quantize_inputs(&inputs, p.prepared.compiled.graph.scale).expect("quantise");
    let public: Vec<i128> = q[0].iter().map(|v| i128::from(*v)).collect();
    assert_eq!(proof.public_values(TensorKind::Input), Some(public.clone()));
    assert_eq!(proof.outputs(), Some(Vec::new()), "private outputs are not instances");
    assert_eq!(proof.instances.len(), public.len());
    for at in [0, public.len() / 2, public.len() - 1] {
        let mut instances = proof.instances_fr().expect("instances");
        instances[at] -= Fr::one();
        let bad = with_instances(proof, &instances);
        assert!(matches!(verify(&p.vk, &p.params, &bad), Err(VerifyError::Rejected(_))), "input {at} changed");
    }
}

#[test]
fn hashed_output_commits_to_the_integer_outputs() {
    let vis = Visibilities { output: Visibility::Hashed, ..Default::default() };
    let p = prove_demo(vis, &[]);
    let proof = &p.proofs[0];
    verify(&p.vk, &p.params, proof).expect("honest proof verifies");
    let outputs = p.prepared.witness().outputs;
    assert_eq!(proof.commitments(), Some(vec![(TensorKind::Output, 0, hash_integers(&outputs))]));
    assert_eq!(proof.instances.len(), 1);
    // A proof whose layout was edited to claim public outputs is refused before
    // halo2 runs.
    let mut edited = proof.clone();
    edited.parts[0].what = zkinfer_circuits::visibility::Exposed::Values;
    assert_eq!(verify(&p.vk, &p.params, &edited), Err(VerifyError::MetadataMismatch));
}
