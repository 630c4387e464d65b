//! Building blocks of the graph rewrites: reading a node's attributes and
//! emitting the standard operators that replace it.

use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::{AttributeProto, GraphProto, NodeProto, TensorProto};

use super::Refusal;

/// The default-domain version assumed when a model imports none.
pub(crate) const FALLBACK_OPSET: i64 = 13;

/// A node's attributes, by name.
pub(crate) struct Attrs<'a>(pub &'a NodeProto);

impl Attrs<'_> {
    fn get(&self, name: &str) -> Option<&AttributeProto> {
        self.0.attribute.iter().find(|a| a.name == name)
    }

    /// An integer attribute.
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).map(|a| a.i)
    }

    /// A float attribute.
    pub fn float(&self, name: &str) -> Option<f32> {
        self.get(name).map(|a| a.f)
    }

    /// An integer list (empty when absent).
    pub fn ints(&self, name: &str) -> Vec<i64> {
        self.get(name).map(|a| a.ints.clone()).unwrap_or_default()
    }

    /// A float list, or its double-precision `NAME_as_tensor` twin (empty when
    /// both are absent).
    pub fn floats(&self, name: &str) -> Vec<f64> {
        if let Some(a) = self.get(name).filter(|a| !a.floats.is_empty()) {
            return a.floats.iter().map(|&v| f64::from(v)).collect();
        }
        match self.get(&format!("{name}_as_tensor")).and_then(|a| a.t.as_ref()) {
            Some(t) => tensor_values(t),
            None => Vec::new(),
        }
    }

    /// A string attribute (`None` when absent).
    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }

    /// A string list (empty when absent).
    pub fn strings(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|a| a.strings.iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect())
            .unwrap_or_default()
    }

    /// The `post_transform` attribute (`NONE` when absent).
    pub fn post_transform(&self) -> String {
        self.string("post_transform").unwrap_or_else(|| "NONE".into())
    }
}

/// The values of a float or double tensor attribute.
fn tensor_values(t: &TensorProto) -> Vec<f64> {
    if !t.double_data.is_empty() {
        return t.double_data.clone();
    }
    if !t.float_data.is_empty() {
        return t.float_data.iter().map(|&v| f64::from(v)).collect();
    }
    if t.data_type == DataType::Double as i32 {
        return t
            .raw_data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect();
    }
    t.raw_data.chunks_exact(4).map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect()
}

/// An attribute to set on an emitted node.
pub(crate) enum Attr {
    /// An integer.
    Int(i64),
    /// An integer list.
    Ints(Vec<i64>),
    /// A string.
    Str(String),
}

