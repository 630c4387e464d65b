//! The Poseidon permutation and zkinfer's tensor commitment (a sponge over it),
//! computed natively: what `zkinfer hash`, the wasm package and the witness use.

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::Field;

use super::spec::{Spec, ALPHA};
use super::{RATE, WIDTH};

/// Applies the Poseidon permutation of width `state.len()` in place.
pub fn permute(state: &mut [Fr]) {
    let spec = Spec::get(state.len());
    for r in 0..spec.rounds() {
        round(spec, r, state);
    }
}

/// One round: add constants, S-box (every cell or the first), multiply by the MDS matrix.
pub fn round(spec: &Spec, r: usize, state: &mut [Fr]) {
    for (s, c) in state.iter_mut().zip(&spec.round_constants[r]) {
        *s += c;
    }
    let sboxes = if spec.is_full_round(r) { state.len() } else { 1 };
    for s in &mut state[..sboxes] {
        *s = s.pow_vartime([ALPHA]);
    }
    let mixed: Vec<Fr> = spec.mds.iter().map(|row| row.iter().zip(state.iter()).map(|(m, s)| *m * s).sum()).collect();
    state.copy_from_slice(&mixed);
}

/// circomlib's `Poseidon(n)`: the permutation of width `n + 1` applied to
/// `[0, inputs…]`, first cell out (`inputs.len()` in `1..=16`).
pub fn circom_hash(inputs: &[Fr]) -> Fr {
    let mut state = vec![Fr::ZERO; inputs.len() + 1];
    state[1..].copy_from_slice(inputs);
    permute(&mut state);
    state[0]
}

/// The capacity cell's initial value for a message of `len` elements:
/// `len · 2^64` (the Poseidon paper's domain separation for variable length).
pub fn initial_capacity(len: usize) -> Fr {
    Fr::from(len as u64) * Fr::from(1u64 << 32).square()
}

/// The message in absorption blocks of [`RATE`] elements, the last one padded
/// with zeros; an empty message is one block of zeros.
pub fn blocks(message: &[Fr]) -> Vec<[Fr; RATE]> {
    let count = message.len().div_ceil(RATE).max(1);
    (0..count).map(|b| std::array::from_fn(|i| message.get(b * RATE + i).copied().unwrap_or(Fr::ZERO))).collect()
}

/// zkinfer's commitment to a tensor: a sponge of width [`WIDTH`] (rate
/// [`RATE`], capacity 1) over the Poseidon permutation. The capacity starts at
/// [`initial_capacity`]; each block of [`blocks`] is added to the rate cells,
/// then the state is permuted; the digest is the first cell.
pub fn hash(message: &[Fr]) -> Fr {
    let mut state = [Fr::ZERO; WIDTH];
    state[0] = initial_capacity(message.len());
    for block in blocks(message) {
        for (s, m) in state[1..].iter_mut().zip(block) {
            *s += m;
        }
        permute(&mut state);
    }
    state[0]
}

/// [`hash`] of signed integers (a quantised tensor: `-v` is `p - v`).
pub fn hash_integers(values: &[i128]) -> Fr {
    hash(&values.iter().map(|v| crate::chips::fe::<Fr>(*v)).collect::<Vec<_>>())
}
