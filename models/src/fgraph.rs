//! The float element graph: what an ONNX model lowers to before quantisation.
//!
//! Same shape as the quantised IR ([`crate::ir`]) but with `f64` weights and no
//! rescaling. Tensors flowing between lowerings are [`View`]s: a shape plus, per
//! element, either a reference to a computed element or a constant. Data movement
//! therefore never creates nodes, and constants fold into biases.

use std::collections::HashMap;

mod weighted;
pub use weighted::{LayerWeights, WeightedRow};

use crate::ir::{Csr, ReduceKind, Ref};
use crate::params::LinearParams;

/// An element of a view: computed, or a compile-time constant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Elem {
    /// A computed element.
    Ref(Ref),
    /// A constant.
    Const(f64),
}

/// A logical tensor: shape and one [`Elem`] per element (row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    /// Tensor shape.
    pub shape: Vec<usize>,
    /// Elements, row-major.
    pub elems: Vec<Elem>,
}

impl View {
    /// A view over a whole node output of the given shape.
    pub fn of_node(node: usize, shape: Vec<usize>) -> View {
        let n: usize = shape.iter().product();
        View { elems: (0..n).map(|i| Elem::Ref(Ref::new(node, i))).collect(), shape }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.elems.len()
    }

    /// True when the view has no elements.
    pub fn is_empty(&self) -> bool {
        self.elems.is_empty()
    }
}

/// A float affine map (see [`crate::ir::Linear`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FLinear {
    /// Per-output constant.
    pub bias: Vec<f64>,
    /// Per-output terms.
    pub terms: Csr<(Ref, f64)>,
    /// With hidden weights: the parameter behind each term and bias
    /// ([`crate::params`]).
    pub params: Option<LinearParams>,
}

/// A float operation.
#[derive(Clone, Debug, PartialEq)]
pub enum FOp {
    /// Model input `index`.
    Input {
        /// Position among the model inputs.
        index: usize,
    },
    /// Affine map.
    Linear(FLinear),
    /// Sums of products of computed elements: output `i` is `Σ a·b` over row `i`.
    Dot {
        /// Per-output pairs of factors.
        terms: Csr<(Ref, Ref)>,
    },
    /// Elementwise product of two computed elements.
    Mul {
        /// Left factors.
        a: Vec<Ref>,
        /// Right factors.
        b: Vec<Ref>,
    },
    /// Max/min over sets plus optional constants.
    Reduce {
        /// Max or min.
        kind: ReduceKind,
        /// Sets of computed elements, non-empty.
        sets: Csr<Ref>,
        /// Optional constant joining each set.
        konst: Vec<Option<f64>>,
    },
    /// `data[key]` for each key (an integer; out of range reads 0): a constant
    /// table gathered by computed indices.
    Table {
        /// The table.
        data: Vec<f64>,
        /// Keys, one per output.
        src: Vec<Ref>,
    },
    /// Square root of each element (at least 0).
    Sqrt {
        /// Inputs, one per output.
        src: Vec<Ref>,
    },
    /// Elementwise quotient of two computed elements (the divisor is positive).
    Div {
        /// Numerators.
        a: Vec<Ref>,
        /// Divisors.
        b: Vec<Ref>,
    },
    /// A nonlinear function of each element ([`crate::func::Func::eval_clamped`]).
    Map {
        /// The function.
        func: crate::func::Func,
        /// Inputs, one per output.
        src: Vec<Ref>,
    },
    /// `x − period · round(x / period)` (rounding half up): each element reduced
    /// into `[-period/2, period/2]`, the argument reduction of periodic functions.
    /// The quantiser proves it with integer arithmetic ([`crate::quantize`]).
    Wrap {
        /// The period, positive.
        period: f64,
        /// Inputs, one per output.
        src: Vec<Ref>,
    },
    /// `1 / max(x, RECIP_MIN)`: the reciprocal of a non-negative element, its
    /// input clamped away from 0 (the circuit clamps at one quantisation unit).
    Recip {
        /// Inputs, one per output.
        src: Vec<Ref>,
    },
}

