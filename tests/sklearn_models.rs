//! Classical models as scikit-learn users export them with skl2onnx
//! (`tests/data/sklearn`, made by `scripts/make_sklearn_models.py`): tree
//! ensembles, linear models, scalers, normalisers, ZipMap and kernel SVMs, and
//! LightGBM and XGBoost models exported with onnxmltools, all
//! `ai.onnx.ml` operators that zkinfer rewrites into standard ones before tract
//! loads the model.
//!
//! Each model's rewritten graph, run by tract, matches onnxruntime's outputs
//! on the original graph (recorded by the script); the integer reference gives
//! the same class labels as onnxruntime and scores within the calibration goal;
//! and the circuit equals the integer reference (MockProver), a changed output
//! rejected.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use serde::Deserialize;
use zkinfer_circuits::compile::{CompileOptions, RELATIVE_ERROR_GOAL};
use zkinfer_tests::{load_files, prepare};

const MODELS: [&str; 20] = [
    "decision_tree",
    "gradient_boosting",
    "random_forest_zipmap",
    "extra_trees",
    "gradient_boosting_regressor",
    "logistic_regression",
    "logistic_binary",
    "ridge_classifier",
    "ridge",
    "svr_rbf",
    "svc_poly",
    "svc_binary",
    "mlp",
    "one_hot_pipeline",
    "lgbm_multiclass",
    "lgbm_binary",
    "lgbm_regressor",
    "xgb_multiclass",
    "xgb_binary",
    "xgb_regressor",
];

/// onnxruntime's outputs on the model's input.
#[derive(Deserialize)]
struct Expected {
    names: Vec<String>,
    outputs: Vec<Vec<f64>>,
}

fn is_label(name: &str) -> bool {
    name.contains("label")
}

#[test]
fn sklearn_exports_match_onnxruntime_and_prove() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join("sklearn");
    for name in MODELS {
        let dir = root.join(name);
        let expected: Expected =
            serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).expect("expected.json");
        let (model, inputs) = load_files(&dir.join("network.onnx"), &dir.join("input.json"));
        let p = prepare(model, inputs, &CompileOptions::default());
        assert_eq!(p.reference.len(), expected.outputs.len(), "{name}: output count");
        // The rewrite, run by tract in float, is onnxruntime's model.
        for ((tract, ort), output) in p.reference.iter().zip(&expected.outputs).zip(&expected.names) {
            assert_eq!(tract.len(), ort.len(), "{name}/{output}: output length");
            for (t, o) in tract.iter().zip(ort) {
                assert!((t - o).abs() <= 1e-4 * o.abs().max(1.0), "{name}/{output}: tract {t} vs onnxruntime {o}");
            }
        }
        // Softmax's exponential is clamped at −16 (Func::ExpNeg, e^−16 = 1.1e-7;
        // at −8, as before, a probability below e^−8 read as 3.4e-4).
        assert!(p.lowering_error < 1e-4, "{name}: the float lowering differs from tract by {}", p.lowering_error);
        // The integer reference: labels exact, scores within the goal.
        let integers = p.integer_outputs();
        let unit = f64::powi(2.0, -(p.compiled.graph.scale as i32));
        let mut at = 0;
        for (ort, output) in expected.outputs.iter().zip(&expected.names) {
            let got = &integers[at..at + ort.len()];
            at += ort.len();
            if is_label(output) {
                assert_eq!(got, &ort[..], "{name}: labels differ from onnxruntime's");
                continue;
            }
            let magnitude = ort.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let err = got.iter().zip(ort).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(
                err <= (RELATIVE_ERROR_GOAL * magnitude).max(8.0 * unit),
                "{name}/{output}: error {err} at scale {} (largest output {magnitude})",
                p.compiled.graph.scale
            );
        }
        p.assert_circuit_equals_reference(name);
    }
}
