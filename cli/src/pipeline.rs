//! The steps every command is built from: load and compile a model, obtain an SRS,
//! generate keys, prove, verify; plus the file names of a working directory.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use zkinfer_circuits::compile::{compile, CompileOptions, UNUSABLE_ERROR};
use zkinfer_circuits::plan::{Lanes, Profile};
use zkinfer_circuits::visibility::{Visibilities, Visibility};
use zkinfer_models::input::{read_input_file, InputData};
use zkinfer_models::onnx::OnnxModel;
use zkinfer_prover::compiled::CompiledModel;
use zkinfer_prover::fs;
use zkinfer_prover::native::{select, EngineChoice, Engines};
use zkinfer_prover::prove::ProverKind;
use zkinfer_prover::srs::{LoadedSrs, SrsStore};

use crate::ui::Ui;

/// Files of a working directory.
#[derive(Clone, Debug)]
pub struct Workdir(pub PathBuf);

impl Workdir {
    /// The compiled model.
    pub fn compiled(&self) -> PathBuf {
        self.0.join("model.compiled")
    }
    /// Human-readable settings.
    pub fn settings(&self) -> PathBuf {
        self.0.join("settings.json")
    }
    /// Proving key.
    pub fn pk(&self) -> PathBuf {
        self.0.join("pk.bin")
    }
    /// Verifying key.
    pub fn vk(&self) -> PathBuf {
        self.0.join("vk.bin")
    }
    /// Verifier parameters.
    pub fn params(&self) -> PathBuf {
        self.0.join("verifier.params")
    }
    /// Proof.
    pub fn proof(&self) -> PathBuf {
        self.0.join("proof.bin")
    }
    /// Public outputs of the proof, readable.
    pub fn proof_json(&self) -> PathBuf {
        self.0.join("proof.json")
    }
    /// Figures of a run.
    pub fn report(&self) -> PathBuf {
        self.0.join("report.json")
    }
    /// The Solidity verifier.
    pub fn verifier_sol(&self) -> PathBuf {
        self.0.join("Verifier.sol")
    }
    /// The EVM calldata of the proof.
    pub fn calldata(&self) -> PathBuf {
        self.0.join("calldata.bin")
    }
}

/// Reads a verifying-key file (errors name the file).
pub fn read_vk(path: &Path) -> Result<zkinfer_verifier::VerifyingKey> {
    Ok(zkinfer_verifier::VerifyingKey::from_bytes(&fs::read(path)?, &path.display().to_string())?)
}

/// Reads a verifier-parameters file (errors name the file).
pub fn read_params(path: &Path) -> Result<zkinfer_verifier::VerifierParams> {
    Ok(zkinfer_verifier::VerifierParams::from_bytes(&fs::read(path)?, &path.display().to_string())?)
}

/// Reads a proof file (errors name the file).
pub fn read_proof(path: &Path) -> Result<zkinfer_verifier::Proof> {
    Ok(zkinfer_verifier::Proof::from_bytes(&fs::read(path)?, &path.display().to_string())?)
}

/// A model and the input that fixes its shapes and calibrates it (`compile`,
/// `run`, `inspect`).
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    /// The ONNX model.
    pub model: PathBuf,
    /// Input file (EZKL layout) [default: input.json next to the model].
    #[arg(long, short)]
    pub input: Option<PathBuf>,
}

impl ModelArgs {
    /// Reads the input, loads the model for it and runs tract on it.
    pub fn load(&self) -> Result<Loaded> {
        let input = read_input(&input_path(&self.model, self.input.as_deref())?)?;
        load(&self.model, input)
    }
}

