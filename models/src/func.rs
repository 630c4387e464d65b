//! Nonlinear functions proven by table lookup.
//!
//! Each [`Func`] is tabulated over the inputs `[-2^(t-1), 2^(t-1))` (`t` =
//! [`Func::table_bits`]) at its table scale `u` ([`Func::table_scale`]: the
//! graph scale `s`, capped at 12 for the `±8` functions so that a table never
//! exceeds `2^16` rows): entry `x` holds `round(f(x / 2^u) · 2^s)`. Above the
//! cap the quantiser rescales a lookup's inputs to `u` first, and the outputs
//! keep all `s` fractional bits. Inputs are clamped to the table first (the
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
//!
//! Functions that do not saturate get a domain chosen for them, and the lowering
//! brings their inputs there first:
//!
//! - [`Func::Log`] is tabulated over the *positive* inputs `[1, 2^t]` units, i.e.
//!   `(2^-s, 2^(t-s)]` (`(0, 16]` at the usual `t = s + 4`): an input below one
//!   unit reads `ln(2^-s)`, one above the top `ln 16` ([`LOG_DOMAIN`]); the
//!   lowering reads larger inputs through `4 · ln(x^(1/4))` instead.
//! - [`Func::Sin`] and [`Func::Cos`] are tabulated over `±4` ([`PERIODIC_DOMAIN`],
//!   `t = s + 3`); the lowering first reduces the argument modulo `2π` into
//!   `[-π, π]` (exact integer arithmetic, [`crate::fgraph::FOp::Wrap`]).
//! - [`Func::SoftplusTail`] is `softplus(x) − max(x, 0) = ln(1 + e^-|x|)`, which
//!   saturates (to within 3.4e-4 of 0 beyond `±8`); Softplus is `max(x, 0)` plus it.
//! - [`Func::Asin`] and [`Func::Atanh`] are tabulated over `[-1, 1]` (Atanh
//!   clamped at `±(1 − 2^-16)`, where it is 5.9); [`Func::Atan`] over `[-1, 1]`
//!   too, the lowering reaching larger inputs through `atan x = π/2 − atan(1/x)`.
//! - [`Func::Tan`] is tabulated over `±1.5` (`tan 1.5 = 14.1`, where the table
//!   saturates); the lowering first reduces the argument modulo `π`.
//! - [`Func::Asinh`] and [`Func::Acosh`] are tabulated over `±8` and `[1, 8]`,
//!   like the saturating functions (beyond, they read their value at the edge).
//! - [`Func::ExpNeg`] is `e^x` for the non-positive inputs softmax exponentiates
//!   (`x − max`): tabulated over `[1 − 2^t, 0]` units, i.e. `[−16, 0]` at the usual
//!   `t = s + 4`, twice the reach of [`Func::Exp`]'s `±8` for the same table.
//!   `e^−16 ≈ 1.1e-7` rounds to 0 at every scale below 22, so a softmax of many
//!   classes no longer reads a floor of `e^−8 ≈ 3.4e-4` for each unlikely class.

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

/// Largest input of [`Func::Log`]'s table in real units: `ln` of anything
/// larger reads `ln 16`.
pub const LOG_DOMAIN: f64 = 16.0;

/// Smallest input [`Func::Log`] takes in the float graph: one quantisation unit at
/// the finest scale calibration tries. The circuit clamps at one unit of its
/// table's scale, `2^-u` ([`Func::table_scale`]), instead (an input that small is
/// all quantisation error anyway).
pub const LOG_MIN: f64 = 1.0 / 65536.0;

/// Half-width of [`Func::Sin`]'s and [`Func::Cos`]'s tables in real units: it
/// holds `[-π, π]`, where the periodic reduction puts every input, with room for
/// its rounding.
pub const PERIODIC_DOMAIN: f64 = 4.0;

/// Where [`Func::Atanh`]'s table stops short of its poles at `±1`.
pub const ATANH_EDGE: f64 = 1.0 - 1.0 / 65536.0;

/// Where [`Func::Tan`]'s table stops short of its poles at `±π/2`.
pub const TAN_EDGE: f64 = 1.5;

