//! `zkinfer compile`: ONNX → quantised graph and circuit plan.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::pipeline::{compile_loaded, input_path, load, read_input, write_compiled, CompileFlags, Workdir};
use crate::ui::Ui;

/// Arguments of `compile`.
#[derive(Args, Debug)]
pub struct CompileArgs {
    /// The ONNX model.
    pub model: PathBuf,
    /// Input file (EZKL layout) fixing input shapes and calibrating the scale
    /// [default: input.json next to the model].
    #[arg(long, short)]
    pub input: Option<PathBuf>,
    /// Output directory [default: out/<model name>].
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Compilation settings.
    #[command(flatten)]
    pub flags: CompileFlags,
}

/// Runs `compile`.
pub fn run(args: CompileArgs, ui: &Ui) -> Result<()> {
    let input = read_input(&input_path(&args.model, args.input.as_deref())?)?;
    let step = ui.step("loading and compiling the model");
    let loaded = load(&args.model, input)?;
    let compiled = compile_loaded(&args.model, &loaded, &args.flags.options())?;
    step.done();
    let dir = Workdir(args.out.unwrap_or_else(|| PathBuf::from("out").join(&compiled.model.name)));
    write_compiled(&dir, &compiled)?;
    let s = &compiled.settings;
    println!(
        "compiled {}: k = {}, rows = {}, scale = {}, value bits = {}, calibration error = {:.2e}",
        compiled.model.name, s.k, s.rows, s.scale, s.value_bits, s.calibration_max_abs_error
    );
    println!("wrote {} and {}", dir.compiled().display(), dir.settings().display());
    Ok(())
}
