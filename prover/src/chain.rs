//! Segmented proving: a model cut into segments ([`zkinfer_circuits::segment`]),
//! each a circuit of its own whose boundary tensors are `hashed`, so that the
//! segment proofs form a chain linked by equal Poseidon commitments.
//!
//! The plan ([`ChainPlan`], `plan.json`) is plain data shared by every job; a
//! job proves one segment from the model's input (it evaluates the whole
//! quantised graph in integers to find its boundary values, which is cheap next
//! to proving).

use serde::{Deserialize, Serialize};
use zkinfer_circuits::bounds::output_bits;
use zkinfer_circuits::compile::Compiled;
use zkinfer_circuits::cuts::{balanced_cuts, CellModel};
use zkinfer_circuits::plan::Planner;
use zkinfer_circuits::poseidon::native::values_per_element;
use zkinfer_circuits::segment::{split, Segment};
use zkinfer_circuits::visibility::{Packing, Visibilities, Visibility};
use zkinfer_circuits::Witness;
use zkinfer_models::eval::{evaluate, Trace};
use zkinfer_models::ir::Ref;
use zkinfer_models::quantize_inputs;

use crate::compiled::CompiledModel;
use crate::error::{ProverError, Result};

/// Most segments `split` tries when fitting a size limit.
pub const MAX_SEGMENTS: usize = 64;

/// One segment as the plan records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentRecord {
    /// Position in the chain.
    pub index: usize,
    /// Nodes of the whole graph it covers, `[start, end)`.
    pub nodes: [usize; 2],
    /// Elements of the whole graph it reads as its input (empty for the first).
    pub inputs: Vec<Ref>,
    /// Elements of the whole graph it outputs (empty for the last).
    pub outputs: Vec<Ref>,
    /// Its circuit size.
    pub k: u32,
    /// Rows its circuit uses.
    pub rows: usize,
    /// Its directory, relative to the plan's.
    pub dir: String,
    /// Digest of its compiled model (what its keys are bound to), hex.
    pub model_digest: String,
}

/// How a model is split, and where each segment's files live.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainPlan {
    /// Model name.
    pub model: String,
    /// Digest of the whole compiled model, hex.
    pub model_digest: String,
    /// Visibility of the model's own inputs and outputs (boundaries are hashed).
    pub visibility: Visibilities,
    /// The segments, in order.
    pub segments: Vec<SegmentRecord>,
}

/// The visibility of segment `index` of `count` for a model compiled with `model`.
pub fn segment_visibility(model: Visibilities, index: usize, count: usize) -> Visibilities {
    Visibilities {
        input: if index == 0 { model.input } else { Visibility::Hashed },
        output: if index + 1 == count { model.output } else { Visibility::Hashed },
        weights: model.weights,
        packing: Packing::default(),
    }
}

/// Splits `whole` into `count` segments, or (with `count = None`) into the
/// fewest whose circuits fit `max_k` and, when given, `max_bytes` of estimated
/// peak memory each; returns the plan and each segment's compiled model.
pub fn plan_chain(
    whole: &CompiledModel,
    count: Option<usize>,
    max_k: u32,
    max_bytes: Option<u64>,
) -> Result<(ChainPlan, Vec<CompiledModel>)> {
    let count_given = count;
    let counts: Vec<usize> = match count {
        Some(c) => vec![c.max(1)],
        None => (1..=MAX_SEGMENTS).collect(),
    };
    let mut last_error = None;
    for count in counts {
        let cuts = balanced_cuts(&whole.graph, count, CellModel::of(&whole.shape));
        if count > 1 && cuts.len() + 1 < count {
            break; // the graph has too few nodes to cut further
        }
        let segments = split(&whole.graph, &cuts)?;
        match compile_segments(whole, &segments, max_k) {
            Ok(compiled) => {
                let peak = compiled
                    .iter()
                    .map(|c| crate::resources::estimate_peak_bytes(&c.shape, crate::prove::ProverKind::Native))
                    .max();
                match (max_bytes, peak) {
                    (Some(limit), Some(peak)) if peak > limit && count_given.is_none() => {
                        last_error = Some(ProverError::Mismatch(format!(
                            "{} segments need up to {} MiB each, over the limit of {} MiB",
                            segments.len(),
                            peak >> 20,
                            limit >> 20
                        )));
                    }
                    _ => return Ok((plan_of(whole, &segments, &compiled), compiled)),
                }
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| ProverError::Mismatch("the model cannot be split further".into())))
}

/// Rounds of widening boundary slots before packing is given up (each round
/// widens at least one boundary, so this is never reached in practice).
const PACKING_ROUNDS: usize = 8;

/// Plans every segment with each boundary committed in packed slots
/// ([`zkinfer_circuits::poseidon::hash_packed`]). A boundary's slot width must
/// cover the range its consumer checks its input to and the bounds the
/// producer's constraints put on its output ([`zkinfer_circuits::bounds`]);
/// both depend on the plans (the value range is rounded to each circuit's limb
/// width), so the widths start at the model's value range and widen until the
/// plans agree with them. A boundary that cannot be packed is hashed element by
/// element.
fn compile_segments(whole: &CompiledModel, segments: &[Segment], max_k: u32) -> Result<Vec<CompiledModel>> {
    let count = segments.len();
    let opts = &whole.settings.options;
    let value_bits = whole.shape.ranges.value_bits;
    let mut planners: Vec<Planner> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Planner::new(&s.graph, opts.lanes, opts.profile, segment_visibility(whole.shape.visibility, i, count))
        })
        .collect();
    let mut widths: Vec<Option<u32>> = vec![Some(value_bits); count.saturating_sub(1)];
    for round in 0..=PACKING_ROUNDS {
        if round == PACKING_ROUNDS {
            widths.iter_mut().for_each(|w| *w = None);
        }
        let mut plans = Vec::with_capacity(count);
        for (i, (planner, s)) in planners.iter_mut().zip(segments).enumerate() {
            let input = i.checked_sub(1).and_then(|b| widths[b]);
            planner.set_packing(Packing { input, output: widths.get(i).copied().flatten() });
            plans.push(planner.plan(s.graph.scale, value_bits, max_k)?);
        }
        let mut settled = true;
        for (b, width) in widths.iter_mut().enumerate() {
            let Some(w) = *width else { continue };
            let consumer = plans[b + 1].shape.ranges.value_bits;
            let required =
                output_bits(&segments[b].graph, &plans[b].shape.ranges).map(|producer| producer.max(consumer));
            match required {
                Some(r) if r <= w => {}
                Some(r) if values_per_element(r).is_some() => (*width, settled) = (Some(r), false),
                _ => (*width, settled) = (None, false),
            }
        }
        if settled {
            return Ok(plans
                .into_iter()
                .zip(segments)
                .enumerate()
                .map(|(i, (plan, s))| {
                    let compiled = Compiled {
                        graph: s.graph.clone(),
                        plan,
                        max_abs_error: whole.settings.calibration_max_abs_error,
                        trials: Vec::new(),
                    };
                    let input_shapes = s.graph.inputs.iter().map(|x| x.shape.clone()).collect();
                    let mut options = opts.clone();
                    options.visibility = compiled.plan.shape.visibility;
                    let name = format!("{}-segment-{i}", whole.model.name);
                    CompiledModel::new(compiled, &name, &whole.settings.source, input_shapes, options)
                })
                .collect());
        }
    }
    Err(ProverError::Mismatch("segment boundaries could not be given consistent slot widths".into()))
}

