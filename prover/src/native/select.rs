//! Choosing the engines at run time: `--engine cpu|gpu|auto`.
//!
//! - `cpu`: the CPU engine.
//! - `gpu`: every MSM and transform on the GPU (ICICLE's API, `gpu` feature).
//! - `auto`: the GPU for MSMs and transforms of at least [`AUTO_MIN_LOG`] (log2
//!   of the size), the CPU below; the CPU alone where there is no GPU.
//!
//! A GPU that is missing, or fails its start-up self-check against the CPU,
//! leaves the CPU engine in place with a warning; a GPU call that fails during
//! proving sends that and every later call to the CPU, and
//! [`Engines::fallback`] says why. Never a crash, never a wrong proof.

use std::fmt;
use std::str::FromStr;

use super::engine::Engines;

/// Smallest log2 size that `auto` sends to the GPU. Measured on an H200 against
/// its host's 16 cores (`docs/benchmarks-gpu-h200.json`): at 2^10 the two are
/// even (MSM 2.5–4.9 ms on the GPU vs 3.7–4.6 ms, NTT 0.15–0.25 ms vs
/// 0.13–0.27 ms); from 2^12 the GPU wins every operation (MSM 2.5–3.5×).
pub const AUTO_MIN_LOG: u32 = 12;

/// Which engine the user asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EngineChoice {
    /// The CPU.
    Cpu,
    /// The GPU for everything.
    Gpu,
    /// The GPU where present and where the size is large enough.
    #[default]
    Auto,
}

impl EngineChoice {
    /// The flag's spelling.
    pub fn name(self) -> &'static str {
        match self {
            EngineChoice::Cpu => "cpu",
            EngineChoice::Gpu => "gpu",
            EngineChoice::Auto => "auto",
        }
    }
}

impl fmt::Display for EngineChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EngineChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(EngineChoice::Cpu),
            "gpu" => Ok(EngineChoice::Gpu),
            "auto" => Ok(EngineChoice::Auto),
            other => Err(format!("unknown engine `{other}`; use cpu, gpu or auto")),
        }
    }
}

/// The engines chosen, and what the user should know about the choice.
pub struct Selection {
    /// The engines to prove with.
    pub engines: Engines,
    /// Why the request could not be met as asked (e.g. no GPU), if so.
    pub warning: Option<String>,
}

/// The engines for `choice`.
pub fn select(choice: EngineChoice) -> Selection {
    selection(choice, true)
}

/// The engines for `choice`, a GPU one without its start-up self-check: for a
/// caller that compares every result with the CPU itself and reports each
/// difference (`zkinfer bench-engines`). Proving always goes through [`select`].
pub fn select_for_comparison(choice: EngineChoice) -> Selection {
    selection(choice, false)
}

fn selection(choice: EngineChoice, self_check: bool) -> Selection {
    match choice {
        EngineChoice::Cpu => Selection { engines: Engines::cpu(), warning: None },
        EngineChoice::Gpu | EngineChoice::Auto => gpu_or_cpu(choice, self_check),
    }
}

#[cfg(feature = "gpu")]
fn gpu_or_cpu(choice: EngineChoice, self_check: bool) -> Selection {
    let min_log = if choice == EngineChoice::Gpu { 0 } else { AUTO_MIN_LOG };
    let started = if self_check {
        super::gpu::GpuEngine::start(min_log)
    } else {
        super::gpu::GpuEngine::start_unchecked(min_log)
    };
    match started {
        Ok(gpu) => {
            let gpu = std::sync::Arc::new(gpu);
            Selection { engines: Engines { msm: gpu.clone(), ntt: gpu }, warning: None }
        }
        // `auto` on a machine without a GPU is the CPU, as expected: no warning.
        Err(super::gpu::StartError::NoDevice) if choice == EngineChoice::Auto => {
            Selection { engines: Engines::cpu(), warning: None }
        }
        Err(e) => Selection { engines: Engines::cpu(), warning: Some(format!("{e}; proving on the CPU")) },
    }
}

#[cfg(not(feature = "gpu"))]
fn gpu_or_cpu(choice: EngineChoice, _self_check: bool) -> Selection {
    let warning = (choice == EngineChoice::Gpu).then(|| {
        "this zkinfer was built without GPU support; proving on the CPU (build with `--features gpu` after \
         scripts/setup-gpu.sh)"
            .to_string()
    });
    Selection { engines: Engines::cpu(), warning }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_and_unknown_ones_say_what_is_accepted() {
        assert_eq!("GPU".parse::<EngineChoice>(), Ok(EngineChoice::Gpu));
        assert_eq!(" auto ".parse::<EngineChoice>(), Ok(EngineChoice::Auto));
        assert_eq!("cpu".parse::<EngineChoice>(), Ok(EngineChoice::Cpu));
        let error = "tpu".parse::<EngineChoice>().expect_err("unknown");
        assert!(error.contains("tpu") && error.contains("cpu, gpu or auto"), "{error}");
    }

    #[test]
    fn the_cpu_is_always_available_and_a_missing_gpu_falls_back_with_a_warning() {
        let cpu = select(EngineChoice::Cpu);
        assert_eq!(cpu.engines.device(), "cpu");
        assert!(cpu.warning.is_none());
        // Without the `gpu` feature, or on a machine without a GPU, `gpu` falls
        // back to the CPU and says so; with one, it runs on the GPU.
        let gpu = select(EngineChoice::Gpu);
        match gpu.engines.device().as_str() {
            "cpu" => assert!(gpu.warning.is_some(), "a silent fallback"),
            "gpu" => assert!(gpu.warning.is_none()),
            other => panic!("unexpected device {other}"),
        }
        let auto = select(EngineChoice::Auto);
        assert!(auto.engines.fallback().is_none());
    }
}
