//! The lowering driver: classifies every node (constant, supported, unsupported),
//! reports all unsupported operators at once, then lowers node by node through the
//! operator registry in [`super::ops`].

use std::collections::HashMap;

use tract_onnx::prelude::*;

use super::ops::registry;
use super::value::{Dynamic, Value};
use crate::error::{Error, Result, UnsupportedOp};
use crate::fgraph::{FGraph, View};

/// Lowering context of one node.
pub(crate) struct Ctx<'a> {
    /// The graph under construction.
    pub g: &'a mut FGraph,
    /// The tract node.
    pub node: &'a TypedNode,
    /// Concrete output shapes.
    pub out_shapes: Vec<Vec<usize>>,
    /// The datum type of each input (tract's: booleans, integers, floats).
    pub input_types: Vec<DatumType>,
}

impl<'a> Ctx<'a> {
    /// Node name.
    pub fn name(&self) -> &'a str {
        &self.node.name
    }

    /// Operator name.
    pub fn op_name(&self) -> String {
        self.node.op.name().to_string()
    }

    /// A lowering error for this node.
    pub fn fail(&self, message: impl Into<String>) -> Error {
        Error::Lowering { node: self.node.name.clone(), op: self.op_name(), message: message.into() }
    }

    /// Shape of output 0.
    pub fn out_shape(&self) -> Vec<usize> {
        self.out_shapes.first().cloned().unwrap_or_default()
    }
}

/// How one operator lowers.
pub(crate) trait Lowering: Sync {
    /// Whether this lowering is the one for `node`'s operator.
    fn handles(&self, node: &TypedNode) -> bool;

    /// Whether this use can be lowered, given which inputs are compile-time
    /// constants; `Err` gives the reason.
    fn supports(&self, _node: &TypedNode, _const_inputs: &[bool]) -> std::result::Result<(), String> {
        Ok(())
    }

    /// Whether this use can be lowered given its inputs' datum types (logic
    /// operators need booleans, casts depend on what they convert); `Err` gives
    /// the reason. Checked after [`Lowering::supports`].
    fn supports_types(&self, _node: &TypedNode, _input_types: &[DatumType]) -> std::result::Result<(), String> {
        Ok(())
    }

    /// Whether the operator only copies elements of its one data input (reshapes,
    /// slices, gathers with constant indices): a [`Value::Dynamic`] then passes
    /// through it view by view.
    fn moves_elements(&self) -> bool {
        false
    }

    /// Lowers the node. At least one input is not a constant.
    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>>;
}

/// How zkinfer treats one operator of the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpStatus {
    /// Proven by the circuit.
    Supported,
    /// Computed at compile time (all its inputs are constants).
    Constant,
    /// Not expressible yet, with the reason.
    Unsupported(String),
}

/// One row of the operator table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpRow {
    /// Node name.
    pub node: String,
    /// Operator name as tract prints it.
    pub op: String,
    /// Treatment.
    pub status: OpStatus,
}

fn is_source(node: &TypedNode) -> bool {
    node.op_is::<tract_onnx::tract_core::ops::source::TypedSource>()
}

fn is_const(node: &TypedNode) -> bool {
    node.op_is::<tract_onnx::tract_core::ops::konst::Const>()
}

/// The datum type of each input of `node`.
fn input_types(model: &TypedModel, node: &TypedNode) -> Vec<DatumType> {
    node.inputs.iter().map(|o| model.outlet_fact(*o).map_or(DatumType::F32, |f| f.datum_type)).collect()
}

/// Whether each node (by id) is known at compile time: a constant, or computed
/// from constants only (folded), given the evaluation `order`.
fn constant_nodes(model: &TypedModel, order: &[usize]) -> Vec<bool> {
    let mut constant = vec![false; model.nodes().len()];
    for &id in order {
        let node = model.node(id);
        constant[id] = !is_source(node) && (is_const(node) || node.inputs.iter().all(|o| constant[o.node]));
    }
    constant
}

/// The estimated size of lowering `model` ([`super::size`]).
pub(crate) fn workload(model: &TypedModel) -> Result<super::size::Workload> {
    let order = model.eval_order().map_err(|e| graph_err("(model)", "graph", e.to_string()))?;
    let constant = constant_nodes(model, &order);
    let computed: Vec<bool> = (0..constant.len()).map(|id| !constant[id] && !is_source(model.node(id))).collect();
    Ok(super::size::workload(model, &computed))
}