fn plan_of(whole: &CompiledModel, segments: &[Segment], compiled: &[CompiledModel]) -> ChainPlan {
    ChainPlan {
        model: whole.model.name.clone(),
        model_digest: whole.settings.model_digest.clone(),
        visibility: whole.shape.visibility,
        segments: segments
            .iter()
            .zip(compiled)
            .enumerate()
            .map(|(index, (s, c))| SegmentRecord {
                index,
                nodes: [s.nodes.start, s.nodes.end],
                inputs: s.inputs.clone(),
                outputs: s.outputs.clone(),
                k: c.shape.k,
                rows: c.settings.rows,
                dir: format!("segment-{index}"),
                model_digest: c.settings.model_digest.clone(),
            })
            .collect(),
    }
}

/// The model input, quantised, and (once a segment past the first asks for its
/// boundary) the whole graph's integer trace on it: evaluated once however many
/// segments' witnesses are made from it.
pub struct WholeRun<'a> {
    whole: &'a CompiledModel,
    quantised: Vec<Vec<i64>>,
    trace: std::cell::OnceCell<Trace>,
}

impl<'a> WholeRun<'a> {
    /// Quantises `inputs` (floats, as in the input file) for `whole`.
    pub fn new(whole: &'a CompiledModel, inputs: &[Vec<f64>]) -> Result<Self> {
        Ok(WholeRun {
            whole,
            quantised: quantize_inputs(inputs, whole.graph.scale)?,
            trace: std::cell::OnceCell::new(),
        })
    }

    /// The whole graph's trace, evaluated on first use.
    fn trace(&self) -> Result<&Trace> {
        if let Some(t) = self.trace.get() {
            return Ok(t);
        }
        let t = evaluate(&self.whole.graph, &self.quantised)?;
        Ok(self.trace.get_or_init(|| t))
    }

    /// The witness of segment `record`, compiled as `segment`.
    pub fn segment_witness(&self, record: &SegmentRecord, segment: &CompiledModel) -> Result<Witness> {
        if segment.settings.model_digest != record.model_digest {
            return Err(ProverError::Mismatch(format!(
                "segment {}'s compiled model is not the one the plan names\n  hint: rerun `zkinfer split`",
                record.index
            )));
        }
        let feed = if record.index == 0 {
            self.quantised.clone()
        } else {
            let trace = self.trace()?;
            let values: Option<Vec<i64>> = record.inputs.iter().map(|r| i64::try_from(trace.get(*r)).ok()).collect();
            vec![values.ok_or_else(|| ProverError::Mismatch("a boundary value exceeds 64 bits".into()))?]
        };
        let trace = evaluate(&segment.graph, &feed)?;
        Ok(Witness::generate(&segment.program(), &segment.shape, trace)?)
    }
}

/// The witness of one segment for the model input `inputs` (floats, as in the
/// input file); for several segments of one input, [`WholeRun`] evaluates the
/// whole graph once.
pub fn segment_witness(
    whole: &CompiledModel,
    record: &SegmentRecord,
    segment: &CompiledModel,
    inputs: &[Vec<f64>],
) -> Result<Witness> {
    WholeRun::new(whole, inputs)?.segment_witness(record, segment)
}
