//! `zkinfer setup`: SRS and keys for a compiled model.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use zkinfer_prover::fs;
use zkinfer_prover::keys::keygen_for;

use crate::pipeline::{load_srs, read_compiled, record_srs, GuardFlags, ProverFlags, SrsFlags, Workdir};
use crate::ui::Ui;

/// Arguments of `setup`.
#[derive(Args, Debug)]
pub struct SetupArgs {
    /// Working directory holding model.compiled; keys are written there.
    pub dir: Option<PathBuf>,
    /// The compiled model [default: DIR/model.compiled].
    #[arg(long)]
    pub compiled: Option<PathBuf>,
    /// Where to write pk.bin, vk.bin and verifier.params [default: DIR, or the
    /// compiled model's directory].
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// SRS source.
    #[command(flatten)]
    pub srs: SrsFlags,
    /// Resource guard.
    #[command(flatten)]
    pub guard: GuardFlags,
    /// The prover the key is for.
    #[command(flatten)]
    pub prover: ProverFlags,
}

/// Runs `setup`.
pub fn run(args: SetupArgs, ui: &Ui) -> Result<()> {
    let base = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let compiled_path = args.compiled.clone().unwrap_or_else(|| Workdir(base.clone()).compiled());
    let mut compiled = read_compiled(&compiled_path)?;
    args.guard.check(&compiled.shape, args.prover.prover.unwrap_or_default(), "key generation")?;
    let out = Workdir(
        args.out
            .clone()
            .unwrap_or_else(|| compiled_path.parent().map(|p| p.to_path_buf()).unwrap_or_else(|| base.clone())),
    );
    let srs = load_srs(&args.srs, compiled.shape.k, ui)?;
    record_srs(&out, &mut compiled, &srs)?;
    let prover = args.prover.prover.unwrap_or_default();
    let step = ui.step(&format!("generating keys (k = {}, {} prover)", compiled.shape.k, prover.name()));
    let pk = keygen_for(&compiled, &srs, prover)?;
    let secs = step.done();
    let pk_bytes = pk.to_bytes();
    fs::write_atomic(&out.pk(), &pk_bytes)?;
    fs::write_atomic(&out.vk(), &pk.verifying_key().to_bytes())?;
    fs::write_atomic(&out.params(), &srs.verifier_params().to_bytes())?;
    println!(
        "keys generated in {secs:.2} s: {} ({} bytes), {}, {}",
        out.pk().display(),
        pk_bytes.len(),
        out.vk().display(),
        out.params().display()
    );
    Ok(())
}
