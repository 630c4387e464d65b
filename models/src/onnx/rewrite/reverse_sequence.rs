//! `ReverseSequence` (tract cannot load it): what tf2onnx writes for
//! TensorFlow's `tf.reverse` along a time axis, e.g. a Keras recurrent layer
//! with `go_backwards=True`, with every length the full sequence. Along the
//! time axis `t`, batch `b` reads position `L_b − 1 − t` while `t < L_b` and
//! `t` after: a `GatherElements` whose index tensor the rewrite computes from
//! the shape and the lengths (`Range`, `Less`, `Where`). With a static shape
//! and constant lengths tract folds it to constant indices, which is data
//! movement; computed lengths select by computed indices.

use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::NodeProto;

use super::emit::{Attr, Attrs, Emit};
use super::Refusal;

pub(super) fn expand(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    if emit.opset() < 11 {
        return Err(format!("ReverseSequence needs opset 11 or later here (the model has opset {})", emit.opset()));
    }
    let attrs = Attrs(node);
    let (time_axis, batch_axis) = (attrs.int("time_axis").unwrap_or(0), attrs.int("batch_axis").unwrap_or(1));
    if !matches!((time_axis, batch_axis), (0, 1) | (1, 0)) {
        return Err(format!("time_axis {time_axis} and batch_axis {batch_axis} (ONNX allows 0 and 1, one each)"));
    }
    let x = Emit::input(node, 0)?;
    let lens = Emit::input(node, 1)?;
    let y = Emit::output(node, 0).ok_or("its output is missing")?;
    let shape = emit.op("Shape", &[x], vec![]);
    let time = emit.int64s("time_axis", &[], vec![time_axis]);
    let steps = emit.op("Gather", &[&shape, &time], vec![("axis", Attr::Int(0))]);
    let zero = emit.int64s("zero", &[], vec![0]);
    let one = emit.int64s("one", &[], vec![1]);
    let t = emit.op("Range", &[&zero, &steps, &one], vec![]);
    let lens = emit.cast(lens, DataType::Int64);
    // t along the time axis, the lengths along the batch axis.
    let (t, lens) = if time_axis == 0 {
        (emit.unsqueeze(&t, 1), emit.unsqueeze(&lens, 0))
    } else {
        (emit.unsqueeze(&t, 0), emit.unsqueeze(&lens, 1))
    };
    let last = emit.binary("Sub", &lens, &one);
    let mirrored = emit.binary("Sub", &last, &t);
    let inside = emit.binary("Less", &t, &lens);
    let index = emit.op("Where", &[&inside, &mirrored, &t], vec![]);
    // The same index for every position of the remaining axes: reshaped to
    // the first two dimensions and rank − 2 ones, then expanded.
    let ones = emit.trailing_ones(&shape);
    let start = emit.int64s("start", &[1], vec![0]);
    let two = emit.int64s("two", &[1], vec![2]);
    let leading = emit.op("Slice", &[&shape, &start, &two], vec![]);
    let target = emit.op("Concat", &[&leading, &ones], vec![("axis", Attr::Int(0))]);
    let index = emit.binary("Reshape", &index, &target);
    let index = emit.binary("Expand", &index, &shape);
    emit.op_into("GatherElements", &[x, &index], vec![("axis", Attr::Int(time_axis))], y);
    Ok(())
}

#[cfg(test)]
mod tests {
    use tract_onnx::pb::attribute_proto::AttributeType;
    use tract_onnx::pb::{AttributeProto, GraphProto, ModelProto, OperatorSetIdProto};

    use super::*;
    use crate::onnx::rewrite::expand_unloadable;

    fn reverse(time_axis: i64, batch_axis: i64, opset: i64) -> ModelProto {
        let int = |name: &str, i: i64| AttributeProto {
            name: name.into(),
            r#type: AttributeType::Int as i32,
            i,
            ..Default::default()
        };
        let node = NodeProto {
            op_type: "ReverseSequence".into(),
            name: "rev".into(),
            input: vec!["x".into(), "lens".into()],
            output: vec!["y".into()],
            attribute: vec![int("time_axis", time_axis), int("batch_axis", batch_axis)],
            ..Default::default()
        };
        ModelProto {
            graph: Some(GraphProto { node: vec![node], ..Default::default() }),
            opset_import: vec![OperatorSetIdProto { domain: String::new(), version: opset }],
            ..Default::default()
        }
    }

    #[test]
    fn reverse_sequence_becomes_a_gather_along_the_time_axis() {
        let mut proto = reverse(1, 0, 13);
        assert_eq!(expand_unloadable(&mut proto).ok(), Some(1));
        let graph = proto.graph.expect("graph");
        let last = graph.node.last().expect("nodes");
        assert_eq!((last.op_type.as_str(), last.output[0].as_str()), ("GatherElements", "y"));
        assert!(last.attribute.iter().any(|a| a.name == "axis" && a.i == 1), "gathers along the time axis");
        assert!(graph.node.iter().any(|n| n.op_type == "Where"), "past a length, positions stay");
    }

    #[test]
    fn old_opsets_and_other_axes_are_refused() {
        let e = expand_unloadable(&mut reverse(0, 1, 10)).expect_err("opset 10");
        assert!(e.to_string().contains("opset 11"), "{e}");
        let e = expand_unloadable(&mut reverse(0, 2, 13)).expect_err("axis 2");
        assert!(e.to_string().contains("batch_axis 2"), "{e}");
    }
}
