//! Rewrites of the ONNX graph before tract loads it: operators tract cannot
//! load (or loads into operators zkinfer cannot lower), expanded into standard
//! ONNX operators that zkinfer proves. Each rewrite follows the operator's
//! definition in the ONNX specification (and onnxruntime where the
//! specification is silent); the tests compare the rewritten graphs with
//! onnxruntime's outputs.
//!
//! - `lp_pool`: `LpPool`;
//! - `ml`: the classical machine-learning operators of `ai.onnx.ml` that
//!   scikit-learn, XGBoost and LightGBM exporters write (scalers, linear
//!   models, normalisers, feature extraction and `ZipMap`);
//! - `trees`: tree ensembles (`TreeEnsembleClassifier`/`Regressor`);
//! - `svm`: support vector machines (`SVMClassifier`/`Regressor`);
//! - `upsample`: `Upsample` (opsets 7–9), loaded as `Resize` of opset 10;
//! - `prelu`: `PRelu` before opset 7, its per-channel slope reshaped to apply
//!   along axis 1;
//! - `control`: `Loop` unrolled and `If` inlined, in every graph, first (with
//!   `known`, the evaluator of trip counts and conditions);
//! - `sequence`: sequences of tensors with known positions, as lists of
//!   tensors (`SequenceAt` the tensor, `ConcatFromSequence` a `Concat`);
//! - `tile`: `Tile` by constant repeats as a `Concat` of copies (tract
//!   mis-simplifies a tiled length-1 axis feeding a matrix product).
//!
//! A node that cannot be rewritten (string class labels, a probit output, an
//! SVM's Platt probabilities, ...) is refused by name with the reason, all such
//! nodes at once, before tract sees the graph.

mod attention;
mod attributes;
mod classify;
mod control;
mod emit;
mod known;
mod lp_pool;
mod ml;
mod prelu;
mod reverse_rnn;
mod reverse_sequence;
mod sequence;
mod svm;
mod tile;
mod trees;
pub(crate) mod upsample;

use tract_onnx::pb::{ModelProto, NodeProto, OperatorSetIdProto};

use crate::error::{Error, Result, UnsupportedOp};
use emit::Emit;

/// The domain of ONNX's classical machine-learning operators.
pub(crate) const ML_DOMAIN: &str = "ai.onnx.ml";

/// The `ai.onnx.ml` operators rewritten into standard ones, and what each
/// becomes (the operator page lists them).
pub const ML_REWRITES: [(&str, &str); 14] = [
    ("TreeEnsembleClassifier", "comparisons, a one-hot leaf indicator per tree, a matrix product; labels by ArgMax"),
    ("TreeEnsembleRegressor", "the same, SUM or AVERAGE over the trees"),
    ("LinearClassifier", "MatMul + Add; labels by ArgMax"),
    ("LinearRegressor", "MatMul + Add"),
    ("SVMClassifier", "kernel matrix, one-vs-one scores and votes; labels by ArgMax (no Platt probabilities)"),
    ("SVMRegressor", "kernel matrix times the coefficients (LINEAR, POLY, RBF, SIGMOID kernels)"),
    ("Scaler", "Sub, Mul"),
    ("Normalizer", "division by the row's MAX, L1 or L2 norm"),
    ("Binarizer", "Greater, Cast"),
    ("Imputer", "Where(x = replaced value) for a number; the identity for NaN"),
    ("ArrayFeatureExtractor", "Gather on the last axis"),
    ("FeatureVectorizer", "Slice, Concat"),
    ("OneHotEncoder", "Equal with the integer categories on a new last axis, Cast"),
    ("ZipMap", "the probability tensor itself"),
];

/// Why one node could not be rewritten.
pub(crate) type Refusal = String;

