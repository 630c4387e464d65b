//! `cargo bench -p zkinfer-benches --bench engines`: the native prover's MSM and
//! NTT engines on random inputs, sizes `2^k` for k in `ZKINFER_ENGINE_SIZES`
//! (comma-separated, default `10,12,14,16,18,20`). Writes JSON to
//! `ZKINFER_ENGINE_OUT` (default `target/zkinfer-engines.json`) and a table to
//! stdout. The baseline for a GPU engine's speedup (see docs/benchmarks.md).

use std::time::Instant;

use halo2_axiom::halo2curves::bn256::{Fr, G1Affine, G1};
use halo2_axiom::halo2curves::ff::Field;
use halo2_axiom::halo2curves::group::{Curve, Group};
use rand::SeedableRng;
use zkinfer_prover::native::engine::Direction;
use zkinfer_prover::native::{CpuEngine, MsmEngine, NttEngine};

fn seconds(reps: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm up (twiddle tables, page faults)
    let start = Instant::now();
    for _ in 0..reps {
        f();
    }
    start.elapsed().as_secs_f64() / reps as f64
}

fn main() {
    let sizes: Vec<u32> = std::env::var("ZKINFER_ENGINE_SIZES")
        .unwrap_or_else(|_| "10,12,14,16,18,20".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let target =
        std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| format!("{}/../target", env!("CARGO_MANIFEST_DIR")));
    let out = std::env::var("ZKINFER_ENGINE_OUT").unwrap_or_else(|_| format!("{target}/zkinfer-engines.json"));
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let engine = CpuEngine::new();
    let largest = 1usize << sizes.iter().copied().max().unwrap_or(10);
    // Bases: a random point's successive sums (cheap to make, as good as random).
    let step = G1::random(&mut rng);
    let mut projective = Vec::with_capacity(largest);
    let mut point = G1::random(&mut rng);
    for _ in 0..largest {
        projective.push(point);
        point += step;
    }
    let mut bases = vec![G1Affine::default(); largest];
    G1::batch_normalize(&projective, &mut bases);
    drop(projective);
    let scalars: Vec<Fr> = (0..largest).map(|_| Fr::random(&mut rng)).collect();

    let mut rows = Vec::new();
    println!("| log2 n | MSM ms | NTT ms | iNTT ms | coset NTT ms |\n|---|---|---|---|---|");
    for k in sizes {
        let n = 1usize << k;
        let reps = (1 << 22) / n.max(1 << 12);
        let msm = seconds(reps.clamp(1, 20), || {
            std::hint::black_box(engine.msm(&scalars[..n], &bases[..n]).to_affine());
        });
        let mut values = scalars[..n].to_vec();
        let ntt = seconds(reps.clamp(1, 50), || engine.ntt(&mut values, k, Direction::Forward));
        let intt = seconds(reps.clamp(1, 50), || engine.ntt(&mut values, k, Direction::Inverse));
        let coset = seconds(reps.clamp(1, 50), || engine.coset_ntt(&mut values, k, Fr::from(7)));
        println!("| {k} | {:.2} | {:.3} | {:.3} | {:.3} |", msm * 1e3, ntt * 1e3, intt * 1e3, coset * 1e3);
        rows.push(format!(
            "{{\"log_n\": {k}, \"msm_s\": {msm:.6}, \"ntt_s\": {ntt:.6}, \"intt_s\": {intt:.6}, \"coset_ntt_s\": {coset:.6}}}"
        ));
    }
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let json = format!("{{\"engine\": \"cpu\", \"threads\": {threads}, \"rows\": [\n  {}\n]}}\n", rows.join(",\n  "));
    if let Err(e) = std::fs::write(&out, json) {
        eprintln!("error: writing {out}: {e}");
        std::process::exit(1);
    }
    println!("results: {out}");
}
