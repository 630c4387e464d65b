//! The model circuit: configures the lanes a [`CircuitShape`] describes and
//! synthesizes a laid-out graph ([`Program`]) with or without a witness.

use std::sync::Arc;

use halo2_axiom::circuit::{Cell, Layouter, Region, SimpleFloorPlanner, Value};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::{Any, Circuit, Column, ConstraintSystem, Error, Instance};
use zkinfer_models::eval::Trace;
use zkinfer_models::ir::{Graph, Op, Ref};
use zkinfer_models::params::committed_params;

use crate::chips::compact::{physical_row, CompactConfig};
use crate::chips::dot::{DotConfig, DotWitness};
use crate::chips::elementwise::{elem_row, ElemConfig, ElemRow};
use crate::chips::fe;
use crate::chips::func_table::FuncTableConfig;
use crate::chips::hidden::{products_witness, HiddenColumns, HiddenJob, ParamCells};
use crate::chips::poseidon::{PoseidonConfig, PoseidonWitness};
use crate::chips::range_table::RangeTableConfig;
use crate::error::CircuitError;
use crate::layout::{DotJob, DotSource, ElemIn, Layout, Loc};
use crate::plan::graph_instances;
use crate::shape::{CircuitShape, Template};
use crate::visibility::{Exposed, InstancePart, TensorKind};

/// The constraint system's degree: 5 keeps the extended domain at 4n (as for
/// degree 3–4) while letting the permutation argument pack 3 columns per product.
pub const DEGREE: usize = 5;

/// Rows a layout uses in a circuit of `shape` (in the compact profile, element
/// operations span [`CircuitShape::elem_stride`] rows each, after the dot rows).
pub fn used_rows(layout: &Layout, shape: &CircuitShape) -> usize {
    if shape.compact {
        crate::chips::compact::used_rows(layout, shape.elem_stride())
    } else {
        layout.rows()
    }
}

/// A graph and its placement.
#[derive(Clone, Debug)]
pub struct Program {
    /// The quantised graph.
    pub graph: Graph,
    /// Its placement on the circuit's lanes.
    pub layout: Layout,
}

impl Program {
    /// The IR elements of input or output tensor `index` (outputs may be constants:
    /// `None`).
    fn tensor_refs(&self, kind: TensorKind, index: usize) -> Vec<Option<Ref>> {
        match kind {
            TensorKind::Input => {
                let input = &self.graph.inputs[index];
                (0..input.shape.iter().product()).map(|i| Some(Ref::new(input.node as usize, i))).collect()
            }
            TensorKind::Output => self.graph.outputs[index]
                .elems
                .iter()
                .map(|e| match e {
                    zkinfer_models::ir::Operand::Ref(r) => Some(*r),
                    zkinfer_models::ir::Operand::Const(_) => None,
                })
                .collect(),
            TensorKind::Weights => Vec::new(),
        }
    }

    /// The cells of a tensor in a circuit configured as `config`; the weights'
    /// cells are `weights` (their homes, known once the model region is laid out).
    fn tensor_cells(&self, config: &ModelConfig, kind: TensorKind, index: usize, weights: &[Cell]) -> Vec<Cell> {
        match kind {
            TensorKind::Input => self
                .tensor_refs(kind, index)
                .into_iter()
                .flatten()
                .map(|r| config.cell(&self.layout, self.layout.home(r)))
                .collect(),
            TensorKind::Output => {
                let start: usize = self.graph.outputs[..index].iter().map(|o| o.elems.len()).sum();
                let len = self.graph.outputs[index].elems.len();
                self.layout.outputs[start..start + len].iter().map(|loc| config.cell(&self.layout, *loc)).collect()
            }
            TensorKind::Weights => weights.to_vec(),
        }
    }

    /// The values of a tensor in `trace`.
    fn tensor_values(&self, trace: &Trace, kind: TensorKind, index: usize) -> Vec<i128> {
        match kind {
            TensorKind::Input => self.tensor_refs(kind, index).into_iter().flatten().map(|r| trace.get(r)).collect(),
            TensorKind::Output => self.graph.outputs[index].elems.iter().map(|e| trace.operand(*e)).collect(),
            TensorKind::Weights => committed_params(&self.graph)
                .map(|params| params.into_iter().map(|(_, v)| v as i128).collect())
                .unwrap_or_default(),
        }
    }
}

