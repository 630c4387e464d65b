//! The `zkinfer` binary as a user runs it: the step-by-step flow on the bundled demo
//! model, and bad input — each must end with a clear message and a non-zero exit,
//! never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn demo() -> PathBuf {
    repo().join("examples/demo_cnn/network.onnx")
}

fn peer(name: &str) -> PathBuf {
    zkinfer_models_peer_dir().join(name)
}

fn zkinfer_models_peer_dir() -> PathBuf {
    std::env::var_os("ZKINFER_PEER_MODELS").map(PathBuf::from).unwrap_or_else(|| repo().join("../shared/peer-models"))
}

/// Runs zkinfer with a private SRS cache; stdin/stdout/stderr are pipes, so it is
/// not attended by a terminal.
fn zkinfer(srs: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer")).args(args).env("ZKINFER_SRS_DIR", srs).output().expect("zkinfer runs")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Asserts failure with a message containing every one of `needles`, and no panic.
fn assert_fails(o: &Output, needles: &[&str]) {
    let (out, err) = text(o);
    assert!(!o.status.success(), "expected failure, got success:\n{out}\n{err}");
    assert!(!err.contains("panicked"), "panic instead of an error:\n{err}");
    assert!(err.starts_with("error: ") || err.contains("\nerror: "), "no error line:\n{err}");
    for n in needles {
        assert!(err.contains(n), "expected `{n}` in:\n{err}");
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn step_by_step_flow_on_the_demo_model() {
    let tmp = tempfile::tempdir().unwrap();
    let srs = tmp.path().join("srs");
    let dir = tmp.path().join("work");
    let input = repo().join("examples/demo_cnn/input.json");

    let o = zkinfer(&srs, &["compile", s(&demo()), "--input", s(&input), "--out", s(&dir)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("settings.json")).unwrap()).unwrap();
    assert!(settings["k"].as_u64().unwrap() <= 12);

    let o = zkinfer(&srs, &["setup", s(&dir)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let (_, err) = text(&o);
    assert!(err.contains("testing"), "the testing-only SRS is announced: {err}");
    assert!(!err.contains('✓') && !err.contains('⠁'), "no progress output without a terminal: {err}");

    let o = zkinfer(&srs, &["prove", s(&dir), "--input", s(&input)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let proof_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("proof.json")).unwrap()).unwrap();
    assert_eq!(proof_json["outputs"].as_array().unwrap().len(), 10);

    // witness: the proof's outputs without keys or proving; an input of the
    // wrong size is refused by name.
    let o = zkinfer(&srs, &["witness", s(&dir), "--input", s(&input)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let witness: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("witness.json")).unwrap()).unwrap();
    assert_eq!(witness["outputs"][0]["values"], proof_json["outputs"], "the witness's outputs are the proof's");
    std::fs::write(dir.join("short.json"), r#"{"input_data": [[1.0, 2.0]]}"#).unwrap();
    let o = zkinfer(&srs, &["witness", s(&dir), "--input", s(&dir.join("short.json"))]);
    assert_fails(&o, &["expects 144 values but 2 were given"]);

    let o = zkinfer(&srs, &["verify", s(&dir)]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("verified"));

    // A corrupt proof, a proof of another input, a file of the wrong kind.
    let proof = std::fs::read(dir.join("proof.bin")).unwrap();
    let mut bad = proof.clone();
    let n = bad.len();
    bad[n - 7] ^= 0x10;
    std::fs::write(dir.join("bad.bin"), &bad).unwrap();
    let o = zkinfer(&srs, &["verify", s(&dir), "--proof", s(&dir.join("bad.bin"))]);
    assert_fails(&o, &["bad.bin", "corrupt"]);

    let o = zkinfer(&srs, &["verify", s(&dir), "--proof", s(&dir.join("vk.bin"))]);
    assert_fails(&o, &["is a zkinfer verifying key, but a proof is needed"]);

    let mut vk = std::fs::read(dir.join("vk.bin")).unwrap();
    vk.truncate(vk.len() / 2);
    std::fs::write(dir.join("short_vk.bin"), &vk).unwrap();
    let o = zkinfer(&srs, &["verify", s(&dir), "--vk", s(&dir.join("short_vk.bin"))]);
    assert_fails(&o, &["short_vk.bin", "corrupt"]);

    let o = zkinfer(&srs, &["verify", s(&dir), "--params", s(&dir.join("settings.json"))]);
    assert_fails(&o, &["settings.json", "is not a zkinfer verifier parameters file"]);

    // inspect: operator table, layers and the circuit.
    let o = zkinfer(&srs, &["inspect", s(&demo())]);
    assert!(o.status.success(), "{:?}", text(&o));
    let (out, _) = text(&o);
    for needle in
        ["operators", "Conv", "MaxPool", "size:", "multiply-accumulates", "layers", "conv1", "k = ", "columns:"]
    {
        assert!(out.contains(needle), "inspect output lacks `{needle}`:\n{out}");
    }

    // A lookup model past the table-size cap: the table's inputs at scale 12,
    // its outputs at the graph scale.
    let sigmoid = peer("2l_relu_sigmoid_small/network.onnx");
    let o = zkinfer(&srs, &["inspect", s(&sigmoid), "--scale", "16"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let needle = "table Sigmoid: 2^16 entries, inputs at scale 12, outputs at scale 16";
    assert!(text(&o).0.contains(needle), "{:?}", text(&o));

    // A model too large for the memory available: refused before lowering, by
    // size and largest layers; inspect still shows the operator table.
    let small = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_zkinfer"))
            .args(args)
            .env("ZKINFER_SRS_DIR", &srs)
            .env("ZKINFER_MEMORY_LIMIT_MIB", "0")
            .output()
            .expect("zkinfer runs")
    };
    let o = small(&["compile", s(&demo()), "--out", s(&dir.join("too_large"))]);
    assert_fails(&o, &["multiply-accumulates", "(Conv)", "0 MiB are available", "hint:"]);
    assert!(!dir.join("too_large").join("model.compiled").exists());
    let o = small(&["inspect", s(&demo())]);
    assert_fails(&o, &["multiply-accumulates", "0 MiB are available"]);
    assert!(text(&o).0.contains("operators"), "the table is shown: {:?}", text(&o));
}

#[test]
fn run_writes_a_complete_report() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let o = zkinfer(&tmp.path().join("srs"), &["run", s(&demo()), "--out", s(&dir)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    for key in [
        "k",
        "rows",
        "advice_columns",
        "scale",
        "setup_s",
        "prove_s",
        "verify_s",
        "proof_bytes",
        "pk_bytes",
        "peak_rss_mib",
        "max_abs_error",
        "verified",
    ] {
        assert!(r.get(key).is_some(), "report lacks {key}: {r}");
    }
    assert_eq!(r["verified"], true);
    assert_eq!(r["prover"], "native", "the native core is the default");
    assert!(r["max_abs_error"].as_f64().unwrap() < 0.05);
}

#[test]
fn both_prover_cores_run_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let srs = tmp.path().join("srs");
    let dir = tmp.path().join("cores");
    let report = |dir: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap()
    };
    let o = zkinfer(&srs, &["run", s(&demo()), "--out", s(&dir), "--prover", "halo2"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let r = report(&dir);
    assert_eq!(r["prover"], "halo2");
    assert_eq!(r["verified"], true);
    assert!(r.get("prove_phases").is_none(), "{r}");
    let halo2_key = r["pk_bytes"].as_u64().unwrap();

    let o = zkinfer(&srs, &["run", s(&demo()), "--out", s(&dir), "--prover", "native"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let r = report(&dir);
    assert_eq!(r["prover"], "native");
    assert_eq!(r["verified"], true);
    assert!(r["prove_phases"]["quotient_s"].as_f64().is_some(), "{r}");
    let native_key = r["pk_bytes"].as_u64().unwrap();
    assert!(native_key * 20 < halo2_key, "a native key is the verifying key alone: {native_key} vs {halo2_key} bytes");

    // `setup` makes a native key by default, and `prove` follows the key.
    let input = repo().join("examples/demo_cnn/input.json");
    let o = zkinfer(&srs, &["setup", s(&dir)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = zkinfer(&srs, &["prove", s(&dir), "--input", s(&input)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = zkinfer(&srs, &["verify", s(&dir)]);
    assert!(o.status.success(), "{:?}", text(&o));

    // The halo2 prover cannot use a native key, and says what to do.
    let o = zkinfer(&srs, &["prove", s(&dir), "--input", s(&input), "--prover", "halo2"]);
    assert_fails(&o, &["only the verifying key", "--prover native"]);
    let o = zkinfer(&srs, &["prove", s(&dir), "--input", s(&input), "--prover", "gpu"]);
    assert_fails(&o, &["unknown prover", "native or halo2"]);
}

/// `--engine`: the GPU falls back to the CPU with a warning where it cannot run
/// (this build has no `gpu` feature, or the machine no GPU), report.json says
/// which engine ran, and an unknown engine is refused by name.
#[test]
fn a_gpu_that_is_not_there_falls_back_to_the_cpu_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let srs = tmp.path().join("srs");
    let dir = tmp.path().join("engine");
    let o = zkinfer(&srs, &["run", s(&demo()), "--out", s(&dir), "--engine", "gpu"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(r["verified"], true);
    let engine = r["engine"].as_str().unwrap();
    if engine == "cpu" {
        let (_, stderr) = text(&o);
        assert!(stderr.contains("proving on the CPU"), "a silent fallback: {stderr}");
    } else {
        assert_eq!(engine, "gpu", "{r}");
    }
    let input = repo().join("examples/demo_cnn/input.json");
    let o = zkinfer(&srs, &["prove", s(&dir), "--input", s(&input), "--engine", "cpu"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = zkinfer(&srs, &["prove", s(&dir), "--input", s(&input), "--engine", "tpu"]);
    assert_fails(&o, &["unknown engine `tpu`", "cpu, gpu or auto"]);
    // `bench-engines` compares an engine with the CPU, result for result.
    let out = tmp.path().join("engines.json");
    let o = zkinfer(&srs, &["bench-engines", "--engine", "cpu", "--min-log", "4", "--max-log", "8", "--out", s(&out)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let e: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(e["rows"].as_array().unwrap().len(), 3);
    assert!(e["rows"].as_array().unwrap().iter().all(|row| row["equal"] == true), "{e}");
}

/// `calibrate` on several samples: the worst error over them decides, every
/// sample fits the chosen circuit (and proves), and malformed data is refused.
#[test]
fn calibrate_on_several_samples_reports_the_trade_off_and_every_sample_fits() {
    let tmp = tempfile::tempdir().unwrap();
    let srs = tmp.path().join("srs");
    let dir = tmp.path().join("calibrated");
    let one: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo().join("examples/demo_cnn/input.json")).unwrap()).unwrap();
    let sample: Vec<f64> = one["input_data"][0].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    // Three samples back to back: the input, a brighter one (a wider range) and a
    // darker one.
    let mut data = sample.clone();
    data.extend(sample.iter().map(|v| v * 1.8));
    data.extend(sample.iter().map(|v| v * 0.3));
    let calib = tmp.path().join("calib.json");
    std::fs::write(&calib, serde_json::json!({ "input_data": [data] }).to_string()).unwrap();
    let o = zkinfer(&srs, &["calibrate", s(&demo()), "--data", s(&calib), "--out", s(&dir)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let (stdout, _) = text(&o);
    assert!(stdout.contains("<- chosen") && stdout.contains("on 3 samples"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("calibration.json")).unwrap()).unwrap();
    assert_eq!(report["samples"], 3);
    assert!(report["trials"].as_array().unwrap().len() > 1, "{report}");
    // The brightest sample proves with the calibrated circuit.
    let bright = tmp.path().join("bright.json");
    let bright_data: Vec<f64> = sample.iter().map(|v| v * 1.8).collect();
    std::fs::write(&bright, serde_json::json!({ "input_data": [bright_data] }).to_string()).unwrap();
    let o = zkinfer(&srs, &["setup", s(&dir)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = zkinfer(&srs, &["prove", s(&dir), "--input", s(&bright)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = zkinfer(&srs, &["verify", s(&dir)]);
    assert!(o.status.success(), "{:?}", text(&o));
    // Data that is not a whole number of samples.
    std::fs::write(&calib, serde_json::json!({ "input_data": [[0.5, 0.25, 1.0]] }).to_string()).unwrap();
    let o = zkinfer(&srs, &["calibrate", s(&demo()), "--data", s(&calib), "--out", s(&dir)]);
    assert_fails(&o, &["not a whole number of samples of 144"]);
}

/// `prove --segments N --jobs J`: split, every index as its own process, the
/// chain verified; the pieces stay usable with `verify-chain`.
#[test]
fn prove_with_segments_and_jobs_runs_the_whole_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let srs = tmp.path().join("srs");
    let chain = tmp.path().join("chain");
    let input = repo().join("examples/demo_cnn/input.json");
    let o = zkinfer(
        &srs,
        &["prove", s(&chain), "--segments", "3", "--jobs", "2", "--model", s(&demo()), "--input", s(&input)],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let (stdout, _) = text(&o);
    assert!(stdout.contains("chain of 3 segments verified"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(chain.join("chain-report.json")).unwrap()).unwrap();
    assert_eq!(report["jobs"], 2);
    assert_eq!(report["segments"].as_array().unwrap().len(), 3);
    let o = zkinfer(&srs, &["verify-chain", "--plan", s(&chain.join("plan.json"))]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = zkinfer(&srs, &["prove", s(&chain), "--segments", "3", "--input", s(&input)]);
    assert_fails(&o, &["--segments needs the ONNX model", "--model"]);
}

#[test]
fn aggregate_refuses_what_it_cannot_do_before_any_proving() {
    let tmp = tempfile::tempdir().unwrap();
    let srs = tmp.path().join("srs");
    let chain = tmp.path().join("chain");
    let input = repo().join("examples/demo_cnn/input.json");
    let o = zkinfer(&srs, &["split", s(&demo()), "--input", s(&input), "--segments", "3", "--out", s(&chain)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let plan = chain.join("plan.json");
    let o = zkinfer(&srs, &["aggregate", "--plan", s(&plan), "--input", s(&input), "--k", "9"]);
    assert_fails(&o, &["needs k = ", "--k 9", "hint: pass a larger --k"]);
    let o = zkinfer(&srs, &["verify-aggregate", "--plan", s(&plan)]);
    assert_fails(&o, &["config.json"]);
}

#[test]
fn bad_input_gives_clear_errors_and_no_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let srs = tmp.path().join("srs");
    let out = tmp.path().join("out");

    // Missing model file.
    let o = zkinfer(
        &srs,
        &["run", s(&tmp.path().join("nope.onnx")), "--input", s(&repo().join("examples/demo_cnn/input.json"))],
    );
    assert_fails(&o, &["nope.onnx", "does not exist"]);

    // A file that is not ONNX.
    let fake = tmp.path().join("fake.onnx");
    std::fs::write(&fake, b"this is not a protobuf").unwrap();
    let o = zkinfer(
        &srs,
        &["compile", s(&fake), "--input", s(&repo().join("examples/demo_cnn/input.json")), "--out", s(&out)],
    );
    assert_fails(&o, &["fake.onnx", "not a readable ONNX model"]);

    // A model whose weights file (ONNX external data) was left behind.
    let external = repo().join("tests/data/export_patterns/gru_residual_external");
    let moved = tmp.path().join("moved.onnx");
    std::fs::copy(external.join("network.onnx"), &moved).unwrap();
    let o = zkinfer(&srs, &["compile", s(&moved), "--input", s(&external.join("input.json")), "--out", s(&out)]);
    assert_fails(&o, &["moved.onnx", "external data of tensor `W`", "network.onnx.data", "next to the .onnx file"]);

    // Input of the wrong length.
    let short = tmp.path().join("short.json");
    std::fs::write(&short, br#"{"input_data": [[0.5, 0.25, 1.0]]}"#).unwrap();
    let o = zkinfer(&srs, &["compile", s(&demo()), "--input", s(&short), "--out", s(&out)]);
    assert_fails(&o, &["144 values", "3 were given"]);

    // A malformed input file.
    let broken = tmp.path().join("broken.json");
    std::fs::write(&broken, br#"{"data": [1, 2]}"#).unwrap();
    let o = zkinfer(&srs, &["compile", s(&demo()), "--input", s(&broken), "--out", s(&out)]);
    assert_fails(&o, &["broken.json", "input_data"]);

    // A model with an unsupported operator: all of them, by node, before proving.
    let bad = repo().join("tests/data/unsupported");
    let o =
        zkinfer(&srs, &["run", s(&bad.join("network.onnx")), "--input", s(&bad.join("input.json")), "--out", s(&out)]);
    assert_fails(&o, &["2 unsupported operator", "`nonzero_node`: NonZero", "`other_nonzero_node`: NonZero"]);
    assert!(!out.join("proof.bin").exists(), "nothing is proven");

    // Missing keys for prove.
    let o = zkinfer(&srs, &["prove", s(&tmp.path().join("empty")), "--input", s(&short)]);
    assert_fails(&o, &["cannot read", "model.compiled"]);

    // A circuit larger than the memory available is refused before key generation,
    // with the estimate; the guard can be overridden.
    let o = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(["run", s(&demo()), "--out", s(&out)])
        .env("ZKINFER_SRS_DIR", &srs)
        .env("ZKINFER_MEMORY_LIMIT_MIB", "8")
        .output()
        .unwrap();
    assert_fails(&o, &["needs about", "MiB", "--ignore-memory-estimate"]);
    let o = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(["run", s(&demo()), "--out", s(&out), "--ignore-memory-estimate"])
        .env("ZKINFER_SRS_DIR", &srs)
        .env("ZKINFER_MEMORY_LIMIT_MIB", "8")
        .output()
        .unwrap();
    assert!(o.status.success(), "{:?}", text(&o));

    // Flags out of range are usage errors.
    let o = zkinfer(&srs, &["compile", s(&demo()), "--scale", "99"]);
    assert!(!o.status.success());
    assert!(!text(&o).1.contains("panicked"));
}

#[test]
fn evm_flow_on_the_demo_model() {
    let tmp = tempfile::tempdir().unwrap();
    let srs = tmp.path().join("srs");
    let dir = tmp.path().join("work");
    let input = repo().join("examples/demo_cnn/input.json");

    // run --evm: compact profile, Verifier.sol and calldata.bin, EVM figures in the report.
    let o = zkinfer(&srs, &["run", s(&demo()), "--input", s(&input), "--out", s(&dir), "--evm"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["profile"], "evm");
    let gas = report["evm_gas"].as_u64().expect("evm_gas");
    assert!((100_000..1_000_000).contains(&gas), "{gas}");
    assert!(report["evm_bytecode_bytes"].as_u64().expect("bytecode") <= 24_576);
    let calldata_bytes = report["calldata_bytes"].as_u64().expect("calldata_bytes");
    assert!(dir.join("Verifier.sol").exists());
    assert_eq!(std::fs::read(dir.join("calldata.bin")).unwrap().len() as u64, calldata_bytes);

    // The step-by-step commands, with ABI.
    let sol = tmp.path().join("V.sol");
    let abi = tmp.path().join("V.abi.json");
    let o = zkinfer(&srs, &["create-evm-verifier", s(&dir), "--out", s(&sol), "--abi", s(&abi)]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("runtime bytecode"), "{:?}", text(&o));
    let abi: serde_json::Value = serde_json::from_slice(&std::fs::read(&abi).unwrap()).unwrap();
    assert!(abi.as_array().is_some_and(|a| !a.is_empty()), "{abi}");
    let cd = tmp.path().join("cd.bin");
    let o = zkinfer(&srs, &["encode-evm-calldata", s(&dir), "--out", s(&cd)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = zkinfer(&srs, &["verify-evm", "--sol", s(&sol), "--calldata", s(&cd)]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("EVM verification: ok | gas"), "{:?}", text(&o));

    // Tampered calldata: the contract rejects it.
    let mut bytes = std::fs::read(&cd).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let bad = tmp.path().join("bad.bin");
    std::fs::write(&bad, &bytes).unwrap();
    let o = zkinfer(&srs, &["verify-evm", "--sol", s(&sol), "--calldata", s(&bad)]);
    assert_fails(&o, &["rejected the proof"]);
    assert!(text(&o).0.contains("EVM verification: FAILED"), "{:?}", text(&o));

    // Calldata of the wrong length.
    std::fs::write(&bad, &bytes[..100]).unwrap();
    let o = zkinfer(&srs, &["verify-evm", "--sol", s(&sol), "--calldata", s(&bad)]);
    assert_fails(&o, &["calldata is 100 bytes", "encode-evm-calldata"]);

    // A proof of another circuit (the demo model in the fast profile).
    let fast = tmp.path().join("fast");
    let o = zkinfer(&srs, &["run", s(&demo()), "--input", s(&input), "--out", s(&fast)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = zkinfer(&srs, &["verify-evm", "--sol", s(&sol), "--proof", s(&fast.join("proof.bin"))]);
    assert_fails(&o, &["but this verifier checks circuit", "create-evm-verifier"]);

    // No solc: the install hint.
    let o = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(["verify-evm", "--sol", s(&sol), "--calldata", s(&cd)])
        .env("ZKINFER_SRS_DIR", &srs)
        .env("ZKINFER_TOOLS_DIR", tmp.path().join("no-tools"))
        .env("ZKINFER_SOLC", tmp.path().join("no-solc"))
        .env("PATH", tmp.path().join("empty-path"))
        .output()
        .unwrap();
    assert_fails(&o, &["solc 0.8.19 was not found", "scripts/setup-solc.sh"]);
}

#[test]
fn hashed_input_flow_matches_zkinfer_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let srs = tmp.path().join("srs");
    let dir = tmp.path().join("work");
    let input = repo().join("examples/demo_cnn/input.json");
    let o = zkinfer(
        &srs,
        &["run", s(&demo()), "--input", s(&input), "--out", s(&dir), "--input-visibility", "hashed", "--scale", "8"],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["visibility"], "input hashed, output public, weights fixed");
    let proof: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("proof.json")).unwrap()).unwrap();
    let in_proof = proof["commitments"][0]["poseidon"].as_str().expect("commitment in proof.json").to_string();
    assert_eq!(proof["commitments"][0]["tensor"], "input 0");

    let o = zkinfer(&srs, &["hash", s(&dir), "--input", s(&input)]);
    assert!(o.status.success(), "{:?}", text(&o));
    let hashed: serde_json::Value = serde_json::from_slice(&o.stdout).expect("hash prints JSON");
    assert_eq!(hashed["inputs"][0]["poseidon"].as_str(), Some(in_proof.as_str()));

    // Another model's input file: a clear error naming the sizes.
    let o = zkinfer(&srs, &["hash", s(&dir), "--input", s(&peer("1l_mlp/input.json"))]);
    assert_fails(&o, &["values", "shape"]);
    // Impossible and unsupported visibilities fail before any work, naming the fix.
    let o = zkinfer(&srs, &["compile", s(&demo()), "--input", s(&input), "--input-visibility", "fixed"]);
    assert_fails(&o, &["--input-visibility fixed", "hint"]);
    let o = zkinfer(&srs, &["compile", s(&demo()), "--input", s(&input), "--input-visibility", "secret"]);
    assert_fails(&o, &["unknown visibility", "hashed"]);
    // This model's weights are fixed: there is no weights commitment to print.
    let o = zkinfer(&srs, &["hash", s(&dir), "--weights"]);
    assert_fails(&o, &["fixed weights", "--weights-visibility hashed"]);
    let o = zkinfer(&srs, &["hash", s(&dir)]);
    assert_fails(&o, &["nothing to hash", "--weights"]);
}

#[test]
fn hashed_weights_flow_matches_zkinfer_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let srs = tmp.path().join("srs");
    let dir = tmp.path().join("work");
    let input = repo().join("examples/demo_cnn/input.json");
    let (model, input, out) = (demo(), s(&input).to_string(), s(&dir).to_string());
    let args = ["run", s(&model), "--input", &input, "--out", &out, "--weights-visibility", "hashed", "--scale", "8"];
    let o = zkinfer(&srs, &args);
    assert!(o.status.success(), "{:?}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["visibility"], "input private, output public, weights hashed");
    assert_eq!(report["verified"], true);
    let proof: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("proof.json")).unwrap()).unwrap();
    assert_eq!(proof["commitments"][0]["tensor"], "weights 0");
    let in_proof = proof["commitments"][0]["poseidon"].as_str().expect("commitment in proof.json").to_string();
    let o = zkinfer(&srs, &["hash", s(&dir), "--weights"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let hashed: serde_json::Value = serde_json::from_slice(&o.stdout).expect("hash prints JSON");
    assert_eq!(hashed["weights"]["poseidon"].as_str(), Some(in_proof.as_str()));
    assert!(hashed["weights"]["elements"].as_u64().unwrap() > 100);
    // The same flow split into segments is refused, naming the fix.
    let chain = tmp.path().join("chain").to_str().expect("utf-8").to_string();
    let o = zkinfer(
        &srs,
        &["split", s(&demo()), "--input", &input, "--segments", "2", "--weights-visibility", "hashed", "--out", &chain],
    );
    assert_fails(&o, &["--weights-visibility fixed"]);
}

#[test]
fn split_prove_segments_by_scheduler_index_and_verify_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let srs = tmp.path().join("srs");
    let dir = tmp.path().join("chain");
    let input = repo().join("examples/demo_cnn/input.json");
    let plan = dir.join("plan.json");
    let o = zkinfer(
        &srs,
        &["split", s(&demo()), "--input", s(&input), "--out", s(&dir), "--segments", "2", "--scale", "8"],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("into 2 segments"), "{:?}", text(&o));
    // Each index as a scheduler would start it: Kubernetes, then Slurm.
    for (var, index) in [("JOB_COMPLETION_INDEX", "0"), ("SLURM_ARRAY_TASK_ID", "1")] {
        let o = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
            .args(["prove-segment", "--plan", s(&plan), "--input", s(&input)])
            .env(var, index)
            .output()
            .unwrap();
        assert!(o.status.success(), "{var}={index}: {:?}", text(&o));
    }
    let o = zkinfer(&srs, &["verify-chain", "--plan", s(&plan)]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("chain of 2 segments verified"));
    // A retry of an index rewrites its files; the chain still verifies.
    let o = zkinfer(&srs, &["prove-chain", "--plan", s(&plan), "--input", s(&input), "--jobs", "2"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = zkinfer(&srs, &["verify-chain", "--plan", s(&plan)]);
    assert!(o.status.success(), "{:?}", text(&o));

    let o = zkinfer(&srs, &["prove-segment", "--plan", s(&plan), "--input", s(&input), "--index", "7"]);
    assert_fails(&o, &["out of range", "2 segments"]);
    let o = zkinfer(&srs, &["prove-segment", "--plan", s(&plan), "--input", s(&input)]);
    assert_fails(&o, &["--index", "JOB_COMPLETION_INDEX"]);
    let o = zkinfer(&srs, &["verify-chain", "--plan", s(&input)]);
    assert_fails(&o, &["not a segment plan"]);
    std::fs::remove_file(dir.join("segment-1/proof.bin")).unwrap();
    let o = zkinfer(&srs, &["verify-chain", "--plan", s(&plan)]);
    assert_fails(&o, &["segment-1/proof.bin"]);
}
