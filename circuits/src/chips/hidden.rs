//! Hidden weights in the dot lanes: columns and cells for the weights of a
//! linear map that are witnesses rather than constants
//! ([`zkinfer_models::params`]).
//!
//! A lane that may carry hidden weights gets, beside its fixed weight columns,
//! advice columns `h_0..h_{W-1}` (hidden weights), `hb` (a job's hidden bias) and
//! a fixed column `on` (1 on the rows of jobs with hidden weights). Its gate gains
//!
//! `Σ_i on·h_i·x_i + on·hb` (the bias on a job's first row only)
//!
//! beside `Σ_i w_i·x_i + bias`. On the rows of a hidden job the fixed weights and
//! bias are 0, so the verifying key never depends on a hidden value. The
//! soundness of the hidden part rests on copy constraints ([`ParamCells`]):
//!
//! - each parameter lives in the cell of its first use; every other use is
//!   copied from it, so one parameter is one number throughout the circuit;
//! - every hidden cell of a job that is not a parameter (a slot past the job's
//!   last term, a term whose weight is a fixed constant, a missing bias) is copied
//!   from one cell constrained to 0, so a prover cannot add terms of its own.
//!
//! The first-use cells are what `public` weights expose and `hashed` weights
//! commit to.
//!
//! The same columns prove dot products of two computed tensors (attention's
//! `Q·Kᵀ` and `softmax·V`): the first factors go to the term columns `x_i`, the
//! second to `h_i`, each copied from its home, with the fixed weights 0. A sum of
//! `n` products then takes `⌈n/W⌉` rows and one rescale, where a product per
//! element-wise row took `n` rows and `n` rescales.

use std::collections::BTreeMap;

use halo2_axiom::circuit::{Cell, Region, Value};
use halo2_axiom::halo2curves::ff::PrimeField;
use halo2_axiom::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, VirtualCells};
use halo2_axiom::poly::Rotation;
use zkinfer_models::params::ParamId;

use super::dot::job_rows;
use super::fe;

/// The hidden-weight columns of one lane.
#[derive(Clone, Debug)]
pub struct HiddenColumns {
    /// Hidden weights, one column per term column.
    pub h: Vec<Column<Advice>>,
    /// A job's hidden bias, on its first row.
    pub bias: Column<Advice>,
    /// 1 on every row of a job with hidden weights.
    pub on: Column<Fixed>,
}

/// What one job of a linear map with hidden weights reads: the parameter of
/// each term (`None`: a fixed constant) and of its bias.
#[derive(Clone, Copy, Debug)]
pub struct HiddenJob<'a> {
    /// The job's weights, all of them (hidden and fixed).
    pub weights: &'a [i64],
    /// Per term: its parameter, or `None` for a fixed weight.
    pub ids: &'a [Option<ParamId>],
    /// The job's bias value.
    pub bias: i64,
    /// The bias's parameter, or `None` for a fixed bias.
    pub bias_id: Option<ParamId>,
}

impl HiddenJob<'_> {
    /// The weights the fixed columns hold: hidden ones are 0.
    pub fn fixed_weights(&self) -> Vec<i64> {
        self.weights.iter().zip(self.ids).map(|(w, id)| if id.is_some() { 0 } else { *w }).collect()
    }

    /// The bias the fixed column holds: 0 when hidden.
    pub fn fixed_bias(&self) -> i64 {
        if self.bias_id.is_some() {
            0
        } else {
            self.bias
        }
    }
}

impl HiddenColumns {
    /// Allocates the columns of a lane `width` terms wide. The circuit must have
    /// a constants column ([`ConstraintSystem::enable_constant`]) for the zero cell.
    pub fn configure<F: PrimeField>(meta: &mut ConstraintSystem<F>, width: usize) -> Self {
        let h: Vec<_> = (0..width).map(|_| meta.advice_column()).collect();
        let bias = meta.advice_column();
        for col in h.iter().chain([&bias]) {
            meta.enable_equality(*col);
        }
        HiddenColumns { h, bias, on: meta.fixed_column() }
    }

    /// `Σ_i on·h_i·x_i` on the current row.
    pub fn products<F: PrimeField>(&self, m: &mut VirtualCells<'_, F>, x: &[Column<Advice>]) -> Expression<F> {
        let on = m.query_fixed(self.on, Rotation::cur());
        self.h.iter().zip(x).fold(Expression::Constant(F::ZERO), |acc, (h, x)| {
            acc + on.clone() * m.query_advice(*h, Rotation::cur()) * m.query_advice(*x, Rotation::cur())
        })
    }

    /// `on·hb` on the current row (the caller restricts it to a job's first row).
    pub fn bias_term<F: PrimeField>(&self, m: &mut VirtualCells<'_, F>) -> Expression<F> {
        m.query_fixed(self.on, Rotation::cur()) * m.query_advice(self.bias, Rotation::cur())
    }

