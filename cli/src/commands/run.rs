//! `zkinfer run`: compile, set up, prove and verify in one go, writing every
//! artifact and `report.json`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{ensure, Result};
use clap::Args;
use zkinfer_circuits::visibility::Visibility;
use zkinfer_prover::fs::{self, peak_rss_mib};
use zkinfer_prover::keys::keygen_for;
use zkinfer_prover::prove::{prove_with, witness};
use zkinfer_verifier::{verify, Proof, VerifierParams, VerifyingKey};

use zkinfer_circuits::plan::Profile;
use zkinfer_verifier::evm::{calldata, run_verifier, EvmRun};

use super::evm;
use super::prove::proof_json;
use crate::pipeline::{
    compile_loaded, engine_used, load_srs, max_abs_diff, read_params, read_proof, read_vk, record_srs, write_compiled,
    CompileFlags, EngineFlags, GuardFlags, ModelArgs, ProverFlags, SrsFlags, Workdir,
};
use crate::report::Report;
use crate::ui::Ui;

/// Arguments of `run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The model and its input.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output directory [default: out/<model name>].
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Compilation settings.
    #[command(flatten)]
    pub flags: CompileFlags,
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
    /// Also generate the Solidity verifier (Verifier.sol, calldata.bin), verify the
    /// proof with it in an in-process EVM and report gas, bytecode and calldata
    /// sizes. Implies `--profile evm` unless a profile is given. Needs solc 0.8.19
    /// (scripts/setup-solc.sh).
    #[arg(long)]
    pub evm: bool,
}

/// Runs the whole flow and returns its report (also written to `report.json`).
pub fn execute(args: &RunArgs, ui: &Ui) -> Result<Report> {
    let step = ui.step("loading, lowering and calibrating the model");
    let loaded = args.model.load()?;
    if args.evm {
        // Fail before the long work when the EVM step cannot run.
        zkinfer_verifier::evm::find_solc()?;
    }
    let profile = if args.evm { Profile::Evm } else { Profile::Fast };
    let mut compiled = compile_loaded(&args.model.model, &loaded, &args.flags.options_with_default(profile), ui)?;
    let compile_s = step.done();
    let dir = Workdir(args.out.clone().unwrap_or_else(|| PathBuf::from("out").join(&compiled.model.name)));
    write_compiled(&dir, &compiled)?;
    args.guard.check(&compiled.shape, args.prover.prover.unwrap_or_default(), "key generation and proving")?;

    let t = Instant::now();
    let srs = load_srs(&args.srs, compiled.shape.k, ui)?;
    let srs_s = t.elapsed().as_secs_f64();
    record_srs(&dir, &mut compiled, &srs)?;

    let prover = args.prover.prover.unwrap_or_default();
    let step = ui.step(&format!("generating keys (k = {}, {} prover)", compiled.shape.k, prover.name()));
    let pk = keygen_for(&compiled, &srs, prover)?;
    let setup_s = step.done();
    let pk_bytes = pk.to_bytes();
    let vk_bytes = pk.verifying_key().to_bytes();
    fs::write_atomic(&dir.pk(), &pk_bytes)?;
    fs::write_atomic(&dir.vk(), &vk_bytes)?;
    fs::write_atomic(&dir.params(), &srs.verifier_params().to_bytes())?;

    let engines = args.engine.engines(prover, ui);
    let step = ui.step(&format!("proving ({} prover, {} engine)", prover.name(), engines.device()));
    let w = witness(&compiled, &loaded.input.tensors)?;
    // The circuit's outputs, whether or not the proof makes them public.
    let outputs: Vec<f64> =
        w.outputs.iter().map(|v| zkinfer_models::arith::dequantize(*v, compiled.graph.scale)).collect();
    let (proof, prove_phases) = prove_with(prover, &compiled, &pk, &srs.params, w, &engines)?;
    let prove_s = step.done();
    let engine = engine_used(&engines, prover, ui);
    fs::write_atomic(&dir.proof(), &proof.to_bytes())?;
    fs::write_atomic(&dir.proof_json(), &serde_json::to_vec_pretty(&proof_json(&proof))?)?;
    drop(pk);

    // Verify as a separate party would: from the files just written.
    let (vk, params, proof) = (read_vk(&dir.vk())?, read_params(&dir.params())?, read_proof(&dir.proof())?);
    let step = ui.step("verifying");
    let verified = verify(&vk, &params, &proof);
    let verify_s = step.done();

    let evm_run = match (args.evm, &verified) {
        (true, Ok(())) => Some(evm_step(&dir, &vk, &params, &proof, ui)?),
        _ => None,
    };

    if compiled.shape.visibility.output == Visibility::Public {
        ensure!(proof.outputs_f64().as_ref() == Some(&outputs), "the proof's public outputs differ from the witness's");
    }
    let float_outputs: Vec<f64> = loaded.reference.concat();
    ensure!(outputs.len() == float_outputs.len(), "circuit outputs and float outputs differ in length");
    let est = &compiled.settings.estimate;
    let report = Report {
        model: compiled.model.name.clone(),
        k: compiled.shape.k,
        rows: est.rows,
        advice_columns: est.advice_columns,
        fixed_columns: est.fixed_columns,
        lookups: est.lookups,
        scale: compiled.graph.scale,
        value_bits: compiled.shape.ranges.value_bits,
        lookup_bits: compiled.shape.ranges.lookup_bits,
        linear_terms: compiled.graph.linear_terms(),
        compile_s,
        srs_s,
        setup_s,
        prove_s,
        verify_s,
        proof_bytes: proof.proof.len(),
        pk_bytes: pk_bytes.len(),
        vk_bytes: vk_bytes.len(),
        peak_rss_mib: peak_rss_mib().unwrap_or(0.0),
        max_abs_error: max_abs_diff(&outputs, &float_outputs),
        verified: verified.is_ok(),
        srs_testing_only: srs.origin.is_testing_only(),
        outputs,
        float_outputs,
        circuit_digest: zkinfer_verifier::artifact::hex(&vk.digest()),
        zkinfer_version: env!("CARGO_PKG_VERSION").to_string(),
        visibility: compiled.shape.visibility.to_string(),
        profile: if compiled.shape.compact { Profile::Evm } else { Profile::Fast }.name().to_string(),
        evm_gas: evm_run.as_ref().map(|(r, _)| r.gas_used),
        evm_bytecode_bytes: evm_run.as_ref().map(|(r, _)| r.runtime_bytes),
        calldata_bytes: evm_run.as_ref().map(|(_, c)| *c),
        prover: prover.name().to_string(),
        engine,
        prove_phases,
    };
    fs::write_atomic(&dir.report(), &serde_json::to_vec_pretty(&report)?)?;
    verified?;
    if let Some((run, _)) = &evm_run {
        ensure!(run.accepted, "the EVM verifier rejected the proof that the Rust verifier accepted");
    }
    Ok(report)
}

