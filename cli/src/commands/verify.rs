//! `zkinfer verify`: checks a proof with the light verifier.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use zkinfer_verifier::{verify, Proof, VerifierParams, VerifyingKey};

use crate::pipeline::{read_params, read_proof, read_vk, Workdir};
use crate::ui::Ui;

/// Arguments of `verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Working directory with vk.bin, verifier.params and proof.bin.
    pub dir: Option<PathBuf>,
    /// The verifying key [default: DIR/vk.bin].
    #[arg(long)]
    pub vk: Option<PathBuf>,
    /// The proof [default: DIR/proof.bin].
    #[arg(long)]
    pub proof: Option<PathBuf>,
    /// The verifier parameters [default: DIR/verifier.params].
    #[arg(long)]
    pub params: Option<PathBuf>,
}

/// The three files a verifier needs, read and checked.
pub struct VerifierFiles {
    /// Verifying key.
    pub vk: VerifyingKey,
    /// Verifier parameters.
    pub params: VerifierParams,
    /// Proof.
    pub proof: Proof,
}

impl VerifyArgs {
    /// Reads the files.
    pub fn read(&self) -> Result<VerifierFiles> {
        let dir = Workdir(self.dir.clone().unwrap_or_else(|| PathBuf::from(".")));
        let vk_path = self.vk.clone().unwrap_or_else(|| dir.vk());
        let proof_path = self.proof.clone().unwrap_or_else(|| dir.proof());
        let params_path = self.params.clone().unwrap_or_else(|| dir.params());
        Ok(VerifierFiles {
            vk: read_vk(&vk_path)?,
            params: read_params(&params_path)?,
            proof: read_proof(&proof_path)?,
        })
    }
}

/// Runs `verify`.
pub fn run(args: VerifyArgs, ui: &Ui) -> Result<()> {
    let files = args.read()?;
    let step = ui.step("verifying");
    let result = verify(&files.vk, &files.params, &files.proof);
    let secs = step.done();
    result?;
    println!(
        "verified in {:.1} ms: model {}, outputs {}",
        secs * 1e3,
        files.vk.model.name,
        crate::ui::outputs_summary(&files.proof.outputs_f64().unwrap_or_default(), "the proof")
    );
    Ok(())
}
