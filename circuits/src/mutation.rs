//! Witness-mutation testing: change one advice cell of an honest witness, run
//! MockProver, and expect a rejection. A mutation that survives is either a *free*
//! cell (one no constraint reads: padding of a dot row, a column a template does not
//! use, rows past a lane's end) or a soundness bug.
//!
//! Mutations are applied while the circuit is synthesized, through a floor planner
//! that wraps halo2's assignment and perturbs the chosen cell (assigning it if the
//! circuit never does), so the circuit code under test runs unchanged.

use std::cell::Cell as StdCell;

use halo2_axiom::circuit::layouter::SyncDeps;
use halo2_axiom::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_axiom::dev::MockProver;
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::Field;
use halo2_axiom::plonk::{
    Advice, Any, Assigned, Assignment, Challenge, Circuit, Column, ConstraintSystem, Error, Fixed, FloorPlanner,
    Instance, Selector,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use crate::circuit::{ModelCircuit, ModelConfig};
use crate::layout::{DotSource, Layout};
use crate::shape::{CircuitShape, Template};

thread_local! {
    /// The cell to perturb during the current synthesis: (advice column, row).
    static TARGET: StdCell<Option<(Column<Advice>, usize)>> = const { StdCell::new(None) };
    /// Whether the target has been assigned during the current synthesis.
    static HIT: StdCell<bool> = const { StdCell::new(false) };
}

/// An assignment that adds one to the target cell.
struct Mutating<'a, CS> {
    inner: &'a mut CS,
}

impl<F: Field, CS: Assignment<F>> Assignment<F> for Mutating<'_, CS> {
    fn enter_region<NR, N>(&mut self, name_fn: N)
    where
        NR: Into<String>,
        N: FnOnce() -> NR,
    {
        self.inner.enter_region(name_fn)
    }

    fn annotate_column<A, AR>(&mut self, annotation: A, column: Column<Any>)
    where
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        self.inner.annotate_column(annotation, column)
    }

    fn exit_region(&mut self) {
        self.inner.exit_region()
    }

    fn enable_selector<A, AR>(&mut self, annotation: A, selector: &Selector, row: usize) -> Result<(), Error>
    where
        A: FnOnce() -> AR,
        AR: Into<String>,
    {
        self.inner.enable_selector(annotation, selector, row)
    }

    fn query_instance(&self, column: Column<Instance>, row: usize) -> Result<Value<F>, Error> {
        self.inner.query_instance(column, row)
    }

    fn assign_advice<'v>(
        &mut self,
        column: Column<Advice>,
        row: usize,
        to: Value<Assigned<F>>,
    ) -> Value<&'v Assigned<F>> {
        let to = if TARGET.get() == Some((column, row)) {
            HIT.set(true);
            to.map(|v| v + Assigned::Trivial(F::ONE))
        } else {
            to
        };
        self.inner.assign_advice(column, row, to)
    }

    fn assign_fixed(&mut self, column: Column<Fixed>, row: usize, to: Assigned<F>) {
        self.inner.assign_fixed(column, row, to)
    }

    fn copy(&mut self, left_column: Column<Any>, left_row: usize, right_column: Column<Any>, right_row: usize) {
        self.inner.copy(left_column, left_row, right_column, right_row)
    }

    fn fill_from_row(&mut self, column: Column<Fixed>, row: usize, to: Value<Assigned<F>>) -> Result<(), Error> {
        self.inner.fill_from_row(column, row, to)
    }

    fn get_challenge(&self, challenge: Challenge) -> Value<F> {
        self.inner.get_challenge(challenge)
    }

    fn push_namespace<NR, N>(&mut self, name_fn: N)
    where
        NR: Into<String>,
        N: FnOnce() -> NR,
    {
        self.inner.push_namespace(name_fn)
    }

    fn pop_namespace(&mut self, gadget_name: Option<String>) {
        self.inner.pop_namespace(gadget_name)
    }
}

