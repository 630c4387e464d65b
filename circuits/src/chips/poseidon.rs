//! The Poseidon chip: proves [`crate::poseidon::hash`] of cells of the circuit
//! (a `hashed` tensor).
//!
//! Columns: the state `s[0..W]`, auxiliary cells `sq[0..W]`, constants
//! `konst[0..W+P]` (fixed, `P` partial rounds per row: [`PARTIAL_PER_ROW`] for
//! fast proving, 1 for the compact profile, whose verifiers pay for every gate
//! term) and selectors. Row kinds:
//! - *absorb* (the first row, and the last row of each permutation): the next
//!   row's state is this row's plus the message block, which sits in
//!   `sq[1..W]` (copied from the hashed cells); a message cell past the end of
//!   the tensor is forced to zero by `konst[i] = 1` on that row;
//! - *init* (the first row): the state is `[konst[0], 0, …]`, `konst[0]` holding
//!   the capacity's initial value (the length);
//! - *full round*: `sq[i] = (s[i] + rc[i])²` and `next = M·y` with
//!   `y[j] = sq[j]²·(s[j] + rc[j])`, constrained as `M⁻¹·next = y` so that each
//!   S-box expression appears once;
//! - *partial rounds*, up to `P` per row: only the first cell has an S-box, so
//!   every other cell stays an affine form of the row's state and the S-box
//!   outputs so far. The row holds, per round `k`, the S-box input `c_k` (for
//!   `k ≥ 1`; `c_0 = s[0] + rc`) and its square `q_k` in the `sq` cells, and the
//!   gate checks `c_k` and the next row's state against those affine forms
//!   (coefficients from the MDS matrix, the same on every row; constant terms in
//!   `konst`). Degree 4, within the circuit's 5; 63 partial rounds take 13 rows
//!   instead of 63.
//!
//! A chain over a message of `b` blocks spans `b·(R + 1) + 1` rows ([`rows`],
//! `R` = 21 round rows); the digest is `s[0]` of its last row.
//!
//! *Packing* rows (a chip configured for packed commitments,
//! [`crate::poseidon::native::hash_packed`]) come before a packed chain: each
//! holds up to [`RATE`] values in `sq[1..W]` (copied from the hashed cells) and
//! their packing `s[0] = Σ_j konst[j]·sq[j]`, the fixed `konst[j]` being the
//! slot weights `2^(w·(j−1))` (0 past the end of the tensor); the chain absorbs
//! the `s[0]` cells.

use halo2_axiom::circuit::{Cell, Region, Value};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::Field;
use halo2_axiom::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_axiom::poly::Rotation;

use crate::chips::fe;
use crate::poseidon::native::{
    blocks, initial_capacity, pack, packed_capacity, round, slot_weight, values_per_element,
};
use crate::poseidon::spec::{Spec, FULL_ROUNDS};
use crate::poseidon::{RATE, WIDTH};

/// Partial rounds proven per row: each needs two auxiliary cells (its S-box
/// input and that input's square) but the first, which needs one, so `W`
/// auxiliary cells fit `(W + 1) / 2` of them.
pub const PARTIAL_PER_ROW: usize = WIDTH.div_ceil(2);

/// What one round row proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RoundRow {
    /// Full round `r`.
    Full(usize),
    /// Partial rounds `first..first + count`.
    Partial { first: usize, count: usize },
}

/// The round rows of one permutation, in order, with up to `per_row` partial
/// rounds per row.
fn round_rows(spec: &Spec, per_row: usize) -> Vec<RoundRow> {
    let half = FULL_ROUNDS / 2;
    let mut rows: Vec<RoundRow> = (0..half).map(RoundRow::Full).collect();
    let mut first = half;
    while first < half + spec.partial_rounds {
        let count = per_row.clamp(1, PARTIAL_PER_ROW).min(half + spec.partial_rounds - first);
        rows.push(RoundRow::Partial { first, count });
        first += count;
    }
    rows.extend((half + spec.partial_rounds..spec.rounds()).map(RoundRow::Full));
    rows
}

/// Rows of one chain over a message of `len` elements, with up to `per_row`
/// partial rounds per row.
pub fn rows(len: usize, per_row: usize) -> usize {
    len.div_ceil(RATE).max(1) * (round_rows(Spec::get(WIDTH), per_row).len() + 1) + 1
}

