//! The quantised graph IR: the integer program that a circuit proves.
//!
//! Every tensor element is a fixed-point integer `round(x * 2^scale)` at the single
//! graph scale. Data movement (reshape, transpose, padding, gathers with constant
//! indices, ...) has already been resolved into element references, so the IR only
//! holds operations that compute something:
//!
//! - [`Op::Linear`]: each output is `bias + Σ weight · element` (dense layers,
//!   convolutions, pooling sums, additions, affine maps, all composed where cheaper);
//! - [`Op::Rescale`]: division by `2^scale` with rounding half up, optionally fused
//!   with a ReLU;
//! - [`Op::MulRescale`]: product of two elements, rescaled;
//! - [`Op::Reduce`]: maximum or minimum over a set of elements and an optional
//!   constant (ReLU, Max/Min/Clip, max pooling).
//!
//! The integer reference evaluator ([`crate::eval`]) defines the semantics; the
//! circuit must reproduce it exactly.

use serde::{Deserialize, Serialize};

/// Identifies one element of a node's output tensor (row-major index).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ref {
    /// Index of the producing node in [`Graph::nodes`].
    pub node: u32,
    /// Row-major index into that node's output.
    pub index: u32,
}

impl Ref {
    /// Builds a reference to element `index` of node `node`.
    pub fn new(node: usize, index: usize) -> Self {
        Ref { node: node as u32, index: index as u32 }
    }
}

/// A value an operation consumes: a computed element or a fixed-point constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operand {
    /// A computed element.
    Ref(Ref),
    /// A constant, already quantised at the graph scale.
    Const(i64),
}

/// Whether a [`Op::Reduce`] takes the maximum or the minimum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReduceKind {
    /// Largest element.
    Max,
    /// Smallest element.
    Min,
}

/// Rows of references in compressed sparse row form: row `i` is
/// `items[offsets[i]..offsets[i + 1]]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Csr<T> {
    /// Row boundaries; `offsets.len()` is the number of rows plus one.
    pub offsets: Vec<u32>,
    /// Concatenated row contents.
    pub items: Vec<T>,
}

impl<T> Default for Csr<T> {
    /// An empty table with no rows (one offset, 0).
    fn default() -> Self {
        Csr::new()
    }
}

impl<T> Csr<T> {
    /// An empty table with no rows.
    pub fn new() -> Self {
        Csr { offsets: vec![0], items: Vec::new() }
    }

