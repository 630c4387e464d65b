//! Control flow, inlined before tract loads the graph: tract does not load
//! `Loop`, and a circuit has no branches anyway.
//!
//! - `Loop` is unrolled: its body is copied once per iteration, each copy
//!   reading the counter as a constant and the values the previous copy left;
//!   scan outputs are stacked on a new first axis. The number of iterations
//!   must follow from constants ([`super::known`]): a trip count, and a
//!   condition computed from the counter, carried constants and static shapes
//!   (tf2onnx's `while` loops for Keras recurrent layers, PyTorch's scripted
//!   `for` loops). A loop that stops on a computed value is refused.
//! - `If` with a condition known from constants becomes the chosen branch.
//!   With a computed condition both branches are computed and each output is
//!   `Where(condition, then, else)`, what a circuit does for a branch anyway;
//!   both branches must then give outputs of broadcastable shapes.
//!
//! Nested control flow is inlined from the outside in, so that an `If` inside
//! a loop sees the iteration's counter as a constant. Copies are named
//! `NODE/itT/NAME` (loops) and `NODE/then/NAME`, `NODE/else/NAME` (branches).

use std::collections::{HashMap, VecDeque};

use tract_onnx::pb::{GraphProto, ModelProto, NodeProto};

use super::emit::{Attr, Emit};
use super::known::{Evaluator, Known, Scope, Walk};
use super::Refusal;
use crate::error::UnsupportedOp;

/// Most iterations unrolled: each is a copy of the loop's body in the circuit.
pub(crate) const MAX_ITERATIONS: usize = 4096;

/// Inlines every `Loop` and `If` of the model, in every graph; returns how many
/// were inlined. Those that cannot be are added to `refused`.
pub(crate) fn inline(proto: &mut ModelProto, opset: Option<i64>, refused: &mut Vec<UnsupportedOp>) -> usize {
    match proto.graph.as_mut() {
        Some(graph) => inline_graph(graph, None, opset, refused, &mut 0),
        None => 0,
    }
}

fn is_control(node: &NodeProto) -> bool {
    (node.domain.is_empty() || node.domain == "ai.onnx") && matches!(node.op_type.as_str(), "Loop" | "If")
}

fn inline_graph(
    graph: &mut GraphProto,
    parent: Option<&Scope<'_>>,
    opset: Option<i64>,
    refused: &mut Vec<UnsupportedOp>,
    serial: &mut usize,
) -> usize {
    let (nodes, mut walk) = Walk::start(graph);
    let mut work: VecDeque<NodeProto> = nodes.into();
    let mut inlined = 0;
    while let Some(mut node) = work.pop_front() {
        if !is_control(&node) {
            if node.attribute.iter().any(|a| a.g.is_some() || !a.graphs.is_empty()) {
                let scope = walk.scope(graph, parent);
                for a in &mut node.attribute {
                    for g in a.g.iter_mut().chain(a.graphs.iter_mut()) {
                        inlined += inline_graph(g, Some(&scope), opset, refused, serial);
                    }
                }
            }
            walk.keep(node);
            continue;
        }
        *serial += 1;
        let base =
            if node.name.is_empty() { format!("{}_{serial}", node.op_type.to_lowercase()) } else { node.name.clone() };
        let plan = {
            let scope = walk.scope(graph, parent);
            if node.op_type == "Loop" {
                iterations(&node, &scope).map(Plan::Loop)
            } else {
                Ok(Plan::If(branch(&node, &scope)))
            }
        };
        let mut emit = Emit::new(graph, &base, opset);
        let expanded = plan.and_then(|plan| match plan {
            Plan::Loop(n) => unroll(&mut emit, &node, &base, n),
            Plan::If(choice) => inline_if(&mut emit, &node, &base, choice),
        });
        let steps = emit.finish();
        match expanded {
            Ok(()) => {
                for step in steps.into_iter().rev() {
                    work.push_front(step);
                }
                inlined += 1;
            }
            Err(reason) => {
                refused.push(UnsupportedOp { node: base, op: node.op_type.clone(), reason });
                walk.keep(node);
            }
        }
    }
    walk.finish(graph);
    inlined
}

enum Plan {
    /// Unroll this many iterations.
    Loop(usize),
    /// Take this branch, or both (`None`) and select.
    If(Option<bool>),
}

fn subgraph<'n>(node: &'n NodeProto, name: &str) -> Result<&'n GraphProto, Refusal> {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .and_then(|a| a.g.as_ref())
        .ok_or_else(|| format!("no `{name}` graph"))
}

