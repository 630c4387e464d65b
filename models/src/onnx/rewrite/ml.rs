//! The `ai.onnx.ml` operators of preprocessing and linear models, as standard
//! operators: `Scaler`, `Normalizer`, `Binarizer`, `Imputer`,
//! `ArrayFeatureExtractor`, `FeatureVectorizer`, `LinearRegressor`,
//! `LinearClassifier`, `OneHotEncoder` (integer categories) and `ZipMap` (whose
//! map of class to probability becomes the probability tensor itself).

use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::NodeProto;

use super::classify::{self, BinaryScores};
use super::emit::{Attr, Attrs, Emit};
use super::{Refusal, Rewrite};

/// The rewrite of one `ai.onnx.ml` operator of this module.
pub(super) fn rewriter(op: &str) -> Option<Rewrite> {
    let rewrite: Rewrite = match op {
        "Scaler" => scaler,
        "Normalizer" => normalizer,
        "Binarizer" => binarizer,
        "Imputer" => imputer,
        "ArrayFeatureExtractor" => array_feature_extractor,
        "FeatureVectorizer" => feature_vectorizer,
        "LinearRegressor" => linear_regressor,
        "LinearClassifier" => linear_classifier,
        "ZipMap" => zip_map,
        "OneHotEncoder" => one_hot_encoder,
        _ => return None,
    };
    Some(rewrite)
}

fn only_output(node: &NodeProto) -> Result<&str, Refusal> {
    Emit::output(node, 0).ok_or_else(|| "its output is missing".into())
}

/// `y = (x − offset) · scale`, per column or for all.
fn scaler(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let attrs = Attrs(node);
    let (x, y) = (Emit::input(node, 0)?, only_output(node)?);
    let offset = attrs.floats("offset");
    let scale = attrs.floats("scale");
    let centred = if offset.is_empty() {
        x.to_string()
    } else {
        let offset = emit.vector("offset", &offset);
        emit.binary("Sub", x, &offset)
    };
    if scale.is_empty() {
        emit.op_into("Identity", &[&centred], vec![], y);
    } else {
        let scale = emit.vector("scale", &scale);
        emit.op_into("Mul", &[&centred, &scale], vec![], y);
    }
    Ok(())
}

/// Each row divided by its largest value (`MAX`), its sum of absolute values
/// (`L1`) or its Euclidean norm (`L2`).
fn normalizer(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let (x, y) = (Emit::input(node, 0)?, only_output(node)?);
    let norm = Attrs(node).string("norm").unwrap_or_else(|| "MAX".into());
    let divisor = match norm.as_str() {
        "MAX" => emit.reduce_last("ReduceMax", x),
        "L1" => {
            let abs = emit.op("Abs", &[x], vec![]);
            emit.reduce_last("ReduceSum", &abs)
        }
        "L2" => {
            let squares = emit.binary("Mul", x, x);
            let sum = emit.reduce_last("ReduceSum", &squares);
            emit.op("Sqrt", &[&sum], vec![])
        }
        other => return Err(format!("its norm {other} is not one of MAX, L1, L2")),
    };
    emit.op_into("Div", &[x, &divisor], vec![], y);
    Ok(())
}

/// `y = 1` where `x > threshold`, else `0`.
fn binarizer(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let (x, y) = (Emit::input(node, 0)?, only_output(node)?);
    let threshold = emit.scalar("threshold", f64::from(Attrs(node).float("threshold").unwrap_or(0.0)));
    let above = emit.binary("Greater", x, &threshold);
    emit.cast_float_into(&above, y);
    Ok(())
}

/// Replaces the values equal to `replaced_value_float` by the column's imputed
/// value. A NaN replaced value (scikit-learn's default) replaces nothing a
/// fixed-point input can hold, so the operator is the identity.
fn imputer(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let attrs = Attrs(node);
    let (x, y) = (Emit::input(node, 0)?, only_output(node)?);
    let imputed = attrs.floats("imputed_value_floats");
    if imputed.is_empty() {
        return Err("only float imputation (imputed_value_floats) is supported".into());
    }
    let replaced = f64::from(attrs.float("replaced_value_float").unwrap_or(0.0));
    if replaced.is_nan() {
        emit.op_into("Identity", &[x], vec![], y);
        return Ok(());
    }
    let replaced = emit.scalar("replaced", replaced);
    let imputed = emit.vector("imputed", &imputed);
    let missing = emit.binary("Equal", x, &replaced);
    emit.op_into("Where", &[&missing, &imputed, x], vec![], y);
    Ok(())
}

