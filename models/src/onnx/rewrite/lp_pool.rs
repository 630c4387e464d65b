//! `LpPool(x)` (p, kernel, strides, pads): `(k · AveragePool(|x|^p))^(1/p)`
//! with `k` the kernel size and padding counted (zeros add nothing to the
//! sum); `p = 2` ends in `Sqrt`, `p = 1` skips the powers.

use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::{AttributeProto, NodeProto};

use super::emit::{Attrs, Emit};
use super::Refusal;

pub(super) fn expand(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let attrs = Attrs(node);
    let p = attrs.int("p").unwrap_or(2).max(1);
    let taps: i64 = attrs.ints("kernel_shape").iter().product();
    let x = Emit::input(node, 0)?;
    let y = Emit::output(node, 0).ok_or("its output is missing")?;
    let abs = emit.op("Abs", &[x], vec![]);
    let powers = if p > 1 {
        let exponent = emit.scalar("p", p as f64);
        emit.binary("Pow", &abs, &exponent)
    } else {
        abs
    };
    let mut pool_attrs: Vec<AttributeProto> = node.attribute.iter().filter(|a| a.name != "p").cloned().collect();
    pool_attrs.push(AttributeProto {
        name: "count_include_pad".into(),
        r#type: AttributeType::Int as i32,
        i: 1,
        ..Default::default()
    });
    let mean = emit.op_with("AveragePool", &[&powers], pool_attrs);
    let k = emit.scalar("taps", taps.max(1) as f64);
    match p {
        1 => emit.op_into("Mul", &[&mean, &k], vec![], y),
        2 => {
            let sum = emit.binary("Mul", &mean, &k);
            emit.op_into("Sqrt", &[&sum], vec![], y);
        }
        _ => {
            let sum = emit.binary("Mul", &mean, &k);
            let inverse = emit.scalar("inverse_p", 1.0 / p as f64);
            emit.op_into("Pow", &[&sum, &inverse], vec![], y);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tract_onnx::pb::{GraphProto, ModelProto};

    use super::*;
    use crate::onnx::rewrite::expand_unloadable;

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
        assert_eq!(expand_unloadable(&mut proto).ok(), Some(1));
        let graph = proto.graph.expect("graph");
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["Abs", "Pow", "AveragePool", "Mul", "Pow"]);
        assert_eq!(graph.node.last().map(|n| n.output[0].as_str()), Some("y"));
        let pool = &graph.node[2];
        assert!(pool.attribute.iter().all(|a| a.name != "p"));
        assert!(pool.attribute.iter().any(|a| a.name == "count_include_pad" && a.i == 1));
        let taps = graph.initializer.iter().find(|t| t.name.contains("taps")).expect("kernel size");
        assert_eq!(taps.float_data, vec![6.0]);
    }
}
