//! `zkinfer aggregate`: one proof for a whole segment chain, verified in Rust and
//! (with `--evm`) by a Solidity verifier in the EVM.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use clap::Args;
use halo2_axiom::SerdeFormat;
use serde::{Deserialize, Serialize};
use zkinfer_prover::aggregate::{
    aggregate, chain_links, read_aggregation_vk, segment_snark, verify_aggregated, ChainLink,
};
use zkinfer_prover::chain::segment_witness;
use zkinfer_prover::fs::{self, peak_rss_mib};
use zkinfer_prover::keys::keygen_native;
use zkinfer_prover::native::Engines;
use zkinfer_verifier::api::parse_instances;
use zkinfer_verifier::evm::{compile_verifier, find_solc, raw_calldata, run_verifier, solidity_aggregation_verifier};

use super::chain::{plan_dir, plan_srs, read_plan, read_whole};
use super::hash::field_hex;
use crate::pipeline::{load_srs, read_compiled, read_input, GuardFlags, SrsFlags, Workdir};
use crate::ui::Ui;

/// Arguments of `aggregate`.
#[derive(Args, Debug)]
pub struct AggregateArgs {
    /// The plan written by `split`.
    #[arg(long)]
    pub plan: PathBuf,
    /// The model's input file (EZKL layout).
    #[arg(long, short)]
    pub input: PathBuf,
    /// log2 of the aggregation circuit's rows (more rows, fewer columns).
    #[arg(long, default_value_t = 20)]
    pub k: u32,
    /// Also generate the Solidity verifier (aggregate/Verifier.sol), verify the
    /// aggregated proof in an in-process EVM and report its gas. Needs solc 0.8.19
    /// (scripts/setup-solc.sh).
    #[arg(long)]
    pub evm: bool,
    /// SRS source [default: the plan's srs/ cache].
    #[command(flatten)]
    pub srs: SrsFlags,
    /// Resource guard.
    #[command(flatten)]
    pub guard: GuardFlags,
}

/// Arguments of `verify-aggregate`.
#[derive(Args, Debug)]
pub struct VerifyAggregateArgs {
    /// The plan next to which `aggregate` wrote aggregate/.
    #[arg(long)]
    pub plan: PathBuf,
    /// SRS source [default: the plan's srs/ cache].
    #[command(flatten)]
    pub srs: SrsFlags,
}

/// What `aggregate` writes next to the proof: how to rebuild and check it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AggregateReport {
    /// Model name.
    pub model: String,
    /// Segments aggregated.
    pub segments: usize,
    /// log2 rows of the aggregation circuit.
    pub k: u32,
    /// Its advice columns.
    pub advice_columns: usize,
    /// Its lookup advice columns.
    pub lookup_advice_columns: usize,
    /// Its fixed columns.
    pub fixed_columns: usize,
    /// Bits of its range table.
    pub lookup_bits: usize,
    /// The chain links it constrains.
    pub links: Vec<ChainLink>,
    /// Public values: 12 for the accumulator, then every segment's.
    pub instances: usize,
    /// Seconds to re-prove the segments over the Poseidon transcript.
    pub segments_s: f64,
    /// Seconds of the aggregation circuit's key generation.
    pub setup_s: f64,
    /// Seconds to prove it.
    pub prove_s: f64,
    /// Seconds to verify it in Rust (proof and accumulator).
    pub verify_s: f64,
    /// Bytes of the aggregated proof.
    pub proof_bytes: usize,
    /// Peak resident memory of the process.
    pub peak_rss_mib: f64,
    /// Gas of the verifying transaction (`--evm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evm_gas: Option<u64>,
    /// Runtime bytecode of the verifier (`--evm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evm_bytecode_bytes: Option<usize>,
}

