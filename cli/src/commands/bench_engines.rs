//! `zkinfer bench-engines`: the MSM/NTT engine against the CPU engine, result
//! for result and in time, on random inputs of growing size. It answers "does
//! my GPU give the CPU's results, and how much faster" with the shipped binary
//! alone (the GPU machines have no Rust toolchain to run the test suite).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::Field;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use zkinfer_prover::fs;
use zkinfer_prover::native::engine::{sample_bases, Direction};
use zkinfer_prover::native::{select_for_comparison, EngineChoice, Engines};

use crate::pipeline::parse_engine;
use crate::ui::Ui;

/// Arguments of `bench-engines`.
#[derive(Args, Debug)]
pub struct BenchEnginesArgs {
    /// The engine to check against the CPU engine.
    #[arg(long, value_parser = parse_engine, default_value = "gpu")]
    pub engine: EngineChoice,
    /// Smallest size, log2.
    #[arg(long, default_value_t = 10)]
    pub min_log: u32,
    /// Largest size, log2.
    #[arg(long, default_value_t = 22)]
    pub max_log: u32,
    /// Step between sizes, in log2.
    #[arg(long, default_value_t = 2)]
    pub step: u32,
    /// Where to write the JSON results.
    #[arg(long, short, default_value = "bench-engines.json")]
    pub out: PathBuf,
}

/// One size.
#[derive(Debug, Serialize)]
struct Row {
    log_n: u32,
    msm_cpu_ms: f64,
    msm_ms: f64,
    ntt_cpu_ms: f64,
    ntt_ms: f64,
    intt_cpu_ms: f64,
    intt_ms: f64,
    coset_ntt_cpu_ms: f64,
    coset_ntt_ms: f64,
    /// Each result equal to the CPU's, bit for bit.
    msm_equal: bool,
    ntt_equal: bool,
    intt_equal: bool,
    coset_ntt_equal: bool,
    /// All four equal.
    equal: bool,
}

#[derive(Debug, Serialize)]
struct Results {
    requested: String,
    device: String,
    warning: Option<String>,
    fallback: Option<String>,
    /// Seconds to start the engine (a GPU's: the CUDA context and the device
    /// query; the start-up self-check is skipped, every result is compared here).
    start_s: f64,
    cpus: usize,
    rows: Vec<Row>,
}

fn ms<T>(work: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = work();
    (out, start.elapsed().as_secs_f64() * 1e3)
}

/// The same random inputs on both engines: MSM, forward, inverse and coset NTT.
fn compare(cpu: &Engines, other: &Engines, log_n: u32, rng: &mut StdRng) -> Row {
    let n = 1usize << log_n;
    let scalars: Vec<Fr> = (0..n).map(|_| Fr::random(&mut *rng)).collect();
    let bases = sample_bases(n, rng);
    let (msm_cpu, msm_cpu_ms) = ms(|| cpu.msm.msm(&scalars, &bases));
    let (msm, msm_ms) = ms(|| other.msm.msm(&scalars, &bases));
    let msm_equal = msm_cpu == msm;
    let transform = |run: &dyn Fn(&Engines, &mut Vec<Fr>)| {
        let (mut a, mut b) = (scalars.clone(), scalars.clone());
        let ((), cpu_ms) = ms(|| run(cpu, &mut a));
        let ((), other_ms) = ms(|| run(other, &mut b));
        (cpu_ms, other_ms, a == b)
    };
    let (ntt_cpu_ms, ntt_ms, ntt_equal) = transform(&|e, v| e.ntt.ntt(v, log_n, Direction::Forward));
    let (intt_cpu_ms, intt_ms, intt_equal) = transform(&|e, v| e.ntt.ntt(v, log_n, Direction::Inverse));
    let shift = Fr::from(7);
    let (coset_ntt_cpu_ms, coset_ntt_ms, coset_ntt_equal) = transform(&|e, v| e.ntt.coset_ntt(v, log_n, shift));
    Row {
        log_n,
        msm_cpu_ms,
        msm_ms,
        ntt_cpu_ms,
        ntt_ms,
        intt_cpu_ms,
        intt_ms,
        coset_ntt_cpu_ms,
        coset_ntt_ms,
        msm_equal,
        ntt_equal,
        intt_equal,
        coset_ntt_equal,
        equal: msm_equal && ntt_equal && intt_equal && coset_ntt_equal,
    }
}

/// "" when every result is equal, else which ones differ.
fn differences(row: &Row) -> String {
    let names =
        [(row.msm_equal, "MSM"), (row.ntt_equal, "NTT"), (row.intt_equal, "iNTT"), (row.coset_ntt_equal, "coset NTT")];
    let differ: Vec<&str> = names.iter().filter(|(equal, _)| !equal).map(|(_, name)| *name).collect();
    if differ.is_empty() {
        String::new()
    } else {
        format!("  DIFFERENT: {}", differ.join(", "))
    }
}

/// Runs `bench-engines`.
pub fn run(args: BenchEnginesArgs, ui: &Ui) -> Result<()> {
    if args.min_log > args.max_log || args.max_log > 26 || args.step == 0 {
        bail!("sizes must satisfy min-log ≤ max-log ≤ 26 with a step ≥ 1");
    }
    // Every result is compared below, so the engine's own start-up check is
    // skipped: a difference is reported per operation and size instead.
    let start = Instant::now();
    let selection = select_for_comparison(args.engine);
    let start_s = start.elapsed().as_secs_f64();
    if let Some(warning) = &selection.warning {
        ui.warn(warning);
    }
    let cpu = Engines::cpu();
    let mut rng = StdRng::seed_from_u64(20_261_126);
    // One untimed round first: the first calls pay for lazy start-up (a GPU's
    // context and module loading, the transform domain), not for the work.
    compare(&cpu, &selection.engines, args.min_log, &mut StdRng::seed_from_u64(1));
    let mut rows = Vec::new();
    let mut log_n = args.min_log;
    while log_n <= args.max_log {
        let step = ui.step(&format!("2^{log_n}: {} engine against the CPU", selection.engines.device()));
        let row = compare(&cpu, &selection.engines, log_n, &mut rng);
        step.done();
        println!(
            "2^{log_n}: MSM {:.1} ms (cpu {:.1}), NTT {:.2} ms (cpu {:.2}), iNTT {:.2} (cpu {:.2}), coset NTT {:.2} \
             (cpu {:.2}){}",
            row.msm_ms,
            row.msm_cpu_ms,
            row.ntt_ms,
            row.ntt_cpu_ms,
            row.intt_ms,
            row.intt_cpu_ms,
            row.coset_ntt_ms,
            row.coset_ntt_cpu_ms,
            differences(&row)
        );
        rows.push(row);
        log_n += args.step;
    }
    let results = Results {
        requested: args.engine.to_string(),
        device: selection.engines.device(),
        warning: selection.warning.clone(),
        fallback: selection.engines.fallback(),
        start_s,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        rows,
    };
    fs::write_atomic(&args.out, &serde_json::to_vec_pretty(&results)?)?;
    println!("results: {}", args.out.display());
    if args.engine == EngineChoice::Gpu && results.device != "gpu" {
        bail!("no GPU engine to check: {}", results.warning.as_deref().unwrap_or("the CPU was selected"));
    }
    if let Some(why) = &results.fallback {
        bail!("the {} engine fell back to the CPU during the run: {why}", args.engine);
    }
    if results.rows.iter().any(|r| !r.equal) {
        bail!("the {} engine's results differ from the CPU's (see {})", args.engine, args.out.display());
    }
    Ok(())
}
