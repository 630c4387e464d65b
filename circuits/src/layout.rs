//! Placement of a quantised graph onto the circuit's lanes: which dot-product lane
//! and rows each linear output uses, which element-wise rows each other operation
//! uses, and where ("home") every IR element's value lives so that its consumers
//! can copy it. Depends only on the graph and the lane counts, never on witness
//! values, so key generation and proving lay out identically.

use zkinfer_models::ir::{Graph, Op, Operand, ReduceKind, Ref};

use crate::chips::dot::job_rows;
use crate::shape::Template;

/// Where a value lives in the circuit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    /// The `acc` column of dot lane `lane`.
    Acc {
        /// Lane index.
        lane: u32,
        /// Row.
        row: u32,
    },
    /// The `a` column of element lane `lane` (private inputs live here).
    ElemA {
        /// Lane index.
        lane: u32,
        /// Row.
        row: u32,
    },
    /// The `c` (result) column of element lane `lane`.
    ElemC {
        /// Lane index.
        lane: u32,
        /// Row.
        row: u32,
    },
}

/// What a dot-product job computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DotSource {
    /// Output `row` of linear node `node`.
    Linear {
        /// IR node.
        node: u32,
        /// Output index.
        row: u32,
    },
    /// Output `row` of bilinear node `node` (a dot product whose weights are
    /// witnesses: the second factors).
    Bilinear {
        /// IR node.
        node: u32,
        /// Output index.
        row: u32,
    },
    /// A constant (materialised for a model output that is constant).
    Const(i64),
}

/// One dot-product job in a lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DotJob {
    /// What it computes.
    pub source: DotSource,
    /// First row.
    pub start: u32,
}

/// An operand of an element-wise row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElemIn {
    /// Unused.
    None,
    /// An IR element, copied from its home.
    Copy(Ref),
    /// An IR element defined here (a model input): value only, no copy.
    Define(Ref),
    /// The result of the previous row of the same lane (max/min chains).
    Prev,
}

/// One element-wise row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElemJob {
    /// The gate.
    pub template: Template,
    /// First operand.
    pub a: ElemIn,
    /// Second operand.
    pub b: ElemIn,
    /// Constant operand of MaxConst/MinConst.
    pub konst: i64,
    /// IR node the row belongs to.
    pub node: u32,
}

/// The placement of a whole graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Jobs of each dot lane, in row order.
    pub dot: Vec<Vec<DotJob>>,
    /// Rows of each element lane, in order.
    pub elem: Vec<Vec<ElemJob>>,
    /// Home of every IR element: node `n`'s element `i` is `homes[offsets[n] + i]`.
    pub homes: Vec<Loc>,
    /// Start of each node's homes.
    pub offsets: Vec<usize>,
    /// Home of every model output element, in output order.
    pub outputs: Vec<Loc>,
    /// Rows used by each dot lane (its jobs plus the final result row).
    pub dot_heights: Vec<usize>,
    /// Templates in use, sorted.
    pub templates: Vec<Template>,
}

fn least(heights: &[usize]) -> usize {
    (0..heights.len()).min_by_key(|&i| (heights[i], i)).unwrap_or(0)
}

impl Layout {
    /// Home of an IR element.
    pub fn home(&self, r: Ref) -> Loc {
        self.homes[self.offsets[r.node as usize] + r.index as usize]
    }

    /// Rows used by the tallest lane (dot lanes include their final result row).
    pub fn rows(&self) -> usize {
        let dot = self.dot_heights.iter().copied().max().unwrap_or(0);
        let elem = self.elem.iter().map(|l| l.len()).max().unwrap_or(0);
        dot.max(elem)
    }

    /// Element-wise rows belonging to each node.
    pub fn elem_rows_per_node(&self, nodes: usize) -> Vec<usize> {
        let mut count = vec![0; nodes];
        for job in self.elem.iter().flatten() {
            count[job.node as usize] += 1;
        }
        count
    }