/// Runs `aggregate`.
pub fn run_aggregate(args: AggregateArgs, ui: &Ui) -> Result<()> {
    if args.evm {
        find_solc()?;
    }
    let plan = read_plan(&args.plan)?;
    ensure!(plan.segments.len() >= 2, "the plan has {} segment; aggregation needs a chain", plan.segments.len());
    let (root, whole) = read_whole(&plan, &args.plan)?;
    let input = read_input(&args.input)?;
    let srs_flags = plan_srs(&args.srs, &args.plan);
    let engines = Engines::cpu();
    let mut segments = Vec::new();
    for record in &plan.segments {
        let segment = read_compiled(&Workdir(root.join(&record.dir)).compiled())?;
        args.guard.check(&segment.shape, zkinfer_prover::prove::ProverKind::Native, "proving a segment")?;
        ensure!(
            segment.shape.k <= args.k,
            "segment {} needs k = {}, more than the aggregation circuit's --k {}\n  hint: pass a larger --k (20–22 is typical)",
            record.index,
            segment.shape.k,
            args.k
        );
        segments.push(segment);
    }
    // Every segment is proven with this SRS cut down: one secret for all sizes,
    // as the accumulator's pairing needs.
    let srs = load_srs(&srs_flags, args.k, ui)?;
    let start = Instant::now();
    let mut snarks = Vec::new();
    let mut parts = Vec::new();
    for (record, segment) in plan.segments.iter().zip(&segments) {
        let srs = srs.downsized(segment.shape.k)?;
        let step = ui.step(&format!("segment {}: proving for aggregation (Poseidon transcript)", record.index));
        let pk = keygen_native(segment, &srs)?;
        let witness = segment_witness(&whole, record, segment, &input.tensors)?;
        snarks.push(segment_snark(segment, &pk, &srs.params, witness, &engines)?);
        parts.push(zkinfer_circuits::plan::graph_instances(&segment.graph, &segment.shape.visibility));
        step.done();
    }
    let segments_s = start.elapsed().as_secs_f64();
    let links = chain_links(&parts)?;
    let step = ui.step(&format!("aggregating {} proofs (k = {})", snarks.len(), args.k));
    let agg = aggregate(&srs.params, snarks, &links)?;
    step.done();
    let step = ui.step("verifying the aggregated proof");
    let t = Instant::now();
    verify_aggregated(&srs.params, &agg.vk, &agg.instances, &agg.proof)?;
    let verify_s = t.elapsed().as_secs_f64();
    step.done();

    let dir = root.join("aggregate");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::write_atomic(&dir.join("proof.bin"), &agg.proof)?;
    fs::write_atomic(&dir.join("vk.bin"), &agg.vk.to_bytes(SerdeFormat::RawBytes))?;
    fs::write_atomic(&dir.join("config.json"), &serde_json::to_vec_pretty(&agg.config)?)?;
    let instances: Vec<String> = agg.instances.iter().map(field_hex).collect();
    fs::write_atomic(&dir.join("instances.json"), &serde_json::to_vec_pretty(&instances)?)?;
    let mut report = AggregateReport {
        model: plan.model.clone(),
        segments: plan.segments.len(),
        k: agg.config.degree,
        advice_columns: agg.config.num_advice,
        lookup_advice_columns: agg.config.num_lookup_advice,
        fixed_columns: agg.config.num_fixed,
        lookup_bits: agg.config.lookup_bits,
        links,
        instances: agg.instances.len(),
        segments_s,
        setup_s: agg.setup_s,
        prove_s: agg.prove_s,
        verify_s,
        proof_bytes: agg.proof.len(),
        peak_rss_mib: 0.0,
        evm_gas: None,
        evm_bytecode_bytes: None,
    };
    if args.evm {
        let kzg = &srs.params;
        let name = format!("{} ({} segments, aggregated)", plan.model, plan.segments.len());
        let verifier = solidity_aggregation_verifier(kzg, &agg.vk, agg.instances.len(), &name)?;
        fs::write_atomic(&dir.join("Verifier.sol"), verifier.source.as_bytes())?;
        let data = raw_calldata(&agg.instances, &agg.proof);
        fs::write_atomic(&dir.join("calldata.bin"), &data)?;
        let step = ui.step("compiling and running the Solidity verifier (revm)");
        let contract = compile_verifier(&find_solc()?, &verifier.source)?;
        let run = run_verifier(&contract, std::slice::from_ref(&data))?.remove(0);
        step.done();
        ensure!(run.accepted, "the EVM verifier rejected the aggregated proof that the Rust verifier accepted");
        report.evm_gas = Some(run.gas_used);
        report.evm_bytecode_bytes = Some(run.runtime_bytes);
    }
    report.peak_rss_mib = peak_rss_mib().unwrap_or(0.0);
    fs::write_atomic(&dir.join("report.json"), &serde_json::to_vec_pretty(&report)?)?;
    println!(
        "aggregated {} segments: k = {}, keys {:.1} s, proof {:.1} s, verified in {:.1} ms, {} byte proof{} ({})",
        report.segments,
        report.k,
        report.setup_s,
        report.prove_s,
        verify_s * 1e3,
        report.proof_bytes,
        report.evm_gas.map(|g| format!(", EVM gas {g}")).unwrap_or_default(),
        dir.display()
    );
    Ok(())
}

/// Runs `verify-aggregate`: the aggregated proof against its key, with the
/// accumulator's pairing, from the files `aggregate` wrote.
pub fn run_verify_aggregate(args: VerifyAggregateArgs, ui: &Ui) -> Result<()> {
    let dir = plan_dir(&args.plan).join("aggregate");
    let read = |name: &str| fs::read(&dir.join(name));
    let config = serde_json::from_slice(&read("config.json")?)
        .with_context(|| format!("{} is not an aggregation config", dir.join("config.json").display()))?;
    let vk = read_aggregation_vk(&read("vk.bin")?, config)?;
    let hex: Vec<String> = serde_json::from_slice(&read("instances.json")?)
        .with_context(|| format!("{} is not a list of public values", dir.join("instances.json").display()))?;
    let instances =
        parse_instances(&hex).with_context(|| format!("reading {}", dir.join("instances.json").display()))?;
    let proof = read("proof.bin")?;
    let srs = load_srs(&plan_srs(&args.srs, &args.plan), vk.get_domain().k(), ui)?;
    let t = Instant::now();
    verify_aggregated(&srs.params, &vk, &instances, &proof)?;
    println!(
        "aggregated proof verified in {:.1} ms ({} public values)",
        t.elapsed().as_secs_f64() * 1e3,
        instances.len()
    );
    Ok(())
}