    /// Assigns the hidden cells of a job starting at `row`: `on` on its rows, each
    /// hidden weight (copied from its parameter's first use), zeros elsewhere
    /// (copied from the zero cell) and the bias on the first row. Values are only
    /// known when `known` (proving).
    pub fn assign_job<F: PrimeField>(
        &self,
        region: &mut Region<'_, F>,
        row: usize,
        job: &HiddenJob<'_>,
        cells: &mut ParamCells,
        known: bool,
    ) -> Result<(), Error> {
        let width = self.h.len();
        let value = |v: i64| if known { Value::known(fe::<F>(v as i128)) } else { Value::unknown() };
        for r in 0..job_rows(job.weights.len(), width) {
            let at = row + r;
            region.assign_fixed(self.on, at, F::ONE);
            for (j, col) in self.h.iter().enumerate() {
                let i = r * width + j;
                match job.ids.get(i).copied().flatten() {
                    Some(p) => {
                        let cell = region.assign_advice(*col, at, value(job.weights[i])).cell();
                        cells.bind(region, p, cell);
                    }
                    None => {
                        let cell = region.assign_advice(*col, at, value(0)).cell();
                        cells.zero(region, cell)?;
                    }
                }
            }
            let bias = if r == 0 { job.bias_id.map(|p| (p, job.bias)) } else { None };
            let cell = region.assign_advice(self.bias, at, value(bias.map_or(0, |(_, b)| b))).cell();
            match bias {
                Some((p, _)) => cells.bind(region, p, cell),
                None if r == 0 => cells.zero(region, cell)?,
                // Later rows' hidden bias is outside every gate.
                None => {}
            }
        }
        Ok(())
    }
}

impl HiddenColumns {
    /// Assigns the witness weights of a dot product of two computed tensors
    /// starting at `row`: `on` on its rows, weight `i` copied from `sources[i]`
    /// (the second factor's home cell), zeros past the last term and in the bias
    /// (copied from the zero cell).
    pub fn assign_products<F: PrimeField>(
        &self,
        region: &mut Region<'_, F>,
        row: usize,
        values: &[Value<F>],
        sources: &[Cell],
        cells: &mut ParamCells,
    ) -> Result<(), Error> {
        let width = self.h.len();
        for r in 0..job_rows(values.len(), width) {
            let at = row + r;
            region.assign_fixed(self.on, at, F::ONE);
            for (j, col) in self.h.iter().enumerate() {
                let i = r * width + j;
                match (values.get(i), sources.get(i)) {
                    (Some(v), Some(src)) => {
                        let cell = region.assign_advice(*col, at, *v).cell();
                        region.constrain_equal(*src, cell);
                    }
                    _ => {
                        let cell = region.assign_advice(*col, at, Value::known(F::ZERO)).cell();
                        cells.zero(region, cell)?;
                    }
                }
            }
            let cell = region.assign_advice(self.bias, at, Value::known(F::ZERO)).cell();
            if r == 0 {
                cells.zero(region, cell)?;
            }
        }
        Ok(())
    }
}

/// The witness of a dot product of two computed tensors in a lane `width` terms
/// wide: the first factors as inputs, and the running sums of `a·b` row by row.
pub fn products_witness<F: PrimeField>(width: usize, a: Vec<Value<F>>, b: &[Value<F>]) -> super::dot::DotWitness<F> {
    let rows = job_rows(a.len(), width);
    let mut acc = Value::known(F::ZERO);
    let mut sums = Vec::with_capacity(rows);
    for r in 0..rows {
        let (lo, hi) = ((r * width).min(a.len()), ((r + 1) * width).min(a.len()));
        for (x, y) in a[lo..hi].iter().zip(&b[lo..hi]) {
            acc = acc + *x * *y;
        }
        sums.push(acc);
    }
    super::dot::DotWitness { inputs: a, sums }
}

/// The cells of the parameters during one synthesis: the first cell each was
/// assigned to (later uses are copied from it) and the cell constrained to 0.
#[derive(Clone, Debug, Default)]
pub struct ParamCells {
    first: BTreeMap<ParamId, Cell>,
    zero: Option<Cell>,
}

impl ParamCells {
    /// Records a use of parameter `p` in `cell`: the first use becomes its home,
    /// later ones are copied from it.
    pub fn bind<F: PrimeField>(&mut self, region: &mut Region<'_, F>, p: ParamId, cell: Cell) {
        match self.first.get(&p) {
            Some(home) => region.constrain_equal(*home, cell),
            None => {
                self.first.insert(p, cell);
            }
        }
    }

    /// Constrains `cell` to 0: the first such cell through the constants column,
    /// the others by copying it.
    pub fn zero<F: PrimeField>(&mut self, region: &mut Region<'_, F>, cell: Cell) -> Result<(), Error> {
        match self.zero {
            Some(z) => region.constrain_equal(z, cell),
            None => {
                region.constrain_constant(cell, F::ZERO)?;
                self.zero = Some(cell);
            }
        }
        Ok(())
    }

    /// The home cell of each parameter, in increasing id order.
    pub fn homes(&self) -> impl Iterator<Item = (ParamId, Cell)> + '_ {
        self.first.iter().map(|(p, c)| (*p, *c))
    }
}

#[cfg(test)]
mod tests;
