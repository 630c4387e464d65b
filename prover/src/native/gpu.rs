//! The GPU engine: MSM and NTT through ICICLE v1's Rust API (`icicle-core`
//! 1.3.0), on the BN254 backend of `zkinfer-icicle-bn254` (or ICICLE's own, with
//! the same interface).
//!
//! - Data stays in halo2curves' Montgomery layout: scalars and points are viewed
//!   as ICICLE's types without conversion. An NTT uploads its column into a
//!   device buffer kept per size, transforms it there and downloads it into a
//!   kept host buffer, then into place; an MSM passes host copies (made in
//!   parallel) of the scalars and bases to the backend, which streams them to
//!   the device.
//! - MSMs whose scalars repeat or are narrow (witness columns, sorted lookup
//!   columns, permutation products) stay on the CPU: see
//!   [`spread_scalars`] for why.
//! - Transforms use halo2's roots: the domain is initialised with
//!   [`root_of_unity`] (generator 7), never a backend's own tables, and the
//!   inverse includes the `1/n` scaling, as on the CPU.
//! - Calls are serialised (one GPU, one stream); at most [`QUEUE_LIMIT`] run or
//!   wait at once, and the rest run on the CPU meanwhile. Sizes below `min_log`
//!   stay on the CPU. A failing call (an error or a panic inside the backend) is
//!   redone on the CPU, and from then on everything runs there, with the reason
//!   kept for [`MsmEngine::fallback`].
//! - [`GpuEngine::start`] checks the backend against the CPU engine on random
//!   inputs (MSM, forward, inverse and coset transforms) before it is used.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use halo2_axiom::halo2curves::bn256::{Fr, G1Affine, G1};
use halo2_axiom::halo2curves::ff::Field;
use icicle_core::msm::{get_default_msm_config, msm};
use icicle_core::ntt::{initialize_domain, ntt, NTTConfig, NTTDir};
use icicle_core::traits::FieldImpl;
use icicle_cuda_runtime::device_context::get_default_device_context;
use icicle_cuda_runtime::memory::HostOrDeviceSlice;
use rayon::prelude::*;
use zkinfer_icicle_bn254::curve::{CurveCfg, G1Projective, ScalarField};
use zkinfer_icicle_bn254::{device, halo2};

use super::engine::{root_of_unity, spread_scalars, CpuEngine, Direction, MsmEngine, NttEngine};

/// Calls that may run on or wait for the GPU at once; more, from the prover's
/// parallel loops, run on the CPU meanwhile instead of blocking their threads.
pub const QUEUE_LIMIT: usize = 4;

/// Smallest transform domain initialised on the device (log2), so that small
/// sizes do not re-initialise it one after another.
const MIN_DOMAIN_LOG: u32 = 20;

/// Why the GPU engine could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// The CUDA runtime sees no device.
    NoDevice,
    /// The backend failed, or disagreed with the CPU, on the self-check.
    SelfCheck(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::NoDevice => f.write_str("no CUDA device found (is the NVIDIA driver installed?)"),
            StartError::SelfCheck(why) => write!(f, "the GPU failed its self-check against the CPU: {why}"),
        }
    }
}

/// MSM and NTT on the GPU, the CPU below `min_log` and after a failure.
pub struct GpuEngine {
    cpu: CpuEngine,
    min_log: u32,
    /// `ZKINFER_GPU_ALL_MSMS=1`: MSMs whose scalars do not suit the GPU
    /// ([`spread_scalars`]) go to it too.
    narrow_msms_on_gpu: bool,
    /// Calls that may run on or wait for the GPU at once (0: any number); a
    /// call beyond them runs on the CPU. `ZKINFER_GPU_QUEUE` overrides it.
    queue_limit: usize,
    queue: Queue,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// log2 of the order of the root the device's domain was initialised with.
    domain_log: u32,
    /// The first failure; once set, every call runs on the CPU.
    failure: Option<String>,
    /// Per transform size (log2): the device buffer a column is uploaded into
    /// and the host buffer its result comes back in, kept between calls (a
    /// proof makes thousands of transforms of two or three sizes).
    buffers: HashMap<u32, NttBuffers>,
}