/// Compilation flags shared by `compile`, `run`, `inspect` and `bench`.
#[derive(Args, Clone, Debug)]
pub struct CompileFlags {
    /// Fixed-point scale in fractional bits (default: calibrated on the input).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub scale: Option<u32>,
    /// Choose the cheapest scale whose max abs error on the input is at most this
    /// (e.g. 2e-4 for a precise circuit).
    #[arg(long)]
    pub target_error: Option<f64>,
    /// Bits of the checked value range (default: what the input needs, plus headroom).
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..=100))]
    pub value_bits: Option<u32>,
    /// Extra range bits over what the calibration input needs, so other inputs fit.
    #[arg(long, default_value_t = 1)]
    pub headroom_bits: u32,
    /// Largest circuit size (log2 rows) to consider.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(4..=26))]
    pub max_k: u32,
    /// Advanced: force the column layout as DOT_LANES:DOT_WIDTH:ELEM_LANES
    /// (e.g. 2:32:2) instead of letting the planner choose.
    #[arg(long, value_parser = parse_lanes)]
    pub lanes: Option<Lanes>,
    /// What the circuit is optimised for: `fast` proving (wide lanes) or `evm`
    /// (fewest commitments: cheapest to verify on-chain and in wasm, more rows, so
    /// slower to prove) [default: fast; evm with `run --evm`].
    #[arg(long, value_enum)]
    pub profile: Option<ProfileArg>,
    /// Model inputs: `private` (a secret witness), `public` (values are public
    /// instances) or `hashed` (secret, with a Poseidon commitment made public;
    /// `zkinfer hash` computes it).
    #[arg(long, default_value = "private", value_parser = parse_visibility)]
    pub input_visibility: Visibility,
    /// Model outputs: `public`, `private` or `hashed`.
    #[arg(long, default_value = "public", value_parser = parse_visibility)]
    pub output_visibility: Visibility,
    /// Weights (the kernels and biases of Conv, ConvTranspose, Gemm and MatMul,
    /// with the scales and shifts folded into them): `fixed` (baked into the
    /// circuit; the verifying key commits to them), `private` (secret witnesses:
    /// the key is the same for any weights), `public` (their values are public
    /// instances) or `hashed` (secret, with their Poseidon commitment made public;
    /// `zkinfer hash --weights` computes it).
    #[arg(long, default_value = "fixed", value_parser = parse_visibility)]
    pub weights_visibility: Visibility,
}

impl Default for CompileFlags {
    fn default() -> Self {
        let visibility = Visibilities::default();
        CompileFlags {
            scale: None,
            target_error: None,
            value_bits: None,
            headroom_bits: 1,
            max_k: 24,
            lanes: None,
            profile: None,
            input_visibility: visibility.input,
            output_visibility: visibility.output,
            weights_visibility: visibility.weights,
        }
    }
}

fn parse_visibility(s: &str) -> Result<Visibility, String> {
    s.parse()
}

/// Circuit profiles on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileArg {
    /// Fastest proving.
    Fast,
    /// Cheapest verification (on-chain gas).
    Evm,
}

impl From<ProfileArg> for Profile {
    fn from(p: ProfileArg) -> Profile {
        match p {
            ProfileArg::Fast => Profile::Fast,
            ProfileArg::Evm => Profile::Evm,
        }
    }
}

fn parse_lanes(s: &str) -> Result<Lanes, String> {
    let parts: Vec<u32> = s
        .split(':')
        .map(|p| p.parse::<u32>().map_err(|_| format!("`{p}` is not a number")))
        .collect::<Result<_, _>>()?;
    use zkinfer_circuits::shape::{MAX_DOT_LANES, MAX_DOT_WIDTH, MAX_ELEM_LANES};
    match parts.as_slice() {
        [d, w, e]
            if (1..=MAX_DOT_LANES).contains(d) && (1..=MAX_DOT_WIDTH).contains(w) && (1..=MAX_ELEM_LANES).contains(e) =>
        {
            Ok(Lanes { dot_lanes: *d, dot_width: *w, elem_lanes: *e })
        }
        _ => Err(format!(
            "expected DOT_LANES:DOT_WIDTH:ELEM_LANES (e.g. 2:32:2), at most {MAX_DOT_LANES}:{MAX_DOT_WIDTH}:{MAX_ELEM_LANES}"
        )),
    }
}

impl CompileFlags {
    /// As compiler options.
    pub fn options(&self) -> CompileOptions {
        self.options_with_default(Profile::Fast)
    }

