//! On-chain verification end to end: generated Solidity verifiers compiled with
//! solc 0.8.19 and run in revm, for peer models and for both circuit profiles.
//! Every verifier must accept a valid proof and reject a flipped proof byte, a
//! changed public output and a proof of another model. An example consumer
//! contract records a proven classification. Needs solc (scripts/setup-solc.sh).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::PrimeField;
use sha3::{Digest, Keccak256};
use zkinfer_circuits::compile::CompileOptions;
use zkinfer_circuits::plan::Profile;
use zkinfer_prover::keys::keygen;
use zkinfer_prover::prove::prove;
use zkinfer_prover::srs::SrsStore;
use zkinfer_tests::cases::{dense, Case};
use zkinfer_tests::{load_peer, prepare, Prepared};
use zkinfer_verifier::evm::{
    calldata, compile_contracts, compile_verifier, find_solc, run_verifier, solidity_verifier, Contract, Evm, EvmError,
    EvmVerifier, Solc, VerifierHeader, MAX_RUNTIME_BYTES, VERIFIER_CONTRACT,
};
use zkinfer_verifier::{verify, Proof};

fn solc() -> &'static Solc {
    static SOLC: OnceLock<Solc> = OnceLock::new();
    SOLC.get_or_init(|| find_solc().unwrap_or_else(|e| panic!("the EVM tests need solc: {e}")))
}

fn srs_store() -> &'static SrsStore {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    static STORE: OnceLock<SrsStore> = OnceLock::new();
    STORE.get_or_init(|| SrsStore::new(DIR.get_or_init(|| tempfile::tempdir().expect("tempdir")).path()))
}

/// A proven model with its verifier, compiled.
struct OnChain {
    name: String,
    proof: Proof,
    verifier: EvmVerifier,
    contract: Contract,
}

fn evm_options() -> CompileOptions {
    CompileOptions { profile: Profile::Evm, ..CompileOptions::default() }
}

fn on_chain(name: &str, p: Prepared) -> OnChain {
    let srs = srs_store().get(p.compiled.shape.k).expect("srs");
    let pk = keygen(&p.compiled, &srs).expect("keygen");
    let proof = prove(&p.compiled, &pk, &srs.params, p.witness()).expect("prove");
    let vk = pk.verifying_key();
    let params = srs.verifier_params();
    verify(&vk, &params, &proof).expect("the Rust verifier accepts the proof");
    let verifier = solidity_verifier(&vk, &params).expect("codegen");
    assert_eq!(verifier.header.proof_bytes, proof.proof.len(), "{name}: proof length predicted from the key");
    let contract = compile_verifier(solc(), &verifier.source).expect("solc");
    OnChain { name: name.to_string(), proof, verifier, contract }
}

fn peer(name: &str, opts: &CompileOptions) -> OnChain {
    let (model, inputs) = load_peer(name);
    on_chain(name, prepare(model, inputs, opts))
}

fn case(c: Case, opts: &CompileOptions) -> OnChain {
    let name = c.name.clone();
    on_chain(&name, prepare(c.model, c.inputs, opts))
}

