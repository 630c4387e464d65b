//! Sequences of tensors, resolved before tract loads the graph: tract has no
//! sequence type. PyTorch's TorchScript exporter writes them for lists in
//! scripted code (`torch.stack` and `torch.cat` of a list, `torch.split`), as
//! `SequenceConstruct`, `SplitToSequence`, `SequenceAt` and
//! `ConcatFromSequence`. When every position is a known constant
//! ([`super::known`]), a sequence is just a list of tensors: the sequence
//! operators disappear, `SequenceAt` becomes the tensor it picks,
//! `ConcatFromSequence` a `Concat` (after an `Unsqueeze` of each with
//! `new_axis`), `SplitToSequence` a `Split` and `SequenceLength` a constant.
//! A position computed from the inputs, a split whose count needs a shape not
//! known before tract runs, or a sequence leaving the graph is refused by name.

use std::collections::HashMap;

use tract_onnx::pb::{GraphProto, NodeProto};

use super::emit::{Attr, Attrs, Emit};
use super::known::{Evaluator, Known, Walk};
use super::Refusal;
use crate::error::UnsupportedOp;

const OPS: [&str; 8] = [
    "SequenceEmpty",
    "SequenceConstruct",
    "SequenceInsert",
    "SequenceErase",
    "SequenceAt",
    "SequenceLength",
    "ConcatFromSequence",
    "SplitToSequence",
];

fn is_sequence_op(node: &NodeProto) -> bool {
    (node.domain.is_empty() || node.domain == "ai.onnx") && OPS.contains(&node.op_type.as_str())
}

/// Whether input `i` of a sequence operator is a position or a split (the
/// inputs the rewrite needs to know).
fn is_position(node: &NodeProto, i: usize) -> bool {
    matches!(
        (node.op_type.as_str(), i),
        ("SequenceInsert", 2) | ("SequenceErase" | "SequenceAt" | "SplitToSequence", 1)
    )
}

/// Resolves the sequences of the main graph; returns how many sequence
/// operators were rewritten, adding those that cannot be to `refused`.
pub(crate) fn resolve(graph: &mut GraphProto, opset: Option<i64>, refused: &mut Vec<UnsupportedOp>) -> usize {
    if !graph.node.iter().any(is_sequence_op) {
        return 0;
    }
    let (nodes, mut walk) = Walk::start(graph);
    let mut lists: HashMap<String, Vec<String>> = HashMap::new();
    let mut rewritten = 0;
    for (i, node) in nodes.into_iter().enumerate() {
        let base =
            if node.name.is_empty() { format!("{}_{i}", node.op_type.to_lowercase()) } else { node.name.clone() };
        let refuse = |reason: Refusal, refused: &mut Vec<UnsupportedOp>| {
            refused.push(UnsupportedOp { node: base.clone(), op: node.op_type.clone(), reason })
        };
        if !is_sequence_op(&node) {
            if let Some(s) = node.input.iter().find(|s| lists.contains_key(s.as_str())) {
                refuse(format!("it takes the sequence `{s}`, which zkinfer cannot pass to it"), refused);
            }
            walk.keep(node);
            continue;
        }
        // Positions and splits, from constants.
        let (known, dims) = {
            let scope = walk.scope(graph, None);
            let mut eval = Evaluator::new(&scope, HashMap::new());
            let known: Vec<Option<Known>> = node
                .input
                .iter()
                .enumerate()
                .map(|(i, n)| if n.is_empty() || !is_position(&node, i) { None } else { eval.value(n).ok() })
                .collect();
            (known, node.input.first().and_then(|x| scope.dims(x)))
        };
        let mut emit = Emit::new(graph, &base, opset);
        match step(&mut emit, &node, &known, dims.as_deref(), &mut lists) {
            Ok(()) => {
                emit.finish().into_iter().for_each(|n| walk.keep(n));
                rewritten += 1;
            }
            Err(reason) => {
                drop(emit.finish());
                refuse(reason, refused);
                walk.keep(node);
            }
        }
    }
    for o in &graph.output {
        if lists.contains_key(&o.name) {
            refused.push(UnsupportedOp {
                node: o.name.clone(),
                op: "graph output".into(),
                reason: "a sequence as a model output is not supported".into(),
            });
        }
    }
    walk.finish(graph);
    rewritten
}