    /// Lays out `graph` on `dot_lanes` lanes `dot_width` wide and `elem_lanes`
    /// element lanes. Every node's rows go to the currently shortest lane.
    pub fn build(graph: &Graph, dot_lanes: usize, dot_width: usize, elem_lanes: usize) -> Layout {
        let mut offsets = Vec::with_capacity(graph.nodes.len());
        let mut total = 0;
        for node in &graph.nodes {
            offsets.push(total);
            total += node.len();
        }
        let mut lay = Layout {
            dot: vec![Vec::new(); dot_lanes],
            elem: vec![Vec::new(); elem_lanes.max(1)],
            homes: vec![Loc::Acc { lane: 0, row: 0 }; total],
            offsets,
            outputs: Vec::new(),
            dot_heights: vec![0; dot_lanes],
            templates: Vec::new(),
        };
        let mut dot_rows = vec![0usize; dot_lanes];
        let mut used = [false; Template::ALL.len()];
        for (id, node) in graph.nodes.iter().enumerate() {
            let base = lay.offsets[id];
            match &node.op {
                Op::Input { .. } => {
                    for i in 0..node.len() {
                        let job = ElemJob {
                            template: Template::Range,
                            a: ElemIn::Define(Ref::new(id, i)),
                            b: ElemIn::None,
                            konst: 0,
                            node: id as u32,
                        };
                        let (lane, row) = lay.push_elem(&[job], &mut used);
                        lay.homes[base + i] = Loc::ElemA { lane, row };
                    }
                }
                Op::Linear(_) | Op::Bilinear { .. } => {
                    let counts: Vec<usize> = match &node.op {
                        Op::Linear(l) => l.terms.rows().map(<[_]>::len).collect(),
                        Op::Bilinear { terms } => terms.rows().map(<[_]>::len).collect(),
                        _ => Vec::new(),
                    };
                    for (i, terms) in counts.into_iter().enumerate() {
                        let lane = least(&dot_rows);
                        let start = dot_rows[lane];
                        dot_rows[lane] += job_rows(terms, dot_width);
                        let (node, row) = (id as u32, i as u32);
                        let source = match &graph.nodes[id].op {
                            Op::Bilinear { .. } => DotSource::Bilinear { node, row },
                            _ => DotSource::Linear { node, row },
                        };
                        lay.dot[lane].push(DotJob { source, start: start as u32 });
                        lay.homes[base + i] = Loc::Acc { lane: lane as u32, row: dot_rows[lane] as u32 };
                    }
                }
                Op::Rescale { src, .. } | Op::Sqrt { src } => {
                    let template = match node.op {
                        Op::Rescale { relu: true, .. } => Template::RescaleRelu,
                        Op::Rescale { relu: false, .. } => Template::Rescale,
                        _ => Template::Sqrt,
                    };
                    for (i, r) in src.iter().enumerate() {
                        let job = ElemJob { template, a: ElemIn::Copy(*r), b: ElemIn::None, konst: 0, node: id as u32 };
                        let (lane, row) = lay.push_elem(&[job], &mut used);
                        lay.homes[base + i] = Loc::ElemC { lane, row };
                    }
                }
                Op::MulRescale { a, b } | Op::DivRescale { a, b } => {
                    let template =
                        if matches!(node.op, Op::MulRescale { .. }) { Template::MulRescale } else { Template::Div };
                    for (i, (x, y)) in a.iter().zip(b).enumerate() {
                        let job =
                            ElemJob { template, a: ElemIn::Copy(*x), b: ElemIn::Copy(*y), konst: 0, node: id as u32 };
                        let (lane, row) = lay.push_elem(&[job], &mut used);
                        lay.homes[base + i] = Loc::ElemC { lane, row };
                    }
                }
                Op::Lookup { src, .. } | Op::Gather { src, .. } => {
                    let tag = graph.table_tag(id).unwrap_or(0);
                    for (i, r) in src.iter().enumerate() {
                        let job = ElemJob {
                            template: Template::Lookup,
                            a: ElemIn::Copy(*r),
                            b: ElemIn::None,
                            konst: tag,
                            node: id as u32,
                        };
                        let (lane, row) = lay.push_elem(&[job], &mut used);
                        lay.homes[base + i] = Loc::ElemC { lane, row };
                    }
                }
                Op::Reduce { kind, sets, konst } => {
                    let (pair, with_const) = match kind {
                        ReduceKind::Max => (Template::Max, Template::MaxConst),
                        ReduceKind::Min => (Template::Min, Template::MinConst),
                    };
                    for (i, (set, k)) in sets.rows().zip(konst).enumerate() {
                        let mut chain = Vec::with_capacity(set.len());
                        let mut a = ElemIn::Copy(set[0]);
                        for r in &set[1..] {
                            chain.push(ElemJob { template: pair, a, b: ElemIn::Copy(*r), konst: 0, node: id as u32 });
                            a = ElemIn::Prev;
                        }
                        if let Some(k) = k {
                            chain.push(ElemJob {
                                template: with_const,
                                a,
                                b: ElemIn::None,
                                konst: *k,
                                node: id as u32,
                            });
                        }
                        lay.homes[base + i] = if chain.is_empty() {
                            lay.home(set[0])
                        } else {
                            let (lane, row) = lay.push_elem(&chain, &mut used);
                            Loc::ElemC { lane, row }
                        };
                    }
                }
            }
        }
        for out in &graph.outputs {
            for e in &out.elems {
                let loc = match e {
                    Operand::Ref(r) => lay.home(*r),
                    Operand::Const(c) => {
                        let lane = least(&dot_rows);
                        let start = dot_rows[lane];
                        dot_rows[lane] += 1;
                        lay.dot[lane].push(DotJob { source: DotSource::Const(*c), start: start as u32 });
                        Loc::Acc { lane: lane as u32, row: dot_rows[lane] as u32 }
                    }
                };
                lay.outputs.push(loc);
            }
        }
        lay.dot_heights =
            dot_rows.iter().zip(&lay.dot).map(|(h, jobs)| if jobs.is_empty() { 0 } else { h + 1 }).collect();
        lay.templates = Template::ALL.iter().zip(used).filter_map(|(t, u)| u.then_some(*t)).collect();
        lay
    }

