//! Locating the third-party example models in `../shared/peer-models` (EZKL's
//! examples layout: `<name>/network.onnx` + `<name>/input.json`), used by tests and
//! benchmarks. Never copied into the repository.

use std::path::PathBuf;

/// Environment variable that overrides the peer-models directory.
pub const PEER_MODELS_ENV: &str = "ZKINFER_PEER_MODELS";

/// The peer-models directory: `$ZKINFER_PEER_MODELS`, else `../shared/peer-models`
/// next to the workspace root.
pub fn peer_models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(PEER_MODELS_ENV) {
        return PathBuf::from(dir);
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    workspace.join("..").join("shared").join("peer-models")
}

/// `(network.onnx, input.json)` of peer model `name`. Panics with a clear message
/// when the directory is missing: tests that need these models must not pass
/// silently without them.
pub fn peer_model(name: &str) -> (PathBuf, PathBuf) {
    let dir = peer_models_dir().join(name);
    let onnx = dir.join("network.onnx");
    assert!(
        onnx.exists(),
        "peer model {name} not found at {} (set {PEER_MODELS_ENV} to the peer-models directory)",
        onnx.display()
    );
    (onnx, dir.join("input.json"))
}
