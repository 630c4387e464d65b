//! `zkinfer calibrate`: compile a model from several sample inputs. Every scale
//! is tried on every sample; the error that counts is the worst over the
//! samples, and the value range covers them all (plus headroom). The trade-off
//! (scale, circuit size, cost, error) is printed and written to
//! `calibration.json`, and before anything is reported as done, every sample's
//! witness is generated against the chosen circuit, so settings that would fail
//! at proving time are refused here, naming the sample.

use std::path::PathBuf;

use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use serde::Serialize;
use zkinfer_circuits::compile::{compile_samples, Sample, ScaleTrial};
use zkinfer_models::onnx::OnnxModel;
use zkinfer_prover::compiled::CompiledModel;
use zkinfer_prover::fs;
use zkinfer_prover::prove::witness;

use crate::pipeline::{ensure_model_exists, model_name, read_input, write_compiled, CompileFlags, Workdir};
use crate::ui::Ui;

/// Arguments of `calibrate`.
#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// The ONNX model.
    pub model: PathBuf,
    /// Calibration data, in input.json's layout: each input's list holds one or
    /// more samples back to back (as for EZKL's calibration).
    #[arg(long)]
    pub data: PathBuf,
    /// Output directory [default: out/<model name>].
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Compilation settings (`--target-error` picks the cheapest scale whose
    /// worst error over the samples is within it).
    #[command(flatten)]
    pub flags: CompileFlags,
}

/// `calibration.json`.
#[derive(Debug, Serialize)]
struct Report {
    model: String,
    samples: usize,
    chosen_scale: u32,
    k: u32,
    rows: usize,
    value_bits: u32,
    /// Worst |circuit − float| output error over the samples at the chosen scale.
    max_abs_error: f64,
    trials: Vec<ScaleTrial>,
}

/// Splits each input's values into samples of `lens[i]` values.
fn split_samples(tensors: &[Vec<f64>], lens: &[usize]) -> Result<Vec<Vec<Vec<f64>>>> {
    ensure!(tensors.len() == lens.len(), "the calibration data has {} inputs, the model {}", tensors.len(), lens.len());
    let mut count = None;
    for (i, (t, &len)) in tensors.iter().zip(lens).enumerate() {
        ensure!(len > 0, "input {i} of the model has no values per sample");
        if t.is_empty() || t.len() % len != 0 {
            bail!(
                "input {i} of the calibration data holds {} values, not a whole number of samples of {len}\n  hint: \
                 list the samples back to back, each as many values as the model's input",
                t.len()
            );
        }
        let n = t.len() / len;
        if count.is_some_and(|c| c != n) {
            bail!("the calibration data's inputs hold different numbers of samples ({} and {n})", count.unwrap_or(0));
        }
        count = Some(n);
    }
    let count = count.unwrap_or(0);
    Ok((0..count)
        .map(|s| tensors.iter().zip(lens).map(|(t, &len)| t[s * len..(s + 1) * len].to_vec()).collect())
        .collect())
}

/// Runs `calibrate`.
pub fn run(args: CalibrateArgs, ui: &Ui) -> Result<()> {
    ensure_model_exists(&args.model)?;
    let data = read_input(&args.data)?;
    let lens = OnnxModel::sample_lengths(&args.model, data.shapes.as_deref())?;
    let inputs = split_samples(&data.tensors, &lens)?;
    let step = ui.step(&format!("running tract on {} calibration samples", inputs.len()));
    let onnx = OnnxModel::load(&args.model, data.shapes.as_deref(), &lens)?;
    let samples = inputs
        .into_iter()
        .enumerate()
        .map(|(i, inputs)| {
            let reference = onnx.run_float(&inputs).with_context(|| format!("tract on sample {i}"))?;
            Ok(Sample { inputs, reference })
        })
        .collect::<Result<Vec<_>>>()?;
    step.done();

    let step = ui.step("trying every scale on every sample");
    let opts = args.flags.options();
    let fgraph = onnx.lower_weights(opts.hides_weights())?;
    let compiled = compile_samples(&fgraph, &samples, &opts)?;
    let name = model_name(&args.model);
    let compiled =
        CompiledModel::new(compiled, &name, &args.model.display().to_string(), onnx.input_shapes.clone(), opts);
    step.done();

    // Never report settings that fail later: every sample's witness must fit.
    let step = ui.step("checking every sample against the chosen circuit");
    for (i, sample) in samples.iter().enumerate() {
        witness(&compiled, &sample.inputs).with_context(|| {
            format!(
                "calibration sample {i} does not fit the chosen circuit\n  hint: raise --headroom-bits or --value-bits"
            )
        })?;
    }
    step.done();

    let dir = Workdir(args.out.clone().unwrap_or_else(|| PathBuf::from("out").join(&name)));
    write_compiled(&dir, &compiled)?;
    let s = &compiled.settings;
    let report = Report {
        model: name.clone(),
        samples: samples.len(),
        chosen_scale: s.scale,
        k: s.k,
        rows: s.rows,
        value_bits: s.value_bits,
        max_abs_error: s.calibration_max_abs_error,
        trials: s.trials.clone(),
    };
    let report_path = dir.0.join("calibration.json");
    fs::write_atomic(&report_path, &serde_json::to_vec_pretty(&report)?)?;

    println!("scale |  k | value bits |      cost | worst error over {} samples", samples.len());
    for t in &s.trials {
        let chosen = if t.scale == s.scale { "  <- chosen" } else { "" };
        match (&t.failure, t.k, t.cost, t.max_abs_error, t.value_bits) {
            (None, Some(k), Some(cost), Some(err), Some(bits)) => {
                println!("{:>5} | {k:>2} | {bits:>10} | {cost:>9.3e} | {err:.2e}{chosen}", t.scale)
            }
            (failure, ..) => println!("{:>5} | unusable: {}", t.scale, failure.as_deref().unwrap_or("no estimate")),
        }
    }
    println!(
        "calibrated {name} on {} samples: scale {}, k = {}, value bits {}, worst error {:.2e}; every sample fits",
        samples.len(),
        s.scale,
        s.k,
        s.value_bits,
        s.calibration_max_abs_error
    );
    println!("wrote {}, {} and {}", dir.compiled().display(), dir.settings().display(), report_path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split_samples;

    #[test]
    fn samples_split_back_to_back_and_bad_lengths_are_refused() {
        let split = split_samples(&[vec![1.0, 2.0, 3.0, 4.0], vec![5.0, 6.0]], &[2, 1]).expect("two samples");
        assert_eq!(split, vec![vec![vec![1.0, 2.0], vec![5.0]], vec![vec![3.0, 4.0], vec![6.0]]]);
        let e = split_samples(&[vec![1.0, 2.0, 3.0]], &[2]).expect_err("3 is not a multiple of 2");
        assert!(e.to_string().contains("not a whole number of samples of 2"), "{e}");
        let e = split_samples(&[vec![1.0, 2.0], vec![1.0, 2.0]], &[1, 2]).expect_err("2 and 1 samples");
        assert!(e.to_string().contains("different numbers of samples"), "{e}");
    }
}
