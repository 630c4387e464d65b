//! The compact lane: dot products and element-wise operations share one set of
//! columns, and an operation's limbs sit in a single column on successive rows.
//!
//! Verification cost (above all on-chain, where each commitment costs an elliptic
//! curve multiplication and 64 bytes of calldata) grows with the number of
//! committed polynomials, not with the number of rows. The wide profile spends
//! columns to save rows (one lookup argument — three commitments — per limb
//! column); this profile does the opposite:
//!
//! - advice `x_0..x_{W-1}` (dot inputs; `x_0` is also the element operand `a`, and
//!   `x_0` one row down the second operand `b`), `c` (running sums and results) and
//!   one limb column `l`, looked up once in the range table;
//! - fixed `w_0..w_{W-1}` (weights) and `k` (a dot job's bias, or the constant of
//!   MaxConst/MinConst); simple selectors, which halo2 compresses.
//!
//! Gates (`q_*` selectors):
//!
//! | gate | constraint |
//! |---|---|
//! | dot first row | `q_first·(c[r+1] − k − Σ w_i·x_i) = 0` |
//! | dot later rows | `q_more·(c[r+1] − c[r] − Σ w_i·x_i) = 0` |
//! | element template | the wide lane's polynomials with `a = x_0[r]`, `b = x_0[r+1]`, limb `j = l[r+j]` |
//!
//! Rows: all dot jobs first (the wide lane's layout, one lane), then one element
//! operation every [`CircuitShape::elem_stride`] rows. The witness of every row is
//! the same plain data as in the wide profile ([`DotConfig::witness`],
//! [`elem_row`](super::elementwise::elem_row)).

use halo2_axiom::circuit::{Cell, Region};
use halo2_axiom::halo2curves::ff::PrimeField;
use halo2_axiom::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_axiom::poly::Rotation;

use super::dot::{assign_terms, job_rows, DotWitness};
use super::elementwise::{assign_row, configure_templates, Cells, ElemRow, RowCells};
use super::fe;
use super::func_table::FuncTableConfig;
use super::hidden::HiddenColumns;
use super::range_table::RangeTableConfig;
use crate::layout::{Layout, Loc};
use crate::shape::{CircuitShape, Ranges, Template};

/// Columns and selectors of the compact lane.
#[derive(Clone, Debug)]
pub struct CompactConfig {
    /// Dot inputs; `x[0]` is also the element operands' column.
    pub x: Vec<Column<Advice>>,
    /// Running sums and results.
    pub c: Column<Advice>,
    /// Limbs, one per row, looked up in the range table.
    pub limbs: Column<Advice>,
    /// Weights.
    pub w: Vec<Column<Fixed>>,
    /// Bias of a dot job (on its first row) or an element constant.
    pub k: Column<Fixed>,
    /// First row of a dot job.
    pub dot_first: Selector,
    /// Later rows of a dot job.
    pub dot_more: Selector,
    /// One selector per present element template.
    pub selectors: Vec<(Template, Selector)>,
    /// Limb width, value range and scale.
    pub ranges: Ranges,
    /// Rows per element operation.
    pub stride: usize,
    /// Hidden-weight columns, when the circuit hides weights.
    pub hidden: Option<HiddenColumns>,
}

/// Where a layout location lies in the compact lane: all dot rows first, then the
/// element operations at `stride` rows apart.
pub fn physical_row(layout: &Layout, stride: usize, loc: Loc) -> usize {
    let dot_rows = layout.dot_heights.first().copied().unwrap_or(0);
    match loc {
        Loc::Acc { row, .. } => row as usize,
        Loc::ElemA { row, .. } | Loc::ElemC { row, .. } => dot_rows + row as usize * stride,
    }
}

/// Rows the compact lane uses for `layout` (its rotations included).
pub fn used_rows(layout: &Layout, stride: usize) -> usize {
    let dot_rows = layout.dot_heights.first().copied().unwrap_or(0);
    dot_rows + layout.elem.first().map_or(0, |l| l.len()) * stride
}

