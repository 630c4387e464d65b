//! `report.json`: the figures of one `zkinfer run`.

use serde::{Deserialize, Serialize};

/// Figures of one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Model name.
    pub model: String,
    /// log2 of the circuit's rows.
    pub k: u32,
    /// Rows used by the tallest lane.
    pub rows: usize,
    /// Advice columns.
    pub advice_columns: usize,
    /// Fixed columns (before selector compression).
    pub fixed_columns: usize,
    /// Lookup arguments.
    pub lookups: usize,
    /// Fixed-point scale (fractional bits).
    pub scale: u32,
    /// Bits of the range-checked values.
    pub value_bits: u32,
    /// Bits per range-table limb.
    pub lookup_bits: u32,
    /// Multiply-accumulate terms proven.
    pub linear_terms: usize,
    /// Seconds to load, lower, calibrate and plan.
    pub compile_s: f64,
    /// Seconds to load or generate the SRS.
    pub srs_s: f64,
    /// Seconds of key generation.
    pub setup_s: f64,
    /// Seconds to compute the witness and prove.
    pub prove_s: f64,
    /// Seconds to verify.
    pub verify_s: f64,
    /// Size of the proof transcript.
    pub proof_bytes: usize,
    /// Size of the proving-key file.
    pub pk_bytes: usize,
    /// Size of the verifying-key file.
    pub vk_bytes: usize,
    /// Peak resident memory of the whole run.
    pub peak_rss_mib: f64,
    /// Largest |circuit output − tract float output|, outputs dequantised.
    pub max_abs_error: f64,
    /// Whether the proof verified.
    pub verified: bool,
    /// Whether the SRS was generated locally (testing only).
    pub srs_testing_only: bool,
    /// Circuit outputs, dequantised.
    pub outputs: Vec<f64>,
    /// tract's float outputs.
    pub float_outputs: Vec<f64>,
    /// Digest of the circuit (halo2's hash of the verifying key), hex: proofs and
    /// verifying keys carry it.
    pub circuit_digest: String,
    /// Version of zkinfer that made it.
    pub zkinfer_version: String,
    /// Tensor visibility (e.g. `input hashed, output public, weights fixed`).
    #[serde(default)]
    pub visibility: String,
    /// The circuit profile (`fast` or `evm`).
    #[serde(default)]
    pub profile: String,
    /// Gas of the whole verifying transaction in the EVM (`run --evm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evm_gas: Option<u64>,
    /// Runtime bytecode of the Solidity verifier (`run --evm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evm_bytecode_bytes: Option<usize>,
    /// Calldata of the verifying call (`run --evm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calldata_bytes: Option<usize>,
    /// The prover core that made the proof (`halo2` or `native`).
    #[serde(default)]
    pub prover: String,
    /// Where its MSMs and NTTs ran: `cpu`, `gpu`, or `gpu (fell back to cpu:
    /// reason)`.
    #[serde(default)]
    pub engine: String,
    /// Seconds per phase of the native prover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prove_phases: Option<zkinfer_prover::native::PhaseTimes>,
}