/// Writes Verifier.sol and calldata.bin, and verifies the proof in the EVM.
fn evm_step(
    dir: &Workdir,
    vk: &VerifyingKey,
    params: &VerifierParams,
    proof: &Proof,
    ui: &Ui,
) -> Result<(EvmRun, usize)> {
    let verifier = evm::create(vk, params, ui)?;
    fs::write_atomic(&dir.verifier_sol(), verifier.source.as_bytes())?;
    let data = calldata(proof)?;
    fs::write_atomic(&dir.calldata(), &data)?;
    let contract = evm::compile(&verifier.source, ui)?;
    let step = ui.step("verifying in the EVM (revm)");
    let run = run_verifier(&contract, std::slice::from_ref(&data))?.remove(0);
    step.done();
    if !run.deployable() {
        ui.warn(&evm::size_warning(run.runtime_bytes));
    }
    Ok((run, data.len()))
}

/// Runs `run` and prints a summary.
pub fn run(args: RunArgs, ui: &Ui) -> Result<()> {
    let out = args.out.clone();
    let r = execute(&args, ui)?;
    let dir = out.unwrap_or_else(|| PathBuf::from("out").join(&r.model));
    println!(
        "{}: verified = {} | k = {} rows = {} advice columns = {} | setup {:.2} s, prove {:.2} s, verify {:.1} ms | proof {} B, pk {} B | peak {:.0} MiB | max abs error {:.2e}",
        r.model,
        r.verified,
        r.k,
        r.rows,
        r.advice_columns,
        r.setup_s,
        r.prove_s,
        r.verify_s * 1e3,
        r.proof_bytes,
        r.pk_bytes,
        r.peak_rss_mib,
        r.max_abs_error
    );
    if let (Some(gas), Some(size), Some(cd)) = (r.evm_gas, r.evm_bytecode_bytes, r.calldata_bytes) {
        println!("EVM: verified = true | gas {gas} | runtime bytecode {size} B | calldata {cd} B");
    }
    println!("report: {}", Workdir(dir).report().display());
    Ok(())
}
