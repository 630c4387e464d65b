//! halo2 chips. Each has a `Config` (columns, gates and lookups built in
//! `configure`), a plain-data witness computed by a reference function, and an
//! `assign` that lays that witness out, so tests can tamper with a witness and
//! assert which constraint catches it.

pub mod compact;
pub mod dot;
pub mod elementwise;
pub mod func_table;
pub mod hidden;
pub mod poseidon;
pub mod range_table;

use halo2_axiom::halo2curves::ff::PrimeField;

/// A signed integer as a field element (`-v` maps to `p - v`).
pub fn fe<F: PrimeField>(v: i128) -> F {
    let magnitude = v.unsigned_abs();
    // `from_u128` goes through 64 doublings; almost every value fits a u64.
    let f = match u64::try_from(magnitude) {
        Ok(small) => F::from(small),
        Err(_) => F::from_u128(magnitude),
    };
    if v < 0 {
        -f
    } else {
        f
    }
}

/// `2^n` as a field element.
pub fn pow2<F: PrimeField>(n: u32) -> F {
    F::from(2).pow_vartime([n as u64])
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_axiom::halo2curves::bn256::Fr;

    #[test]
    fn signed_integers_map_to_the_field() {
        for v in [0i128, 1, -1, 12345, -12345, (1 << 64) - 1, 1 << 64, -(1 << 64), (1 << 100) + 7, i128::MIN + 1] {
            let want = if v >= 0 { Fr::from_u128(v as u128) } else { -Fr::from_u128(v.unsigned_abs()) };
            assert_eq!(fe::<Fr>(v), want, "{v}");
        }
    }
}
