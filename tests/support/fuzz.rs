//! A small mutation fuzzer for zkinfer's readers (the stable toolchain here cannot
//! run cargo-fuzz's sanitizers): seeded random edits of valid files — bit flips,
//! byte overwrites, truncations, insertions, deletions, appended garbage, spliced
//! duplicates — each run under `catch_unwind`. For checksummed zkinfer files half
//! of the cases are re-sealed (length and checksum recomputed) so that the decoders
//! behind the checksum are exercised too.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::Serialize;
use zkinfer_verifier::artifact::reseal;

/// What a fuzz target did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FuzzStats {
    /// Target name.
    pub target: String,
    /// Inputs tried.
    pub executions: usize,
    /// Inputs accepted (a mutation can leave a file valid, e.g. JSON whitespace).
    pub accepted: usize,
    /// Inputs refused with an error.
    pub errors: usize,
    /// Inputs that made the reader panic (must be zero).
    pub panics: usize,
    /// Error messages that were empty or said nothing (must be zero).
    pub blank_errors: usize,
    /// Error messages by kind (first words, numbers removed), counted.
    pub error_kinds: BTreeMap<String, usize>,
}

/// Prefix of an error a fuzz target reports when a reader *accepted* what it must
/// not (e.g. a changed proof verified).
pub const UNSOUND: &str = "UNSOUND:";

/// One random edit of `data`.
pub fn mutate(data: &[u8], rng: &mut ChaCha20Rng) -> Vec<u8> {
    let mut d = data.to_vec();
    let edits = rng.gen_range(1..=4);
    for _ in 0..edits {
        let len = d.len();
        match rng.gen_range(0..8) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                d[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.gen_range(0..len);
                d[i] = rng.gen();
            }
            2 if len > 0 => d.truncate(rng.gen_range(0..len)),
            3 => {
                let i = rng.gen_range(0..=len);
                let n = rng.gen_range(1..16);
                for _ in 0..n {
                    d.insert(i, rng.gen());
                }
            }
            4 if len > 1 => {
                let i = rng.gen_range(0..len - 1);
                let n = rng.gen_range(1..=(len - i).min(64));
                d.drain(i..i + n);
            }
            5 => {
                let n = rng.gen_range(1..64);
                d.extend((0..n).map(|_| rng.gen::<u8>()));
            }
            6 if len > 8 => {
                let a = rng.gen_range(0..len - 8);
                let b = rng.gen_range(0..len - 8);
                let n = rng.gen_range(1..=8);
                let chunk: Vec<u8> = d[a..a + n].to_vec();
                d[b..b + n].copy_from_slice(&chunk);
            }
            _ if len > 0 => {
                // Interesting integers at a random 4-byte-aligned position
                // (length fields, counts, sizes).
                let i = rng.gen_range(0..len) & !3;
                let v: u32 = [0, 1, 0x7fff_ffff, 0xffff_ffff, 1 << 28, 1 << 31][rng.gen_range(0..6)];
                for (k, b) in v.to_le_bytes().iter().enumerate() {
                    if i + k < len {
                        d[i + k] = *b;
                    }
                }
            }
            _ => d.push(rng.gen()),
        }
    }
    d
}

/// Runs `read` on `iterations` mutations of the seeds. `sealed` re-seals half of
/// the cases (for zkinfer's checksummed files).
pub fn fuzz(
    target: &str,
    seeds: &[Vec<u8>],
    iterations: usize,
    seed: u64,
    sealed: bool,
    read: impl Fn(&[u8]) -> Result<(), String>,
) -> FuzzStats {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut stats = FuzzStats { target: target.to_string(), ..Default::default() };
    for i in 0..iterations {
        let base = &seeds[i % seeds.len()];
        let mut data = mutate(base, &mut rng);
        if sealed && i % 2 == 0 {
            if let Some(resealed) = reseal(&data) {
                data = resealed;
            }
        }
        stats.executions += 1;
        match catch_unwind(AssertUnwindSafe(|| read(&data))) {
            Ok(Ok(())) => stats.accepted += 1,
            Ok(Err(msg)) => {
                stats.errors += 1;
                if msg.trim().len() < 10 {
                    stats.blank_errors += 1;
                }
                *stats.error_kinds.entry(error_kind(&msg)).or_default() += 1;
            }
            Err(_) => stats.panics += 1,
        }
    }
    stats
}

