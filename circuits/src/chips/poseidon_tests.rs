use halo2_axiom::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_axiom::dev::MockProver;
use halo2_axiom::plonk::{Circuit, Column, ConstraintSystem, Instance};

use super::*;
use crate::chips::fe;
use crate::poseidon::hash;

#[derive(Clone, Debug)]
struct Cfg {
    poseidon: PoseidonConfig,
    src: Column<Advice>,
    instance: Column<Instance>,
}

/// Hashes `message` (assigned in its own column, then copied) with `witness`,
/// `P` partial rounds per row.
#[derive(Clone, Debug, Default)]
struct HashCircuit<const P: usize> {
    message: Vec<Fr>,
    witness: Option<PoseidonWitness>,
    /// Slot bits when the message is packed.
    pack: Option<u32>,
}

impl<const P: usize> Circuit<Fr> for HashCircuit<P> {
    type Config = Cfg;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();

    fn without_witnesses(&self) -> Self {
        HashCircuit { message: self.message.clone(), witness: None, pack: self.pack }
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> Cfg {
        meta.set_minimum_degree(crate::circuit::DEGREE);
        let src = meta.advice_column();
        meta.enable_equality(src);
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        Cfg { poseidon: PoseidonConfig::configure(meta, P, true), src, instance }
    }

    fn synthesize(&self, cfg: Cfg, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let mut digest = None;
        layouter.assign_region(
            || "hash",
            |mut region| {
                let cells: Vec<Cell> = self
                    .message
                    .iter()
                    .enumerate()
                    .map(|(i, m)| region.assign_advice(cfg.src, i, Value::known(*m)).cell())
                    .collect();
                digest =
                    Some(cfg.poseidon.assign_commitment(&mut region, 0, &cells, self.witness.as_ref(), self.pack)?);
                Ok(())
            },
        )?;
        layouter.constrain_instance(digest.ok_or(Error::Synthesis)?, cfg.instance, 0);
        Ok(())
    }
}

fn message(len: usize) -> Vec<Fr> {
    (0..len).map(|i| fe::<Fr>(i as i128 * 7919 - 40_000)).collect()
}

fn check<const P: usize>(circuit: &HashCircuit<P>, digest: Fr) -> Result<(), Vec<halo2_axiom::dev::VerifyFailure>> {
    let k = (commitment_rows(circuit.message.len(), P, circuit.pack) + 8).next_power_of_two().trailing_zeros();
    MockProver::run(k, circuit, vec![vec![digest]]).map_err(|e| panic!("{e:?}")).and_then(|p| p.verify())
}

#[test]
fn chain_proves_the_native_hash_for_several_lengths() {
    chain_proves_the_native_hash_for_several_lengths_with::<1>();
    chain_proves_the_native_hash_for_several_lengths_with::<PARTIAL_PER_ROW>();
}

fn chain_proves_the_native_hash_for_several_lengths_with<const P: usize>() {
    for len in [0, 1, RATE, RATE + 3, 3 * RATE] {
        let m = message(len);
        let witness = PoseidonWitness::new(&m, P);
        assert_eq!(witness.rows.len(), rows(len, P));
        assert_eq!(witness.digest(), hash(&m), "witness digest, len {len}");
        let circuit = HashCircuit::<P> { message: m.clone(), witness: Some(witness), pack: None };
        assert_eq!(check(&circuit, hash(&m)), Ok(()), "len {len}");
    }
}

#[test]
fn wrong_digest_is_rejected() {
    wrong_digest_is_rejected_with::<1>();
    wrong_digest_is_rejected_with::<PARTIAL_PER_ROW>();
}

fn wrong_digest_is_rejected_with<const P: usize>() {
    let m = message(RATE + 3);
    let circuit = HashCircuit::<P> { message: m.clone(), witness: Some(PoseidonWitness::new(&m, P)), pack: None };
    assert!(check(&circuit, hash(&m) + Fr::ONE).is_err());
}

#[test]
fn tampered_state_or_square_is_rejected() {
    tampered_state_or_square_is_rejected_with::<1>();
    tampered_state_or_square_is_rejected_with::<PARTIAL_PER_ROW>();
}

fn tampered_state_or_square_is_rejected_with<const P: usize>() {
    let m = message(RATE + 3);
    let good = PoseidonWitness::new(&m, P);
    // Rows of a block: 0 absorb, 1–4 full, 5–16 five partial rounds, 17 three,
    // 18–21 full, 22 the output (and the next block's absorb row).
    // One partial round per row: 0 absorb, 1–4 full, 5–67 partial, 68–71 full,
    // 72 output and next absorb. Five per row: 0 absorb, 1–4 full, 5–16 five
    // partial rounds each, 17 three, 18–21 full, 22 output and next absorb.
    let cases: &[(usize, bool, usize)] = if P == 1 {
        &[
            (1, false, 0),
            (3, true, 7),
            (5, false, 4),
            (6, true, 0),
            (30, true, 0),
            (40, false, 8),
            (70, true, 2),
            (72, false, 2),
            (80, false, 0),
        ]
    } else {
        &[
            (1, false, 0),
            (3, true, 7),
            (5, false, 4),
            (6, true, 0),
            (6, true, 5),
            (9, true, 8),
            (17, true, 4),
            (17, false, 3),
            (19, false, 8),
            (30, true, 1),
            (40, false, 2),
            (44, false, 0),
        ]
    };
    for &(row, aux, col) in cases {
        let mut w = good.clone();
        let cell = if aux { &mut w.rows[row].sq[col] } else { &mut w.rows[row].state[col] };
        *cell += Fr::ONE;
        let circuit = HashCircuit::<P> { message: m.clone(), witness: Some(w), pack: None };
        assert!(check(&circuit, good.digest()).is_err(), "row {row} col {col} aux {aux}");
    }
}

#[test]
fn message_not_matching_the_hashed_cells_is_rejected() {
    message_not_matching_the_hashed_cells_is_rejected_with::<1>();
    message_not_matching_the_hashed_cells_is_rejected_with::<PARTIAL_PER_ROW>();
}

fn message_not_matching_the_hashed_cells_is_rejected_with<const P: usize>() {
    // The chain is consistent for another message, whose digest is claimed, but
    // the hashed cells hold the original values: the copy constraints catch it.
    let m = message(RATE + 3);
    let mut other = m.clone();
    other[4] += Fr::ONE;
    let circuit = HashCircuit::<P> { message: m, witness: Some(PoseidonWitness::new(&other, P)), pack: None };
    assert!(check(&circuit, hash(&other)).is_err());
}

#[test]
fn nonzero_padding_is_rejected() {
    nonzero_padding_is_rejected_with::<1>();
    nonzero_padding_is_rejected_with::<PARTIAL_PER_ROW>();
}

fn nonzero_padding_is_rejected_with<const P: usize>() {
    let m = message(RATE + 3);
    let mut padded = blocks(&m);
    padded[1][RATE - 1] = Fr::ONE;
    let w = PoseidonWitness::from_blocks(initial_capacity(m.len()), &padded, P);
    let digest = w.digest();
    let circuit = HashCircuit::<P> { message: m, witness: Some(w), pack: None };
    assert!(check(&circuit, digest).is_err());
}

#[test]
fn wrong_capacity_is_rejected() {
    wrong_capacity_is_rejected_with::<1>();
    wrong_capacity_is_rejected_with::<PARTIAL_PER_ROW>();
}

fn wrong_capacity_is_rejected_with<const P: usize>() {
    let m = message(RATE);
    let w = PoseidonWitness::from_blocks(initial_capacity(m.len() + 1), &blocks(&m), P);
    let digest = w.digest();
    let circuit = HashCircuit::<P> { message: m, witness: Some(w), pack: None };
    assert!(check(&circuit, digest).is_err());
}

fn signed_values(len: usize, bits: u32) -> Vec<i128> {
    let half = 1i128 << (bits - 1);
    (0..len as i128).map(|i| (i * 1_000_003 + 17) % (2 * half) - half).collect()
}

fn packed_circuit<const P: usize>(values: &[i128], bits: u32) -> (HashCircuit<P>, Fr) {
    let witness = PoseidonWitness::packed(values, bits, P).expect("values inside the window");
    let digest = witness.digest();
    let message = values.iter().map(|v| fe::<Fr>(*v)).collect();
    (HashCircuit::<P> { message, witness: Some(witness), pack: Some(bits) }, digest)
}

#[test]
fn packed_chain_proves_the_native_packed_hash() {
    use crate::poseidon::native::hash_packed;
    for (len, bits) in [(0, 24), (1, 24), (RATE, 24), (3 * RATE + 5, 24), (40, 40), (13, 2)] {
        let values = signed_values(len, bits);
        let (circuit, digest) = packed_circuit::<PARTIAL_PER_ROW>(&values, bits);
        assert_eq!(digest, hash_packed(&values, bits).unwrap(), "len {len}, {bits} bits");
        let witness = circuit.witness.as_ref().unwrap();
        assert_eq!(witness.pack.len(), pack_rows(len, bits));
        assert_eq!(pack_rows(len, bits) + witness.rows.len(), commitment_rows(len, PARTIAL_PER_ROW, Some(bits)));
        assert_eq!(check(&circuit, digest), Ok(()), "len {len}, {bits} bits");
    }
    let values = signed_values(RATE + 3, 24);
    let (circuit, digest) = packed_circuit::<1>(&values, 24);
    assert_eq!(check(&circuit, digest), Ok(()), "compact profile");
}

#[test]
fn tampered_packing_is_rejected() {
    let bits = 24;
    let values = signed_values(2 * RATE + 3, bits);
    let (good, digest) = packed_circuit::<PARTIAL_PER_ROW>(&values, bits);
    // A packed element that is not the weighted sum of its row's values.
    let mut bad = good.clone();
    bad.witness.as_mut().unwrap().pack[1].state[0] += Fr::ONE;
    assert!(check(&bad, digest).is_err(), "packed element");
    // A value in a packing row that is not the hashed cell.
    let mut bad = good.clone();
    bad.witness.as_mut().unwrap().pack[0].sq[3] += Fr::ONE;
    assert!(check(&bad, digest).is_err(), "packed value");
    // A consistent witness of other values, claiming their digest.
    let mut other = values.clone();
    other[RATE + 1] += 1;
    let (forged, forged_digest) = packed_circuit::<PARTIAL_PER_ROW>(&other, bits);
    let bad = HashCircuit::<PARTIAL_PER_ROW> { message: good.message.clone(), ..forged };
    assert!(check(&bad, forged_digest).is_err(), "other values");
    // The unpacked digest of the same values.
    assert!(check(&good, hash(&good.message)).is_err(), "unpacked digest");
    // A nonzero cell past the end of the tensor is harmless: its slot weight is 0.
    let mut padded = good.clone();
    padded.witness.as_mut().unwrap().pack[2].sq[RATE] = Fr::from(5);
    assert_eq!(check(&padded, digest), Ok(()));
}
