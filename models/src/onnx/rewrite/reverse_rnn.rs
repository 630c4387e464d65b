//! RNN, GRU and LSTM with `direction = "reverse"` (what tf2onnx writes for a
//! Keras layer with `go_backwards=True`). tract runs such a layer forward,
//! which ONNX's own test cases show to be wrong, so the rewrite reverses the
//! sequence, runs the layer forward and reverses its sequence output `Y` back.
//! The final states `Y_h` and `Y_c` are the state after the last step run
//! either way (the first time step), so they pass through unchanged.

use tract_onnx::pb::NodeProto;

use super::emit::{Attrs, Emit};
use super::Refusal;

/// Whether `node` is a recurrent layer run in reverse.
pub(super) fn is_reverse(node: &NodeProto) -> bool {
    matches!(node.op_type.as_str(), "RNN" | "GRU" | "LSTM")
        && Attrs(node).string("direction").as_deref() == Some("reverse")
}

pub(super) fn expand(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    if node.input.get(4).is_some_and(|s| !s.is_empty()) {
        return Err("a reverse recurrent layer with `sequence_lens` (sequences of different lengths) is not \
                    supported"
            .into());
    }
    if emit.opset() < 10 {
        return Err(format!(
            "a reverse recurrent layer needs opset 10 or later to be reversed in time (the model has opset {})\n  \
             hint: re-export the model with a newer opset",
            emit.opset()
        ));
    }
    // The time axis of X and of Y: 0, or 1 with `layout = 1` (batch first).
    let time_axis = i64::from(Attrs(node).int("layout").unwrap_or(0) == 1);
    let x = Emit::input(node, 0)?;
    let reversed_x = emit.fresh_name("reversed_x");
    emit.reverse_into(x, time_axis, &reversed_x);
    let mut forward = node.clone();
    forward.name = format!("{}.forward", if node.name.is_empty() { &node.op_type } else { &node.name });
    forward.input[0] = reversed_x;
    for a in forward.attribute.iter_mut().filter(|a| a.name == "direction") {
        a.s = b"forward".to_vec();
    }
    let y = Emit::output(node, 0).map(str::to_string);
    let reversed_y = y.as_ref().map(|_| emit.fresh_name("reversed_y"));
    if let Some(r) = &reversed_y {
        forward.output[0] = r.clone();
    }
    emit.node(forward);
    if let (Some(y), Some(r)) = (y, reversed_y) {
        emit.reverse_into(&r, time_axis, &y);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tract_onnx::pb::attribute_proto::AttributeType;
    use tract_onnx::pb::{AttributeProto, GraphProto, ModelProto, OperatorSetIdProto};

    use super::*;
    use crate::onnx::rewrite::expand_unloadable;

    fn lstm(direction: &str, inputs: &[&str]) -> ModelProto {
        let node = NodeProto {
            op_type: "LSTM".into(),
            name: "lstm".into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec!["y".into(), "y_h".into()],
            attribute: vec![AttributeProto {
                name: "direction".into(),
                r#type: AttributeType::String as i32,
                s: direction.as_bytes().to_vec(),
                ..Default::default()
            }],
            ..Default::default()
        };
        ModelProto {
            graph: Some(GraphProto { node: vec![node], ..Default::default() }),
            opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 14 }],
            ..Default::default()
        }
    }

    #[test]
    fn a_reverse_layer_runs_forward_on_the_reversed_sequence() {
        let mut proto = lstm("reverse", &["x", "w", "r"]);
        assert_eq!(expand_unloadable(&mut proto).ok(), Some(1));
        let graph = proto.graph.expect("graph");
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["Slice", "LSTM", "Slice"]);
        let layer = &graph.node[1];
        assert_eq!(layer.input[0], graph.node[0].output[0], "the layer reads the reversed sequence");
        assert!(layer.attribute.iter().any(|a| a.name == "direction" && a.s == b"forward"));
        assert_eq!(layer.output[1], "y_h", "the final state passes through");
        assert_eq!(graph.node[2].input[0], layer.output[0]);
        assert_eq!(graph.node[2].output[0], "y", "Y is reversed back");
    }

    #[test]
    fn forward_layers_are_left_alone_and_sequence_lengths_are_refused() {
        let mut proto = lstm("forward", &["x", "w", "r"]);
        assert_eq!(expand_unloadable(&mut proto).ok(), Some(0));
        let mut proto = lstm("reverse", &["x", "w", "r", "b", "lens"]);
        let e = expand_unloadable(&mut proto).expect_err("sequence_lens");
        assert!(e.to_string().contains("sequence_lens"), "{e}");
    }
}
