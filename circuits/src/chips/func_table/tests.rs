//! MockProver tests of the function tables. Step functions (comparisons, Sign):
//! an honest witness passes in both profiles; a looked-up value changed to the
//! other boolean, to another function's value for the same input, or by one unit
//! fails; so does a clamped input that is not the clamp of its source, and a
//! mutation campaign finds no unconstrained cell. The smooth functions
//! ([`Func::SMOOTH`]: Sigmoid, Tanh, Erf, Exp, Log, SoftplusTail, Sin, Cos and the
//! bounded-domain tables: Asin, Atan, Atanh, Asinh, Acosh, Tan) get
//! the same treatment over inputs inside, at the edges of and beyond each table.

use std::sync::Arc;

use halo2_axiom::dev::{MockProver, VerifyFailure};
use zkinfer_models::eval::evaluate;
use zkinfer_models::fgraph::FGraph;
use zkinfer_models::func::{table_range, Func, STEP_TABLE_BITS};
use zkinfer_models::ir::Graph;
use zkinfer_models::ir::Op;
use zkinfer_models::quantize_inputs;

use crate::chips::elementwise::ElemRow;
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
    let s = setup_funcs(&STEPS, inputs(), profile);
    let graph = &s.circuit.program.as_ref().unwrap().graph;
    assert_eq!(max_error(graph, &s.witness, &STEPS, &inputs()), 0.0, "step functions are exact on these inputs");
    s
}

/// The largest |circuit output − exact function| of `funcs` on `x`.
fn max_error(graph: &Graph, witness: &Witness, funcs: &[Func], x: &[f64]) -> f64 {
    let unit = f64::powi(2.0, graph.scale as i32);
    let exact = funcs.iter().flat_map(|f| x.iter().map(move |&v| f.eval_clamped(v)));
    witness.outputs.iter().zip(exact).map(|(&o, e)| (o as f64 / unit - e).abs()).fold(0.0, f64::max)
}

/// Every function of `funcs` on every input `x`, compiled for `profile` at
/// [`SCALE`].
fn setup_funcs(funcs: &[Func], x: Vec<f64>, profile: Profile) -> Setup {
    let mut g = FGraph::default();
    let v = g.add_input("x", vec![x.len()]);
    g.outputs = funcs.iter().map(|&f| g.map(f.name(), f.name(), f, vec![x.len()], &v.elems)).collect();
    let x = vec![x];
    let reference = g.outputs_of(&g.evaluate(&x));
    let opts = CompileOptions { scale: Some(SCALE), profile, ..Default::default() };
    let c = compile(&g, &x, &reference, &opts).unwrap();
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

/// The (lane, row) of every lookup, with its function.
/// Whether the circuit rejects the witness with element row `(lane, op)` edited.
fn rejects(s: &Setup, lane: usize, op: usize, edit: impl FnOnce(&mut ElemRow)) -> bool {
    let mut w = s.witness.clone();
    edit(&mut w.elem_rows[lane][op]);
    run(s, w).is_err()
}

/// Whether the circuit rejects the looked-up input of `(lane, op)` moved one step
/// inside its table's range (up to `hi`) with its consistent table value: only
/// the copy constraint to the clamp's result can catch that.
fn moved_input_rejected(s: &Setup, lane: usize, op: usize, func: Func, hi: i64) -> bool {
    let a = s.witness.elem_rows[lane][op].a;
    let moved = if a == hi as i128 { a - 1 } else { a + 1 };
    rejects(s, lane, op, |row| {
        row.a = moved;
        row.c = func.table_value(moved as i64, SCALE) as i128;
    })
}

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
                assert!(
                    rejects(&s, lane, op, |row| row.c = bad),
                    "{profile:?}: {func:?}({}) = {bad} accepted",
                    honest.a
                );
            }
            assert!(moved_input_rejected(&s, lane, op, func, hi), "{profile:?}: {func:?} of a moved input accepted");
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

/// Inputs inside every smooth function's domain, at its table's edges and
/// beyond them (clamped), negative and zero ones included (Log clamps them to
/// one unit).
fn smooth_inputs() -> Vec<f64> {
    let unit = 1.0 / f64::from(1u32 << SCALE);
    vec![0.0, unit, -unit, 0.5, -1.25, 3.0, -3.75, 7.96875, -8.0, 15.5, 40.0, -40.0]
}

