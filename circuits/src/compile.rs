//! From a lowered float graph to a quantised graph and a circuit plan, choosing the
//! fixed-point scale by a quick calibration: every scale in range is quantised and
//! evaluated on the calibration inputs (one, or several samples with
//! [`compile_samples`]); the most accurate one among those whose circuit is
//! (within [`COST_TOLERANCE`]) the cheapest wins. With a target error, the
//! cheapest scale meeting it wins instead. Errors and value ranges are the worst
//! over all samples, so every sample fits the chosen circuit.

use serde::{Deserialize, Serialize};
use zkinfer_models::arith::dequantize;
use zkinfer_models::eval::evaluate;
use zkinfer_models::fgraph::FGraph;
use zkinfer_models::ir::Graph;
use zkinfer_models::optimize::compose_linear;
use zkinfer_models::params::committed_params;
use zkinfer_models::quantize::{quantize_graph, structure_key};
use zkinfer_models::quantize_inputs;

use crate::error::CircuitError;
use crate::plan::{Lanes, Plan, Planner, Profile};
use crate::visibility::{Visibilities, Visibility};

/// Scales tried when none is given.
pub const AUTO_SCALES: std::ops::RangeInclusive<u32> = 4..=16;
/// Below this scale a candidate is only chosen if nothing else works.
pub const MIN_PREFERRED_SCALE: u32 = 6;
/// Dot width assumed when deciding whether to compose linear layers.
const NOMINAL_DOT_WIDTH: usize = 8;
/// Scales whose circuit costs at most this factor more than the cheapest count as
/// "not bigger than needed": calibration takes the most accurate among them.
pub const COST_TOLERANCE: f64 = 1.15;
/// Circuits cheaper than this (estimate units; roughly k = 13 with 32 committed
/// polynomials, about a second to prove on 2 cores) count as equally cheap: below
/// it, calibration buys accuracy rather than shaving milliseconds. (Function
/// tables double with every scale step, so a lower floor made lookup models
/// settle for coarse scales.)
pub const NEGLIGIBLE_COST: f64 = 32.0 * ((1u64 << 13) as f64 + 4096.0);

/// The default accuracy goal: a max abs error within this fraction of the
/// largest output magnitude on the calibration samples. When the cheapest
/// circuits miss it, calibration pays up to [`ACCURACY_COST_LIMIT`] for it, or,
/// if no scale within that limit meets it, for the most accurate scale within
/// the limit that at least halves the error.
pub const RELATIVE_ERROR_GOAL: f64 = 0.01;
/// How much more than the cheapest circuit calibration pays to meet
/// [`RELATIVE_ERROR_GOAL`] (a transformer block: scale 9 at 2.6× instead of
/// scale 7 with a 1.9% error).
pub const ACCURACY_COST_LIMIT: f64 = 4.0;
/// An error past this fraction of the largest output magnitude makes the
/// result meaningless (a small LLaMA with PyTorch's 0.02-wide weights is off by
/// 80% of its logits at the cheapest scales): calibration then pays whatever a
/// scale that meets [`RELATIVE_ERROR_GOAL`] costs, or else one within this
/// bound, or else takes the most accurate scale.
pub const UNUSABLE_ERROR: f64 = 0.1;

/// The largest |output| over the samples' float references.
fn output_magnitude(samples: &[Sample]) -> f64 {
    samples.iter().flat_map(|s| s.reference.iter().flatten()).fold(0.0, |m: f64, v| m.max(v.abs()))
}

/// Compilation settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompileOptions {
    /// Fixed-point scale (fractional bits); calibrated when `None`.
    pub scale: Option<u32>,
    /// Bits of the value range; calibrated (plus headroom) when `None`.
    pub value_bits: Option<u32>,
    /// Extra bits over what the calibration input needs, so that other inputs fit.
    pub headroom_bits: u32,
    /// Largest circuit size considered.
    pub max_k: u32,
    /// Force lane counts.
    pub lanes: Option<Lanes>,
    /// What the circuit is optimised for.
    #[serde(default)]
    pub profile: Profile,
    /// When set, calibration picks the cheapest scale whose error on the
    /// calibration input is at most this (instead of the most accurate scale
    /// among the cheapest circuits).
    pub target_error: Option<f64>,
    /// Which tensors are public, private or committed.
    #[serde(default)]
    pub visibility: Visibilities,
}