    /// As compiler options, with `profile` unless `--profile` was given.
    pub fn options_with_default(&self, profile: Profile) -> CompileOptions {
        CompileOptions {
            profile: self.profile.map_or(profile, Profile::from),
            scale: self.scale,
            value_bits: self.value_bits,
            headroom_bits: self.headroom_bits,
            max_k: self.max_k,
            lanes: self.lanes,
            target_error: self.target_error,
            visibility: Visibilities {
                input: self.input_visibility,
                output: self.output_visibility,
                weights: self.weights_visibility,
                ..Visibilities::default()
            },
        }
    }
}

/// SRS flags shared by `setup`, `prove` and `run`.
#[derive(Args, Clone, Debug, Default)]
pub struct SrsFlags {
    /// KZG parameters file (zkinfer or halo2 format, e.g. from a ceremony); a larger
    /// one is downsized. Default: the local cache, generating a testing-only SRS.
    #[arg(long)]
    pub srs: Option<PathBuf>,
    /// SRS cache directory (default: $ZKINFER_SRS_DIR or ~/.cache/zkinfer/srs).
    #[arg(long)]
    pub srs_dir: Option<PathBuf>,
}

/// The prover-core choice, shared by `setup`, `prove` and `run`.
#[derive(Args, Clone, Debug, Default)]
pub struct ProverFlags {
    /// Prover core: `native` (zkinfer's own core: MSM/NTT behind the engine seam,
    /// a proving key that is only the verifying key; faster, less memory) or
    /// `halo2` (halo2-axiom's prover with its full proving key). Both write the
    /// same proof format. [default: the kind of the proving key for `prove`,
    /// native otherwise]
    #[arg(long, value_parser = parse_prover)]
    pub prover: Option<zkinfer_prover::prove::ProverKind>,
}

/// Where the native prover's MSMs and NTTs run; shared by `prove`, `run`,
/// `prove-segment` and `prove-chain`.
#[derive(Args, Clone, Debug, Default)]
pub struct EngineFlags {
    /// Engine of the native prover's MSMs and NTTs: `cpu`, `gpu` (an NVIDIA GPU
    /// through ICICLE's API; needs a build with `--features gpu`, see
    /// scripts/setup-gpu.sh) or `auto` (the GPU when one is present, for sizes
    /// where it wins). A missing or failing GPU falls back to the CPU with a
    /// warning.
    #[arg(long, value_parser = parse_engine, default_value = "auto")]
    pub engine: EngineChoice,
}

impl EngineFlags {
    /// The engines for a proof by `prover`, warning when the request cannot be
    /// met as asked.
    pub fn engines(&self, prover: ProverKind, ui: &Ui) -> Engines {
        if prover == ProverKind::Halo2 {
            if self.engine == EngineChoice::Gpu {
                ui.warn("halo2-axiom's prover runs on the CPU only; `--engine gpu` needs `--prover native`");
            }
            return Engines::cpu();
        }
        let selection = select(self.engine);
        if let Some(warning) = &selection.warning {
            ui.warn(warning);
        }
        selection.engines
    }

    /// The flag for a child process.
    pub fn to_arg(&self) -> String {
        format!("--engine={}", self.engine)
    }
}

/// What ran the proof, for reports (`cpu`, `gpu`, or the GPU with the reason it
/// fell back to the CPU), warning about a fallback.
pub fn engine_used(engines: &Engines, prover: ProverKind, ui: &Ui) -> String {
    if prover == ProverKind::Halo2 {
        return "cpu".into();
    }
    match engines.fallback() {
        Some(why) => {
            ui.warn(&format!("the GPU failed during proving ({why}); the rest of the proof ran on the CPU"));
            format!("{} (fell back to cpu: {why})", engines.device())
        }
        None => engines.device(),
    }
}

/// Parses `cpu`, `gpu` or `auto`.
pub fn parse_engine(s: &str) -> std::result::Result<EngineChoice, String> {
    s.parse()
}

/// Parses `halo2` or `native`.
pub fn parse_prover(s: &str) -> std::result::Result<zkinfer_prover::prove::ProverKind, String> {
    s.parse()
}

