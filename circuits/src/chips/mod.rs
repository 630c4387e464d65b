//! halo2 chips. Each has a `Config` (columns, gates and lookups built in
//! `configure`), a plain-data witness computed by a reference function, and an
//! `assign` that lays that witness out, so tests can tamper with a witness and
//! assert which constraint catches it.

pub mod dot;
pub mod elementwise;
pub mod range_table;

use halo2_axiom::halo2curves::ff::PrimeField;

/// A signed integer as a field element (`-v` maps to `p - v`).
pub fn fe<F: PrimeField>(v: i128) -> F {
    if v >= 0 {
        F::from_u128(v as u128)
    } else {
        -F::from_u128(v.unsigned_abs())
    }
}

/// `2^n` as a field element.
pub fn pow2<F: PrimeField>(n: u32) -> F {
    F::from(2).pow_vartime([n as u64])
}