/// `word + r` (big-endian), which snark-verifier's unhardened code would reduce
/// back to `word`.
fn plus_modulus(word: &mut [u8]) {
    let r = Fr::MODULUS.trim_start_matches("0x");
    let mut carry = 0u16;
    for i in (0..32).rev() {
        let rb = u8::from_str_radix(&r[2 * i..2 * i + 2], 16).unwrap() as u16;
        let sum = word[i] as u16 + rb + carry;
        word[i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
}

/// The calldata offset of the first proof evaluation the verifier reads.
fn first_evaluation_offset(source: &str, instances: usize) -> usize {
    source
        .match_indices("canonical_scalar(calldataload(0x")
        .filter_map(|(i, m)| {
            let hex: String = source[i + m.len()..].chars().take_while(|c| c.is_ascii_hexdigit()).collect();
            usize::from_str_radix(&hex, 16).ok()
        })
        .find(|&o| o >= 32 * instances)
        .expect("an evaluation load")
}

/// Valid calldata, then tampered variants: flipped bytes in a commitment, in an
/// evaluation and in the last word; a public output changed by one; a byte
/// appended; a public value and an evaluation given as `v + r` instead of `v`.
fn variants(proof: &Proof, source: &str) -> Vec<(String, Vec<u8>)> {
    let valid = calldata(proof).expect("calldata");
    let header = 32 * proof.instances.len();
    let mut out = vec![("valid".to_string(), valid.clone())];
    for at in [header + 5, header + proof.proof.len() / 2, valid.len() - 1] {
        let mut bad = valid.clone();
        bad[at] ^= 0x01;
        out.push((format!("proof byte {at} flipped"), bad));
    }
    let mut changed = proof.clone();
    let mut values = changed.instances_fr().expect("instances");
    values[0] += Fr::one();
    changed.instances = values.iter().map(PrimeField::to_repr).collect();
    out.push(("public output changed".to_string(), calldata(&changed).expect("calldata")));
    let mut appended = valid.clone();
    appended.push(0);
    out.push(("a byte appended".to_string(), appended));
    let mut non_canonical = valid.clone();
    plus_modulus(&mut non_canonical[..32]);
    out.push(("public value + r".to_string(), non_canonical));
    let at = first_evaluation_offset(source, proof.instances.len());
    let mut non_canonical = valid.clone();
    plus_modulus(&mut non_canonical[at..at + 32]);
    out.push((format!("evaluation at {at} + r"), non_canonical));
    out
}

/// Asserts `m`'s verifier accepts its valid proof and rejects every tampered one
/// and `other`'s proof; returns the valid run's gas.
fn assert_accepts_only_valid(m: &OnChain, other: &OnChain) -> u64 {
    let mut cases = variants(&m.proof, &m.verifier.source);
    cases.push((format!("proof of {}", other.name), calldata(&other.proof).expect("calldata")));
    let data: Vec<Vec<u8>> = cases.iter().map(|(_, d)| d.clone()).collect();
    let runs = run_verifier(&m.contract, &data).expect("evm");
    assert!(runs[0].accepted, "{}: valid proof rejected on-chain", m.name);
    for ((what, _), run) in cases.iter().zip(&runs).skip(1) {
        assert!(!run.accepted, "{}: {what} accepted on-chain", m.name);
    }
    assert!(
        matches!(m.verifier.header.check_proof(&other.proof), Err(EvmError::OtherCircuit { .. })),
        "{}: the header check must name another circuit",
        m.name
    );
    runs[0].gas_used
}

#[test]
fn peer_model_verifiers_accept_valid_proofs_only_and_fit_eip170() {
    let models: Vec<OnChain> =
        ["1l_mlp", "1l_conv", "1l_average", "1l_max_pool", "4l_relu_conv_fc", "2l_relu_sigmoid_small", "1l_softmax"]
            .iter()
            .map(|n| peer(n, &evm_options()))
            .collect();
    for (i, m) in models.iter().enumerate() {
        let other = &models[(i + 1) % models.len()];
        let gas = assert_accepts_only_valid(m, other);
        assert!(
            m.contract.runtime.len() <= MAX_RUNTIME_BYTES,
            "{}: runtime bytecode {} B over EIP-170",
            m.name,
            m.contract.runtime.len()
        );
        eprintln!(
            "{}: gas {gas}, runtime {} B, calldata {} B",
            m.name,
            m.contract.runtime.len(),
            m.verifier.header.calldata_bytes()
        );
    }
}

#[test]
fn same_architecture_other_weights_is_rejected() {
    // Same shapes, so the calldata has the same length: only the key tells them apart.
    let opts = CompileOptions { scale: Some(8), value_bits: Some(24), ..evm_options() };
    let a = case(dense(1), &opts);
    let b = case(dense(2), &opts);
    assert_eq!(a.verifier.header.calldata_bytes(), b.verifier.header.calldata_bytes());
    assert_ne!(a.verifier.header.circuit_digest, b.verifier.header.circuit_digest);
    assert_accepts_only_valid(&a, &b);
    assert_accepts_only_valid(&b, &a);
}

#[test]
fn fast_profile_verifier_verifies_too() {
    let fast = peer("1l_mlp", &CompileOptions::default());
    let other = case(dense(3), &CompileOptions::default());
    assert_accepts_only_valid(&fast, &other);
}

#[test]
fn header_round_trips_and_checks_lengths() {
    let m = case(dense(4), &evm_options());
    assert_eq!(VerifierHeader::parse(&m.verifier.source), Some(m.verifier.header.clone()));
    assert_eq!(VerifierHeader::parse("// SPDX-License-Identifier: MIT\ncontract X {}"), None);
    let data = calldata(&m.proof).unwrap();
    m.verifier.header.check_calldata(&data).unwrap();
    let err = m.verifier.header.check_calldata(&data[..data.len() - 1]).unwrap_err();
    assert!(err.to_string().contains("encode-evm-calldata"), "{err}");
}

fn selector(signature: &str) -> Vec<u8> {
    Keccak256::digest(signature.as_bytes())[..4].to_vec()
}

fn word(v: &[u8]) -> Vec<u8> {
    let mut w = vec![0u8; 32 - v.len()];
    w.extend_from_slice(v);
    w
}

/// ABI encoding of `submit(bytes)`.
fn submit_call(data: &[u8]) -> Vec<u8> {
    let mut out = selector("submit(bytes)");
    out.extend(word(&[0x20]));
    out.extend(word(&(data.len() as u64).to_be_bytes()));
    out.extend_from_slice(data);
    out.resize(out.len() + (32 - data.len() % 32) % 32, 0);
    out
}

fn address_call(signature: &str, who: &[u8]) -> Vec<u8> {
    let mut out = selector(signature);
    out.extend(word(who));
    out
}

#[test]
fn consumer_contract_records_a_proven_classification() {
    let m = peer("1l_mlp", &evm_options());
    let registry_src = include_str!("../examples/evm/ClassificationRegistry.sol");
    let contracts = compile_contracts(
        solc(),
        &[("Verifier.sol", &m.verifier.source), ("ClassificationRegistry.sol", registry_src)],
        &[VERIFIER_CONTRACT, "ClassificationRegistry"],
    )
    .expect("solc");
    // Mainnet rules, EIP-170 included.
    let mut evm = Evm::new();
    let (verifier, _) = evm.deploy(contracts[0].creation.clone()).expect("verifier deploys");
    let mut creation = contracts[1].creation.clone();
    creation.extend(word(verifier.as_slice()));
    creation.extend(word(&(m.proof.instances.len() as u64).to_be_bytes()));
    let (registry, _) = evm.deploy(creation).expect("registry deploys");
    let me = evm.caller();

    // A tampered proof is refused and nothing is recorded.
    let mut bad = calldata(&m.proof).unwrap();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(!evm.call(registry, submit_call(&bad)).unwrap().success);
    let proved = evm.call(registry, address_call("hasProved(address)", me.as_slice())).unwrap();
    assert_eq!(proved.output, word(&[0]), "nothing recorded for a rejected proof");

    // A valid proof records the argmax of the public outputs.
    let ok = evm.call(registry, submit_call(&calldata(&m.proof).unwrap())).unwrap();
    assert!(ok.success, "valid proof refused by the registry: {:?}", ok.output);
    let outputs = m.proof.outputs().unwrap();
    let argmax = (0..outputs.len()).max_by_key(|&i| (outputs[i], std::cmp::Reverse(i))).unwrap();
    let class = evm.call(registry, address_call("classOf(address)", me.as_slice())).unwrap();
    assert_eq!(class.output, word(&(argmax as u64).to_be_bytes()));
    let proved = evm.call(registry, address_call("hasProved(address)", me.as_slice())).unwrap();
    assert_eq!(proved.output, word(&[1]));
}

#[test]
fn missing_solc_is_a_clear_error() {
    let err = EvmError::SolcMissing("no solc or solcjs found".into()).to_string();
    assert!(err.contains("scripts/setup-solc.sh"), "{err}");
}

/// The native prover core writes halo2's proof format: the Solidity verifier
/// generated from the same verifying key accepts its proof, and rejects it with a
/// flipped byte.
#[test]
fn the_solidity_verifier_accepts_native_proofs() {
    let (model, inputs) = load_peer("1l_mlp");
    let p = prepare(model, inputs, &evm_options());
    let srs = srs_store().get(p.compiled.shape.k).expect("srs");
    let pk = zkinfer_prover::keys::keygen_native(&p.compiled, &srs).expect("keygen");
    let (proof, _) = zkinfer_prover::prove::prove_native(
        &p.compiled,
        &pk,
        &srs.params,
        p.witness(),
        &zkinfer_prover::native::Engines::cpu(),
    )
    .expect("native proof");
    let params = srs.verifier_params();
    let verifier = solidity_verifier(&pk.verifying_key(), &params).expect("codegen");
    let contract = compile_verifier(solc(), &verifier.source).expect("solc");
    let good = calldata(&proof).expect("calldata");
    let mut bad = good.clone();
    let last = bad.len() - 40;
    bad[last] ^= 1;
    let runs = run_verifier(&contract, &[good, bad]).expect("evm");
    assert!(runs[0].accepted, "the EVM verifier rejected a native proof");
    assert!(!runs[1].accepted, "the EVM verifier accepted a tampered native proof");
}
