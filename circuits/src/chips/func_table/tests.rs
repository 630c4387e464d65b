//! MockProver tests of the step functions' tables (comparisons, Sign): an honest
//! witness passes in both profiles; a looked-up value changed to the other
//! boolean, to another function's value for the same input, or by one unit
//! fails; so does a clamped input that is not the clamp of its source, and a
//! mutation campaign finds no unconstrained cell.

use std::sync::Arc;

use halo2_axiom::dev::{MockProver, VerifyFailure};
use zkinfer_models::eval::evaluate;
use zkinfer_models::fgraph::FGraph;
use zkinfer_models::func::{table_range, Func, STEP_TABLE_BITS};
use zkinfer_models::ir::Op;
use zkinfer_models::quantize_inputs;

use crate::circuit::{ModelCircuit, Program, Witness};
use crate::compile::{compile, CompileOptions};
use crate::layout::Layout;
use crate::mutation::mutation_campaign;
use crate::plan::Profile;
use crate::shape::Template;

const STEPS: [Func; 4] = [Func::Positive, Func::NonNegative, Func::IsZero, Func::Sign];
const SCALE: u32 = 5;

/// Inputs around zero (ties, one unit either side) and far from it.
fn inputs() -> Vec<f64> {
    let unit = 1.0 / f64::from(1u32 << SCALE);
    vec![0.0, unit, -unit, 2.0 * unit, -2.0 * unit, 3.5, -7.25, 100.0, -100.0]
}

struct Setup {
    circuit: ModelCircuit,
    witness: Witness,
}

/// Every step function of every input, compiled for `profile` at a fixed scale.
fn setup(profile: Profile) -> Setup {
    let x = inputs();
    let mut g = FGraph::default();
    let v = g.add_input("x", vec![x.len()]);
    g.outputs = STEPS.iter().map(|&f| g.map(f.name(), f.name(), f, vec![x.len()], &v.elems)).collect();
    let x = vec![x];
    let reference = g.outputs_of(&g.evaluate(&x));
    let opts = CompileOptions { scale: Some(SCALE), profile, ..Default::default() };
    let c = compile(&g, &x, &reference, &opts).unwrap();
    assert_eq!(c.max_abs_error, 0.0, "step functions are exact on these inputs");
    let shape = c.plan.shape;
    let layout = Layout::build(&c.graph, shape.dot_lanes as usize, shape.dot_width as usize, shape.elem_lanes as usize);
    let trace = evaluate(&c.graph, &quantize_inputs(&x, SCALE).unwrap()).unwrap();
    let program = Arc::new(Program { graph: c.graph, layout });
    let witness = Witness::generate(&program, &shape, trace).unwrap();
    Setup { circuit: ModelCircuit::new(shape, program), witness }
}

fn run(s: &Setup, witness: Witness) -> Result<(), Vec<VerifyFailure>> {
    let circuit = s.circuit.clone().with_witness(Arc::new(witness));
    MockProver::run(s.circuit.shape.k, &circuit, vec![s.witness.instances()]).unwrap().verify()
}

/// The (lane, row) of every lookup of a step function, with its function.
fn lookups(s: &Setup) -> Vec<(usize, usize, Func)> {
    let program = s.circuit.program.as_ref().unwrap();
    let mut out = Vec::new();
    for (lane, jobs) in program.layout.elem.iter().enumerate() {
        for (i, job) in jobs.iter().enumerate() {
            if let Op::Lookup { func, .. } = program.graph.nodes[job.node as usize].op {
                if job.template == Template::Lookup {
                    out.push((lane, i, func));
                }
            }
        }
    }
    out
}