fn given(node: &NodeProto, i: usize) -> Option<&str> {
    node.input.get(i).map(String::as_str).filter(|s| !s.is_empty())
}

fn truth(k: &Known) -> Result<bool, Refusal> {
    k.single().map(|v| v != 0.0).ok_or_else(|| format!("a condition of {} elements", k.data.len()))
}

/// How many iterations a `Loop` runs, from constants.
fn iterations(node: &NodeProto, scope: &Scope<'_>) -> Result<usize, Refusal> {
    let body = subgraph(node, "body")?;
    let states = node.input.len().saturating_sub(2);
    if body.input.len() != 2 + states || body.output.len() < 1 + states {
        return Err(format!(
            "its body takes {} inputs and gives {} outputs for {states} carried values",
            body.input.len(),
            body.output.len()
        ));
    }
    if !body.sparse_initializer.is_empty() {
        return Err("its body has sparse initialisers".into());
    }
    let fixed = "zkinfer unrolls loops whose number of iterations follows from constants";
    let mut outer = Evaluator::new(scope, HashMap::new());
    let max = match given(node, 0) {
        Some(m) => {
            let m = outer.value(m).map_err(|e| format!("its trip count is not known before proving ({e}); {fixed}"))?;
            let m = m.single().ok_or("its trip count is not a scalar")?;
            Some(m.max(0.0).min(usize::MAX as f64) as usize)
        }
        None => None,
    };
    let mut going = match given(node, 1) {
        Some(c) => truth(
            &outer.value(c).map_err(|e| format!("its first condition is not known before proving ({e}); {fixed}"))?,
        )?,
        None if max.is_none() => return Err("it has neither a trip count nor a condition, so it never ends".into()),
        None => true,
    };
    let mut carried: Vec<Option<Known>> = node.input[2..].iter().map(|v| outer.value(v).ok()).collect();
    let body_scope = Scope::of(&body.node, &body.initializer, &[], Some(scope));
    let mut t = 0;
    while going && max.is_none_or(|m| t < m) {
        if t == MAX_ITERATIONS {
            return Err(format!("it runs more than {MAX_ITERATIONS} iterations (each is a copy of its body)"));
        }
        if max == Some(t + 1) {
            t += 1;
            break;
        }
        let mut bound = HashMap::from([
            (body.input[0].name.clone(), Known::int(t as i64)),
            (body.input[1].name.clone(), Known::bool(true)),
        ]);
        for (input, value) in body.input[2..].iter().zip(&carried) {
            if let Some(v) = value {
                bound.insert(input.name.clone(), v.clone());
            }
        }
        let mut eval = Evaluator::new(&body_scope, bound);
        let cond = eval.value(&body.output[0].name).map_err(|e| {
            format!("whether it goes on after iteration {t} is not known before proving ({e}); {fixed}")
        })?;
        going = truth(&cond)?;
        carried = body.output[1..=states].iter().map(|o| eval.value(&o.name).ok()).collect();
        t += 1;
    }
    Ok(t)
}

/// The branch an `If` takes, when its condition is known.
fn branch(node: &NodeProto, scope: &Scope<'_>) -> Option<bool> {
    let cond = given(node, 0)?;
    Evaluator::new(scope, HashMap::new()).value(cond).ok().and_then(|k| truth(&k).ok())
}

/// Copies `g`'s nodes into `emit` under `prefix`: names `g` defines are
/// renamed, others (the enclosing graphs') kept; `map` starts with the names
/// bound from outside (inputs, renamed initialisers) and ends with every name.
fn copy_graph(emit: &mut Emit<'_>, g: &GraphProto, prefix: &str, map: &mut HashMap<String, String>) {
    for n in &g.node {
        for o in n.output.iter().filter(|o| !o.is_empty()) {
            map.insert(o.clone(), format!("{prefix}/{o}"));
        }
    }
    for (i, n) in g.node.iter().enumerate() {
        let mut copy = n.clone();
        copy.name =
            if n.name.is_empty() { format!("{prefix}/{}_{i}", n.op_type) } else { format!("{prefix}/{}", n.name) };
        for name in copy.input.iter_mut().chain(copy.output.iter_mut()) {
            if let Some(new) = map.get(name.as_str()) {
                *name = new.clone();
            }
        }
        for a in &mut copy.attribute {
            for sub in a.g.iter_mut().chain(a.graphs.iter_mut()) {
                rename_references(sub, map);
            }
        }
        emit.node(copy);
    }
}