/// A short, stable label for an error message: its first line's leading words,
/// without numbers or file names.
fn error_kind(msg: &str) -> String {
    msg.lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .filter(|w| !w.contains('/') && !w.contains('.') && !w.chars().any(|c| c.is_ascii_digit()))
        .take(6)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every reader of zkinfer, fuzzed from the demo model's artifacts; `iterations`
/// per target (the proving key, being large, gets a tenth of them).
pub fn all_targets(a: &crate::DemoArtifacts, iterations: usize, seed: u64) -> Vec<FuzzStats> {
    use std::path::Path;
    use zkinfer_prover::compiled::CompiledModel;
    use zkinfer_prover::keys::ProvingKey;
    use zkinfer_verifier::{verify, Proof, VerifierParams, VerifyingKey};

    let vk = VerifyingKey::from_bytes(&a.vk, "vk.bin").expect("demo vk");
    let params = VerifierParams::from_bytes(&a.params, "verifier.params").expect("demo params");
    let raw_srs = {
        // halo2's raw format: what EZKL and other tools write.
        let (p, _) = zkinfer_prover::srs::from_bytes(&a.srs, Path::new("srs")).expect("demo srs");
        let mut out = Vec::new();
        p.write_custom(&mut out, halo2_axiom::SerdeFormat::RawBytes).expect("write");
        out
    };
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let original_proof = Proof::from_bytes(&a.proof, "proof.bin").expect("demo proof");
    let ptau =
        std::fs::read(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/pot6.ptau")).expect("ptau");
    let evm_targets = evm_targets(&vk, &params, &original_proof, iterations, seed);
    let mut targets = vec![
        fuzz("input JSON", std::slice::from_ref(&a.input_json), iterations, seed, false, |d| {
            zkinfer_models::input::parse_input_json(&String::from_utf8_lossy(d), Path::new("input.json"))
                .map(|_| ())
                .map_err(|e| err(&e))
        }),
        fuzz("compiled model / settings", std::slice::from_ref(&a.compiled), iterations, seed, true, |d| {
            CompiledModel::from_bytes(d, "model.compiled").map(|_| ()).map_err(|e| err(&e))
        }),
        fuzz("verifying key", std::slice::from_ref(&a.vk), iterations, seed, true, |d| {
            VerifyingKey::from_bytes(d, "vk.bin").map(|_| ()).map_err(|e| err(&e))
        }),
        fuzz("proving key", std::slice::from_ref(&a.pk), (iterations / 10).max(20), seed, true, |d| {
            ProvingKey::from_bytes(d, "pk.bin").map(|_| ()).map_err(|e| err(&e))
        }),
        fuzz("proof (read and verify)", std::slice::from_ref(&a.proof), iterations, seed, true, |d| {
            let proof = Proof::from_bytes(d, "proof.bin").map_err(|e| err(&e))?;
            verify(&vk, &params, &proof).map_err(|e| err(&e))?;
            // Accepted: only a file that says exactly what the original says may pass.
            if proof != original_proof {
                return Err(format!("{UNSOUND} a changed proof verified"));
            }
            Ok(())
        }),
        fuzz("verifier parameters", std::slice::from_ref(&a.params), iterations, seed, true, |d| {
            VerifierParams::from_bytes(d, "verifier.params").map(|_| ()).map_err(|e| err(&e))
        }),
        fuzz("SRS (zkinfer and halo2 formats)", &[a.srs.clone(), raw_srs], iterations, seed, true, |d| {
            zkinfer_prover::srs::from_bytes(d, Path::new("srs")).map(|_| ()).map_err(|e| err(&e))
        }),
        fuzz("ceremony SRS (.ptau)", std::slice::from_ref(&ptau), (iterations / 4).max(20), seed, false, |d| {
            zkinfer_prover::ptau::read_ptau(d, Path::new("pot.ptau"), 5).map(|_| ()).map_err(|e| err(&e))
        }),
        fuzz(
            "ONNX model (load and lower)",
            std::slice::from_ref(&a.onnx),
            (iterations / 4).max(20),
            seed,
            false,
            |d| {
                let m = zkinfer_models::onnx::OnnxModel::load_bytes(d, Path::new("network.onnx"), None, &[144])
                    .map_err(|e| err(&e))?;
                m.lower().map(|_| ()).map_err(|e| err(&e))
            },
        ),
    ];
    targets.extend(evm_targets);
    targets
}

/// The on-chain reader: the generated Solidity verifier, deployed in revm, called
/// with damaged calldata (it must never accept anything but the original), and the
/// header parser of `.sol` files.
fn evm_targets(
    vk: &zkinfer_verifier::VerifyingKey,
    params: &zkinfer_verifier::VerifierParams,
    proof: &zkinfer_verifier::Proof,
    iterations: usize,
    seed: u64,
) -> Vec<FuzzStats> {
    use std::cell::RefCell;
    use zkinfer_verifier::evm::{calldata, compile_verifier, find_solc, solidity_verifier, Evm, VerifierHeader};

    let verifier = solidity_verifier(vk, params).expect("demo verifier");
    let solc = find_solc().unwrap_or_else(|e| panic!("the EVM fuzz target needs solc: {e}"));
    let contract = compile_verifier(&solc, &verifier.source).expect("solc");
    let evm = RefCell::new(Evm::without_size_limit());
    let (address, _) = evm.borrow_mut().deploy(contract.creation).expect("deploys");
    let valid = calldata(proof).expect("calldata");
    // The header lines only, so that the damage lands in what the parser reads.
    let header_text: String =
        verifier.source.lines().take_while(|l| l.starts_with("//")).map(|l| format!("{l}\n")).collect();
    vec![
        fuzz(
            "EVM verifier contract (calldata)",
            std::slice::from_ref(&valid),
            (iterations / 4).max(20),
            seed,
            false,
            |d| {
                let out = evm.borrow_mut().call(address, d.to_vec()).map_err(|e| e.to_string())?;
                match (out.success, d == valid.as_slice()) {
                    (true, true) => Ok(()),
                    (true, false) => Err(format!("{UNSOUND} the contract accepted changed calldata")),
                    (false, _) => Err("the contract rejected the calldata (reverted)".into()),
                }
            },
        ),
        fuzz("Solidity verifier header", &[header_text.into_bytes()], iterations, seed, false, |d| {
            let parsed = VerifierHeader::parse(&String::from_utf8_lossy(d)).ok_or("no complete zkinfer header")?;
            parsed.check_calldata(&valid).map_err(|e| e.to_string())?;
            if parsed != verifier.header {
                return Err("the header now describes another verifier".into());
            }
            Ok(())
        }),
    ]
}
