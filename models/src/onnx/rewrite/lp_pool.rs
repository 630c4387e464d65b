//! Rewrites of the ONNX graph before tract loads it: operators tract cannot
//! load, expanded into standard ones it can (and zkinfer proves).
//!
//! - `LpPool(x)` (p, kernel, strides, pads): `(k · AveragePool(|x|^p))^(1/p)`
//!   with `k` the kernel size and padding counted (zeros add nothing to the
//!   sum); `p = 2` ends in `Sqrt`, `p = 1` skips the powers.

use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto};

/// Expands every operator of the main graph that tract cannot load into ones it
/// can. Returns how many nodes were expanded.
pub(crate) fn expand_unloadable(proto: &mut ModelProto) -> usize {
    let Some(graph) = proto.graph.as_mut() else { return 0 };
    let nodes = std::mem::take(&mut graph.node);
    let mut expanded = 0;
    for (i, node) in nodes.into_iter().enumerate() {
        if node.op_type == "LpPool" && node.domain.is_empty() {
            expand_lp_pool(graph, node, i);
            expanded += 1;
        } else {
            graph.node.push(node);
        }
    }
    expanded
}

fn int_attr(node: &NodeProto, name: &str) -> Option<i64> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.i)
}

fn ints_attr(node: &NodeProto, name: &str) -> Vec<i64> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.ints.clone()).unwrap_or_default()
}

fn scalar(graph: &mut GraphProto, name: String, value: f32) -> String {
    graph.initializer.push(TensorProto {
        name: name.clone(),
        data_type: DataType::Float as i32,
        float_data: vec![value],
        ..Default::default()
    });
    name
}

fn step(op: &str, name: String, inputs: Vec<String>, output: String) -> NodeProto {
    NodeProto { op_type: op.into(), name, input: inputs, output: vec![output], ..Default::default() }
}

fn expand_lp_pool(graph: &mut GraphProto, node: NodeProto, index: usize) {
    let p = int_attr(&node, "p").unwrap_or(2).max(1);
    let taps: i64 = ints_attr(&node, "kernel_shape").iter().product();
    let base = if node.name.is_empty() { format!("lppool_{index}") } else { node.name.clone() };
    let at = |suffix: &str| format!("{base}.{suffix}");
    let (Some(x), Some(y)) = (node.input.first().cloned(), node.output.first().cloned()) else {
        graph.node.push(node);
        return;
    };
    let mut steps = vec![step("Abs", at("abs"), vec![x], at("abs"))];
    let mut powers = at("abs");
    if p > 1 {
        let exponent = scalar(graph, at("p"), p as f32);
        steps.push(step("Pow", at("pow"), vec![at("abs"), exponent], at("pow")));
        powers = at("pow");
    }
    let mut pool = step("AveragePool", at("mean"), vec![powers], at("mean"));
    pool.attribute = node.attribute.iter().filter(|a| a.name != "p").cloned().collect();
    pool.attribute.push(AttributeProto {
        name: "count_include_pad".into(),
        r#type: AttributeType::Int as i32,
        i: 1,
        ..Default::default()
    });
    steps.push(pool);
    let k = scalar(graph, at("taps"), taps.max(1) as f32);
    let sum_out = if p == 1 { y.clone() } else { at("sum") };
    steps.push(step("Mul", at("sum"), vec![at("mean"), k], sum_out));
    match p {
        1 => {}
        2 => steps.push(step("Sqrt", at("root"), vec![at("sum")], y)),
        _ => {
            let inverse = scalar(graph, at("inverse_p"), 1.0 / p as f32);
            steps.push(step("Pow", at("root"), vec![at("sum"), inverse], y));
        }
    }
    graph.node.extend(steps);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lp_pool_becomes_a_power_mean() {
        let node = NodeProto {
            op_type: "LpPool".into(),
            name: "pool".into(),
            input: vec!["x".into()],
            output: vec!["y".into()],
            attribute: vec![
                AttributeProto { name: "p".into(), r#type: AttributeType::Int as i32, i: 3, ..Default::default() },
                AttributeProto {
                    name: "kernel_shape".into(),
                    r#type: AttributeType::Ints as i32,
                    ints: vec![2, 3],
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let mut proto =
            ModelProto { graph: Some(GraphProto { node: vec![node], ..Default::default() }), ..Default::default() };
        assert_eq!(expand_unloadable(&mut proto), 1);
        let graph = proto.graph.expect("graph");
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["Abs", "Pow", "AveragePool", "Mul", "Pow"]);
        assert_eq!(graph.node.last().map(|n| n.output[0].as_str()), Some("y"));
        let pool = &graph.node[2];
        assert!(pool.attribute.iter().all(|a| a.name != "p"));
        assert!(pool.attribute.iter().any(|a| a.name == "count_include_pad" && a.i == 1));
        let taps = graph.initializer.iter().find(|t| t.name == "pool.taps").expect("kernel size");
        assert_eq!(taps.float_data, vec![6.0]);
    }
}
