//! Errors of the prover.

use std::path::PathBuf;

use zkinfer_verifier::artifact::ArtifactError;

/// Errors of SRS handling, key generation and proving.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not what it should be.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// An SRS file cannot be used.
    #[error("SRS {path}: {reason}\n  hint: pass a KZG parameters file for BN254 (zkinfer's or halo2's format), or omit --srs to use the local cache")]
    Srs {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Files that do not belong together.
    #[error("{0}")]
    Mismatch(String),
    /// The circuit layer failed.
    #[error(transparent)]
    Circuit(#[from] zkinfer_circuits::CircuitError),
    /// The model layer failed.
    #[error(transparent)]
    Model(#[from] zkinfer_models::Error),
    /// halo2 failed.
    #[error("halo2 {stage} failed: {message}")]
    Halo2 {
        /// Key generation or proving.
        stage: &'static str,
        /// halo2's error.
        message: String,
    },
    /// The native prover failed.
    #[error("native prover: {0}")]
    Native(#[from] crate::native::NativeError),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, ProverError>;