/// Renames, inside a nested graph, the names it takes from enclosing scopes.
fn rename_references(g: &mut GraphProto, map: &HashMap<String, String>) {
    let local: std::collections::HashSet<String> = g
        .node
        .iter()
        .flat_map(|n| n.output.iter().cloned())
        .chain(g.input.iter().map(|i| i.name.clone()))
        .chain(g.initializer.iter().map(|t| t.name.clone()))
        .collect();
    let outer = |name: &mut String| {
        if !local.contains(name.as_str()) {
            if let Some(new) = map.get(name.as_str()) {
                *name = new.clone();
            }
        }
    };
    for n in &mut g.node {
        n.input.iter_mut().for_each(outer);
        for a in &mut n.attribute {
            for sub in a.g.iter_mut().chain(a.graphs.iter_mut()) {
                rename_references(sub, map);
            }
        }
    }
    g.output.iter_mut().for_each(|o| outer(&mut o.name));
}

/// The subgraph's initialisers, added once under `prefix`: the map from their
/// names to the new ones.
fn move_initializers(emit: &mut Emit<'_>, g: &GraphProto, prefix: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for t in &g.initializer {
        let name = format!("{prefix}/{}", t.name);
        map.insert(t.name.clone(), name.clone());
        emit.initializer(tract_onnx::pb::TensorProto { name, ..t.clone() });
    }
    map
}

fn resolved(map: &HashMap<String, String>, name: &str) -> String {
    map.get(name).cloned().unwrap_or_else(|| name.to_string())
}

fn unroll(emit: &mut Emit<'_>, node: &NodeProto, base: &str, iterations: usize) -> Result<(), Refusal> {
    let body = subgraph(node, "body")?;
    let states = node.input.len() - 2;
    let scans = body.output.len() - 1 - states;
    if node.output.len() > states + scans {
        return Err(format!("it has {} outputs for {states} carried values and {scans} scans", node.output.len()));
    }
    let shared = move_initializers(emit, body, base);
    let mut carried: Vec<String> = node.input[2..].to_vec();
    let mut scanned: Vec<Vec<String>> = vec![Vec::new(); scans];
    for t in 0..iterations {
        let mut map = shared.clone();
        map.insert(body.input[0].name.clone(), emit.int64s("iteration", &[], vec![t as i64]));
        map.insert(body.input[1].name.clone(), emit.bool_scalar("condition", true));
        for (input, value) in body.input[2..].iter().zip(&carried) {
            map.insert(input.name.clone(), value.clone());
        }
        copy_graph(emit, body, &format!("{base}/it{t}"), &mut map);
        carried = body.output[1..=states].iter().map(|o| resolved(&map, &o.name)).collect();
        for (k, o) in body.output[1 + states..].iter().enumerate() {
            scanned[k].push(resolved(&map, &o.name));
        }
    }
    for (j, out) in node.output.iter().enumerate().filter(|(_, o)| !o.is_empty()) {
        if j < states {
            emit.op_into("Identity", &[&carried[j]], vec![], out);
            continue;
        }
        if iterations == 0 {
            return Err(format!("it runs no iteration, so its scan output `{out}` would be empty"));
        }
        let parts: Vec<String> = scanned[j - states].iter().map(|s| emit.unsqueeze(s, 0)).collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        emit.op_into("Concat", &parts, vec![("axis", Attr::Int(0))], out);
    }
    Ok(())
}

