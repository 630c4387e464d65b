//! Witness-mutation harness on whole model circuits: every mutation of a
//! constrained advice cell must be rejected by MockProver; only free cells (which
//! no constraint reads) may survive. The full campaign (≥ 2,000 cells per large
//! circuit) is `zkinfer reliability`; these tests run it on every cell of small
//! circuits and a sample of the others.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use zkinfer_circuits::compile::CompileOptions;
use zkinfer_circuits::mutation::{mutation_campaign, MutationReport};
use zkinfer_circuits::ModelCircuit;
use zkinfer_prover::chain::{plan_chain, segment_witness};
use zkinfer_tests::{cases, load_demo_cnn, load_peer, prepare, Prepared};

fn campaign(p: &Prepared, sample: Option<(usize, u64)>) -> MutationReport {
    let w = p.witness();
    let instances = w.instances();
    let circuit =
        ModelCircuit::new(p.compiled.shape.clone(), p.compiled.program()).with_witness(std::sync::Arc::new(w));
    mutation_campaign(&circuit, &instances, sample).unwrap()
}

fn assert_sound(name: &str, r: &MutationReport) {
    assert!(r.survivors.is_empty(), "{name}: constrained cells accepted a wrong value: {:?}", r.survivors);
    assert_eq!(r.tried, r.rejected + r.free_survivors, "{name}: {r:?}");
    assert!(r.rejected > 0, "{name}: nothing was rejected: {r:?}");
}

#[test]
fn every_cell_of_small_peer_circuits() {
    for name in ["1l_mlp", "1l_conv", "1l_max_pool", "1l_average"] {
        let (model, inputs) = load_peer(name);
        let p = prepare(model, inputs, &CompileOptions::default());
        let r = campaign(&p, None);
        assert_eq!(r.tried, r.cells, "{name}: all cells tried");
        assert_sound(name, &r);
    }
}

#[test]
fn sampled_cells_of_a_cnn() {
    let (model, inputs) = load_peer("4l_relu_conv_fc");
    let p = prepare(model, inputs, &CompileOptions::default());
    let r = campaign(&p, Some((2000, 20261125)));
    assert_eq!(r.tried, 2000);
    assert_sound("4l_relu_conv_fc", &r);
}

#[test]
fn every_operator_case() {
    for case in cases::all(3) {
        let name = case.name.clone();
        let p = prepare(case.model, case.inputs, &CompileOptions::default());
        let r = campaign(&p, Some((150, 7)));
        assert_sound(&name, &r);
    }
}

#[test]
fn sampled_cells_of_a_segment_with_packed_boundaries() {
    let (model, inputs) = load_demo_cnn();
    let p = prepare(model, inputs.clone(), &CompileOptions { scale: Some(8), ..Default::default() });
    let (plan, segments) = plan_chain(&p.compiled, Some(3), 18, None).expect("splits");
    let (record, segment) = (&plan.segments[1], &segments[1]);
    assert!(segment.shape.visibility.packs(), "the middle segment packs both boundaries");
    let w = segment_witness(&p.compiled, record, segment, &inputs).expect("witness");
    let instances = w.instances();
    let circuit = ModelCircuit::new(segment.shape.clone(), segment.program()).with_witness(std::sync::Arc::new(w));
    let r = mutation_campaign(&circuit, &instances, Some((1000, 20261126))).unwrap();
    assert_sound("demo_cnn segment 1", &r);
}
