//! `zkinfer bench`: runs the full flow on a set of models, each in its own process
//! (so peak memory is per model), optionally with EZKL side by side on the same
//! machine, and writes the figures as JSON (plus a Markdown table on stdout).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use zkinfer_models::peer::peer_models_dir;
use zkinfer_prover::fs;

use crate::pipeline::{parse_engine, parse_prover, CompileFlags, SrsFlags, Workdir};
use crate::report::Report;
use crate::ui::Ui;
use zkinfer_prover::native::EngineChoice;
use zkinfer_prover::prove::ProverKind;

/// The models of the foundation benchmark.
pub const DEFAULT_MODELS: &str =
    "1l_mlp,1l_conv,1l_max_pool,1l_average,1l_softmax,2l_relu_sigmoid_small,4l_relu_conv_fc,lenet_5";

/// Arguments of `bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Models: names of directories under --models-dir, or paths of model directories
    /// (each with network.onnx and input.json).
    #[arg(long, value_delimiter = ',', default_value = DEFAULT_MODELS)]
    pub models: Vec<String>,
    /// Directory of example models [default: $ZKINFER_PEER_MODELS or ../shared/peer-models].
    #[arg(long)]
    pub models_dir: Option<PathBuf>,
    /// Also run EZKL's default flow on each model, in the same run.
    #[arg(long)]
    pub ezkl: bool,
    /// Also verify each proof with its generated Solidity verifier in the EVM and
    /// report gas, bytecode and calldata sizes (implies `--profile evm` unless
    /// `--profile` is given; needs solc 0.8.19).
    #[arg(long)]
    pub evm: bool,
    /// Run EZKL with calibrated settings instead of its defaults.
    #[arg(long)]
    pub ezkl_calibrate: bool,
    /// Python interpreter with ezkl installed [default: the venv of ../shared/bench/ezkl-setup.sh].
    #[arg(long)]
    pub ezkl_python: Option<PathBuf>,
    /// EZKL flow script [default: ../shared/bench/ezkl_flow.py].
    #[arg(long)]
    pub ezkl_script: Option<PathBuf>,
    /// Where to write the JSON results.
    #[arg(long, short, default_value = "bench.json")]
    pub out: PathBuf,
    /// Directory for each model's artifacts [default: out/bench].
    #[arg(long)]
    pub work: Option<PathBuf>,
    /// Prover cores to run, each in its own process per model (e.g.
    /// `halo2,native` compares them side by side).
    #[arg(long, value_delimiter = ',', value_parser = parse_prover, default_value = "native")]
    pub prover: Vec<ProverKind>,

    /// Engines of the native prover's MSMs and NTTs to compare, comma-separated
    /// (`cpu`, `gpu`, `auto`): each model is proven once per prover and engine.
    #[arg(long, value_delimiter = ',', value_parser = parse_engine, default_value = "auto")]
    pub engine: Vec<EngineChoice>,
    /// Compilation settings.
    #[command(flatten)]
    pub flags: CompileFlags,
    /// SRS source.
    #[command(flatten)]
    pub srs: SrsFlags,
}

/// The machine a benchmark ran on.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// Memory in GiB.
    pub memory_gib: f64,
}

/// One model's row.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchRow {
    /// Model name.
    pub model: String,
    /// zkinfer's report, if the run succeeded.
    pub zkinfer: Option<Report>,
    /// zkinfer's error otherwise.
    pub zkinfer_error: Option<String>,
    /// EZKL's figures (its script's JSON line), when run.
    pub ezkl: Option<serde_json::Value>,
    /// zkinfer / EZKL ratios of prove time, setup time and peak memory.
    pub ratios: Option<serde_json::Value>,
}

/// The benchmark file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchResults {
    /// UTC date.
    pub date: String,
    /// Machine.
    pub machine: Machine,
    /// zkinfer version.
    pub zkinfer_version: String,
    /// Compilation flags used.
    pub flags: Vec<String>,
    /// Per-model rows.
    pub rows: Vec<BenchRow>,
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kib: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    Machine {
        cpu,
        cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        memory_gib: kib / (1024.0 * 1024.0),
    }
}

/// Today's UTC date, `YYYY-MM-DD`.
pub fn utc_date() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let days = (secs / 86_400) as i64;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    format!("{y:04}-{m:02}-{d:02}")
}

impl CompileFlags {
    /// The flags as command-line arguments.
    pub fn to_args(&self) -> Vec<String> {
        let mut a = vec![format!("--headroom-bits={}", self.headroom_bits), format!("--max-k={}", self.max_k)];
        if let Some(s) = self.scale {
            a.push(format!("--scale={s}"));
        }
        if let Some(e) = self.target_error {
            a.push(format!("--target-error={e}"));
        }
        if let Some(b) = self.value_bits {
            a.push(format!("--value-bits={b}"));
        }
        if let Some(l) = self.lanes {
            a.push(format!("--lanes={}:{}:{}", l.dot_lanes, l.dot_width, l.elem_lanes));
        }
        if let Some(p) = self.profile {
            a.push(format!("--profile={}", zkinfer_circuits::plan::Profile::from(p).name()));
        }
        a.push(format!("--input-visibility={}", self.input_visibility));
        a.push(format!("--output-visibility={}", self.output_visibility));
        a.push(format!("--weights-visibility={}", self.weights_visibility));
        a
    }
}