fn inline_if(emit: &mut Emit<'_>, node: &NodeProto, base: &str, choice: Option<bool>) -> Result<(), Refusal> {
    let then_branch = subgraph(node, "then_branch")?;
    let else_branch = subgraph(node, "else_branch")?;
    for (g, which) in [(then_branch, "then"), (else_branch, "else")] {
        if g.output.len() < node.output.len() {
            return Err(format!("its {which} branch gives {} outputs for {}", g.output.len(), node.output.len()));
        }
        if !g.sparse_initializer.is_empty() {
            return Err(format!("its {which} branch has sparse initialisers"));
        }
    }
    let mut copy = |g: &GraphProto, which: &str| -> Vec<String> {
        let prefix = format!("{base}/{which}");
        let mut map = move_initializers(emit, g, &prefix);
        copy_graph(emit, g, &prefix, &mut map);
        g.output.iter().map(|o| resolved(&map, &o.name)).collect()
    };
    let outputs = node.output.iter().enumerate().filter(|(_, o)| !o.is_empty());
    match choice {
        Some(taken) => {
            let results = if taken { copy(then_branch, "then") } else { copy(else_branch, "else") };
            for (i, out) in outputs {
                emit.op_into("Identity", &[&results[i]], vec![], out);
            }
        }
        None => {
            let cond = given(node, 0).ok_or("its condition is missing")?;
            let (yes, no) = (copy(then_branch, "then"), copy(else_branch, "else"));
            let scalar_shape = emit.int64s("scalar_shape", &[0], vec![]);
            let cond = emit.op("Reshape", &[cond, &scalar_shape], vec![]);
            for (i, out) in outputs {
                emit.op_into("Where", &[&cond, &yes[i], &no[i]], vec![], out);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tract_onnx::pb::attribute_proto::AttributeType;
    use tract_onnx::pb::tensor_proto::DataType;
    use tract_onnx::pb::{AttributeProto, ValueInfoProto};

    use super::*;
    use crate::error::Error;
    use crate::onnx::probe::{float_tensor, int64_tensor, value_info};

    fn node(op: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
        NodeProto {
            op_type: op.into(),
            name: outputs[0].to_string(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn with_graph(mut n: NodeProto, name: &str, g: GraphProto) -> NodeProto {
        n.attribute.push(AttributeProto {
            name: name.into(),
            r#type: AttributeType::Graph as i32,
            g: Some(g),
            ..Default::default()
        });
        n
    }

    fn float(name: &str) -> ValueInfoProto {
        value_info(name, DataType::Float as i32, Some(&[2]))
    }

    /// A loop `acc ← acc + x` whose body also gives `cond_out`, built by `cond`.
    fn accumulate(trip: Option<&str>, cond: Option<&str>, cond_nodes: Vec<NodeProto>) -> GraphProto {
        let mut body_nodes = vec![node("Add", &["acc", "x"], &["acc_out"])];
        body_nodes.extend(cond_nodes);
        let body = GraphProto {
            node: body_nodes,
            input: vec![
                value_info("i", DataType::Int64 as i32, Some(&[])),
                value_info("c", DataType::Bool as i32, Some(&[])),
                float("acc"),
            ],
            output: vec![value_info("cond_out", DataType::Bool as i32, Some(&[])), float("acc_out")],
            ..Default::default()
        };
        let inputs = [trip.unwrap_or(""), cond.unwrap_or(""), "x"];
        GraphProto {
            node: vec![with_graph(node("Loop", &inputs, &["y"]), "body", body)],
            input: vec![float("x")],
            output: vec![float("y")],
            initializer: vec![int64_tensor("trip", &[], &[3]), int64_tensor("huge", &[], &[5000])],
            ..Default::default()
        }
    }

    fn model(graph: GraphProto) -> ModelProto {
        ModelProto { graph: Some(graph), ..Default::default() }
    }

    fn refusal(graph: GraphProto) -> String {
        let mut proto = model(graph);
        match super::super::expand_unloadable(&mut proto) {
            Err(Error::Unsupported(refused)) => {
                assert_eq!(refused.len(), 1, "{refused:?}");
                assert_eq!(refused[0].op, "Loop");
                refused[0].reason.clone()
            }
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn a_fixed_loop_becomes_copies_of_its_body() {
        let pass = vec![node("Identity", &["c"], &["cond_out"])];
        let mut proto = model(accumulate(Some("trip"), None, pass));
        assert_eq!(super::super::expand_unloadable(&mut proto).ok(), Some(1));
        let graph = proto.graph.expect("graph");
        let adds: Vec<&NodeProto> = graph.node.iter().filter(|n| n.op_type == "Add").collect();
        assert_eq!(adds.len(), 3);
        // Each copy reads what the one before left.
        assert_eq!(adds[0].input, ["x", "x"], "the initial value, then the outer input");
        assert_eq!(adds[0].output, ["y/it0/acc_out"]);
        assert_eq!(adds[1].input[0], adds[0].output[0]);
        assert_eq!(adds[2].input[0], adds[1].output[0]);
        let last = graph.node.last().expect("nodes");
        assert_eq!(
            (last.op_type.as_str(), last.input[0].as_str(), last.output[0].as_str()),
            ("Identity", adds[2].output[0].as_str(), "y")
        );
    }

    #[test]
    fn loops_that_stop_on_computed_values_are_refused_by_name() {
        let data = vec![node("ReduceSum", &["acc_out"], &["s"]), node("Less", &["s", "limit"], &["cond_out"])];
        let reason = refusal(accumulate(Some("trip"), None, data));
        assert!(reason.contains("after iteration 0 is not known before proving"), "{reason}");
        assert!(
            reason.contains("computed from the model's inputs") && reason.contains("follows from constants"),
            "{reason}"
        );
        let reason = refusal(accumulate(None, None, vec![node("Identity", &["c"], &["cond_out"])]));
        assert!(reason.contains("never ends"), "{reason}");
        let reason = refusal(accumulate(Some("huge"), None, vec![node("Identity", &["c"], &["cond_out"])]));
        assert!(reason.contains("more than 4096 iterations"), "{reason}");
        let reason = refusal(accumulate(Some("x"), None, vec![node("Identity", &["c"], &["cond_out"])]));
        assert!(reason.contains("trip count is not known"), "{reason}");
    }

    #[test]
    fn a_condition_on_the_counter_ends_the_loop_early() {
        // cond_out = i + 1 < 2: two iterations of a trip count of 3.
        let cond = vec![node("Add", &["i", "one"], &["next"]), node("Less", &["next", "two"], &["cond_out"])];
        let mut graph = accumulate(Some("trip"), None, cond);
        graph.initializer.extend([int64_tensor("one", &[], &[1]), int64_tensor("two", &[], &[2])]);
        let mut proto = model(graph);
        assert_eq!(super::super::expand_unloadable(&mut proto).ok(), Some(1));
        let graph = proto.graph.expect("graph");
        assert_eq!(graph.node.iter().filter(|n| n.op_type == "Add" && n.input[1] == "x").count(), 2);
    }

    #[test]
    fn an_if_inside_a_loop_takes_the_branch_its_counter_picks() {
        // acc ← (i == 0 ? acc + x : acc * x), the If resolved in each copy.
        let then_branch = GraphProto {
            node: vec![node("Add", &["acc", "x"], &["sum"])],
            output: vec![float("sum")],
            ..Default::default()
        };
        let else_branch = GraphProto {
            node: vec![node("Mul", &["acc", "x"], &["product"])],
            output: vec![float("product")],
            ..Default::default()
        };
        let mut branchy = node("If", &["first"], &["acc_out"]);
        branchy = with_graph(with_graph(branchy, "then_branch", then_branch), "else_branch", else_branch);
        let mut graph = accumulate(Some("trip"), None, vec![node("Identity", &["c"], &["cond_out"])]);
        let body = graph.node[0].attribute[0].g.as_mut().expect("body");
        body.node = vec![node("Equal", &["i", "zero"], &["first"]), branchy, node("Identity", &["c"], &["cond_out"])];
        body.initializer.push(int64_tensor("zero", &[], &[0]));
        let mut proto = model(graph);
        assert_eq!(super::super::expand_unloadable(&mut proto).ok(), Some(4), "one loop and three Ifs");
        let ops: Vec<&str> = proto.graph.as_ref().expect("graph").node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops.iter().filter(|o| **o == "Add").count(), 1, "{ops:?}");
        assert_eq!(ops.iter().filter(|o| **o == "Mul").count(), 2, "{ops:?}");
        assert!(!ops.contains(&"Where") && !ops.contains(&"If") && !ops.contains(&"Loop"), "{ops:?}");
    }

    #[test]
    fn an_if_on_a_computed_value_selects_between_both_branches() {
        let branch = |op: &str, out: &str| GraphProto {
            node: vec![node(op, &["x"], &[out])],
            output: vec![float(out)],
            ..Default::default()
        };
        let branchy = with_graph(
            with_graph(node("If", &["positive"], &["y"]), "then_branch", branch("Relu", "r")),
            "else_branch",
            branch("Neg", "n"),
        );
        let graph = GraphProto {
            node: vec![node("ReduceSum", &["x"], &["s"]), node("Greater", &["s", "zero"], &["positive"]), branchy],
            input: vec![float("x")],
            output: vec![float("y")],
            initializer: vec![float_tensor("zero", &[], &[0.0])],
            ..Default::default()
        };
        let mut proto = model(graph);
        assert_eq!(super::super::expand_unloadable(&mut proto).ok(), Some(1));
        let ops: Vec<String> = proto.graph.as_ref().expect("graph").node.iter().map(|n| n.op_type.clone()).collect();
        assert_eq!(ops, ["ReduceSum", "Greater", "Relu", "Neg", "Reshape", "Where"]);
    }
}
