//! # zkinfer-models
//!
//! ONNX models, loaded with tract (feature `onnx`, on by default), lowered to a
//! float element graph ([`fgraph`]), simplified ([`optimize`]) and quantised to
//! zkinfer's fixed-point graph IR ([`ir`]), whose integer reference evaluator
//! ([`eval`]) is the ground truth the circuit must equal exactly.
//!
//! Without the `onnx` feature the crate holds only the IR, the quantiser and the
//! evaluator, which is all the circuit and verifier crates need.

#![deny(missing_docs)]

pub mod arith;
pub mod error;
pub mod eval;
pub mod fgraph;
pub mod func;
pub mod input;
pub mod ir;
pub mod memory;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod optimize;
pub mod params;
pub mod peer;
pub mod quantize;
pub mod saturation;

pub use error::{Error, Result};

/// Quantises float inputs at `scale` fractional bits.
pub fn quantize_inputs(inputs: &[Vec<f64>], scale: u32) -> Result<Vec<Vec<i64>>> {
    inputs
        .iter()
        .enumerate()
        .map(|(i, data)| {
            data.iter()
                .enumerate()
                .map(|(j, &x)| {
                    arith::quantize(x, scale).ok_or(Error::Quantize {
                        what: format!("input {i} element {j}"),
                        value: x,
                        scale,
                    })
                })
                .collect()
        })
        .collect()
}