/// Expands every operator of the main graph that tract cannot load (or that
/// zkinfer lowers through standard operators) into ones it can. Returns how
/// many nodes were expanded; nodes that cannot be expanded are refused all at
/// once, each with its reason.
pub(crate) fn expand_unloadable(proto: &mut ModelProto) -> Result<usize> {
    let opset = default_opset(proto);
    let mut refused = Vec::new();
    let mut expanded = control::inline(proto, opset, &mut refused);
    let Some(graph) = proto.graph.as_mut() else { return Ok(0) };
    expanded += sequence::resolve(graph, opset, &mut refused);
    expanded += tile::tiles_as_concats(graph, opset);
    let nodes = std::mem::take(&mut graph.node);
    for (i, node) in nodes.into_iter().enumerate() {
        let Some(rewrite) = rewriter(&node, opset) else {
            graph.node.push(node);
            continue;
        };
        let base =
            if node.name.is_empty() { format!("{}_{i}", node.op_type.to_lowercase()) } else { node.name.clone() };
        let mut emit = Emit::new(graph, &base, opset);
        match rewrite(&mut emit, &node) {
            Ok(()) => {
                let steps = emit.finish();
                graph.node.extend(steps);
                expanded += 1;
            }
            Err(reason) => {
                refused.push(UnsupportedOp { node: base, op: node.op_type.clone(), reason });
                graph.node.push(node);
            }
        }
    }
    if !refused.is_empty() {
        return Err(Error::Unsupported(refused));
    }
    if expanded > 0 && opset.is_none() {
        // A graph of ai.onnx.ml operators only may not import the default
        // domain that its expansion uses.
        proto.opset_import.push(OperatorSetIdProto { domain: String::new(), version: emit::FALLBACK_OPSET });
    }
    Ok(expanded)
}

