//! Regenerates `docs/reliability.md`: witness-mutation campaigns on whole model
//! circuits, the fuzzed readers, and the bad-input corpus.
//!
//! ```sh
//! cargo run --release -p zkinfer-tests --bin reliability -- [--out docs/reliability.md] [--fuzz 5000] [--sample 2000]
//! ```
//!
//! Exits non-zero when a constrained cell survives a mutation, a reader panics, or
//! a bad input is accepted.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zkinfer_circuits::compile::CompileOptions;
use zkinfer_circuits::mutation::{mutation_campaign, MutationReport};
use zkinfer_circuits::ModelCircuit;
use zkinfer_tests::fuzz::{all_targets, FuzzStats, UNSOUND};
use zkinfer_tests::{cases, demo_artifacts, load_peer, load_unsupported, prepare, DemoArtifacts, Prepared};

struct Args {
    out: PathBuf,
    fuzz: usize,
    sample: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args { out: PathBuf::from("docs/reliability.md"), fuzz: 5000, sample: 2000 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--out" => a.out = PathBuf::from(value),
            "--fuzz" => a.fuzz = value.parse().map_err(|_| "--fuzz takes a number")?,
            "--sample" => a.sample = value.parse().map_err(|_| "--sample takes a number")?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

struct Campaign {
    name: String,
    k: u32,
    report: MutationReport,
}

fn campaign(name: &str, p: &Prepared, sample: Option<usize>) -> Result<Campaign, String> {
    let w = p.witness();
    let instances = w.instances();
    let circuit = ModelCircuit::new(p.compiled.shape.clone(), p.compiled.program()).with_witness(Arc::new(w));
    let report = mutation_campaign(&circuit, &instances, sample.map(|n| (n, 20261125)))?;
    eprintln!("mutations {name}: {} tried, {} survivors", report.tried, report.survivors.len());
    Ok(Campaign { name: name.to_string(), k: p.compiled.shape.k, report })
}

/// A check that must end in an error.
type Check<'a> = Box<dyn Fn() -> Result<(), String> + 'a>;

/// One bad input and what zkinfer said about it.
struct BadInput {
    case: &'static str,
    outcome: Result<String, String>,
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

fn bad_inputs(a: &DemoArtifacts) -> Vec<BadInput> {
    use zkinfer_models::input::parse_input_json;
    use zkinfer_models::onnx::OnnxModel;
    use zkinfer_prover::compiled::CompiledModel;
    use zkinfer_prover::keys::ProvingKey;
    use zkinfer_verifier::{verify, Proof, VerifierParams, VerifyingKey};

    let refused = |r: Result<(), String>| match r {
        Ok(()) => Err("ACCEPTED".to_string()),
        Err(e) => Ok(first_line(&e)),
    };
    let e = |x: &dyn std::fmt::Display| x.to_string();
    let flip = |b: &[u8], at: usize| {
        let mut v = b.to_vec();
        let i = at.min(v.len() - 1);
        v[i] ^= 0x01;
        v
    };
    let vk = VerifyingKey::from_bytes(&a.vk, "vk.bin").expect("demo vk");
    let params = VerifierParams::from_bytes(&a.params, "verifier.params").expect("demo params");
    let proof = Proof::from_bytes(&a.proof, "proof.bin").expect("demo proof");
    let (unsupported, unsupported_input) = load_unsupported();
    let mut cases: Vec<(&'static str, Check)> = vec![
        (
            "missing model file",
            Box::new(|| OnnxModel::load(Path::new("nope.onnx"), None, &[1]).map(|_| ()).map_err(|x| e(&x))),
        ),
        (
            "a text file as the model",
            Box::new(|| {
                OnnxModel::load_bytes(b"hello", Path::new("fake.onnx"), None, &[1]).map(|_| ()).map_err(|x| e(&x))
            }),
        ),
        (
            "input of the wrong length",
            Box::new(|| {
                OnnxModel::load_bytes(&a.onnx, Path::new("network.onnx"), None, &[3]).map(|_| ()).map_err(|x| e(&x))
            }),
        ),
        (
            "input file without input_data",
            Box::new(|| parse_input_json("{\"data\": []}", Path::new("input.json")).map(|_| ()).map_err(|x| e(&x))),
        ),
        (
            "input file with a string value",
            Box::new(|| {
                parse_input_json("{\"input_data\": [[\"x\"]]}", Path::new("input.json")).map(|_| ()).map_err(|x| e(&x))
            }),
        ),
        ("model with an unsupported operator", Box::new(move || unsupported.lower().map(|_| ()).map_err(|x| e(&x)))),
        (
            "proof with a flipped byte",
            Box::new(|| {
                Proof::from_bytes(&flip(&a.proof, a.proof.len() - 9), "proof.bin").map(|_| ()).map_err(|x| e(&x))
            }),
        ),
        (
            "truncated verifying key",
            Box::new(|| VerifyingKey::from_bytes(&a.vk[..a.vk.len() / 2], "vk.bin").map(|_| ()).map_err(|x| e(&x))),
        ),
        (
            "proving key with a flipped byte",
            Box::new(|| ProvingKey::from_bytes(&flip(&a.pk, a.pk.len() / 2), "pk.bin").map(|_| ()).map_err(|x| e(&x))),
        ),
        (
            "verifier parameters with a flipped byte",
            Box::new(|| {
                VerifierParams::from_bytes(&flip(&a.params, 60), "verifier.params").map(|_| ()).map_err(|x| e(&x))
            }),
        ),
        (
            "compiled model with a flipped byte",
            Box::new(|| {
                CompiledModel::from_bytes(&flip(&a.compiled, 100), "model.compiled").map(|_| ()).map_err(|x| e(&x))
            }),
        ),
        (
            "a verifying key given as the proof",
            Box::new(|| Proof::from_bytes(&a.vk, "vk.bin").map(|_| ()).map_err(|x| e(&x))),
        ),
        (
            "a file of another format version",
            Box::new(|| {
                let mut v = a.proof.clone();
                v[9] = 9;
                Proof::from_bytes(&v, "proof.bin").map(|_| ()).map_err(|x| e(&x))
            }),
        ),
        (
            "JSON given as a binary file",
            Box::new(|| VerifyingKey::from_bytes(b"{\"k\": 1}", "vk.json").map(|_| ()).map_err(|x| e(&x))),
        ),
        (
            "a changed public output",
            Box::new(|| {
                let mut p = proof.clone();
                p.instances[0][0] ^= 1;
                verify(&vk, &params, &p).map_err(|x| e(&x))
            }),
        ),
        (
            "a proof for another circuit",
            Box::new(|| {
                let mut p = proof.clone();
                p.circuit_digest[0] ^= 1;
                verify(&vk, &params, &p).map_err(|x| e(&x))
            }),
        ),
        (
            "an edited output scale",
            Box::new(|| {
                let mut p = proof.clone();
                p.scale += 1;
                verify(&vk, &params, &p).map_err(|x| e(&x))
            }),
        ),
        (
            "a ceremony file that is not .ptau",
            Box::new(|| {
                zkinfer_prover::ptau::read_ptau(b"ptau\x02\0\0\0", Path::new("x.ptau"), 5)
                    .map(|_| ())
                    .map_err(|x| e(&x))
            }),
        ),
        (
            "an input far outside the calibrated range",
            Box::new(|| {
                let compiled = CompiledModel::from_bytes(&a.compiled, "model.compiled").expect("compiled");
                zkinfer_prover::prove::witness(&compiled, &[vec![1e6; 144]]).map(|_| ()).map_err(|x| e(&x))
            }),
        ),
        (
            "a circuit larger than the memory available",
            Box::new(|| {
                let compiled = CompiledModel::from_bytes(&a.compiled, "model.compiled").expect("compiled");
                zkinfer_prover::resources::check_memory(
                    &compiled.shape,
                    zkinfer_prover::prove::ProverKind::Native,
                    "proving",
                    Some(1 << 20),
                )
                .map_err(|x| e(&x))
            }),
        ),
    ];
    drop(unsupported_input);
    cases
        .drain(..)
        .map(|(case, f)| {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| refused(f())))
                .unwrap_or_else(|_| Err("PANIC".to_string()));
            BadInput { case, outcome }
        })
        .collect()
}

fn run() -> Result<bool, String> {
    let args = args()?;
    let mut campaigns = Vec::new();
    for name in ["1l_mlp", "1l_conv", "1l_max_pool", "1l_average"] {
        let (model, inputs) = load_peer(name);
        campaigns.push(campaign(name, &prepare(model, inputs, &CompileOptions::default()), None)?);
    }
    for (name, sample) in [("4l_relu_conv_fc", args.sample), ("lenet_5", args.sample / 4)] {
        let (model, inputs) = load_peer(name);
        campaigns.push(campaign(name, &prepare(model, inputs, &CompileOptions::default()), Some(sample))?);
    }
    let (model, inputs) = load_peer("2l_relu_sigmoid_small");
    campaigns.push(campaign("2l_relu_sigmoid_small", &prepare(model, inputs, &CompileOptions::default()), None)?);
    let evm = CompileOptions { profile: zkinfer_circuits::plan::Profile::Evm, ..CompileOptions::default() };
    for name in ["1l_mlp", "1l_conv", "1l_max_pool", "1l_average", "2l_relu_sigmoid_small"] {
        let (model, inputs) = load_peer(name);
        campaigns.push(campaign(&format!("{name}, evm profile"), &prepare(model, inputs, &evm), Some(args.sample))?);
    }
    for case in cases::all(3) {
        let name = format!("case `{}`", case.name);
        campaigns.push(campaign(
            &name,
            &prepare(case.model, case.inputs, &CompileOptions::default()),
            Some(args.sample),
        )?);
    }
    let artifacts = demo_artifacts();
    let fuzz: Vec<FuzzStats> = all_targets(&artifacts, args.fuzz, 20261125);
    let bad = bad_inputs(&artifacts);

    let survivors: usize = campaigns.iter().map(|c| c.report.survivors.len()).sum();
    let panics: usize = fuzz.iter().map(|f| f.panics).sum::<usize>()
        + bad.iter().filter(|b| b.outcome.as_ref().is_err_and(|e| e == "PANIC")).count();
    let unsound = fuzz.iter().filter(|f| f.error_kinds.keys().any(|k| k.starts_with(UNSOUND))).count();
    let accepted_bad = bad.iter().filter(|b| b.outcome.as_ref().is_err_and(|e| e == "ACCEPTED")).count();

    let mut md = String::new();
    let _ = writeln!(md, "# Reliability\n");
    let _ = writeln!(
        md,
        "Generated by `cargo run --release -p zkinfer-tests --bin reliability` on {} (zkinfer {}). The same checks, \
         with smaller samples, run in the test suite (`tests/mutation.rs`, `tests/fuzz_readers.rs`, `cli/tests/cli.rs`).\n",
        zkinfer_cli::commands::bench::utc_date(),
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(md, "Summary: **{survivors}** constrained cells survived a mutation, **{panics}** panics, **{unsound}** readers accepted a changed proof, **{accepted_bad}** bad inputs accepted.\n");
    let _ = writeln!(md, "## Witness mutations\n");
    let _ = writeln!(
        md,
        "Each mutation adds one to a single advice cell of an honest witness and runs MockProver. A *free* cell is one no \
         constraint reads (dot-row padding past a job's terms, a lane's first running sum, columns a row's template does \
         not use, rows past a lane's end); its survival is expected and harmless. Every other survivor would be a \
         soundness bug.\n"
    );
    let _ = writeln!(md, "| circuit | k | advice cells in used rows | mutations tried | rejected | free cells (survived) | constrained survivors |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    for c in &campaigns {
        let r = &c.report;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {}{} | {} | {} | {} |",
            c.name,
            c.k,
            r.cells,
            r.tried,
            if r.tried < r.cells { " (seeded sample)" } else { " (all)" },
            r.rejected,
            r.free_survivors,
            r.survivors.len()
        );
    }
    let _ = writeln!(md, "\n## Fuzzed readers\n");
    let _ = writeln!(
        md,
        "Seeded random edits of the demo model's valid files (bit flips, overwrites, truncations, insertions, deletions, \
         appended bytes, spliced chunks, extreme length fields); half the edits of zkinfer's checksummed files are \
         re-sealed so the decoders behind the checksum see them. cargo-fuzz needs a nightly toolchain this project \
         does not have, hence this stable mutation fuzzer.\n"
    );
    let _ = writeln!(md, "| reader | executions | accepted (still valid) | refused with an error | panics |");
    let _ = writeln!(md, "|---|---|---|---|---|");
    for f in &fuzz {
        let _ = writeln!(md, "| {} | {} | {} | {} | {} |", f.target, f.executions, f.accepted, f.errors, f.panics);
    }
    let _ = writeln!(
        md,
        "\nA changed proof that still verifies is counted as a failure of the proof target; there were {unsound}.\n"
    );
    let _ = writeln!(md, "## Bad-input corpus\n");
    let _ = writeln!(md, "{} cases; each must be refused with a message naming the problem.\n", bad.len());
    let _ = writeln!(md, "| input | outcome |");
    let _ = writeln!(md, "|---|---|");
    for b in &bad {
        let outcome = match &b.outcome {
            Ok(msg) => format!("refused: {}", msg.replace('|', "\\|")),
            Err(what) => format!("**{what}**"),
        };
        let _ = writeln!(md, "| {} | {} |", b.case, outcome);
    }
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(&args.out, md).map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    println!("wrote {}", args.out.display());
    Ok(survivors == 0 && panics == 0 && unsound == 0 && accepted_bad == 0)
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("reliability checks FAILED: see the report");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
