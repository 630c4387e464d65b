//! The on-chain commands: `create-evm-verifier`, `encode-evm-calldata` and
//! `verify-evm`, plus the EVM step of `run --evm`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use zkinfer_prover::fs;
use zkinfer_verifier::evm::{
    calldata, compile_verifier, find_solc, run_verifier, solidity_verifier, Contract, EvmRun, EvmVerifier,
    VerifierHeader, MAX_RUNTIME_BYTES,
};
use zkinfer_verifier::{VerifierParams, VerifyingKey};

use crate::pipeline::{read_params, read_proof, read_vk, Workdir};
use crate::ui::Ui;

fn workdir(dir: &Option<PathBuf>) -> Workdir {
    Workdir(dir.clone().unwrap_or_else(|| PathBuf::from(".")))
}

/// The warning printed for a verifier over EIP-170's limit.
pub fn size_warning(runtime_bytes: usize) -> String {
    format!(
        "the verifier's runtime bytecode is {runtime_bytes} B, over EIP-170's {MAX_RUNTIME_BYTES} B: Ethereum mainnet would refuse to deploy it (chains without the limit accept it)\n  hint: compile the model with `--profile evm`, whose circuits have few commitments and small verifiers"
    )
}

/// Arguments of `create-evm-verifier`.
#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Working directory with vk.bin and verifier.params.
    pub dir: Option<PathBuf>,
    /// The verifying key [default: DIR/vk.bin].
    #[arg(long)]
    pub vk: Option<PathBuf>,
    /// The verifier parameters [default: DIR/verifier.params].
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// Where to write the Solidity verifier [default: DIR/Verifier.sol].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write the contract's ABI (JSON) here; needs solc.
    #[arg(long)]
    pub abi: Option<PathBuf>,
}

/// Generates the verifier of a key; compiles it when solc is present (or required).
pub fn create(vk: &VerifyingKey, params: &VerifierParams, ui: &Ui) -> Result<EvmVerifier> {
    let step = ui.step("generating the Solidity verifier");
    let verifier = solidity_verifier(vk, params)?;
    step.done();
    Ok(verifier)
}

/// Compiles a verifier with the pinned solc.
pub fn compile(source: &str, ui: &Ui) -> Result<Contract> {
    let solc = find_solc()?;
    let step = ui.step("compiling the verifier with solc 0.8.19");
    let contract = compile_verifier(&solc, source)?;
    step.done();
    Ok(contract)
}

/// Runs `create-evm-verifier`.
pub fn run_create(args: CreateArgs, ui: &Ui) -> Result<()> {
    let dir = workdir(&args.dir);
    let vk_path = args.vk.clone().unwrap_or_else(|| dir.vk());
    let params_path = args.params.clone().unwrap_or_else(|| dir.params());
    let vk = read_vk(&vk_path)?;
    let params = read_params(&params_path)?;
    let verifier = create(&vk, &params, ui)?;
    let out = args.out.clone().unwrap_or_else(|| dir.verifier_sol());
    fs::write_atomic(&out, verifier.source.as_bytes())?;
    let h = &verifier.header;
    println!(
        "wrote {} (contract Halo2Verifier, model {}): calldata {} B = {} public values × 32 B + {} B proof",
        out.display(),
        h.model,
        h.calldata_bytes(),
        h.instances,
        h.proof_bytes
    );
    let contract = match (&args.abi, find_solc()) {
        (None, Err(_)) => {
            ui.warn("solc 0.8.19 not found: bytecode size not measured (run scripts/setup-solc.sh to install it)");
            return Ok(());
        }
        (Some(_), Err(e)) => return Err(e).context("--abi needs solc to compile the verifier"),
        (_, Ok(_)) => compile(&verifier.source, ui)?,
    };
    println!("runtime bytecode: {} B (EIP-170 limit {MAX_RUNTIME_BYTES} B)", contract.runtime.len());
    if contract.runtime.len() > MAX_RUNTIME_BYTES {
        ui.warn(&size_warning(contract.runtime.len()));
    }
    if let Some(abi) = &args.abi {
        fs::write_atomic(abi, &serde_json::to_vec_pretty(&contract.abi)?)?;
        println!("wrote {}", abi.display());
    }
    Ok(())
}

