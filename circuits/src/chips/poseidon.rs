//! The Poseidon chip: proves [`crate::poseidon::hash`] of cells of the circuit
//! (a `hashed` tensor), one permutation round per row.
//!
//! Columns: the state `s[0..W]`, an auxiliary `sq[0..W]`, the round constants
//! `rc[0..W]` (fixed) and four selectors. Row kinds:
//! - *absorb* (the first row, and the last row of each permutation): the next
//!   row's state is this row's plus the message block, which sits in
//!   `sq[1..W]` (copied from the hashed cells); a message cell past the end of
//!   the tensor is forced to zero by `rc[i] = 1` on that row;
//! - *init* (the first row): the state is `[rc[0], 0, …]`, `rc[0]` holding the
//!   capacity's initial value (the length);
//! - *full* / *partial* round: `sq[i] = (s[i] + rc[i])²` for the cells with an
//!   S-box, and `next = M·y` with `y[j] = sq[j]²·(s[j] + rc[j])` (S-box) or
//!   `s[j] + rc[j]` (no S-box), constrained as `M⁻¹·next = y`. Degree 4, within
//!   the circuit's 5.
//!
//! A chain over a message of `b` blocks spans `b·(R + 1) + 1` rows ([`rows`]);
//! the digest is `s[0]` of its last row.

use halo2_axiom::circuit::{Cell, Region, Value};
use halo2_axiom::halo2curves::bn256::Fr;
use halo2_axiom::halo2curves::ff::Field;
use halo2_axiom::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_axiom::poly::Rotation;

use crate::poseidon::native::{blocks, initial_capacity, round};
use crate::poseidon::spec::Spec;
use crate::poseidon::{RATE, WIDTH};

/// Rows of one chain over a message of `len` elements.
pub fn rows(len: usize) -> usize {
    let spec = Spec::get(WIDTH);
    len.div_ceil(RATE).max(1) * (spec.rounds() + 1) + 1
}

/// Columns and selectors of the chip.
#[derive(Clone, Debug)]
pub struct PoseidonConfig {
    /// State cells.
    pub state: [Column<Advice>; WIDTH],
    /// Squares of S-box inputs; on absorb rows, the message block.
    pub sq: [Column<Advice>; WIDTH],
    /// Round constants; capacity on the init row; padding flags on absorb rows.
    pub rc: [Column<Fixed>; WIDTH],
    q_full: Selector,
    q_partial: Selector,
    q_absorb: Selector,
    q_init: Selector,
}

/// One row of a chain's witness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoseidonRow {
    /// State at the row.
    pub state: [Fr; WIDTH],
    /// Auxiliary cells (squares, or the message block on absorb rows).
    pub sq: [Fr; WIDTH],
}

/// The witness of one chain: every row, computed from the message by the native
/// round function (the reference the chip is tested against).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoseidonWitness {
    /// Rows, [`rows`] of them.
    pub rows: Vec<PoseidonRow>,
}

impl PoseidonWitness {
    /// The witness of hashing `message`.
    pub fn new(message: &[Fr]) -> Self {
        Self::from_blocks(initial_capacity(message.len()), &blocks(message))
    }

    /// The witness of absorbing `blocks` into a state whose capacity starts at
    /// `capacity` (tests build inconsistent ones with it).
    pub(crate) fn from_blocks(capacity: Fr, blocks: &[[Fr; RATE]]) -> Self {
        let spec = Spec::get(WIDTH);
        let mut state = [Fr::ZERO; WIDTH];
        state[0] = capacity;
        let mut rows = Vec::with_capacity(blocks.len() * (spec.rounds() + 1) + 1);
        for &block in blocks {
            let mut sq = [Fr::ZERO; WIDTH];
            sq[1..].copy_from_slice(&block);
            rows.push(PoseidonRow { state, sq });
            for (s, m) in state[1..].iter_mut().zip(block) {
                *s += m;
            }
            for r in 0..spec.rounds() {
                let mut sq = [Fr::ZERO; WIDTH];
                let sboxes = if spec.is_full_round(r) { WIDTH } else { 1 };
                for i in 0..sboxes {
                    sq[i] = (state[i] + spec.round_constants[r][i]).square();
                }
                rows.push(PoseidonRow { state, sq });
                round(spec, r, &mut state);
            }
        }
        rows.push(PoseidonRow { state, sq: [Fr::ZERO; WIDTH] });
        PoseidonWitness { rows }
    }

    /// The digest (first state cell of the last row).
    pub fn digest(&self) -> Fr {
        self.rows.last().map_or(Fr::ZERO, |r| r.state[0])
    }
}

