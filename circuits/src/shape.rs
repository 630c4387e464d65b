//! The shape of a model circuit: everything `configure` needs, as plain data.
//!
//! The verifier rebuilds the constraint system from this alone, so it is stored
//! in the verifying-key file. It fixes the column layout (dot-product lanes,
//! element-wise lanes and their limb columns), the fixed-point scale, the range
//! table's limb width and the value range.

use serde::{Deserialize, Serialize};

use crate::chips::poseidon;
use crate::visibility::Visibilities;

/// The row templates of the element-wise lanes; each is one gate (see
/// [`crate::chips::elementwise`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Template {
    /// `a` is a signed value in `[-2^(B-1), 2^(B-1))` (private inputs).
    Range,
    /// `c = floor((a + 2^(s-1)) / 2^s)`, `c` signed-range-checked.
    Rescale,
    /// `c = max(0, floor((a + 2^(s-1)) / 2^s))`.
    RescaleRelu,
    /// `c = floor((a·b + 2^(s-1)) / 2^s)`, `c` signed-range-checked.
    MulRescale,
    /// `c = max(a, b)`.
    Max,
    /// `c = min(a, b)`.
    Min,
    /// `c = max(a, k)` for a fixed constant `k` (ReLU when `k = 0`).
    MaxConst,
    /// `c = min(a, k)` for a fixed constant `k`.
    MinConst,
    /// `(k, a, c)` is a row of the function table: `c = f_k(a)` for the function
    /// with tag `k` (see [`crate::chips::func_table`]).
    Lookup,
    /// `c = round(a·2^s / b)` (half up) for `b > 0`: `2a·2^s + b = 2cb + r` with
    /// `0 ≤ r < 2b`.
    Div,
    /// `c = floor(sqrt(a·2^s))`: `a·2^s − c² = d` with `0 ≤ d ≤ 2c`, `c ≥ 0`.
    Sqrt,
}

impl Template {
    /// Every template, in a fixed order (the order of selectors in `configure`).
    pub const ALL: [Template; 11] = [
        Template::Range,
        Template::Rescale,
        Template::RescaleRelu,
        Template::MulRescale,
        Template::Max,
        Template::Min,
        Template::MaxConst,
        Template::MinConst,
        Template::Lookup,
        Template::Div,
        Template::Sqrt,
    ];

    /// Whether the template reads a second operand from column `b`.
    pub fn uses_b(self) -> bool {
        matches!(self, Template::MulRescale | Template::Max | Template::Min | Template::Div)
    }

    /// Whether the template reads the fixed column `k` (a constant or a table tag).
    pub fn uses_konst(self) -> bool {
        matches!(self, Template::MaxConst | Template::MinConst | Template::Lookup)
    }
}

/// Limb arithmetic of a range configuration: limb width `L`, value range `B` (a
/// multiple of `L`) and rescaling shift `s`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ranges {
    /// Bits per limb: the range table holds `[0, 2^L)`.
    pub lookup_bits: u32,
    /// Bits of the value range `B`; signed values lie in `[-2^(B-1), 2^(B-1))`.
    pub value_bits: u32,
    /// Rescaling shift `s` (the fixed-point scale).
    pub scale: u32,
}

impl Ranges {
    /// Limbs of a value-range check (`B / L`).
    pub fn value_limbs(&self) -> usize {
        (self.value_bits / self.lookup_bits) as usize
    }

    /// Whether a remainder in `[0, 2^s)` is checked by its limbs alone (`L | s`);
    /// otherwise `2^s - 1 - r` is checked too.
    pub fn remainder_one_sided(&self) -> bool {
        self.scale.is_multiple_of(self.lookup_bits)
    }

    /// Limbs of one side of a remainder check (`ceil(s / L)`).
    pub fn remainder_side_limbs(&self) -> usize {
        self.scale.div_ceil(self.lookup_bits) as usize
    }

    /// Limbs of a whole remainder check.
    pub fn remainder_limbs(&self) -> usize {
        self.remainder_side_limbs() * if self.remainder_one_sided() { 1 } else { 2 }
    }