/// Smallest divisor [`FOp::Recip`] takes in the float graph: one unit at the
/// finest scale calibration tries (the circuit clamps at one unit of its scale).
pub const RECIP_MIN: f64 = 1.0 / 65536.0;

/// `x − period · round(x / period)`, rounding half up ([`FOp::Wrap`]).
pub fn wrap(x: f64, period: f64) -> f64 {
    x - period * (x / period + 0.5).floor()
}

impl FOp {
    /// Calls `f` on every element this operation reads.
    pub fn for_each_ref(&self, mut f: impl FnMut(Ref)) {
        match self {
            FOp::Input { .. } => {}
            FOp::Linear(l) => l.terms.items.iter().for_each(|(r, _)| f(*r)),
            FOp::Mul { a, b } => a.iter().chain(b).copied().for_each(f),
            FOp::Dot { terms } => terms.items.iter().for_each(|(a, b)| {
                f(*a);
                f(*b)
            }),
            FOp::Reduce { sets, .. } => sets.items.iter().copied().for_each(f),
            FOp::Map { src, .. } => src.iter().copied().for_each(f),
            FOp::Div { a, b } => a.iter().chain(b).copied().for_each(f),
            FOp::Sqrt { src } | FOp::Table { src, .. } | FOp::Wrap { src, .. } | FOp::Recip { src } => {
                src.iter().copied().for_each(f)
            }
        }
    }

    /// Calls `f` on every element reference so that it can be rewritten.
    pub fn for_each_ref_mut(&mut self, mut f: impl FnMut(&mut Ref)) {
        match self {
            FOp::Input { .. } => {}
            FOp::Linear(l) => l.terms.items.iter_mut().for_each(|(r, _)| f(r)),
            FOp::Mul { a, b } => a.iter_mut().chain(b.iter_mut()).for_each(f),
            FOp::Dot { terms } => terms.items.iter_mut().for_each(|(a, b)| {
                f(a);
                f(b)
            }),
            FOp::Reduce { sets, .. } => sets.items.iter_mut().for_each(f),
            FOp::Map { src, .. } => src.iter_mut().for_each(f),
            FOp::Div { a, b } => a.iter_mut().chain(b.iter_mut()).for_each(f),
            FOp::Sqrt { src } | FOp::Table { src, .. } | FOp::Wrap { src, .. } | FOp::Recip { src } => {
                src.iter_mut().for_each(f)
            }
        }
    }
}

/// A float node with provenance.
#[derive(Clone, Debug, PartialEq)]
pub struct FNode {
    /// ONNX node name (with a suffix where one ONNX node made several).
    pub name: String,
    /// Operator it came from.
    pub origin: String,
    /// Number of output elements.
    pub len: usize,
    /// What it computes.
    pub op: FOp,
}

/// A model input.
#[derive(Clone, Debug, PartialEq)]
pub struct FInput {
    /// Input name.
    pub name: String,
    /// Concrete shape.
    pub shape: Vec<usize>,
    /// Its [`FOp::Input`] node.
    pub node: usize,
}

/// The float graph of a model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FGraph {
    /// Nodes in topological order.
    pub nodes: Vec<FNode>,
    /// Model inputs.
    pub inputs: Vec<FInput>,
    /// Model outputs.
    pub outputs: Vec<View>,
    /// Whether the weights of parametrised layers are hidden: lowerings then
    /// register them in [`FGraph::params`] and tag the terms they build
    /// ([`FGraph::weighted`]).
    pub hide_weights: bool,
    /// Values of the registered parameters, by [`crate::params::ParamId`].
    pub params: Vec<f64>,
}

/// One row of an affine map under construction: `bias + Σ w · elem`.
#[derive(Clone, Debug, Default)]
pub struct AffineRow {
    /// Constant part.
    pub bias: f64,
    /// Terms, possibly with constants and repeated references.
    pub terms: Vec<(Elem, f64)>,
}

