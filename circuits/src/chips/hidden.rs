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

use super::dot::{job_rows, running_sums, DotWitness};
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
        let value = |v: i64| if known { Value::known(fe::<F>(v as i128)) } else { Value::unknown() };
        let term = |i: usize| job.ids.get(i).copied().flatten().map(|p| (value(job.weights[i]), Bind::Param(p)));
        let bias = job.bias_id.map(|p| (value(job.bias), Bind::Param(p)));
        self.assign_rows(region, row, job.weights.len(), term, bias, cells)
    }

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
        let term = |i: usize| values.get(i).zip(sources.get(i)).map(|(v, src)| (*v, Bind::Copy(*src)));
        self.assign_rows(region, row, values.len(), term, None, cells)
    }

    /// The rows of a job of `terms` terms starting at `row`: `on` on each; in
    /// slot `i`, `term(i)`'s value bound as it says, or 0 copied from the zero
    /// cell; the bias on the first row likewise (later rows' hidden bias is
    /// outside every gate).
    fn assign_rows<F: PrimeField>(
        &self,
        region: &mut Region<'_, F>,
        row: usize,
        terms: usize,
        term: impl Fn(usize) -> Option<(Value<F>, Bind)>,
        bias: Option<(Value<F>, Bind)>,
        cells: &mut ParamCells,
    ) -> Result<(), Error> {
        let width = self.h.len();
        for r in 0..job_rows(terms, width) {
            let at = row + r;
            region.assign_fixed(self.on, at, F::ONE);
            for (j, col) in self.h.iter().enumerate() {
                cells.assign(region, (*col, at), term(r * width + j))?;
            }
            if r == 0 {
                cells.assign(region, (self.bias, at), bias)?;
            } else {
                region.assign_advice(self.bias, at, Value::known(F::ZERO));
            }
        }
        Ok(())
    }
}

/// How a hidden cell is tied to the rest of the circuit.
#[derive(Clone, Copy, Debug)]
enum Bind {
    /// It is this parameter (its first use, or copied from it).
    Param(ParamId),
    /// It is copied from this cell.
    Copy(Cell),
}

/// The witness of a dot product of two computed tensors in a lane `width` terms
/// wide: the first factors as inputs, and the running sums of `a·b` row by row.
pub fn products_witness<F: PrimeField>(width: usize, a: Vec<Value<F>>, b: &[Value<F>]) -> DotWitness<F> {
    let products: Vec<Value<F>> = a.iter().zip(b).map(|(x, y)| *x * *y).collect();
    let sums = running_sums(width, Value::known(F::ZERO), &products);
    DotWitness { inputs: a, sums }
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

    /// Assigns `what`'s value at `at` and binds it as it says; with nothing, 0
    /// copied from the zero cell.
    fn assign<F: PrimeField>(
        &mut self,
        region: &mut Region<'_, F>,
        (column, at): (Column<Advice>, usize),
        what: Option<(Value<F>, Bind)>,
    ) -> Result<(), Error> {
        let Some((value, bind)) = what else {
            let cell = region.assign_advice(column, at, Value::known(F::ZERO)).cell();
            return self.zero(region, cell);
        };
        let cell = region.assign_advice(column, at, value).cell();
        match bind {
            Bind::Param(p) => self.bind(region, p, cell),
            Bind::Copy(src) => region.constrain_equal(src, cell),
        }
        Ok(())
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