/// `data[..., indices]` with the indices flattened; a vector `data` gives one
/// row, as onnxruntime does.
fn array_feature_extractor(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let (data, indices, y) = (Emit::input(node, 0)?, Emit::input(node, 1)?, only_output(node)?);
    let flat_shape = emit.int64s("flat", &[1], vec![-1]);
    let flat = emit.binary("Reshape", indices, &flat_shape);
    if emit.constant_rank(data) == Some(1) {
        let picked = emit.op("Gather", &[data, &flat], vec![("axis", Attr::Int(-1))]);
        let row = emit.int64s("row", &[2], vec![1, -1]);
        emit.op_into("Reshape", &[&picked, &row], vec![], y);
    } else {
        emit.op_into("Gather", &[data, &flat], vec![("axis", Attr::Int(-1))], y);
    }
    Ok(())
}

/// The inputs' columns side by side, each cut to its declared width.
fn feature_vectorizer(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let y = only_output(node)?;
    let widths = Attrs(node).ints("inputdimensions");
    if widths.len() != node.input.len() {
        return Err(format!("it has {} inputs but {} input dimensions", node.input.len(), widths.len()));
    }
    let mut parts = Vec::with_capacity(widths.len());
    for (input, &width) in node.input.iter().zip(&widths) {
        let starts = emit.int64s("start", &[1], vec![0]);
        let ends = emit.int64s("end", &[1], vec![width]);
        let axes = emit.int64s("axis", &[1], vec![1]);
        parts.push(emit.op("Slice", &[input, &starts, &ends, &axes], vec![]));
    }
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    emit.op_into("Concat", &parts, vec![("axis", Attr::Int(1))], y);
    Ok(())
}

/// `x · Wᵀ + b` for the row-major `targets × features` coefficients `W`:
/// returns the `features × targets` matrix, row-major.
fn transposed(coefficients: &[f64], targets: usize) -> Result<(usize, Vec<f64>), Refusal> {
    if targets == 0 || coefficients.is_empty() || !coefficients.len().is_multiple_of(targets) {
        return Err(format!("its {} coefficients do not split into {targets} rows", coefficients.len()));
    }
    let features = coefficients.len() / targets;
    let mut w = vec![0.0; coefficients.len()];
    for t in 0..targets {
        for f in 0..features {
            w[f * targets + t] = coefficients[t * features + f];
        }
    }
    Ok((features, w))
}

/// `x · Wᵀ + intercepts`, `W` given as `rows` rows of coefficients.
fn affine(
    emit: &mut Emit<'_>,
    x: &str,
    coefficients: &[f64],
    rows: usize,
    intercepts: &[f64],
) -> Result<String, Refusal> {
    let (features, w) = transposed(coefficients, rows)?;
    let product = emit.matmul_const(x, features, &w);
    if intercepts.is_empty() {
        return Ok(product);
    }
    if intercepts.len() != rows {
        return Err(format!("it has {} intercepts for {rows} outputs", intercepts.len()));
    }
    let b = emit.vector("intercepts", intercepts);
    Ok(emit.binary("Add", &product, &b))
}

fn linear_regressor(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let attrs = Attrs(node);
    let (x, y) = (Emit::input(node, 0)?, only_output(node)?);
    let targets = attrs.int("targets").unwrap_or(1).max(1) as usize;
    let scores = affine(emit, x, &attrs.floats("coefficients"), targets, &attrs.floats("intercepts"))?;
    classify::post_transform(emit, &attrs.post_transform(), &scores, y)
}

fn linear_classifier(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let attrs = Attrs(node);
    let x = Emit::input(node, 0)?;
    let labels = classify::int_labels(node, "classlabels_ints")?;
    let intercepts = attrs.floats("intercepts");
    let coefficients = attrs.floats("coefficients");
    let rows = if intercepts.is_empty() { labels.len() } else { intercepts.len() };
    let raw = affine(emit, x, &coefficients, rows, &intercepts)?;
    classify::outputs(emit, node, raw, rows, &labels, BinaryScores::Symmetric)
}

/// The probability tensor itself instead of one map per row.
fn zip_map(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let (x, y) = (Emit::input(node, 0)?, only_output(node)?);
    emit.op_into("Identity", &[x], vec![], y);
    emit.forget_output_type(y);
    Ok(())
}

/// `y[..., c] = [x = category_c]` on a new last axis, `x` truncated to an
/// integer first as onnxruntime does. An unknown category gives a row of
/// zeros (onnxruntime fails instead when `zeros = 0`).
fn one_hot_encoder(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let attrs = Attrs(node);
    let (x, y) = (Emit::input(node, 0)?, only_output(node)?);
    let categories = attrs.ints("cats_int64s");
    if categories.is_empty() {
        return Err("only integer categories (cats_int64s) are supported; string categories cannot be proven".into());
    }
    let integers = emit.cast(x, DataType::Int64);
    let column = emit.unsqueeze_last(&integers);
    let categories = emit.int64s("categories", &[categories.len()], categories);
    let hits = emit.binary("Equal", &column, &categories);
    emit.cast_float_into(&hits, y);
    Ok(())
}