/// Fixed columns of the chip with up to `per_row` partial rounds per row (one
/// per row needs only the round constants).
pub fn fixed_columns(per_row: usize) -> usize {
    match per_row.clamp(1, PARTIAL_PER_ROW) {
        1 => WIDTH,
        p => WIDTH + p,
    }
}

/// Advice columns of the chip.
pub const ADVICE_COLUMNS: usize = 2 * WIDTH;

/// Equality-enabled columns of the chip (the digest cell's and the message cells').
pub const EQUALITY_COLUMNS: usize = WIDTH;

/// Packing rows before a chain over `len` values in `bits`-bit slots.
pub fn pack_rows(len: usize, bits: u32) -> usize {
    values_per_element(bits).map_or(0, |per| len.div_ceil(per))
}

/// Rows of one commitment to `len` values: the chain's, after the packing
/// rows when packed in `bits`-bit slots.
pub fn commitment_rows(len: usize, per_row: usize, pack: Option<u32>) -> usize {
    match pack.filter(|b| values_per_element(*b).is_some()) {
        Some(bits) => pack_rows(len, bits) + rows(pack_rows(len, bits), per_row),
        None => rows(len, per_row),
    }
}

/// Selectors of the chip: full rounds, absorb, init, one per partial-row
/// length and, when it packs, packing.
pub fn selectors(per_row: usize, packing: bool) -> usize {
    3 + partial_counts(per_row).len() + usize::from(packing)
}

/// The distinct numbers of partial rounds per row.
fn partial_counts(per_row: usize) -> Vec<usize> {
    let spec = Spec::get(WIDTH);
    let mut counts: Vec<usize> = round_rows(spec, per_row)
        .iter()
        .filter_map(|r| match r {
            RoundRow::Partial { count, .. } => Some(*count),
            RoundRow::Full(_) => None,
        })
        .collect();
    counts.sort_unstable();
    counts.dedup();
    counts
}

/// An affine form over a partial-round row: `Σ s_j·state_j + Σ z_k·sbox_k + c`.
#[derive(Clone, Debug)]
struct Affine {
    s: [Fr; WIDTH],
    z: [Fr; PARTIAL_PER_ROW],
    c: Fr,
}

impl Affine {
    fn zero() -> Self {
        Affine { s: [Fr::ZERO; WIDTH], z: [Fr::ZERO; PARTIAL_PER_ROW], c: Fr::ZERO }
    }

    fn plus(&self, other: &Affine, factor: Fr) -> Affine {
        let mut out = self.clone();
        for (a, b) in out.s.iter_mut().zip(&other.s) {
            *a += *b * factor;
        }
        for (a, b) in out.z.iter_mut().zip(&other.z) {
            *a += *b * factor;
        }
        out.c += other.c * factor;
        out
    }
}

/// The affine forms of `count` partial rounds from round `first`: the S-box
/// input of each round, and the state after the last.
fn partial_forms(spec: &Spec, first: usize, count: usize) -> (Vec<Affine>, Vec<Affine>) {
    let mut v: Vec<Affine> = (0..WIDTH)
        .map(|j| {
            let mut a = Affine::zero();
            a.s[j] = Fr::ONE;
            a
        })
        .collect();
    let mut inputs = Vec::with_capacity(count);
    for k in 0..count {
        let rc = &spec.round_constants[first + k];
        let mut input = v[0].clone();
        input.c += rc[0];
        inputs.push(input);
        let w: Vec<Affine> = (0..WIDTH)
            .map(|j| {
                if j == 0 {
                    let mut z = Affine::zero();
                    z.z[k] = Fr::ONE;
                    z
                } else {
                    let mut a = v[j].clone();
                    a.c += rc[j];
                    a
                }
            })
            .collect();
        v = spec.mds.iter().map(|row| row.iter().zip(&w).fold(Affine::zero(), |acc, (m, a)| acc.plus(a, *m))).collect();
    }
    (inputs, v)
}

