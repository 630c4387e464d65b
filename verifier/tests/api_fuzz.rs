//! The byte-level API that the wasm package exports (`zkinfer_verifier::api`),
//! fed real demo-model files and arbitrary, truncated and bit-flipped versions of
//! them, and arbitrary instance strings: every call returns `Ok(true)` only for
//! the real proof with its real instances, `Ok(false)` or an error with a message
//! otherwise, and never panics.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::Field;
use proptest::prelude::*;
use zkinfer_verifier::api::{self, ApiError};
use zkinfer_verifier::artifact::reseal;
use zkinfer_verifier::{Proof, VerifierParams, VerifyingKey};

struct Files {
    proof: Vec<u8>,
    vk: Vec<u8>,
    params: Vec<u8>,
    instances: Vec<String>,
}

/// The demo model's files, proven once per test binary.
fn files() -> &'static Files {
    static FILES: OnceLock<Files> = OnceLock::new();
    FILES.get_or_init(|| {
        let a = zkinfer_tests::demo_artifacts();
        let instances = api::proof_instances(&a.proof).expect("instances");
        Files { proof: a.proof, vk: a.vk, params: a.params, instances }
    })
}

/// Which of the three files a case damages.
#[derive(Clone, Copy, Debug)]
enum Which {
    Proof,
    Vk,
    Params,
}

fn which() -> impl Strategy<Value = Which> {
    prop_oneof![Just(Which::Proof), Just(Which::Vk), Just(Which::Params)]
}

/// Verifies with `which` replaced by `bytes`.
fn verify_with(which: Which, bytes: &[u8]) -> Result<bool, ApiError> {
    let f = files();
    match which {
        Which::Proof => api::verify_bytes(bytes, &f.vk, &f.params, &f.instances),
        Which::Vk => api::verify_bytes(&f.proof, bytes, &f.params, &f.instances),
        Which::Params => api::verify_bytes(&f.proof, &f.vk, bytes, &f.instances),
    }
}

fn original(which: Which) -> &'static [u8] {
    let f = files();
    match which {
        Which::Proof => &f.proof,
        Which::Vk => &f.vk,
        Which::Params => &f.params,
    }
}

/// An error must say something.
fn assert_message(e: &ApiError) {
    let msg = e.to_string();
    assert!(msg.len() > 20, "blank error: {msg:?}");
}

/// Flips `bits` (positions taken modulo the bit length) of `data`.
fn flip(data: &[u8], bits: &[usize]) -> Vec<u8> {
    let mut d = data.to_vec();
    for b in bits {
        let b = b % (d.len() * 8);
        d[b / 8] ^= 1 << (b % 8);
    }
    d
}

/// A changed file that still verifies must say what the original says, where it
/// matters: the same circuit (key), the same points (parameters), the same proof
/// transcript and metadata (proof; its embedded instances are not used).
fn assert_sound(which: Which, changed: &[u8]) {
    match which {
        Which::Proof => {
            let (mut a, mut b) =
                (Proof::from_bytes(changed, "p").unwrap(), Proof::from_bytes(original(which), "p").unwrap());
            a.instances.clear();
            b.instances.clear();
            assert_eq!(a, b, "a changed proof verified");
        }
        Which::Vk => {
            // The circuit digest (halo2's hash of the constraint system and the
            // fixed and permutation commitments) is what binds a key to its
            // circuit; edits of what the verifier does not read (halo2's selector
            // bitmaps, the model name, the shapes of a private input) may pass.
            let (a, b) = (
                VerifyingKey::from_bytes(changed, "v").unwrap(),
                VerifyingKey::from_bytes(original(which), "v").unwrap(),
            );
            assert_eq!(a.digest(), b.digest(), "a key of another circuit verified");
            assert_eq!(a.shape.instances, b.shape.instances);
            assert_eq!((a.model.scale, &a.model.output_shapes), (b.model.scale, &b.model.output_shapes));
        }
        Which::Params => {
            let a = VerifierParams::from_bytes(changed, "p").unwrap();
            assert_eq!(a, VerifierParams::from_bytes(original(which), "p").unwrap(), "changed parameters verified");
        }
    }
}

#[test]
fn the_real_files_verify_and_report_their_outputs() {
    let f = files();
    assert_eq!(api::verify_bytes(&f.proof, &f.vk, &f.params, &f.instances), Ok(true));
    let proof = Proof::from_bytes(&f.proof, "p").unwrap();
    assert_eq!(api::proof_outputs(&f.proof).unwrap(), proof.outputs_f64().unwrap());
    assert!(!f.instances.is_empty());
    // Instances round-trip through their text form.
    let parsed = api::parse_instances(&f.instances).unwrap();
    assert_eq!(Some(parsed), proof.instances_fr());
}

