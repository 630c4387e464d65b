//! Who sees which tensor: per tensor kind (model inputs, outputs, weights) a
//! [`Visibility`], and the public instances that follow from it.
//!
//! The instance column holds, in order: for each model input, its values
//! (`public`) or its commitment (`hashed`); then for each model output, its
//! values or its commitment; then the weights' values or commitment. `private`
//! tensors contribute nothing; `fixed` tensors are baked into the circuit (its
//! fixed columns, so the verifying key binds them). A commitment is
//! [`crate::poseidon::hash`] of the tensor's quantised values. The weights, when
//! not `fixed`, are the model's parameters as one vector
//! ([`zkinfer_models::params::committed_params`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How one kind of tensor appears in a proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Its values are public instances.
    Public,
    /// A private witness: the proof reveals nothing of it.
    Private,
    /// Constants baked into the circuit (the verifying key commits to them).
    Fixed,
    /// Private, with its Poseidon commitment as a public instance.
    Hashed,
}

impl Visibility {
    /// Every visibility, in a fixed order.
    pub const ALL: [Visibility; 4] = [Visibility::Public, Visibility::Private, Visibility::Fixed, Visibility::Hashed];

    /// Its name on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Private => "private",
            Visibility::Fixed => "fixed",
            Visibility::Hashed => "hashed",
        }
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Visibility {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Visibility::ALL
            .iter()
            .copied()
            .find(|v| v.name() == s)
            .ok_or_else(|| format!("unknown visibility `{s}` (expected one of: public, private, fixed, hashed)"))
    }
}

/// Slot widths of packed commitments ([`crate::poseidon::hash_packed`]): the
/// boundaries between segments. `None` commits element by element (what a
/// `hashed` model input or output always does, so that anyone can recompute
/// its commitment with `zkinfer hash`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Packing {
    /// Slot bits of the hashed input.
    pub input: Option<u32>,
    /// Slot bits of the hashed output.
    pub output: Option<u32>,
}

impl Packing {
    /// Slot bits of a `kind` tensor committed packed (weights never are).
    pub fn bits(&self, kind: TensorKind) -> Option<u32> {
        match kind {
            TensorKind::Input => self.input,
            TensorKind::Output => self.output,
            TensorKind::Weights => None,
        }
    }
}

/// The visibility of each tensor kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Visibilities {
    /// Model inputs (default `private`).
    pub input: Visibility,
    /// Model outputs (default `public`).
    pub output: Visibility,
    /// Weights and other constants (default `fixed`).
    pub weights: Visibility,
    /// How hashed inputs and outputs are packed (segment boundaries).
    #[serde(default)]
    pub packing: Packing,
}

impl Default for Visibilities {
    fn default() -> Self {
        Visibilities {
            input: Visibility::Private,
            output: Visibility::Public,
            weights: Visibility::Fixed,
            packing: Packing::default(),
        }
    }
}

impl fmt::Display for Visibilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "input {}, output {}, weights {}", self.input, self.output, self.weights)?;
        for (kind, bits) in [("input", self.packing.input), ("output", self.packing.output)] {
            if let Some(bits) = bits {
                write!(f, " ({kind} packed in {bits}-bit slots)")?;
            }
        }
        Ok(())
    }
}

impl Visibilities {
    /// Checks the combination is one zkinfer proves; the message names the fix.
    pub fn validate(&self) -> Result<(), String> {
        for (kind, v) in [("input", self.input), ("output", self.output)] {
            if v == Visibility::Fixed {
                return Err(format!(
                    "--{kind}-visibility fixed is not possible: a model {kind} changes with every proof\n  hint: use public, private or hashed"
                ));
            }
        }
        Ok(())
    }

    /// Whether some tensor is committed by a Poseidon hash (the circuit then has
    /// the Poseidon chip).
    pub fn hashes(&self) -> bool {
        [self.input, self.output, self.weights].contains(&Visibility::Hashed)
    }

    /// Whether some hashed tensor is packed (the Poseidon chip then has packing rows).
    pub fn packs(&self) -> bool {
        (self.input == Visibility::Hashed && self.packing.input.is_some())
            || (self.output == Visibility::Hashed && self.packing.output.is_some())
    }

    /// What the instance column holds, for inputs and outputs of these sizes and
    /// `weights` parameters.
    pub fn instances(&self, input_lens: &[usize], output_lens: &[usize], weights: usize) -> Vec<InstancePart> {
        let mut parts = Vec::new();
        let mut push = |kind: TensorKind, vis: Visibility, lens: &[usize]| {
            for (index, &len) in lens.iter().enumerate() {
                let what = match vis {
                    Visibility::Public => Exposed::Values,
                    Visibility::Hashed => Exposed::Commitment,
                    Visibility::Private | Visibility::Fixed => continue,
                };
                let mut part = InstancePart { kind, index, len, what, pack_bits: None };
                part.pack_with(&self.packing);
                parts.push(part);
            }
        };
        push(TensorKind::Input, self.input, input_lens);
        push(TensorKind::Output, self.output, output_lens);
        push(TensorKind::Weights, self.weights, &[weights]);
        parts
    }
}

/// Model input, output or the weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TensorKind {
    /// A model input.
    Input,
    /// A model output.
    Output,
    /// The model's parameters, as one vector (index 0).
    Weights,
}

