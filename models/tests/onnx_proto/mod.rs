//! Building ONNX protobuf graphs in Rust for the operator tests, so that each
//! operator goes through tract's ONNX front end exactly as a file would.

#![allow(dead_code)]

use tract_onnx::pb::{self, tensor_proto::DataType, type_proto};

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
