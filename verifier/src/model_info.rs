//! What a verifier needs to know about the model to interpret public outputs.

use serde::{Deserialize, Serialize};

/// Model metadata carried by keys and proofs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Model name (file stem).
    pub name: String,
    /// Fixed-point scale: outputs are integers divided by `2^scale`.
    pub scale: u32,
    /// Shape of each input.
    pub input_shapes: Vec<Vec<usize>>,
    /// Shape of each output.
    pub output_shapes: Vec<Vec<usize>>,
    /// Number of hidden weights (the parameters a `public` weights proof exposes
    /// and a `hashed` one commits to); 0 when weights are `fixed`.
    pub weights: usize,
}