impl FGraph {
    /// Adds a model input of the given shape and returns its view.
    pub fn add_input(&mut self, name: &str, shape: Vec<usize>) -> View {
        let index = self.inputs.len();
        let node = self.push(FNode {
            name: name.to_string(),
            origin: "Input".into(),
            len: shape.iter().product(),
            op: FOp::Input { index },
        });
        self.inputs.push(FInput { name: name.to_string(), shape: shape.clone(), node });
        View::of_node(node, shape)
    }

    fn push(&mut self, node: FNode) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Adds affine rows (one per output element). Constants fold into the bias,
    /// repeated references merge, zero weights drop; rows that are plain copies of
    /// one element or constants do not create computation.
    pub fn affine(&mut self, name: &str, origin: &str, shape: Vec<usize>, rows: Vec<AffineRow>) -> View {
        debug_assert_eq!(rows.len(), shape.iter().product::<usize>());
        let mut lin = FLinear::default();
        let mut elems = Vec::with_capacity(rows.len());
        let mut pending: Vec<(usize, usize)> = Vec::new(); // (elem slot, linear row)
        for row in rows {
            let (bias, terms) = normalize_row(row);
            match terms.as_slice() {
                // ±∞ absorbs every finite term (an attention mask added as −∞).
                _ if bias.is_infinite() => elems.push(Elem::Const(bias)),
                [] => elems.push(Elem::Const(bias)),
                [(r, w)] if *w == 1.0 && bias == 0.0 => elems.push(Elem::Ref(*r)),
                _ => {
                    pending.push((elems.len(), lin.bias.len()));
                    elems.push(Elem::Const(0.0));
                    lin.bias.push(bias);
                    lin.terms.push_row(terms);
                }
            }
        }
        if !lin.bias.is_empty() {
            let len = lin.bias.len();
            let node =
                self.push(FNode { name: name.to_string(), origin: origin.to_string(), len, op: FOp::Linear(lin) });
            for (slot, row) in pending {
                elems[slot] = Elem::Ref(Ref::new(node, row));
            }
        }
        View { shape, elems }
    }

    /// Adds sums of products, one per output element (`rows[i]` the pairs of
    /// output `i`): one [`FOp::Dot`] node when every factor is computed, else
    /// products and an affine sum (a constant factor makes a term linear).
    pub fn dot_products(&mut self, name: &str, origin: &str, shape: Vec<usize>, rows: Vec<Vec<(Elem, Elem)>>) -> View {
        let computed = |e: &Elem| matches!(e, Elem::Ref(_));
        if rows.iter().flatten().all(|(a, b)| computed(a) && computed(b)) && !rows.is_empty() {
            let mut terms = Csr::new();
            for row in &rows {
                terms.push_row(row.iter().filter_map(|(a, b)| match (a, b) {
                    (Elem::Ref(a), Elem::Ref(b)) => Some((*a, *b)),
                    _ => None,
                }));
            }
            let len = rows.len();
            let node =
                self.push(FNode { name: name.to_string(), origin: origin.to_string(), len, op: FOp::Dot { terms } });
            return View { elems: (0..len).map(|i| Elem::Ref(Ref::new(node, i))).collect(), shape };
        }
        let sizes: Vec<usize> = rows.iter().map(Vec::len).collect();
        let pairs: Vec<(Elem, Elem)> = rows.into_iter().flatten().collect();
        let n = pairs.len();
        let products = self.multiply(&format!("{name}.products"), origin, vec![n], pairs);
        let mut rest = products.elems.as_slice();
        let sums = sizes
            .into_iter()
            .map(|k| {
                let (head, tail) = rest.split_at(k);
                rest = tail;
                AffineRow { bias: 0.0, terms: head.iter().map(|e| (*e, 1.0)).collect() }
            })
            .collect();
        self.affine(name, origin, shape, sums)
    }