#[test]
fn step_tables_are_small_and_exact() {
    let s = setup(Profile::Fast);
    let graph = &s.circuit.program.as_ref().unwrap().graph;
    let tables = graph.lookup_tables();
    assert_eq!(tables.len(), 4);
    assert!(tables.iter().all(|&(f, bits)| f.is_step() && bits == STEP_TABLE_BITS));
    assert_eq!(super::table_rows(&tables, 0), 1 + 4 * 4, "the zero row and four 4-entry tables");
    let unit = 1i128 << SCALE;
    let want: Vec<i128> = STEPS
        .iter()
        .flat_map(|f| {
            inputs().into_iter().map(move |x| {
                let q = (x * unit as f64).round() as i128;
                match f {
                    Func::Positive => i128::from(q > 0) * unit,
                    Func::NonNegative => i128::from(q >= 0) * unit,
                    Func::IsZero => i128::from(q == 0) * unit,
                    _ => q.signum() * unit,
                }
            })
        })
        .collect();
    assert_eq!(s.witness.outputs, want);
}

#[test]
fn honest_witnesses_pass_and_tampered_lookups_fail_in_both_profiles() {
    let unit = 1i128 << SCALE;
    for profile in [Profile::Fast, Profile::Evm] {
        let s = setup(profile);
        run(&s, s.witness.clone()).unwrap_or_else(|e| panic!("{profile:?}: honest witness rejected: {e:?}"));
        let found = lookups(&s);
        assert_eq!(found.len(), STEPS.len() * inputs().len(), "{profile:?}: one lookup per element");
        let (lo, hi) = table_range(STEP_TABLE_BITS);
        for &(lane, op, func) in &found {
            let honest = &s.witness.elem_rows[lane][op];
            assert!((lo as i128..=hi as i128).contains(&honest.a), "{profile:?}: the input is clamped");
            // The other boolean (or the other sign): a value the table holds, for
            // another input.
            let flipped = match func {
                Func::Sign if honest.c == 0 => unit,
                Func::Sign => -honest.c,
                _ => unit - honest.c,
            };
            // Another step function's value for the same input (wrong tag).
            let other = STEPS
                .iter()
                .map(|f| f.table_value(honest.a as i64, SCALE) as i128)
                .find(|&v| v != honest.c)
                .expect("some function differs");
            for bad in [flipped, other, honest.c + 1] {
                let mut w = s.witness.clone();
                w.elem_rows[lane][op].c = bad;
                assert!(run(&s, w).is_err(), "{profile:?}: {func:?}({}) = {bad} accepted", honest.a);
            }
            // A looked-up input that is not the clamped source, with its consistent
            // table value: the copy constraint to the clamp's result catches it.
            let moved = if honest.a == hi as i128 { honest.a - 1 } else { honest.a + 1 };
            let mut w = s.witness.clone();
            w.elem_rows[lane][op].a = moved;
            w.elem_rows[lane][op].c = func.table_value(moved as i64, SCALE) as i128;
            assert!(run(&s, w).is_err(), "{profile:?}: {func:?} of a moved input accepted");
        }
    }
}

#[test]
fn clamp_results_cannot_change_a_comparison() {
    // The clamp before the lookup: a wrong clamp result (say 1 for a negative
    // input, turning `x > 0` true) is caught by the max/min gates.
    let s = setup(Profile::Fast);
    let program = s.circuit.program.as_ref().unwrap();
    for (lane, jobs) in program.layout.elem.iter().enumerate() {
        for (i, job) in jobs.iter().enumerate() {
            if matches!(job.template, Template::MaxConst | Template::MinConst) {
                let mut w = s.witness.clone();
                w.elem_rows[lane][i].c = if w.elem_rows[lane][i].c == 1 { -1 } else { 1 };
                assert!(run(&s, w).is_err(), "clamp row {i} of lane {lane} changed unnoticed");
            }
        }
    }
}

#[test]
fn mutation_campaign_finds_no_unconstrained_cell() {
    for profile in [Profile::Fast, Profile::Evm] {
        let s = setup(profile);
        let circuit = s.circuit.clone().with_witness(Arc::new(s.witness.clone()));
        let report = mutation_campaign(&circuit, &s.witness.instances(), None).unwrap();
        assert!(report.tried > 50, "{profile:?}: {report:?}");
        assert!(report.survivors.is_empty(), "{profile:?}: {:?}", report.survivors);
    }
}