/// A floor planner that synthesizes with [`SimpleFloorPlanner`] through a
/// [`Mutating`] assignment, then assigns the target if the circuit never did.
struct MutatingPlanner;

impl FloorPlanner for MutatingPlanner {
    fn synthesize<F: Field, CS: Assignment<F> + SyncDeps, C: Circuit<F>>(
        cs: &mut CS,
        circuit: &C,
        config: C::Config,
        constants: Vec<Column<Fixed>>,
    ) -> Result<(), Error> {
        HIT.set(false);
        let mut wrapped = Mutating { inner: cs };
        SimpleFloorPlanner::synthesize(&mut wrapped, circuit, config, constants)?;
        if let (Some((column, row)), false) = (TARGET.get(), HIT.get()) {
            cs.enter_region(|| "mutation");
            cs.assign_advice(column, row, Value::known(Assigned::Trivial(F::ONE)));
            cs.exit_region();
        }
        Ok(())
    }
}

/// The model circuit synthesized through [`MutatingPlanner`].
#[derive(Clone, Debug)]
struct Mutated(ModelCircuit);

impl Circuit<Fr> for Mutated {
    type Config = ModelConfig;
    type FloorPlanner = MutatingPlanner;
    type Params = CircuitShape;

    fn without_witnesses(&self) -> Self {
        Mutated(<ModelCircuit as Circuit<Fr>>::without_witnesses(&self.0))
    }

    fn params(&self) -> CircuitShape {
        self.0.shape.clone()
    }

    fn configure(_meta: &mut ConstraintSystem<Fr>) -> ModelConfig {
        unreachable!("configured from its shape")
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, shape: CircuitShape) -> ModelConfig {
        <ModelCircuit as Circuit<Fr>>::configure_with_params(meta, shape)
    }

    fn synthesize(&self, config: ModelConfig, layouter: impl Layouter<Fr>) -> Result<(), Error> {
        <ModelCircuit as Circuit<Fr>>::synthesize(&self.0, config, layouter)
    }
}

/// Why a cell is free (no constraint reads it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FreeReason {
    /// A dot-row input past the job's terms (its weight is the fixed zero).
    DotPadding,
    /// The running sum on a lane's first job row (its `keep` is zero).
    DotStart,
    /// A row past the end of its lane.
    PastLaneEnd,
    /// A column the row's template does not use (limbs stay in the range table).
    UnusedByTemplate,
}

/// The semantic role of every advice column of a circuit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    DotX { lane: usize, j: usize },
    DotAcc { lane: usize },
    ElemA { lane: usize },
    ElemB { lane: usize },
    ElemC { lane: usize },
    ElemLimb { lane: usize, j: usize },
    CompactX { j: usize },
    CompactC,
    CompactLimb,
}

fn roles(config: &ModelConfig) -> Vec<(Column<Advice>, Role)> {
    let mut out = Vec::new();
    if let Some(c) = &config.compact {
        out.extend(c.x.iter().enumerate().map(|(j, x)| (*x, Role::CompactX { j })));
        out.push((c.c, Role::CompactC));
        out.push((c.limbs, Role::CompactLimb));
    }
    for (lane, d) in config.dot.iter().enumerate() {
        for (j, x) in d.x.iter().enumerate() {
            out.push((*x, Role::DotX { lane, j }));
        }
        out.push((d.acc, Role::DotAcc { lane }));
    }
    for (lane, e) in config.elem.iter().enumerate() {
        out.push((e.a, Role::ElemA { lane }));
        out.push((e.c, Role::ElemC { lane }));
        if let Some(b) = e.b {
            out.push((b, Role::ElemB { lane }));
        }
        for (j, l) in e.limbs.iter().enumerate() {
            out.push((*l, Role::ElemLimb { lane, j }));
        }
    }
    out
}