    /// Elementwise products. Products with a constant become affine rows; products
    /// of two computed elements become a [`FOp::Mul`] node.
    pub fn multiply(&mut self, name: &str, origin: &str, shape: Vec<usize>, pairs: Vec<(Elem, Elem)>) -> View {
        let by_constant = |x: Elem, y: Elem| match (x, y) {
            (Elem::Const(c), e) | (e, Elem::Const(c)) => Some(AffineRow { bias: 0.0, terms: vec![(e, c)] }),
            _ => None,
        };
        let made = self.pairwise((name, origin, "mul"), shape, pairs, by_constant, |a, b| FOp::Mul { a, b });
        made.unwrap_or_else(|| unreachable!("every pair has a constant or two computed elements"))
    }

    /// Elementwise binary operations: a pair with a constant becomes the affine row
    /// `with_constant` gives (`None`: not supported, and so the whole call); pairs of
    /// two computed elements become one node made by `make`, named `name.suffix`.
    fn pairwise(
        &mut self,
        (name, origin, suffix): (&str, &str, &str),
        shape: Vec<usize>,
        pairs: Vec<(Elem, Elem)>,
        with_constant: impl Fn(Elem, Elem) -> Option<AffineRow>,
        make: impl FnOnce(Vec<Ref>, Vec<Ref>) -> FOp,
    ) -> Option<View> {
        let mut rows = Vec::with_capacity(pairs.len());
        let (mut a, mut b, mut slots) = (Vec::new(), Vec::new(), Vec::new());
        for (i, (x, y)) in pairs.into_iter().enumerate() {
            match (x, y) {
                (Elem::Ref(x), Elem::Ref(y)) => {
                    a.push(x);
                    b.push(y);
                    slots.push(i);
                    rows.push(AffineRow::default());
                }
                _ => rows.push(with_constant(x, y)?),
            }
        }
        let mut view = self.affine(name, origin, shape, rows);
        if !a.is_empty() {
            let len = a.len();
            let node =
                self.push(FNode { name: format!("{name}.{suffix}"), origin: origin.to_string(), len, op: make(a, b) });
            for (k, slot) in slots.into_iter().enumerate() {
                view.elems[slot] = Elem::Ref(Ref::new(node, k));
            }
        }
        Some(view)
    }

    /// Max/min over sets of elements (one set per output element). Constants in a
    /// set combine into one; a set of one element with no constant is that element.
    pub fn reduce(
        &mut self,
        name: &str,
        origin: &str,
        kind: ReduceKind,
        shape: Vec<usize>,
        sets: Vec<Vec<Elem>>,
    ) -> View {
        let pick = |a: f64, b: f64| match kind {
            ReduceKind::Max => a.max(b),
            ReduceKind::Min => a.min(b),
        };
        let mut csr = Csr::new();
        let mut konst = Vec::new();
        let mut elems = Vec::with_capacity(sets.len());
        let mut pending = Vec::new();
        for set in sets {
            let mut refs: Vec<Ref> = Vec::new();
            let mut k: Option<f64> = None;
            for e in set {
                match e {
                    Elem::Ref(r) => {
                        if !refs.contains(&r) {
                            refs.push(r)
                        }
                    }
                    Elem::Const(c) => k = Some(k.map_or(c, |k| pick(k, c))),
                }
            }
            match (refs.as_slice(), k) {
                ([], Some(c)) => elems.push(Elem::Const(c)),
                ([], None) => elems.push(Elem::Const(0.0)),
                ([r], None) => elems.push(Elem::Ref(*r)),
                _ => {
                    pending.push((elems.len(), konst.len()));
                    elems.push(Elem::Const(0.0));
                    csr.push_row(refs);
                    konst.push(k);
                }
            }
        }
        if !konst.is_empty() {
            let len = konst.len();
            let node = self.push(FNode {
                name: name.to_string(),
                origin: origin.to_string(),
                len,
                op: FOp::Reduce { kind, sets: csr, konst },
            });
            for (slot, row) in pending {
                elems[slot] = Elem::Ref(Ref::new(node, row));
            }
        }
        View { shape, elems }
    }

