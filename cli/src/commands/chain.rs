//! Segmented proving from the command line: `split` cuts a model into segments
//! that each fit a size or memory limit, `prove-segment` proves one (index from
//! the flag or the scheduler: Kubernetes Indexed Jobs, Slurm job arrays),
//! `prove-chain` runs every index locally as separate processes, and
//! `verify-chain` verifies the proofs and their links.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{anyhow, bail, ensure, Context, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use zkinfer_prover::chain::{plan_chain, segment_witness, ChainPlan, WholeRun};
use zkinfer_prover::compiled::CompiledModel;
use zkinfer_prover::fs::{self, peak_rss_mib};
use zkinfer_prover::keys::keygen_for;
use zkinfer_prover::prove::prove_with;
use zkinfer_verifier::chain::verify_chain;

use super::prove::proof_json;
use crate::pipeline::{
    compile_loaded, engine_used, load_srs, read_compiled, read_input, read_params, read_proof, read_vk, write_compiled,
    CompileFlags, EngineFlags, GuardFlags, ModelArgs, ProverFlags, SrsFlags, Workdir,
};
use crate::ui::Ui;

/// Figures of one segment's job (`segment-<i>/report.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SegmentReport {
    /// Segment index.
    pub index: usize,
    /// Circuit size.
    pub k: u32,
    /// Rows used.
    pub rows: usize,
    /// Elements of the boundary tensor it reads.
    pub boundary_in: usize,
    /// Elements of the boundary tensor it writes.
    pub boundary_out: usize,
    /// Key generation, seconds.
    pub setup_s: f64,
    /// Proving, seconds.
    pub prove_s: f64,
    /// Proof bytes.
    pub proof_bytes: usize,
    /// Peak resident memory of the job, MiB.
    pub peak_rss_mib: f64,
}

/// Figures of a local `prove-chain` (`chain-report.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChainReport {
    /// Model name.
    pub model: String,
    /// Jobs run at once.
    pub jobs: usize,
    /// Wall time of all jobs, seconds.
    pub wall_s: f64,
    /// Key generation plus proving over all segments, seconds.
    pub cpu_s: f64,
    /// Largest peak memory of one job, MiB.
    pub max_peak_rss_mib: f64,
    /// Each segment's job.
    pub segments: Vec<SegmentReport>,
}

/// Environment variables a scheduler sets to a job's index, in the order read.
pub const INDEX_VARIABLES: [&str; 2] = ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"];

/// Largest k the whole model is planned at when splitting (it is never built).
const WHOLE_MODEL_MAX_K: u32 = 28;