/// Classifies a cell: `Some(reason)` when no constraint reads it.
fn free_reason(program: &crate::Program, shape: &CircuitShape, role: Role, row: usize) -> Option<FreeReason> {
    let layout: &Layout = &program.layout;
    match role {
        Role::DotAcc { lane } => {
            if row >= layout.dot_heights[lane] {
                Some(FreeReason::PastLaneEnd)
            } else {
                (row == 0).then_some(FreeReason::DotStart)
            }
        }
        Role::CompactX { .. } | Role::CompactC | Role::CompactLimb => compact_free_reason(program, shape, role, row),
        Role::DotX { lane, j } => dot_x_free_reason(program, shape, lane, j, row),
        Role::ElemA { lane } | Role::ElemB { lane } | Role::ElemC { lane } | Role::ElemLimb { lane, .. } => {
            let Some(job) = layout.elem[lane].get(row) else { return Some(FreeReason::PastLaneEnd) };
            let t = job.template;
            let unused = match role {
                Role::ElemB { .. } => !t.uses_b(),
                Role::ElemC { .. } => t == Template::Range,
                Role::ElemLimb { j, .. } => j >= shape.ranges.limbs(t),
                _ => false,
            };
            unused.then_some(FreeReason::UnusedByTemplate)
        }
    }
}

/// Free cells of the compact lane: its dot rows are classified as in the wide dot
/// lane; an element operation at row `p` reads `x_0[p]`, `x_0[p+1]` (second
/// operand), `c[p]` (unless a plain range check) and its limbs `l[p..]`.
fn compact_free_reason(program: &crate::Program, shape: &CircuitShape, role: Role, row: usize) -> Option<FreeReason> {
    let layout = &program.layout;
    let dot_rows = layout.dot_heights.first().copied().unwrap_or(0);
    if row < dot_rows {
        return match role {
            Role::CompactX { j } => dot_x_free_reason(program, shape, 0, j, row),
            Role::CompactC => (row == 0).then_some(FreeReason::DotStart),
            _ => Some(FreeReason::UnusedByTemplate),
        };
    }
    let stride = shape.elem_stride();
    let (op, offset) = ((row - dot_rows) / stride, (row - dot_rows) % stride);
    let Some(job) = layout.elem.first().and_then(|l| l.get(op)) else { return Some(FreeReason::PastLaneEnd) };
    let t = job.template;
    let used = match role {
        Role::CompactX { j: 0 } => offset == 0 || (offset == 1 && t.uses_b()),
        Role::CompactC => offset == 0 && t != Template::Range,
        Role::CompactLimb => offset < shape.ranges.limbs(t),
        _ => false,
    };
    (!used).then_some(FreeReason::UnusedByTemplate)
}

/// Free cells among the inputs `x_j` of a dot lane.
fn dot_x_free_reason(
    program: &crate::Program,
    shape: &CircuitShape,
    lane: usize,
    j: usize,
    row: usize,
) -> Option<FreeReason> {
    let layout = &program.layout;
    let jobs = &layout.dot[lane];
    if row >= layout.dot_heights[lane] {
        return Some(FreeReason::PastLaneEnd);
    }
    // The job covering this row and how many of its terms this row holds; on the
    // final result row no job remains and none are used.
    let idx = jobs.partition_point(|job| job.start as usize <= row).checked_sub(1)?;
    let job = jobs[idx];
    let terms = match job.source {
        DotSource::Const(_) => 0,
        DotSource::Linear { node, row: out } | DotSource::Bilinear { node, row: out } => {
            match &program.graph.nodes[node as usize].op {
                zkinfer_models::ir::Op::Linear(l) => l.terms.row(out as usize).len(),
                zkinfer_models::ir::Op::Bilinear { terms } => terms.row(out as usize).len(),
                _ => 0,
            }
        }
    };
    let width = shape.dot_width as usize;
    let used = terms.saturating_sub((row - job.start as usize) * width).min(width);
    (j >= used).then_some(FreeReason::DotPadding)
}

