//! Hidden weights end to end, with real keys: `hashed` weights are bound by the
//! Poseidon commitment of the model's parameters (what `zkinfer hash --weights`
//! computes), `public` weights are instances, `private` weights show nothing;
//! the verifying key is the same whatever the weights are, so the commitment is
//! what tells two models apart. Each exposed value is checked by tampering.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::PrimeField;
use zkinfer_circuits::compile::{compile, CompileOptions};
use zkinfer_circuits::poseidon::hash_integers;
use zkinfer_circuits::visibility::{TensorKind, Visibilities, Visibility};
use zkinfer_models::fgraph::{AffineRow, Elem, FGraph};
use zkinfer_models::ir::Op;
use zkinfer_models::onnx::OnnxModel;
use zkinfer_models::params::committed_params;
use zkinfer_prover::compiled::CompiledModel;
use zkinfer_prover::keys::keygen;
use zkinfer_prover::prove::{prove, witness};
use zkinfer_prover::srs::SrsStore;
use zkinfer_tests::prepare;
use zkinfer_verifier::{verify, Proof, VerifierParams, VerifyError, VerifyingKey};

fn demo() -> (OnnxModel, Vec<Vec<f64>>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/demo_cnn");
    let data = zkinfer_models::input::read_input_file(&root.join("input.json")).expect("input");
    let lens: Vec<usize> = data.tensors.iter().map(|t| t.len()).collect();
    let model = OnnxModel::load(&root.join("network.onnx"), None, &lens).expect("model");
    (model, data.tensors)
}

fn weights(visibility: Visibility) -> CompileOptions {
    let visibility = Visibilities { weights: visibility, ..Default::default() };
    CompileOptions { visibility, scale: Some(8), ..Default::default() }
}

/// Keys for `compiled` and proofs of each input set.
struct Proven {
    vk: VerifyingKey,
    params: VerifierParams,
    proofs: Vec<Proof>,
}

fn prove_all(compiled: &CompiledModel, inputs: &[&Vec<Vec<f64>>]) -> Proven {
    let dir = tempfile::tempdir().expect("tempdir");
    prove_with_srs(compiled, inputs, dir.path())
}

/// [`prove_all`] with the SRS cached in `srs_dir` (shared, so that keys compare).
fn prove_with_srs(compiled: &CompiledModel, inputs: &[&Vec<Vec<f64>>], srs_dir: &std::path::Path) -> Proven {
    let srs = SrsStore::new(srs_dir).get(compiled.shape.k).expect("srs");
    let pk = keygen(compiled, &srs).expect("keygen");
    let vk = VerifyingKey::from_bytes(&pk.verifying_key().to_bytes(), "vk").expect("vk");
    let params = VerifierParams::from_bytes(&srs.verifier_params().to_bytes(), "params").expect("params");
    let proofs = inputs
        .iter()
        .map(|x| {
            let w = witness(compiled, x).expect("witness");
            let proof = prove(compiled, &pk, &srs.params, w).expect("prove");
            Proof::from_bytes(&proof.to_bytes(), "proof").expect("proof round trip")
        })
        .collect();
    Proven { vk, params, proofs }
}

fn with_instances(proof: &Proof, instances: &[Fr]) -> Proof {
    Proof { instances: instances.iter().map(PrimeField::to_repr).collect(), ..proof.clone() }
}

/// The commitment `zkinfer hash --weights` prints for this model.
fn weights_commitment(compiled: &CompiledModel) -> Fr {
    let params = committed_params(&compiled.graph).expect("one value per parameter");
    hash_integers(&params.iter().map(|(_, v)| i128::from(*v)).collect::<Vec<_>>())
}

/// `compiled` with hidden parameter `p` changed by `delta` everywhere it is used.
fn with_changed_parameter(compiled: &CompiledModel, p: u32, delta: i64) -> CompiledModel {
    let mut changed = compiled.clone();
    for node in &mut changed.graph.nodes {
        let Op::Linear(l) = &mut node.op else { continue };
        let Some(params) = l.params.clone() else { continue };
        for ((_, w), id) in l.terms.items.iter_mut().zip(&params.terms) {
            if *id == Some(p) {
                *w += delta;
            }
        }
        for (b, id) in l.bias.iter_mut().zip(&params.bias) {
            if *id == Some(p) {
                *b += delta;
            }
        }
    }
    changed
}

#[test]
fn hashed_weights_are_bound_by_their_commitment() {
    let (model, inputs) = demo();
    let other: Vec<Vec<f64>> = inputs.iter().map(|t| t.iter().map(|v| 1.0 - v).collect()).collect();
    let prepared = prepare(model, inputs.clone(), &weights(Visibility::Hashed));
    let compiled = &prepared.compiled;
    assert!(compiled.model.weights > 100, "the conv and dense kernels are hidden: {}", compiled.model.weights);
    let p = prove_all(compiled, &[&inputs, &other]);
    let commitment = weights_commitment(compiled);
    for proof in &p.proofs {
        verify(&p.vk, &p.params, proof).expect("honest proof verifies");
        assert_eq!(proof.commitments(), Some(vec![(TensorKind::Weights, 0, commitment)]), "= zkinfer hash --weights");
        assert_eq!(proof.outputs().expect("outputs").len(), 10, "outputs stay public, before the commitment");
    }
    let proof = &p.proofs[0];
    let mut instances = proof.instances_fr().expect("instances");
    *instances.last_mut().expect("commitment") += Fr::one();
    assert!(matches!(verify(&p.vk, &p.params, &with_instances(proof, &instances)), Err(VerifyError::Rejected(_))));
    let mut flipped = proof.clone();
    let at = flipped.proof.len() / 3;
    flipped.proof[at] ^= 1;
    assert!(verify(&p.vk, &p.params, &flipped).is_err(), "a changed proof byte is rejected");
}

