//! `zkinfer hash`: the Poseidon commitment of a model input, or of a compiled
//! model's hidden weights, computed outside any circuit, so an app can compare it
//! with the commitment a proof exposes for a `hashed` input (enrolment: store it;
//! verification: match it) or for `hashed` weights (the model owner publishes it;
//! every proof made with that model shows the same value).

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use zkinfer_circuits::halo2_axiom::halo2curves::ff::PrimeField;
use zkinfer_circuits::poseidon::hash_integers;
use zkinfer_models::params::committed_params;
use zkinfer_models::quantize_inputs;
pub use zkinfer_verifier::api::field_decimal;

use crate::pipeline::{read_compiled, read_input, Workdir};
use crate::ui::Ui;

/// Arguments of `hash`.
#[derive(Args, Debug)]
pub struct HashArgs {
    /// Working directory with model.compiled (its scale and input shapes decide
    /// the quantised values that are hashed).
    pub dir: Option<PathBuf>,
    /// Input file (EZKL layout).
    #[arg(long, short)]
    pub input: Option<PathBuf>,
    /// Also the commitment of the compiled model's hidden weights (compiled with
    /// --weights-visibility other than fixed).
    #[arg(long)]
    pub weights: bool,
    /// The compiled model [default: DIR/model.compiled].
    #[arg(long)]
    pub compiled: Option<PathBuf>,
}

/// The commitment as `0x`-prefixed big-endian hex (how Solidity and JS print it).
pub fn field_hex<F: PrimeField<Repr = [u8; 32]>>(f: &F) -> String {
    let mut be = f.to_repr();
    be.reverse();
    format!("0x{}", zkinfer_verifier::artifact::hex(&be))
}

/// Runs `hash`: prints one JSON object with each input's commitment.
pub fn run(args: HashArgs, _ui: &Ui) -> Result<()> {
    let dir = Workdir(args.dir.clone().unwrap_or_else(|| PathBuf::from(".")));
    let compiled = read_compiled(&args.compiled.clone().unwrap_or_else(|| dir.compiled()))?;
    if args.input.is_none() && !args.weights {
        bail!("nothing to hash\n  hint: pass --input x.json, --weights, or both");
    }
    let mut out = serde_json::json!({ "scale": compiled.graph.scale });
    if let Some(path) = &args.input {
        out["inputs"] = hash_inputs(&compiled, path)?;
    }
    if args.weights {
        let params = committed_params(&compiled.graph).map_err(anyhow::Error::msg)?;
        if params.is_empty() {
            bail!(
                "the model in {} has fixed weights: nothing is hidden, the verifying key binds them\n  hint: compile with --weights-visibility hashed",
                dir.0.display()
            );
        }
        let values: Vec<i128> = params.iter().map(|(_, v)| i128::from(*v)).collect();
        let digest = hash_integers(&values);
        out["weights"] = serde_json::json!({
            "elements": values.len(),
            "poseidon": field_decimal(&digest),
            "poseidon_hex": field_hex(&digest),
        });
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Each input's commitment, as JSON.
fn hash_inputs(
    compiled: &zkinfer_prover::compiled::CompiledModel,
    path: &std::path::Path,
) -> Result<serde_json::Value> {
    let input = read_input(path)?;
    let shapes = &compiled.model.input_shapes;
    if input.tensors.len() != shapes.len() {
        bail!(
            "{} holds {} input tensors but the model takes {}\n  hint: pass the input file of this model",
            path.display(),
            input.tensors.len(),
            shapes.len()
        );
    }
    for (i, (tensor, shape)) in input.tensors.iter().zip(shapes).enumerate() {
        let want: usize = shape.iter().product();
        if tensor.len() != want {
            bail!(
                "input {i} of {} has {} values but the model's input {i} has shape {shape:?} ({want} values)",
                path.display(),
                tensor.len()
            );
        }
    }
    let scale = compiled.graph.scale;
    let quantised = quantize_inputs(&input.tensors, scale)?;
    let inputs: Vec<serde_json::Value> = quantised
        .iter()
        .enumerate()
        .map(|(i, values)| {
            let wide: Vec<i128> = values.iter().map(|v| i128::from(*v)).collect();
            let digest = hash_integers(&wide);
            serde_json::json!({
                "input": i,
                "elements": values.len(),
                "poseidon": field_decimal(&digest),
                "poseidon_hex": field_hex(&digest),
            })
        })
        .collect();
    Ok(serde_json::Value::Array(inputs))
}

#[cfg(test)]
mod tests {
    use zkinfer_circuits::halo2_axiom::halo2curves::bn256::Fr;

    use super::*;

    #[test]
    fn field_elements_print_in_decimal_and_hex() {
        assert_eq!(field_decimal(&Fr::from(0)), "0");
        assert_eq!(field_decimal(&Fr::from(1234567890123u64)), "1234567890123");
        assert_eq!(
            field_decimal(&-Fr::from(1)),
            "21888242871839275222246405745257275088548364400416034343698204186575808495616"
        );
        assert_eq!(field_hex(&Fr::from(255)), format!("0x{}ff", "0".repeat(62)));
    }
}
