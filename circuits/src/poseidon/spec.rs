//! Poseidon parameters for BN254's scalar field, generated the way the Poseidon
//! paper's reference script (`generate_parameters_grain.sage`) does: a Grain
//! LFSR seeded with the instance (prime field, `x^5`, 254-bit field, width,
//! rounds) gives the round constants (rejection-sampled below `p`), then the
//! `x`/`y` points of a Cauchy MDS matrix. With circomlib's round numbers these
//! are circomlib's / iden3's constants, which the tests check through
//! circomlibjs's published outputs.

use std::sync::OnceLock;

use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::{Field, PrimeField};

/// Full rounds (half before, half after the partial rounds).
pub const FULL_ROUNDS: usize = 8;

/// The S-box exponent.
pub const ALPHA: u64 = 5;

/// Partial rounds for widths `2..=17`, as circomlib (128-bit security, `x^5`).
const PARTIAL_ROUNDS: [usize; 16] = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68];

/// One Poseidon instance: width, round counts, constants and MDS matrix.
#[derive(Clone, Debug)]
pub struct Spec {
    /// State width `t` (rate `t - 1`, capacity 1).
    pub width: usize,
    /// Partial rounds.
    pub partial_rounds: usize,
    /// Round constants, `width` per round.
    pub round_constants: Vec<Vec<Fr>>,
    /// The MDS matrix: `next[i] = Σ_j mds[i][j] · state[j]`.
    pub mds: Vec<Vec<Fr>>,
    /// Its inverse.
    pub mds_inverse: Vec<Vec<Fr>>,
}

impl Spec {
    /// Total rounds.
    pub fn rounds(&self) -> usize {
        FULL_ROUNDS + self.partial_rounds
    }

    /// Whether round `r` applies the S-box to every cell.
    pub fn is_full_round(&self, r: usize) -> bool {
        r < FULL_ROUNDS / 2 || r >= FULL_ROUNDS / 2 + self.partial_rounds
    }

    /// The instance of width `width` (`2..=17`), generated once and cached.
    pub fn get(width: usize) -> &'static Spec {
        static SPECS: [OnceLock<Spec>; 16] = [const { OnceLock::new() }; 16];
        assert!((2..=17).contains(&width), "Poseidon width {width} is outside 2..=17");
        SPECS[width - 2].get_or_init(|| Spec::generate(width))
    }

    fn generate(width: usize) -> Spec {
        let partial_rounds = PARTIAL_ROUNDS[width - 2];
        let mut grain = Grain::new(width, FULL_ROUNDS, partial_rounds);
        let rounds = FULL_ROUNDS + partial_rounds;
        let round_constants =
            (0..rounds).map(|_| (0..width).map(|_| grain.field_element_below_modulus()).collect()).collect();
        let mds: Vec<Vec<Fr>> = loop {
            let points: Vec<Fr> = (0..2 * width).map(|_| grain.field_element_reduced()).collect();
            let distinct = points.iter().enumerate().all(|(i, a)| points[..i].iter().all(|b| a != b));
            let (xs, ys) = points.split_at(width);
            let sums: Vec<Vec<Fr>> = xs.iter().map(|x| ys.iter().map(|y| *x + y).collect()).collect();
            if !distinct || sums.iter().flatten().any(|s| bool::from(s.is_zero())) {
                continue;
            }
            break sums
                .iter()
                .map(|row| row.iter().map(|s| Option::<Fr>::from(s.invert()).unwrap_or(Fr::ZERO)).collect())
                .collect();
        };
        let mds_inverse = invert(&mds);
        Spec { width, partial_rounds, round_constants, mds, mds_inverse }
    }
}

/// The inverse of a square matrix by Gauss–Jordan elimination (a Cauchy matrix
/// with distinct points is always invertible).
fn invert(m: &[Vec<Fr>]) -> Vec<Vec<Fr>> {
    let n = m.len();
    let mut a: Vec<Vec<Fr>> = m
        .iter()
        .enumerate()
        .map(|(i, row)| row.iter().copied().chain((0..n).map(|j| if i == j { Fr::ONE } else { Fr::ZERO })).collect())
        .collect();
    for col in 0..n {
        let Some(pivot) = (col..n).find(|&r| !bool::from(a[r][col].is_zero())) else {
            continue;
        };
        a.swap(col, pivot);
        let inv = Option::<Fr>::from(a[col][col].invert()).unwrap_or(Fr::ZERO);
        for x in a[col].iter_mut() {
            *x *= inv;
        }
        for r in 0..n {
            if r != col {
                let factor = a[r][col];
                let pivot_row = a[col].clone();
                for (x, p) in a[r].iter_mut().zip(pivot_row) {
                    *x -= factor * p;
                }
            }
        }
    }
    a.into_iter().map(|row| row[n..].to_vec()).collect()
}

/// The self-shrinking Grain LFSR of the Poseidon reference script.
struct Grain {
    bits: std::collections::VecDeque<bool>,
}

/// Bits of the field's size the generator reads per element.
const FIELD_BITS: usize = 254;

impl Grain {
    fn new(width: usize, full_rounds: usize, partial_rounds: usize) -> Self {
        let mut bits = std::collections::VecDeque::with_capacity(80);
        let mut push = |value: usize, len: usize| {
            for i in (0..len).rev() {
                bits.push_back((value >> i) & 1 == 1);
            }
        };
        push(1, 2); // prime field
        push(0, 4); // S-box x^alpha
        push(FIELD_BITS, 12);
        push(width, 12);
        push(full_rounds, 10);
        push(partial_rounds, 10);
        push((1 << 30) - 1, 30);
        let mut grain = Grain { bits };
        for _ in 0..160 {
            grain.step();
        }
        grain
    }

    fn step(&mut self) -> bool {
        let b = &self.bits;
        let new = b[62] ^ b[51] ^ b[38] ^ b[23] ^ b[13] ^ b[0];
        self.bits.pop_front();
        self.bits.push_back(new);
        new
    }

    /// Self-shrinking: of each pair of bits, the second is output when the first is 1.
    fn next_bit(&mut self) -> bool {
        loop {
            let keep = self.step();
            let bit = self.step();
            if keep {
                return bit;
            }
        }
    }

    /// `FIELD_BITS` bits, most significant first, as little-endian bytes.
    fn next_bytes(&mut self) -> [u8; 32] {
        let mut repr = [0u8; 32];
        for i in (0..FIELD_BITS).rev() {
            if self.next_bit() {
                repr[i / 8] |= 1 << (i % 8);
            }
        }
        repr
    }

    /// A field element by rejection sampling (round constants).
    fn field_element_below_modulus(&mut self) -> Fr {
        loop {
            if let Some(f) = Option::<Fr>::from(Fr::from_repr(self.next_bytes())) {
                return f;
            }
        }
    }

    /// A field element by reduction modulo `p` (MDS points).
    fn field_element_reduced(&mut self) -> Fr {
        let repr = self.next_bytes();
        let half = |bytes: &[u8]| {
            let mut b = [0u8; 16];
            b.copy_from_slice(bytes);
            Fr::from_u128(u128::from_le_bytes(b))
        };
        let two128 = Fr::from_u128(u128::MAX) + Fr::ONE;
        half(&repr[..16]) + half(&repr[16..]) * two128
    }
}
