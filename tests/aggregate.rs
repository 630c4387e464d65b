//! Aggregation of a segment chain (real keys): the demo CNN split into three
//! segments, each proven over the Poseidon transcript by the native prover, then
//! folded into one proof by the aggregation circuit, which also constrains the
//! chain's links. The aggregated proof verifies in Rust (halo2 proof plus the KZG
//! accumulator's pairing) and in the EVM; a flipped proof byte, a changed public
//! value and a forged accumulator are rejected, and a chain whose middle segment
//! is a proof of another input cannot be aggregated at all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use halo2_axiom::halo2curves::bn256::Fr;
use zkinfer_circuits::compile::CompileOptions;
use zkinfer_circuits::plan::{graph_instances, Profile};
use zkinfer_models::onnx::OnnxModel;
use zkinfer_prover::aggregate::{
    aggregation_keygen, aggregation_prove, chain_links, segment_snark, verify_aggregated, ACCUMULATOR_VALUES,
};
use zkinfer_prover::chain::{plan_chain, segment_witness};
use zkinfer_prover::keys::keygen_native;
use zkinfer_prover::native::Engines;
use zkinfer_prover::srs::SrsStore;
use zkinfer_tests::prepare;
use zkinfer_verifier::evm::{compile_verifier, find_solc, raw_calldata, run_verifier, solidity_aggregation_verifier};

/// Segment proofs over the Poseidon transcript verify with halo2's verifier
/// reading that transcript, and fail when tampered.
#[test]
fn segment_snarks_verify_over_the_poseidon_transcript() {
    use halo2_axiom::plonk::verify_proof;
    use halo2_axiom::poly::kzg::commitment::KZGCommitmentScheme;
    use halo2_axiom::poly::kzg::multiopen::VerifierSHPLONK;
    use halo2_axiom::poly::kzg::strategy::SingleStrategy;
    use snark_verifier_sdk::halo2::{PoseidonTranscript, POSEIDON_SPEC};
    use snark_verifier_sdk::NativeLoader;
    let (model, inputs) = zkinfer_tests::load_peer("1l_mlp");
    let p = prepare(model, inputs, &CompileOptions::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SrsStore::new(dir.path());
    let srs = store.get(p.compiled.shape.k).expect("srs");
    let pk = keygen_native(&p.compiled, &srs).expect("keygen");
    let snark = segment_snark(&p.compiled, &pk, &srs.params, p.witness(), &Engines::cpu()).expect("snark");
    let check = |proof: &[u8]| {
        let mut transcript = PoseidonTranscript::<NativeLoader, &[u8]>::from_spec(proof, POSEIDON_SPEC.clone());
        let instances: Vec<&[Fr]> = snark.instances.iter().map(Vec::as_slice).collect();
        verify_proof::<KZGCommitmentScheme<_>, VerifierSHPLONK<'_, _>, _, _, _>(
            &srs.params,
            pk.halo2_vk(),
            SingleStrategy::new(&srs.params),
            &[&instances],
            &mut transcript,
        )
        .is_ok()
    };
    assert!(check(&snark.proof), "halo2 rejects the native prover's Poseidon-transcript proof");
    let mut bad = snark.proof.clone();
    bad[40] ^= 1;
    assert!(!check(&bad), "a flipped byte was accepted");
}

/// Rows of the aggregation circuit in this test.
const K: u32 = 19;

