//! Values known before tract runs: the trip counts and conditions of control
//! flow (`Loop`, `If`), computed from constants by a small evaluator.
//!
//! Exporters write loop bounds and branch conditions as arithmetic on
//! constants, loop counters and static shapes (tf2onnx's `while` loops compare
//! a counter with the sequence length; PyTorch's `for i in range(n)` is a
//! `Loop` with a constant `n`). The evaluator covers that arithmetic on small
//! tensors: constants, casts, element-wise arithmetic, comparisons and logic
//! with broadcasting, shapes of initialisers and of inputs with static
//! dimensions, and the reshaping and indexing exporters put between them. A
//! value computed from the model's inputs, or by any other operator, is
//! unknown, with the reason naming the node.

use std::borrow::Cow;
use std::collections::HashMap;

use tract_onnx::pb::tensor_shape_proto::dimension;
use tract_onnx::pb::type_proto;
use tract_onnx::pb::{GraphProto, NodeProto, TensorProto, ValueInfoProto};

mod ops;

use ops::{apply, constant, decode};

/// Most elements a known value may have: the evaluator is for bounds and
/// conditions, not for weights.
const MAX_ELEMENTS: usize = 4096;

/// Deepest chain of producers followed from one value.
const MAX_DEPTH: usize = 256;

/// The element type of a known value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Floating point (computed in `f64`, rounded to `f32` by casts).
    Float,
    /// Any integer type (exact below 2^53).
    Int,
    /// Booleans, as 0 and 1.
    Bool,
}

/// A small tensor whose elements are known.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Known {
    /// Dimensions (empty for a scalar).
    pub dims: Vec<usize>,
    /// Elements in row-major order.
    pub data: Vec<f64>,
    /// Element type.
    pub kind: Kind,
}

impl Known {
    /// An integer scalar.
    pub fn int(v: i64) -> Self {
        Known { dims: vec![], data: vec![v as f64], kind: Kind::Int }
    }

    /// A boolean scalar.
    pub fn bool(v: bool) -> Self {
        Known { dims: vec![], data: vec![f64::from(u8::from(v))], kind: Kind::Bool }
    }

    /// The only element of a one-element tensor.
    pub fn single(&self) -> Option<f64> {
        (self.data.len() == 1).then(|| self.data[0])
    }
}

/// Why a value is not known.
pub(crate) type Unknown = String;

/// Where each name of a list is: the position of the node writing it (or of
/// the tensor so named).
pub(crate) type Index = HashMap<String, usize>;

/// The position of the node that writes each output.
fn index_outputs(nodes: &[NodeProto]) -> Index {
    nodes.iter().enumerate().flat_map(|(i, n)| n.output.iter().map(move |o| (o.clone(), i))).collect()
}

/// The position of each tensor.
fn index_tensors(tensors: &[TensorProto]) -> Index {
    tensors.iter().enumerate().map(|(i, t)| (t.name.clone(), i)).collect()
}

/// One pass over a graph's nodes that rewrites some of them (the control-flow,
/// sequence and Tile rewrites): the nodes kept so far and the graph's
/// initialisers, indexed as they come, so that the evaluator sees them without
/// indexing the graph again for every node it is asked about. Rewrites only
/// append initialisers.
pub(crate) struct Walk {
    kept: Vec<NodeProto>,
    producers: Index,
    initializers: Index,
    indexed: usize,
}

impl Walk {
    /// Starts a pass over `graph`: its nodes, taken out to be walked, and the
    /// (empty) pass.
    pub fn start(graph: &mut GraphProto) -> (Vec<NodeProto>, Walk) {
        let nodes = std::mem::take(&mut graph.node);
        let walk = Walk {
            kept: Vec::with_capacity(nodes.len()),
            producers: Index::new(),
            initializers: Index::new(),
            indexed: 0,
        };
        (nodes, walk)
    }

    /// Keeps `node`, after those kept before.
    pub fn keep(&mut self, node: NodeProto) {
        for o in &node.output {
            self.producers.insert(o.clone(), self.kept.len());
        }
        self.kept.push(node);
    }

    /// The evaluator's scope: the nodes kept so far, and the initialisers
    /// (those added since the last call indexed now) and inputs of `graph`.
    pub fn scope<'a>(&'a mut self, graph: &'a GraphProto, parent: Option<&'a Scope<'a>>) -> Scope<'a> {
        for (i, t) in graph.initializer.iter().enumerate().skip(self.indexed) {
            self.initializers.insert(t.name.clone(), i);
        }
        self.indexed = graph.initializer.len();
        Scope {
            nodes: &self.kept,
            producers: Cow::Borrowed(&self.producers),
            initializers: &graph.initializer,
            initializer_index: Cow::Borrowed(&self.initializers),
            input_dims: input_dims(&graph.input),
            parent,
        }
    }