impl PoseidonConfig {
    /// Allocates the columns and creates the gates.
    pub fn configure(meta: &mut ConstraintSystem<Fr>) -> Self {
        let state: [Column<Advice>; WIDTH] = std::array::from_fn(|_| meta.advice_column());
        let sq: [Column<Advice>; WIDTH] = std::array::from_fn(|_| meta.advice_column());
        let rc: [Column<Fixed>; WIDTH] = std::array::from_fn(|_| meta.fixed_column());
        meta.enable_equality(state[0]);
        for col in &sq[1..] {
            meta.enable_equality(*col);
        }
        let (q_full, q_partial, q_absorb, q_init) =
            (meta.selector(), meta.selector(), meta.selector(), meta.selector());
        let spec = Spec::get(WIDTH);
        for (name, selector, sboxes) in
            [("poseidon full round", q_full, WIDTH), ("poseidon partial round", q_partial, 1)]
        {
            meta.create_gate(name, |m| {
                let q = m.query_selector(selector);
                let x: Vec<Expression<Fr>> = (0..WIDTH)
                    .map(|i| m.query_advice(state[i], Rotation::cur()) + m.query_fixed(rc[i], Rotation::cur()))
                    .collect();
                let squares: Vec<Expression<Fr>> =
                    (0..sboxes).map(|i| m.query_advice(sq[i], Rotation::cur())).collect();
                let y: Vec<Expression<Fr>> = (0..WIDTH)
                    .map(|j| match squares.get(j) {
                        Some(s) => s.clone() * s.clone() * x[j].clone(),
                        None => x[j].clone(),
                    })
                    .collect();
                // next = M·y, written as M⁻¹·next = y: each S-box expression
                // appears once (the verifier evaluates every gate expression,
                // on-chain too, so this keeps the gate small).
                let mut constraints: Vec<Expression<Fr>> =
                    squares.iter().zip(&x).map(|(s, x)| q.clone() * (s.clone() - x.clone() * x.clone())).collect();
                let next: Vec<Expression<Fr>> =
                    (0..WIDTH).map(|i| m.query_advice(state[i], Rotation::next())).collect();
                for (row, yj) in spec.mds_inverse.iter().zip(y) {
                    let unmixed = row
                        .iter()
                        .zip(&next)
                        .map(|(mji, ni)| Expression::Constant(*mji) * ni.clone())
                        .reduce(|a, b| a + b)
                        .unwrap_or(Expression::Constant(Fr::ZERO));
                    constraints.push(q.clone() * (unmixed - yj));
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
                constraints.push(q.clone() * m.query_fixed(rc[i], Rotation::cur()) * message);
            }
            constraints
        });
        meta.create_gate("poseidon init", |m| {
            let q = m.query_selector(q_init);
            let mut constraints =
                vec![q.clone() * (m.query_advice(state[0], Rotation::cur()) - m.query_fixed(rc[0], Rotation::cur()))];
            for col in &state[1..] {
                constraints.push(q.clone() * m.query_advice(*col, Rotation::cur()));
            }
            constraints
        });
        PoseidonConfig { state, sq, rc, q_full, q_partial, q_absorb, q_init }
    }

    /// Assigns the chain hashing the cells `message` (`len` elements: the cells
    /// are copied into the absorb rows) from row `offset` of `region`; returns
    /// the digest cell. Without a witness the cells are unknown (key generation).
    pub fn assign(
        &self,
        region: &mut Region<'_, Fr>,
        offset: usize,
        message: &[Cell],
        witness: Option<&PoseidonWitness>,
    ) -> Result<Cell, Error> {
        let spec = Spec::get(WIDTH);
        let len = message.len();
        let total = rows(len);
        if witness.is_some_and(|w| w.rows.len() != total) {
            return Err(Error::Synthesis);
        }
        let value = |row: usize, f: fn(&PoseidonRow) -> &[Fr; WIDTH], i: usize| {
            witness.map_or(Value::unknown(), |w| Value::known(f(&w.rows[row])[i]))
        };
        let period = spec.rounds() + 1;
        let mut digest = None;
        for row in 0..total {
            let at = offset + row;
            let phase = row % period;
            if row == 0 {
                self.q_init.enable(region, at)?;
                region.assign_fixed(self.rc[0], at, initial_capacity(len));
            }
            if phase == 0 && row + 1 < total {
                self.q_absorb.enable(region, at)?;
                let block = row / period;
                for i in 1..WIDTH {
                    let index = block * RATE + i - 1;
                    let cell = region.assign_advice(self.sq[i], at, value(row, |r| &r.sq, i)).cell();
                    match message.get(index) {
                        Some(source) => region.constrain_equal(*source, cell),
                        None => {
                            region.assign_fixed(self.rc[i], at, Fr::ONE);
                        }
                    }
                }
            } else if phase > 0 {
                let r = phase - 1;
                let full = spec.is_full_round(r);
                (if full { self.q_full } else { self.q_partial }).enable(region, at)?;
                for i in 0..WIDTH {
                    region.assign_fixed(self.rc[i], at, spec.round_constants[r][i]);
                }
                for i in 0..if full { WIDTH } else { 1 } {
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