    /// Appends one row.
    pub fn push_row(&mut self, row: impl IntoIterator<Item = T>) {
        self.items.extend(row);
        self.offsets.push(self.items.len() as u32);
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[T] {
        &self.items[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Iterates over the rows in order.
    pub fn rows(&self) -> impl Iterator<Item = &[T]> + '_ {
        (0..self.len()).map(move |i| self.row(i))
    }

    /// Checks the row boundaries: they start at 0, never decrease and end at the
    /// item count (a decoded table may be anything).
    pub fn check(&self) -> Result<(), String> {
        let ok = self.offsets.first() == Some(&0)
            && self.offsets.windows(2).all(|w| w[0] <= w[1])
            && self.offsets.last().map(|&l| l as usize) == Some(self.items.len());
        if ok {
            Ok(())
        } else {
            Err("row boundaries of a table are inconsistent".into())
        }
    }
}

/// A sparse affine map: output `i` is `bias[i] + Σ_j weight_ij · term_ij`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Linear {
    /// Per-output constant, at the output scale.
    pub bias: Vec<i64>,
    /// Per-output terms: the element and its integer weight.
    pub terms: Csr<(Ref, i64)>,
    /// Fractional bits of the weights: `0` (integer weights, the output stays at the
    /// graph scale) or the graph scale (the output is at twice the graph scale and
    /// is consumed only by a [`Op::Rescale`]).
    pub weight_scale: u32,
    /// With hidden weights: the model parameter behind each term and bias
    /// ([`crate::params`]); `None` when every weight is a fixed constant.
    #[serde(default)]
    pub params: Option<crate::params::LinearParams>,
}

/// An operation of the quantised IR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Model input number `index`, quantised by the caller.
    Input {
        /// Position among the model's inputs.
        index: usize,
    },
    /// Sparse affine map with integer weights.
    Linear(Linear),
    /// Sums of products of computed elements: output `i` is `Σ a·b` over row
    /// `i`'s pairs (attention scores, attention × values), at twice the graph
    /// scale and consumed only by a [`Op::Rescale`], like a [`Linear`] with
    /// fractional weights.
    Bilinear {
        /// Per-output pairs of factors.
        terms: Csr<(Ref, Ref)>,
    },
    /// `out = floor((src + 2^(s-1)) / 2^s)` with `s` the graph scale, then
    /// `max(out, 0)` when `relu` is set.
    Rescale {
        /// One source element per output.
        src: Vec<Ref>,
        /// Apply a ReLU after rescaling.
        relu: bool,
    },
    /// `out = floor((a * b + 2^(s-1)) / 2^s)`.
    MulRescale {
        /// Left factors, one per output.
        a: Vec<Ref>,
        /// Right factors, one per output.
        b: Vec<Ref>,
    },
    /// `out_i = max/min(sets_i ∪ {konst_i})`.
    Reduce {
        /// Maximum or minimum.
        kind: ReduceKind,
        /// The elements of each output's set (at least one per row).
        sets: Csr<Ref>,
        /// An optional constant that joins each set.
        konst: Vec<Option<i64>>,
    },
    /// `out = data[key / 2^s]`: a constant table (already at the graph scale)
    /// gathered by computed keys, each an exact multiple of `2^s` within the table.
    Gather {
        /// The table.
        data: Vec<i64>,
        /// Keys, one per output.
        src: Vec<Ref>,
    },
    /// `out = floor(sqrt(x · 2^s))` for `x ≥ 0` (the square root at scale `s`).
    Sqrt {
        /// Inputs, one per output.
        src: Vec<Ref>,
    },
    /// `out = round(a · 2^s / b)` (half up, [`crate::arith::div_round`]) for a
    /// positive divisor `b`.
    DivRescale {
        /// Numerators, one per output.
        a: Vec<Ref>,
        /// Divisors (positive), one per output.
        b: Vec<Ref>,
    },
    /// `out = table(x)`: a nonlinear function by table lookup
    /// ([`crate::func::Func::table_value`]: inputs at the table's scale, which
    /// past a size cap is below the graph scale, outputs at the graph scale);
    /// every input lies in the table's range
    /// ([`crate::func::Func::input_range`]), which a clamp before it guarantees.
    Lookup {
        /// The function.
        func: crate::func::Func,
        /// Inputs, one per output.
        src: Vec<Ref>,
        /// Table input bits.
        bits: u32,
    },
}

