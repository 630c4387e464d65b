//! Nonlinear functions proven by table lookup.
//!
//! Each [`Func`] is tabulated at the graph scale `s` over the inputs
//! `[-2^(t-1), 2^(t-1))` (`t` = [`Func::table_bits`]): entry `x` holds
//! `round(f(x / 2^s) · 2^s)`. Inputs are clamped to the table first (the
//! functions here saturate, so the clamp costs at most `f`'s change beyond
//! [`DOMAIN`]). The float graph evaluates the same clamped function, so the
//! calibration measures exactly what the circuit proves.
//!
//! The *step* functions ([`Func::Positive`], [`Func::NonNegative`],
//! [`Func::IsZero`], [`Func::Sign`]) prove comparisons and signs. Their value
//! depends only on the sign of the input and on whether it is zero, and clamping
//! preserves both, so any table that contains `-1`, `0` and `1` is exact: they
//! use a 4-entry table over `[-2, 1]` ([`STEP_TABLE_BITS`]) whatever the scale.
//! Inputs are integers at the graph scale, so `x > 0` means `x ≥ 1` unit: a
//! comparison `a > b` is `Positive(a − b)`, exact on the quantised values (the
//! quantisation of `a` and `b` can still decide a near-tie differently from
//! floating point; the accuracy report shows that). Booleans are `0` and `1.0`
//! (`0` and `2^s` at the graph scale).

use serde::{Deserialize, Serialize};

/// Half-width of the input range a table aims to cover, in real units: beyond it
/// tanh and erf are within 3e-7 of their limits, sigmoid within 3.4e-4 — below the
/// quantisation error at the scales a table of this width allows.
pub const DOMAIN: f64 = 8.0;

/// Largest table: `2^16` entries per function.
pub const MAX_TABLE_BITS: u32 = 16;

/// Input bits of a step function's table: the inputs `[-2, 1]`, which hold
/// `-1`, `0` and `1` (every sign and zero-ness an integer input can have).
pub const STEP_TABLE_BITS: u32 = 2;

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
    /// `1` if `x > 0`, else `0` (Greater and Less of a difference).
    Positive,
    /// `1` if `x ≥ 0`, else `0` (GreaterOrEqual and LessOrEqual of a difference).
    NonNegative,
    /// `1` if `x = 0`, else `0` (Equal of a difference).
    IsZero,
    /// `-1`, `0` or `1`: the sign of `x` (ONNX Sign).
    Sign,
}

impl Func {
    /// Every function, in a fixed order.
    pub const ALL: [Func; 8] =
        [Func::Sigmoid, Func::Tanh, Func::Erf, Func::Exp, Func::Positive, Func::NonNegative, Func::IsZero, Func::Sign];

    /// The operator name: the ONNX (and tract element-wise) operator for the
    /// functions that are one, a descriptive name for the step functions that
    /// comparisons lower to.
    pub fn name(self) -> &'static str {
        match self {
            Func::Sigmoid => "Sigmoid",
            Func::Tanh => "Tanh",
            Func::Erf => "Erf",
            Func::Exp => "Exp",
            Func::Positive => "Positive",
            Func::NonNegative => "NonNegative",
            Func::IsZero => "IsZero",
            Func::Sign => "Sign",
        }
    }

    /// The function for a tract element-wise operator name (Sigmoid, Tanh, Erf,
    /// Exp, Sign); `None` for other names, the internal step functions' included.
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.iter().copied().filter(|f| !f.is_step() || *f == Func::Sign).find(|f| f.name() == name)
    }

    /// Whether this is a step function: its value depends only on the sign and
    /// zero-ness of the input, so clamping to any range containing `[-1, 1]`
    /// leaves it exact.
    pub fn is_step(self) -> bool {
        matches!(self, Func::Positive | Func::NonNegative | Func::IsZero | Func::Sign)
    }

    /// Table input bits at `scale`: [`STEP_TABLE_BITS`] for step functions,
    /// [`table_bits`] for the others.
    pub fn table_bits(self, scale: u32) -> u32 {
        if self.is_step() {
            STEP_TABLE_BITS
        } else {
            table_bits(scale)
        }
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
            Func::Positive => f64::from(u8::from(x > 0.0)),
            Func::NonNegative => f64::from(u8::from(x >= 0.0)),
            Func::IsZero => f64::from(u8::from(x == 0.0)),
            Func::Sign => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
        }
    }

    /// What the float graph computes: the function of the input clamped to
    /// `±DOMAIN` (for step functions the same as [`Func::eval`]).
    pub fn eval_clamped(self, x: f64) -> f64 {
        self.eval(x.clamp(-DOMAIN, DOMAIN))
    }

    /// The table entry for the fixed-point input `x` at scale `scale`.
    pub fn table_value(self, x: i64, scale: u32) -> i64 {
        let unit = f64::powi(2.0, scale as i32);
        (self.eval(x as f64 / unit) * unit).round() as i64
    }
}

/// Table input bits of the smooth functions at `scale`: enough to cover
/// `±DOMAIN`, at most [`MAX_TABLE_BITS`] (a higher scale covers less;
/// calibration sees the error). See [`Func::table_bits`].
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

    #[test]
    fn step_functions_are_exact_on_their_small_table() {
        assert_eq!(table_range(STEP_TABLE_BITS), (-2, 1));
        for func in [Func::Positive, Func::NonNegative, Func::IsZero, Func::Sign] {
            assert!(func.is_step());
            for scale in [0, 4, 8, 16, 24] {
                assert_eq!(func.table_bits(scale), STEP_TABLE_BITS);
                let unit = 1i64 << scale;
                let (lo, hi) = table_range(func.table_bits(scale));
                for x in [-(1i64 << 40), -1000 * unit, -unit, -3, -2, -1, 0, 1, 2, 3, unit, 1000 * unit, 1 << 40] {
                    // What the circuit proves: the table entry of the clamped input.
                    let proven = func.table_value(x.clamp(lo, hi), scale);
                    let exact = match func {
                        Func::Positive => i64::from(x > 0) * unit,
                        Func::NonNegative => i64::from(x >= 0) * unit,
                        Func::IsZero => i64::from(x == 0) * unit,
                        _ => x.signum() * unit,
                    };
                    assert_eq!(proven, exact, "{func:?}({x}) at scale {scale}");
                    // And the float graph's clamped function agrees with the exact one.
                    let xf = x as f64 / unit as f64;
                    assert_eq!(func.eval_clamped(xf) * unit as f64, exact as f64, "{func:?}({xf}) in float");
                }
            }
        }
        assert!(!Func::Sigmoid.is_step());
        assert_eq!(Func::Sigmoid.table_bits(8), table_bits(8));
    }

    #[test]
    fn only_onnx_operators_are_found_by_name() {
        assert_eq!(Func::from_name("Sign"), Some(Func::Sign));
        assert_eq!(Func::from_name("Exp"), Some(Func::Exp));
        assert_eq!(Func::from_name("Positive"), None);
        assert_eq!(Func::from_name("IsZero"), None);
    }
}
