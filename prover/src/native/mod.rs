//! zkinfer's own PLONKish prover core, producing proofs in halo2's format (same
//! transcript, same arguments, same SHPLONK opening) so that halo2-axiom's
//! `verify_proof`, the `zkinfer-verifier` crate and the generated Solidity
//! verifiers accept them unchanged.
//!
//! What differs from halo2-axiom's prover:
//! - every MSM and NTT goes through the [`engine`] traits, chosen at run time
//!   ([`select()`]): the CPU, or with the `gpu` feature an NVIDIA GPU through
//!   ICICLE's API (`gpu`);
//! - the proving key is only the verifying key: fixed columns, selectors and the
//!   copy permutation are recomputed by the same synthesis pass that produces the
//!   witness ([`synth`]), so nothing but the VK is stored or loaded;
//! - the quotient is evaluated one base-domain coset of the extended domain at a
//!   time ([`quotient`]), one term (a group of gates, a lookup, a permutation
//!   chunk) after another, with only a bounded set of columns' coset values
//!   resident at once ([`resident`]).
//!
//! Limits (reported as errors, not proven wrongly): one advice phase, no
//! challenges, no shuffle arguments, circuits that never read assigned values back.

pub mod arguments;
pub mod engine;
pub mod expr;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod multiopen;
mod prover;
pub mod quotient;
pub mod resident;
pub mod select;
pub mod synth;
pub mod terms;

pub use engine::{CpuEngine, Engines, MsmEngine, NttEngine};
pub use prover::{create_proof, PhaseTimes};
pub use select::{select, select_for_comparison, EngineChoice, Selection};

/// What can go wrong in the native prover.
#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    /// The circuit cannot be laid out as the key expects.
    #[error("circuit: {0}")]
    Circuit(String),
    /// The witness does not satisfy an argument (the proof would not verify).
    #[error("witness: {0}")]
    Witness(String),
    /// A feature of the constraint system the native prover does not implement.
    #[error("the native prover does not support {0}; use --prover halo2")]
    Unsupported(String),
    /// Writing the transcript failed.
    #[error("transcript: {0}")]
    Transcript(std::io::Error),
    /// An internal invariant failed.
    #[error("internal error in the native prover: {0}")]
    Internal(String),
}
