//! LayerNormalization (tract: a mean, then RmsNorm) on rows whose spread
//! rounds to nothing in fixed point: the norm is floored at one unit, so the
//! integer reference divides by a positive value at every scale instead of
//! refusing with a division by zero, and ordinary rows are unaffected.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod onnx_proto;

use onnx_proto::{float_tensor, node};
use zkinfer_models::eval::evaluate;
use zkinfer_models::quantize::quantize_graph;
use zkinfer_models::quantize_inputs;

#[test]
fn layer_norm_of_a_flat_row_divides_by_at_least_one_unit() {
    let gamma = float_tensor("gamma", &[4], &[1.0, 1.0, 1.0, 1.0]);
    let beta = float_tensor("beta", &[4], &[0.5, 0.0, 0.0, -0.5]);
    let ln = node("LayerNormalization", &["x", "gamma", "beta"], "y");
    let model = onnx_proto::load("norm", vec![ln], vec![gamma, beta], &[("x", &[3, 4])], &["y"], 17);
    // A constant row (no spread at all), a row of tiny differences, an ordinary row.
    let x = vec![0.3, 0.3, 0.3, 0.3, 0.001, -0.001, 0.0005, 0.0, 1.0, -2.0, 0.5, 1.5];
    let want = model.run_float(std::slice::from_ref(&x)).unwrap().concat();
    let g = model.lower().unwrap();
    for scale in [6, 8, 12] {
        let graph = quantize_graph(&g, scale).unwrap();
        let trace = evaluate(&graph, &quantize_inputs(std::slice::from_ref(&x), scale).unwrap())
            .unwrap_or_else(|e| panic!("scale {scale}: {e}"));
        let unit = f64::powi(2.0, -(scale as i32));
        let got: Vec<f64> = trace.outputs(&graph).iter().map(|&v| v as f64 * unit).collect();
        for i in 0..4 {
            assert!((got[i] - want[i]).abs() <= unit, "scale {scale}: the flat row reads its bias, {got:?}");
        }
        for i in 8..12 {
            assert!((got[i] - want[i]).abs() < 64.0 * unit, "scale {scale}: ordinary row {got:?} vs {want:?}");
        }
    }
}
