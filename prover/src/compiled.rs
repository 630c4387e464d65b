//! The compiled-model file: the quantised graph, the circuit shape and the settings
//! that produced them. Everything `setup` and `prove` need; no ONNX or tract.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha3::{Digest, Keccak256};
use zkinfer_circuits::compile::{CompileOptions, Compiled, ScaleTrial};
use zkinfer_circuits::layout::Layout;
use zkinfer_circuits::plan::Estimate;
use zkinfer_circuits::visibility::Visibilities;
use zkinfer_circuits::{CircuitShape, Program};
use zkinfer_models::ir::Graph;
use zkinfer_verifier::artifact::{self, ArtifactError, Kind};
use zkinfer_verifier::ModelInfo;

/// The SRS the keys of a compiled model were made with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SrsRecord {
    /// Where it came from: a file, or generated locally.
    pub origin: String,
    /// Whether it is a locally generated SRS, fit for testing only.
    pub testing_only: bool,
}

/// Settings of a compilation, as recorded in `settings.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Format version of the compiled model these settings describe.
    pub format_version: u16,
    /// Version of zkinfer that compiled it.
    pub zkinfer_version: String,
    /// Digest of the quantised graph and circuit shape (keys are bound to it), hex.
    #[serde(default)]
    pub model_digest: String,
    /// The model file compiled.
    pub source: String,
    /// Fixed-point scale (fractional bits).
    pub scale: u32,
    /// Bits of the value range.
    pub value_bits: u32,
    /// Bits per range-table limb.
    pub lookup_bits: u32,
    /// log2 of the circuit's rows.
    pub k: u32,
    /// Rows used by the tallest lane.
    pub rows: usize,
    /// Largest |circuit − float| output error on the calibration input.
    pub calibration_max_abs_error: f64,
    /// Visibility of inputs, outputs and weights.
    pub visibility: Visibilities,
    /// The planner's estimate.
    pub estimate: Estimate,
    /// Options given to the compiler.
    pub options: CompileOptions,
    /// Scales tried by calibration.
    pub trials: Vec<ScaleTrial>,
    /// The SRS of the keys, once `setup` has run.
    #[serde(default)]
    pub srs: Option<SrsRecord>,
}

/// A compiled model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompiledModel {
    /// Model metadata.
    pub model: ModelInfo,
    /// The quantised graph.
    pub graph: Graph,
    /// The circuit shape.
    pub shape: CircuitShape,
    /// How it was compiled.
    pub settings: Settings,
}

impl CompiledModel {
    /// Packages a compilation.
    pub fn new(
        compiled: Compiled,
        name: &str,
        source: &str,
        input_shapes: Vec<Vec<usize>>,
        options: CompileOptions,
    ) -> Self {
        let output_shapes = compiled.graph.outputs.iter().map(|o| o.shape.clone()).collect();
        let shape = compiled.plan.shape.clone();
        // `compile` has checked the parameter vector.
        let weights = zkinfer_models::params::committed_params(&compiled.graph).map_or(0, |p| p.len());
        let settings = Settings {
            format_version: Kind::CompiledModel.version(),
            zkinfer_version: env!("CARGO_PKG_VERSION").to_string(),
            model_digest: String::new(),
            source: source.to_string(),
            scale: compiled.graph.scale,
            value_bits: shape.ranges.value_bits,
            lookup_bits: shape.ranges.lookup_bits,
            k: shape.k,
            rows: compiled.plan.estimate.rows,
            calibration_max_abs_error: compiled.max_abs_error,
            visibility: shape.visibility,
            estimate: compiled.plan.estimate.clone(),
            options,
            trials: compiled.trials,
            srs: None,
        };
        let mut model = CompiledModel {
            model: ModelInfo {
                name: name.to_string(),
                scale: compiled.graph.scale,
                input_shapes,
                output_shapes,
                weights,
            },
            graph: compiled.graph,
            shape,
            settings,
        };
        model.settings.model_digest = artifact::hex(&model.digest());
        model
    }

    /// Identity of the graph and circuit shape (what keys are bound to).
    pub fn digest(&self) -> [u8; 32] {
        let body = artifact::encode(Kind::CompiledModel, &(&self.graph, &self.shape));
        Keccak256::digest(body).into()
    }

    /// The graph with its placement on the circuit.
    pub fn program(&self) -> Arc<Program> {
        let s = &self.shape;
        let layout = Layout::build(&self.graph, s.dot_lanes as usize, s.dot_width as usize, s.elem_lanes as usize);
        Arc::new(Program { graph: self.graph.clone(), layout })
    }

    /// Encodes the file.
    pub fn to_bytes(&self) -> Vec<u8> {
        artifact::encode(Kind::CompiledModel, self)
    }

    /// Decodes and checks a file named `what`.
    pub fn from_bytes(bytes: &[u8], what: &str) -> Result<Self, ArtifactError> {
        let m: CompiledModel = artifact::decode(Kind::CompiledModel, bytes, what)?;
        let corrupt =
            |reason: String| ArtifactError::Corrupt { what: what.to_string(), kind: Kind::CompiledModel, reason };
        m.graph.validate().map_err(&corrupt)?;
        m.shape.validate().map_err(&corrupt)?;
        Ok(m)
    }
}
