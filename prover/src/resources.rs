//! A resource guard: before key generation or proving, estimate the peak memory of
//! the circuit and refuse — with the estimate — when the machine does not have it,
//! instead of being killed by the kernel half-way.

use zkinfer_circuits::circuit::DEGREE;
use zkinfer_circuits::CircuitShape;

use crate::error::{ProverError, Result};
use crate::prove::ProverKind;

/// Memory the process needs besides the circuit (binary, tract, buffers).
const BASE_BYTES: f64 = 24.0 * 1024.0 * 1024.0;
/// Bytes per row per polynomial at peak, measured with the native prover
/// (2026-11-26, this project's circuits): lenet_5 (k = 14) peaks at 2.0 × 32
/// bytes × rows × polynomials beyond the base, nanoGPT's segments (k = 17–18)
/// at 1.5× and nanoGPT as one circuit (k = 20, 11.4 GiB) at 1.5×; 2.2× keeps a
/// margin over all of them. (halo2's own prover needed 5.5×.)
const BYTES_PER_CELL: f64 = 2.2 * 32.0;

/// The same for halo2-axiom's prover, which holds each polynomial in Lagrange
/// and coefficient form, extends several at a time to the 4n coset, and keeps
/// fixed and permutation polynomials in the proving key in two forms (fitted on
/// this project's circuits, k = 10–15).
const HALO2_BYTES_PER_CELL: f64 = 5.5 * 32.0;

/// Polynomials of a shape that the prover and key generation hold.
fn polynomials(shape: &CircuitShape) -> usize {
    let perm_products = shape.equality_columns().div_ceil(DEGREE - 2);
    shape.advice_columns() + shape.fixed_columns() + shape.equality_columns() + 3 * shape.lookups() + perm_products + 8
}

/// Estimated peak resident memory, in bytes, of key generation or proving
/// with `prover`.
pub fn estimate_peak_bytes(shape: &CircuitShape, prover: ProverKind) -> u64 {
    let n = (1u64 << shape.k) as f64;
    let per_cell = match prover {
        ProverKind::Native => BYTES_PER_CELL,
        ProverKind::Halo2 => HALO2_BYTES_PER_CELL,
    };
    (BASE_BYTES + per_cell * n * polynomials(shape) as f64) as u64
}

use zkinfer_models::memory::size;
pub use zkinfer_models::memory::{available_bytes, MEMORY_LIMIT_ENV};

/// Refuses `what` (e.g. "key generation") with `prover` when its estimated
/// peak memory exceeds `available` bytes.
pub fn check_memory(shape: &CircuitShape, prover: ProverKind, what: &str, available: Option<u64>) -> Result<()> {
    let needed = estimate_peak_bytes(shape, prover);
    match available {
        Some(available) if needed > available => Err(ProverError::Mismatch(format!(
            "{what} for this circuit (k = {}, {} advice columns) needs about {} but only {} are available\n  hint: compile a smaller circuit (lower --max-k or --scale), free memory, or pass --ignore-memory-estimate to try anyway",
            shape.k,
            shape.advice_columns(),
            size(needed),
            size(available)
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_grows_with_k_and_guard_refuses_what_does_not_fit() {
        let small = CircuitShape { k: 10, ..CircuitShape::default() };
        let big = CircuitShape { k: 26, ..CircuitShape::default() };
        assert!(
            estimate_peak_bytes(&big, ProverKind::Native)
                > 1000 * estimate_peak_bytes(&small, ProverKind::Native) / 100
        );
        assert!(check_memory(&small, ProverKind::Native, "proving", Some(1 << 30)).is_ok());
        let err = check_memory(&big, ProverKind::Native, "key generation", Some(1 << 30)).unwrap_err().to_string();
        assert!(
            err.contains("key generation") && err.contains("GiB") && err.contains("--ignore-memory-estimate"),
            "{err}"
        );
        assert!(check_memory(&big, ProverKind::Native, "proving", None).is_ok(), "unknown availability does not block");
    }

    #[test]
    fn estimate_covers_the_measured_lenet_peak() {
        // lenet_5 as compiled by default: k = 14, 1 dot lane x 32, 1 element lane,
        // 8-bit limbs, 24-bit values at scale 16; measured peak 176–181 MiB for
        // key generation and proving (native prover).
        let shape = CircuitShape {
            k: 14,
            dot_lanes: 1,
            dot_width: 32,
            elem_lanes: 1,
            ranges: zkinfer_circuits::shape::Ranges { lookup_bits: 8, value_bits: 24, scale: 16 },
            templates: vec![
                zkinfer_circuits::shape::Template::Range,
                zkinfer_circuits::shape::Template::Rescale,
                zkinfer_circuits::shape::Template::MulRescale,
            ],
            instances: 10,
            compact: false,
            visibility: Default::default(),
            variable_dots: false,
        };
        let mib = estimate_peak_bytes(&shape, ProverKind::Native) as f64 / (1024.0 * 1024.0);
        assert!((181.0..300.0).contains(&mib), "{mib} MiB");
        let halo2 = estimate_peak_bytes(&shape, ProverKind::Halo2) as f64 / (1024.0 * 1024.0);
        assert!(halo2 > 2.0 * mib, "halo2's prover holds more: {halo2} MiB");
    }
}