#[test]
fn changed_instances_and_transcripts_are_rejected_not_errors() {
    let f = files();
    // Each instance changed by one: false.
    for i in 0..f.instances.len() {
        let mut inst = f.instances.clone();
        let v = api::parse_instance(&inst[i]).unwrap() + Fr::ONE;
        inst[i] = api::format_instance(&v);
        assert_eq!(api::verify_bytes(&f.proof, &f.vk, &f.params, &inst), Ok(false), "instance {i}");
    }
    // A byte of the SHPLONK transcript flipped, the file resealed: false.
    let proof = Proof::from_bytes(&f.proof, "p").unwrap();
    let at = f.proof.windows(proof.proof.len()).position(|w| w == proof.proof).unwrap();
    for offset in [0, proof.proof.len() / 2, proof.proof.len() - 1] {
        let mut changed = f.proof.clone();
        changed[at + offset] ^= 0x10;
        let changed = reseal(&changed).unwrap();
        assert_eq!(api::verify_bytes(&changed, &f.vk, &f.params, &f.instances), Ok(false), "offset {offset}");
    }
    // The same flip without resealing: the checksum refuses the file.
    let mut changed = f.proof.clone();
    changed[at] ^= 0x10;
    let err = api::verify_bytes(&changed, &f.vk, &f.params, &f.instances).unwrap_err().to_string();
    assert!(err.contains("the `proof` argument is corrupt: the checksum does not match"), "{err}");
}

