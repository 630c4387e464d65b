//! Choosing the circuit: lane counts, k and the range table's limb width, by a cost
//! model of halo2 proving (work ≈ committed columns × 2^k, lookups and the
//! permutation weighted by the polynomials they add).

use std::sync::OnceLock;

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::plonk::{Circuit, ConstraintSystem};
use serde::{Deserialize, Serialize};
use zkinfer_models::ir::Graph;

use crate::circuit::{ModelCircuit, DEGREE};
use crate::error::CircuitError;
use crate::layout::Layout;
use crate::shape::{CircuitShape, Ranges, Template};
use crate::visibility::{hash_rows, InstancePart, Visibilities};

/// The instance parts of `graph` under `visibility`.
pub fn graph_instances(graph: &Graph, visibility: &Visibilities) -> Vec<InstancePart> {
    let inputs: Vec<usize> = graph.inputs.iter().map(|i| i.shape.iter().product()).collect();
    let outputs: Vec<usize> = graph.outputs.iter().map(|o| o.elems.len()).collect();
    // An inconsistent parameter vector is refused when compiling
    // ([`crate::compile`]); here it counts as empty.
    let weights = zkinfer_models::params::committed_params(graph).map_or(0, |p| p.len());
    visibility.instances(&inputs, &outputs, weights)
}

/// Largest limb width considered (a 2^16-row table).
pub const MAX_LOOKUP_BITS: u32 = 16;

/// What the planner optimises for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Profile {
    /// Fastest proving: wide lanes, one lookup per limb column.
    #[default]
    Fast,
    /// Cheapest verification, on-chain above all: the compact lane (few
    /// commitments, more rows); the narrowest dot width that fits `max_k`.
    Evm,
}

impl Profile {
    /// The profile's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Fast => "fast",
            Profile::Evm => "evm",
        }
    }
}

/// Lane counts and widths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lanes {
    /// Dot-product lanes.
    pub dot_lanes: u32,
    /// Terms per dot row.
    pub dot_width: u32,
    /// Element-wise lanes.
    pub elem_lanes: u32,
}

/// The planner's estimate for a shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Rows used by the tallest lane.
    pub rows: usize,
    /// Rows available at this k.
    pub usable_rows: usize,
    /// Advice columns.
    pub advice_columns: usize,
    /// Fixed columns (before selector compression).
    pub fixed_columns: usize,
    /// Lookup arguments.
    pub lookups: usize,
    /// Permutation grand-product polynomials.
    pub permutation_products: usize,
    /// Relative proving cost (column-equivalents × 2^k).
    pub cost: f64,
}

/// A chosen circuit. Its placement is [`Layout::build`] of the graph with the
/// shape's lanes.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The shape to configure.
    pub shape: CircuitShape,
    /// The estimate that chose it.
    pub estimate: Estimate,
}

/// What the planner keeps of one candidate placement.
#[derive(Clone, Debug)]
struct Footprint {
    lanes: Lanes,
    rows: usize,
    /// Rows of the (first) dot lane, result row included.
    dot_rows: usize,
    /// Operations of the (first) element lane.
    elem_ops: usize,
    templates: Vec<Template>,
}

/// Rows halo2 reserves at the end of the domain (blinding factors plus one),
/// measured from the constraint system itself.
pub fn reserved_rows() -> usize {
    static RESERVED: OnceLock<usize> = OnceLock::new();
    *RESERVED.get_or_init(|| {
        let mut cs = ConstraintSystem::<Fr>::default();
        let shape = CircuitShape { templates: Template::ALL.to_vec(), ..CircuitShape::default() };
        <ModelCircuit as Circuit<Fr>>::configure_with_params(&mut cs, shape);
        cs.blinding_factors() + 1
    })
}

/// Rows halo2 reserves for a circuit of `shape` (the compact lane queries its limb
/// column at several rotations, which adds blinding factors).
pub fn reserved_rows_for(shape: &CircuitShape) -> usize {
    if !shape.compact {
        return reserved_rows();
    }
    let mut cs = ConstraintSystem::<Fr>::default();
    <ModelCircuit as Circuit<Fr>>::configure_with_params(&mut cs, shape.clone());
    cs.blinding_factors() + 1
}