    /// Appends a chain of rows to the shortest element lane; returns the lane and
    /// the last row.
    fn push_elem(&mut self, chain: &[ElemJob], used: &mut [bool; Template::ALL.len()]) -> (u32, u32) {
        let heights: Vec<usize> = self.elem.iter().map(|l| l.len()).collect();
        let lane = least(&heights);
        for job in chain {
            let t = Template::ALL.iter().position(|t| *t == job.template).unwrap_or(0);
            used[t] = true;
            self.elem[lane].push(*job);
        }
        (lane as u32, (self.elem[lane].len() - 1) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkinfer_models::ir::{Csr, Input, Linear, Node, Output};

    fn graph() -> Graph {
        let mut terms = Csr::new();
        terms.push_row((0..10).map(|i| (Ref::new(0, i % 4), 1)));
        terms.push_row([(Ref::new(0, 0), 2)]);
        let mut sets = Csr::new();
        sets.push_row([Ref::new(2, 0), Ref::new(2, 1), Ref::new(0, 3)]);
        sets.push_row([Ref::new(2, 1)]);
        let node =
            |name: &str, len: usize, op: Op| Node { name: name.into(), origin: name.into(), shape: vec![len], op };
        Graph {
            scale: 4,
            inputs: vec![Input { name: "x".into(), shape: vec![4], node: 0 }],
            nodes: vec![
                node("x", 4, Op::Input { index: 0 }),
                node("lin", 2, Op::Linear(Linear { bias: vec![0, 1], terms, weight_scale: 4, params: None })),
                node("rs", 2, Op::Rescale { src: vec![Ref::new(1, 0), Ref::new(1, 1)], relu: false }),
                node("max", 2, Op::Reduce { kind: ReduceKind::Max, sets, konst: vec![Some(0), None] }),
            ],
            outputs: vec![Output {
                shape: vec![3],
                elems: vec![Operand::Ref(Ref::new(3, 0)), Operand::Ref(Ref::new(3, 1)), Operand::Const(7)],
            }],
        }
    }

    #[test]
    fn places_jobs_chains_aliases_and_constants() {
        let g = graph();
        g.validate().unwrap();
        let lay = Layout::build(&g, 1, 4, 1);
        // dot: 10 terms -> 3 rows, 1 term -> 1 row, constant output -> 1 row; +1 result row
        assert_eq!(lay.dot_heights, vec![6]);
        assert_eq!(lay.home(Ref::new(1, 0)), Loc::Acc { lane: 0, row: 3 });
        assert_eq!(lay.home(Ref::new(1, 1)), Loc::Acc { lane: 0, row: 4 });
        // elem: 4 inputs, 2 rescales, chain of max,max,max_const
        let templates: Vec<Template> = lay.elem[0].iter().map(|j| j.template).collect();
        assert_eq!(
            templates,
            vec![
                Template::Range,
                Template::Range,
                Template::Range,
                Template::Range,
                Template::Rescale,
                Template::Rescale,
                Template::Max,
                Template::Max,
                Template::MaxConst
            ]
        );
        assert_eq!(lay.elem[0][7].a, ElemIn::Prev);
        // a one-element set without constant aliases its source
        assert_eq!(lay.home(Ref::new(3, 1)), lay.home(Ref::new(2, 1)));
        assert_eq!(lay.outputs[2], Loc::Acc { lane: 0, row: 5 });
        assert_eq!(lay.rows(), 9);
        assert_eq!(lay.templates, vec![Template::Range, Template::Rescale, Template::Max, Template::MaxConst]);
    }

    #[test]
    fn lanes_balance_rows() {
        let g = graph();
        let lay = Layout::build(&g, 2, 4, 3);
        assert_eq!(lay.elem.iter().map(|l| l.len()).sum::<usize>(), 9);
        assert!(lay.elem.iter().all(|l| l.len() <= 5));
        assert_eq!(lay.dot.iter().map(|l| l.len()).sum::<usize>(), 3);
    }
}
