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
    sponge(initial_capacity(message.len()), message)
}

/// [`hash`] of signed integers (a quantised tensor: `-v` is `p - v`).
pub fn hash_integers(values: &[i128]) -> Fr {
    hash(&values.iter().map(|v| crate::chips::fe::<Fr>(*v)).collect::<Vec<_>>())
}

/// Bits a packed field element may fill: below BN254's 254-bit modulus, so
/// packing never wraps.
pub const PACKED_BITS: u32 = 253;

/// Values packed into one field element with `bits`-bit slots: as many as fit
/// [`PACKED_BITS`], at most [`RATE`] (the cells a packing row has); `None` when
/// fewer than two fit (packing would save nothing).
pub fn values_per_element(bits: u32) -> Option<usize> {
    let fit = (PACKED_BITS / bits.max(1)) as usize;
    (fit >= 2).then_some(fit.min(RATE))
}

/// The weight of slot `j` with `bits`-bit slots: `2^(bits·j)`.
pub fn slot_weight(bits: u32, j: usize) -> Fr {
    Fr::from(2).pow_vartime([u64::from(bits) * j as u64])
}

/// Packs signed values of `bits` bits each, [`values_per_element`] per field
/// element: `Σ_j v_j·2^(bits·j)`. The map is injective over values in
/// `[-2^(bits-1), 2^(bits-1))` (balanced digits, no wrap), which is why both
/// sides of a packed commitment must constrain their values to that window
/// ([`crate::bounds`]). Errors name the first value outside it.
pub fn pack(values: &[i128], bits: u32) -> Result<Vec<Fr>, String> {
    let per = values_per_element(bits).ok_or_else(|| format!("{bits}-bit slots cannot be packed"))?;
    let half = 1i128 << (bits - 1);
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| **v < -half || **v >= half) {
        return Err(format!("value {v} at position {i} lies outside the {bits}-bit packing window"));
    }
    let weights: Vec<Fr> = (0..per).map(|j| slot_weight(bits, j)).collect();
    Ok(values
        .chunks(per)
        .map(|chunk| chunk.iter().zip(&weights).map(|(v, w)| crate::chips::fe::<Fr>(*v) * w).sum())
        .collect())
}

/// The capacity's initial value for `len` values packed in `bits`-bit slots:
/// [`initial_capacity`] of `len` plus `bits·2^128`, so a packed commitment never
/// equals an unpacked one or one of another slot width.
pub fn packed_capacity(len: usize, bits: u32) -> Fr {
    initial_capacity(len) + Fr::from(u64::from(bits)) * crate::chips::pow2::<Fr>(128)
}

/// The sponge of [`hash`] over `blocks`, from a capacity of `capacity`.
fn sponge(capacity: Fr, message: &[Fr]) -> Fr {
    let mut state = [Fr::ZERO; WIDTH];
    state[0] = capacity;
    for block in blocks(message) {
        for (s, m) in state[1..].iter_mut().zip(block) {
            *s += m;
        }
        permute(&mut state);
    }
    state[0]
}

/// The packed commitment to signed values of at most `bits` bits: the sponge
/// of [`hash`] over [`pack`]ed elements, from [`packed_capacity`]. A segment
/// boundary is committed this way: [`values_per_element`] times fewer
/// permutations than [`hash_integers`].
pub fn hash_packed(values: &[i128], bits: u32) -> Result<Fr, String> {
    Ok(sponge(packed_capacity(values.len(), bits), &pack(values, bits)?))
}