impl Op {
    /// Short name used in reports.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Op::Input { .. } => "Input",
            Op::Linear(_) => "Linear",
            Op::Bilinear { .. } => "Bilinear",
            Op::Rescale { relu: false, .. } => "Rescale",
            Op::Rescale { relu: true, .. } => "RescaleRelu",
            Op::MulRescale { .. } => "MulRescale",
            Op::Reduce { kind: ReduceKind::Max, .. } => "Max",
            Op::Reduce { kind: ReduceKind::Min, .. } => "Min",
            Op::Lookup { func, .. } => func.name(),
            Op::DivRescale { .. } => "DivRescale",
            Op::Sqrt { .. } => "Sqrt",
            Op::Gather { .. } => "Gather",
        }
    }

    /// Calls `f` on every element this operation reads.
    pub fn for_each_ref(&self, mut f: impl FnMut(Ref)) {
        match self {
            Op::Input { .. } => {}
            Op::Linear(l) => l.terms.items.iter().for_each(|(r, _)| f(*r)),
            Op::Bilinear { terms } => terms.items.iter().for_each(|(a, b)| {
                f(*a);
                f(*b)
            }),
            Op::Rescale { src, .. } => src.iter().copied().for_each(f),
            Op::MulRescale { a, b } => a.iter().chain(b).copied().for_each(f),
            Op::Reduce { sets, .. } => sets.items.iter().copied().for_each(f),
            Op::Lookup { src, .. } => src.iter().copied().for_each(f),
            Op::DivRescale { a, b } => a.iter().chain(b).copied().for_each(f),
            Op::Sqrt { src } | Op::Gather { src, .. } => src.iter().copied().for_each(f),
        }
    }

    /// Calls `f` on every element reference so that it can be rewritten.
    pub fn for_each_ref_mut(&mut self, mut f: impl FnMut(&mut Ref)) {
        match self {
            Op::Input { .. } => {}
            Op::Linear(l) => l.terms.items.iter_mut().for_each(|(r, _)| f(r)),
            Op::Bilinear { terms } => terms.items.iter_mut().for_each(|(a, b)| {
                f(a);
                f(b)
            }),
            Op::Rescale { src, .. } | Op::Lookup { src, .. } | Op::Sqrt { src } | Op::Gather { src, .. } => {
                src.iter_mut().for_each(f)
            }
            Op::MulRescale { a, b } | Op::DivRescale { a, b } => a.iter_mut().chain(b.iter_mut()).for_each(f),
            Op::Reduce { sets, .. } => sets.items.iter_mut().for_each(f),
        }
    }
}

/// Liveness in a graph of `n` nodes in topological order: `roots` are live, and
/// so is every node a live node reads (`reads(id, mark)` calls `mark` on each node
/// that node `id` reads). Shared by the float graph and the IR.
pub fn live_nodes(
    n: usize,
    roots: impl IntoIterator<Item = usize>,
    mut reads: impl FnMut(usize, &mut dyn FnMut(usize)),
) -> Vec<bool> {
    let mut live = vec![false; n];
    for r in roots {
        live[r] = true;
    }
    for id in (0..n).rev() {
        if live[id] {
            reads(id, &mut |r| live[r] = true);
        }
    }
    live
}

/// One operation of the graph with its provenance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Name of the ONNX node this came from (with a suffix where one ONNX node made several).
    pub name: String,
    /// The ONNX/tract operator it came from, e.g. `Conv` or `EinSum`.
    pub origin: String,
    /// Output shape; the element count is the product.
    pub shape: Vec<usize>,
    /// What it computes.
    pub op: Op,
}

impl Node {
    /// Number of output elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the node has no output elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A model output: its shape and where each element comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    /// Tensor shape.
    pub shape: Vec<usize>,
    /// One operand per element, row-major.
    pub elems: Vec<Operand>,
}

/// A model input: its shape and the node that holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// Input name in the ONNX file.
    pub name: String,
    /// Tensor shape (symbolic dimensions already fixed).
    pub shape: Vec<usize>,
    /// The [`Op::Input`] node.
    pub node: u32,
}

/// A quantised model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Graph {
    /// Fractional bits of every input, weight and activation.
    pub scale: u32,
    /// Operations in topological order.
    pub nodes: Vec<Node>,
    /// Model inputs in ONNX order.
    pub inputs: Vec<Input>,
    /// Model outputs in ONNX order.
    pub outputs: Vec<Output>,
}

impl Graph {
    /// Total number of output elements over all model outputs.
    pub fn output_len(&self) -> usize {
        self.outputs.iter().map(|o| o.elems.len()).sum()
    }

