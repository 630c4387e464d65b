//! Whole-model circuits on real peer models under MockProver: the honest witness
//! satisfies every constraint and the public outputs equal the integer reference;
//! a wrong public output and a wrong internal value are rejected.

use std::sync::Arc;

use halo2_axiom::dev::{MockProver, VerifyFailure};
use halo2_axiom::halo2curves::bn256::Fr;
use zkinfer_circuits::compile::{compile, CompileOptions};
use zkinfer_circuits::{ModelCircuit, Program, Witness};
use zkinfer_models::eval::evaluate;
use zkinfer_models::input::read_input_file;
use zkinfer_models::onnx::OnnxModel;
use zkinfer_models::peer::peer_model;
use zkinfer_models::quantize_inputs;

struct Setup {
    circuit: ModelCircuit,
    witness: Witness,
    k: u32,
}

fn setup(name: &str, scale: Option<u32>) -> Setup {
    let (onnx, input) = peer_model(name);
    let data = read_input_file(&input).unwrap();
    let lens: Vec<usize> = data.tensors.iter().map(|t| t.len()).collect();
    let model = OnnxModel::load(&onnx, data.shapes.as_deref(), &lens).unwrap();
    let reference = model.run_float(&data.tensors).unwrap();
    let fgraph = model.lower().unwrap();
    let opts = CompileOptions {
        scale,
        ..Default::default()
    };
    let compiled = compile(&fgraph, &data.tensors, &reference, &opts).unwrap();
    let shape = compiled.plan.shape.clone();
    let trace = evaluate(&compiled.graph, &quantize_inputs(&data.tensors, compiled.graph.scale).unwrap()).unwrap();
    let program = Arc::new(Program {
        graph: compiled.graph,
        layout: compiled.plan.layout,
    });
    let witness = Witness::generate(&program, &shape, trace).unwrap();
    Setup {
        k: shape.k,
        circuit: ModelCircuit::new(shape, program),
        witness,
    }
}

fn mock(s: &Setup, witness: Witness, instances: Vec<Fr>) -> Result<(), Vec<VerifyFailure>> {
    let circuit = s.circuit.clone().with_witness(Arc::new(witness));
    MockProver::run(s.k, &circuit, vec![instances]).unwrap().verify()
}

#[test]
fn one_layer_models_satisfy_their_circuits() {
    for name in ["1l_mlp", "1l_conv", "1l_max_pool", "1l_average"] {
        let s = setup(name, None);
        assert!(s.k <= 11, "{name}: k = {}", s.k);
        let good = s.witness.instances::<Fr>();
        mock(&s, s.witness.clone(), good.clone()).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let mut bad = good;
        bad[0] += Fr::one();
        let errs = mock(&s, s.witness.clone(), bad).expect_err("changed output must fail");
        assert!(errs.iter().any(|e| matches!(e, VerifyFailure::Permutation { .. })), "{name}: {errs:?}");
    }
}

#[test]
fn cnn_satisfies_its_circuit_and_rejects_a_wrong_activation() {
    let s = setup("4l_relu_conv_fc", Some(8));
    let good = s.witness.instances::<Fr>();
    mock(&s, s.witness.clone(), good.clone()).unwrap();
    // Corrupt one activation (a fused rescale+ReLU result) in the middle of the network.
    let layout = &s.circuit.program.as_ref().unwrap().layout;
    let (lane, row) = layout
        .elem
        .iter()
        .enumerate()
        .flat_map(|(l, rows)| rows.iter().enumerate().map(move |(r, j)| (l, r, j.template)))
        .filter(|(_, _, t)| *t == zkinfer_circuits::shape::Template::RescaleRelu)
        .map(|(l, r, _)| (l, r))
        .nth(100)
        .unwrap();
    let mut w = s.witness.clone();
    w.elem_rows[lane][row].c += 1;
    assert!(mock(&s, w, good).is_err(), "corrupted activation must be rejected");
}