impl SrsFlags {
    /// The flags as command-line arguments.
    pub fn to_args(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(p) = &self.srs {
            a.push(format!("--srs={}", p.display()));
        }
        if let Some(p) = &self.srs_dir {
            a.push(format!("--srs-dir={}", p.display()));
        }
        a
    }
}

fn model_dir(models_dir: &Path, name: &str) -> PathBuf {
    let p = PathBuf::from(name);
    if p.join("network.onnx").exists() {
        p
    } else {
        models_dir.join(name)
    }
}

fn run_zkinfer(dir: &Path, work: &Path, args: &BenchArgs, prover: ProverKind, engine: EngineChoice) -> Result<Report> {
    let exe = std::env::current_exe().context("locating the zkinfer binary")?;
    let status = Command::new(exe)
        .arg("--quiet")
        .arg("run")
        .arg(dir.join("network.onnx"))
        .arg("--input")
        .arg(dir.join("input.json"))
        .arg("--out")
        .arg(work)
        .args(args.flags.to_args())
        .args(args.srs.to_args())
        .args(args.evm.then_some("--evm"))
        .arg(format!("--prover={}", prover.name()))
        .arg(format!("--engine={engine}"))
        .output()
        .context("starting zkinfer run")?;
    if !status.status.success() {
        bail!("{}", String::from_utf8_lossy(&status.stderr).trim());
    }
    let report = fs::read(&Workdir(work.to_path_buf()).report())?;
    Ok(serde_json::from_slice(&report)?)
}

fn run_ezkl(dir: &Path, args: &BenchArgs, shared: &Path) -> Result<serde_json::Value> {
    let python = match &args.ezkl_python {
        Some(p) => p.clone(),
        None => {
            let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
            home.join(".cache/zkinfer-bench/ezkl-venv/bin/python")
        }
    };
    let script = args.ezkl_script.clone().unwrap_or_else(|| shared.join("bench/ezkl_flow.py"));
    if !python.exists() || !script.exists() {
        bail!(
            "EZKL is not set up ({} / {})\n  hint: run ../shared/bench/ezkl-setup.sh, or pass --ezkl-python and --ezkl-script",
            python.display(),
            script.display()
        );
    }
    let mut cmd = Command::new(python);
    cmd.arg(&script).arg(dir);
    if args.ezkl_calibrate {
        cmd.arg("--calibrate");
    }
    let out = cmd.output().context("starting EZKL")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().rev().find(|l| l.trim_start().starts_with('{')).unwrap_or("");
    serde_json::from_str(line)
        .with_context(|| format!("EZKL printed no result: {}", String::from_utf8_lossy(&out.stderr)))
}

fn ratios(z: &Report, e: &serde_json::Value) -> Option<serde_json::Value> {
    let get = |k: &str| e.get(k).and_then(|v| v.as_f64()).filter(|v| *v > 0.0);
    Some(serde_json::json!({
        "prove": get("prove_s").map(|v| z.prove_s / v),
        "setup": get("setup_s").map(|v| z.setup_s / v),
        "peak_rss": get("peak_rss_mib").map(|v| z.peak_rss_mib / v),
        "pk_bytes": get("pk_bytes").map(|v| z.pk_bytes as f64 / v),
    }))
}

/// `halo2`, `native`, or `native gpu` when the engine was the GPU.
fn tool_label(z: &Report) -> String {
    let prover = if z.prover.is_empty() { "halo2" } else { &z.prover };
    if z.engine.starts_with("gpu") {
        format!("{prover} {}", z.engine)
    } else {
        prover.to_string()
    }
}

