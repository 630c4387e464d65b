//! Comparisons, boolean logic, Sign, Cast and Where as ONNX defines them: a
//! model built as ONNX protobuf (Greater, Less, GreaterOrEqual, LessOrEqual,
//! Equal, Not, And, Or, Xor, Where, Sign, Cast), loaded through tract's ONNX
//! front end like a file. On grid inputs the float lowering equals tract exactly
//! and so does the integer reference at every scale; variants that are not
//! supported are reported by node with the reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod onnx_proto;

use onnx_proto::{float_tensor, node};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use tract_onnx::pb::{self, attribute_proto::AttributeType, tensor_proto::DataType};
use zkinfer_models::eval::evaluate;
use zkinfer_models::onnx::OnnxModel;
use zkinfer_models::optimize::compose_linear;
use zkinfer_models::quantize::quantize_graph;
use zkinfer_models::quantize_inputs;

fn cast(input: &str, output: &str, to: DataType) -> pb::NodeProto {
    let mut n = node("Cast", &[input], output);
    n.attribute.push(pb::AttributeProto {
        name: "to".into(),
        r#type: AttributeType::Int as i32,
        i: to as i64,
        ..Default::default()
    });
    n
}

/// Loads a graph of `nodes` with float inputs of `shapes`, as a file would be.
fn load(
    nodes: Vec<pb::NodeProto>,
    init: Vec<pb::TensorProto>,
    inputs: &[(&str, Vec<usize>)],
    outputs: &[&str],
) -> OnnxModel {
    let inputs: Vec<(&str, &[usize])> = inputs.iter().map(|(n, shape)| (*n, shape.as_slice())).collect();
    onnx_proto::load("logic", nodes, init, &inputs, outputs, 13)
}

/// Every comparison and logic operator, Where with computed conditions, Sign and
/// Casts, over inputs `x`, `y` of shape 2×6 and constants broadcast against them.
fn logic_model() -> OnnxModel {
    let f = DataType::Float;
    let nodes = vec![
        node("Greater", &["x", "zero"], "gt"),
        node("Less", &["x", "y"], "lt"),
        node("GreaterOrEqual", &["y", "row"], "ge"),
        node("LessOrEqual", &["x", "row"], "le"),
        node("Equal", &["x", "y"], "eq"),
        node("Not", &["gt"], "not"),
        node("And", &["gt", "lt"], "and"),
        node("Or", &["not", "eq"], "or"),
        node("Xor", &["ge", "le"], "xor"),
        node("Where", &["and", "x", "y"], "where_xy"),
        node("Where", &["or", "x", "row"], "where_row"),
        node("Sub", &["x", "y"], "diff"),
        node("Sign", &["diff"], "sign"),
        cast("x", "x_bool", DataType::Bool),
        cast("x_bool", "nonzero", f),
        cast("xor", "xor_int", DataType::Int64),
        cast("xor_int", "xor_f", f),
        cast("gt", "gt_f", f),
        cast("lt", "lt_f", f),
        cast("ge", "ge_f", f),
        cast("le", "le_f", f),
        cast("eq", "eq_f", f),
        cast("and", "and_f", f),
        cast("or", "or_f", f),
    ];
    let row: Vec<f32> = (0..6).map(|i| (i as f32 - 2.5) * 0.5).collect();
    let init = vec![float_tensor("zero", &[], &[0.0]), float_tensor("row", &[6], &row)];
    let outputs =
        ["gt_f", "lt_f", "ge_f", "le_f", "eq_f", "and_f", "or_f", "xor_f", "where_xy", "where_row", "sign", "nonzero"];
    load(nodes, init, &[("x", vec![2, 6]), ("y", vec![2, 6])], &outputs)
}

/// Random values `k / 4`, `|k| ≤ 6`: exact at every scale ≥ 2, with ties.
fn grid(rng: &mut ChaCha20Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.gen_range(-6i32..=6) as f64 * 0.25).collect()
}

fn max_diff(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    a.iter().zip(b).flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs())).fold(0.0, f64::max)
}

#[test]
fn onnx_comparisons_logic_where_sign_and_casts_are_exact() {
    let model = logic_model();
    let ops: Vec<String> = model.op_table().into_iter().map(|r| r.op).collect();
    for op in ["GT", "LT", "GTE", "LTE", "Eq", "Not", "And", "Or", "Xor", "Iff", "Sign", "Cast"] {
        assert!(ops.iter().any(|o| o == op), "tract op {op} in the model: {ops:?}");
    }
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    for trial in 0..8 {
        let inputs = vec![grid(&mut rng, 12), grid(&mut rng, 12)];
        let want = model.run_float(&inputs).unwrap();
        let mut g = model.lower().unwrap();
        assert_eq!(max_diff(&want, &g.outputs_of(&g.evaluate(&inputs))), 0.0, "trial {trial}: float lowering");
        compose_linear(&mut g, 8);
        assert_eq!(max_diff(&want, &g.outputs_of(&g.evaluate(&inputs))), 0.0, "trial {trial}: after composition");
        for scale in [2, 7, 12, 16] {
            let graph = quantize_graph(&g, scale).unwrap();
            graph.validate().unwrap();
            let trace = evaluate(&graph, &quantize_inputs(&inputs, scale).unwrap()).unwrap();
            let unit = f64::powi(2.0, scale as i32);
            let got: Vec<f64> = trace.outputs(&graph).iter().map(|v| *v as f64 / unit).collect();
            assert_eq!(max_diff(&[want.concat()], &[got]), 0.0, "trial {trial}, scale {scale}: integer reference");
        }
    }
}

#[test]
fn float_to_integer_casts_truncate_towards_zero() {
    // Cast(float → int64) truncates: sign(x)·floor(|x|), exact on quantised inputs.
    let nodes = vec![
        node("Greater", &["x", "zero"], "gt"),
        cast("x", "x_int", DataType::Int64),
        cast("gt", "gt_f", DataType::Float),
        cast("x_int", "x_back", DataType::Float),
    ];
    let init = vec![float_tensor("zero", &[], &[0.0])];
    let model = load(nodes, init, &[("x", vec![6])], &["gt_f", "x_back"]);
    let inputs = vec![vec![2.75, -2.75, 0.5, -0.5, 3.0, -1.0]];
    let want = model.run_float(&inputs).unwrap();
    assert_eq!(want[1], vec![2.0, -2.0, 0.0, 0.0, 3.0, -1.0], "tract truncates towards zero");
    let g = model.lower().unwrap();
    assert_eq!(max_diff(&want, &g.outputs_of(&g.evaluate(&inputs))), 0.0, "float lowering");
    for scale in [2, 7, 12] {
        let graph = quantize_graph(&g, scale).unwrap();
        let trace = evaluate(&graph, &quantize_inputs(&inputs, scale).unwrap()).unwrap();
        let unit = f64::powi(2.0, scale as i32);
        let got: Vec<f64> = trace.outputs(&graph).iter().map(|v| *v as f64 / unit).collect();
        assert_eq!(max_diff(&[want.concat()], &[got]), 0.0, "scale {scale}: integer reference");
    }
}
