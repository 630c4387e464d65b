//! Support for the end-to-end suites: building small tract models in code
//! ([`cases`]), and running one model through every layer — tract's float
//! reference, zkinfer's float lowering, the integer reference and the circuit.

#![deny(missing_docs)]

pub mod cases;
pub mod fuzz;

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
    load_files(&onnx, &input)
}

/// The generated model with operators zkinfer cannot prove yet
/// (`tests/data/unsupported`, made by `scripts/make_unsupported_model.py`: a
/// two NonZero nodes).
pub fn load_unsupported() -> (OnnxModel, Vec<Vec<f64>>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join("unsupported");
    load_files(&dir.join("network.onnx"), &dir.join("input.json"))
}

/// Loads a model and its input file (EZKL's layout).
pub fn load_files(onnx: &std::path::Path, input: &std::path::Path) -> (OnnxModel, Vec<Vec<f64>>) {
    let data = read_input_file(input).expect("input file");
    let lens: Vec<usize> = data.tensors.iter().map(|t| t.len()).collect();
    let model = OnnxModel::load(onnx, data.shapes.as_deref(), &lens).expect("model loads");
    (model, data.tensors)
}

/// The bundled demo CNN (`examples/demo_cnn`) and its input.
pub fn load_demo_cnn() -> (OnnxModel, Vec<Vec<f64>>) {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/demo_cnn");
    load_files(&root.join("network.onnx"), &root.join("input.json"))
}

/// Lowers and compiles `onnx` for `inputs`.
pub fn prepare(onnx: OnnxModel, inputs: Vec<Vec<f64>>, opts: &CompileOptions) -> Prepared {
    let reference = onnx.run_float(&inputs).expect("tract runs");
    let fgraph = onnx.lower_weights(opts.hides_weights()).expect("lowers");
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

/// The bundled demo model and every artifact of its flow, as bytes.
pub struct DemoArtifacts {
    /// The ONNX model.
    pub onnx: Vec<u8>,
    /// Its input file.
    pub input_json: Vec<u8>,
    /// The compiled model file.
    pub compiled: Vec<u8>,
    /// The proving-key file.
    pub pk: Vec<u8>,
    /// The verifying-key file.
    pub vk: Vec<u8>,
    /// The verifier-parameters file.
    pub params: Vec<u8>,
    /// The proof file.
    pub proof: Vec<u8>,
    /// An SRS file (zkinfer format) for the circuit's size.
    pub srs: Vec<u8>,
}

/// Runs the demo model's whole flow in memory (SRS in a temporary directory).
pub fn demo_artifacts() -> DemoArtifacts {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/demo_cnn");
    let onnx = std::fs::read(root.join("network.onnx")).expect("demo model");
    let input_json = std::fs::read(root.join("input.json")).expect("demo input");
    let data = zkinfer_models::input::parse_input_json(&String::from_utf8_lossy(&input_json), &root).expect("input");
    let lens: Vec<usize> = data.tensors.iter().map(|t| t.len()).collect();
    let model = OnnxModel::load_bytes(&onnx, &root.join("network.onnx"), None, &lens).expect("model");
    let p = prepare(model, data.tensors, &CompileOptions::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let srs = zkinfer_prover::srs::SrsStore::new(dir.path()).get(p.compiled.shape.k).expect("srs");
    let pk = zkinfer_prover::keys::keygen(&p.compiled, &srs).expect("keygen");
    let proof = zkinfer_prover::prove::prove(&p.compiled, &pk, &srs.params, p.witness()).expect("prove");
    DemoArtifacts {
        onnx,
        input_json,
        compiled: p.compiled.to_bytes(),
        vk: pk.verifying_key().to_bytes(),
        pk: pk.to_bytes(),
        params: srs.verifier_params().to_bytes(),
        proof: proof.to_bytes(),
        srs: zkinfer_prover::srs::to_bytes(&srs.params, &srs.origin),
    }
}