/// Rows usable for assignments at `k`.
pub fn usable_rows(k: u32) -> usize {
    (1usize << k).saturating_sub(reserved_rows())
}

/// Commitments of the vanishing argument and the multi-open, independent of the
/// circuit's columns.
const FIXED_COMMITMENTS: f64 = 7.0;
/// Per-commitment cost that does not grow with `2^k` (in row units): verification
/// work, proof bytes and keeping more polynomials around. Tilts ties towards fewer,
/// longer columns, which verifiers (native, wasm, EVM) pay for.
const PER_COMMITMENT_OVERHEAD: f64 = 4096.0;

/// Estimates the cost of a shape whose tallest lane uses `rows` rows.
///
/// Measured on this project's circuits (halo2-axiom 0.5.3, 2 cores), proving time is
/// dominated by one multi-scalar multiplication of `2^k` points per committed
/// polynomial: each advice column, three per lookup (permuted input, permuted
/// table, grand product), one per permutation grand product, plus the vanishing
/// and opening commitments. Fixed columns are only transformed (FFTs), a small cost.
pub fn estimate(shape: &CircuitShape, rows: usize) -> Estimate {
    let advice = shape.advice_columns();
    let fixed = shape.fixed_columns();
    let lookups = shape.lookups();
    let permutation_products = shape.equality_columns().div_ceil(DEGREE - 2);
    let commitments = advice as f64 + 3.0 * lookups as f64 + permutation_products as f64 + FIXED_COMMITMENTS;
    let n = (1u64 << shape.k) as f64;
    let cost = commitments * (n + PER_COMMITMENT_OVERHEAD) + 0.1 * fixed as f64 * n;
    Estimate {
        rows,
        usable_rows: (1usize << shape.k).saturating_sub(reserved_rows_for(shape)),
        advice_columns: advice,
        fixed_columns: fixed,
        lookups,
        permutation_products,
        cost,
    }
}

/// The limb width for `k`: the one needing the fewest limb columns, the widest on
/// ties; `None` when no width fits.
pub fn choose_ranges(k: u32, scale: u32, value_bits: u32, templates: &[Template]) -> Option<Ranges> {
    let usable = usable_rows(k);
    let mut best: Option<(usize, Ranges)> = None;
    for bits in (2..=MAX_LOOKUP_BITS.min(k.saturating_sub(1))).rev() {
        if (1usize << bits) > usable {
            continue;
        }
        let ranges = Ranges { lookup_bits: bits, value_bits: value_bits.max(2).div_ceil(bits) * bits, scale };
        let limbs = templates.iter().map(|t| ranges.limbs(*t)).max().unwrap_or(0);
        if best.as_ref().is_none_or(|(l, _)| limbs < *l) {
            best = Some((limbs, ranges));
        }
    }
    best.map(|(_, r)| r)
}

fn candidate_lanes(graph: &Graph) -> Vec<Lanes> {
    let has_dot = graph.linear_terms() > 0
        || graph.outputs.iter().any(|o| o.elems.iter().any(|e| matches!(e, zkinfer_models::ir::Operand::Const(_))));
    let mut out = Vec::new();
    let dots: Vec<(u32, u32)> = if has_dot {
        [1u32, 2, 4, 8]
            .iter()
            .flat_map(|&g| [2u32, 4, 8, 16, 32].iter().map(move |&w| (g, w)))
            .filter(|(g, w)| g * w <= 64)
            .collect()
    } else {
        vec![(1, 1)]
    };
    for (dot_lanes, dot_width) in dots {
        for elem_lanes in [1u32, 2, 4, 8] {
            out.push(Lanes { dot_lanes, dot_width, elem_lanes });
        }
    }
    out
}

