//! Benchmark harness support. `cargo bench -p zkinfer-benches` runs the same suite
//! as `zkinfer bench`: each model's full flow (compile, setup, prove, verify) in its
//! own process so that peak memory is per model, optionally with EZKL's flow on the
//! same models in the same run.
//!
//! Environment: `ZKINFER_BENCH_MODELS` (comma-separated, default: the six
//! foundation models), `ZKINFER_BENCH_EZKL=1` (also run EZKL),
//! `ZKINFER_BENCH_OUT` (JSON path, default `target/zkinfer-bench.json` of the
//! workspace),
//! `ZKINFER_BENCH_ARGS` (extra `zkinfer bench` flags, e.g. `--target-error=2e-4`).

#![deny(missing_docs)]

use clap::Parser;
use zkinfer_cli::commands::bench::DEFAULT_MODELS;

/// The `zkinfer bench` command line the harness runs, from the environment.
pub fn bench_command_line() -> Vec<String> {
    let models = std::env::var("ZKINFER_BENCH_MODELS").unwrap_or_else(|_| DEFAULT_MODELS.to_string());
    let target =
        std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| format!("{}/../target", env!("CARGO_MANIFEST_DIR")));
    let out = std::env::var("ZKINFER_BENCH_OUT").unwrap_or_else(|_| format!("{target}/zkinfer-bench.json"));
    let mut args = vec![
        "zkinfer".to_string(),
        "bench".into(),
        format!("--models={models}"),
        format!("--out={out}"),
        format!("--work={target}/zkinfer-bench-work"),
    ];
    if std::env::var("ZKINFER_BENCH_EZKL").is_ok_and(|v| v == "1") {
        args.push("--ezkl".into());
    }
    if let Ok(extra) = std::env::var("ZKINFER_BENCH_ARGS") {
        args.extend(extra.split_whitespace().map(String::from));
    }
    args
}

/// Runs the harness. Invoked by cargo (`--bench`) it runs the suite; invoked by the
/// suite itself (a zkinfer command line) it acts as the `zkinfer` binary, so that
/// every model runs in a fresh process.
pub fn main_with_args(args: Vec<String>) -> anyhow::Result<()> {
    let cli_args = match args.get(1).map(String::as_str) {
        None | Some("--bench") => bench_command_line(),
        Some(_) => args,
    };
    zkinfer_cli::run(zkinfer_cli::Cli::try_parse_from(cli_args)?)
}