/// The resource guard's switch, shared by `setup`, `prove` and `run`.
#[derive(Args, Clone, Debug, Default)]
pub struct GuardFlags {
    /// Run even when the estimated peak memory exceeds what the machine has.
    #[arg(long)]
    pub ignore_memory_estimate: bool,
}

impl GuardFlags {
    /// Refuses `what` with `prover` when the circuit would not fit in memory
    /// (unless overridden).
    pub fn check(
        &self,
        shape: &zkinfer_circuits::CircuitShape,
        prover: zkinfer_prover::prove::ProverKind,
        what: &str,
    ) -> Result<()> {
        if !self.ignore_memory_estimate {
            let available = zkinfer_prover::resources::available_bytes();
            zkinfer_prover::resources::check_memory(shape, prover, what, available)?;
        }
        Ok(())
    }
}

/// Records in `settings.json` (next to the compiled model) which SRS the keys use.
pub fn record_srs(dir: &Workdir, compiled: &mut CompiledModel, srs: &LoadedSrs) -> Result<()> {
    compiled.settings.srs = Some(zkinfer_prover::compiled::SrsRecord {
        origin: match &srs.origin {
            zkinfer_prover::srs::SrsOrigin::LocalTesting => "generated locally".into(),
            zkinfer_prover::srs::SrsOrigin::File(p) => p.display().to_string(),
        },
        testing_only: srs.origin.is_testing_only(),
    });
    let settings = serde_json::to_vec_pretty(&compiled.settings).context("encoding settings")?;
    fs::write_atomic(&dir.settings(), &settings)?;
    Ok(())
}

/// Loads the SRS for `k`, warning when it is a locally generated testing SRS.
pub fn load_srs(flags: &SrsFlags, k: u32, ui: &Ui) -> Result<LoadedSrs> {
    let srs = match &flags.srs {
        Some(path) => {
            let step = ui.step(&format!("loading SRS {}", path.display()));
            let srs = SrsStore::from_file(path, k)?;
            step.done();
            srs
        }
        None => {
            let store = SrsStore::new(flags.srs_dir.clone().unwrap_or_else(SrsStore::default_dir));
            let step = ui.step(&format!("loading or generating SRS for k = {k}"));
            let srs = store.get(k)?;
            step.done();
            srs
        }
    };
    if srs.origin.is_testing_only() {
        ui.warn("using a locally generated SRS: fine for testing, but whoever generated it could forge proofs; pass --srs with a ceremony SRS for production");
    }
    Ok(srs)
}

/// A model name for reports: the file stem, or the directory name for generic stems.
pub fn model_name(path: &Path) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    if matches!(stem, "network" | "model") {
        if let Some(dir) = path.parent().and_then(|p| p.file_name()).and_then(|s| s.to_str()) {
            return dir.to_string();
        }
    }
    stem.to_string()
}

/// The input file: the one given, or `input.json` next to the model.
pub fn input_path(model: &Path, input: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = input {
        return Ok(p.to_path_buf());
    }
    let guess = model.with_file_name("input.json");
    anyhow::ensure!(
        guess.exists(),
        "no input file given and {} does not exist\n  hint: pass --input FILE (EZKL layout: {{\"input_data\": [[...]]}})",
        guess.display()
    );
    Ok(guess)
}

/// Reads an input file.
pub fn read_input(path: &Path) -> Result<InputData> {
    Ok(read_input_file(path)?)
}

/// A model loaded for the input's shapes, with tract's float outputs on the input.
pub struct Loaded {
    /// The tract model.
    pub onnx: OnnxModel,
    /// The input.
    pub input: InputData,
    /// tract's outputs on the input, flattened per output.
    pub reference: Vec<Vec<f64>>,
}

/// Refuses a model path that does not exist, saying what to pass instead.
pub fn ensure_model_exists(model: &Path) -> Result<()> {
    anyhow::ensure!(
        model.exists(),
        "model file {} does not exist\n  hint: pass the path of an .onnx file",
        model.display()
    );
    Ok(())
}

/// Loads `model` for `input` and runs tract on it.
pub fn load(model: &Path, input: InputData) -> Result<Loaded> {
    ensure_model_exists(model)?;
    let lens: Vec<usize> = input.tensors.iter().map(|t| t.len()).collect();
    let onnx = OnnxModel::load(model, input.shapes.as_deref(), &lens)?;
    let reference = onnx.run_float(&input.tensors)?;
    Ok(Loaded { onnx, input, reference })
}

