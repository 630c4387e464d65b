//! Poseidon over BN254: the parameters ([`spec`]), the permutation and the tensor
//! commitment zkinfer exposes for `hashed` tensors ([`native`]).
//!
//! The permutation is circomlib's (iden3) Poseidon: `x^5`, 8 full rounds,
//! circomlib's partial rounds, constants from the reference Grain generator;
//! tests check it against circomlibjs's outputs. The commitment is a sponge of
//! width [`WIDTH`] documented in [`native::hash`].

pub mod native;
pub mod spec;

pub use native::{hash, hash_integers, hash_packed};

/// Width of the commitment's permutation (circomlib's `Poseidon(8)`).
pub const WIDTH: usize = 9;

/// Elements absorbed per permutation.
pub const RATE: usize = WIDTH - 1;

#[cfg(test)]
mod tests;