impl CompactConfig {
    /// Allocates the lane for `shape` and builds its gates and its one lookup.
    pub fn configure<F: PrimeField>(
        meta: &mut ConstraintSystem<F>,
        shape: &CircuitShape,
        table: &RangeTableConfig,
        func_table: Option<&FuncTableConfig>,
    ) -> Self {
        let width = shape.dot_width as usize;
        let x: Vec<_> = (0..width).map(|_| meta.advice_column()).collect();
        let c = meta.advice_column();
        let limbs = meta.advice_column();
        let w: Vec<_> = (0..width).map(|_| meta.fixed_column()).collect();
        let k = meta.fixed_column();
        for col in x.iter().chain([&c]) {
            meta.enable_equality(*col);
        }
        meta.lookup("limb in range table", |m| vec![(m.query_advice(limbs, Rotation::cur()), table.column)]);
        let (dot_first, dot_more) = (meta.selector(), meta.selector());
        let hidden = shape.has_witness_weights().then(|| HiddenColumns::configure(meta, width));
        let products = |m: &mut halo2_axiom::plonk::VirtualCells<'_, F>| {
            let fixed = x.iter().zip(&w).fold(Expression::Constant(F::ZERO), |acc, (xc, wc)| {
                acc + m.query_advice(*xc, Rotation::cur()) * m.query_fixed(*wc, Rotation::cur())
            });
            match &hidden {
                Some(h) => fixed + h.products(m, &x),
                None => fixed,
            }
        };
        meta.create_gate("dot first row", |m| {
            let q = m.query_selector(dot_first);
            let next = m.query_advice(c, Rotation::next());
            let mut bias = m.query_fixed(k, Rotation::cur());
            if let Some(h) = &hidden {
                bias = bias + h.bias_term(m);
            }
            vec![q * (next - bias - products(m))]
        });
        meta.create_gate("dot later rows", |m| {
            let q = m.query_selector(dot_more);
            let (cur, next) = (m.query_advice(c, Rotation::cur()), m.query_advice(c, Rotation::next()));
            vec![q * (next - cur - products(m))]
        });
        let ranges = shape.ranges;
        let cells = |m: &mut halo2_axiom::plonk::VirtualCells<'_, F>, template: Template| Cells {
            a: m.query_advice(x[0], Rotation::cur()),
            b: if template.uses_b() { m.query_advice(x[0], Rotation::next()) } else { Expression::Constant(F::ZERO) },
            c: m.query_advice(c, Rotation::cur()),
            k: m.query_fixed(k, Rotation::cur()),
            limbs: (0..ranges.limbs(template)).map(|j| m.query_advice(limbs, Rotation(j as i32))).collect(),
        };
        let selectors = configure_templates(meta, &shape.templates, &ranges, func_table, &cells);
        CompactConfig { x, c, limbs, w, k, dot_first, dot_more, selectors, ranges, stride: shape.elem_stride(), hidden }
    }

    /// Lays out one dot job starting at `row` (the wide lane's
    /// [`DotConfig::assign`](super::dot::DotConfig::assign) on these columns).
    pub fn assign_dot<F: PrimeField>(
        &self,
        region: &mut Region<'_, F>,
        row: usize,
        bias: i64,
        weights: &[i64],
        witness: &DotWitness<F>,
        sources: &[Option<Cell>],
    ) -> Result<(), Error> {
        let width = self.x.len();
        for r in 0..job_rows(weights.len(), width) {
            let at = row + r;
            if r == 0 {
                self.dot_first.enable(region, at)?;
                region.assign_fixed(self.k, at, fe::<F>(bias as i128));
            } else {
                self.dot_more.enable(region, at)?;
            }
            assign_terms(region, (&self.x, &self.w), at, r, weights, witness, sources);
        }
        for (r, sum) in witness.sums.iter().enumerate() {
            region.assign_advice(self.c, row + r + 1, *sum);
        }
        Ok(())
    }

    /// Lays out one element operation at `row`: selector, constant, operands (copied
    /// from their sources), result and limbs (one per row).
    #[allow(clippy::too_many_arguments)]
    pub fn assign_elem<F: PrimeField>(
        &self,
        region: &mut Region<'_, F>,
        row: usize,
        template: Template,
        konst: i64,
        witness: Option<&ElemRow>,
        src_a: Option<Cell>,
        src_b: Option<Cell>,
    ) -> Result<(), Error> {
        let cells = RowCells {
            a: (self.x[0], row),
            b: template.uses_b().then_some((self.x[0], row + 1)),
            c: (self.c, row),
            konst: template.uses_konst().then_some((self.k, row)),
            limbs: (0..self.ranges.limbs(template)).map(|j| (self.limbs, row + j)).collect(),
        };
        assign_row(region, &self.selectors, row, &cells, template, konst, witness, (src_a, src_b))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