struct NttBuffers {
    input: HostOrDeviceSlice<'static, ScalarField>,
    /// Always `HostOrDeviceSlice::Host`; taken out for a call and put back.
    output: Option<HostOrDeviceSlice<'static, ScalarField>>,
}

fn log2_ceil(n: usize) -> u32 {
    n.next_power_of_two().trailing_zeros()
}

fn icicle_error(what: &str, e: impl fmt::Debug) -> String {
    format!("{what}: {e:?}")
}

impl GpuEngine {
    /// Starts the engine on device 0 and checks it against the CPU.
    pub fn start(min_log: u32) -> Result<Self, StartError> {
        let engine = Self::start_unchecked(min_log)?;
        engine.self_check().map_err(StartError::SelfCheck)?;
        Ok(engine)
    }

    /// Starts the engine on device 0 without comparing it with the CPU: for a
    /// caller that compares every result itself (`zkinfer bench-engines`), so
    /// that it can say which operation differs. Never prove with it.
    pub fn start_unchecked(min_log: u32) -> Result<Self, StartError> {
        if device::count() == 0 {
            return Err(StartError::NoDevice);
        }
        if !halo2::zero_matches() {
            return Err(StartError::SelfCheck("the field layouts differ".into()));
        }
        // A diagnostic: every MSM on the GPU (to measure what `spread_scalars`
        // keeps on the CPU).
        let narrow_msms_on_gpu = std::env::var_os("ZKINFER_GPU_ALL_MSMS").is_some_and(|v| v == "1");
        let queue_limit = std::env::var("ZKINFER_GPU_QUEUE").ok().and_then(|v| v.parse().ok()).unwrap_or(QUEUE_LIMIT);
        Ok(GpuEngine {
            cpu: CpuEngine::new(),
            min_log,
            narrow_msms_on_gpu,
            queue_limit,
            queue: Queue::default(),
            state: Mutex::new(State::default()),
        })
    }

