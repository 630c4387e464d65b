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
}

impl<const P: usize> Circuit<Fr> for HashCircuit<P> {
    type Config = Cfg;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();

    fn without_witnesses(&self) -> Self {
        HashCircuit { message: self.message.clone(), witness: None }
    }

    fn configure(meta: &mut ConstraintSystem<Fr>) -> Cfg {
        meta.set_minimum_degree(crate::circuit::DEGREE);
        let src = meta.advice_column();
        meta.enable_equality(src);
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        Cfg { poseidon: PoseidonConfig::configure(meta, P), src, instance }
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
                digest = Some(cfg.poseidon.assign(&mut region, 0, &cells, self.witness.as_ref())?);
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
    let k = (rows(circuit.message.len(), P) + 8).next_power_of_two().trailing_zeros();
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
        let circuit = HashCircuit::<P> { message: m.clone(), witness: Some(witness) };
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
    let circuit = HashCircuit::<P> { message: m.clone(), witness: Some(PoseidonWitness::new(&m, P)) };
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
        let circuit = HashCircuit::<P> { message: m.clone(), witness: Some(w) };
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
    let circuit = HashCircuit::<P> { message: m, witness: Some(PoseidonWitness::new(&other, P)) };
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
    let circuit = HashCircuit::<P> { message: m, witness: Some(w) };
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
    let circuit = HashCircuit::<P> { message: m, witness: Some(w) };
    assert!(check(&circuit, digest).is_err());
}