    /// Limb columns a template needs.
    pub fn limbs(&self, t: Template) -> usize {
        let v = self.value_limbs();
        let r = self.remainder_limbs();
        match t {
            Template::Range => v,
            Template::Rescale | Template::MulRescale => r + v,
            Template::RescaleRelu => r + 2 * v,
            Template::Max | Template::Min | Template::MaxConst | Template::MinConst => 2 * v,
            Template::Lookup => 0,
            Template::Div | Template::Sqrt => 3 * v,
        }
    }
}

/// Most dot-product lanes a circuit may have.
pub const MAX_DOT_LANES: u32 = 16;
/// Most terms per dot row.
pub const MAX_DOT_WIDTH: u32 = 128;
/// Most element-wise lanes.
pub const MAX_ELEM_LANES: u32 = 16;

/// Everything `configure` needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitShape {
    /// log2 of the number of rows.
    pub k: u32,
    /// Limb width, value range and scale.
    pub ranges: Ranges,
    /// Number of dot-product lanes.
    pub dot_lanes: u32,
    /// Multiply-accumulate terms per dot row.
    pub dot_width: u32,
    /// Number of element-wise lanes.
    pub elem_lanes: u32,
    /// Templates present, in [`Template::ALL`] order.
    pub templates: Vec<Template>,
    /// Number of public instance cells (see [`crate::visibility`]).
    pub instances: u32,
    /// The compact profile (see [`crate::chips::compact`]): one lane whose limbs
    /// share a single column at successive rows, so the circuit has few
    /// commitments (cheap to verify, on-chain above all) at the price of more rows.
    #[serde(default)]
    pub compact: bool,
    /// Which tensors are public, private or committed; with a `hashed` one the
    /// circuit has the Poseidon chip.
    #[serde(default)]
    pub visibility: Visibilities,
    /// Some dot product multiplies two computed tensors (attention): the dot
    /// lanes carry witness-weight columns ([`crate::chips::hidden`]).
    #[serde(default)]
    pub variable_dots: bool,
}

impl Default for CircuitShape {
    /// A minimal shape (used only where halo2 asks for a default).
    fn default() -> Self {
        CircuitShape {
            k: 4,
            ranges: Ranges { lookup_bits: 2, value_bits: 4, scale: 2 },
            dot_lanes: 1,
            dot_width: 1,
            elem_lanes: 1,
            templates: vec![Template::Range],
            instances: 1,
            compact: false,
            visibility: Visibilities::default(),
            variable_dots: false,
        }
    }
}

impl CircuitShape {
    /// Limb columns per element-wise lane: the most any present template needs.
    pub fn limbs(&self) -> usize {
        self.templates.iter().map(|t| self.ranges.limbs(*t)).max().unwrap_or(0)
    }

    /// Whether any present template uses column `b`.
    pub fn uses_b(&self) -> bool {
        self.templates.iter().any(|t| t.uses_b())
    }

    /// Rows one element-wise operation spans: 1 in the wide profile; in the compact
    /// one, enough for its limbs (one per row) and, when a template reads a second
    /// operand, the row below it.
    pub fn elem_stride(&self) -> usize {
        if self.compact {
            self.limbs().max(1 + self.uses_b() as usize)
        } else {
            1
        }
    }

    /// Whether the weights are hidden (not `fixed`).
    pub fn hides_weights(&self) -> bool {
        self.visibility.weights != crate::visibility::Visibility::Fixed
    }

    /// Whether the dot lanes carry witness-weight columns
    /// ([`crate::chips::hidden`]): for hidden weights, or for dot products of two
    /// computed tensors.
    pub fn has_witness_weights(&self) -> bool {
        self.hides_weights() || self.variable_dots
    }

    /// Whether the circuit has the Poseidon chip (some tensor is `hashed`).
    pub fn uses_poseidon(&self) -> bool {
        self.visibility.hashes()
    }

    /// Partial Poseidon rounds per row: several for fast proving, one in the
    /// compact profile (whose verifiers pay for every term of every gate).
    pub fn poseidon_partial_per_row(&self) -> usize {
        if self.compact {
            1
        } else {
            poseidon::PARTIAL_PER_ROW
        }
    }