impl TensorKind {
    /// Its name in messages and files: `input`, `output` or `weights`.
    pub fn name(self) -> &'static str {
        match self {
            TensorKind::Input => "input",
            TensorKind::Output => "output",
            TensorKind::Weights => "weights",
        }
    }
}

/// How a tensor appears among the instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Exposed {
    /// Every element, in order.
    Values,
    /// One cell: the Poseidon commitment.
    Commitment,
}

/// A run of instance cells belonging to one tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstancePart {
    /// Input or output.
    pub kind: TensorKind,
    /// Which input or output.
    pub index: usize,
    /// Elements of the tensor.
    pub len: usize,
    /// Values or commitment.
    pub what: Exposed,
    /// Slot bits of a packed commitment ([`crate::poseidon::hash_packed`]).
    #[serde(default)]
    pub pack_bits: Option<u32>,
}

impl InstancePart {
    /// Sets its slot bits from `packing`: only commitments are packed.
    pub fn pack_with(&mut self, packing: &Packing) {
        self.pack_bits = packing.bits(self.kind).filter(|_| self.what == Exposed::Commitment);
    }

    /// Instance cells the part occupies.
    pub fn cells(&self) -> usize {
        match self.what {
            Exposed::Values => self.len,
            Exposed::Commitment => 1,
        }
    }
}

/// Rows the Poseidon chains of these parts need (they are stacked), with up to
/// `per_row` partial rounds per row.
pub fn hash_rows(parts: &[InstancePart], per_row: usize) -> usize {
    parts
        .iter()
        .filter(|p| p.what == Exposed::Commitment)
        .map(|p| crate::chips::poseidon::commitment_rows(p.len, per_row, p.pack_bits))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_private_input_public_output_fixed_weights() {
        let v = Visibilities::default();
        assert_eq!(v.validate(), Ok(()));
        let parts = v.instances(&[4], &[3, 2], 100);
        assert_eq!(parts.iter().map(InstancePart::cells).sum::<usize>(), 5);
        assert!(parts.iter().all(|p| p.kind == TensorKind::Output && p.what == Exposed::Values));
    }

    #[test]
    fn hashed_input_comes_first_as_one_cell() {
        let v = Visibilities { input: Visibility::Hashed, ..Default::default() };
        let parts = v.instances(&[2048], &[512], 0);
        assert_eq!(
            parts[0],
            InstancePart { kind: TensorKind::Input, index: 0, len: 2048, what: Exposed::Commitment, pack_bits: None }
        );
        assert_eq!(parts.iter().map(InstancePart::cells).sum::<usize>(), 513);
        assert!(v.hashes());
        assert_eq!(hash_rows(&parts, crate::chips::poseidon::PARTIAL_PER_ROW), 256 * 22 + 1);
        assert_eq!(hash_rows(&parts, 1), 256 * 72 + 1);
    }

    #[test]
    fn hidden_weights_come_last() {
        let hashed = Visibilities { weights: Visibility::Hashed, ..Default::default() };
        assert_eq!(hashed.validate(), Ok(()));
        assert!(hashed.hashes());
        let parts = hashed.instances(&[4], &[3], 61);
        assert_eq!(
            parts.last(),
            Some(&InstancePart {
                kind: TensorKind::Weights,
                index: 0,
                len: 61,
                what: Exposed::Commitment,
                pack_bits: None
            })
        );
        let public = Visibilities { weights: Visibility::Public, ..Default::default() };
        assert_eq!(public.instances(&[4], &[3], 61).iter().map(InstancePart::cells).sum::<usize>(), 3 + 61);
        let private = Visibilities { weights: Visibility::Private, ..Default::default() };
        assert_eq!(private.instances(&[4], &[3], 61).len(), 1);
    }

    #[test]
    fn packed_boundaries_need_fewer_hash_rows() {
        let packing = Packing { input: Some(24), output: None };
        let v = Visibilities { input: Visibility::Hashed, output: Visibility::Hashed, packing, ..Default::default() };
        assert!(v.packs());
        let parts = v.instances(&[2048], &[512], 0);
        assert_eq!(parts[0].pack_bits, Some(24));
        assert_eq!(parts[1].pack_bits, None);
        let per_row = crate::chips::poseidon::PARTIAL_PER_ROW;
        // 2048 values, 8 per element: 256 packing rows, then a chain over 256 elements.
        assert_eq!(hash_rows(&parts[..1], per_row), 256 + 32 * 22 + 1);
        let unpacked = Visibilities { packing: Packing::default(), ..v };
        assert!(!unpacked.packs());
        assert_eq!(hash_rows(&unpacked.instances(&[2048], &[512], 0)[..1], per_row), 256 * 22 + 1);
        // Packing applies to hashed tensors only.
        let public = Visibilities { input: Visibility::Public, packing, ..Default::default() };
        assert!(!public.packs());
        assert!(public.instances(&[4], &[1], 0).iter().all(|p| p.pack_bits.is_none()));
    }

    #[test]
    fn impossible_combinations_name_the_fix() {
        let fixed_input = Visibilities { input: Visibility::Fixed, ..Default::default() };
        assert!(fixed_input.validate().unwrap_err().contains("hint"));
        assert!("secret".parse::<Visibility>().is_err());
        assert_eq!("hashed".parse::<Visibility>(), Ok(Visibility::Hashed));
    }
}
