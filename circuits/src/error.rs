//! Errors of planning and witness generation.

/// Errors of the circuit layer.
#[derive(Debug, thiserror::Error)]
pub enum CircuitError {
    /// A value leaves the range the circuit checks.
    #[error("node `{node}` ({op}): {detail} (the circuit checks {bits}-bit values)\n  hint: this input leaves the range the circuit was compiled for; recompile with this input or a larger --value-bits, or use a smaller --scale")]
    OutOfRange {
        /// Node name.
        node: String,
        /// Operator.
        op: String,
        /// Which value and how large.
        detail: String,
        /// Bits the circuit checks.
        bits: u32,
    },
    /// No circuit size up to the limit fits the model.
    #[error("the model needs {rows} rows, more than k = {max_k} allows\n  hint: raise --max-k (memory grows with 2^k) or use a smaller model")]
    TooLarge {
        /// Rows needed by the best layout.
        rows: usize,
        /// The largest k allowed.
        max_k: u32,
    },
    /// The model has no inputs: its outputs are constants.
    #[error("the model has no inputs, so its outputs are constants and there is nothing to prove\n  hint: publish the outputs as they are, or export the model with the inputs they should depend on")]
    NothingToProve,
    /// The requested settings are inconsistent.
    #[error("invalid circuit settings: {0}")]
    Settings(String),
    /// The model layer failed (quantisation, evaluation).
    #[error(transparent)]
    Model(#[from] zkinfer_models::Error),
    /// halo2 reported an error.
    #[error("halo2: {0}")]
    Halo2(String),
}
