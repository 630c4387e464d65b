//! `zkinfer compile`: ONNX → quantised graph and circuit plan.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::pipeline::{compile_loaded, write_compiled, CompileFlags, ModelArgs, Workdir};
use crate::ui::Ui;

/// Arguments of `compile`.
#[derive(Args, Debug)]
pub struct CompileArgs {
    /// The model and its calibration input.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output directory [default: out/<model name>].
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Compilation settings.
    #[command(flatten)]
    pub flags: CompileFlags,
}

/// Runs `compile`.
pub fn run(args: CompileArgs, ui: &Ui) -> Result<()> {
    let step = ui.step("loading and compiling the model");
    let loaded = args.model.load()?;
    let compiled = compile_loaded(&args.model.model, &loaded, &args.flags.options(), ui)?;
    step.done();
    let s = &compiled.settings;
    let dir = Workdir(args.out.unwrap_or_else(|| PathBuf::from("out").join(&compiled.model.name)));
    write_compiled(&dir, &compiled)?;
    println!(
        "compiled {}: k = {}, rows = {}, scale = {}, value bits = {}, calibration error = {:.2e}",
        compiled.model.name, s.k, s.rows, s.scale, s.value_bits, s.calibration_max_abs_error
    );
    println!("wrote {} and {}", dir.compiled().display(), dir.settings().display());
    Ok(())
}