/// Attributes as ONNX protos.
fn to_protos(attrs: Vec<(&str, Attr)>) -> Vec<AttributeProto> {
    attrs
        .into_iter()
        .map(|(name, value)| match value {
            Attr::Int(i) => {
                AttributeProto { name: name.into(), r#type: AttributeType::Int as i32, i, ..Default::default() }
            }
            Attr::Ints(ints) => {
                AttributeProto { name: name.into(), r#type: AttributeType::Ints as i32, ints, ..Default::default() }
            }
            Attr::Str(s) => AttributeProto {
                name: name.into(),
                r#type: AttributeType::String as i32,
                s: s.into_bytes(),
                ..Default::default()
            },
        })
        .collect()
}

/// Emits the nodes and initialisers that replace one node, with names derived
/// from the node's (unique) name.
pub(crate) struct Emit<'a> {
    graph: &'a mut GraphProto,
    base: String,
    opset: i64,
    steps: Vec<NodeProto>,
    count: usize,
}

impl<'a> Emit<'a> {
    /// Starts the replacement of the node named `base` in a model whose default
    /// domain is at version `opset`.
    pub fn new(graph: &'a mut GraphProto, base: &str, opset: Option<i64>) -> Self {
        Emit { graph, base: base.to_string(), opset: opset.unwrap_or(FALLBACK_OPSET), steps: Vec::new(), count: 0 }
    }

    /// The emitted nodes, in order.
    pub fn finish(self) -> Vec<NodeProto> {
        self.steps
    }

    fn fresh(&mut self, what: &str) -> String {
        self.count += 1;
        format!("{}.{what}.{}", self.base, self.count)
    }

    /// A fresh tensor name, for the outputs of a node built by the caller.
    pub fn fresh_name(&mut self, what: &str) -> String {
        self.fresh(what)
    }

    /// The model's default-domain opset version.
    pub fn opset(&self) -> i64 {
        self.opset
    }

    /// `[1, …, 1]`, one for each axis after the first two of a tensor whose
    /// shape is the tensor `shape` (computed in the graph; tract folds it for a
    /// static shape): what a reshape to `[a, b, 1, …, 1]` appends.
    pub fn trailing_ones(&mut self, shape: &str) -> String {
        let rank = self.op("Shape", &[shape], vec![]);
        let two = self.int64s("two", &[1], vec![2]);
        let trailing = self.binary("Sub", &rank, &two);
        let one = self.int64s("one", &[1], vec![1]);
        self.binary("Tile", &one, &trailing)
    }

    /// Emits `x` reversed along `axis`, written to `output` (a Slice with step
    /// −1: opset 10 or later).
    pub fn reverse_into(&mut self, x: &str, axis: i64, output: &str) {
        let starts = self.int64s("start", &[1], vec![-1]);
        let ends = self.int64s("end", &[1], vec![i64::MIN]);
        let axes = self.int64s("axis", &[1], vec![axis]);
        let steps = self.int64s("step", &[1], vec![-1]);
        self.op_into("Slice", &[x, &starts, &ends, &axes, &steps], vec![], output);
    }

    /// Adds `tensor` as an initializer of shape `dims` under a fresh name.
    fn constant(&mut self, what: &str, dims: &[usize], tensor: TensorProto) -> String {
        let name = self.fresh(what);
        let dims = dims.iter().map(|&d| d as i64).collect();
        self.graph.initializer.push(TensorProto { name: name.clone(), dims, ..tensor });
        name
    }

    /// A float constant of shape `dims`.
    pub fn floats(&mut self, what: &str, dims: &[usize], values: Vec<f32>) -> String {
        let tensor = TensorProto { data_type: DataType::Float as i32, float_data: values, ..Default::default() };
        self.constant(what, dims, tensor)
    }

    /// A float scalar.
    pub fn scalar(&mut self, what: &str, value: f64) -> String {
        self.floats(what, &[], vec![value as f32])
    }

    /// A float vector.
    pub fn vector(&mut self, what: &str, values: &[f64]) -> String {
        self.floats(what, &[values.len()], values.iter().map(|&v| v as f32).collect())
    }

    /// A row-major float matrix with `rows` rows.
    pub fn matrix(&mut self, what: &str, rows: usize, values: &[f64]) -> String {
        let cols = values.len().checked_div(rows).unwrap_or(0);
        self.floats(what, &[rows, cols], values.iter().map(|&v| v as f32).collect())
    }

    /// An int64 constant of shape `dims`.
    pub fn int64s(&mut self, what: &str, dims: &[usize], values: Vec<i64>) -> String {
        let tensor = TensorProto { data_type: DataType::Int64 as i32, int64_data: values, ..Default::default() };
        self.constant(what, dims, tensor)
    }

    /// Emits `op(inputs)` with a fresh output name and returns it.
    pub fn op(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>) -> String {
        let out = self.fresh(&op.to_lowercase());
        self.op_into(op, inputs, attrs, &out);
        out
    }

    /// Emits `op(inputs)` with attributes copied from elsewhere, and returns
    /// its output.
    pub fn op_with(&mut self, op: &str, inputs: &[&str], attribute: Vec<AttributeProto>) -> String {
        let out = self.fresh(&op.to_lowercase());
        self.push(op, inputs, attribute, &out);
        out
    }

    /// Splits `x` along `axis` into pieces of `sizes`, written to `outputs`
    /// (with the sizes as an attribute or an input as the opset requires).
    pub fn split_into(&mut self, x: &str, axis: i64, sizes: &[i64], outputs: &[String]) {
        let mut input = vec![x.to_string()];
        let mut attrs = vec![("axis", Attr::Int(axis))];
        if self.opset >= 13 {
            input.push(self.int64s("split", &[sizes.len()], sizes.to_vec()));
        } else {
            attrs.push(("split", Attr::Ints(sizes.to_vec())));
        }
        let name = self.fresh("Split");
        self.steps.push(NodeProto {
            op_type: "Split".into(),
            name,
            input,
            output: outputs.to_vec(),
            attribute: to_protos(attrs),
            ..Default::default()
        });
    }

    /// Emits `op(inputs)` writing the tensor named `output`.
    pub fn op_into(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>, output: &str) {
        self.push(op, inputs, to_protos(attrs), output);
    }

    fn push(&mut self, op: &str, inputs: &[&str], attribute: Vec<AttributeProto>, output: &str) {
        let name = self.fresh(op);
        self.steps.push(NodeProto {
            op_type: op.into(),
            name,
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.to_string()],
            attribute,
            ..Default::default()
        });
    }

    /// `op(a, b)` for a binary element-wise operator.
    pub fn binary(&mut self, op: &str, a: &str, b: &str) -> String {
        self.op(op, &[a, b], vec![])
    }

    /// `x` cast to float.
    pub fn cast_float(&mut self, x: &str) -> String {
        self.cast(x, DataType::Float)
    }

    /// `x` cast to `to`.
    pub fn cast(&mut self, x: &str, to: DataType) -> String {
        self.op("Cast", &[x], vec![("to", Attr::Int(to as i64))])
    }

    /// `x` cast to float, written to `out`.
    pub fn cast_float_into(&mut self, x: &str, out: &str) {
        self.op_into("Cast", &[x], vec![("to", Attr::Int(DataType::Float as i64))], out);
    }

    /// `x · m` for a constant row-major matrix `m` with `rows` rows.
    pub fn matmul_const(&mut self, x: &str, rows: usize, m: &[f64]) -> String {
        let m = self.matrix("weights", rows, m);
        self.binary("MatMul", x, &m)
    }

    /// `x[..., indices]`: columns of the last axis.
    pub fn columns(&mut self, x: &str, indices: &[i64]) -> String {
        let idx = self.int64s("columns", &[indices.len()], indices.to_vec());
        self.op("Gather", &[x, &idx], vec![("axis", Attr::Int(-1))])
    }

    /// A reduction over the last axis, keeping it (with `axes` as an attribute
    /// or an input as the model's opset requires).
    pub fn reduce_last(&mut self, op: &str, x: &str) -> String {
        let axes_as_input = match op {
            "ReduceSum" => self.opset >= 13,
            _ => self.opset >= 18,
        };
        if axes_as_input {
            let axes = self.int64s("axes", &[1], vec![-1]);
            self.op(op, &[x, &axes], vec![("keepdims", Attr::Int(1))])
        } else {
            self.op(op, &[x], vec![("axes", Attr::Ints(vec![-1])), ("keepdims", Attr::Int(1))])
        }
    }

    /// A boolean scalar.
    pub fn bool_scalar(&mut self, what: &str, value: bool) -> String {
        let tensor =
            TensorProto { data_type: DataType::Bool as i32, int32_data: vec![i32::from(value)], ..Default::default() };
        self.constant(what, &[], tensor)
    }

    /// Adds an initialiser as it is (a subgraph's, renamed by the caller).
    pub fn initializer(&mut self, tensor: TensorProto) {
        self.graph.initializer.push(tensor);
    }

    /// Emits a node built elsewhere (a copy of a subgraph's node).
    pub fn node(&mut self, node: NodeProto) {
        self.steps.push(node);
    }

    /// `x` without its axis `axis` of length 1 (with `axes` as an attribute or
    /// an input as the model's opset requires).
    pub fn squeeze(&mut self, x: &str, axis: i64) -> String {
        self.on_axis("Squeeze", x, axis)
    }

    /// `x` with a new last axis of length 1.
    pub fn unsqueeze_last(&mut self, x: &str) -> String {
        self.unsqueeze(x, -1)
    }

    /// `x` with a new axis of length 1 at `axis` (with `axes` as an attribute
    /// or an input as the model's opset requires).
    pub fn unsqueeze(&mut self, x: &str, axis: i64) -> String {
        self.on_axis("Unsqueeze", x, axis)
    }

    /// `op(x)` on one axis, given as an input from opset 13 and as the `axes`
    /// attribute before.
    fn on_axis(&mut self, op: &str, x: &str, axis: i64) -> String {
        if self.opset >= 13 {
            let axes = self.int64s("axes", &[1], vec![axis]);
            self.op(op, &[x, &axes], vec![])
        } else {
            self.op(op, &[x], vec![("axes", Attr::Ints(vec![axis]))])
        }
    }

    /// The node's output number `i`, if it is used (ONNX leaves unused optional
    /// outputs empty).
    pub fn output(node: &NodeProto, i: usize) -> Option<&str> {
        node.output.get(i).map(String::as_str).filter(|s| !s.is_empty())
    }

    /// The node's input number `i`.
    pub fn input(node: &NodeProto, i: usize) -> std::result::Result<&str, Refusal> {
        node.input.get(i).map(String::as_str).filter(|s| !s.is_empty()).ok_or_else(|| format!("input {i} is missing"))
    }

    /// Whether the tensor `name` is known to be boolean: a boolean initializer,
    /// a graph input or value declared boolean, or the output of a comparison,
    /// a logical operator or a cast to bool emitted earlier in the graph.
    pub fn is_bool(&self, name: &str) -> bool {
        self.is_bool_at(name, 16)
    }

    fn is_bool_at(&self, name: &str, depth: u32) -> bool {
        let bool_type = DataType::Bool as i32;
        if let Some(t) = self.graph.initializer.iter().find(|t| t.name == name) {
            return t.data_type == bool_type;
        }
        let declared = self.graph.input.iter().chain(&self.graph.value_info).find(|v| v.name == name);
        if let Some(elem) = declared.and_then(|v| v.r#type.as_ref()).and_then(|t| match &t.value {
            Some(tract_onnx::pb::type_proto::Value::TensorType(t)) if t.elem_type != 0 => Some(t.elem_type),
            _ => None,
        }) {
            return elem == bool_type;
        }
        let Some(n) = self.producer(name) else { return false };
        match n.op_type.as_str() {
            "Equal" | "Less" | "LessOrEqual" | "Greater" | "GreaterOrEqual" | "Not" | "And" | "Or" | "Xor"
            | "IsNaN" | "IsInf" => true,
            "Cast" => Attrs(n).int("to") == Some(i64::from(bool_type)),
            "Constant" => n.attribute.iter().any(|a| a.t.as_ref().is_some_and(|t| t.data_type == bool_type)),
            // Shape and data movement keep the type of their (first) data
            // input; Where that of its branches.
            "Unsqueeze" | "Squeeze" | "Reshape" | "Expand" | "Slice" | "Identity" | "Transpose" | "Flatten"
            | "Tile" | "Gather" | "Concat" | "Split" => {
                depth > 0 && n.input.first().is_some_and(|i| self.is_bool_at(i, depth - 1))
            }
            "Where" => depth > 0 && n.input.get(1).is_some_and(|i| self.is_bool_at(i, depth - 1)),
            _ => false,
        }
    }

    /// Whether the tensor `name` is a constant: an initializer or the output of
    /// a `Constant` node.
    pub fn is_constant(&self, name: &str) -> bool {
        self.graph.initializer.iter().any(|t| t.name == name)
            || self.producer(name).is_some_and(|n| n.op_type == "Constant")
    }

    /// The node emitted earlier that writes `name`.
    fn producer(&self, name: &str) -> Option<&NodeProto> {
        self.graph.node.iter().chain(&self.steps).find(|n| n.output.iter().any(|o| o == name))
    }

    /// The rank of a constant input (an initializer), if it is one.
    pub fn constant_rank(&self, name: &str) -> Option<usize> {
        self.graph.initializer.iter().find(|t| t.name == name).map(|t| t.dims.len())
    }

    /// Clears the declared type of graph output `name`, for tract to infer (a
    /// rewrite that turns a sequence of maps into a tensor).
    pub fn forget_output_type(&mut self, name: &str) {
        for o in self.graph.output.iter_mut().filter(|o| o.name == name) {
            o.r#type = None;
        }
    }
}
