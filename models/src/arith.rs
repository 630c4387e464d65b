//! Fixed-point arithmetic shared by the quantiser, the integer reference and the
//! circuits' witness generation. Keeping one definition here is what makes
//! "circuit output == integer reference" hold by construction.

/// Largest magnitude a quantised constant may have (weights, biases, inputs).
/// Far below the BN254 field size, so every intermediate stays a small integer.
pub const MAX_CONST_MAGNITUDE: f64 = (1u64 << 62) as f64;

/// `round(x * 2^scale)` (ties away from zero), or `None` when `x` is not finite or
/// the result does not fit [`MAX_CONST_MAGNITUDE`].
pub fn quantize(x: f64, scale: u32) -> Option<i64> {
    let v = (x * f64::powi(2.0, scale as i32)).round();
    (v.is_finite() && v.abs() < MAX_CONST_MAGNITUDE).then_some(v as i64)
}

/// `q / 2^scale` as a float.
pub fn dequantize(q: i128, scale: u32) -> f64 {
    q as f64 / f64::powi(2.0, scale as i32)
}

/// Division by `2^shift` rounding half up: `floor((z + 2^(shift-1)) / 2^shift)`.
/// The circuit proves this with a remainder in `[0, 2^shift)`.
pub fn rescale(z: i128, shift: u32) -> i128 {
    if shift == 0 {
        return z;
    }
    (z + (1i128 << (shift - 1))).div_euclid(1i128 << shift)
}

/// The remainder that accompanies [`rescale`]: `z + 2^(shift-1) - out * 2^shift`,
/// always in `[0, 2^shift)`.
pub fn rescale_remainder(z: i128, shift: u32) -> i128 {
    if shift == 0 {
        return 0;
    }
    (z + (1i128 << (shift - 1))).rem_euclid(1i128 << shift)
}

/// Number of bits needed to hold `v` as a two's-complement signed value, i.e. the
/// smallest `b` with `-2^(b-1) <= v < 2^(b-1)`.
pub fn signed_bits(v: i128) -> u32 {
    let m = if v < 0 { !v } else { v };
    129 - m.leading_zeros()
}

/// Number of bits needed to hold a non-negative `v`: smallest `b` with `v < 2^b`.
pub fn unsigned_bits(v: i128) -> u32 {
    debug_assert!(v >= 0);
    128 - v.leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescale_rounds_half_up_for_both_signs() {
        assert_eq!(rescale(5, 1), 3); // 2.5 -> 3
        assert_eq!(rescale(-5, 1), -2); // -2.5 -> -2
        assert_eq!(rescale(-6, 1), -3);
        assert_eq!(rescale(7, 2), 2); // 1.75 -> 2
        assert_eq!(rescale(-7, 2), -2);
        for z in -300i128..300 {
            let s = 4;
            let out = rescale(z, s);
            let r = rescale_remainder(z, s);
            assert!((0..16).contains(&r));
            assert_eq!(z + 8 - out * 16, r);
        }
    }

    #[test]
    fn bit_widths() {
        assert_eq!(signed_bits(0), 1);
        assert_eq!(signed_bits(-1), 1);
        assert_eq!(signed_bits(1), 2);
        assert_eq!(signed_bits(127), 8);
        assert_eq!(signed_bits(-128), 8);
        assert_eq!(signed_bits(128), 9);
        assert_eq!(unsigned_bits(0), 0);
        assert_eq!(unsigned_bits(255), 8);
        assert_eq!(unsigned_bits(256), 9);
    }

    #[test]
    fn quantize_rejects_non_finite_and_huge() {
        assert_eq!(quantize(0.5, 7), Some(64));
        assert_eq!(quantize(-0.5, 7), Some(-64));
        assert_eq!(quantize(f64::NAN, 7), None);
        assert_eq!(quantize(1e30, 7), None);
    }
}

/// `floor(sqrt(n))` for `n ≥ 0`.
pub fn isqrt(n: i128) -> i128 {
    if n <= 0 {
        return 0;
    }
    let mut r = (n as f64).sqrt() as i128;
    while r * r > n {
        r -= 1;
    }
    while (r + 1) * (r + 1) <= n {
        r += 1;
    }
    r
}

/// Division rounding half up, for a positive divisor: `c = floor((2n + d) / 2d)`
/// with the remainder `r = 2n + d − 2cd ∈ [0, 2d)` that the circuit range-checks.
pub fn div_round(n: i128, d: i128) -> (i128, i128) {
    let c = (2 * n + d).div_euclid(2 * d);
    (c, 2 * n + d - 2 * c * d)
}

#[cfg(test)]
mod div_tests {
    use super::div_round;

    #[test]
    fn integer_square_roots_are_floors() {
        for n in [0i128, 1, 2, 3, 4, 15, 16, 17, 1 << 40, (1 << 62) + 12345, 99_999_999_999_999] {
            let r = super::isqrt(n);
            assert!(r * r <= n && (r + 1) * (r + 1) > n, "{n}");
        }
    }

    #[test]
    fn division_rounds_half_up() {
        assert_eq!(div_round(7, 2).0, 4, "3.5 rounds up");
        assert_eq!(div_round(-7, 2).0, -3, "-3.5 rounds up");
        assert_eq!(div_round(10, 3).0, 3);
        assert_eq!(div_round(11, 3).0, 4);
        for (n, d) in [(48, 7), (-80, 16), (0, 5), (123_456, 789)] {
            let (c, r) = div_round(n, d);
            assert!((0..2 * d).contains(&r));
            assert_eq!(2 * n + d, 2 * c * d + r);
        }
    }
}