    fn self_check(&self) -> Result<(), String> {
        use rand::{rngs::StdRng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(0x2c4b);
        let log_n = 10;
        let n = 1usize << log_n;
        let scalars: Vec<Fr> = (0..n).map(|_| Fr::random(&mut rng)).collect();
        let bases: Vec<G1Affine> = (0..n).map(|_| (G1::generator() * Fr::random(&mut rng)).into()).collect();
        let mut state = self.lock();
        if self.gpu_msm(&scalars, &bases)? != self.cpu.msm(&scalars, &bases) {
            return Err("MSM of 2^10 points differs".into());
        }
        for direction in [Direction::Forward, Direction::Inverse] {
            let mut on_gpu = scalars.clone();
            self.gpu_ntt(&mut state, &mut on_gpu, log_n, direction, Fr::ONE)?;
            let mut on_cpu = scalars.clone();
            self.cpu.ntt(&mut on_cpu, log_n, direction);
            if on_gpu != on_cpu {
                return Err(format!("{direction:?} NTT of 2^10 values differs"));
            }
        }
        let shift = Fr::random(&mut rng);
        let mut on_gpu = scalars.clone();
        self.gpu_ntt(&mut state, &mut on_gpu, log_n, Direction::Forward, shift)?;
        let mut on_cpu = scalars;
        self.cpu.coset_ntt(&mut on_cpu, log_n, shift);
        if on_gpu != on_cpu {
            return Err("coset NTT of 2^10 values differs".into());
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn gpu_msm(&self, scalars: &[Fr], bases: &[G1Affine]) -> Result<G1, String> {
        let n = scalars.len();
        if bases.len() < n {
            return Err(format!("{n} scalars but {} bases", bases.len()));
        }
        let scalars = HostOrDeviceSlice::on_host(parallel_copy(halo2::scalars(scalars)));
        let points = HostOrDeviceSlice::on_host(parallel_copy(halo2::points(&bases[..n])));
        let mut result = HostOrDeviceSlice::on_host(vec![G1Projective::zero()]);
        let config = get_default_msm_config::<CurveCfg>();
        msm(&scalars, &points, &config, &mut result).map_err(|e| icicle_error("MSM", e))?;
        halo2::projective(&result.as_slice()[0]).ok_or_else(|| "the MSM result is not on the curve".to_string())
    }

    fn gpu_ntt(
        &self,
        state: &mut State,
        values: &mut [Fr],
        log_n: u32,
        direction: Direction,
        coset: Fr,
    ) -> Result<(), String> {
        let n = values.len();
        if n != 1usize << log_n {
            return Err(format!("{n} values for a transform of 2^{log_n}"));
        }
        if state.domain_log < log_n {
            let log = log_n.max(MIN_DOMAIN_LOG);
            let context = get_default_device_context();
            initialize_domain(halo2::scalar(&root_of_unity(log)), &context)
                .map_err(|e| icicle_error("NTT domain", e))?;
            state.domain_log = log;
        }
        let buffers = match state.buffers.entry(log_n) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(NttBuffers {
                input: HostOrDeviceSlice::cuda_malloc(n).map_err(|e| icicle_error("allocation", e))?,
                output: Some(HostOrDeviceSlice::on_host(vec![ScalarField::zero(); n])),
            }),
        };
        // Uploaded straight from the caller's column; the result comes back in
        // the engine's own host buffer first, so that a failed download leaves
        // `values` intact for the CPU to redo the transform.
        buffers.input.copy_from_host(halo2::scalars(values)).map_err(|e| icicle_error("upload", e))?;
        let mut output = buffers.output.take().ok_or_else(|| "the download buffer is missing".to_string())?;
        let mut config = NTTConfig::<ScalarField>::default_config();
        config.coset_gen = halo2::scalar(&coset);
        let dir = match direction {
            Direction::Forward => NTTDir::kForward,
            Direction::Inverse => NTTDir::kInverse,
        };
        let done = ntt(&buffers.input, dir, &config, &mut output).map_err(|e| icicle_error("NTT", e));
        if done.is_ok() {
            copy_in_parallel(halo2::scalars_mut(values), output.as_slice());
        }
        buffers.output = Some(output);
        done
    }

    /// Runs `gpu` unless the engine has failed before or the GPU already has
    /// `queue_limit` calls running or waiting; on an error or a panic, records
    /// the failure. `None`: the caller does the work on the CPU.
    fn attempt<T>(&self, gpu: impl FnOnce(&Self, &mut State) -> Result<T, String>) -> Option<T> {
        let _place = self.queue.enter(self.queue_limit)?;
        let mut state = self.lock();
        if state.failure.is_some() {
            return None;
        }
        match catch_unwind(AssertUnwindSafe(|| gpu(self, &mut state))) {
            Ok(Ok(value)) => Some(value),
            Ok(Err(why)) => {
                state.failure = Some(why);
                None
            }
            Err(_) => {
                state.failure = Some("the GPU backend panicked".into());
                None
            }
        }
    }
}

/// Elements per task of the parallel copies: large MSM and NTT inputs are tens
/// to hundreds of megabytes, which one thread copies several times slower than
/// the host's memory bandwidth allows.
const COPY_CHUNK: usize = 1 << 14;

/// An owned copy of `src` (ICICLE's host slices own their data), made in parallel.
fn parallel_copy<T: Copy + Send + Sync>(src: &[T]) -> Vec<T> {
    src.par_iter().with_min_len(COPY_CHUNK).copied().collect()
}

/// `dst.copy_from_slice(src)`, in parallel.
fn copy_in_parallel<T: Copy + Send + Sync>(dst: &mut [T], src: &[T]) {
    dst.par_chunks_mut(COPY_CHUNK).zip(src.par_chunks(COPY_CHUNK)).for_each(|(d, s)| d.copy_from_slice(s));
}

/// How many calls are running on the GPU or waiting for it.
#[derive(Default)]
struct Queue(AtomicUsize);

/// A place in the [`Queue`], given up on drop.
struct Place<'a>(&'a AtomicUsize);

impl Queue {
    /// A place, unless `limit` calls (0: no limit) are already queued.
    fn enter(&self, limit: usize) -> Option<Place<'_>> {
        let before = self.0.fetch_add(1, Ordering::SeqCst);
        let place = Place(&self.0);
        (limit == 0 || before < limit).then_some(place)
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl MsmEngine for GpuEngine {
    fn msm(&self, scalars: &[Fr], bases: &[G1Affine]) -> G1 {
        if scalars.is_empty()
            || log2_ceil(scalars.len()) < self.min_log
            || !(self.narrow_msms_on_gpu || spread_scalars(scalars))
        {
            return self.cpu.msm(scalars, bases);
        }
        self.attempt(|engine, _| engine.gpu_msm(scalars, bases)).unwrap_or_else(|| self.cpu.msm(scalars, bases))
    }

    fn device(&self) -> &'static str {
        "gpu"
    }