/// Arguments of `encode-evm-calldata`.
#[derive(Args, Debug)]
pub struct EncodeArgs {
    /// Working directory with proof.bin.
    pub dir: Option<PathBuf>,
    /// The proof [default: DIR/proof.bin].
    #[arg(long)]
    pub proof: Option<PathBuf>,
    /// Where to write the calldata [default: DIR/calldata.bin].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write it as 0x-prefixed hex (for `cast`, ethers or web3).
    #[arg(long)]
    pub hex: bool,
}

/// Runs `encode-evm-calldata`.
pub fn run_encode(args: EncodeArgs, _ui: &Ui) -> Result<()> {
    let dir = workdir(&args.dir);
    let proof = read_proof(&args.proof.clone().unwrap_or_else(|| dir.proof()))?;
    let data = calldata(&proof)?;
    let out = args.out.clone().unwrap_or_else(|| dir.calldata());
    if args.hex {
        fs::write_atomic(&out, format!("0x{}\n", zkinfer_verifier::artifact::hex(&data)).as_bytes())?;
    } else {
        fs::write_atomic(&out, &data)?;
    }
    println!(
        "wrote {}: {} B ({} public values × 32 B + {} B proof)",
        out.display(),
        data.len(),
        proof.instances.len(),
        proof.proof.len()
    );
    Ok(())
}

/// Arguments of `verify-evm`.
#[derive(Args, Debug)]
pub struct VerifyEvmArgs {
    /// Working directory with Verifier.sol and proof.bin.
    pub dir: Option<PathBuf>,
    /// The Solidity verifier [default: DIR/Verifier.sol].
    #[arg(long)]
    pub sol: Option<PathBuf>,
    /// The proof [default: DIR/proof.bin, unless --calldata is given].
    #[arg(long, conflicts_with = "calldata")]
    pub proof: Option<PathBuf>,
    /// Raw calldata (from `encode-evm-calldata`) instead of a proof file.
    #[arg(long)]
    pub calldata: Option<PathBuf>,
}

/// Prints an EVM run.
pub fn describe_run(run: &EvmRun, calldata_bytes: usize) -> String {
    format!(
        "EVM verification: {} | gas {} (whole transaction, Shanghai rules) | runtime bytecode {} B | calldata {} B",
        if run.accepted { "ok" } else { "FAILED" },
        run.gas_used,
        run.runtime_bytes,
        calldata_bytes
    )
}

/// Runs `verify-evm`.
pub fn run_verify(args: VerifyEvmArgs, ui: &Ui) -> Result<()> {
    let dir = workdir(&args.dir);
    let sol = args.sol.clone().unwrap_or_else(|| dir.verifier_sol());
    let source = std::fs::read_to_string(&sol).with_context(|| format!("cannot read {}", sol.display()))?;
    let header = VerifierHeader::parse(&source);
    if header.is_none() {
        ui.warn(&format!("{} has no zkinfer header: calldata and proof cannot be checked against it", sol.display()));
    }
    let data = match &args.calldata {
        Some(path) => {
            let data = fs::read(path)?;
            if let Some(h) = &header {
                h.check_calldata(&data)?;
            }
            data
        }
        None => {
            let proof = read_proof(&args.proof.clone().unwrap_or_else(|| dir.proof()))?;
            if let Some(h) = &header {
                h.check_proof(&proof)?;
            }
            calldata(&proof)?
        }
    };
    let contract = compile(&source, ui)?;
    let step = ui.step("deploying and calling the verifier in revm");
    let run = run_verifier(&contract, std::slice::from_ref(&data))?.remove(0);
    step.done();
    println!("{}", describe_run(&run, data.len()));
    if !run.deployable() {
        ui.warn(&size_warning(run.runtime_bytes));
    }
    if !run.accepted {
        bail!("the EVM verifier rejected the proof");
    }
    Ok(())
}