#[test]
fn smooth_tables_hold_each_function_over_its_domain() {
    let s = setup_funcs(&Func::SMOOTH, smooth_inputs(), Profile::Fast);
    let graph = &s.circuit.program.as_ref().unwrap().graph;
    let tables = graph.lookup_tables();
    assert_eq!(tables.len(), Func::SMOOTH.len());
    for &(func, bits) in &tables {
        assert_eq!(bits, func.table_bits(SCALE), "{func:?}");
        let want = match func {
            Func::Sin | Func::Cos => SCALE + 3,
            Func::Asin | Func::Atan | Func::Atanh | Func::Tan => SCALE + 2,
            _ => SCALE + 4,
        };
        assert_eq!(bits, want, "{func:?}: ±8 (Log: (0, 16]), ±4 for Sin and Cos, ±2 for the bounded domains");
    }
    assert_eq!(Func::Log.input_range(SCALE + 4), (1, 1 << (SCALE + 4)), "Log's table holds the positive inputs");
    let rows: usize = tables.iter().map(|&(_, bits)| 1usize << bits).sum();
    assert_eq!(super::table_rows(&tables, 0), 1 + rows);
    // Each output is the table entry of the clamped quantised input: within half
    // a unit of the function there (every input is on the grid).
    let unit = f64::powi(2.0, SCALE as i32);
    let exact = Func::SMOOTH.iter().flat_map(|&f| {
        smooth_inputs().into_iter().map(move |x| {
            let (lo, hi) = f.input_range(f.table_bits(SCALE));
            f.eval_clamped(((x * unit).round() as i64).clamp(lo, hi) as f64 / unit)
        })
    });
    for (k, (&got, want)) in s.witness.outputs.iter().zip(exact).enumerate() {
        assert!((got as f64 / unit - want).abs() <= 0.5 / unit + 1e-12, "output {k}: {got} for {want}");
    }
}

#[test]
fn tampered_smooth_lookups_fail_in_both_profiles() {
    for profile in [Profile::Fast, Profile::Evm] {
        let s = setup_funcs(&Func::SMOOTH, smooth_inputs(), profile);
        run(&s, s.witness.clone()).unwrap_or_else(|e| panic!("{profile:?}: honest witness rejected: {e:?}"));
        let found = lookups(&s);
        assert_eq!(found.len(), Func::SMOOTH.len() * smooth_inputs().len(), "{profile:?}: one lookup per element");
        let mut funcs_seen = Vec::new();
        for &(lane, op, func) in &found {
            let honest = &s.witness.elem_rows[lane][op];
            let bits = func.table_bits(SCALE);
            let (lo, hi) = func.input_range(bits);
            assert!((lo as i128..=hi as i128).contains(&honest.a), "{profile:?}: {func:?}'s input is clamped");
            assert_eq!(honest.c, func.table_value(honest.a as i64, SCALE) as i128);
            // Check every input for two functions, and a few for the others.
            let count = funcs_seen.iter().filter(|f| **f == func).count();
            funcs_seen.push(func);
            if count >= 3 && !matches!(func, Func::Log | Func::Sin) {
                continue;
            }
            // Another function's value for the same input (the wrong tag), when
            // the input is in its table and the value differs.
            let other = Func::SMOOTH
                .iter()
                .filter(|f| {
                    let (lo, hi) = f.input_range(f.table_bits(SCALE));
                    (lo as i128..=hi as i128).contains(&honest.a)
                })
                .map(|f| f.table_value(honest.a as i64, SCALE) as i128)
                .find(|&v| v != honest.c);
            for bad in [Some(honest.c + 1), Some(honest.c - 1), other].into_iter().flatten() {
                assert!(
                    rejects(&s, lane, op, |row| row.c = bad),
                    "{profile:?}: {func:?}({}) = {bad} accepted",
                    honest.a
                );
            }
            assert!(moved_input_rejected(&s, lane, op, func, hi), "{profile:?}: {func:?} of a moved input accepted");
            // An input outside the table (past the clamp's edge) is not in it.
            let outside = if honest.a == hi as i128 {
                hi as i128 + 1
            } else if honest.a == lo as i128 {
                lo as i128 - 1
            } else {
                continue;
            };
            assert!(
                rejects(&s, lane, op, |row| row.a = outside),
                "{profile:?}: {func:?} of an input outside its table accepted"
            );
        }
    }
}

#[test]
fn mutation_campaign_over_smooth_tables_finds_no_unconstrained_cell() {
    let s = setup_funcs(&Func::SMOOTH, smooth_inputs(), Profile::Fast);
    let circuit = s.circuit.clone().with_witness(Arc::new(s.witness.clone()));
    let report = mutation_campaign(&circuit, &s.witness.instances(), None).unwrap();
    assert!(report.tried > 100, "{report:?}");
    assert!(report.survivors.is_empty(), "{:?}", report.survivors);
}