    fn fallback(&self) -> Option<String> {
        self.lock().failure.clone()
    }
}

impl NttEngine for GpuEngine {
    fn ntt(&self, values: &mut [Fr], log_n: u32, direction: Direction) {
        if log_n < self.min_log
            || self.attempt(|engine, state| engine.gpu_ntt(state, values, log_n, direction, Fr::ONE)).is_none()
        {
            self.cpu.ntt(values, log_n, direction);
        }
    }

    fn coset_ntt(&self, coeffs: &mut [Fr], log_n: u32, shift: Fr) {
        if log_n < self.min_log
            || self.attempt(|engine, state| engine.gpu_ntt(state, coeffs, log_n, Direction::Forward, shift)).is_none()
        {
            self.cpu.coset_ntt(coeffs, log_n, shift);
        }
    }

    fn device(&self) -> &'static str {
        "gpu"
    }

    fn fallback(&self) -> Option<String> {
        self.lock().failure.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    fn engine() -> Option<GpuEngine> {
        match GpuEngine::start(0) {
            Ok(engine) => Some(engine),
            Err(e) => {
                eprintln!("skipped: {e}");
                None
            }
        }
    }

    /// MSM and every transform equal the CPU engine's bit for bit, 2^10 to 2^22.
    #[test]
    fn gpu_results_equal_the_cpus_from_2_10_to_2_22() {
        let Some(gpu) = engine() else { return };
        let cpu = CpuEngine::new();
        let mut rng = StdRng::seed_from_u64(7);
        for log_n in (10..=22).step_by(2) {
            let n = 1usize << log_n;
            let scalars: Vec<Fr> = (0..n).map(|_| Fr::random(&mut rng)).collect();
            let bases = super::super::engine::sample_bases(n, &mut rng);
            assert_eq!(gpu.msm(&scalars, &bases), cpu.msm(&scalars, &bases), "MSM 2^{log_n}");
            for direction in [Direction::Forward, Direction::Inverse] {
                let (mut a, mut b) = (scalars.clone(), scalars.clone());
                gpu.ntt(&mut a, log_n, direction);
                cpu.ntt(&mut b, log_n, direction);
                assert!(a == b, "{direction:?} NTT 2^{log_n}");
            }
            let shift = Fr::random(&mut rng);
            let (mut a, mut b) = (scalars.clone(), scalars);
            gpu.coset_ntt(&mut a, log_n, shift);
            cpu.coset_ntt(&mut b, log_n, shift);
            assert!(a == b, "coset NTT 2^{log_n}");
            assert_eq!(MsmEngine::fallback(&gpu), None, "2^{log_n}: the engine fell back to the CPU");
        }
    }

    /// Sizes below the threshold stay on the CPU, and the engine says it is a GPU one.
    #[test]
    fn small_sizes_stay_on_the_cpu() {
        let Some(_) = engine() else { return };
        let gpu = GpuEngine::start(30).expect("started above");
        let cpu = CpuEngine::new();
        let values: Vec<Fr> = (0..16u64).map(Fr::from).collect();
        let (mut a, mut b) = (values.clone(), values);
        gpu.ntt(&mut a, 4, Direction::Forward);
        cpu.ntt(&mut b, 4, Direction::Forward);
        assert_eq!(a, b);
        assert_eq!(NttEngine::device(&gpu), "gpu");
    }
}