    /// Ends the pass: `graph`'s nodes are those kept.
    pub fn finish(self, graph: &mut GraphProto) {
        graph.node = self.kept;
    }
}

/// The names one graph defines, for the evaluator: its nodes (by output), its
/// initialisers and the static shapes of its inputs; then the enclosing graph.
pub(crate) struct Scope<'a> {
    nodes: &'a [NodeProto],
    producers: Cow<'a, Index>,
    initializers: &'a [TensorProto],
    initializer_index: Cow<'a, Index>,
    input_dims: HashMap<&'a str, Vec<usize>>,
    parent: Option<&'a Scope<'a>>,
}

impl<'a> Scope<'a> {
    /// The scope of a subgraph (a loop's body) inside `parent`.
    pub fn of(
        nodes: &'a [NodeProto],
        initializers: &'a [TensorProto],
        inputs: &'a [ValueInfoProto],
        parent: Option<&'a Scope<'a>>,
    ) -> Self {
        Scope {
            nodes,
            producers: Cow::Owned(index_outputs(nodes)),
            initializers,
            initializer_index: Cow::Owned(index_tensors(initializers)),
            input_dims: input_dims(inputs),
            parent,
        }
    }

    fn initializer(&self, name: &str) -> Option<&'a TensorProto> {
        self.initializer_index.get(name).and_then(|&i| self.initializers.get(i))
    }

    fn producer(&self, name: &str) -> Option<&'a NodeProto> {
        self.producers.get(name).and_then(|&i| self.nodes.get(i))
    }

    /// The dimensions of `name` when they are known before tract runs: an
    /// initialiser's, or an input's declared static shape.
    pub fn dims(&self, name: &str) -> Option<Vec<usize>> {
        if let Some(t) = self.initializer(name) {
            return t.dims.iter().map(|&d| usize::try_from(d).ok()).collect();
        }
        if let Some(d) = self.input_dims.get(name) {
            return Some(d.clone());
        }
        if self.producers.contains_key(name) {
            return None;
        }
        self.parent.and_then(|p| p.dims(name))
    }
}

fn input_dims(inputs: &[ValueInfoProto]) -> HashMap<&str, Vec<usize>> {
    inputs.iter().filter_map(|i| static_dims(i).map(|d| (i.name.as_str(), d))).collect()
}

/// The declared dimensions of a tensor input, when all are fixed numbers.
fn static_dims(info: &ValueInfoProto) -> Option<Vec<usize>> {
    let Some(type_proto::Value::TensorType(t)) = info.r#type.as_ref()?.value.as_ref() else { return None };
    t.shape
        .as_ref()?
        .dim
        .iter()
        .map(|d| match d.value {
            Some(dimension::Value::DimValue(v)) => usize::try_from(v).ok(),
            _ => None,
        })
        .collect()
}

/// Evaluates names in a scope, with some names bound to values (a loop's
/// counter and carried values in one iteration).
pub(crate) struct Evaluator<'a> {
    scope: &'a Scope<'a>,
    bound: HashMap<String, Known>,
    memo: HashMap<String, Result<Known, Unknown>>,
}

impl<'a> Evaluator<'a> {
    /// An evaluator of `scope` with `bound` names fixed.
    pub fn new(scope: &'a Scope<'a>, bound: HashMap<String, Known>) -> Self {
        Evaluator { scope, bound, memo: HashMap::new() }
    }

    /// The value of `name`, or why it is not known.
    pub fn value(&mut self, name: &str) -> Result<Known, Unknown> {
        self.at(name, 0)
    }

    fn at(&mut self, name: &str, depth: usize) -> Result<Known, Unknown> {
        if let Some(v) = self.bound.get(name) {
            return Ok(v.clone());
        }
        if let Some(v) = self.memo.get(name) {
            return v.clone();
        }
        if depth > MAX_DEPTH {
            return Err(format!("`{name}` is more than {MAX_DEPTH} operations away from constants"));
        }
        let value = self.lookup(self.scope, name, depth);
        self.memo.insert(name.to_string(), value.clone());
        value
    }

    fn lookup(&mut self, scope: &'a Scope<'a>, name: &str, depth: usize) -> Result<Known, Unknown> {
        if let Some(t) = scope.initializer(name) {
            return decode(t).map_err(|e| format!("initialiser `{name}`: {e}"));
        }
        if let Some(node) = scope.producer(name) {
            let at = node.output.iter().position(|o| o == name).unwrap_or(0);
            return self
                .node(scope, node, depth)
                .map_err(|e| {
                    if e.contains("(node `") {
                        e
                    } else {
                        format!("{e} (node `{}`, {})", node.name, node.op_type)
                    }
                })
                .and_then(|mut outs| if at < outs.len() { Ok(outs.swap_remove(at)) } else { Err("output".into()) });
        }
        match scope.parent {
            Some(parent) => self.lookup(parent, name, depth),
            None => Err(format!("`{name}` is computed from the model's inputs")),
        }
    }

