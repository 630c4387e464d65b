//! # zkinfer-cli
//!
//! The `zkinfer` command. One file per subcommand under [`commands`]; the steps they
//! share live in [`pipeline`].

#![deny(missing_docs)]

pub mod commands;
pub mod pipeline;
pub mod report;
pub mod ui;

use anyhow::Result;
use clap::{Parser, Subcommand};

use commands::{
    aggregate, bench, bench_engines, calibrate, chain, compile, evm, hash, import_srs, inspect, prove, run as run_cmd,
    setup, verify,
};

/// Prove machine-learning inference with zero-knowledge proofs (halo2, KZG/BN254).
#[derive(Parser, Debug)]
#[command(name = "zkinfer", version, about, long_about = None)]
pub struct Cli {
    /// Do not show progress.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Compile, set up, prove and verify in one go; writes report.json.
    Run(run_cmd::RunArgs),
    /// Lower and quantise an ONNX model and plan its circuit.
    Compile(compile::CompileArgs),
    /// Compile from several sample inputs: every scale on every sample, the
    /// trade-off reported, and every sample checked to fit the chosen circuit.
    Calibrate(calibrate::CalibrateArgs),
    /// Generate (or load) the SRS and the proving and verifying keys.
    Setup(setup::SetupArgs),
    /// Prove one inference.
    Prove(prove::ProveArgs),
    /// Verify a proof.
    Verify(verify::VerifyArgs),
    /// Show the operator table, rows per layer and the circuit for a model.
    Inspect(inspect::InspectArgs),
    /// Cut a model into segments that each fit --max-k (or --max-memory-mib),
    /// linked by Poseidon commitments of their boundary tensors.
    Split(chain::SplitArgs),
    /// Prove one segment of a split model (index from --index or the scheduler).
    ProveSegment(chain::ProveSegmentArgs),
    /// Prove every segment locally, each in its own process, --jobs at a time.
    ProveChain(chain::ProveChainArgs),
    /// Verify every segment's proof and that consecutive segments link up.
    VerifyChain(chain::VerifyChainArgs),
    /// Fold a split model's segment proofs into one proof (an aggregation
    /// circuit that also checks the links); `--evm` verifies it on-chain.
    Aggregate(aggregate::AggregateArgs),
    /// Verify the aggregated proof `aggregate` wrote.
    VerifyAggregate(aggregate::VerifyAggregateArgs),
    /// Print the Poseidon commitment of an input, as a proof with
    /// `--input-visibility hashed` exposes it.
    Hash(hash::HashArgs),
    /// Benchmark models (optionally side by side with EZKL) and write JSON.
    Bench(bench::BenchArgs),
    /// Check an MSM/NTT engine (the GPU) against the CPU engine on random inputs,
    /// result for result, and time both; writes JSON.
    BenchEngines(bench_engines::BenchEnginesArgs),
    /// Import a ceremony SRS (.ptau, zkinfer or halo2 format) into the SRS cache.
    ImportSrs(import_srs::ImportSrsArgs),
    /// Write a Solidity verifier contract for a verifying key (and its ABI).
    CreateEvmVerifier(evm::CreateArgs),
    /// Write the calldata (public values, then proof) of a verifier call.
    EncodeEvmCalldata(evm::EncodeArgs),
    /// Compile a Solidity verifier with solc 0.8.19, deploy it in an in-process EVM
    /// and verify a proof with it; prints gas and bytecode size.
    VerifyEvm(evm::VerifyEvmArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let ui = ui::Ui { quiet: cli.quiet };
    match cli.command {
        Command::Run(a) => run_cmd::run(a, &ui),
        Command::Compile(a) => compile::run(a, &ui),
        Command::Calibrate(a) => calibrate::run(a, &ui),
        Command::Setup(a) => setup::run(a, &ui),
        Command::Prove(a) => prove::run(a, &ui),
        Command::Verify(a) => verify::run(a, &ui),
        Command::Inspect(a) => inspect::run(a, &ui),
        Command::Hash(a) => hash::run(a, &ui),
        Command::Split(a) => chain::run_split(a, &ui),
        Command::ProveSegment(a) => chain::run_prove_segment(a, &ui),
        Command::ProveChain(a) => chain::run_prove_chain(a, &ui),
        Command::VerifyChain(a) => chain::run_verify_chain(a, &ui),
        Command::Aggregate(a) => aggregate::run_aggregate(a, &ui),
        Command::VerifyAggregate(a) => aggregate::run_verify_aggregate(a, &ui),
        Command::Bench(a) => bench::run(a, &ui),
        Command::BenchEngines(a) => bench_engines::run(a, &ui),
        Command::ImportSrs(a) => import_srs::run(a, &ui),
        Command::CreateEvmVerifier(a) => evm::run_create(a, &ui),
        Command::EncodeEvmCalldata(a) => evm::run_encode(a, &ui),
        Command::VerifyEvm(a) => evm::run_verify(a, &ui),
    }
}

/// The error chain as one message.
pub fn describe(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg
}
