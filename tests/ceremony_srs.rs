//! A ceremony SRS: a real Perpetual-Powers-of-Tau file made by snarkjs
//! (`tests/data/pot6.ptau`, from `scripts/make_test_ptau.sh`) is imported, checked,
//! and used to prove and verify a model; damaged or foreign files are refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use zkinfer_circuits::compile::CompileOptions;
use zkinfer_prover::keys::keygen;
use zkinfer_prover::prove::prove;
use zkinfer_prover::srs::SrsStore;
use zkinfer_tests::{load_peer, prepare};
use zkinfer_verifier::verify;

fn ptau() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/pot6.ptau")
}

#[test]
fn a_snarkjs_ceremony_file_proves_and_verifies() {
    let (model, inputs) = load_peer("1l_mlp");
    let p = prepare(model, inputs, &CompileOptions { max_k: 6, ..Default::default() });
    let k = p.compiled.shape.k;
    let dir = tempfile::tempdir().unwrap();
    let store = SrsStore::new(dir.path());
    store.import(&ptau(), 6).unwrap();
    let srs = store.get(k).unwrap();
    assert!(!srs.generated && !srs.origin.is_testing_only(), "{:?}", srs.origin);
    let pk = keygen(&p.compiled, &srs).unwrap();
    let proof = prove(&p.compiled, &pk, &srs.params, p.witness()).unwrap();
    verify(&pk.verifying_key(), &srs.verifier_params(), &proof).unwrap();
}

#[test]
fn damaged_or_foreign_ceremony_files_are_refused() {
    let bytes = std::fs::read(ptau()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, data: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    };
    // A flipped byte inside the τ^i·G1 points (section 2 starts after the header).
    let mut bad = bytes.clone();
    bad[12 + 12 + 44 + 12 + 64 * 5 + 7] ^= 1;
    let err = SrsStore::from_file(&write("bad.ptau", &bad), 6).err().unwrap().to_string();
    assert!(err.contains("not a curve point") || err.contains("pairing"), "{err}");
    // Another curve's modulus in the header.
    let mut other = bytes.clone();
    other[12 + 12 + 4] ^= 1;
    let err = SrsStore::from_file(&write("other.ptau", &other), 5).err().unwrap().to_string();
    assert!(err.contains("not BN254"), "{err}");
    // More powers than the file holds.
    let err = SrsStore::from_file(&ptau(), 7).err().unwrap().to_string();
    assert!(err.contains("needs k = 7"), "{err}");
    // Truncated.
    let err = SrsStore::from_file(&write("short.ptau", &bytes[..5000]), 6).err().unwrap().to_string();
    assert!(err.contains("past the end") || err.contains("missing"), "{err}");
}
