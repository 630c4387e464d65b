//! Building ONNX protobuf graphs in Rust for the operator tests, so that each
//! operator goes through tract's ONNX front end exactly as a file would.

#![allow(dead_code)]

use tract_onnx::pb::{self, tensor_proto::DataType, type_proto};
use tract_onnx::prelude::*;
use zkinfer_models::onnx::OnnxModel;

/// A node `op(inputs) → output`, named after its output.
pub fn node(op: &str, inputs: &[&str], output: &str) -> pb::NodeProto {
    pb::NodeProto {
        op_type: op.into(),
        name: output.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        ..Default::default()
    }
}

/// A float initialiser.
pub fn float_tensor(name: &str, dims: &[i64], data: &[f32]) -> pb::TensorProto {
    pb::TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Float as i32,
        float_data: data.to_vec(),
        ..Default::default()
    }
}

/// A graph input or output of element type `dt` and unspecified shape.
pub fn typed_value(name: &str, dt: DataType) -> pb::ValueInfoProto {
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor { elem_type: dt as i32, shape: None })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A float graph input or output of unspecified shape.
pub fn value(name: &str) -> pb::ValueInfoProto {
    typed_value(name, DataType::Float)
}

/// Loads graph `name` of `nodes` and `init`, with float `inputs` of the given
/// shapes and float `outputs`, at ONNX `opset`, as tract would load the file.
pub fn load(
    name: &str,
    nodes: Vec<pb::NodeProto>,
    init: Vec<pb::TensorProto>,
    inputs: &[(&str, &[usize])],
    outputs: &[&str],
    opset: i64,
) -> OnnxModel {
    let graph = pb::GraphProto {
        name: name.into(),
        node: nodes,
        initializer: init,
        input: inputs.iter().map(|(n, _)| value(n)).collect(),
        output: outputs.iter().map(|n| value(n)).collect(),
        ..Default::default()
    };
    let proto = pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: opset }],
        graph: Some(graph),
        ..Default::default()
    };
    let mut model = tract_onnx::onnx().parse(&proto, None).expect("parses").model;
    for (i, (_, shape)) in inputs.iter().enumerate() {
        model.set_input_fact(i, f32::fact(*shape).into()).expect("input fact");
    }
    OnnxModel::from_typed(&format!("{name}.onnx"), model.into_typed().expect("types")).expect("declutters")
}