fn markdown(results: &BenchResults) -> String {
    let mut s = format!(
        "Machine: {} ({} CPUs, {:.0} GiB), {}\n\n",
        results.machine.cpu, results.machine.cpus, results.machine.memory_gib, results.date
    );
    s.push_str(
        "| model | tool | k | rows | setup s | prove s | verify ms | peak MiB | pk MB | proof B | max abs err |\n",
    );
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in &results.rows {
        match &r.zkinfer {
            Some(z) => s.push_str(&format!(
                "| {} | zkinfer {} | {} | {} | {:.2} | {:.2} | {:.1} | {:.0} | {:.1} | {} | {:.1e} |\n",
                r.model,
                tool_label(z),
                z.k,
                z.rows,
                z.setup_s,
                z.prove_s,
                z.verify_s * 1e3,
                z.peak_rss_mib,
                z.pk_bytes as f64 / 1e6,
                z.proof_bytes,
                z.max_abs_error
            )),
            None => s.push_str(&format!(
                "| {} | zkinfer | failed: {} |\n",
                r.model,
                r.zkinfer_error.clone().unwrap_or_default()
            )),
        }
        if let Some(e) = &r.ezkl {
            let f = |k: &str| e.get(k).cloned().unwrap_or(serde_json::Value::Null);
            let num = |k: &str, scale: f64, prec: usize| {
                f(k).as_f64().map_or("–".to_string(), |v| format!("{:.*}", prec, v * scale))
            };
            s.push_str(&format!(
                "| {} | EZKL | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                r.model,
                f("k"),
                f("rows"),
                num("setup_s", 1.0, 2),
                num("prove_s", 1.0, 2),
                num("verify_s", 1e3, 1),
                num("peak_rss_mib", 1.0, 0),
                num("pk_bytes", 1e-6, 1),
                f("proof_bytes"),
                f("max_abs_error").as_f64().map_or("–".into(), |v| format!("{v:.1e}")),
            ));
        }
    }
    if results.rows.iter().any(|r| r.zkinfer.as_ref().is_some_and(|z| z.evm_gas.is_some())) {
        s.push_str("\n| model | profile | k | prove s | EVM gas | runtime bytecode B | calldata B |\n|---|---|---|---|---|---|---|\n");
        for r in &results.rows {
            if let Some(z) = &r.zkinfer {
                let opt = |v: Option<u64>| v.map_or("–".to_string(), |v| v.to_string());
                s.push_str(&format!(
                    "| {} | {} | {} | {:.2} | {} | {} | {} |\n",
                    r.model,
                    z.profile,
                    z.k,
                    z.prove_s,
                    opt(z.evm_gas),
                    opt(z.evm_bytecode_bytes.map(|v| v as u64)),
                    opt(z.calldata_bytes.map(|v| v as u64)),
                ));
            }
        }
    }
    s
}

/// Runs `bench`.
pub fn run(args: BenchArgs, ui: &Ui) -> Result<()> {
    if args.evm {
        zkinfer_verifier::evm::find_solc()?;
    }
    let models_dir = args.models_dir.clone().unwrap_or_else(peer_models_dir);
    let shared = models_dir.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let work = args.work.clone().unwrap_or_else(|| PathBuf::from("out/bench"));
    let mut rows = Vec::new();
    for name in &args.models {
        let dir = model_dir(&models_dir, name);
        let model = dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| name.clone());
        let runs = args.prover.iter().flat_map(|p| args.engine.iter().map(move |e| (*p, *e)));
        for (i, (prover, engine)) in runs.enumerate() {
            let step = ui.step(&format!("zkinfer ({} prover, {engine} engine) on {model}", prover.name()));
            let run_dir = work.join(&model).join(format!("{}-{engine}", prover.name()));
            let z = run_zkinfer(&dir, &run_dir, &args, prover, engine);
            step.done();
            let (zkinfer, zkinfer_error) = match z {
                Ok(r) => (Some(r), None),
                Err(e) => (None, Some(format!("{e:#}"))),
            };
            let ezkl = (args.ezkl && i == 0).then(|| run_ezkl_step(&dir, &model, &args, &shared, ui)).flatten();
            let ratios = match (&zkinfer, &ezkl) {
                (Some(z), Some(e)) => ratios(z, e),
                _ => None,
            };
            rows.push(BenchRow { model: model.clone(), zkinfer, zkinfer_error, ezkl, ratios });
        }
    }
    finish(rows, &args)
}

fn run_ezkl_step(dir: &Path, model: &str, args: &BenchArgs, shared: &Path, ui: &Ui) -> Option<serde_json::Value> {
    let step = ui.step(&format!("EZKL on {model}"));
    let e = run_ezkl(dir, args, shared);
    step.done();
    Some(e.unwrap_or_else(|e| serde_json::json!({"ok": false, "error": format!("{e:#}")})))
}

fn finish(rows: Vec<BenchRow>, args: &BenchArgs) -> Result<()> {
    let results = BenchResults {
        date: utc_date(),
        machine: machine(),
        zkinfer_version: env!("CARGO_PKG_VERSION").to_string(),
        flags: args.flags.to_args(),
        rows,
    };
    fs::write_atomic(&args.out, &serde_json::to_vec_pretty(&results)?)?;
    println!("{}", markdown(&results));
    println!("results: {}", args.out.display());
    let failed: Vec<&str> = results.rows.iter().filter(|r| r.zkinfer.is_none()).map(|r| r.model.as_str()).collect();
    if !failed.is_empty() {
        bail!("zkinfer failed on: {}", failed.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_date_is_well_formed() {
        let d = utc_date();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"), "{d}");
    }
}
