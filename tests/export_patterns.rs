//! Models written the way exporters write real networks
//! (`tests/data/export_patterns`, made by `scripts/make_export_patterns.py`):
//! dynamic reshape chains, decomposed and fused LayerNorm, GELU by Erf and by
//! Tanh, causal masks by Where with −∞ and from Range/Less, a manual softmax,
//! Einsum, token embeddings, depthwise/dilated convolutions, squeeze-excitation,
//! DepthToSpace, upsampling with skip connections, an input attention mask,
//! GroupNorm, a bidirectional LSTM and a GRU, 8-bit QDQ and QLinearConv
//! models, and onnxruntime's dynamic quantisation (DynamicQuantizeLinear with
//! ConvInteger and MatMulInteger), and a six-step GRU (tract's whole-sequence
//! op) and a residual folded into a convolution's bias, with the weights in a
//! file beside the model (external data), control flow (`Loop` and `If`,
//! inlined before tract loads the model), uses tract alone computes wrongly (a
//! reverse LSTM, computed negative indices, values past a function's table, a
//! boolean Attention mask) and ONNX's fused Attention. Each compiles with the default
//! options, agrees with tract (and with onnxruntime where the input file has
//! its outputs), and its circuit equals the integer reference (MockProver), a
//! changed output rejected.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use zkinfer_circuits::compile::{CompileOptions, RELATIVE_ERROR_GOAL};
use zkinfer_tests::{load_files, max_diff, prepare};

const MODELS: [&str; 18] = [
    "transformer_block",
    "mobilenet_block",
    "unet_tiny",
    "conv1d_gelu",
    "misc_ops",
    "embedding",
    "cnn_misc",
    "manual_ops",
    "mlp_misc",
    "bert_mask",
    "groupnorm_same",
    "recurrent",
    "quantised",
    "dynamic_quantised",
    "gru_residual_external",
    "control_flow",
    "onnx_semantics",
    "attention_op",
];

/// onnxruntime's outputs, where the generator wrote them (`output_data`).
fn onnxruntime_outputs(input: &Path) -> Option<Vec<Vec<f64>>> {
    let text = std::fs::read_to_string(input).expect("input file");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    serde_json::from_value(json.get("output_data")?.clone()).ok()
}

#[test]
fn exported_patterns_compile_agree_with_tract_and_prove() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join("export_patterns");
    for name in MODELS {
        let dir = root.join(name);
        let (model, inputs) = load_files(&dir.join("network.onnx"), &dir.join("input.json"));
        let p = prepare(model, inputs, &CompileOptions::default());
        assert!(p.lowering_error < 1e-4, "{name}: the float lowering differs from tract by {}", p.lowering_error);
        if let Some(expected) = onnxruntime_outputs(&dir.join("input.json")) {
            let diff = max_diff(&expected, &p.reference);
            assert!(diff < 1e-5, "{name}: tract differs from onnxruntime by {diff}");
        }
        let err = max_diff(&[p.integer_outputs()], &[p.reference.concat()]);
        // Finite outputs only: ArgMax indices are exact, the rest within the
        // calibration goal (1% of the largest output) or a few units of the scale.
        let magnitude = p.reference.concat().iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let unit = f64::powi(2.0, -(p.compiled.graph.scale as i32));
        assert!(
            err <= (RELATIVE_ERROR_GOAL * magnitude).max(8.0 * unit),
            "{name}: error {err} at scale {} (largest output {magnitude})",
            p.compiled.graph.scale
        );
        p.assert_circuit_equals_reference(name);
    }
}