/// Plans circuits for one graph structure. Layouts depend only on the structure,
/// not on the scale, so calibration can try many scales against the same
/// footprints. Only the rows and templates of each candidate are kept, so memory
/// stays at one layout however many candidates there are.
pub struct Planner {
    footprints: Vec<Footprint>,
    /// Public instance cells.
    instances: usize,
    /// The instance parts (hashed ones need Poseidon rows beside the lanes).
    parts: Vec<InstancePart>,
    visibility: Visibilities,
    profile: Profile,
    /// Distinct functions the graph looks up (each gets a table).
    funcs: Vec<zkinfer_models::func::Func>,
    /// Entries of the constant tables gathered by computed keys.
    data_rows: usize,
    /// Whether some dot product has witness weights (a bilinear node).
    variable_dots: bool,
}

impl Planner {
    /// Lays `graph` out on every candidate lane configuration of `profile` (or only
    /// `lanes`), for tensors of `visibility`.
    pub fn new(graph: &Graph, lanes: Option<Lanes>, profile: Profile, visibility: Visibilities) -> Planner {
        let candidates = match (lanes, profile) {
            (Some(l), Profile::Fast) => vec![l],
            (Some(l), Profile::Evm) => vec![Lanes { dot_lanes: 1, elem_lanes: 1, ..l }],
            (None, Profile::Fast) => candidate_lanes(graph),
            (None, Profile::Evm) => {
                [1, 2, 4, 8].iter().map(|&dot_width| Lanes { dot_lanes: 1, dot_width, elem_lanes: 1 }).collect()
            }
        };
        let footprints = candidates
            .into_iter()
            .map(|lanes| {
                let layout =
                    Layout::build(graph, lanes.dot_lanes as usize, lanes.dot_width as usize, lanes.elem_lanes as usize);
                Footprint {
                    lanes,
                    rows: layout.rows(),
                    dot_rows: layout.dot_heights.first().copied().unwrap_or(0),
                    elem_ops: layout.elem.first().map_or(0, |l| l.len()),
                    templates: layout.templates,
                }
            })
            .collect();
        let mut funcs: Vec<_> = graph.lookup_tables().into_iter().map(|(f, _)| f).collect();
        funcs.sort();
        funcs.dedup();
        let data_rows = graph
            .nodes
            .iter()
            .map(|n| match &n.op {
                zkinfer_models::ir::Op::Gather { data, .. } => data.len(),
                _ => 0,
            })
            .sum();
        let parts = graph_instances(graph, &visibility);
        let variable_dots = graph.nodes.iter().any(|n| matches!(n.op, zkinfer_models::ir::Op::Bilinear { .. }));
        Planner {
            variable_dots,
            footprints,
            instances: parts.iter().map(|p| p.cells()).sum::<usize>(),
            parts,
            visibility,
            profile,
            funcs,
            data_rows,
        }
    }

    /// Packs the hashed input and output in these slot widths from now on
    /// (segment boundaries; see [`crate::bounds`] for why the widths must cover
    /// both sides' values).
    pub fn set_packing(&mut self, packing: crate::visibility::Packing) {
        self.visibility.packing = packing;
        for part in &mut self.parts {
            part.pack_with(&packing);
        }
    }

    /// Rows a circuit needs whose lanes use `lane_rows`: the lanes, the instance
    /// column, the function table and the Poseidon chains lie side by side.
    fn rows_beside(&self, lane_rows: usize, scale: u32, compact: bool) -> usize {
        let per_row = if compact { 1 } else { crate::chips::poseidon::PARTIAL_PER_ROW };
        lane_rows.max(self.instances).max(self.table_rows(scale)).max(hash_rows(&self.parts, per_row))
    }

    /// Rows the function table needs at `scale` (its tables must fit the circuit).
    fn table_rows(&self, scale: u32) -> usize {
        if self.funcs.is_empty() && self.data_rows == 0 {
            return 0;
        }
        let tables: Vec<_> = self.funcs.iter().map(|f| (*f, f.table_bits(scale))).collect();
        crate::chips::func_table::table_rows(&tables, self.data_rows)
    }