impl CompileOptions {
    /// Whether the weights are hidden (not `fixed`): the model must then be
    /// lowered with `OnnxModel::lower_weights(true)`.
    pub fn hides_weights(&self) -> bool {
        self.visibility.weights != Visibility::Fixed
    }
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            scale: None,
            value_bits: None,
            headroom_bits: 1,
            max_k: 24,
            lanes: None,
            profile: Profile::Fast,
            target_error: None,
            visibility: Visibilities::default(),
        }
    }
}

/// One scale tried by the calibration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScaleTrial {
    /// The scale.
    pub scale: u32,
    /// Largest |circuit output − float output| on the calibration input.
    pub max_abs_error: Option<f64>,
    /// Bits the value range needs (with headroom).
    pub value_bits: Option<u32>,
    /// Circuit size the planner chose.
    pub k: Option<u32>,
    /// Relative proving cost.
    pub cost: Option<f64>,
    /// Why the scale is unusable, if it is.
    pub failure: Option<String>,
}

/// A compiled model.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The quantised graph at the chosen scale.
    pub graph: Graph,
    /// The chosen circuit.
    pub plan: Plan,
    /// Error on the calibration input at the chosen scale.
    pub max_abs_error: f64,
    /// Every scale tried.
    pub trials: Vec<ScaleTrial>,
}

fn max_abs_error(graph: &Graph, outputs: &[i128], reference: &[Vec<f64>]) -> f64 {
    let want: Vec<f64> = reference.concat();
    outputs.iter().zip(&want).map(|(o, w)| (dequantize(*o, graph.scale) - w).abs()).fold(0.0, f64::max)
}

/// One scale's outcome. The quantised graph is not kept: a large model's IR
/// is the biggest thing calibration holds, and the winner is quantised again.
struct Trial {
    record: ScaleTrial,
    ok: Option<(Plan, f64)>,
}

/// One calibration sample: the model's inputs and tract's float outputs for them.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// One flat list per model input.
    pub inputs: Vec<Vec<f64>>,
    /// One flat list per model output.
    pub reference: Vec<Vec<f64>>,
}

fn try_scale(g: &FGraph, planner: &Planner, scale: u32, samples: &[Sample], opts: &CompileOptions) -> Trial {
    let mut record = ScaleTrial { scale, max_abs_error: None, value_bits: None, k: None, cost: None, failure: None };
    let result = (|| -> Result<(Plan, f64), CircuitError> {
        let graph = quantize_graph(g, scale)?;
        let (mut err, mut needed) = (0.0f64, 0u32);
        for sample in samples {
            let trace = evaluate(&graph, &quantize_inputs(&sample.inputs, scale)?)?;
            let outputs = trace.outputs(&graph);
            if outputs.len() != sample.reference.iter().map(|r| r.len()).sum::<usize>() {
                return Err(CircuitError::Settings("output count differs from the float reference".into()));
            }
            err = err.max(max_abs_error(&graph, &outputs, &sample.reference));
            needed = needed.max(trace.range_need().bits());
        }
        record.max_abs_error = Some(err);
        let need = needed + opts.headroom_bits;
        let bits = match opts.value_bits {
            Some(b) if b < needed => {
                return Err(CircuitError::Settings(format!(
                    "--value-bits {b} is too small: the calibration input needs {needed} bits"
                )))
            }
            Some(b) => b,
            None => need,
        };
        record.value_bits = Some(bits);
        let plan = planner.plan(scale, bits, opts.max_k)?;
        record.k = Some(plan.shape.k);
        record.cost = Some(plan.estimate.cost);
        Ok((plan, err))
    })();
    match result {
        Ok(ok) => Trial { record, ok: Some(ok) },
        Err(e) => {
            record.failure = Some(e.to_string());
            Trial { record, ok: None }
        }
    }
}