/// Lowers and compiles a loaded model.
///
/// Warns, by node, of function tables the input drives past their exact range
/// ([`zkinfer_models::saturation`]), and when the calibrated outputs say
/// little ([`accuracy_warning`]).
pub fn compile_loaded(model: &Path, loaded: &Loaded, opts: &CompileOptions, ui: &Ui) -> Result<CompiledModel> {
    let fgraph = loaded.onnx.lower_weights(opts.hides_weights())?;
    for s in zkinfer_models::saturation::saturations(&fgraph, &loaded.input.tensors) {
        ui.warn(&s.describe());
    }
    let compiled = compile(&fgraph, &loaded.input.tensors, &loaded.reference, opts)?;
    if let Some(warning) = accuracy_warning(compiled.max_abs_error, compiled.graph.scale, &loaded.reference) {
        ui.warn(&warning);
    }
    Ok(CompiledModel::new(
        compiled,
        &model_name(model),
        &model.display().to_string(),
        loaded.onnx.input_shapes.clone(),
        opts.clone(),
    ))
}

/// A warning when the calibrated circuit's outputs say little: every output
/// rounds to 0 at the chosen scale (a model whose outputs are below the finest
/// fixed-point unit, such as a randomly initialised classifier), or the error
/// is above [`UNUSABLE_ERROR`] of the largest output because no scale does
/// better within the limits.
pub fn accuracy_warning(max_abs_error: f64, scale: u32, reference: &[Vec<f64>]) -> Option<String> {
    let magnitude = reference.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    let unit = f64::powi(2.0, -(scale as i32));
    if magnitude > 0.0 && magnitude < unit / 2.0 {
        return Some(format!(
            "every output of the model is below half a unit at scale {scale} (largest |output| {magnitude:.2e}, unit {unit:.2e}), so every proven output is 0\n  hint: make the model's outputs larger (drop a final tiny factor, or output logits), or pass a higher --scale (at most 16)"
        ));
    }
    if max_abs_error > UNUSABLE_ERROR * magnitude {
        let percent = 100.0 * max_abs_error / magnitude;
        return Some(format!(
            "the circuit's outputs are off by {max_abs_error:.2e}, {percent:.0}% of the largest output ({magnitude:.2e}), at the most accurate scale calibration found\n  hint: try --scale 16, --target-error, or calibrate on more representative inputs"
        ));
    }
    None
}

/// Writes the compiled model and its settings into `dir`.
pub fn write_compiled(dir: &Workdir, compiled: &CompiledModel) -> Result<()> {
    fs::write_atomic(&dir.compiled(), &compiled.to_bytes())?;
    let settings = serde_json::to_vec_pretty(&compiled.settings).context("encoding settings")?;
    fs::write_atomic(&dir.settings(), &settings)?;
    Ok(())
}

/// Reads a compiled model.
pub fn read_compiled(path: &Path) -> Result<CompiledModel> {
    Ok(CompiledModel::from_bytes(&fs::read(path)?, &path.display().to_string())?)
}

/// Largest absolute difference of two equally long lists.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::accuracy_warning;

    #[test]
    fn warns_when_outputs_vanish_or_the_error_is_most_of_them() {
        let outputs = vec![vec![6.5e-8, -2.0e-8]];
        let w = accuracy_warning(6.5e-8, 16, &outputs).expect("below half a unit at scale 16");
        assert!(w.contains("every proven output is 0") && w.contains("6.50e-8"), "{w}");
        let w = accuracy_warning(0.25, 8, &[vec![0.3, -1.0]]).expect("25% off");
        assert!(w.contains("25%") && w.contains("--scale 16"), "{w}");
        assert!(accuracy_warning(0.005, 8, &[vec![0.3, -1.0]]).is_none(), "0.5% is fine");
        assert!(accuracy_warning(0.0, 8, &[vec![0.0]]).is_none(), "an exact zero output is fine");
    }
}
