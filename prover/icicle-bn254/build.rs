//! Compiles `cuda/bn254.cu` with nvcc (`$NVCC`, else `nvcc` on `PATH`;
//! `scripts/setup-gpu.sh` installs one from PyPI) for the architectures in
//! `$ZKINFER_CUDA_ARCHS` (default `90`: H100/H200), against sppark's headers and
//! blst's (for host-side field arithmetic). Only with the `cuda` feature.

use std::env;
use std::path::PathBuf;

fn main() {
    if env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return; // the empty crate: nothing to compile
    }
    println!("cargo:rerun-if-changed=cuda/bn254.cu");
    println!("cargo:rerun-if-env-changed=ZKINFER_CUDA_ARCHS");
    println!("cargo:rerun-if-env-changed=NVCC");
    println!("cargo:rerun-if-env-changed=CUDA_HOME");
    let sppark = env::var("DEP_SPPARK_ROOT").expect("sppark exports its source root (DEP_SPPARK_ROOT)");
    let blst = PathBuf::from(env::var("DEP_BLST_C_SRC").expect("blst exports its C sources (DEP_BLST_C_SRC)"));
    let archs = env::var("ZKINFER_CUDA_ARCHS").unwrap_or_else(|_| "90".into());
    let mut build = cc::Build::new();
    build.cuda(true).include(&sppark).include(blst.join("..").join("bindings")).include(&blst);
    build.flag("-DFEATURE_BN254").flag("-DTAKE_RESPONSIBILITY_FOR_ERROR_MESSAGE").flag("-std=c++17");
    for arch in archs.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        build.flag("-gencode").flag(format!("arch=compute_{arch},code=[sm_{arch},compute_{arch}]"));
    }
    if let Ok(home) = env::var("CUDA_HOME") {
        println!("cargo:rustc-link-search=native={home}/lib");
    }
    build.file("cuda/bn254.cu").compile("zkinfer_icicle_bn254_cuda");
    // cudart may be the static library (scripts/setup-gpu.sh links it so): it
    // needs these system libraries; with the shared cudart they are harmless.
    for lib in ["rt", "dl", "pthread"] {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
}