/// A function proven by lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Func {
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh(x)`.
    Tanh,
    /// The error function.
    Erf,
    /// `e^x` (clamped to `±DOMAIN` like the others; softmax uses
    /// [`Func::ExpNeg`]).
    Exp,
    /// `1` if `x > 0`, else `0` (Greater and Less of a difference).
    Positive,
    /// `1` if `x ≥ 0`, else `0` (GreaterOrEqual and LessOrEqual of a difference).
    NonNegative,
    /// `1` if `x = 0`, else `0` (Equal of a difference).
    IsZero,
    /// `-1`, `0` or `1`: the sign of `x` (ONNX Sign).
    Sign,
    /// `ln x` over the positive inputs `[1, 2^t]` units (see the module notes).
    Log,
    /// `ln(1 + e^-|x|) = softplus(x) − max(x, 0)`: the part of softplus that
    /// saturates, so that it can be tabulated over `±DOMAIN`.
    SoftplusTail,
    /// `sin x` over `±PERIODIC_DOMAIN` (inputs reduced modulo `2π` first).
    Sin,
    /// `cos x` over `±PERIODIC_DOMAIN` (inputs reduced modulo `2π` first).
    Cos,
    /// `asin x` over `[-1, 1]`.
    Asin,
    /// `atan x` over `[-1, 1]` (larger inputs through `π/2 − atan(1/x)`).
    Atan,
    /// `atanh x` over `±ATANH_EDGE`.
    Atanh,
    /// `asinh x` over `±DOMAIN`.
    Asinh,
    /// `acosh x` over `[1, DOMAIN]`.
    Acosh,
    /// `tan x` over `±TAN_EDGE` (inputs reduced modulo `π` first).
    Tan,
    /// `e^x` for `x ≤ 0` (softmax's max-subtracted inputs) over
    /// `[−2·DOMAIN, 0]`: a positive input reads `e^0 = 1`.
    ExpNeg,
}

impl Func {
    /// Every function, in a fixed order.
    pub const ALL: [Func; 19] = [
        Func::Sigmoid,
        Func::Tanh,
        Func::Erf,
        Func::Exp,
        Func::Positive,
        Func::NonNegative,
        Func::IsZero,
        Func::Sign,
        Func::Log,
        Func::SoftplusTail,
        Func::Sin,
        Func::Cos,
        Func::Asin,
        Func::Atan,
        Func::Atanh,
        Func::Asinh,
        Func::Acosh,
        Func::Tan,
        Func::ExpNeg,
    ];

    /// The smooth (non-step) functions, in a fixed order.
    pub const SMOOTH: [Func; 15] = [
        Func::Sigmoid,
        Func::Tanh,
        Func::Erf,
        Func::Exp,
        Func::Log,
        Func::SoftplusTail,
        Func::Sin,
        Func::Cos,
        Func::Asin,
        Func::Atan,
        Func::Atanh,
        Func::Asinh,
        Func::Acosh,
        Func::Tan,
        Func::ExpNeg,
    ];

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
            Func::Log => "Log",
            Func::SoftplusTail => "SoftplusTail",
            Func::Sin => "Sin",
            Func::Cos => "Cos",
            Func::Asin => "Asin",
            Func::Atan => "Atan",
            Func::Atanh => "Atanh",
            Func::Asinh => "Asinh",
            Func::Acosh => "Acosh",
            Func::Tan => "Tan",
            Func::ExpNeg => "ExpNeg",
        }
    }

    /// The function for a tract element-wise operator that is exactly one lookup
    /// of its input (Sigmoid, Tanh, Erf, Exp, Sign, Asin, Atanh, Asinh, Acosh); `None`
    /// for other names: the internal step functions, and the functions whose
    /// lowering first brings the input into their domain (Ln, Sin, Cos, Tan, Atan,
    /// Softplus).
    pub fn from_name(name: &str) -> Option<Func> {
        [Func::Sigmoid, Func::Tanh, Func::Erf, Func::Exp, Func::Sign, Func::Asin, Func::Atanh, Func::Asinh, Func::Acosh]
            .into_iter()
            .find(|f| f.name() == name)
    }

    /// Whether this is a step function: its value depends only on the sign and
    /// zero-ness of the input, so clamping to any range containing `[-1, 1]`
    /// leaves it exact.
    pub fn is_step(self) -> bool {
        matches!(self, Func::Positive | Func::NonNegative | Func::IsZero | Func::Sign)
    }

    /// Table input bits at graph scale `scale`: [`STEP_TABLE_BITS`] for step
    /// functions, else the table's scale ([`Func::table_scale`]) plus the bits
    /// that cover the domain (at most [`MAX_TABLE_BITS`], which the table scale
    /// ensures).
    pub fn table_bits(self, scale: u32) -> u32 {
        if self.is_step() {
            return STEP_TABLE_BITS;
        }
        self.table_scale(scale) + self.domain_bits()
    }

    /// Table input bits beyond the table's scale that cover the domain: 4 for
    /// `±DOMAIN` (and Log's `(0, 16]`), 3 for Sin and Cos's `±PERIODIC_DOMAIN`,
    /// 2 for the functions over `±1` or `±1.5` (with room for rounding).
    fn domain_bits(self) -> u32 {
        match self {
            Func::Sin | Func::Cos => PERIODIC_DOMAIN.log2() as u32 + 1,
            Func::Asin | Func::Atan | Func::Atanh | Func::Tan => 2,
            _ => DOMAIN.log2() as u32 + 1,
        }
    }

    /// The fixed-point scale of the table's *inputs* at graph scale `scale`:
    /// the graph scale while the table covers the whole domain within
    /// [`MAX_TABLE_BITS`], else the largest scale at which it does (12 for the
    /// `±8` functions). The outputs are always at the graph scale, so a model
    /// at scale 16 keeps 16 fractional bits through its sigmoids, and their
    /// tables still hold `±8` in `2^16` rows; the quantiser rescales the inputs
    /// to the table's scale first. Step functions take the graph scale.
    pub fn table_scale(self, scale: u32) -> u32 {
        if self.is_step() {
            scale
        } else {
            scale.min(MAX_TABLE_BITS - self.domain_bits())
        }
    }

    /// The fixed-point inputs `[lo, hi]` of this function's table of `bits`
    /// bits (`2^bits` entries): `[1, 2^bits]` for [`Func::Log`], whose domain is
    /// positive, `[1 − 2^bits, 0]` for [`Func::ExpNeg`], whose domain is
    /// non-positive, [`table_range`] for the others.
    pub fn input_range(self, bits: u32) -> (i64, i64) {
        match self {
            Func::Log => (1, 1i64 << bits),
            Func::ExpNeg => (1 - (1i64 << bits), 0),
            _ => table_range(bits),
        }
    }

    /// The real inputs `[lo, hi]` the float graph clamps to before evaluating
    /// the function ([`Func::eval_clamped`]).
    pub fn domain(self) -> (f64, f64) {
        match self {
            Func::Log => (LOG_MIN, LOG_DOMAIN),
            Func::Sin | Func::Cos => (-PERIODIC_DOMAIN, PERIODIC_DOMAIN),
            Func::Asin | Func::Atan => (-1.0, 1.0),
            Func::Atanh => (-ATANH_EDGE, ATANH_EDGE),
            Func::Acosh => (1.0, DOMAIN),
            Func::Tan => (-TAN_EDGE, TAN_EDGE),
            Func::ExpNeg => (-2.0 * DOMAIN, 0.0),
            _ => (-DOMAIN, DOMAIN),
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
            Func::Exp | Func::ExpNeg => x.exp(),
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
            Func::Log => x.ln(),
            Func::SoftplusTail => (-x.abs()).exp().ln_1p(),
            Func::Sin => x.sin(),
            Func::Cos => x.cos(),
            Func::Asin => x.asin(),
            Func::Atan => x.atan(),
            Func::Atanh => x.atanh(),
            Func::Asinh => x.asinh(),
            Func::Acosh => x.acosh(),
            Func::Tan => x.tan(),
        }
    }

    /// What the float graph computes: the function of the input clamped to
    /// [`Func::domain`] (for step functions the same as [`Func::eval`]).
    pub fn eval_clamped(self, x: f64) -> f64 {
        let (lo, hi) = self.domain();
        self.eval(x.clamp(lo, hi))
    }

    /// The table entry at graph scale `scale` for the fixed-point input `x`,
    /// which is at the table's scale ([`Func::table_scale`]): the function,
    /// clamped to its domain (entries past a pole or a domain edge hold the
    /// edge's value), at the graph scale.
    pub fn table_value(self, x: i64, scale: u32) -> i64 {
        let input_unit = f64::powi(2.0, self.table_scale(scale) as i32);
        let unit = f64::powi(2.0, scale as i32);
        (self.eval_clamped(x as f64 / input_unit) * unit).round() as i64
    }
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
        assert_eq!(Func::Sigmoid.table_bits(8), 12);
        let (lo, hi) = table_range(Func::Sigmoid.table_bits(8));
        assert_eq!((lo, hi), (-2048, 2047));
        assert!((hi as f64 / 256.0) >= DOMAIN - 1.0 / 256.0);
        assert_eq!(Func::Sigmoid.table_bits(16), MAX_TABLE_BITS);
        assert_eq!(Func::Sigmoid.table_value(0, 8), 128);
        assert_eq!(Func::Tanh.table_value(-2048, 8), -256);
    }

    #[test]
    fn tables_past_the_cap_take_coarser_inputs_and_keep_fine_outputs() {
        for f in Func::SMOOTH {
            for scale in 1..=24 {
                let u = f.table_scale(scale);
                assert!(u <= scale && f.table_bits(scale) <= MAX_TABLE_BITS, "{f:?} at {scale}");
                assert_eq!(f.table_bits(scale), u + f.domain_bits(), "{f:?} covers its domain at {scale}");
            }
        }
        assert_eq!(Func::Sigmoid.table_scale(12), 12);
        assert_eq!(Func::Sigmoid.table_scale(16), 12);
        assert_eq!((Func::Sin.table_scale(16), Func::Asin.table_scale(16)), (13, 14));
        assert_eq!(Func::Positive.table_scale(16), 16, "step functions read the graph scale");
        // Input 1.0 at the table's scale 12, output at scale 16.
        let want = (Func::Sigmoid.eval(1.0) * 65536.0).round() as i64;
        assert_eq!(Func::Sigmoid.table_value(1 << 12, 16), want);
        let (lo, _) = Func::Tanh.input_range(Func::Tanh.table_bits(16));
        assert_eq!(Func::Tanh.table_value(lo, 16), -65536, "the table still reaches -8");
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
        assert_eq!(Func::Sigmoid.table_bits(8), 12);
    }

    #[test]
    fn softmax_exponential_reaches_zero() {
        for scale in [8, 12] {
            let bits = Func::ExpNeg.table_bits(scale);
            assert_eq!(bits, Func::Exp.table_bits(scale), "the same table size as Exp");
            let (lo, hi) = Func::ExpNeg.input_range(bits);
            assert_eq!((hi, hi - lo + 1), (0, 1i64 << bits), "2^bits non-positive inputs");
            assert_eq!(Func::ExpNeg.table_value(0, scale), 1 << scale);
            assert_eq!(Func::ExpNeg.table_value(lo, scale), 0, "e^-16 rounds to 0 at scale {scale}");
            assert_eq!(Func::ExpNeg.table_value(-(1 << scale), scale), Func::Exp.table_value(-(1 << scale), scale));
        }
        // Exp's symmetric table stops at -8, whose value is a whole unit at scale 12.
        let (lo, _) = Func::Exp.input_range(Func::Exp.table_bits(12));
        assert_eq!(Func::Exp.table_value(lo, 12), 1);
        assert_eq!(Func::ExpNeg.eval_clamped(3.0), 1.0, "positive inputs read e^0");
        assert_eq!(Func::ExpNeg.eval_clamped(-40.0), (-16f64).exp());
    }

    #[test]
    fn only_onnx_operators_are_found_by_name() {
        assert_eq!(Func::from_name("Sign"), Some(Func::Sign));
        assert_eq!(Func::from_name("Exp"), Some(Func::Exp));
        assert_eq!(Func::from_name("Positive"), None);
        assert_eq!(Func::from_name("IsZero"), None);
    }

    #[test]
    fn new_functions_have_their_domains() {
        for (x, want) in [(1.0, 0.0), (0.5, -std::f64::consts::LN_2), (16.0, 16f64.ln())] {
            assert!((Func::Log.eval(x) - want).abs() < 1e-12);
        }
        assert_eq!(Func::Log.eval_clamped(1e6), LOG_DOMAIN.ln(), "Log clamps at the top");
        assert_eq!(Func::Log.eval_clamped(-1.0), LOG_MIN.ln(), "and below");
        for x in [-30.0, -2.0, 0.0, 0.7, 12.0] {
            let softplus = (1.0 + f64::exp(x)).ln();
            assert!((x.max(0.0) + Func::SoftplusTail.eval(x) - softplus).abs() < 1e-12, "softplus({x})");
        }
        assert!(Func::SoftplusTail.eval(DOMAIN) < 3.4e-4, "the tail saturates");
        assert!((Func::Sin.eval(1.0) - 1f64.sin()).abs() < 1e-15 && (Func::Cos.eval(1.0) - 1f64.cos()).abs() < 1e-15);
        // Table sizes: ±8 (Log: (0, 16]) at s + 4 bits, ±4 at s + 3 for Sin and Cos,
        // all capped at MAX_TABLE_BITS.
        assert_eq!(Func::Log.table_bits(8), 12);
        assert_eq!(Func::Log.input_range(12), (1, 4096));
        assert_eq!(Func::Log.table_value(1, 8), (-8.0 * std::f64::consts::LN_2 * 256.0).round() as i64);
        assert_eq!(Func::Log.table_value(4096, 8), (16f64.ln() * 256.0).round() as i64);
        assert_eq!(Func::Sin.table_bits(8), 11);
        assert_eq!(Func::Sin.input_range(11), (-1024, 1023));
        let top = f64::from(Func::Sin.input_range(11).1 as i32) / 256.0;
        assert!(top > std::f64::consts::PI + 0.5, "the table holds [-π, π] with room");
        assert_eq!(Func::Cos.table_bits(16), MAX_TABLE_BITS);
        for f in Func::SMOOTH {
            assert!(!f.is_step());
            assert!(f.table_bits(16) <= MAX_TABLE_BITS);
        }
        assert_eq!(Func::ALL.iter().filter(|f| !f.is_step()).count(), Func::SMOOTH.len());
        for name in ["Log", "Ln", "Sin", "Cos", "SoftplusTail", "Tan", "Atan"] {
            assert_eq!(Func::from_name(name), None, "{name} is lowered in several steps");
        }
    }
}