/// Columns and selectors of the chip.
#[derive(Clone, Debug)]
pub struct PoseidonConfig {
    /// State cells.
    pub state: [Column<Advice>; WIDTH],
    /// Squares and S-box inputs; on absorb rows, the message block.
    pub sq: [Column<Advice>; WIDTH],
    /// Round constants and the partial rows' constant terms; capacity on the
    /// init row; padding flags on absorb rows.
    pub konst: Vec<Column<Fixed>>,
    /// Partial rounds per row (at most).
    pub per_row: usize,
    q_full: Selector,
    /// One selector per partial-row length used (`(count, selector)`).
    q_partial: Vec<(usize, Selector)>,
    q_absorb: Selector,
    q_init: Selector,
    /// Packing rows, when the chip packs.
    q_pack: Option<Selector>,
}

/// One row of a chain's witness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoseidonRow {
    /// State at the row.
    pub state: [Fr; WIDTH],
    /// Auxiliary cells (squares and S-box inputs, or the message block on absorb rows).
    pub sq: [Fr; WIDTH],
}

/// The witness of one chain: every row, computed from the message by the native
/// round function (the reference the chip is tested against).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoseidonWitness {
    /// Packing rows ([`pack_rows`] of them; none for an unpacked chain):
    /// values in `sq[1..]`, their packing in `state[0]`.
    pub pack: Vec<PoseidonRow>,
    /// The chain's rows, [`rows`] of them.
    pub rows: Vec<PoseidonRow>,
}

impl PoseidonWitness {
    /// The witness of hashing `message` with up to `per_row` partial rounds per row.
    pub fn new(message: &[Fr], per_row: usize) -> Self {
        Self::from_blocks(initial_capacity(message.len()), &blocks(message), per_row)
    }

    /// The witness of the packed commitment to signed `values` in `bits`-bit
    /// slots ([`crate::poseidon::native::hash_packed`]); an error names a value
    /// outside the slots' window.
    pub fn packed(values: &[i128], bits: u32, per_row: usize) -> Result<Self, String> {
        let per = values_per_element(bits).ok_or_else(|| format!("{bits}-bit slots cannot be packed"))?;
        let elements = pack(values, bits)?;
        let mut witness = Self::from_blocks(packed_capacity(values.len(), bits), &blocks(&elements), per_row);
        witness.pack = values
            .chunks(per)
            .zip(&elements)
            .map(|(chunk, packed)| {
                let mut row = PoseidonRow { state: [Fr::ZERO; WIDTH], sq: [Fr::ZERO; WIDTH] };
                row.state[0] = *packed;
                for (cell, v) in row.sq[1..].iter_mut().zip(chunk) {
                    *cell = fe(*v);
                }
                row
            })
            .collect();
        Ok(witness)
    }

    /// The witness of absorbing `blocks` into a state whose capacity starts at
    /// `capacity` (tests build inconsistent ones with it).
    pub(crate) fn from_blocks(capacity: Fr, blocks: &[[Fr; RATE]], per_row: usize) -> Self {
        let spec = Spec::get(WIDTH);
        let program = round_rows(spec, per_row);
        let mut state = [Fr::ZERO; WIDTH];
        state[0] = capacity;
        let mut rows = Vec::with_capacity(blocks.len() * (program.len() + 1) + 1);
        for &block in blocks {
            let mut sq = [Fr::ZERO; WIDTH];
            sq[1..].copy_from_slice(&block);
            rows.push(PoseidonRow { state, sq });
            for (s, m) in state[1..].iter_mut().zip(block) {
                *s += m;
            }
            for row in &program {
                let mut sq = [Fr::ZERO; WIDTH];
                let at_start = state;
                match *row {
                    RoundRow::Full(r) => {
                        for (q, (s, c)) in sq.iter_mut().zip(state.iter().zip(&spec.round_constants[r])) {
                            *q = (*s + c).square();
                        }
                        round(spec, r, &mut state);
                    }
                    RoundRow::Partial { first, count } => {
                        for k in 0..count {
                            let input = state[0] + spec.round_constants[first + k][0];
                            if k > 0 {
                                sq[2 * k - 1] = input;
                            }
                            sq[2 * k] = input.square();
                            round(spec, first + k, &mut state);
                        }
                    }
                }
                rows.push(PoseidonRow { state: at_start, sq });
            }
        }
        rows.push(PoseidonRow { state, sq: [Fr::ZERO; WIDTH] });
        PoseidonWitness { pack: Vec::new(), rows }
    }