    /// Elementwise quotients. A constant divisor becomes an affine row; two
    /// computed elements a [`FOp::Div`] node. `None` when a constant numerator
    /// meets a computed divisor (not supported).
    pub fn divide(&mut self, name: &str, origin: &str, shape: Vec<usize>, pairs: Vec<(Elem, Elem)>) -> Option<View> {
        let by_constant = |x: Elem, y: Elem| match y {
            Elem::Const(c) if c != 0.0 => Some(AffineRow { bias: 0.0, terms: vec![(x, 1.0 / c)] }),
            _ => None,
        };
        self.pairwise((name, origin, "div"), shape, pairs, by_constant, |a, b| FOp::Div { a, b })
    }

    /// One output per element of `x`: constants fold through `fold`; computed
    /// elements become the inputs of one node made by `make`.
    fn unary(
        &mut self,
        (name, origin): (&str, &str),
        shape: Vec<usize>,
        x: &[Elem],
        fold: impl Fn(f64) -> f64,
        make: impl FnOnce(Vec<Ref>) -> FOp,
    ) -> View {
        let mut src = Vec::new();
        let mut slots = Vec::new();
        let mut elems = Vec::with_capacity(x.len());
        for (i, e) in x.iter().enumerate() {
            match e {
                Elem::Const(c) => elems.push(Elem::Const(fold(*c))),
                Elem::Ref(r) => {
                    src.push(*r);
                    slots.push(i);
                    elems.push(Elem::Const(0.0));
                }
            }
        }
        if !src.is_empty() {
            let len = src.len();
            let node = self.push(FNode { name: name.to_string(), origin: origin.to_string(), len, op: make(src) });
            for (k, slot) in slots.into_iter().enumerate() {
                elems[slot] = Elem::Ref(Ref::new(node, k));
            }
        }
        View { shape, elems }
    }

    /// Reads `data[key]` for each key; constant keys fold.
    pub fn table_lookup(&mut self, name: &str, origin: &str, data: Vec<f64>, shape: Vec<usize>, keys: &[Elem]) -> View {
        let folded: Vec<f64> = data.clone();
        self.unary((name, origin), shape, keys, |k| read_table(&folded, k), |src| FOp::Table { data, src })
    }

    /// Square roots (of values clamped at 0); constants fold.
    pub fn sqrt(&mut self, name: &str, origin: &str, shape: Vec<usize>, x: &[Elem]) -> View {
        self.unary((name, origin), shape, x, |c| c.max(0.0).sqrt(), |src| FOp::Sqrt { src })
    }

    /// A nonlinear function of each element; constants fold.
    pub fn map(&mut self, name: &str, origin: &str, func: crate::func::Func, shape: Vec<usize>, x: &[Elem]) -> View {
        self.unary((name, origin), shape, x, |c| func.eval_clamped(c), |src| FOp::Map { func, src })
    }

    /// Each element reduced modulo `period` into `[-period/2, period/2]`
    /// ([`FOp::Wrap`]); constants fold.
    pub fn wrap(&mut self, name: &str, origin: &str, period: f64, shape: Vec<usize>, x: &[Elem]) -> View {
        self.unary((name, origin), shape, x, |c| wrap(c, period), |src| FOp::Wrap { period, src })
    }

    /// Reciprocals of non-negative elements, clamped away from 0 ([`FOp::Recip`]);
    /// constants fold.
    pub fn recip(&mut self, name: &str, origin: &str, shape: Vec<usize>, x: &[Elem]) -> View {
        self.unary((name, origin), shape, x, |c| 1.0 / c.max(RECIP_MIN), |src| FOp::Recip { src })
    }

    /// Whether `e` is provably at least 0 for every input, in the float graph and
    /// in the quantised one: constants, ReLU-like maxima, absolute values, squares,
    /// square roots, reciprocals, the non-negative functions (Sigmoid, Exp, the
    /// step functions, SoftplusTail), and affine, product, quotient and min/max
    /// combinations of such elements with non-negative weights. A conservative
    /// check (`false` means "not known").
    pub fn nonnegative(&self, e: Elem) -> bool {
        self.nonnegative_at(e, 8)
    }