/// Refuses hidden weights (`--weights-visibility` other than `fixed`) for a graph
/// that was not lowered with them, or that has no weights to hide.
fn check_hidden_weights(g: &FGraph, opts: &CompileOptions) -> Result<(), CircuitError> {
    let wanted = opts.hides_weights();
    if wanted != g.hide_weights {
        return Err(CircuitError::Settings(format!(
            "the model was lowered with {} weights but --weights-visibility is {}\n  hint: lower with OnnxModel::lower_weights({wanted})",
            if g.hide_weights { "hidden" } else { "fixed" },
            opts.visibility.weights
        )));
    }
    if wanted && g.params.is_empty() {
        return Err(CircuitError::Settings(format!(
            "--weights-visibility {}: the model has no weights to hide (only the kernels and biases of Conv, ConvTranspose, Gemm and MatMul are weights)\n  hint: use --weights-visibility fixed",
            opts.visibility.weights
        )));
    }
    Ok(())
}

/// Compiles `g` for the calibration `inputs` whose float outputs are `reference`.
pub fn compile(
    g: &FGraph,
    inputs: &[Vec<f64>],
    reference: &[Vec<f64>],
    opts: &CompileOptions,
) -> Result<Compiled, CircuitError> {
    compile_samples(g, &[Sample { inputs: inputs.to_vec(), reference: reference.to_vec() }], opts)
}

/// A scale that compiled, as calibration weighs it.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    scale: u32,
    /// Estimated proving cost, floored at [`NEGLIGIBLE_COST`].
    cost: f64,
    /// Max abs error on the samples.
    error: f64,
}

/// Calibration's choice among `candidates` (`None`: that scale failed), given
/// the largest output magnitude and an optional `--target-error`; `None` when
/// nothing compiled. The rules are those of the constants above.
fn choose(
    candidates: &[Option<Candidate>],
    magnitude: f64,
    target: Option<f64>,
) -> Result<Option<usize>, CircuitError> {
    let usable: Vec<usize> = (0..candidates.len()).filter(|&i| candidates[i].is_some()).collect();
    let preferred: Vec<usize> =
        usable.iter().copied().filter(|&i| candidates[i].is_some_and(|c| c.scale >= MIN_PREFERRED_SCALE)).collect();
    let pool = if preferred.is_empty() { usable } else { preferred };
    let cost = |i: usize| candidates[i].map_or(f64::INFINITY, |c| c.cost);
    let error = |i: usize| candidates[i].map_or(f64::INFINITY, |c| c.error);
    let by_cost_then_error = |a: &usize, b: &usize| cost(*a).total_cmp(&cost(*b)).then(error(*a).total_cmp(&error(*b)));
    let cheapest_within =
        |among: &[usize], bound: f64| among.iter().copied().filter(|&j| error(j) <= bound).min_by(by_cost_then_error);
    if let Some(target) = target {
        return match cheapest_within(&pool, target) {
            Some(i) => Ok(Some(i)),
            None => {
                let best = pool.iter().map(|&i| error(i)).fold(f64::INFINITY, f64::min);
                Err(CircuitError::Settings(format!(
                    "no scale reaches a max abs error of {target:e} on the calibration input (best: {best:e})\n  hint: allow a larger error, or pass --scale explicitly"
                )))
            }
        };
    }
    let cheapest = pool.iter().map(|&i| cost(i)).fold(f64::INFINITY, f64::min);
    let Some(by_cost) = pool
        .iter()
        .copied()
        .filter(|&i| cost(i) <= cheapest * COST_TOLERANCE)
        .min_by(|&a, &b| error(a).total_cmp(&error(b)).then(a.cmp(&b)))
    else {
        return Ok(None);
    };
    let goal = RELATIVE_ERROR_GOAL * magnitude;
    if error(by_cost) <= goal {
        return Ok(Some(by_cost));
    }
    // Short of the accuracy goal: the cheapest scale that meets it within the
    // cost limit; else, within the limit, the most accurate one if it at least
    // halves the error.
    let affordable: Vec<usize> = pool.iter().copied().filter(|&j| cost(j) <= cheapest * ACCURACY_COST_LIMIT).collect();
    let closest = affordable
        .iter()
        .copied()
        .filter(|&j| 2.0 * error(j) <= error(by_cost))
        .min_by(|&a, &b| error(a).total_cmp(&error(b)).then(cost(a).total_cmp(&cost(b))));
    let chosen = cheapest_within(&affordable, goal).or(closest).unwrap_or(by_cost);
    if error(chosen) <= UNUSABLE_ERROR * magnitude {
        return Ok(Some(chosen));
    }
    // A meaningless result is never bought for cost.
    let most_accurate = pool.iter().copied().min_by(|&a, &b| error(a).total_cmp(&error(b)));
    Ok(cheapest_within(&pool, goal).or(cheapest_within(&pool, UNUSABLE_ERROR * magnitude)).or(most_accurate))
}