/// The values a proof needs: the integer trace and each element-wise row's witness.
#[derive(Clone, Debug)]
pub struct Witness {
    /// Values of every IR element.
    pub trace: Trace,
    /// Witness of each element-wise row, per lane.
    pub elem_rows: Vec<Vec<ElemRow>>,
    /// The outputs, as integers at the graph scale.
    pub outputs: Vec<i128>,
    /// The Poseidon chain of each `hashed` tensor, in instance order.
    pub hashes: Vec<PoseidonWitness>,
    /// The public instances (see [`crate::visibility`]).
    pub instances: Vec<Fr>,
}

impl Witness {
    /// Computes every row's witness from the trace. Fails, naming the node, when a
    /// value leaves the circuit's range.
    pub fn generate(program: &Program, shape: &CircuitShape, trace: Trace) -> Result<Witness, CircuitError> {
        let mut elem_rows = Vec::with_capacity(program.layout.elem.len());
        for lane in &program.layout.elem {
            let mut rows: Vec<ElemRow> = Vec::with_capacity(lane.len());
            for job in lane {
                let value = |input: ElemIn, prev: Option<&ElemRow>| match input {
                    ElemIn::None => 0,
                    ElemIn::Copy(r) | ElemIn::Define(r) => trace.get(r),
                    ElemIn::Prev => prev.map_or(0, |p| p.c),
                };
                let prev = rows.last();
                let (a, b) = (value(job.a, prev), value(job.b, prev));
                if job.template == Template::Lookup {
                    let c = match &program.graph.nodes[job.node as usize].op {
                        Op::Lookup { func, .. } => func.table_value(a as i64, program.graph.scale) as i128,
                        Op::Gather { data, .. } => {
                            let i = a >> program.graph.scale;
                            usize::try_from(i).ok().and_then(|i| data.get(i)).copied().unwrap_or(0) as i128
                        }
                        _ => 0,
                    };
                    rows.push(ElemRow { a, b: 0, c, limbs: Vec::new() });
                    continue;
                }
                let row = elem_row(job.template, &shape.ranges, a, b, job.konst as i128).map_err(|detail| {
                    let node = &program.graph.nodes[job.node as usize];
                    CircuitError::OutOfRange {
                        node: node.name.clone(),
                        op: node.origin.clone(),
                        detail,
                        bits: shape.ranges.value_bits,
                    }
                })?;
                rows.push(row);
            }
            elem_rows.push(rows);
        }
        let outputs = trace.outputs(&program.graph);
        let (mut hashes, mut instances) = (Vec::new(), Vec::new());
        for part in graph_instances(&program.graph, &shape.visibility) {
            let ints = program.tensor_values(&trace, part.kind, part.index);
            let per_row = shape.poseidon_partial_per_row();
            if part.what == Exposed::Values {
                instances.extend(ints.into_iter().map(fe::<Fr>));
                continue;
            }
            let chain = match part.pack_bits {
                Some(bits) => {
                    PoseidonWitness::packed(&ints, bits, per_row).map_err(|detail| CircuitError::OutOfRange {
                        node: part.kind.name().into(),
                        op: "packed commitment".into(),
                        detail,
                        bits,
                    })?
                }
                None => PoseidonWitness::new(&ints.into_iter().map(fe::<Fr>).collect::<Vec<_>>(), per_row),
            };
            instances.push(chain.digest());
            hashes.push(chain);
        }
        Ok(Witness { trace, elem_rows, outputs, hashes, instances })
    }

    /// The public instances (the instance column).
    pub fn instances(&self) -> Vec<Fr> {
        self.instances.clone()
    }
}

/// Columns of the whole circuit.
#[derive(Clone, Debug)]
pub struct ModelConfig {
    /// Dot-product lanes (wide profile).
    pub dot: Vec<DotConfig>,
    /// Element-wise lanes (wide profile).
    pub elem: Vec<ElemConfig>,
    /// The single lane of the compact profile.
    pub compact: Option<CompactConfig>,
    /// The range table.
    pub table: RangeTableConfig,
    /// The function table, when some operation looks it up.
    pub func_table: Option<FuncTableConfig>,
    /// The Poseidon chip, when some tensor is `hashed`.
    pub poseidon: Option<PoseidonConfig>,
    /// The public instances.
    pub instance: Column<Instance>,
}

