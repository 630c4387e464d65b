//! Segmented proving with real keys: the demo CNN split into three segments,
//! each proven separately, verified as a chain; a proof of another input spliced
//! in, or a changed boundary commitment, is rejected.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::PrimeField;
use zkinfer_circuits::compile::CompileOptions;
use zkinfer_circuits::poseidon::hash_packed;
use zkinfer_circuits::visibility::{Exposed, TensorKind};
use zkinfer_models::onnx::OnnxModel;
use zkinfer_prover::chain::{plan_chain, segment_witness};
use zkinfer_prover::keys::keygen;
use zkinfer_prover::prove::prove;
use zkinfer_prover::srs::SrsStore;
use zkinfer_tests::prepare;
use zkinfer_verifier::chain::{verify_chain, ChainError};
use zkinfer_verifier::{Proof, VerifierParams, VerifyError, VerifyingKey};

#[test]
fn three_segments_prove_verify_and_link() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/demo_cnn");
    let data = zkinfer_models::input::read_input_file(&root.join("input.json")).expect("input");
    let lens: Vec<usize> = data.tensors.iter().map(|t| t.len()).collect();
    let model = OnnxModel::load(&root.join("network.onnx"), None, &lens).expect("model");
    let other: Vec<Vec<f64>> = data.tensors.iter().map(|t| t.iter().map(|v| 0.5 - v).collect()).collect();
    let prepared = prepare(model, data.tensors.clone(), &CompileOptions { scale: Some(8), ..Default::default() });
    let whole = &prepared.compiled;
    let (plan, segments) = plan_chain(whole, Some(3), 18, None).expect("splits");
    assert_eq!(segments.len(), 3);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SrsStore::new(dir.path());
    let mut keys = Vec::new();
    let mut proofs = Vec::new();
    let mut others = Vec::new();
    for (record, segment) in plan.segments.iter().zip(&segments) {
        let srs = store.get(segment.shape.k).expect("srs");
        let pk = keygen(segment, &srs).expect("keygen");
        let prove_for = |x: &[Vec<f64>]| {
            let w = segment_witness(whole, record, segment, x).expect("witness");
            let p = prove(segment, &pk, &srs.params, w).expect("prove");
            Proof::from_bytes(&p.to_bytes(), "proof").expect("round trip")
        };
        proofs.push(prove_for(&data.tensors));
        others.push(prove_for(&other));
        let vk = VerifyingKey::from_bytes(&pk.verifying_key().to_bytes(), "vk").expect("vk");
        let params = VerifierParams::from_bytes(&srs.verifier_params().to_bytes(), "params").expect("params");
        keys.push((vk, params));
    }
    let chain = |proofs: &[Proof]| -> Result<(), ChainError> {
        let links: Vec<_> = keys.iter().zip(proofs).map(|((vk, params), proof)| (vk, params, proof)).collect();
        verify_chain(&links)
    };
    assert_eq!(chain(&proofs), Ok(()));
    assert_eq!(chain(&others), Ok(()), "the other input's chain is valid on its own");
    // The boundaries are hashed: segments 0 and 1 expose no values but the
    // commitments, and the last segment's outputs are the whole model's.
    assert!(proofs[0].parts.iter().all(|p| p.what == Exposed::Commitment || p.kind == TensorKind::Input));
    assert_eq!(proofs[2].outputs().expect("outputs"), prepared.witness().outputs);

    // Each boundary is committed packed, in slots wide enough for the range its
    // consumer checks; the digest is the documented packed hash of its values.
    let trace = &prepared.witness().trace;
    for b in 0..2 {
        let bits = segments[b].shape.visibility.packing.output.expect("packed boundary");
        assert_eq!(segments[b + 1].shape.visibility.packing.input, Some(bits));
        assert!(bits >= segments[b + 1].shape.ranges.value_bits);
        let values: Vec<i128> = plan.segments[b].outputs.iter().map(|r| trace.get(*r)).collect();
        let digest = hash_packed(&values, bits).expect("inside the window");
        assert_eq!(proofs[b].commitments().expect("commitments").last().expect("output").2, digest);
        assert_eq!(proofs[b + 1].commitments().expect("commitments")[0].2, digest);
    }

    // A segment proven for another input, spliced into the chain: it verifies
    // alone, but it does not start where segment 0 ended.
    let spliced = vec![proofs[0].clone(), others[1].clone(), others[2].clone()];
    assert_eq!(chain(&spliced), Err(ChainError::Broken { index: 1 }));
    let spliced = vec![proofs[0].clone(), proofs[1].clone(), others[2].clone()];
    assert_eq!(chain(&spliced), Err(ChainError::Broken { index: 2 }));

    // A boundary commitment edited to match the neighbour: the proof no longer verifies.
    let mut edited = others[1].clone();
    let mut instances = edited.instances_fr().expect("instances");
    instances[0] = proofs[0].commitments().expect("commitments")[0].2;
    edited.instances = instances.iter().map(Fr::to_repr).collect();
    let result = chain(&[proofs[0].clone(), edited, others[2].clone()]);
    assert!(matches!(result, Err(ChainError::Segment { index: 1, source: VerifyError::Rejected(_) })), "{result:?}");
}
