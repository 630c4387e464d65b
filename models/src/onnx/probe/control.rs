//! Probes of control flow: `Loop` and `If`, which need subgraphs.

use tract_onnx::pb::{GraphProto, NodeProto, TensorProto, ValueInfoProto};

use super::{
    attribute, float_tensor, probe, step, value_info, var, with_case, Attr, Input, Probe, BOOL, FLOAT, INT64, ROW,
};

/// A subgraph of `nodes` with typed inputs and untyped outputs, its constants
/// `initializer`.
fn subgraph(
    name: &str,
    inputs: &[(&str, i32, &[usize])],
    nodes: Vec<NodeProto>,
    outputs: &[&str],
    initializer: Vec<TensorProto>,
) -> Box<GraphProto> {
    Box::new(GraphProto {
        name: name.into(),
        node: nodes,
        input: inputs.iter().map(|(n, elem, shape)| value_info(n, *elem, Some(shape))).collect(),
        output: outputs.iter().map(|n| ValueInfoProto { name: n.to_string(), ..Default::default() }).collect(),
        initializer,
        ..Default::default()
    })
}

/// `Loop` (unrolled) and `If` (inlined) before tract loads the model.
pub(super) fn probes() -> Vec<Probe> {
    let mut cast = step("Cast", &["i"], "i_f");
    cast.attribute.push(attribute("to", &Attr::Int(FLOAT as i64)));
    let body = subgraph(
        "body",
        &[("i", INT64, &[]), ("c", BOOL, &[]), ("acc", FLOAT, &ROW)],
        vec![
            cast,
            step("Add", &["acc", "i_f"], "sum"),
            step("Tanh", &["sum"], "acc_out"),
            step("Identity", &["c"], "c_out"),
            step("Mul", &["acc_out", "acc_out"], "square"),
        ],
        &["c_out", "acc_out", "square"],
        vec![],
    );
    let mut looped = probe("Loop", vec![Input::Ints(vec![], vec![3]), Input::Empty, var(&ROW)], vec![]);
    looped.attrs.push(("body", Attr::Graph(body)));
    looped.outputs = 2;
    let branch = |name: &str, values: &[f32]| {
        let out = format!("{name}_out");
        subgraph(
            name,
            &[],
            vec![step("Neg", &[name], &out)],
            &[&out],
            vec![float_tensor(name, &[values.len()], values)],
        )
    };
    let branches = || {
        vec![
            ("then_branch", Attr::Graph(branch("yes", &[1.0, 2.0, 3.0, 4.0]))),
            ("else_branch", Attr::Graph(branch("no", &[4.0, 3.0, 2.0, 1.0]))),
        ]
    };
    vec![
        with_case(looped, "fixed trip count, a carried value and a scan output"),
        with_case(probe("If", vec![Input::Bool(vec![])], branches()), "computed condition"),
        with_case(probe("If", vec![Input::Narrow(BOOL, vec![], vec![1])], branches()), "constant condition"),
    ]
}
