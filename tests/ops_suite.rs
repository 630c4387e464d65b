//! The shared operator suite: every case runs through tract's float reference,
//! zkinfer's float lowering, the integer reference and the circuit (MockProver).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use zkinfer_circuits::compile::CompileOptions;
use zkinfer_models::ir::Op;
use zkinfer_tests::cases;
use zkinfer_tests::{max_diff, prepare};

#[test]
fn every_case_agrees_across_tract_integer_reference_and_circuit() {
    for case in cases::all(7) {
        let name = case.name.clone();
        let p = prepare(case.model, case.inputs, &CompileOptions::default());
        assert!(p.lowering_error < 1e-4, "{name}: float lowering differs from tract by {}", p.lowering_error);
        let int = p.integer_outputs();
        let err = max_diff(&[int], &[p.reference.concat()]);
        let reported = p.compiled.settings.calibration_max_abs_error;
        assert!((err - reported).abs() < 1e-12, "{name}: reported error {reported} but measured {err}");
        let magnitude = p.reference.concat().iter().fold(1.0f64, |m, v| m.max(v.abs()));
        // Relative to the outputs, or a few units of the chosen fixed-point scale
        // (table lookups make high scales costly, so calibration may pick a low one;
        // each lookup adds at most half a unit plus |f'| times its input's error).
        let unit = f64::powi(2.0, -(p.compiled.graph.scale as i32));
        assert!(
            err < (1e-2 * magnitude).max(8.0 * unit),
            "{name}: integer reference error {err} at scale {}",
            p.compiled.graph.scale
        );
        p.assert_circuit_equals_reference(&name);
    }
}

#[test]
fn fixed_scales_also_agree() {
    for scale in [5, 9, 14] {
        let opts = CompileOptions { scale: Some(scale), ..Default::default() };
        let case = cases::conv_stride_pad(11);
        let p = prepare(case.model, case.inputs, &opts);
        assert_eq!(p.compiled.graph.scale, scale);
        p.assert_circuit_equals_reference(&format!("conv at scale {scale}"));
    }
}

#[test]
fn batchnorm_folds_into_the_preceding_convolution() {
    let case = cases::conv_batchnorm(3);
    let p = prepare(case.model, case.inputs, &CompileOptions::default());
    let linear = p.compiled.graph.nodes.iter().filter(|n| matches!(n.op, Op::Linear(_))).count();
    assert_eq!(linear, 1, "conv, scale and shift are one affine map");
    let relu = p.compiled.graph.nodes.iter().any(|n| matches!(n.op, Op::Rescale { relu: true, .. }));
    assert!(relu, "the ReLU fuses into the rescale");
}

#[test]
fn activation_free_dense_stacks_collapse() {
    let case = cases::matmul_constant_left(5);
    let p = prepare(case.model, case.inputs, &CompileOptions::default());
    assert!(p.compiled.graph.linear_terms() <= 2 * 4 * 3);
}

#[test]
fn lookups_are_accurate_at_a_higher_scale() {
    let case = cases::nonlinear(5);
    let p = prepare(case.model, case.inputs, &CompileOptions { scale: Some(10), ..Default::default() });
    let err = max_diff(&[p.integer_outputs()], &[p.reference.concat()]);
    assert!(err < 4e-3, "sigmoid, tanh and GELU at scale 10: error {err}");
    assert!(!p.compiled.graph.lookup_tables().is_empty());
    p.assert_circuit_equals_reference("nonlinear at scale 10");
}
