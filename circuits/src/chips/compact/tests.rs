//! MockProver tests of the compact lane through the model circuit: an honest
//! witness of a graph using every template passes; tampered dot sums, results,
//! second operands and limbs fail; and a mutation campaign over every advice cell
//! finds no constrained cell that can change unnoticed.

use std::sync::Arc;

use halo2_axiom::dev::MockProver;
use zkinfer_models::eval::evaluate;
use zkinfer_models::func::Func;
use zkinfer_models::ir::{Csr, Graph, Input, Linear, Node, Op, Operand, Output, ReduceKind, Ref};

use crate::circuit::{used_rows, ModelCircuit, Program, Witness};
use crate::layout::Layout;
use crate::mutation::mutation_campaign;
use crate::plan::{estimate, reserved_rows_for};
use crate::shape::{CircuitShape, Ranges, Template};

/// x[4] → linear[3] (width-2 rows) → relu-rescale, rescale → products, max/min
/// chains with constants, table lookups (sigmoid, tanh), a division, a square root
/// and a gather of a constant table by computed keys.
fn graph() -> Graph {
    let node = |name: &str, len: usize, op: Op| Node { name: name.into(), origin: name.into(), shape: vec![len], op };
    let mut terms = Csr::new();
    terms.push_row((0..4).map(|i| (Ref::new(0, i), [3, -2, 5, 1][i])));
    terms.push_row([(Ref::new(0, 1), 7), (Ref::new(0, 3), -4), (Ref::new(0, 2), 2)]);
    terms.push_row([(Ref::new(0, 0), -6)]);
    let mut max_sets = Csr::new();
    max_sets.push_row([Ref::new(2, 0), Ref::new(2, 1), Ref::new(3, 0)]);
    // 1 + sigmoid: a positive divisor.
    let mut den_terms = Csr::new();
    den_terms.push_row([(Ref::new(7, 0), 1)]);
    // Keys 2·2^4 and 0 (entries 2 and 0 of a gathered table).
    let mut key_terms = Csr::new();
    key_terms.push_row([]);
    key_terms.push_row([]);
    let mut min_sets = Csr::new();
    min_sets.push_row([Ref::new(3, 0), Ref::new(4, 0)]);
    Graph {
        scale: 4,
        inputs: vec![Input { name: "x".into(), shape: vec![4], node: 0 }],
        nodes: vec![
            node("x", 4, Op::Input { index: 0 }),
            node("lin", 3, Op::Linear(Linear { bias: vec![5, -9, 100], terms, weight_scale: 4, params: None })),
            node("relu", 2, Op::Rescale { src: vec![Ref::new(1, 0), Ref::new(1, 1)], relu: true }),
            node("rescale", 1, Op::Rescale { src: vec![Ref::new(1, 2)], relu: false }),
            node("mul", 1, Op::MulRescale { a: vec![Ref::new(2, 0)], b: vec![Ref::new(3, 0)] }),
            node("max", 1, Op::Reduce { kind: ReduceKind::Max, sets: max_sets, konst: vec![Some(-3)] }),
            node("min", 1, Op::Reduce { kind: ReduceKind::Min, sets: min_sets, konst: vec![Some(20)] }),
            node("sigmoid", 2, Op::Lookup { func: Func::Sigmoid, src: vec![Ref::new(3, 0), Ref::new(6, 0)], bits: 8 }),
            node("tanh", 1, Op::Lookup { func: Func::Tanh, src: vec![Ref::new(5, 0)], bits: 8 }),
            node("den", 1, Op::Linear(Linear { bias: vec![16], terms: den_terms, weight_scale: 0, params: None })),
            node("div", 1, Op::DivRescale { a: vec![Ref::new(8, 0)], b: vec![Ref::new(9, 0)] }),
            node("sqrt", 1, Op::Sqrt { src: vec![Ref::new(9, 0)] }),
            node("key", 2, Op::Linear(Linear { bias: vec![32, 0], terms: key_terms, weight_scale: 0, params: None })),
            node("embed", 2, Op::Gather { data: vec![5, -7, 90, 3], src: vec![Ref::new(12, 0), Ref::new(12, 1)] }),
        ],
        outputs: vec![Output {
            shape: vec![9],
            elems: vec![
                Operand::Ref(Ref::new(5, 0)),
                Operand::Ref(Ref::new(6, 0)),
                Operand::Ref(Ref::new(7, 0)),
                Operand::Ref(Ref::new(7, 1)),
                Operand::Ref(Ref::new(8, 0)),
                Operand::Ref(Ref::new(10, 0)),
                Operand::Ref(Ref::new(11, 0)),
                Operand::Ref(Ref::new(13, 0)),
                Operand::Ref(Ref::new(13, 1)),
            ],
        }],
    }
}

fn shape(layout: &Layout) -> CircuitShape {
    let mut shape = CircuitShape {
        k: 4,
        ranges: Ranges { lookup_bits: 4, value_bits: 16, scale: 4 },
        dot_lanes: 1,
        dot_width: 2,
        elem_lanes: 1,
        templates: layout.templates.clone(),
        instances: 9,
        compact: true,
        visibility: Default::default(),
        variable_dots: false,
    };
    // Two 2^8-entry function tables, a 4-entry data table and the zero row.
    let rows = used_rows(layout, &shape).max(2 * 256 + 4 + 1);
    while (1 << shape.k) < rows + reserved_rows_for(&shape) {
        shape.k += 1;
    }
    shape
}