/// Classifies every node in evaluation order.
pub(crate) fn op_table(model: &TypedModel) -> Vec<OpRow> {
    let order = match model.eval_order() {
        Ok(o) => o,
        Err(e) => {
            return vec![OpRow {
                node: "(model)".into(),
                op: "graph".into(),
                status: OpStatus::Unsupported(format!("cannot order the graph: {e}")),
            }]
        }
    };
    let constant = constant_nodes(model, &order);
    let mut rows = Vec::new();
    for id in order {
        let node = model.node(id);
        let const_inputs: Vec<bool> = node.inputs.iter().map(|o| constant[o.node]).collect();
        let status = if is_source(node) {
            OpStatus::Supported
        } else if constant[id] {
            OpStatus::Constant
        } else {
            match registry().iter().find(|l| l.handles(node)) {
                None => OpStatus::Unsupported("no lowering for this operator".into()),
                Some(l) => match l
                    .supports(node, &const_inputs)
                    .and_then(|()| l.supports_types(node, &input_types(model, node)))
                {
                    Ok(()) => OpStatus::Supported,
                    Err(reason) => OpStatus::Unsupported(reason),
                },
            }
        };
        if !is_const(node) {
            rows.push(OpRow { node: node.name.clone(), op: node.op.name().to_string(), status });
        }
    }
    rows
}

fn concrete_shape(model: &TypedModel, o: OutletId) -> std::result::Result<Vec<usize>, String> {
    let fact = model.outlet_fact(o).map_err(|e| e.to_string())?;
    fact.shape.as_concrete().map(|s| s.to_vec()).ok_or_else(|| format!("shape {:?} is not fully known", fact.shape))
}

/// Lowers a decluttered model whose input shapes are concrete, hiding the
/// weights of parametrised layers when `hide_weights` ([`crate::params`]).
pub(crate) fn lower_model(model: &TypedModel, input_names: &[String], hide_weights: bool) -> Result<FGraph> {
    let table = op_table(model);
    let unsupported: Vec<UnsupportedOp> = table
        .iter()
        .filter_map(|r| match &r.status {
            OpStatus::Unsupported(reason) => {
                Some(UnsupportedOp { node: r.node.clone(), op: r.op.clone(), reason: reason.clone() })
            }
            _ => None,
        })
        .collect();
    if !unsupported.is_empty() {
        return Err(Error::Unsupported(unsupported));
    }
    // Before any memory is spent: a model far too large for this machine.
    workload(model)?.check_fits(crate::memory::available_bytes())?;
    let mut g = FGraph { hide_weights, ..FGraph::default() };
    let mut values: HashMap<OutletId, Value> = HashMap::new();
    for (i, outlet) in model.input_outlets().iter().flat_map(|o| o.iter()).enumerate() {
        let node = model.node(outlet.node);
        let shape = concrete_shape(model, *outlet).map_err(|e| graph_err(&node.name, "input", e))?;
        let name = input_names.get(i).cloned().unwrap_or_else(|| node.name.clone());
        let mut view = g.add_input(&name, shape.clone());
        if model.outlet_fact(*outlet).is_ok_and(|f| f.datum_type == DatumType::Bool) {
            // A boolean input is private: prove it 0 or 1 (nonzero counts as true)
            // before logic treats it as a boolean.
            view = super::ops::not_zero(&mut g, &format!("{name}.bool"), "Cast", shape, &view.elems);
        }
        values.insert(*outlet, Value::View(view));
    }
    lower_nodes(&mut g, model, &mut values)?;
    for o in model.output_outlets().map_err(|e| graph_err("(model)", "graph", e.to_string()))? {
        let v =
            values.get(o).ok_or_else(|| graph_err("(model)", "output", format!("output {o:?} was not computed")))?;
        let view: View = v.to_view().map_err(|e| graph_err("(model)", "output", e.to_string()))?;
        g.outputs.push(view);
    }
    Ok(g)
}

fn graph_err(node: &str, op: &str, e: String) -> Error {
    Error::Lowering { node: node.to_string(), op: op.to_string(), message: e }
}