    fn nonnegative_at(&self, e: Elem, depth: u32) -> bool {
        use crate::func::Func;
        let r = match e {
            Elem::Const(c) => return c >= 0.0,
            Elem::Ref(r) => r,
        };
        if depth == 0 {
            return false;
        }
        let i = r.index as usize;
        let nonneg = |e: Elem| self.nonnegative_at(e, depth - 1);
        match &self.nodes[r.node as usize].op {
            FOp::Input { .. } | FOp::Wrap { .. } | FOp::Table { .. } => false,
            FOp::Sqrt { .. } | FOp::Recip { .. } => true,
            FOp::Map { func, .. } => matches!(
                func,
                Func::Sigmoid
                    | Func::Exp
                    | Func::ExpNeg
                    | Func::Positive
                    | Func::NonNegative
                    | Func::IsZero
                    | Func::SoftplusTail
                    | Func::Acosh
            ),
            FOp::Linear(l) => l.bias[i] >= 0.0 && l.terms.row(i).iter().all(|&(t, w)| w >= 0.0 && nonneg(Elem::Ref(t))),
            FOp::Mul { a, b } => a[i] == b[i] || (nonneg(Elem::Ref(a[i])) && nonneg(Elem::Ref(b[i]))),
            FOp::Dot { terms } => {
                terms.row(i).iter().all(|&(a, b)| a == b || (nonneg(Elem::Ref(a)) && nonneg(Elem::Ref(b))))
            }
            FOp::Div { a, .. } => nonneg(Elem::Ref(a[i])),
            FOp::Reduce { kind, sets, konst } => {
                let set = sets.row(i);
                match kind {
                    ReduceKind::Max => {
                        konst[i].is_some_and(|k| k >= 0.0)
                            || set.iter().any(|&t| nonneg(Elem::Ref(t)))
                            || self.is_abs(set)
                    }
                    ReduceKind::Min => konst[i].is_none_or(|k| k >= 0.0) && set.iter().all(|&t| nonneg(Elem::Ref(t))),
                }
            }
        }
    }

    /// Whether a max over `set` is `|x|`: the set is `{x, −x}`.
    fn is_abs(&self, set: &[Ref]) -> bool {
        let negation_of = |n: Ref, x: Ref| match &self.nodes[n.node as usize].op {
            FOp::Linear(l) => l.bias[n.index as usize] == 0.0 && l.terms.row(n.index as usize) == [(x, -1.0)],
            _ => false,
        };
        matches!(set, [a, b] if negation_of(*b, *a) || negation_of(*a, *b))
    }

    /// Evaluates the graph in floating point (the quantiser's calibration and the
    /// lowering's self-check against tract).
    pub fn evaluate(&self, inputs: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let mut values: Vec<Vec<f64>> = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let get = |r: &Ref| values[r.node as usize][r.index as usize];
            let out = match &node.op {
                FOp::Input { index } => inputs[*index].clone(),
                FOp::Linear(l) => l
                    .terms
                    .rows()
                    .zip(&l.bias)
                    .map(|(row, b)| b + row.iter().map(|(r, w)| get(r) * w).sum::<f64>())
                    .collect(),
                FOp::Mul { a, b } => a.iter().zip(b).map(|(x, y)| get(x) * get(y)).collect(),
                FOp::Dot { terms } => terms.rows().map(|row| row.iter().map(|(x, y)| get(x) * get(y)).sum()).collect(),
                FOp::Map { func, src } => src.iter().map(|r| func.eval_clamped(get(r))).collect(),
                FOp::Div { a, b } => a.iter().zip(b).map(|(x, y)| get(x) / get(y)).collect(),
                FOp::Sqrt { src } => src.iter().map(|r| get(r).max(0.0).sqrt()).collect(),
                FOp::Wrap { period, src } => src.iter().map(|r| wrap(get(r), *period)).collect(),
                FOp::Recip { src } => src.iter().map(|r| 1.0 / get(r).max(RECIP_MIN)).collect(),
                FOp::Table { data, src } => src.iter().map(|r| read_table(data, get(r))).collect(),
                FOp::Reduce { kind, sets, konst } => sets
                    .rows()
                    .zip(konst)
                    .map(|(set, k)| {
                        let it = set.iter().map(get).chain(*k);
                        match kind {
                            ReduceKind::Max => it.fold(f64::NEG_INFINITY, f64::max),
                            ReduceKind::Min => it.fold(f64::INFINITY, f64::min),
                        }
                    })
                    .collect(),
            };
            values.push(out);
        }
        values
    }

    /// Reads the model outputs from node values computed by [`FGraph::evaluate`].
    pub fn outputs_of(&self, values: &[Vec<f64>]) -> Vec<Vec<f64>> {
        self.outputs
            .iter()
            .map(|v| {
                v.elems
                    .iter()
                    .map(|e| match e {
                        Elem::Ref(r) => values[r.node as usize][r.index as usize],
                        Elem::Const(c) => *c,
                    })
                    .collect()
            })
            .collect()
    }
}