impl ModelConfig {
    /// The witness-weight columns of dot lane `lane` (or the compact lane).
    fn hidden(&self, lane: usize) -> Option<&HiddenColumns> {
        match &self.compact {
            Some(compact) => compact.hidden.as_ref(),
            None => self.dot.get(lane).and_then(|d| d.hidden.as_ref()),
        }
    }

    /// Lays out a dot job's fixed `(bias, weights)`, witness and copied inputs
    /// at `start` on dot lane `lane`, or on the compact lane.
    fn assign_dot(
        &self,
        region: &mut Region<'_, Fr>,
        lane: usize,
        start: usize,
        (bias, weights): (i64, &[i64]),
        witness: &DotWitness<Fr>,
        sources: &[Option<Cell>],
    ) -> Result<(), Error> {
        match &self.compact {
            Some(compact) => compact.assign_dot(region, start, bias, weights, witness, sources),
            None => self.dot[lane].assign(region, start, bias, weights, witness, sources).map(|_| ()),
        }
    }

    /// The cell at a location of `layout`.
    pub fn cell(&self, layout: &Layout, loc: Loc) -> Cell {
        if let Some(lane) = &self.compact {
            let column: Column<Any> = match loc {
                Loc::ElemA { .. } => lane.x[0].into(),
                Loc::Acc { .. } | Loc::ElemC { .. } => lane.c.into(),
            };
            return Cell { row_offset: physical_row(layout, lane.stride, loc), column };
        }
        let (row, column): (u32, Column<Any>) = match loc {
            Loc::Acc { lane, row } => (row, self.dot[lane as usize].acc.into()),
            Loc::ElemA { lane, row } => (row, self.elem[lane as usize].a.into()),
            Loc::ElemC { lane, row } => (row, self.elem[lane as usize].c.into()),
        };
        Cell { row_offset: row as usize, column }
    }
}

impl ModelCircuit {
    /// Lays out the Poseidon chain of each `hashed` part, stacked in one region;
    /// returns the digest cells in order.
    fn assign_hashes(
        &self,
        config: &ModelConfig,
        layouter: &mut impl Layouter<Fr>,
        parts: &[InstancePart],
        weights: &[Cell],
    ) -> Result<Vec<Cell>, Error> {
        let hashed: Vec<&InstancePart> = parts.iter().filter(|p| p.what == Exposed::Commitment).collect();
        if hashed.is_empty() {
            return Ok(Vec::new());
        }
        let (Some(chip), Some(program)) = (&config.poseidon, &self.program) else {
            return Err(Error::Synthesis);
        };
        layouter.assign_region(
            || "poseidon",
            |mut region| {
                let mut offset = 0;
                let mut digests = Vec::with_capacity(hashed.len());
                for (i, part) in hashed.iter().enumerate() {
                    let cells = program.tensor_cells(config, part.kind, part.index, weights);
                    let chain = self.witness.as_ref().map(|w| &w.hashes[i]);
                    digests.push(chip.assign_commitment(&mut region, offset, &cells, chain, part.pack_bits)?);
                    offset += crate::chips::poseidon::commitment_rows(cells.len(), chip.per_row, part.pack_bits);
                }
                Ok(digests)
            },
        )
    }
}

