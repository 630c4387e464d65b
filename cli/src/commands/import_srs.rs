//! `zkinfer import-srs`: brings a ceremony SRS (`.ptau` from the Perpetual Powers of
//! Tau, zkinfer's or halo2's parameters format) into the SRS cache, checked, so that
//! `setup` and `prove` use it instead of a locally generated testing SRS.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use zkinfer_prover::srs::SrsStore;

use crate::ui::Ui;

/// Arguments of `import-srs`.
#[derive(Args, Debug)]
pub struct ImportSrsArgs {
    /// The SRS file (.ptau, zkinfer or halo2 format).
    pub file: PathBuf,
    /// Largest circuit size (log2 rows) to import for; each smaller size is
    /// downsized from it on demand.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=28))]
    pub k: u32,
    /// SRS cache directory (default: $ZKINFER_SRS_DIR or ~/.cache/zkinfer/srs).
    #[arg(long)]
    pub srs_dir: Option<PathBuf>,
}

/// Runs `import-srs`.
pub fn run(args: ImportSrsArgs, ui: &Ui) -> Result<()> {
    let store = SrsStore::new(args.srs_dir.clone().unwrap_or_else(SrsStore::default_dir));
    let step = ui.step(&format!("checking and importing {} for k = {}", args.file.display(), args.k));
    let path = store.import(&args.file, args.k)?;
    step.done();
    println!("imported: {} (points on the curve, powers consistent)", path.display());
    Ok(())
}