#[test]
fn malformed_input_is_an_error_naming_the_problem() {
    let f = files();
    let err = |r: Result<bool, ApiError>| r.unwrap_err().to_string();
    let e = err(api::verify_bytes(&f.proof, &f.vk, &f.params, &f.instances[1..]));
    assert!(
        e.contains(&format!(
            "{} public instances were given, but the proof has {}",
            f.instances.len() - 1,
            f.instances.len()
        )),
        "{e}"
    );
    let e = err(api::verify_bytes(&f.vk, &f.vk, &f.params, &f.instances));
    assert!(e.contains("the `proof` argument is a zkinfer verifying key, but a proof is needed"), "{e}");
    let e = err(api::verify_bytes(&f.proof, &f.params, &f.params, &f.instances));
    assert!(e.contains("the `vk` argument is a zkinfer verifier parameters, but a verifying key is needed"), "{e}");
    let e = err(api::verify_bytes(&f.proof[..f.proof.len() - 7], &f.vk, &f.params, &f.instances));
    assert!(e.contains("the `proof` argument is corrupt") && e.contains("truncated"), "{e}");
    let e = err(api::verify_bytes(&f.proof, &f.vk, b"\x00garbage", &f.instances));
    assert!(e.contains("the `params` argument is not a zkinfer verifier parameters file"), "{e}");
    let mut inst = f.instances.clone();
    inst[0] = "12.5".into();
    let e = err(api::verify_bytes(&f.proof, &f.vk, &f.params, &inst));
    assert!(e.contains("public instance 0 (\"12.5\") is not a field element"), "{e}");
    // Parameters of another SRS (same k): the files do not belong together.
    let params = VerifierParams::from_bytes(&f.params, "p").unwrap();
    let other = {
        use halo2_axiom::halo2curves::bn256::Bn256;
        use halo2_axiom::poly::kzg::commitment::ParamsKZG;
        use rand_chacha::rand_core::SeedableRng;
        let kzg = ParamsKZG::<Bn256>::setup(params.k, rand_chacha::ChaCha20Rng::seed_from_u64(7));
        VerifierParams::from_kzg(&kzg).to_bytes()
    };
    let e = err(api::verify_bytes(&f.proof, &f.vk, &other, &f.instances));
    assert!(e.contains("the verifier parameters do not match the verifying key"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary bytes in place of any file: an error, never a panic.
    #[test]
    fn arbitrary_bytes_are_errors(which in which(), bytes in prop::collection::vec(any::<u8>(), 0..3000)) {
        let r = verify_with(which, &bytes);
        prop_assert!(r.is_err(), "{which:?}: {r:?}");
        assert_message(&r.unwrap_err());
        if let Which::Proof = which {
            prop_assert!(api::proof_instances(&bytes).is_err());
            prop_assert!(api::proof_outputs(&bytes).is_err());
        }
    }

    /// Arbitrary bytes behind a valid header of the right kind (the body decoders
    /// see them): an error, never a panic.
    #[test]
    fn arbitrary_bodies_are_errors(which in which(), body in prop::collection::vec(any::<u8>(), 0..3000)) {
        let mut bytes = original(which)[..51].to_vec();
        bytes.extend_from_slice(&body);
        let bytes = reseal(&bytes).unwrap();
        let r = verify_with(which, &bytes);
        prop_assert!(r.is_err(), "{which:?}: {r:?}");
        assert_message(&r.unwrap_err());
    }

    /// Every truncation of every file: an error.
    #[test]
    fn truncated_files_are_errors(which in which(), cut in any::<prop::sample::Index>()) {
        let data = original(which);
        let r = verify_with(which, &data[..cut.index(data.len())]);
        prop_assert!(r.is_err(), "{which:?}: {r:?}");
        assert_message(&r.unwrap_err());
    }

    /// Flipped bits: the checksum refuses the file.
    #[test]
    fn flipped_bits_are_errors(which in which(), bits in prop::collection::btree_set(any::<usize>(), 1..5)) {
        let bits: Vec<usize> = bits.into_iter().collect();
        let changed = flip(original(which), &bits);
        prop_assume!(changed != original(which));
        let r = verify_with(which, &changed);
        prop_assert!(r.is_err(), "{which:?}: {r:?}");
        assert_message(&r.unwrap_err());
    }

    /// Flipped bits with the checksum recomputed (an attacker's edit): false or an
    /// error, and a file that still verifies says the same as the original.
    #[test]
    fn resealed_flips_never_verify_what_they_should_not(
        which in which(),
        bits in prop::collection::btree_set(any::<usize>(), 1..5),
    ) {
        let data = original(which);
        // Flip only body bits: header flips are the previous test's.
        let body_bits = (data.len() - 51) * 8;
        let bits: Vec<usize> = bits.into_iter().map(|b| 51 * 8 + b % body_bits).collect();
        let changed = reseal(&flip(data, &bits)).unwrap();
        prop_assume!(changed != data);
        match verify_with(which, &changed) {
            Ok(true) => assert_sound(which, &changed),
            Ok(false) => {}
            Err(e) => assert_message(&e),
        }
        if let Which::Proof = which {
            let _ = api::proof_instances(&changed);
            let _ = api::proof_outputs(&changed);
        }
    }

    /// Arbitrary instance strings: an error or false, never a panic.
    #[test]
    fn arbitrary_instance_strings_are_refused(
        strings in prop::collection::vec(
            prop_oneof![
                any::<String>(),
                "[-+]?(0[xX])?[0-9a-fA-F]{0,80}",
                "-?[0-9]{1,78}",
                Just(String::new()),
            ],
            0..12,
        ),
    ) {
        let f = files();
        match api::verify_bytes(&f.proof, &f.vk, &f.params, &strings) {
            Ok(true) => prop_assert_eq!(api::parse_instances(&strings).unwrap(), api::parse_instances(&f.instances).unwrap()),
            Ok(false) => prop_assert_eq!(strings.len(), f.instances.len()),
            Err(e) => assert_message(&e),
        }
    }

    /// The right number of well-formed but wrong instances: false.
    #[test]
    fn wrong_instance_values_are_false(values in prop::collection::vec(any::<i64>(), 1..4), at in any::<prop::sample::Index>()) {
        let f = files();
        let mut inst = f.instances.clone();
        let start = at.index(inst.len());
        for (slot, v) in inst[start..].iter_mut().zip(&values) {
            *slot = v.to_string();
        }
        let expected = inst == f.instances;
        prop_assert_eq!(api::verify_bytes(&f.proof, &f.vk, &f.params, &inst), Ok(expected));
    }

    /// Field elements written as text read back as themselves.
    #[test]
    fn instance_text_round_trips(bytes in any::<[u8; 32]>(), negative in any::<bool>()) {
        use halo2_axiom::halo2curves::ff::FromUniformBytes;
        let mut wide = [0u8; 64];
        wide[..32].copy_from_slice(&bytes);
        let f = Fr::from_uniform_bytes(&wide);
        let f = if negative { -f } else { f };
        prop_assert_eq!(api::parse_instance(&api::format_instance(&f)), Ok(f));
    }
}