    /// The digest (first state cell of the last row).
    pub fn digest(&self) -> Fr {
        self.rows.last().map_or(Fr::ZERO, |r| r.state[0])
    }
}

fn sum(terms: impl Iterator<Item = Expression<Fr>>) -> Expression<Fr> {
    terms.reduce(|a, b| a + b).unwrap_or(Expression::Constant(Fr::ZERO))
}

impl PoseidonConfig {
    /// Allocates the columns and creates the gates, for up to `per_row` partial
    /// rounds per row and, with `packing`, packing rows.
    pub fn configure(meta: &mut ConstraintSystem<Fr>, per_row: usize, packing: bool) -> Self {
        let per_row = per_row.clamp(1, PARTIAL_PER_ROW);
        let state: [Column<Advice>; WIDTH] = std::array::from_fn(|_| meta.advice_column());
        let sq: [Column<Advice>; WIDTH] = std::array::from_fn(|_| meta.advice_column());
        let konst: Vec<Column<Fixed>> = (0..fixed_columns(per_row)).map(|_| meta.fixed_column()).collect();
        meta.enable_equality(state[0]);
        for col in &sq[1..] {
            meta.enable_equality(*col);
        }
        let (q_full, q_absorb, q_init) = (meta.selector(), meta.selector(), meta.selector());
        let spec = Spec::get(WIDTH);
        // A round with `sboxes` S-boxes on one row: `sq_i = (s_i + rc_i)²` and
        // `M⁻¹·next = y` (each S-box expression once).
        let round_gate = |meta: &mut ConstraintSystem<Fr>, name: &'static str, selector: Selector, sboxes: usize| {
            meta.create_gate(name, |m| {
                let q = m.query_selector(selector);
                let x: Vec<Expression<Fr>> = (0..WIDTH)
                    .map(|i| m.query_advice(state[i], Rotation::cur()) + m.query_fixed(konst[i], Rotation::cur()))
                    .collect();
                let squares: Vec<Expression<Fr>> =
                    (0..sboxes).map(|i| m.query_advice(sq[i], Rotation::cur())).collect();
                let next: Vec<Expression<Fr>> =
                    (0..WIDTH).map(|i| m.query_advice(state[i], Rotation::next())).collect();
                let mut constraints: Vec<Expression<Fr>> =
                    squares.iter().zip(&x).map(|(s, x)| q.clone() * (s.clone() - x.clone() * x.clone())).collect();
                for (j, row) in spec.mds_inverse.iter().enumerate() {
                    let unmixed = sum(row.iter().zip(&next).map(|(mji, ni)| Expression::Constant(*mji) * ni.clone()));
                    let y = match squares.get(j) {
                        Some(sq) => sq.clone() * sq.clone() * x[j].clone(),
                        None => x[j].clone(),
                    };
                    constraints.push(q.clone() * (unmixed - y));
                }
                constraints
            });
        };
        round_gate(meta, "poseidon full round", q_full, WIDTH);
        let counts = partial_counts(per_row);
        let q_partial: Vec<(usize, Selector)> = counts.iter().map(|&c| (c, meta.selector())).collect();
        for &(count, selector) in &q_partial {
            if count == 1 {
                round_gate(meta, "poseidon partial round", selector, 1);
                continue;
            }
            let (inputs, finals) = partial_forms(spec, FULL_ROUNDS / 2, count);
            meta.create_gate("poseidon partial rounds", |m| {
                let q = m.query_selector(selector);
                let s: Vec<Expression<Fr>> = (0..WIDTH).map(|i| m.query_advice(state[i], Rotation::cur())).collect();
                let aux: Vec<Expression<Fr>> = (0..WIDTH).map(|i| m.query_advice(sq[i], Rotation::cur())).collect();
                let konsts: Vec<Expression<Fr>> = konst.iter().map(|k| m.query_fixed(*k, Rotation::cur())).collect();
                let k_at = |i: usize| konsts[i].clone();
                // S-box inputs: c_0 = s_0 + konst_0, c_k in sq[2k - 1]; squares q_k in sq[2k].
                let c: Vec<Expression<Fr>> =
                    (0..count).map(|k| if k == 0 { s[0].clone() + k_at(0) } else { aux[2 * k - 1].clone() }).collect();
                let z: Vec<Expression<Fr>> =
                    (0..count).map(|k| aux[2 * k].clone() * aux[2 * k].clone() * c[k].clone()).collect();
                let form = |a: &Affine, konst: Expression<Fr>| {
                    let linear = a.s.iter().zip(&s).map(|(f, x)| Expression::Constant(*f) * x.clone());
                    let sboxes = a.z.iter().zip(&z).map(|(f, x)| Expression::Constant(*f) * x.clone());
                    sum(linear.chain(sboxes)) + konst
                };
                let mut constraints = Vec::new();
                for k in 0..count {
                    constraints.push(q.clone() * (aux[2 * k].clone() - c[k].clone() * c[k].clone()));
                    if k > 0 {
                        constraints.push(q.clone() * (c[k].clone() - form(&inputs[k], k_at(k))));
                    }
                }
                let next: Vec<Expression<Fr>> =
                    (0..WIDTH).map(|i| m.query_advice(state[i], Rotation::next())).collect();
                for (i, f) in finals.iter().enumerate() {
                    constraints.push(q.clone() * (next[i].clone() - form(f, k_at(count + i))));
                }
                constraints
            });
        }
        meta.create_gate("poseidon absorb", |m| {
            let q = m.query_selector(q_absorb);
            let mut constraints = vec![
                q.clone() * (m.query_advice(state[0], Rotation::next()) - m.query_advice(state[0], Rotation::cur())),
            ];
            for i in 1..WIDTH {
                let message = m.query_advice(sq[i], Rotation::cur());
                let next = m.query_advice(state[i], Rotation::next());
                let cur = m.query_advice(state[i], Rotation::cur());
                constraints.push(q.clone() * (next - cur - message.clone()));
                constraints.push(q.clone() * m.query_fixed(konst[i], Rotation::cur()) * message);
            }
            constraints
        });
        meta.create_gate("poseidon init", |m| {
            let q = m.query_selector(q_init);
            let mut constraints = vec![
                q.clone() * (m.query_advice(state[0], Rotation::cur()) - m.query_fixed(konst[0], Rotation::cur())),
            ];
            for col in &state[1..] {
                constraints.push(q.clone() * m.query_advice(*col, Rotation::cur()));
            }
            constraints
        });
        let q_pack = packing.then(|| {
            let q_pack = meta.selector();
            meta.create_gate("poseidon pack", |m| {
                let q = m.query_selector(q_pack);
                let packed = sum((1..WIDTH)
                    .map(|i| m.query_fixed(konst[i], Rotation::cur()) * m.query_advice(sq[i], Rotation::cur())));
                vec![q * (m.query_advice(state[0], Rotation::cur()) - packed)]
            });
            q_pack
        });
        PoseidonConfig { state, sq, konst, per_row, q_full, q_partial, q_absorb, q_init, q_pack }
    }

    /// Assigns the commitment to the cells `message` from row `offset` of
    /// `region`: packed in `bits`-bit slots when `pack` is set (the chip must
    /// have been configured for packing), else element by element. Returns the
    /// digest cell; the rows used are [`commitment_rows`].
    pub fn assign_commitment(
        &self,
        region: &mut Region<'_, Fr>,
        offset: usize,
        message: &[Cell],
        witness: Option<&PoseidonWitness>,
        pack: Option<u32>,
    ) -> Result<Cell, Error> {
        let Some((bits, per)) = pack.and_then(|b| Some((b, values_per_element(b)?))) else {
            return self.assign(region, offset, message, witness);
        };
        let Some(q_pack) = self.q_pack else {
            return Err(Error::Synthesis);
        };
        let count = pack_rows(message.len(), bits);
        if witness.is_some_and(|w| w.pack.len() != count) {
            return Err(Error::Synthesis);
        }
        let mut packed = Vec::with_capacity(count);
        for (r, chunk) in message.chunks(per).enumerate() {
            let at = offset + r;
            q_pack.enable(region, at)?;
            let row = witness.map(|w| &w.pack[r]);
            for i in 1..WIDTH {
                let value = row.map_or(Value::unknown(), |row| Value::known(row.sq[i]));
                let cell = region.assign_advice(self.sq[i], at, value).cell();
                let weight = match chunk.get(i - 1) {
                    Some(source) => {
                        region.constrain_equal(*source, cell);
                        slot_weight(bits, i - 1)
                    }
                    None => Fr::ZERO,
                };
                region.assign_fixed(self.konst[i], at, weight);
            }
            let value = row.map_or(Value::unknown(), |row| Value::known(row.state[0]));
            packed.push(region.assign_advice(self.state[0], at, value).cell());
        }
        self.assign_chain(region, offset + count, &packed, witness, packed_capacity(message.len(), bits))
    }

    /// Assigns the chain hashing the cells `message` (copied into the absorb
    /// rows) from row `offset` of `region`; returns the digest cell. Without a
    /// witness the cells are unknown (key generation).
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        offset: usize,
        message: &[Cell],
        witness: Option<&PoseidonWitness>,
    ) -> Result<Cell, Error> {
        self.assign_chain(region, offset, message, witness, initial_capacity(message.len()))
    }

    /// [`Self::assign`] with the capacity starting at `capacity`.
    fn assign_chain(
        &self,
        region: &mut Region<'_, Fr>,
        offset: usize,
        message: &[Cell],
        witness: Option<&PoseidonWitness>,
        capacity: Fr,
    ) -> Result<Cell, Error> {
        let spec = Spec::get(WIDTH);
        let program = round_rows(spec, self.per_row);
        let len = message.len();
        let total = rows(len, self.per_row);
        if witness.is_some_and(|w| w.rows.len() != total) {
            return Err(Error::Synthesis);
        }
        let value = |row: usize, f: fn(&PoseidonRow) -> &[Fr; WIDTH], i: usize| {
            witness.map_or(Value::unknown(), |w| Value::known(f(&w.rows[row])[i]))
        };
        // Each partial row's constant terms (the same for every permutation).
        let partial_constants: Vec<Vec<Fr>> = program
            .iter()
            .map(|row| match *row {
                RoundRow::Partial { first, count: 1 } => spec.round_constants[first].clone(),
                RoundRow::Partial { first, count } => {
                    let (inputs, finals) = partial_forms(spec, first, count);
                    inputs.iter().chain(&finals).map(|a| a.c).collect()
                }
                RoundRow::Full(_) => Vec::new(),
            })
            .collect();
        let period = program.len() + 1;
        let mut digest = None;
        for row in 0..total {
            let at = offset + row;
            let phase = row % period;
            if row == 0 {
                self.q_init.enable(region, at)?;
                region.assign_fixed(self.konst[0], at, capacity);
            }
            if phase == 0 && row + 1 < total {
                self.q_absorb.enable(region, at)?;
                let block = row / period;
                for i in 1..WIDTH {
                    let cell = region.assign_advice(self.sq[i], at, value(row, |r| &r.sq, i)).cell();
                    match message.get(block * RATE + i - 1) {
                        Some(source) => region.constrain_equal(*source, cell),
                        None => {
                            region.assign_fixed(self.konst[i], at, Fr::ONE);
                        }
                    }
                }
            } else if phase > 0 {
                let used = match program[phase - 1] {
                    RoundRow::Full(r) => {
                        self.q_full.enable(region, at)?;
                        for (i, c) in spec.round_constants[r].iter().enumerate() {
                            region.assign_fixed(self.konst[i], at, *c);
                        }
                        WIDTH
                    }
                    RoundRow::Partial { count, .. } => {
                        let selector = self.q_partial.iter().find(|(c, _)| *c == count).map(|(_, s)| *s);
                        selector.ok_or(Error::Synthesis)?.enable(region, at)?;
                        for (i, f) in partial_constants[phase - 1].iter().enumerate() {
                            region.assign_fixed(self.konst[i], at, *f);
                        }
                        2 * count - 1
                    }
                };
                for i in 0..used {
                    region.assign_advice(self.sq[i], at, value(row, |r| &r.sq, i));
                }
            }
            for i in 0..WIDTH {
                let cell = region.assign_advice(self.state[i], at, value(row, |r| &r.state, i)).cell();
                if i == 0 && row + 1 == total {
                    digest = Some(cell);
                }
            }
        }
        digest.ok_or(Error::Synthesis)
    }
}

#[cfg(test)]
#[path = "poseidon_tests.rs"]
mod tests;
