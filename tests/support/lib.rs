//! Support for the end-to-end suites: building small tract models in code
//! ([`cases`]), and running one model through every layer — tract's float
//! reference, zkinfer's float lowering, the integer reference and the circuit.

#![deny(missing_docs)]

pub mod cases;

use std::sync::Arc;

use halo2_axiom::dev::{MockProver, VerifyFailure};
use halo2_axiom::halo2curves::bn256::Fr;
use zkinfer_circuits::compile::{compile, CompileOptions};
use zkinfer_circuits::{ModelCircuit, Witness};
use zkinfer_models::input::read_input_file;
use zkinfer_models::onnx::OnnxModel;
use zkinfer_models::peer::peer_model;
use zkinfer_prover::compiled::CompiledModel;
use zkinfer_prover::prove::witness;

/// A model with an input, compiled.
pub struct Prepared {
    /// The tract model.
    pub onnx: OnnxModel,
    /// The input, flattened per model input.
    pub inputs: Vec<Vec<f64>>,
    /// tract's float outputs on the input.
    pub reference: Vec<Vec<f64>>,
    /// Largest |zkinfer float lowering − tract| over the outputs.
    pub lowering_error: f64,
    /// The compiled model.
    pub compiled: CompiledModel,
}

/// Largest absolute difference between two lists of tensors.
pub fn max_diff(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    assert_eq!(a.len(), b.len(), "output counts differ");
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| {
            assert_eq!(x.len(), y.len(), "output lengths differ");
            x.iter().zip(y).map(|(p, q)| (p - q).abs())
        })
        .fold(0.0, f64::max)
}

/// Loads a peer model with its own input.
pub fn load_peer(name: &str) -> (OnnxModel, Vec<Vec<f64>>) {
    let (onnx, input) = peer_model(name);
    let data = read_input_file(&input).expect("input file");
    let lens: Vec<usize> = data.tensors.iter().map(|t| t.len()).collect();
    let model = OnnxModel::load(&onnx, data.shapes.as_deref(), &lens).expect("model loads");
    (model, data.tensors)
}

/// Lowers and compiles `onnx` for `inputs`.
pub fn prepare(onnx: OnnxModel, inputs: Vec<Vec<f64>>, opts: &CompileOptions) -> Prepared {
    let reference = onnx.run_float(&inputs).expect("tract runs");
    let fgraph = onnx.lower().expect("lowers");
    let lowered = fgraph.outputs_of(&fgraph.evaluate(&inputs));
    let lowering_error = max_diff(&reference, &lowered);
    let c = compile(&fgraph, &inputs, &reference, opts).expect("compiles");
    let compiled = CompiledModel::new(c, "case", "case", onnx.input_shapes.clone(), opts.clone());
    Prepared { onnx, inputs, reference, lowering_error, compiled }
}

impl Prepared {
    /// The witness for the prepared input.
    pub fn witness(&self) -> Witness {
        witness(&self.compiled, &self.inputs).expect("witness")
    }

    /// The integer reference outputs, dequantised.
    pub fn integer_outputs(&self) -> Vec<f64> {
        let scale = f64::powi(2.0, self.compiled.graph.scale as i32);
        self.witness().outputs.iter().map(|v| *v as f64 / scale).collect()
    }

    /// Runs MockProver on `witness` with `instances` as the public outputs.
    pub fn mock(&self, witness: Witness, instances: Vec<Fr>) -> Result<(), Vec<VerifyFailure>> {
        let circuit =
            ModelCircuit::new(self.compiled.shape.clone(), self.compiled.program()).with_witness(Arc::new(witness));
        MockProver::run(self.compiled.shape.k, &circuit, vec![instances]).expect("synthesis").verify()
    }

    /// Asserts the circuit accepts the integer reference's outputs exactly and
    /// rejects each of them changed by one unit (a sample of positions).
    pub fn assert_circuit_equals_reference(&self, what: &str) {
        let w = self.witness();
        let good: Vec<Fr> = w.instances();
        self.mock(w.clone(), good.clone())
            .unwrap_or_else(|e| panic!("{what}: honest witness rejected: {:?}", &e[..e.len().min(3)]));
        let positions = [0, good.len() / 2, good.len() - 1];
        for &i in &positions {
            let mut bad = good.clone();
            bad[i] += Fr::one();
            assert!(self.mock(w.clone(), bad).is_err(), "{what}: output {i} changed by one was accepted");
        }
    }
}
