//! # zkinfer-prover
//!
//! Proving for zkinfer model circuits: SRS files and cache ([`srs`]) with ceremony
//! import ([`ptau`]), the compiled
//! model file ([`compiled`]), key generation and the proving-key file ([`keys`]), and
//! SHPLONK proving with the EVM-compatible transcript ([`prove`]), a memory guard
//! ([`resources`]). Every file is written atomically ([`fs`]).

#![deny(missing_docs)]

pub mod aggregate;
pub mod chain;
pub mod compiled;
pub mod error;
pub mod fs;
pub mod keys;
pub mod native;
pub mod prove;
pub mod ptau;
pub mod resources;
pub mod srs;

pub use error::{ProverError, Result};
