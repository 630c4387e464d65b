//! # zkinfer-verifier
//!
//! Verifies zkinfer proofs. Light by design: depends on neither tract nor the
//! prover, and builds for `wasm32-unknown-unknown` so phones and browsers can check
//! proofs.
//!
//! - [`artifact`]: the versioned, checksummed envelope of every file;
//! - [`vk`], [`proof`], [`params`]: the verifying key, proof and verifier-parameter files;
//! - [`transcript`]: the Keccak transcript shared with EVM verifiers;
//! - [`verify()`]: checks that key, parameters and proof belong together, then verifies;
//! - [`api`]: verification from file bytes and instance strings, what the
//!   JavaScript bindings export;
//! - `wasm` (feature `wasm`): those bindings, for wasm-bindgen (`verify`,
//!   `proof_instances`, `proof_outputs`);
//! - `evm` (feature `evm`): Solidity verifier generation, solc, an in-process EVM.

#![deny(missing_docs)]

pub mod aggregate;
pub mod api;
pub mod artifact;
pub mod chain;
#[cfg(feature = "evm")]
pub mod evm;
pub mod model_info;
pub mod params;
pub mod proof;
pub mod transcript;
pub mod verify;
pub mod vk;
#[cfg(feature = "wasm")]
pub mod wasm;

pub use model_info::ModelInfo;
pub use params::VerifierParams;
pub use proof::Proof;
pub use verify::{verify, verify_raw, VerifyError};
pub use vk::VerifyingKey;
