//! `Upsample` of ONNX opsets 7 to 9 (PyTorch's `nn.Upsample` while its default
//! opset was 9), which tract does not load itself: loaded as tract's `Resize`
//! of opset 10 after zkinfer's rewrite. The expected outputs are
//! onnxruntime's (1.32) on the same models; the lowering equals them, and the
//! integer reference stays within a few units.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tract_onnx::pb::{self, attribute_proto::AttributeType, tensor_proto::DataType};
use zkinfer_models::eval::evaluate;
use zkinfer_models::onnx::{OnnxModel, OpStatus};
use zkinfer_models::quantize::quantize_graph;
use zkinfer_models::quantize_inputs;

/// An Upsample of `x [1, 1, 2, 3]` at `opset`, its scales an input (opset 9)
/// or an attribute (opsets 7 and 8).
fn upsample(opset: i64, mode: &str, scales: [f32; 4]) -> OnnxModel {
    let mut node = pb::NodeProto {
        op_type: "Upsample".into(),
        input: vec!["x".into()],
        output: vec!["y".into()],
        attribute: vec![pb::AttributeProto {
            name: "mode".into(),
            r#type: AttributeType::String as i32,
            s: mode.as_bytes().to_vec(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut initializer = vec![];
    if opset >= 9 {
        node.input.push("scales".into());
        initializer.push(pb::TensorProto {
            name: "scales".into(),
            dims: vec![4],
            data_type: DataType::Float as i32,
            float_data: scales.to_vec(),
            ..Default::default()
        });
    } else {
        node.attribute.push(pb::AttributeProto {
            name: "scales".into(),
            r#type: AttributeType::Floats as i32,
            floats: scales.to_vec(),
            ..Default::default()
        });
    }
    let value = |name: &str| pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: None,
            })),
            ..Default::default()
        }),
        ..Default::default()
    };
    let proto = pb::ModelProto {
        ir_version: 7,
        opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: opset }],
        graph: Some(pb::GraphProto {
            name: "upsample".into(),
            node: vec![node],
            initializer,
            input: vec![value("x")],
            output: vec![value("y")],
            ..Default::default()
        }),
        ..Default::default()
    };
    OnnxModel::from_proto(&proto, "upsample.onnx", Some(&[vec![1, 1, 2, 3]]), &[6]).expect("loads")
}

#[test]
fn legacy_upsample_matches_onnxruntime() {
    let nearest_3x2 = [
        0., 0., 1., 1., 2., 2., 0., 0., 1., 1., 2., 2., 0., 0., 1., 1., 2., 2., //
        3., 3., 4., 4., 5., 5., 3., 3., 4., 4., 5., 5., 3., 3., 4., 4., 5., 5.,
    ];
    let linear_2x2 = [
        0.0, 0.5, 1.0, 1.5, 2.0, 2.0, 1.5, 2.0, 2.5, 3.0, 3.5, 3.5, //
        3.0, 3.5, 4.0, 4.5, 5.0, 5.0, 3.0, 3.5, 4.0, 4.5, 5.0, 5.0,
    ];
    let (a, b) = (2.0 / 3.0, 4.0 / 3.0);
    let linear_2x1_5 =
        [0.0, a, b, 2.0, 1.5, 1.5 + a, 1.5 + b, 3.5, 3.0, 3.0 + a, 3.0 + b, 5.0, 3.0, 3.0 + a, 3.0 + b, 5.0];
    let cases: [(i64, &str, [f32; 4], &[f64]); 4] = [
        // Scale 3: floor (Upsample's rule) and rounding differ at 2/3.
        (9, "nearest", [1., 1., 3., 2.], &nearest_3x2),
        (9, "linear", [1., 1., 2., 2.], &linear_2x2),
        (7, "nearest", [1., 1., 3., 2.], &nearest_3x2),
        (8, "linear", [1., 1., 2., 1.5], &linear_2x1_5),
    ];
    let x = vec![vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]];
    for (opset, mode, scales, want) in cases {
        let name = format!("opset {opset} {mode} {scales:?}");
        let model = upsample(opset, mode, scales);
        assert!(model.op_table().iter().all(|r| !matches!(r.status, OpStatus::Unsupported(_))), "{name}");
        let got = model.run_float(&x).unwrap().concat();
        assert_eq!(got.len(), want.len(), "{name}");
        assert!(got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-5), "{name}: tract gives {got:?}");
        let g = model.lower().unwrap();
        let lowered = g.outputs_of(&g.evaluate(&x)).concat();
        assert!(lowered.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-5), "{name}: lowered to {lowered:?}");
        let graph = quantize_graph(&g, 8).unwrap();
        let trace = evaluate(&graph, &quantize_inputs(&x, 8).unwrap()).unwrap();
        let ints: Vec<f64> = trace.outputs(&graph).iter().map(|v| *v as f64 / 256.0).collect();
        assert!(ints.iter().zip(want).all(|(g, w)| (g - w).abs() <= 2.0 / 256.0), "{name}: integers {ints:?}");
    }
}

#[test]
fn an_upsample_without_scales_is_refused_by_name() {
    let proto = pb::ModelProto {
        ir_version: 7,
        opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: 7 }],
        graph: Some(pb::GraphProto {
            node: vec![pb::NodeProto {
                op_type: "Upsample".into(),
                name: "up".into(),
                input: vec!["x".into()],
                output: vec!["y".into()],
                ..Default::default()
            }],
            input: vec![pb::ValueInfoProto { name: "x".into(), ..Default::default() }],
            output: vec![pb::ValueInfoProto { name: "y".into(), ..Default::default() }],
            ..Default::default()
        }),
        ..Default::default()
    };
    let e = OnnxModel::from_proto(&proto, "up.onnx", Some(&[vec![1, 1, 2, 3]]), &[6]).err().expect("refused");
    assert!(e.to_string().contains("up") && e.to_string().contains("no scales"), "{e}");
}