    /// Number of multiply-accumulate terms over all linear nodes.
    pub fn linear_terms(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| match &n.op {
                Op::Linear(l) => l.terms.items.len(),
                Op::Bilinear { terms } => terms.items.len(),
                _ => 0,
            })
            .sum()
    }

    /// The function tables the graph uses, in order of first use; a lookup's
    /// table tag is its position plus one.
    pub fn lookup_tables(&self) -> Vec<(crate::func::Func, u32)> {
        let mut tables = Vec::new();
        for node in &self.nodes {
            if let Op::Lookup { func, bits, .. } = node.op {
                if !tables.contains(&(func, bits)) {
                    tables.push((func, bits));
                }
            }
        }
        tables
    }

    /// The nodes gathering constant tables by computed keys, in order; their
    /// table tags follow the functions' ([`Graph::lookup_tables`]).
    pub fn data_tables(&self) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&i| matches!(self.nodes[i].op, Op::Gather { .. })).collect()
    }

    /// The table tag of lookup node `id` (a function table or a data table).
    pub fn table_tag(&self, id: usize) -> Option<i64> {
        let funcs = self.lookup_tables();
        match &self.nodes[id].op {
            Op::Lookup { func, bits, .. } => funcs.iter().position(|t| *t == (*func, *bits)).map(|p| p as i64 + 1),
            Op::Gather { .. } => self.data_tables().iter().position(|&n| n == id).map(|p| (funcs.len() + p) as i64 + 1),
            _ => None,
        }
    }

    /// Checks internal consistency: references point backwards to existing
    /// elements, row counts match shapes. Returns a description of the first problem.
    pub fn validate(&self) -> Result<(), String> {
        for (id, node) in self.nodes.iter().enumerate() {
            let n = node.len();
            match &node.op {
                Op::Linear(l) => l.terms.check(),
                Op::Bilinear { terms } => terms.check(),
                Op::Reduce { sets, .. } => sets.check(),
                _ => Ok(()),
            }
            .map_err(|e| format!("node {id} ({}): {e}", node.name))?;
            let rows = match &node.op {
                Op::Input { index } => {
                    if *index >= self.inputs.len() {
                        return Err(format!("node {id} reads input {index}, which does not exist"));
                    }
                    n
                }
                Op::Linear(l) => {
                    if l.bias.len() != l.terms.len() {
                        return Err(format!("node {id}: bias and term rows differ"));
                    }
                    l.bias.len()
                }
                Op::Bilinear { terms } => terms.len(),
                Op::Rescale { src, .. } | Op::Sqrt { src } | Op::Gather { src, .. } => src.len(),
                Op::Lookup { src, bits, .. } => {
                    if !(2..=crate::func::MAX_TABLE_BITS).contains(bits) {
                        return Err(format!("node {id}: table bits {bits} out of range"));
                    }
                    src.len()
                }
                Op::MulRescale { a, b } | Op::DivRescale { a, b } => {
                    if a.len() != b.len() {
                        return Err(format!("node {id}: factor lists differ in length"));
                    }
                    a.len()
                }
                Op::Reduce { sets, konst, .. } => {
                    if sets.len() != konst.len() {
                        return Err(format!("node {id}: sets and constants differ in length"));
                    }
                    if sets.rows().any(|r| r.is_empty()) {
                        return Err(format!("node {id}: empty reduction set"));
                    }
                    sets.len()
                }
            };
            if rows != n {
                return Err(format!("node {id} ({}) has {rows} rows but shape {:?}", node.name, node.shape));
            }
            let mut bad = None;
            node.op.for_each_ref(|r| {
                let ok = (r.node as usize) < id && (r.index as usize) < self.nodes[r.node as usize].len();
                if !ok && bad.is_none() {
                    bad = Some(r);
                }
            });
            if let Some(r) = bad {
                return Err(format!("node {id} reads {r:?}, which is not an earlier element"));
            }
        }
        for (i, out) in self.outputs.iter().enumerate() {
            if out.elems.len() != out.shape.iter().product::<usize>() {
                return Err(format!("output {i}: element count does not match shape"));
            }
            for e in &out.elems {
                if let Operand::Ref(r) = e {
                    let ok =
                        (r.node as usize) < self.nodes.len() && (r.index as usize) < self.nodes[r.node as usize].len();
                    if !ok {
                        return Err(format!("output {i} reads missing element {r:?}"));
                    }
                }
            }
        }
        Ok(())
    }
}