/// One tried mutation: the cell, its role, its row and whether it was rejected.
type Outcome = (Column<Advice>, Role, usize, bool);

/// A mutation that was not rejected although its cell is constrained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Survivor {
    /// Advice column index.
    pub column: usize,
    /// Row.
    pub row: usize,
    /// The column's role.
    pub role: String,
}

/// Outcome of a mutation campaign on one circuit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MutationReport {
    /// Advice cells in the rows the circuit uses.
    pub cells: usize,
    /// Mutations tried.
    pub tried: usize,
    /// Mutations MockProver rejected.
    pub rejected: usize,
    /// Mutations of free cells that (as expected) were not rejected.
    pub free_survivors: usize,
    /// Mutations of free cells that were rejected anyway (harmless, counted for the record).
    pub free_rejected: usize,
    /// Mutations of constrained cells that were not rejected: soundness bugs.
    pub survivors: Vec<Survivor>,
}

/// Mutates every advice cell in the used rows (or a seeded random sample of
/// `sample` cells) of `circuit`, whose honest witness must verify with `instances`.
pub fn mutation_campaign(
    circuit: &ModelCircuit,
    instances: &[Fr],
    sample: Option<(usize, u64)>,
) -> Result<MutationReport, String> {
    let program = circuit.program.as_ref().ok_or("the circuit has no program")?;
    let shape = &circuit.shape;
    let honest = MockProver::run(shape.k, circuit, vec![instances.to_vec()]).map_err(|e| format!("{e:?}"))?;
    honest.verify().map_err(|e| format!("the honest witness does not verify: {:?}", &e[..e.len().min(3)]))?;
    let mut cs = ConstraintSystem::<Fr>::default();
    let config = <ModelCircuit as Circuit<Fr>>::configure_with_params(&mut cs, shape.clone());
    let roles = roles(&config);
    let rows = crate::circuit::used_rows(&program.layout, shape).max(1);
    let mut cells: Vec<(Column<Advice>, Role, usize)> = Vec::with_capacity(roles.len() * rows);
    for &(col, role) in &roles {
        for row in 0..rows {
            cells.push((col, role, row));
        }
    }
    let total = cells.len();
    if let Some((n, seed)) = sample {
        if n < cells.len() {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            for i in 0..n {
                let j = rng.gen_range(i..cells.len());
                cells.swap(i, j);
            }
            cells.truncate(n);
        }
    }
    let mutated = Mutated(circuit.clone());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(cells.len().max(1));
    let chunk = cells.len().div_ceil(threads).max(1);
    // Each worker mutates its share; the target lives in a thread-local, so the
    // workers do not interfere.
    let outcomes: Vec<Result<Vec<Outcome>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = cells
            .chunks(chunk)
            .map(|part| {
                let mutated = &mutated;
                scope.spawn(move || {
                    part.iter()
                        .map(|&(col, role, row)| {
                            TARGET.set(Some((col, row)));
                            let result = MockProver::run(shape.k, mutated, vec![instances.to_vec()])
                                .map(|p| p.verify().is_err());
                            TARGET.set(None);
                            result.map(|rejected| (col, role, row, rejected)).map_err(|e| format!("{e:?}"))
                        })
                        .collect::<Result<Vec<_>, String>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a mutation worker panicked".into()))).collect()
    });
    let mut report = MutationReport { cells: total, ..Default::default() };
    for outcome in outcomes {
        for (col, role, row, rejected) in outcome? {
            report.tried += 1;
            let free = free_reason(program, shape, role, row);
            match (free, rejected) {
                (_, true) => {
                    report.rejected += 1;
                    report.free_rejected += free.is_some() as usize;
                }
                (Some(_), false) => report.free_survivors += 1,
                (None, false) => {
                    report.survivors.push(Survivor { column: col.index(), row, role: format!("{role:?}") })
                }
            }
        }
    }
    Ok(report)
}
