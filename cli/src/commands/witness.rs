//! `zkinfer witness`: the circuit's outputs on an input, without keys or a proof
//! (EZKL's `gen-witness`). The witness is generated exactly as `prove` generates
//! it, so an input that does not fit the compiled circuit (a value out of the
//! checked range, a key outside a table) fails here, naming the node, in a
//! fraction of a proof's time.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use serde::Serialize;
use zkinfer_models::arith::dequantize;
use zkinfer_prover::fs;
use zkinfer_prover::prove::witness;

use crate::pipeline::{read_compiled, read_input, Workdir};
use crate::ui::Ui;

/// Arguments of `witness`.
#[derive(Args, Debug)]
pub struct WitnessArgs {
    /// Working directory with model.compiled [default: the current directory].
    pub dir: Option<PathBuf>,
    /// Input file (EZKL layout).
    #[arg(long, short)]
    pub input: PathBuf,
    /// The compiled model [default: DIR/model.compiled].
    #[arg(long)]
    pub compiled: Option<PathBuf>,
    /// Where to write the outputs [default: DIR/witness.json].
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

/// One model output of `witness.json`.
#[derive(Debug, Serialize)]
struct OutputTensor {
    shape: Vec<usize>,
    /// Dequantised values, row-major.
    values: Vec<f64>,
    /// The integers the circuit holds (value · 2^scale), as decimal strings.
    fixed_point: Vec<String>,
}

/// `witness.json`.
#[derive(Debug, Serialize)]
struct WitnessReport {
    model: String,
    scale: u32,
    k: u32,
    rows: usize,
    outputs: Vec<OutputTensor>,
}

/// Runs `witness`.
pub fn run(args: WitnessArgs, ui: &Ui) -> Result<()> {
    let dir = Workdir(args.dir.clone().unwrap_or_else(|| PathBuf::from(".")));
    let compiled = read_compiled(&args.compiled.clone().unwrap_or_else(|| dir.compiled()))?;
    let input = read_input(&args.input)?;
    let step = ui.step("generating the witness");
    let w = witness(&compiled, &input.tensors)?;
    step.done();
    let scale = compiled.graph.scale;
    let mut values = w.outputs.iter();
    let outputs: Vec<OutputTensor> = compiled
        .graph
        .outputs
        .iter()
        .map(|o| {
            let fixed: Vec<i128> = values.by_ref().take(o.elems.len()).copied().collect();
            OutputTensor {
                shape: o.shape.clone(),
                values: fixed.iter().map(|&v| dequantize(v, scale)).collect(),
                fixed_point: fixed.iter().map(|v| v.to_string()).collect(),
            }
        })
        .collect();
    let report = WitnessReport {
        model: compiled.model.name.clone(),
        scale,
        k: compiled.shape.k,
        rows: compiled.settings.rows,
        outputs,
    };
    let out = args.out.unwrap_or_else(|| dir.0.join("witness.json"));
    fs::write_atomic(&out, &serde_json::to_vec_pretty(&report)?)?;
    let flat: Vec<f64> = report.outputs.iter().flat_map(|o| o.values.iter().copied()).collect();
    println!(
        "the input fits the circuit (k = {}): outputs {}",
        report.k,
        crate::ui::outputs_summary(&flat, &out.display().to_string())
    );
    Ok(())
}