type Rewrite = fn(&mut Emit<'_>, &NodeProto) -> std::result::Result<(), Refusal>;

fn rewriter(node: &NodeProto, opset: Option<i64>) -> Option<Rewrite> {
    let rewrite: Rewrite = match (node.domain.as_str(), node.op_type.as_str()) {
        ("" | "ai.onnx", "PRelu") if opset.is_some_and(|v| v < 7) => prelu::expand,
        ("" | "ai.onnx", "LpPool") => lp_pool::expand,
        ("" | "ai.onnx", "Upsample") => upsample::expand,
        ("" | "ai.onnx", _) if reverse_rnn::is_reverse(node) => reverse_rnn::expand,
        ("" | "ai.onnx", "ReverseSequence") => reverse_sequence::expand,
        ("" | "ai.onnx", "Attention") if attention::needs_rewrite(node) => attention::expand,
        ("" | "ai.onnx", _) if attributes::ignored_by_tract(node) => attributes::expand,
        (ML_DOMAIN, "TreeEnsembleClassifier") => trees::classifier,
        (ML_DOMAIN, "TreeEnsembleRegressor") => trees::regressor,
        (ML_DOMAIN, "SVMClassifier") => svm::classifier,
        (ML_DOMAIN, "SVMRegressor") => svm::regressor,
        (ML_DOMAIN, op) => ml::rewriter(op)?,
        _ => return None,
    };
    Some(rewrite)
}

/// The model's version of the default ONNX domain, if it imports it.
fn default_opset(proto: &ModelProto) -> Option<i64> {
    proto.opset_import.iter().find(|o| o.domain.is_empty() || o.domain == "ai.onnx").map(|o| o.version)
}

#[cfg(test)]
mod tests {
    use tract_onnx::pb::attribute_proto::AttributeType;
    use tract_onnx::pb::{AttributeProto, GraphProto};

    use super::*;

    fn ints(name: &str, v: &[i64]) -> AttributeProto {
        AttributeProto { name: name.into(), r#type: AttributeType::Ints as i32, ints: v.to_vec(), ..Default::default() }
    }

    fn floats(name: &str, v: &[f32]) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            r#type: AttributeType::Floats as i32,
            floats: v.to_vec(),
            ..Default::default()
        }
    }

    fn string(name: &str, v: &str) -> AttributeProto {
        AttributeProto { name: name.into(), r#type: AttributeType::String as i32, s: v.into(), ..Default::default() }
    }

    fn strings(name: &str, v: &[&str]) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            r#type: AttributeType::Strings as i32,
            strings: v.iter().map(|s| s.as_bytes().to_vec()).collect(),
            ..Default::default()
        }
    }

    fn ml(op: &str, name: &str, outputs: &[&str], attribute: Vec<AttributeProto>) -> NodeProto {
        NodeProto {
            op_type: op.into(),
            domain: ML_DOMAIN.into(),
            name: name.into(),
            input: vec!["x".into()],
            output: outputs.iter().map(|s| s.to_string()).collect(),
            attribute,
            ..Default::default()
        }
    }

    /// One stump: node 0 splits feature 0 at 0.5 into leaves 1 and 2.
    fn stump() -> Vec<AttributeProto> {
        vec![
            ints("nodes_treeids", &[0, 0, 0]),
            ints("nodes_nodeids", &[0, 1, 2]),
            ints("nodes_featureids", &[0, 0, 0]),
            floats("nodes_values", &[0.5, 0.0, 0.0]),
            strings("nodes_modes", &["BRANCH_LEQ", "LEAF", "LEAF"]),
            ints("nodes_truenodeids", &[1, 0, 0]),
            ints("nodes_falsenodeids", &[2, 0, 0]),
        ]
    }

    /// The stump as a regressor whose two leaves weigh `weights`.
    fn regressor_stump(weights: &[f32]) -> Vec<AttributeProto> {
        let mut attrs = stump();
        attrs.extend([
            ints("target_treeids", &[0, 0]),
            ints("target_nodeids", &[1, 2]),
            ints("target_ids", &[0, 0]),
            floats("target_weights", weights),
        ]);
        attrs
    }

    /// EZKL's large_mlp: a batch of one tiled threefold before a matrix
    /// product, which tract fails to simplify when it sees the Tile.
    #[test]
    fn a_tiled_batch_feeding_a_matrix_product_loads() {
        use tract_onnx::pb::tensor_shape_proto::{dimension, Dimension};
        use tract_onnx::pb::type_proto::{self, Tensor};
        use tract_onnx::pb::{TensorShapeProto, TypeProto, ValueInfoProto};
        let batched = |name: &str| {
            let dim = |value| Dimension { value: Some(value), ..Default::default() };
            let shape = TensorShapeProto {
                dim: vec![dim(dimension::Value::DimParam("batch".into())), dim(dimension::Value::DimValue(2))],
            };
            let tensor = Tensor { elem_type: 1, shape: Some(shape) };
            let r#type = TypeProto { value: Some(type_proto::Value::TensorType(tensor)), ..Default::default() };
            ValueInfoProto { name: name.into(), r#type: Some(r#type), ..Default::default() }
        };
        use crate::onnx::probe::{float_tensor, int64_tensor, step};
        let proto = ModelProto {
            ir_version: 8,
            opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 13 }],
            graph: Some(GraphProto {
                node: vec![step("Tile", &["x", "reps"], "t"), step("MatMul", &["t", "w"], "y")],
                input: vec![batched("x")],
                output: vec![batched("y")],
                initializer: vec![
                    int64_tensor("reps", &[2], &[3, 1]),
                    float_tensor("w", &[2, 2], &[1.0, 2.0, 3.0, 4.0]),
                ],
                ..Default::default()
            }),
            ..Default::default()
        };
        let model = crate::onnx::OnnxModel::from_proto(&proto, "tiled", None, &[2]).expect("loads");
        let y = model.run_float(&[vec![1.0, 1.0]]).expect("runs").concat();
        assert_eq!(y, [4.0, 6.0, 4.0, 6.0, 4.0, 6.0]);
    }

    #[test]
    fn every_listed_ml_operator_has_a_rewrite() {
        for (op, _) in ML_REWRITES {
            let node = NodeProto { op_type: op.into(), domain: ML_DOMAIN.into(), ..Default::default() };
            assert!(rewriter(&node, None).is_some(), "{op}");
        }
    }

    #[test]
    fn unrewritable_nodes_are_refused_together_with_reasons() {
        let mut labelled = stump();
        labelled.extend([
            ints("class_treeids", &[0, 0]),
            ints("class_nodeids", &[1, 2]),
            ints("class_ids", &[0, 1]),
            floats("class_weights", &[1.0, 1.0]),
            strings("classlabels_strings", &["cat", "dog"]),
        ]);
        let mut minimum = regressor_stump(&[1.0, 2.0]);
        minimum.push(string("aggregate_function", "MIN"));
        let nodes = vec![
            ml("TreeEnsembleClassifier", "strings", &["label", "scores"], labelled),
            ml("TreeEnsembleRegressor", "minimum", &["y"], minimum),
            ml(
                "LinearClassifier",
                "probit",
                &["l", "p"],
                vec![
                    floats("coefficients", &[1.0, 2.0]),
                    ints("classlabels_ints", &[0, 1]),
                    string("post_transform", "PROBIT"),
                ],
            ),
            ml(
                "SVMClassifier",
                "platt",
                &["sl", "sp"],
                vec![ints("classlabels_ints", &[0, 1]), floats("prob_a", &[1.0]), floats("prob_b", &[0.0])],
            ),
        ];
        let mut proto =
            ModelProto { graph: Some(GraphProto { node: nodes, ..Default::default() }), ..Default::default() };
        let Err(Error::Unsupported(refused)) = expand_unloadable(&mut proto) else { panic!("refused") };
        let reasons: Vec<(&str, &str)> = refused.iter().map(|r| (r.node.as_str(), r.reason.as_str())).collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(reasons[0].0 == "strings" && reasons[0].1.contains("strings"), "{reasons:?}");
        assert!(reasons[1].0 == "minimum" && reasons[1].1.contains("MIN"), "{reasons:?}");
        assert!(reasons[2].0 == "probit" && reasons[2].1.contains("PROBIT"), "{reasons:?}");
        assert!(reasons[3].0 == "platt" && reasons[3].1.contains("Platt"), "{reasons:?}");
    }

    #[test]
    fn normalizer_max_divides_by_a_negative_maximum_as_onnxruntime() {
        // Rows whose maximum is negative, positive, and a row mixing signs.
        let value = |name: &str| crate::onnx::probe::value_info(name, 1, Some(&[3, 3]));
        let proto = ModelProto {
            ir_version: 8,
            graph: Some(GraphProto {
                node: vec![ml("Normalizer", "norm", &["y"], vec![string("norm", "MAX")])],
                input: vec![value("x")],
                output: vec![value("y")],
                ..Default::default()
            }),
            ..Default::default()
        };
        let model = crate::onnx::OnnxModel::from_proto(&proto, "normalizer", None, &[9]).expect("loads");
        let x = vec![-2.0, -4.0, -1.0, 1.0, 3.0, 2.0, -6.0, 0.5, 0.25];
        let want = [2.0, 4.0, 1.0, 1.0 / 3.0, 1.0, 2.0 / 3.0, -12.0, 1.0, 0.5];
        let got = model.run_float(std::slice::from_ref(&x)).expect("runs").concat();
        assert!(got.iter().zip(&want).all(|(g, w)| (g - w).abs() < 1e-6), "tract: {got:?}");
        // The integer reference, which divides by positive values only.
        let g = model.lower().expect("lowers");
        let graph = crate::quantize::quantize_graph(&g, 12).expect("quantises");
        let out = crate::eval::evaluate(&graph, &crate::quantize_inputs(&[x], 12).expect("fits")).expect("evaluates");
        let got: Vec<f64> = out.outputs(&graph).iter().map(|&v| v as f64 / 4096.0).collect();
        assert!(got.iter().zip(&want).all(|(g, w)| (g - w).abs() < 4e-3), "integer: {got:?}");
    }

    #[test]
    fn a_stump_becomes_comparisons_and_a_leaf_indicator() {
        let attrs = regressor_stump(&[1.5, -2.0]);
        let mut proto = ModelProto {
            graph: Some(GraphProto {
                node: vec![ml("TreeEnsembleRegressor", "forest", &["y"], attrs)],
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(expand_unloadable(&mut proto).ok(), Some(1));
        assert_eq!(proto.opset_import.first().map(|o| o.version), Some(emit::FALLBACK_OPSET));
        let graph = proto.graph.expect("graph");
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["Gather", "Greater", "Not", "Cast", "MatMul", "Add", "Relu", "MatMul", "Identity"]);
        assert_eq!(graph.node.last().map(|n| n.output[0].as_str()), Some("y"));
    }
}
