//! `zkinfer prove`: a proof of one inference.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use zkinfer_circuits::visibility::TensorKind;
use zkinfer_prover::fs;
use zkinfer_prover::keys::ProvingKey;
use zkinfer_prover::prove::{check_compatible, prove_with, witness};
use zkinfer_verifier::Proof;

use crate::commands::hash::{field_decimal, field_hex};
use crate::pipeline::{
    engine_used, load_srs, read_compiled, read_input, EngineFlags, GuardFlags, ProverFlags, SrsFlags, Workdir,
};
use crate::ui::Ui;

/// Arguments of `prove`.
#[derive(Args, Debug)]
pub struct ProveArgs {
    /// Working directory with model.compiled and pk.bin; the proof is written there.
    /// With --segments: the chain's directory [default: out/<model name>-chain].
    pub dir: Option<PathBuf>,
    /// Input file (EZKL layout).
    #[arg(long, short)]
    pub input: PathBuf,
    /// The compiled model [default: DIR/model.compiled].
    #[arg(long)]
    pub compiled: Option<PathBuf>,
    /// The proving key [default: DIR/pk.bin].
    #[arg(long)]
    pub pk: Option<PathBuf>,
    /// Where to write the proof [default: DIR/proof.bin, with DIR/proof.json].
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// SRS source.
    #[command(flatten)]
    pub srs: SrsFlags,
    /// Resource guard.
    #[command(flatten)]
    pub guard: GuardFlags,
    /// Prover core.
    #[command(flatten)]
    pub prover: ProverFlags,
    /// MSM/NTT engine.
    #[command(flatten)]
    pub engine: EngineFlags,
    /// Segmented proving.
    #[command(flatten)]
    pub segments: SegmentFlags,
}

/// `prove --segments N --jobs J --model MODEL.onnx`: split, prove every segment
/// in its own process (J at once: the same index protocol as Kubernetes Indexed
/// Jobs and Slurm arrays), then verify the chain.
#[derive(Args, Debug, Default)]
pub struct SegmentFlags {
    /// Prove the model as this many segments linked by Poseidon commitments
    /// (`split`, `prove-chain` and `verify-chain` in one go); needs --model.
    #[arg(long)]
    pub segments: Option<usize>,
    /// Segments proven at once, each in its own process (with --segments).
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// The ONNX model to split (with --segments).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

/// The readable companion of a proof file.
pub fn proof_json(proof: &Proof) -> serde_json::Value {
    let commitments: Vec<serde_json::Value> = proof
        .commitments()
        .unwrap_or_default()
        .iter()
        .map(|(kind, index, digest)| {
            serde_json::json!({
                "tensor": format!("{} {index}", kind.name()),
                "poseidon": field_decimal(digest),
                "poseidon_hex": field_hex(digest),
            })
        })
        .collect();
    serde_json::json!({
        "public_inputs_fixed_point": proof
            .public_values(TensorKind::Input)
            .map(|v| v.iter().map(|x| x.to_string()).collect::<Vec<_>>()),
        "public_weights_fixed_point": proof
            .public_values(TensorKind::Weights)
            .map(|v| v.iter().map(|x| x.to_string()).collect::<Vec<_>>()),
        "commitments": commitments,
        "scale": proof.scale,
        "output_shapes": proof.output_shapes,
        "outputs": proof.outputs_f64(),
        "outputs_fixed_point": proof.outputs().map(|v| v.iter().map(|x| x.to_string()).collect::<Vec<_>>()),
        "proof_bytes": proof.proof.len(),
    })
}

/// Runs `prove`.
pub fn run(args: ProveArgs, ui: &Ui) -> Result<()> {
    if let Some(count) = args.segments.segments {
        return run_segmented(args, count, ui);
    }
    if args.segments.model.is_some() {
        anyhow::bail!(
            "--model is for segmented proving\n  hint: add --segments N, or prove a compiled model's directory"
        );
    }
    let dir = Workdir(args.dir.clone().unwrap_or_else(|| PathBuf::from(".")));
    let compiled = read_compiled(&args.compiled.clone().unwrap_or_else(|| dir.compiled()))?;
    // Before the proving key is read: the key's own prover is known only then,
    // so an explicit --prover decides, else the default.
    args.guard.check(&compiled.shape, args.prover.prover.unwrap_or_default(), "proving")?;
    let pk_path = args.pk.clone().unwrap_or_else(|| dir.pk());
    let step = ui.step("loading the proving key");
    let pk = ProvingKey::from_bytes(&fs::read(&pk_path)?, &pk_path.display().to_string())?;
    step.done();
    let input = read_input(&args.input)?;
    let srs = load_srs(&args.srs, compiled.shape.k, ui)?;
    check_compatible(&compiled, &pk, &srs.params)?;
    let prover = args.prover.prover.unwrap_or(pk.prover());
    let engines = args.engine.engines(prover, ui);
    let step = ui.step(&format!("proving ({} prover, {} engine)", prover.name(), engines.device()));
    let w = witness(&compiled, &input.tensors)?;
    let (proof, _) = prove_with(prover, &compiled, &pk, &srs.params, w, &engines)?;
    let secs = step.done();
    engine_used(&engines, prover, ui);
    let out = args.out.clone().unwrap_or_else(|| dir.proof());
    fs::write_atomic(&out, &proof.to_bytes())?;
    let json_path = out.with_extension("json");
    fs::write_atomic(&json_path, &serde_json::to_vec_pretty(&proof_json(&proof))?)?;
    println!(
        "proved in {secs:.2} s: {} ({} byte proof), outputs {}",
        out.display(),
        proof.proof.len(),
        crate::ui::outputs_summary(&proof.outputs_f64().unwrap_or_default(), &json_path.display().to_string())
    );
    Ok(())
}

/// `prove --segments`: split (default compilation settings), prove every segment
/// as its own process, verify the chain.
fn run_segmented(args: ProveArgs, count: usize, ui: &Ui) -> Result<()> {
    use clap::{Command, FromArgMatches};

    use super::chain::{self, ProveChainArgs, SplitArgs, VerifyChainArgs};
    use crate::pipeline::{CompileFlags, ModelArgs};

    let model =
        args.segments.model.clone().ok_or_else(|| {
            anyhow::anyhow!("--segments needs the ONNX model to split\n  hint: add --model MODEL.onnx")
        })?;
    anyhow::ensure!(count >= 1, "--segments must be at least 1");
    // The compilation defaults exactly as `split` has them on the command line.
    let matches = CompileFlags::augment_args(Command::new("prove")).try_get_matches_from(["prove"])?;
    let flags = CompileFlags::from_arg_matches(&matches)?;
    let out = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(format!("{}-chain", crate::pipeline::model_name(&model))));
    chain::run_split(
        SplitArgs {
            model: ModelArgs { model, input: Some(args.input.clone()) },
            out: Some(out.clone()),
            segments: Some(count),
            max_memory_mib: None,
            flags,
            srs: args.srs.clone(),
        },
        ui,
    )?;
    let plan = out.join("plan.json");
    chain::run_prove_chain(
        ProveChainArgs {
            plan: plan.clone(),
            input: args.input.clone(),
            jobs: args.segments.jobs,
            srs: args.srs.clone(),
            guard: args.guard.clone(),
            prover: args.prover.clone(),
            engine: args.engine.clone(),
        },
        ui,
    )?;
    chain::run_verify_chain(VerifyChainArgs { plan }, ui)
}