/// `data[round(key)]`, or 0 outside the table.
fn read_table(data: &[f64], key: f64) -> f64 {
    let i = key.round();
    if i >= 0.0 && (i as usize) < data.len() {
        data[i as usize]
    } else {
        0.0
    }
}

/// Folds constants into the bias, merges repeated references (keeping first-seen
/// order) and drops zero weights.
pub fn normalize_row(row: AffineRow) -> (f64, Vec<(Ref, f64)>) {
    let mut bias = row.bias;
    let mut order: Vec<Ref> = Vec::new();
    let mut weight: HashMap<Ref, f64> = HashMap::new();
    for (e, w) in row.terms {
        match e {
            Elem::Const(c) => bias += c * w,
            Elem::Ref(r) => {
                let slot = weight.entry(r).or_insert_with(|| {
                    order.push(r);
                    0.0
                });
                *slot += w;
            }
        }
    }
    let terms = order
        .into_iter()
        .filter_map(|r| {
            let w = weight[&r];
            (w != 0.0).then_some((r, w))
        })
        .collect();
    (bias, terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_folds_constants_and_aliases_copies() {
        let mut g = FGraph::default();
        let x = g.add_input("x", vec![2]);
        let rows = vec![
            AffineRow { bias: 0.0, terms: vec![(x.elems[1], 1.0)] },
            AffineRow { bias: 1.0, terms: vec![(Elem::Const(2.0), 3.0)] },
            AffineRow { bias: 0.5, terms: vec![(x.elems[0], 1.0), (x.elems[0], 1.0), (x.elems[1], 0.0)] },
        ];
        let v = g.affine("a", "Add", vec![3], rows);
        assert_eq!(v.elems[0], x.elems[1]);
        assert_eq!(v.elems[1], Elem::Const(7.0));
        assert_eq!(g.nodes.len(), 2, "only the third row computes");
        let out = g.evaluate(&[vec![2.0, 5.0]]);
        assert_eq!(out[1], vec![4.5]);
    }

    #[test]
    fn reduce_and_multiply_fold_constants() {
        let mut g = FGraph::default();
        let x = g.add_input("x", vec![2]);
        let r = g.reduce(
            "relu",
            "Max",
            ReduceKind::Max,
            vec![3],
            vec![vec![x.elems[0], Elem::Const(0.0)], vec![Elem::Const(1.0), Elem::Const(3.0)], vec![x.elems[1]]],
        );
        assert_eq!(r.elems[1], Elem::Const(3.0));
        assert_eq!(r.elems[2], x.elems[1]);
        let m = g.multiply("sq", "Square", vec![2], vec![(x.elems[0], x.elems[0]), (x.elems[1], Elem::Const(2.0))]);
        g.outputs = vec![r, m];
        let vals = g.evaluate(&[vec![-2.0, 5.0]]);
        assert_eq!(g.outputs_of(&vals), vec![vec![0.0, 3.0, 5.0], vec![4.0, 10.0]]);
    }
}