/// Compiles `g` for several calibration samples: each scale's error is the
/// largest over the samples, and its value range covers all of them.
pub fn compile_samples(g: &FGraph, samples: &[Sample], opts: &CompileOptions) -> Result<Compiled, CircuitError> {
    if samples.is_empty() {
        return Err(CircuitError::Settings("no calibration sample".into()));
    }
    opts.visibility.validate().map_err(CircuitError::Settings)?;
    if g.inputs.is_empty() {
        return Err(CircuitError::NothingToProve);
    }
    check_hidden_weights(g, opts)?;
    let mut g = g.clone();
    compose_linear(&mut g, NOMINAL_DOT_WIDTH);
    let scales: Vec<u32> = match opts.scale {
        Some(s) => vec![s],
        None => AUTO_SCALES.collect(),
    };
    // The structure depends on the scale only through the lookups past the
    // table-size cap ([`structure_key`]): lay out once per key.
    let mut planners: Vec<(Vec<bool>, Planner)> = Vec::new();
    let mut trials: Vec<Trial> = Vec::with_capacity(scales.len());
    for &s in &scales {
        let key = structure_key(&g, s);
        let at = match planners.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                let structure = quantize_graph(&g, s)?;
                committed_params(&structure).map_err(CircuitError::Settings)?;
                planners.push((key, Planner::new(&structure, opts.lanes, opts.profile, opts.visibility)));
                planners.len() - 1
            }
        };
        trials.push(try_scale(&g, &planners[at].1, s, samples, opts));
    }
    drop(planners);
    let candidates: Vec<Option<Candidate>> = trials
        .iter()
        .map(|t| {
            t.ok.as_ref().map(|(plan, error)| Candidate {
                scale: t.record.scale,
                cost: plan.estimate.cost.max(NEGLIGIBLE_COST),
                error: *error,
            })
        })
        .collect();
    let chosen = choose(&candidates, output_magnitude(samples), opts.target_error)?;
    let Some(chosen) = chosen else {
        let reasons: Vec<String> = trials
            .iter()
            .map(|t| format!("scale {}: {}", t.record.scale, t.record.failure.clone().unwrap_or_default()))
            .collect();
        return Err(CircuitError::Settings(format!("no usable scale:\n  {}", reasons.join("\n  "))));
    };
    let (plan, max_abs_error) = trials[chosen].ok.take().ok_or(CircuitError::Settings("internal".into()))?;
    // Quantisation is deterministic: this is the graph the trial measured.
    let graph = quantize_graph(&g, trials[chosen].record.scale)?;
    Ok(Compiled { graph, plan, max_abs_error, trials: trials.into_iter().map(|t| t.record).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_without_inputs_has_nothing_to_prove() {
        let mut g = FGraph::default();
        let constant = vec![zkinfer_models::fgraph::Elem::Const(1.0); 2];
        g.outputs = vec![zkinfer_models::fgraph::View { shape: vec![2], elems: constant }];
        let err = compile(&g, &[], &[vec![1.0, 1.0]], &CompileOptions::default()).expect_err("refused");
        assert!(matches!(err, CircuitError::NothingToProve), "{err}");
        assert!(err.to_string().contains("nothing to prove"), "{err}");
    }

    fn candidates(rows: &[(u32, f64, f64)]) -> Vec<Option<Candidate>> {
        rows.iter().map(|&(scale, cost, error)| Some(Candidate { scale, cost, error })).collect()
    }

    fn chosen_scale(rows: &[(u32, f64, f64)], magnitude: f64, target: Option<f64>) -> u32 {
        let c = candidates(rows);
        let i = choose(&c, magnitude, target).expect("chooses").expect("something compiled");
        c[i].expect("usable").scale
    }

    #[test]
    fn cheap_and_accurate_enough_wins() {
        // Within 15% of the cheapest, the most accurate; it meets the 1% goal.
        let rows = [(6, 100.0, 0.05), (7, 110.0, 0.008), (8, 300.0, 0.001)];
        assert_eq!(chosen_scale(&rows, 1.0, None), 7);
    }

    #[test]
    fn the_goal_is_bought_within_the_cost_limit_only() {
        let rows = [(6, 100.0, 0.05), (8, 350.0, 0.009), (10, 900.0, 0.001)];
        assert_eq!(chosen_scale(&rows, 1.0, None), 8, "3.5x buys the goal");
        let rows = [(6, 100.0, 0.05), (8, 500.0, 0.009)];
        assert_eq!(chosen_scale(&rows, 1.0, None), 6, "5x does not buy a 5% error down to 1%");
    }

    #[test]
    fn a_meaningless_error_is_never_kept_for_cost() {
        // The small LLaMA: 80% of the output at the cheap scales, the goal only
        // at 10x the cost.
        let rows =
            [(6, 1.26e6, 0.248), (8, 1.5e6, 0.549), (10, 3.35e6, 0.453), (14, 1.28e7, 0.00996), (16, 1.28e7, 0.00296)];
        assert_eq!(chosen_scale(&rows, 0.312, None), 16);
        // Nothing meets the goal: the cheapest within 10%.
        let rows = [(6, 100.0, 0.5), (12, 1000.0, 0.05), (16, 2000.0, 0.02)];
        assert_eq!(chosen_scale(&rows, 1.0, None), 12);
        // Nothing within 10% either: the most accurate.
        let rows = [(6, 100.0, 0.9), (12, 1000.0, 0.3), (16, 2000.0, 0.4)];
        assert_eq!(chosen_scale(&rows, 1.0, None), 12);
    }

    #[test]
    fn a_target_takes_the_cheapest_that_meets_it_or_fails() {
        let rows = [(6, 100.0, 0.5), (12, 1000.0, 0.05), (16, 2000.0, 0.02)];
        assert_eq!(chosen_scale(&rows, 1.0, Some(0.06)), 12);
        let c = candidates(&rows);
        let e = choose(&c, 1.0, Some(0.001)).expect_err("unreachable target");
        assert!(e.to_string().contains("no scale reaches"), "{e}");
    }

    #[test]
    fn low_scales_only_when_nothing_else_compiles_and_failures_are_skipped() {
        let mut c = candidates(&[(4, 10.0, 0.0001), (6, 100.0, 0.001)]);
        let i = choose(&c, 1.0, None).expect("chooses").expect("some");
        assert_eq!(c[i].expect("usable").scale, 6);
        c[1] = None;
        let i = choose(&c, 1.0, None).expect("chooses").expect("some");
        assert_eq!(c[i].expect("usable").scale, 4);
        assert!(choose(&[None, None], 1.0, None).expect("no error").is_none());
    }
}
