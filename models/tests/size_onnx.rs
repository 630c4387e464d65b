//! The lowering's size estimate, from tract's shapes: one term per
//! multiply-accumulate of a convolution or matrix product, one per window
//! element of a pooling, a loop's body once per step, one per output element
//! otherwise. A model whose
//! compilation would not fit in the memory available is refused before it is
//! lowered. (One test in this binary: it sets the memory limit variable.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod onnx_proto;

use onnx_proto::{float_tensor, node};
use tract_onnx::pb::{self, attribute_proto::AttributeType};
use zkinfer_models::memory::MEMORY_LIMIT_ENV;
use zkinfer_models::Error;

fn with_ints(mut n: pb::NodeProto, name: &str, v: &[i64]) -> pb::NodeProto {
    n.attribute.push(pb::AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: v.to_vec(),
        ..Default::default()
    });
    n
}

#[test]
fn workload_counts_multiply_accumulates_and_guards_memory() {
    // Conv 4 → 8 channels, 3×3 kernel, on 10×10: 8×8×8 outputs of 36 taps; a
    // 2×2 max pool: 8×4×4 outputs of 4; Relu: 128 outputs; MatMul of the
    // flattened 128 by a constant 128×10: 1280.
    let kernel = float_tensor("k", &[8, 4, 3, 3], &vec![0.01; 8 * 4 * 9]);
    let dense = float_tensor("w", &[128, 10], &vec![0.02; 1280]);
    let shape = pb::TensorProto {
        name: "flat".into(),
        dims: vec![2],
        data_type: pb::tensor_proto::DataType::Int64 as i32,
        int64_data: vec![1, 128],
        ..Default::default()
    };
    let nodes = vec![
        node("Conv", &["x", "k"], "c"),
        with_ints(with_ints(node("MaxPool", &["c"], "p"), "kernel_shape", &[2, 2]), "strides", &[2, 2]),
        node("Relu", &["p"], "r"),
        node("Reshape", &["r", "flat"], "f"),
        node("MatMul", &["f", "w"], "y"),
    ];
    let model = onnx_proto::load("size", nodes, vec![kernel, dense, shape], &[("x", &[1, 4, 10, 10])], &["y"], 17);
    let work = model.workload().unwrap();
    let terms = |op: &str| work.nodes.iter().filter(|n| n.op == op).map(|n| n.terms).sum::<u64>();
    assert_eq!(terms("Conv"), 512 * 36, "{work:?}");
    assert_eq!(terms("MaxPool"), 128 * 4, "{work:?}");
    assert_eq!(terms("EinSum"), 1280, "{work:?}");
    assert!(work.nodes.windows(2).all(|w| w[0].terms >= w[1].terms), "largest first");
    assert_eq!(work.nodes[0].op, "Conv");
    assert_eq!(work.terms, work.nodes.iter().map(|n| n.terms).sum::<u64>());
    assert!(work.terms < 512 * 36 + 512 + 1280 + 1000, "data movement adds at most its outputs: {work:?}");
    model.lower().expect("fits");

    // An LSTM over 6 steps: tract's Scan, unrolled, so its body counts 6 times.
    // Each step multiplies [x, h] (4 + 8) by the 32 gate rows; tract hoists
    // the x part out of the loop as one EinSum over all steps.
    let mut lstm = node("LSTM", &["x", "w", "r"], "y");
    lstm.attribute.push(pb::AttributeProto {
        name: "hidden_size".into(),
        r#type: AttributeType::Int as i32,
        i: 8,
        ..Default::default()
    });
    let w = float_tensor("w", &[1, 32, 4], &vec![0.1; 128]);
    let r = float_tensor("r", &[1, 32, 8], &vec![0.1; 256]);
    let rnn = onnx_proto::load("lstm", vec![lstm], vec![w, r], &[("x", &[6, 1, 4])], &["y"], 14);
    let work = rnn.workload().unwrap();
    let scan: u64 = work.nodes.iter().filter(|n| n.op == "Scan").map(|n| n.terms).sum();
    assert!(scan >= 6 * 32 * 8, "the recurrent products, once per step: {work:?}");
    assert!((6 * 32 * 12..6 * 32 * 12 * 2).contains(&work.terms), "{work:?}");

    // The conv model with 1 MiB available: refused before lowering, by size.
    std::env::set_var(MEMORY_LIMIT_ENV, "1");
    let err = model.lower().unwrap_err();
    std::env::remove_var(MEMORY_LIMIT_ENV);
    assert!(matches!(err, Error::TooLarge(_)), "{err}");
    let message = err.to_string();
    assert!(message.contains("multiply-accumulates") && message.contains("`c` (Conv)"), "{message}");
    assert!(message.contains("1 MiB are available") && message.contains("hint:"), "{message}");
}