/// About 10 minutes and 11 GiB on 2 cores (three aggregation proofs: the good
/// chain, a broken one, another input's), over CI's budget: run with
/// `cargo test --release -p zkinfer-tests --test aggregate -- --ignored`.
/// docs/benchmarks.md records a run.
#[test]
#[ignore = "heavy: ~10 min and 11 GiB; run with --ignored"]
fn a_three_segment_chain_aggregates_into_one_proof() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/demo_cnn");
    let data = zkinfer_models::input::read_input_file(&root.join("input.json")).expect("input");
    let lens: Vec<usize> = data.tensors.iter().map(|t| t.len()).collect();
    let model = OnnxModel::load(&root.join("network.onnx"), None, &lens).expect("model");
    let other: Vec<Vec<f64>> = data.tensors.iter().map(|t| t.iter().map(|v| 0.5 - v).collect()).collect();
    // The compact profile: few commitments per segment, so a small aggregation
    // circuit (it re-verifies every segment proof in-circuit).
    let options = CompileOptions { scale: Some(8), profile: Profile::Evm, ..Default::default() };
    let prepared = prepare(model, data.tensors.clone(), &options);
    let whole = &prepared.compiled;
    let (plan, segments) = plan_chain(whole, Some(3), 18, None).expect("splits");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SrsStore::new(dir.path());
    // One secret for every size: the segments use this SRS cut down.
    let agg_srs = store.get(K).expect("srs");
    let engines = Engines::cpu();
    let mut snarks = Vec::new();
    let mut others = Vec::new();
    let mut parts = Vec::new();
    for (record, segment) in plan.segments.iter().zip(&segments) {
        let srs = agg_srs.downsized(segment.shape.k).expect("srs");
        let pk = keygen_native(segment, &srs).expect("keygen");
        let snark = |x: &[Vec<f64>]| {
            let w = segment_witness(whole, record, segment, x).expect("witness");
            segment_snark(segment, &pk, &srs.params, w, &engines).expect("segment proof")
        };
        snarks.push(snark(&data.tensors));
        others.push(snark(&other));
        parts.push(graph_instances(&segment.graph, &segment.shape.visibility));
    }
    let links = chain_links(&parts).expect("links");
    assert_eq!(links.len(), 2);

    let srs = &agg_srs;
    let key = aggregation_keygen(&srs.params, &snarks, &links).expect("aggregation keygen");
    let agg = aggregation_prove(&srs.params, &key, snarks.clone()).expect("aggregation proof");
    let expected: usize = ACCUMULATOR_VALUES + snarks.iter().map(|s| s.instances[0].len()).sum::<usize>();
    assert_eq!(agg.instances.len(), expected, "the accumulator, then every segment's public values");
    verify_aggregated(&srs.params, &agg.vk, &agg.instances, &agg.proof).expect("the aggregated proof verifies");

    // Tampering.
    let mut flipped = agg.proof.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 1;
    assert!(verify_aggregated(&srs.params, &agg.vk, &agg.instances, &flipped).is_err(), "flipped byte accepted");
    let mut changed = agg.instances.clone();
    *changed.last_mut().unwrap() += Fr::one();
    assert!(verify_aggregated(&srs.params, &agg.vk, &changed, &agg.proof).is_err(), "changed output accepted");
    let mut forged = agg.instances.clone();
    forged.swap(0, 6); // lhs and rhs exchanged (their first x limbs)
    assert!(verify_aggregated(&srs.params, &agg.vk, &forged, &agg.proof).is_err(), "forged accumulator accepted");

    // A chain whose middle segment proves another input: the in-circuit link
    // constraint cannot hold, so no aggregated proof comes out.
    let mut spliced = snarks.clone();
    spliced[1] = others[1].clone();
    assert!(aggregation_prove(&srs.params, &key, spliced).is_err(), "a broken chain was aggregated");
    // The other input's own chain aggregates with the same key.
    let other_agg = aggregation_prove(&srs.params, &key, others).expect("the other chain aggregates");
    verify_aggregated(&srs.params, &other_agg.vk, &other_agg.instances, &other_agg.proof).expect("verifies");

    // On-chain.
    let solc = find_solc().unwrap_or_else(|e| panic!("the EVM check needs solc: {e}"));
    let verifier =
        solidity_aggregation_verifier(&srs.params, &agg.vk, agg.instances.len(), "demo chain").expect("codegen");
    let contract = compile_verifier(&solc, &verifier.source).expect("solc");
    let good = raw_calldata(&agg.instances, &agg.proof);
    let mut bad = good.clone();
    let at = bad.len() - 100;
    bad[at] ^= 1;
    let wrong_output = raw_calldata(&changed, &agg.proof);
    let runs = run_verifier(&contract, &[good, bad, wrong_output]).expect("evm");
    assert!(runs[0].accepted, "the EVM verifier rejected the aggregated proof");
    assert!(!runs[1].accepted && !runs[2].accepted, "the EVM verifier accepted a tampered aggregated proof");
    eprintln!(
        "aggregation: k = {K}, keys {:.1} s, proof {:.1} s, {} B proof, EVM gas {}, runtime {} B",
        agg.setup_s,
        agg.prove_s,
        agg.proof.len(),
        runs[0].gas_used,
        runs[0].runtime_bytes
    );
}