impl ModelCircuit {
    /// Lays out one dot job on lane `lane` (or the compact lane): its fixed
    /// weights and bias, its witness, and, for a linear map with hidden weights,
    /// the hidden cells bound to their parameters.
    fn assign_dot_job(
        &self,
        config: &ModelConfig,
        region: &mut Region<'_, Fr>,
        lane: usize,
        job: &DotJob,
        params: &mut ParamCells,
    ) -> Result<(), Error> {
        let program = self.program.as_ref().ok_or(Error::Synthesis)?;
        let (graph, layout) = (&program.graph, &program.layout);
        let witness = self.witness.as_deref();
        let cell = |loc| config.cell(layout, loc);
        let value = |r| match witness {
            Some(w) => Value::known(fe::<Fr>(w.trace.get(r))),
            None => Value::unknown(),
        };
        let start = job.start as usize;
        let width = self.shape.dot_width as usize;
        let (node, row) = match job.source {
            DotSource::Const(c) => {
                let w = DotConfig::witness_of(width, c, &[], Vec::new());
                return config.assign_dot(region, lane, start, (c, &[]), &w, &[]);
            }
            DotSource::Linear { node, row } | DotSource::Bilinear { node, row } => (node as usize, row as usize),
        };
        match &graph.nodes[node].op {
            Op::Bilinear { terms } => {
                let pairs = terms.row(row);
                let first: Vec<Option<Cell>> = pairs.iter().map(|(a, _)| Some(cell(layout.home(*a)))).collect();
                let second: Vec<Cell> = pairs.iter().map(|(_, b)| cell(layout.home(*b))).collect();
                let b_values: Vec<Value<Fr>> = pairs.iter().map(|(_, b)| value(*b)).collect();
                let w = products_witness(width, pairs.iter().map(|(a, _)| value(*a)).collect(), &b_values);
                config.assign_dot(region, lane, start, (0, &vec![0; pairs.len()]), &w, &first)?;
                config.hidden(lane).ok_or(Error::Synthesis)?.assign_products(region, start, &b_values, &second, params)
            }
            Op::Linear(l) => {
                let span = l.terms.offsets[row] as usize..l.terms.offsets[row + 1] as usize;
                let terms = &l.terms.items[span.clone()];
                let (bias, weights): (i64, Vec<i64>) = (l.bias[row], terms.iter().map(|(_, w)| *w).collect());
                let sources: Vec<Option<Cell>> = terms.iter().map(|(r, _)| Some(cell(layout.home(*r)))).collect();
                let w = DotConfig::witness_of(width, bias, &weights, terms.iter().map(|(r, _)| value(*r)).collect());
                let Some(p) = &l.params else {
                    return config.assign_dot(region, lane, start, (bias, &weights), &w, &sources);
                };
                let job = HiddenJob { weights: &weights, ids: &p.terms[span], bias, bias_id: p.bias[row] };
                config.assign_dot(region, lane, start, (job.fixed_bias(), &job.fixed_weights()), &w, &sources)?;
                config.hidden(lane).ok_or(Error::Synthesis)?.assign_job(region, start, &job, params, witness.is_some())
            }
            _ => Err(Error::Synthesis),
        }
    }
}

/// The home cells of the parameters `graph` commits to, in its order; fails when
/// synthesis did not place exactly those parameters.
fn weight_cells(graph: &Graph, params: &ParamCells) -> Result<Vec<Cell>, Error> {
    let want = committed_params(graph).map_err(|_| Error::Synthesis)?;
    let homes: Vec<_> = params.homes().collect();
    if homes.len() != want.len() || homes.iter().zip(&want).any(|((a, _), (b, _))| a != b) {
        return Err(Error::Synthesis);
    }
    Ok(homes.into_iter().map(|(_, c)| c).collect())
}

/// The circuit of one model. Without a program it can only be configured (what a
/// verifier needs); without a witness it synthesizes for key generation.
#[derive(Clone, Debug, Default)]
pub struct ModelCircuit {
    /// Column layout.
    pub shape: CircuitShape,
    /// Graph and placement.
    pub program: Option<Arc<Program>>,
    /// Values, when proving.
    pub witness: Option<Arc<Witness>>,
}

impl ModelCircuit {
    /// A circuit for key generation.
    pub fn new(shape: CircuitShape, program: Arc<Program>) -> Self {
        ModelCircuit { shape, program: Some(program), witness: None }
    }

    /// A circuit for proving.
    pub fn with_witness(mut self, witness: Arc<Witness>) -> Self {
        self.witness = Some(witness);
        self
    }
}

impl Circuit<Fr> for ModelCircuit {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = CircuitShape;

    fn without_witnesses(&self) -> Self {
        ModelCircuit { witness: None, ..self.clone() }
    }

    fn params(&self) -> CircuitShape {
        self.shape.clone()
    }