    fn node(&mut self, scope: &'a Scope<'a>, node: &NodeProto, depth: usize) -> Result<Vec<Known>, Unknown> {
        let attr = |n: &str| node.attribute.iter().find(|a| a.name == n);
        if node.op_type == "Constant" {
            return constant(node).map(|v| vec![v]);
        }
        if matches!(node.op_type.as_str(), "Shape" | "Size") {
            let x = node.input.first().ok_or("no input")?;
            let dims = match scope.dims(x) {
                Some(d) => d,
                None => self.at(x, depth + 1)?.dims,
            };
            let shape: Vec<f64> = dims.iter().map(|&d| d as f64).collect();
            if node.op_type == "Size" {
                return Ok(vec![Known { dims: vec![], data: vec![shape.iter().product()], kind: Kind::Int }]);
            }
            let (start, end) = (attr("start").map_or(0, |a| a.i), attr("end").map(|a| a.i));
            let clamp = |i: i64| (if i < 0 { i + shape.len() as i64 } else { i }).clamp(0, shape.len() as i64) as usize;
            let (s, e) = (clamp(start), end.map_or(shape.len(), clamp));
            let data = shape[s..e.max(s)].to_vec();
            return Ok(vec![Known { dims: vec![data.len()], data, kind: Kind::Int }]);
        }
        let mut inputs = Vec::with_capacity(node.input.len());
        for i in &node.input {
            inputs.push(if i.is_empty() { None } else { Some(self.at(i, depth + 1)?) });
        }
        let out = apply(node, &inputs)?;
        if out.data.len() > MAX_ELEMENTS {
            return Err(format!("more than {MAX_ELEMENTS} elements"));
        }
        Ok(vec![out])
    }
}

#[cfg(test)]
mod tests {
    use tract_onnx::pb::AttributeProto;

    use super::*;
    use crate::onnx::probe::{float_tensor, int64_tensor, step as node};

    #[test]
    fn evaluates_a_while_loop_condition_from_a_counter() {
        // cond = float(i + 1) < 6 and i < limit, as tf2onnx writes it.
        let nodes = vec![
            node("Add", &["i", "one"], "next"),
            node("Cast", &["next"], "next_f"),
            node("Less", &["next_f", "six"], "below"),
            node("Less", &["i", "limit"], "under"),
            node("And", &["below", "under"], "cond"),
        ];
        let mut cast_to_float = nodes;
        cast_to_float[1].attribute.push(AttributeProto { name: "to".into(), i: 1, ..Default::default() });
        let inits =
            vec![int64_tensor("one", &[], &[1]), int64_tensor("limit", &[], &[10]), float_tensor("six", &[], &[6.0])];
        let scope = Scope::of(&cast_to_float, &inits, &[], None);
        for (i, want) in [(0, true), (4, true), (5, false)] {
            let bound = HashMap::from([("i".to_string(), Known::int(i))]);
            assert_eq!(Evaluator::new(&scope, bound).value("cond"), Ok(Known::bool(want)), "i = {i}");
        }
    }

    #[test]
    fn names_the_node_that_depends_on_the_inputs() {
        let nodes = vec![node("ReduceSum", &["x"], "s"), node("Greater", &["s", "zero"], "c")];
        let inits = vec![int64_tensor("zero", &[], &[0])];
        let scope = Scope::of(&nodes, &inits, &[], None);
        let err = Evaluator::new(&scope, HashMap::new()).value("c").expect_err("unknown");
        assert!(err.contains("`x` is computed from the model's inputs (node `s`, ReduceSum)"), "{err}");
        let inits = vec![int64_tensor("zero", &[], &[0]), int64_tensor("x", &[1], &[3])];
        let scope = Scope::of(&nodes, &inits, &[], None);
        let err = Evaluator::new(&scope, HashMap::new()).value("c").expect_err("unknown");
        assert!(err.contains("ReduceSum is not evaluated") && err.contains("node `s`"), "{err}");
        let scope = Scope::of(&nodes[1..], &inits, &[], None);
        let err = Evaluator::new(&scope, HashMap::new()).value("c").expect_err("unknown");
        assert!(err.contains("`s` is computed from the model's inputs"), "{err}");
    }

    #[test]
    fn reads_static_input_shapes_and_indexes_them() {
        let x = crate::onnx::probe::value_info("x", 1, Some(&[2, 7, 3]));
        let nodes = vec![node("Shape", &["x"], "shape"), node("Gather", &["shape", "one"], "len")];
        let inits = vec![int64_tensor("one", &[], &[1])];
        let inputs = [x];
        let scope = Scope::of(&nodes, &inits, &inputs, None);
        assert_eq!(Evaluator::new(&scope, HashMap::new()).value("len"), Ok(Known::int(7)));
    }
}