struct Setup {
    circuit: ModelCircuit,
    witness: Witness,
}

fn setup(x: [i64; 4]) -> Setup {
    let g = graph();
    g.validate().unwrap();
    let layout = Layout::build(&g, 1, 2, 1);
    let shape = shape(&layout);
    let program = Arc::new(Program { graph: g.clone(), layout });
    let trace = evaluate(&g, &[x.to_vec()]).unwrap();
    let witness = Witness::generate(&program, &shape, trace).unwrap();
    Setup { circuit: ModelCircuit::new(shape, program), witness }
}

fn run(s: &Setup, witness: Witness) -> Result<(), Vec<halo2_axiom::dev::VerifyFailure>> {
    let instances = s.witness.instances();
    let circuit = s.circuit.clone().with_witness(Arc::new(witness));
    MockProver::run(s.circuit.shape.k, &circuit, vec![instances]).unwrap().verify()
}

const X: [i64; 4] = [40, -13, 22, 7];

#[test]
fn uses_every_template_and_few_columns() {
    let s = setup(X);
    assert_eq!(s.circuit.shape.templates, Template::ALL.to_vec());
    let e = estimate(&s.circuit.shape, 0);
    assert_eq!((e.advice_columns, e.lookups), (4, 2), "x_0, x_1, c and one limb column; range and function lookups");
}

#[test]
fn honest_witness_passes() {
    for x in [X, [0, 0, 0, 0], [-100, 90, -3, 64]] {
        let s = setup(x);
        run(&s, s.witness.clone()).unwrap();
    }
}

#[test]
fn tampered_dot_input_fails() {
    let s = setup(X);
    let mut w = s.witness.clone();
    // The dot rows read the inputs from the trace; the copy constraint to the
    // input's range-checked home catches a changed one.
    w.trace.values[0][1] += 1;
    assert!(run(&s, w).is_err());
}

#[test]
fn tampered_results_fail() {
    let s = setup(X);
    for op in 0..s.witness.elem_rows[0].len() {
        if s.circuit.program.as_ref().unwrap().layout.elem[0][op].template == Template::Range {
            continue;
        }
        let mut w = s.witness.clone();
        w.elem_rows[0][op].c += 1;
        assert!(run(&s, w).is_err(), "result of operation {op} changed unnoticed");
    }
}

#[test]
fn tampered_second_operand_and_limbs_fail() {
    let s = setup(X);
    let layout = &s.circuit.program.as_ref().unwrap().layout;
    let mul = layout.elem[0].iter().position(|j| j.template == Template::MulRescale).unwrap();
    let mut w = s.witness.clone();
    w.elem_rows[0][mul].b += 1;
    assert!(run(&s, w).is_err(), "second operand (x_0 one row down) is copy-constrained");
    let relu = layout.elem[0].iter().position(|j| j.template == Template::RescaleRelu).unwrap();
    let mut w = s.witness.clone();
    w.elem_rows[0][relu].limbs[0] += 1 << 4;
    assert!(run(&s, w).is_err(), "a limb outside the table is caught by the lookup");
}

#[test]
fn tampered_lookups_fail() {
    let s = setup(X);
    let layout = &s.circuit.program.as_ref().unwrap().layout;
    let lookups: Vec<usize> =
        layout.elem[0].iter().enumerate().filter(|(_, j)| j.template == Template::Lookup).map(|(i, _)| i).collect();
    assert_eq!(lookups.len(), 5, "three function lookups and two gathers");
    for &op in &lookups {
        // A wrong function value: the (tag, x, y) row is not in the table.
        let mut w = s.witness.clone();
        w.elem_rows[0][op].c += 1;
        assert!(run(&s, w).is_err(), "wrong value of lookup {op} accepted");
    }
    // The other function's value for the same input (right table row, wrong tag).
    let op = lookups[2];
    let mut w = s.witness.clone();
    let x = w.elem_rows[0][op].a;
    w.elem_rows[0][op].c = Func::Sigmoid.table_value(x as i64, 4) as i128;
    assert_ne!(w.elem_rows[0][op].c, s.witness.elem_rows[0][op].c);
    assert!(run(&s, w).is_err(), "a value of another function accepted");
}

#[test]
fn input_outside_the_table_fails() {
    // 200 at scale 4 is outside the 8-bit table [-128, 128): the integer reference
    // refuses it, and a witness that uses it anyway is rejected.
    let g = graph();
    let trace = evaluate(&g, &[vec![40, -13, 22, 7]]).unwrap();
    assert!(trace.values[7].iter().all(|v| v.abs() < 1 << 10));
    let mut bad = g.clone();
    if let Op::Lookup { bits, .. } = &mut bad.nodes[8].op {
        *bits = 2;
    }
    assert!(evaluate(&bad, &[vec![40, -13, 22, 7]]).is_err(), "the reference checks the table range");
}

#[test]
fn mutation_campaign_finds_no_unconstrained_cell() {
    let s = setup(X);
    let circuit = s.circuit.clone().with_witness(Arc::new(s.witness.clone()));
    let report = mutation_campaign(&circuit, &s.witness.instances(), None).unwrap();
    assert!(report.tried > 100, "{report:?}");
    assert!(report.survivors.is_empty(), "{:?}", report.survivors);
}