    /// Columns the Poseidon chip adds: (advice, fixed, equality-enabled).
    fn poseidon_columns(&self) -> (usize, usize, usize) {
        if self.uses_poseidon() {
            (
                poseidon::ADVICE_COLUMNS,
                poseidon::fixed_columns(self.poseidon_partial_per_row()),
                poseidon::EQUALITY_COLUMNS,
            )
        } else {
            (0, 0, 0)
        }
    }

    /// Advice columns of the circuit.
    pub fn advice_columns(&self) -> usize {
        let poseidon = self.poseidon_columns().0;
        let hidden = self.hidden_advice_columns();
        if self.compact {
            // x_0 (also the element operand), x_1.., the result column, the limbs.
            return self.dot_width as usize + 2 + poseidon + hidden;
        }
        let dot = self.dot_lanes as usize * (self.dot_width as usize + 1);
        let elem = 2 + self.uses_b() as usize + self.limbs();
        dot + self.elem_lanes as usize * elem + poseidon + hidden
    }

    /// Advice columns of the hidden weights ([`crate::chips::hidden`]): per lane
    /// one per term column and one for the bias; all take part in copies.
    fn hidden_advice_columns(&self) -> usize {
        if !self.has_witness_weights() {
            return 0;
        }
        let lanes = if self.compact { 1 } else { self.dot_lanes as usize };
        lanes * (self.dot_width as usize + 1)
    }

    /// Fixed columns of the hidden weights: `on` per lane and the constants column.
    fn hidden_fixed_columns(&self) -> usize {
        if !self.has_witness_weights() {
            return 0;
        }
        (if self.compact { 1 } else { self.dot_lanes as usize }) + 1
    }

    /// Whether the circuit has the function table (some operation looks it up).
    pub fn uses_func_table(&self) -> bool {
        self.templates.contains(&Template::Lookup)
    }

    /// Lookup arguments (one per limb column, plus one per lane into the function
    /// table).
    pub fn lookups(&self) -> usize {
        let func = self.uses_func_table() as usize;
        if self.compact {
            return 1 + func;
        }
        self.elem_lanes as usize * (self.limbs() + func)
    }

    /// Columns in the copy-constraint permutation.
    pub fn equality_columns(&self) -> usize {
        let poseidon = self.poseidon_columns().2;
        // The hidden weights' advice columns and the constants column.
        let hidden = self.hidden_advice_columns() + self.has_witness_weights() as usize;
        if self.compact {
            return self.dot_width as usize + 2 + poseidon + hidden;
        }
        let dot = self.dot_lanes as usize * (self.dot_width as usize + 1);
        let elem = 2 + self.uses_b() as usize;
        dot + self.elem_lanes as usize * elem + 1 + poseidon + hidden
    }

    /// Fixed columns before selector compression.
    pub fn fixed_columns(&self) -> usize {
        let poseidon = self.poseidon_columns().1;
        let hidden = self.hidden_fixed_columns();
        if self.compact {
            // weights, the constant column, the range table, the function table.
            return self.dot_width as usize + 2 + 3 * self.uses_func_table() as usize + poseidon + hidden;
        }
        let dot = self.dot_lanes as usize * (self.dot_width as usize + 3);
        let konst = self.templates.iter().any(|t| t.uses_konst()) as usize;
        dot + self.elem_lanes as usize * konst + 1 + 3 * self.uses_func_table() as usize + poseidon + hidden
    }

    /// Selectors before compression.
    pub fn selectors(&self) -> usize {
        let poseidon = if self.uses_poseidon() {
            poseidon::selectors(self.poseidon_partial_per_row(), self.visibility.packs())
        } else {
            0
        };
        if self.compact {
            self.templates.len() + 2 + poseidon
        } else {
            self.templates.len() * self.elem_lanes as usize + poseidon
        }
    }