    /// The compact circuit with the narrowest dot width that fits `max_k`, at the
    /// smallest k: verification cost depends on the columns, not the rows.
    fn plan_compact(&self, scale: u32, value_bits: u32, max_k: u32) -> Result<Plan, CircuitError> {
        let mut fewest_rows = usize::MAX;
        for fp in &self.footprints {
            for k in 4..=max_k {
                let Some(ranges) = choose_ranges(k, scale, value_bits, &fp.templates) else {
                    continue;
                };
                let shape = CircuitShape {
                    k,
                    ranges,
                    dot_lanes: 1,
                    dot_width: fp.lanes.dot_width,
                    elem_lanes: 1,
                    templates: fp.templates.clone(),
                    instances: self.instances as u32,
                    compact: true,
                    visibility: self.visibility,
                    variable_dots: self.variable_dots,
                };
                let rows = self.rows_beside(fp.dot_rows + fp.elem_ops * shape.elem_stride(), scale, true);
                fewest_rows = fewest_rows.min(rows);
                let usable = (1usize << k).saturating_sub(reserved_rows_for(&shape));
                if rows > usable || (1usize << ranges.lookup_bits) > usable {
                    continue;
                }
                shape.validate().map_err(CircuitError::Settings)?;
                let estimate = estimate(&shape, rows);
                return Ok(Plan { shape, estimate });
            }
        }
        Err(CircuitError::TooLarge { rows: fewest_rows, max_k })
    }

    /// The cheapest circuit for values of `value_bits` bits at `scale`, up to `max_k`.
    pub fn plan(&self, scale: u32, value_bits: u32, max_k: u32) -> Result<Plan, CircuitError> {
        if self.profile == Profile::Evm {
            return self.plan_compact(scale, value_bits, max_k);
        }
        let mut best: Option<(CircuitShape, Estimate)> = None;
        let mut fewest_rows = usize::MAX;
        for Footprint { lanes: l, rows, templates, .. } in &self.footprints {
            let rows = self.rows_beside(*rows, scale, false);
            fewest_rows = fewest_rows.min(rows);
            let k_min = (rows + reserved_rows()).next_power_of_two().trailing_zeros().max(4);
            for k in k_min..=max_k.min(k_min + 2) {
                if usable_rows(k) < rows {
                    continue;
                }
                let Some(ranges) = choose_ranges(k, scale, value_bits, templates) else {
                    continue;
                };
                let shape = CircuitShape {
                    k,
                    ranges,
                    dot_lanes: l.dot_lanes,
                    dot_width: l.dot_width,
                    elem_lanes: l.elem_lanes,
                    templates: templates.clone(),
                    instances: self.instances as u32,
                    compact: false,
                    visibility: self.visibility,
                    variable_dots: self.variable_dots,
                };
                let est = estimate(&shape, rows);
                if best.as_ref().is_none_or(|b| (est.cost, shape.k) < (b.1.cost, b.0.k)) {
                    best = Some((shape, est));
                }
            }
        }
        let (shape, estimate) = best.ok_or(CircuitError::TooLarge { rows: fewest_rows, max_k })?;
        shape.validate().map_err(CircuitError::Settings)?;
        Ok(Plan { shape, estimate })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_rows_match_halo2() {
        // acc is queried at two rotations: max(3, 2) + 2 blinding factors, plus one.
        assert_eq!(reserved_rows(), 6);
    }

    #[test]
    fn limb_width_prefers_alignment_and_fits_the_table() {
        let t = [Template::Rescale, Template::RescaleRelu];
        let r = choose_ranges(12, 8, 14, &t).unwrap();
        assert_eq!(r.lookup_bits, 8, "8 divides the scale: one-sided remainders, 2-limb values");
        assert_eq!(r.value_bits, 16);
        let r = choose_ranges(8, 7, 14, &t).unwrap();
        assert!((1usize << r.lookup_bits) <= usable_rows(8));
    }
}