/// The list a sequence input names.
fn list<'l>(lists: &'l HashMap<String, Vec<String>>, node: &NodeProto, i: usize) -> Result<&'l Vec<String>, Refusal> {
    let name = Emit::input(node, i)?;
    lists.get(name).ok_or_else(|| format!("its sequence `{name}` is not built from known tensors"))
}

/// A position in a list of `len` (up to `len` itself when inserting),
/// negative ones counting from the end; `None` when the input is absent.
fn position(known: &[Option<Known>], i: usize, len: usize, insert: bool) -> Result<Option<usize>, Refusal> {
    if i >= known.len() {
        return Ok(None);
    }
    let k = known[i].as_ref().ok_or("its position is computed from the model's inputs")?;
    let p = k.single().ok_or("its position is not a scalar")? as i64;
    let len = len as i64;
    let at = if p < 0 { p + len } else { p };
    let last = if insert { len } else { len - 1 };
    if at < 0 || at > last {
        return Err(format!("position {p} is outside a sequence of {len}"));
    }
    Ok(Some(at as usize))
}

/// One sequence operator; `dims` is its first input's shape when known.
fn step(
    emit: &mut Emit<'_>,
    node: &NodeProto,
    known: &[Option<Known>],
    dims: Option<&[usize]>,
    lists: &mut HashMap<String, Vec<String>>,
) -> Result<(), Refusal> {
    let out = Emit::output(node, 0).ok_or("its output is missing")?.to_string();
    let attrs = Attrs(node);
    match node.op_type.as_str() {
        "SequenceEmpty" => {
            lists.insert(out, Vec::new());
        }
        "SequenceConstruct" => {
            lists.insert(out, node.input.clone());
        }
        "SequenceInsert" => {
            let mut l = list(lists, node, 0)?.clone();
            let t = Emit::input(node, 1)?.to_string();
            let at = position(known, 2, l.len(), true)?.unwrap_or(l.len());
            l.insert(at, t);
            lists.insert(out, l);
        }
        "SequenceErase" => {
            let mut l = list(lists, node, 0)?.clone();
            if l.is_empty() {
                return Err("it erases from an empty sequence".into());
            }
            let at = position(known, 1, l.len(), false)?.unwrap_or(l.len() - 1);
            l.remove(at);
            lists.insert(out, l);
        }
        "SequenceAt" => {
            let l = list(lists, node, 0)?;
            let at = position(known, 1, l.len(), false)?.ok_or("its position is missing")?;
            emit.op_into("Identity", &[&l[at]], vec![], &out);
        }
        "SequenceLength" => {
            let n = list(lists, node, 0)?.len() as i64;
            let len = emit.int64s("length", &[], vec![n]);
            emit.op_into("Identity", &[&len], vec![], &out);
        }
        "ConcatFromSequence" => {
            let l = list(lists, node, 0)?.clone();
            if l.is_empty() {
                return Err("it concatenates an empty sequence".into());
            }
            let axis = attrs.int("axis").ok_or("its axis is missing")?;
            let parts: Vec<String> =
                if attrs.int("new_axis") == Some(1) { l.iter().map(|t| emit.unsqueeze(t, axis)).collect() } else { l };
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            emit.op_into("Concat", &parts, vec![("axis", Attr::Int(axis))], &out);
        }
        "SplitToSequence" => {
            let x = Emit::input(node, 0)?;
            let axis = attrs.int("axis").unwrap_or(0);
            // The axis's length, for a split into chunks.
            let length = || -> Result<i64, Refusal> {
                let dims = dims.ok_or("a split into chunks needs the input's shape, known only to tract")?;
                let a = if axis < 0 { axis + dims.len() as i64 } else { axis };
                usize::try_from(a)
                    .ok()
                    .and_then(|a| dims.get(a))
                    .map(|&d| d as i64)
                    .ok_or("its axis is out of range".into())
            };
            let (sizes, squeeze) = match node.input.get(1).filter(|s| !s.is_empty()).map(|_| known.get(1)) {
                Some(Some(Some(k))) if !k.dims.is_empty() => {
                    (k.data.iter().map(|&v| v as i64).collect::<Vec<_>>(), false)
                }
                Some(Some(Some(k))) => {
                    let chunk = k.single().ok_or("its split is empty")? as i64;
                    let length = length()?;
                    if chunk <= 0 {
                        return Err(format!("a split into chunks of {chunk}"));
                    }
                    let mut sizes = vec![chunk; (length / chunk) as usize];
                    if length % chunk != 0 {
                        sizes.push(length % chunk);
                    }
                    (sizes, false)
                }
                Some(_) => return Err("its split is computed from the model's inputs".into()),
                None => (vec![1; length()? as usize], attrs.int("keepdims") == Some(0)),
            };
            let pieces: Vec<String> = (0..sizes.len()).map(|j| format!("{out}.part{j}")).collect();
            emit.split_into(x, axis, &sizes, &pieces);
            let pieces = if squeeze { pieces.iter().map(|p| emit.squeeze(p, axis)).collect() } else { pieces };
            lists.insert(out, pieces);
        }
        other => return Err(format!("{other} is not a sequence operator")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tract_onnx::pb::{AttributeProto, ModelProto, OperatorSetIdProto, TensorProto};

    use crate::error::Error;
    use crate::onnx::probe::{int64_tensor, step, value_info};
    use crate::onnx::OnnxModel;

    use super::*;

    fn int(name: &str, v: i64) -> AttributeProto {
        AttributeProto { name: name.into(), i: v, r#type: 2, ..Default::default() }
    }

    fn model(nodes: Vec<NodeProto>, outputs: &[&str], initializer: Vec<TensorProto>) -> ModelProto {
        ModelProto {
            ir_version: 8,
            opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 17 }],
            graph: Some(GraphProto {
                node: nodes,
                input: vec![value_info("x", 1, Some(&[2, 3]))],
                output: outputs.iter().map(|o| value_info(o, 1, None)).collect(),
                initializer,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// x = [[0, 1, 2], [3, 4, 5]]: split into its columns (chunks of one),
    /// the list [x, −x] with the second column inserted first, picked and
    /// stacked.
    #[test]
    fn sequences_with_known_positions_become_lists_of_tensors() {
        let mut split = NodeProto {
            op_type: "SplitToSequence".into(),
            input: vec!["x".into(), "one".into()],
            output: vec!["columns".into()],
            ..Default::default()
        };
        split.attribute.push(int("axis", 1));
        let mut stack = step("ConcatFromSequence", &["pair"], "stacked");
        stack.attribute.extend([int("axis", 0), int("new_axis", 1)]);
        let nodes = vec![
            split,
            step("SequenceAt", &["columns", "minus_two"], "second"),
            step("Neg", &["x"], "neg"),
            step("SequenceConstruct", &["x", "neg"], "list"),
            step("SequenceInsert", &["list", "x", "zero"], "pair3"),
            step("SequenceErase", &["pair3", "zero"], "pair"),
            stack,
            step("SequenceLength", &["columns"], "count"),
        ];
        let inits = vec![
            int64_tensor("one", &[], &[1]),
            int64_tensor("minus_two", &[], &[-2]),
            int64_tensor("zero", &[], &[0]),
        ];
        let proto = model(nodes, &["second", "stacked", "count"], inits);
        let m = OnnxModel::from_proto(&proto, "sequences", None, &[6]).expect("loads");
        let out = m.run_float(&[vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]]).expect("runs");
        assert_eq!(out[0], [1.0, 4.0], "the second of three columns");
        assert_eq!(out[1], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, -0.0, -1.0, -2.0, -3.0, -4.0, -5.0]);
        assert_eq!(out[2], [3.0]);
    }

    #[test]
    fn computed_positions_and_sequence_outputs_are_refused_by_name() {
        let nodes = vec![
            step("SequenceConstruct", &["x", "x"], "list"),
            step("ReduceSum", &["x"], "s"),
            step("Cast", &["s"], "pos"),
            step("SequenceAt", &["list", "pos"], "picked"),
        ];
        let mut proto = model(nodes, &["picked", "list"], vec![]);
        let Err(Error::Unsupported(refused)) = super::super::expand_unloadable(&mut proto) else { panic!("refused") };
        let reasons: Vec<String> = refused.iter().map(|r| format!("{} {}: {}", r.node, r.op, r.reason)).collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(
            reasons[0].contains("SequenceAt") && reasons[0].contains("computed from the model's inputs"),
            "{reasons:?}"
        );
        assert!(reasons[1].contains("list") && reasons[1].contains("model output"), "{reasons:?}");
    }
}