/// Lowers every node of `model` that is not a source, in evaluation order, reading
/// and writing `values` (the sources' values must be there).
fn lower_nodes(g: &mut FGraph, model: &TypedModel, values: &mut HashMap<OutletId, Value>) -> Result<()> {
    let order = model.eval_order().map_err(|e| graph_err("(model)", "graph", e.to_string()))?;
    for id in order {
        let node = model.node(id);
        if is_source(node) {
            continue;
        }
        let op_name = node.op.name().to_string();
        let outputs: Vec<Value> = if let Some(k) = node.op_as::<tract_onnx::tract_core::ops::konst::Const>() {
            vec![Value::Const(k.val().clone())]
        } else {
            let inputs: Vec<Value> = node
                .inputs
                .iter()
                .map(|o| {
                    values
                        .get(o)
                        .cloned()
                        .ok_or_else(|| graph_err(&node.name, &op_name, format!("input {o:?} was not computed")))
                })
                .collect::<Result<_>>()?;
            if inputs.iter().all(|v| v.as_const().is_some()) {
                fold_constant(node, &inputs).map_err(|e| graph_err(&node.name, &op_name, e))?
            } else {
                let out_shapes = (0..node.outputs.len())
                    .map(|slot| concrete_shape(model, OutletId::new(id, slot)))
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| graph_err(&node.name, &op_name, e))?;
                let lowering = registry()
                    .iter()
                    .find(|l| l.handles(node))
                    .ok_or_else(|| graph_err(&node.name, &op_name, "no lowering".into()))?;
                let mut ctx = Ctx { g, node, out_shapes, input_types: input_types(model, node) };
                let out = match dynamic_input(*lowering, &inputs) {
                    Some((slot, d)) => pass_dynamic(*lowering, &mut ctx, &inputs, slot, d)?,
                    None => lowering.lower(&mut ctx, &inputs)?,
                };
                for (slot, v) in out.iter().enumerate() {
                    let want = &ctx.out_shapes[slot];
                    if &v.shape() != want {
                        return Err(ctx
                            .fail(format!("lowered output {slot} has shape {:?}, tract expects {want:?}", v.shape())));
                    }
                }
                out
            }
        };
        for (slot, v) in outputs.into_iter().enumerate() {
            values.insert(OutletId::new(id, slot), v);
        }
    }
    Ok(())
}

/// The one computed input of an element-moving operator, when it is a
/// [`Value::Dynamic`].
fn dynamic_input<'v>(lowering: &dyn Lowering, inputs: &'v [Value]) -> Option<(usize, &'v Dynamic)> {
    if !lowering.moves_elements() {
        return None;
    }
    let mut computed = inputs.iter().enumerate().filter(|(_, v)| v.as_const().is_none());
    match (computed.next(), computed.next()) {
        (Some((slot, Value::Dynamic(d))), None) => Some((slot, d)),
        _ => None,
    }
}

/// Applies an element-moving operator to each view of `d`, the input `slot`.
fn pass_dynamic(
    lowering: &dyn Lowering,
    ctx: &mut Ctx<'_>,
    inputs: &[Value],
    slot: usize,
    d: &Dynamic,
) -> Result<Vec<Value>> {
    let mut moved = Vec::new();
    for view in d.views() {
        let mut plain = inputs.to_vec();
        plain[slot] = Value::View(view.clone());
        let mut out = lowering.lower(ctx, &plain)?;
        match (out.len(), out.pop()) {
            (1, Some(v)) => moved.push(v.to_view().map_err(|e| ctx.fail(e.to_string()))?),
            (count, _) => return Err(ctx.fail(format!("{count} outputs from an element-moving operator"))),
        }
    }
    Ok(vec![Value::Dynamic(d.with_views(moved))])
}

/// Lowers a loop body (or any sub-model) into `g` for the given input values,
/// returning its outputs' values: one unrolled iteration of a `Scan`.
pub(crate) fn lower_body(g: &mut FGraph, model: &TypedModel, inputs: Vec<Value>) -> Result<Vec<Value>> {
    let mut values: HashMap<OutletId, Value> = HashMap::new();
    let outlets = model.input_outlets().map_err(|e| graph_err("(loop body)", "graph", e.to_string()))?;
    if outlets.len() != inputs.len() {
        return Err(graph_err(
            "(loop body)",
            "graph",
            format!("{} inputs for {} sources", inputs.len(), outlets.len()),
        ));
    }
    for (outlet, value) in outlets.iter().zip(inputs) {
        values.insert(*outlet, value);
    }
    lower_nodes(g, model, &mut values)?;
    model
        .output_outlets()
        .map_err(|e| graph_err("(loop body)", "graph", e.to_string()))?
        .iter()
        .map(|o| {
            values
                .get(o)
                .cloned()
                .ok_or_else(|| graph_err("(loop body)", "output", format!("output {o:?} was not computed")))
        })
        .collect()
}

/// Evaluates a node whose inputs are all constants with tract itself.
fn fold_constant(node: &TypedNode, inputs: &[Value]) -> std::result::Result<Vec<Value>, String> {
    let tensors: TVec<TValue> = inputs.iter().filter_map(|v| v.as_const()).map(|t| t.clone().into_tvalue()).collect();
    let out = node
        .op
        .eval_out_of_plan(tensors)
        .map_err(|e| format!("constant folding failed: {e}"))?
        .ok_or_else(|| "operator cannot be evaluated at compile time".to_string())?;
    Ok(out.into_iter().map(|t| Value::Const(t.into_arc_tensor())).collect())
}
