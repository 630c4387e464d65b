//! The common end of the `ai.onnx.ml` classifiers: the post transform of the
//! class scores and the predicted label.

use tract_onnx::pb::NodeProto;

use super::emit::{Attr, Attrs, Emit};
use super::Refusal;

/// How a classifier with a single score column (a binary classifier that
/// scores only the positive class) spreads it over the two classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinaryScores {
    /// `[−s, s]` (linear classifiers, and tree ensembles whose post transform
    /// is a logistic or a softmax).
    Symmetric,
    /// `[1 − s, s]` (tree ensembles without post transform).
    Complement,
}

/// The class labels of a classifier: its integer labels, or a refusal for
/// string labels when the label output is used.
pub(crate) fn int_labels(node: &NodeProto, ints_attr: &str) -> Result<Vec<i64>, Refusal> {
    let attrs = Attrs(node);
    let ints = attrs.ints(ints_attr);
    let strings = attrs.strings("classlabels_strings");
    if !strings.is_empty() {
        if Emit::output(node, 0).is_some() {
            return Err(format!(
                "its {} class labels are strings ({}, ...), and a circuit proves numbers; export the model with \
                 integer class labels (encode the targets, e.g. with scikit-learn's LabelEncoder, before fitting)",
                strings.len(),
                strings.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        return Ok((0..strings.len() as i64).collect());
    }
    if ints.is_empty() {
        return Err("it has no class labels".into());
    }
    Ok(ints)
}

/// Writes the classifier's outputs from its raw scores `raw` (`columns`
/// columns): output 0 the label, output 1 the post-transformed scores.
pub(crate) fn outputs(
    emit: &mut Emit<'_>,
    node: &NodeProto,
    raw: String,
    columns: usize,
    labels: &[i64],
    binary: BinaryScores,
) -> Result<(), Refusal> {
    let post = Attrs(node).post_transform();
    let scores = if columns == 1 && labels.len() == 2 {
        // [c − s, s] as [−s, s] + [c, 0].
        let spread = symmetric(emit, &raw);
        match binary {
            BinaryScores::Symmetric => spread,
            BinaryScores::Complement => {
                let offset = emit.vector("binary_offset", &[1.0, 0.0]);
                emit.binary("Add", &spread, &offset)
            }
        }
    } else if columns == labels.len() {
        raw
    } else {
        return Err(format!("it has {columns} score columns for {} classes", labels.len()));
    };
    if let Some(out) = Emit::output(node, 0) {
        label(emit, &scores, labels, out);
    }
    if let Some(out) = Emit::output(node, 1) {
        post_transform(emit, &post, &scores, out)?;
    }
    Ok(())
}

/// `[−s, s]` from a one-column score `s`.
pub(crate) fn symmetric(emit: &mut Emit<'_>, s: &str) -> String {
    let spread = emit.matrix("binary", 1, &[-1.0, 1.0]);
    emit.binary("MatMul", s, &spread)
}

/// Writes to `out` the label of the first column with the largest value of
/// `tally` (scores or votes).
pub(crate) fn label(emit: &mut Emit<'_>, tally: &str, labels: &[i64], out: &str) {
    let index = emit.op("ArgMax", &[tally], vec![("axis", Attr::Int(-1)), ("keepdims", Attr::Int(0))]);
    if labels.iter().enumerate().all(|(i, &l)| l == i as i64) {
        emit.op_into("Identity", &[&index], vec![], out);
    } else {
        let table = emit.int64s("labels", &[labels.len()], labels.to_vec());
        emit.op_into("Gather", &[&table, &index], vec![("axis", Attr::Int(0))], out);
    }
}

/// Writes `post(scores)` to `out` for an `ai.onnx.ml` post transform.
pub(crate) fn post_transform(emit: &mut Emit<'_>, post: &str, scores: &str, out: &str) -> Result<(), Refusal> {
    match post {
        "NONE" => emit.op_into("Identity", &[scores], vec![], out),
        "LOGISTIC" => emit.op_into("Sigmoid", &[scores], vec![], out),
        "SOFTMAX" => emit.op_into("Softmax", &[scores], vec![("axis", Attr::Int(-1))], out),
        other => {
            return Err(format!(
                "its post transform {other} is not supported (NONE, LOGISTIC and SOFTMAX are); export the raw scores \
                 and apply it outside the proof"
            ))
        }
    }
    Ok(())
}