/// Arguments of `split`.
#[derive(Args, Debug)]
pub struct SplitArgs {
    /// The model and its calibration input.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output directory: plan.json, the whole compiled model, segment-<i>/ and
    /// the shared SRS cache srs/ [default: out/<model name>-chain].
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Exactly this many segments (default: the fewest that fit --max-k and
    /// --max-memory-mib).
    #[arg(long)]
    pub segments: Option<usize>,
    /// Largest estimated peak memory of one segment's proving, in MiB.
    #[arg(long)]
    pub max_memory_mib: Option<u64>,
    /// Compilation settings; --max-k bounds each segment's circuit.
    #[command(flatten)]
    pub flags: CompileFlags,
    /// SRS source (prepared once here for every segment's job).
    #[command(flatten)]
    pub srs: SrsFlags,
}

/// Arguments of `prove-segment`.
#[derive(Args, Debug)]
pub struct ProveSegmentArgs {
    /// The plan written by `split`.
    #[arg(long)]
    pub plan: PathBuf,
    /// Segment to prove [default: $JOB_COMPLETION_INDEX or $SLURM_ARRAY_TASK_ID].
    #[arg(long)]
    pub index: Option<usize>,
    /// The model's input file (EZKL layout).
    #[arg(long, short)]
    pub input: PathBuf,
    /// SRS source [default: the plan's srs/ cache].
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
}

/// Arguments of `prove-chain`.
#[derive(Args, Debug)]
pub struct ProveChainArgs {
    /// The plan written by `split`.
    #[arg(long)]
    pub plan: PathBuf,
    /// The model's input file (EZKL layout).
    #[arg(long, short)]
    pub input: PathBuf,
    /// Segments proven at once, each in its own process.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// SRS source [default: the plan's srs/ cache].
    #[command(flatten)]
    pub srs: SrsFlags,
    /// Resource guard.
    #[command(flatten)]
    pub guard: GuardFlags,
    /// Prover core of every segment.
    #[command(flatten)]
    pub prover: ProverFlags,
    /// MSM/NTT engine of every segment.
    #[command(flatten)]
    pub engine: EngineFlags,
}

/// Arguments of `verify-chain`.
#[derive(Args, Debug)]
pub struct VerifyChainArgs {
    /// The plan written by `split`, next to the segments' proofs and keys.
    #[arg(long)]
    pub plan: PathBuf,
}

pub(crate) fn plan_dir(plan: &Path) -> PathBuf {
    plan.parent().map(Path::to_path_buf).unwrap_or_default()
}

pub(crate) fn read_plan(path: &Path) -> Result<ChainPlan> {
    let bytes = fs::read(path)?;
    serde_json::from_slice(&bytes).with_context(|| {
        format!("{} is not a segment plan\n  hint: pass the plan.json that `zkinfer split` wrote", path.display())
    })
}

/// The plan's directory and the whole compiled model next to it, checked to be
/// the one the plan was split from.
pub(crate) fn read_whole(plan: &ChainPlan, path: &Path) -> Result<(PathBuf, CompiledModel)> {
    let root = plan_dir(path);
    let whole = read_compiled(&Workdir(root.clone()).compiled())?;
    ensure!(
        whole.settings.model_digest == plan.model_digest,
        "the whole compiled model next to the plan is not the one it was split from\n  hint: rerun `zkinfer split`"
    );
    Ok((root, whole))
}

/// The SRS flags with the plan's shared cache as the default directory.
pub(crate) fn plan_srs(flags: &SrsFlags, plan: &Path) -> SrsFlags {
    let mut flags = flags.clone();
    if flags.srs.is_none() && flags.srs_dir.is_none() {
        flags.srs_dir = Some(plan_dir(plan).join("srs"));
    }
    flags
}

/// Runs `split`.
pub fn run_split(args: SplitArgs, ui: &Ui) -> Result<()> {
    let step = ui.step("loading and compiling the whole model");
    let loaded = args.model.load()?;
    let mut opts = args.flags.options();
    let max_k = opts.max_k;
    opts.max_k = WHOLE_MODEL_MAX_K;
    let whole = compile_loaded(&args.model.model, &loaded, &opts, ui)?;
    step.done();
    let step = ui.step("splitting into segments");
    let max_bytes = args.max_memory_mib.map(|m| m << 20);
    let (plan, segments) = plan_chain(&whole, args.segments, max_k, max_bytes)?;
    // Every segment's witness on the calibration input, so that a plan that
    // would fail at proving time (a boundary out of range) fails here instead.
    let run = WholeRun::new(&whole, &loaded.input.tensors)?;
    for (record, compiled) in plan.segments.iter().zip(&segments) {
        run.segment_witness(record, compiled)
            .with_context(|| format!("segment {} on the calibration input", record.index))?;
    }
    step.done();
    let dir = args.out.clone().unwrap_or_else(|| PathBuf::from("out").join(format!("{}-chain", whole.model.name)));
    write_compiled(&Workdir(dir.clone()), &whole)?;
    for (record, compiled) in plan.segments.iter().zip(&segments) {
        write_compiled(&Workdir(dir.join(&record.dir)), compiled)?;
    }
    let plan_path = dir.join("plan.json");
    fs::write_atomic(&plan_path, &serde_json::to_vec_pretty(&plan)?)?;
    // One SRS for every job: generated (or loaded) here, downsized by each.
    let largest = plan.segments.iter().map(|s| s.k).max().unwrap_or(whole.shape.k);
    load_srs(&plan_srs(&args.srs, &plan_path), largest, ui)?;
    println!("split {} into {} segments ({}):", whole.model.name, plan.segments.len(), plan.visibility);
    for s in &plan.segments {
        println!(
            "  segment {}: nodes {}..{}, k = {}, rows = {}, boundary in {} / out {} elements",
            s.index,
            s.nodes[0],
            s.nodes[1],
            s.k,
            s.rows,
            s.inputs.len(),
            s.outputs.len()
        );
    }
    println!("wrote {}", plan_path.display());
    Ok(())
}

/// The segment index: the flag, else the scheduler's variable.
fn job_index(flag: Option<usize>) -> Result<usize> {
    if let Some(i) = flag {
        return Ok(i);
    }
    for var in INDEX_VARIABLES {
        if let Ok(v) = std::env::var(var) {
            return v.trim().parse().map_err(|_| anyhow!("${var} = `{v}` is not a segment index"));
        }
    }
    bail!("no segment index: pass --index, or run under a scheduler that sets $JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or $SLURM_ARRAY_TASK_ID (Slurm array)")
}

/// Runs `prove-segment`: keys and proof of one segment, written atomically into
/// its directory (a retried index rewrites the same files).
pub fn run_prove_segment(args: ProveSegmentArgs, ui: &Ui) -> Result<()> {
    let plan = read_plan(&args.plan)?;
    let index = job_index(args.index)?;
    let record = plan.segments.get(index).ok_or_else(|| {
        anyhow!(
            "segment index {index} is out of range: the plan has {} segments (0..{})",
            plan.segments.len(),
            plan.segments.len()
        )
    })?;
    let (root, whole) = read_whole(&plan, &args.plan)?;
    let dir = Workdir(root.join(&record.dir));
    let segment = read_compiled(&dir.compiled())?;
    args.guard.check(&segment.shape, args.prover.prover.unwrap_or_default(), "key generation and proving")?;
    let input = read_input(&args.input)?;
    let srs = load_srs(&plan_srs(&args.srs, &args.plan), segment.shape.k, ui)?;
    let step = ui.step(&format!("segment {index}: generating keys (k = {})", segment.shape.k));
    let prover = args.prover.prover.unwrap_or_default();
    let pk = keygen_for(&segment, &srs, prover)?;
    let setup_s = step.done();
    fs::write_atomic(&dir.vk(), &pk.verifying_key().to_bytes())?;
    fs::write_atomic(&dir.params(), &srs.verifier_params().to_bytes())?;
    let engines = args.engine.engines(prover, ui);
    let step = ui.step(&format!("segment {index}: proving ({} prover, {} engine)", prover.name(), engines.device()));
    let witness = segment_witness(&whole, record, &segment, &input.tensors)?;
    let (proof, _) = prove_with(prover, &segment, &pk, &srs.params, witness, &engines)?;
    let secs = step.done();
    engine_used(&engines, prover, ui);
    fs::write_atomic(&dir.proof(), &proof.to_bytes())?;
    fs::write_atomic(&dir.proof_json(), &serde_json::to_vec_pretty(&proof_json(&proof))?)?;
    let report = SegmentReport {
        index,
        k: segment.shape.k,
        rows: segment.settings.rows,
        boundary_in: record.inputs.len(),
        boundary_out: record.outputs.len(),
        setup_s,
        prove_s: secs,
        proof_bytes: proof.proof.len(),
        peak_rss_mib: peak_rss_mib().unwrap_or(0.0),
    };
    fs::write_atomic(&dir.report(), &serde_json::to_vec_pretty(&report)?)?;
    println!(
        "segment {index} of {}: keys {setup_s:.2} s, proved in {secs:.2} s, peak {:.0} MiB ({})",
        plan.segments.len(),
        report.peak_rss_mib,
        dir.proof().display()
    );
    Ok(())
}

/// Runs `prove-chain`: every index as its own `prove-segment` process, `jobs` at once.
pub fn run_prove_chain(args: ProveChainArgs, ui: &Ui) -> Result<()> {
    let plan = read_plan(&args.plan)?;
    let exe = std::env::current_exe().context("locating the zkinfer binary")?;
    let count = plan.segments.len();
    let jobs = args.jobs.max(1);
    let spawn = |index: usize| -> Result<Child> {
        let mut cmd = Command::new(&exe);
        cmd.arg("-q").arg("prove-segment").arg("--plan").arg(&args.plan).arg("--input").arg(&args.input);
        cmd.arg("--index").arg(index.to_string());
        cmd.args(args.srs.to_args());
        if args.guard.ignore_memory_estimate {
            cmd.arg("--ignore-memory-estimate");
        }
        if let Some(prover) = args.prover.prover {
            cmd.arg("--prover").arg(prover.name());
        }
        cmd.arg(args.engine.to_arg());
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.spawn().with_context(|| format!("starting the job of segment {index}"))
    };
    let step = ui.step(&format!("proving {count} segments, {jobs} at a time"));
    let mut failures = Vec::new();
    let mut next = 0;
    let mut running: Vec<(usize, Child)> = Vec::new();
    while next < count || !running.is_empty() {
        while running.len() < jobs && next < count {
            running.push((next, spawn(next)?));
            next += 1;
        }
        let (index, child) = running.remove(0);
        let out = child.wait_with_output().with_context(|| format!("waiting for segment {index}"))?;
        if out.status.success() {
            print!("{}", String::from_utf8_lossy(&out.stdout));
        } else {
            failures.push(format!("segment {index}: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
    }
    let secs = step.done();
    if !failures.is_empty() {
        bail!(
            "{} of {count} segments failed (rerun them with `zkinfer prove-segment --index I`):\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
    let root = plan_dir(&args.plan);
    let segments = plan
        .segments
        .iter()
        .map(|r| -> Result<SegmentReport> {
            let path = Workdir(root.join(&r.dir)).report();
            serde_json::from_slice(&fs::read(&path)?).with_context(|| format!("reading {}", path.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let report = ChainReport {
        model: plan.model.clone(),
        jobs,
        wall_s: secs,
        cpu_s: segments.iter().map(|s| s.setup_s + s.prove_s).sum(),
        max_peak_rss_mib: segments.iter().map(|s| s.peak_rss_mib).fold(0.0, f64::max),
        segments,
    };
    let path = root.join("chain-report.json");
    fs::write_atomic(&path, &serde_json::to_vec_pretty(&report)?)?;
    println!(
        "proved {count} segments in {secs:.2} s wall ({:.2} s of keys and proving in all; peak {:.0} MiB per job); report: {}",
        report.cpu_s,
        report.max_peak_rss_mib,
        path.display()
    );
    Ok(())
}

/// Runs `verify-chain`: every segment's proof against its key, then the links.
pub fn run_verify_chain(args: VerifyChainArgs, ui: &Ui) -> Result<()> {
    let plan = read_plan(&args.plan)?;
    let root = plan_dir(&args.plan);
    let mut files = Vec::with_capacity(plan.segments.len());
    for record in &plan.segments {
        let dir = Workdir(root.join(&record.dir));
        let segment = read_compiled(&dir.compiled())?;
        let (vk, params, proof) = (read_vk(&dir.vk())?, read_params(&dir.params())?, read_proof(&dir.proof())?);
        ensure!(
            segment.settings.model_digest == record.model_digest && vk.shape == segment.shape && vk.model.name == segment.model.name,
            "segment {}'s compiled model or verifying key is not the one the plan names\n  hint: rerun `zkinfer prove-segment --index {}`",
            record.index,
            record.index
        );
        files.push((vk, params, proof));
    }
    let step = ui.step(&format!("verifying {} segment proofs and their links", files.len()));
    let links: Vec<_> = files.iter().map(|(v, p, q)| (v, p, q)).collect();
    verify_chain(&links)?;
    step.done();
    let outputs = files.last().and_then(|(_, _, p)| p.outputs_f64()).unwrap_or_default();
    let outputs = crate::ui::outputs_summary(&outputs, "the last segment's proof");
    println!("chain of {} segments verified; outputs {outputs}", plan.segments.len());
    Ok(())
}
