//! `zkinfer hash`: the Poseidon commitment of a model input, computed outside any
//! circuit, so an app can compare it with the commitment a proof exposes for a
//! `hashed` input (enrolment: store it; verification: match it).

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use zkinfer_circuits::halo2_axiom::halo2curves::ff::PrimeField;
use zkinfer_circuits::poseidon::hash_integers;
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
    pub input: PathBuf,
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
    let input = read_input(&args.input)?;
    let shapes = &compiled.model.input_shapes;
    if input.tensors.len() != shapes.len() {
        bail!(
            "{} holds {} input tensors but the model takes {}\n  hint: pass the input file of this model",
            args.input.display(),
            input.tensors.len(),
            shapes.len()
        );
    }
    for (i, (tensor, shape)) in input.tensors.iter().zip(shapes).enumerate() {
        let want: usize = shape.iter().product();
        if tensor.len() != want {
            bail!(
                "input {i} of {} has {} values but the model's input {i} has shape {shape:?} ({want} values)",
                args.input.display(),
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
    let out = serde_json::json!({ "scale": scale, "inputs": inputs });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
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