    fn configure(_meta: &mut ConstraintSystem<Fr>) -> ModelConfig {
        // `circuit-params` is always on: halo2 calls `configure_with_params`.
        unreachable!("ModelCircuit is configured from its CircuitShape")
    }

    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, shape: CircuitShape) -> ModelConfig {
        meta.set_minimum_degree(DEGREE);
        if shape.has_witness_weights() {
            // The one cell that hidden-weight lanes copy their zeros from.
            let constants = meta.fixed_column();
            meta.enable_constant(constants);
        }
        let table = RangeTableConfig::configure(meta, shape.ranges.lookup_bits);
        let func_table = shape.uses_func_table().then(|| FuncTableConfig::configure(meta));
        let poseidon = shape
            .uses_poseidon()
            .then(|| PoseidonConfig::configure(meta, shape.poseidon_partial_per_row(), shape.visibility.packs()));
        if shape.compact {
            let compact = CompactConfig::configure(meta, &shape, &table, func_table.as_ref());
            let instance = meta.instance_column();
            meta.enable_equality(instance);
            return ModelConfig {
                dot: Vec::new(),
                elem: Vec::new(),
                compact: Some(compact),
                table,
                func_table,
                poseidon,
                instance,
            };
        }
        let dot = (0..shape.dot_lanes)
            .map(|_| DotConfig::configure_with(meta, shape.dot_width as usize, shape.has_witness_weights()))
            .collect();
        let elem = (0..shape.elem_lanes)
            .map(|_| ElemConfig::configure(meta, &shape.templates, shape.ranges, &table, func_table.as_ref()))
            .collect();
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        ModelConfig { dot, elem, compact: None, table, func_table, poseidon, instance }
    }

    fn synthesize(&self, config: ModelConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let program = self.program.as_ref().ok_or(Error::Synthesis)?;
        let (graph, layout) = (&program.graph, &program.layout);
        let witness = self.witness.as_deref();
        config.table.load(&mut layouter)?;
        if let Some(func_table) = &config.func_table {
            func_table.load(&mut layouter, graph)?;
        }
        let cell = |loc| config.cell(layout, loc);
        let weights = layouter.assign_region(
            || "model",
            |mut region| {
                let mut params = ParamCells::default();
                for (lane, jobs) in layout.dot.iter().enumerate() {
                    if let (None, Some(first)) = (&config.compact, jobs.first()) {
                        region.assign_advice(config.dot[lane].acc, first.start as usize, Value::known(Fr::zero()));
                    }
                    for job in jobs {
                        self.assign_dot_job(&config, &mut region, lane, job, &mut params)?;
                    }
                }
                for (lane, jobs) in layout.elem.iter().enumerate() {
                    for (row, job) in jobs.iter().enumerate() {
                        let source = |input: ElemIn| match input {
                            ElemIn::Copy(r) => Some(cell(layout.home(r))),
                            ElemIn::Prev => Some(cell(Loc::ElemC { lane: lane as u32, row: row as u32 - 1 })),
                            ElemIn::None | ElemIn::Define(_) => None,
                        };
                        let w = witness.map(|w| &w.elem_rows[lane][row]);
                        let (a, b) = (source(job.a), source(job.b));
                        match &config.compact {
                            Some(c) => {
                                let at = physical_row(layout, c.stride, Loc::ElemA { lane: 0, row: row as u32 });
                                c.assign_elem(&mut region, at, job.template, job.konst, w, a, b)?;
                            }
                            None => {
                                config.elem[lane].assign(&mut region, row, job.template, job.konst, w, a, b)?;
                            }
                        }
                    }
                }
                weight_cells(graph, &params)
            },
        )?;
        let parts = graph_instances(graph, &self.shape.visibility);
        let digests = self.assign_hashes(&config, &mut layouter, &parts, &weights)?;
        let (mut row, mut digests) = (0, digests.into_iter());
        for part in &parts {
            let cells = match part.what {
                Exposed::Values => program.tensor_cells(&config, part.kind, part.index, &weights),
                Exposed::Commitment => digests.next().into_iter().collect(),
            };
            for c in cells {
                layouter.constrain_instance(c, config.instance, row);
                row += 1;
            }
        }
        Ok(())
    }
}