#[test]
fn other_weights_share_the_key_but_not_the_commitment() {
    let (model, inputs) = demo();
    let prepared = prepare(model, inputs.clone(), &weights(Visibility::Hashed));
    let original = &prepared.compiled;
    let first = committed_params(&original.graph).expect("params")[0].0;
    let changed = with_changed_parameter(original, first, 3);
    assert_ne!(weights_commitment(original), weights_commitment(&changed));
    let srs = tempfile::tempdir().expect("tempdir");
    let a = prove_with_srs(original, &[&inputs], srs.path());
    let b = prove_with_srs(&changed, &[&inputs], srs.path());
    assert_eq!(a.vk.digest(), b.vk.digest(), "the verifying key does not depend on hidden weights");
    // The changed model's proof verifies under the original key and shows the
    // changed model's commitment, so a verifier expecting the original model
    // tells them apart; claiming the original commitment is rejected.
    let theirs = &b.proofs[0];
    verify(&a.vk, &a.params, theirs).expect("same circuit");
    assert_eq!(theirs.commitments(), Some(vec![(TensorKind::Weights, 0, weights_commitment(&changed))]));
    let mut instances = theirs.instances_fr().expect("instances");
    *instances.last_mut().expect("commitment") = weights_commitment(original);
    assert!(matches!(verify(&a.vk, &a.params, &with_instances(theirs, &instances)), Err(VerifyError::Rejected(_))));
}

#[test]
fn public_weights_are_the_parameter_vector() {
    let (model, inputs) = demo();
    let prepared = prepare(model, inputs.clone(), &weights(Visibility::Public));
    let p = prove_all(&prepared.compiled, &[&inputs]);
    let proof = &p.proofs[0];
    verify(&p.vk, &p.params, proof).expect("honest proof verifies");
    let params = committed_params(&prepared.compiled.graph).expect("params");
    let values: Vec<i128> = params.iter().map(|(_, v)| i128::from(*v)).collect();
    assert_eq!(proof.public_values(TensorKind::Weights), Some(values.clone()));
    let outputs = proof.outputs().expect("outputs").len();
    for at in [0, values.len() / 2, values.len() - 1] {
        let mut instances = proof.instances_fr().expect("instances");
        instances[outputs + at] += Fr::one();
        let tampered = with_instances(proof, &instances);
        assert!(matches!(verify(&p.vk, &p.params, &tampered), Err(VerifyError::Rejected(_))), "weight {at}");
    }
}

#[test]
fn private_weights_keep_the_outputs_and_show_nothing() {
    let (model, inputs) = demo();
    let hidden = prepare(model, inputs.clone(), &weights(Visibility::Private));
    let (model, _) = demo();
    let fixed = prepare(model, inputs.clone(), &weights(Visibility::Fixed));
    let p = prove_all(&hidden.compiled, &[&inputs]);
    let proof = &p.proofs[0];
    verify(&p.vk, &p.params, proof).expect("honest proof verifies");
    assert_eq!(proof.instances.len(), 10, "only the outputs are instances");
    assert_eq!(proof.commitments(), Some(Vec::new()));
    // Same scale, same model: the outputs agree with the fixed-weights circuit's
    // to within a few quantisation units (the layers are rescaled differently).
    let unit = 1.0 / 256.0;
    for (h, f) in hidden.integer_outputs().iter().zip(fixed.integer_outputs()) {
        assert!((h - f).abs() <= 4.0 * unit, "{h} vs {f}");
    }
    let mut instances = proof.instances_fr().expect("instances");
    instances[3] += Fr::one();
    assert!(matches!(verify(&p.vk, &p.params, &with_instances(proof, &instances)), Err(VerifyError::Rejected(_))));
}

#[test]
fn hidden_weights_are_refused_where_they_cannot_work() {
    // Lowered with fixed weights, compiled with hidden ones.
    let (model, inputs) = demo();
    let reference = model.run_float(&inputs).expect("tract");
    let fixed = model.lower().expect("lowers");
    let err = compile(&fixed, &inputs, &reference, &weights(Visibility::Hashed)).unwrap_err().to_string();
    assert!(err.contains("lowered with fixed weights") && err.contains("hint"), "{err}");
    // A model without parametrised layers has nothing to hide.
    let mut g = FGraph { hide_weights: true, ..FGraph::default() };
    let x = g.add_input("x", vec![2]);
    let y = g.affine(
        "double",
        "Add",
        vec![2],
        x.elems.iter().map(|e| AffineRow { bias: 1.0, terms: vec![(*e, 2.0)] }).collect(),
    );
    g.outputs.push(y);
    let err =
        compile(&g, &[vec![0.5, 0.25]], &[vec![2.0, 1.5]], &weights(Visibility::Private)).unwrap_err().to_string();
    assert!(err.contains("no weights to hide") && err.contains("--weights-visibility fixed"), "{err}");
    assert!(matches!(g.outputs[0].elems[0], Elem::Ref(_)));
    // Segments keep weights fixed.
    let (model, inputs) = demo();
    let prepared = prepare(model, inputs, &weights(Visibility::Hashed));
    let graph = &prepared.compiled.graph;
    let cut = zkinfer_circuits::segment::first_cut(graph) + 1;
    let err = zkinfer_circuits::segment::split(graph, &[cut]).unwrap_err().to_string();
    assert!(err.contains("--weights-visibility fixed"), "{err}");
}
