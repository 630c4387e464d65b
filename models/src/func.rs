//! Nonlinear functions proven by table lookup.
//!
//! Each [`Func`] is tabulated at the graph scale `s` over the inputs
//! `[-2^(t-1), 2^(t-1))` (`t` = [`table_bits`]): entry `x` holds
//! `round(f(x / 2^s) · 2^s)`. Inputs are clamped to the table first (the
//! functions here saturate, so the clamp costs at most `f`'s change beyond
//! [`DOMAIN`]). The float graph evaluates the same clamped function, so the
//! calibration measures exactly what the circuit proves.

use serde::{Deserialize, Serialize};

/// Half-width of the input range a table aims to cover, in real units: beyond it
/// tanh and erf are within 3e-7 of their limits, sigmoid within 3.4e-4 — below the
/// quantisation error at the scales a table of this width allows.
pub const DOMAIN: f64 = 8.0;

/// Largest table: `2^16` entries per function.
pub const MAX_TABLE_BITS: u32 = 16;

/// A function proven by lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Func {
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// The error function.
    Erf,
    /// `e^x` (clamped to `±DOMAIN` like the others: exact for softmax, whose
    /// inputs are at most 0 after subtracting the maximum).
    Exp,
}

impl Func {
    /// Every function, in a fixed order.
    pub const ALL: [Func; 4] = [Func::Sigmoid, Func::Tanh, Func::Erf, Func::Exp];

    /// The ONNX operator name.
    pub fn name(self) -> &'static str {
        match self {
            Func::Sigmoid => "Sigmoid",
            Func::Tanh => "Tanh",
            Func::Erf => "Erf",
            Func::Exp => "Exp",
        }
    }

    /// The function for an operator name (tract's element-wise op names).
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// The exact function.
    pub fn eval(self, x: f64) -> f64 {
        match self {
            Func::Sigmoid => {
                if x >= 0.0 {
                    1.0 / (1.0 + (-x).exp())
                } else {
                    let e = x.exp();
                    e / (1.0 + e)
                }
            }
            Func::Tanh => x.tanh(),
            Func::Erf => erf(x),
            Func::Exp => x.exp(),
        }
    }

    /// What the float graph computes: the function of the input clamped to
    /// `±DOMAIN`.
    pub fn eval_clamped(self, x: f64) -> f64 {
        self.eval(x.clamp(-DOMAIN, DOMAIN))
    }

    /// The table entry for the fixed-point input `x` at scale `scale`.
    pub fn table_value(self, x: i64, scale: u32) -> i64 {
        let unit = f64::powi(2.0, scale as i32);
        (self.eval(x as f64 / unit) * unit).round() as i64
    }
}

/// Table input bits at `scale`: enough to cover `±DOMAIN`, at most
/// [`MAX_TABLE_BITS`] (a higher scale covers less; calibration sees the error).
pub fn table_bits(scale: u32) -> u32 {
    (scale + DOMAIN.log2() as u32 + 1).min(MAX_TABLE_BITS)
}

/// The input range `[lo, hi]` of a table of `bits` bits.
pub fn table_range(bits: u32) -> (i64, i64) {
    (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
}

/// The error function, to within 1.2e-7 (Numerical Recipes' `erfc` by Chebyshev
/// fitting; deterministic, no platform `erf` needed).
fn erf(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    if x >= 0.0 {
        1.0 - erfc
    } else {
        erfc - 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_match_known_values() {
        assert!((Func::Sigmoid.eval(0.0) - 0.5).abs() < 1e-12);
        assert!((Func::Sigmoid.eval(2.0) - 0.880_797_077_977_882_3).abs() < 1e-12);
        assert!((Func::Sigmoid.eval(-800.0)).abs() < 1e-12, "no overflow for large negative inputs");
        assert!((Func::Tanh.eval(0.5) - 0.462_117_157_260_009_8).abs() < 1e-12);
        for (x, want) in [
            (0.0, 0.0),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (-2.0, -0.995_322_265_018_952_7),
        ] {
            assert!((Func::Erf.eval(x) - want).abs() < 2e-7, "erf({x})");
        }
    }

    #[test]
    fn tables_cover_the_domain_until_capped() {
        assert_eq!(table_bits(8), 12);
        let (lo, hi) = table_range(table_bits(8));
        assert_eq!((lo, hi), (-2048, 2047));
        assert!((hi as f64 / 256.0) >= DOMAIN - 1.0 / 256.0);
        assert_eq!(table_bits(16), MAX_TABLE_BITS);
        assert_eq!(Func::Sigmoid.table_value(0, 8), 128);
        assert_eq!(Func::Tanh.table_value(-2048, 8), -256);
    }
}