    /// Checks the invariants `configure` relies on; returns the first violation.
    pub fn validate(&self) -> Result<(), String> {
        let r = &self.ranges;
        if !(1..=28).contains(&self.k) {
            return Err(format!("k = {} is outside 1..=28", self.k));
        }
        if r.lookup_bits == 0 || r.lookup_bits >= self.k {
            return Err(format!("lookup bits {} must be in 1..k", r.lookup_bits));
        }
        if r.value_bits == 0 || !r.value_bits.is_multiple_of(r.lookup_bits) || r.value_bits > 120 {
            return Err(format!(
                "value bits {} must be a positive multiple of the lookup bits {} (at most 120)",
                r.value_bits, r.lookup_bits
            ));
        }
        if !(1..=60).contains(&r.scale) {
            return Err(format!("scale {} is outside 1..=60", r.scale));
        }
        if self.dot_lanes == 0 || self.dot_width == 0 || self.elem_lanes == 0 {
            return Err("lane counts and widths must be positive".into());
        }
        if self.compact && (self.dot_lanes != 1 || self.elem_lanes != 1) {
            return Err("the compact profile has exactly one lane".into());
        }
        self.visibility.validate()?;
        if self.templates.is_empty() {
            return Err("no element-wise templates".into());
        }
        let mut sorted = self.templates.clone();
        sorted.sort();
        sorted.dedup();
        if sorted != self.templates {
            return Err("templates must be distinct and in canonical order".into());
        }
        if self.dot_lanes > MAX_DOT_LANES
            || self.dot_width > MAX_DOT_WIDTH
            || self.elem_lanes > MAX_ELEM_LANES
            || self.limbs() > 64
        {
            return Err(format!(
                "too many columns: at most {MAX_DOT_LANES} dot lanes of {MAX_DOT_WIDTH} terms and {MAX_ELEM_LANES} element lanes"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limb_counts_follow_alignment() {
        let aligned = Ranges { lookup_bits: 8, value_bits: 16, scale: 8 };
        assert!(aligned.remainder_one_sided());
        assert_eq!(aligned.limbs(Template::Rescale), 1 + 2);
        assert_eq!(aligned.limbs(Template::RescaleRelu), 1 + 4);
        let unaligned = Ranges { lookup_bits: 10, value_bits: 20, scale: 7 };
        assert!(!unaligned.remainder_one_sided());
        assert_eq!(unaligned.limbs(Template::Rescale), 2 + 2);
        assert_eq!(unaligned.limbs(Template::Max), 4);
    }

    #[test]
    fn column_counts_match_the_constraint_system() {
        use halo2_axiom::halo2curves::bn256::Fr;
        use halo2_axiom::plonk::{Circuit, ConstraintSystem};

        use crate::visibility::{Visibilities, Visibility};
        let hashed = Visibilities { input: Visibility::Hashed, ..Default::default() };
        let hidden = Visibilities { weights: Visibility::Private, ..Default::default() };
        let committed = Visibilities { weights: Visibility::Hashed, ..Default::default() };
        for compact in [false, true] {
            for visibility in [Visibilities::default(), hashed, hidden, committed] {
                let shape = CircuitShape {
                    templates: vec![Template::Range, Template::Rescale, Template::Lookup],
                    compact,
                    visibility,
                    ..CircuitShape::default()
                };
                let mut cs = ConstraintSystem::<Fr>::default();
                <crate::ModelCircuit as Circuit<Fr>>::configure_with_params(&mut cs, shape.clone());
                let what = format!("compact {compact}, {visibility}");
                assert_eq!(cs.num_advice_columns(), shape.advice_columns(), "advice: {what}");
                assert_eq!(cs.num_fixed_columns(), shape.fixed_columns(), "fixed: {what}");
                assert_eq!(cs.num_selectors(), shape.selectors(), "selectors: {what}");
                let equality = cs.permutation().get_columns().len();
                assert_eq!(equality, shape.equality_columns(), "equality: {what}");
            }
        }
    }

    #[test]
    fn validation_rejects_bad_shapes() {
        let mut s = CircuitShape::default();
        assert!(s.validate().is_ok());
        s.ranges.value_bits = 5;
        assert!(s.validate().is_err());
        let s = CircuitShape { templates: vec![Template::Max, Template::Range], ..Default::default() };
        assert!(s.validate().is_err());
    }
}
