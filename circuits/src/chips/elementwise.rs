//! The element-wise lane: one operation per row, chosen by a per-template selector.
//!
//! Columns: advice `a`, `b` (when a template needs it), `c` (result), limbs
//! `l_0..l_{M-1}` each looked up in the range table `[0, 2^L)`, and a fixed `k` for
//! constant operands.
//!
//! Every range check decomposes a value into limbs: `seg(i, m) = Σ_j l_{i+j}·2^(jL)`.
//! With `s` the scale and `B` the value range:
//!
//! | template | constraints (each times its selector) |
//! |---|---|
//! | Range | `a + 2^(B-1) = seg` |
//! | Rescale | `r = a + 2^(s-1) − c·2^s`, `r = seg`, (`2^s − 1 − r = seg` unless `L` divides `s`), `c + 2^(B-1) = seg` |
//! | RescaleRelu | `r = seg`, `y = (a + 2^(s-1) − r)/2^s`, (`2^s − 1 − r = seg`), `c·(c − y) = 0`, `c = seg`, `c − y = seg` |
//! | MulRescale | `r = a·b + 2^(s-1) − c·2^s`, as Rescale |
//! | Max | `(c − a)(c − b) = 0`, `c − a = seg`, `c − b = seg` |
//! | Min | `(c − a)(c − b) = 0`, `a − c = seg`, `b − c = seg` |
//! | MaxConst / MinConst | as Max / Min with `k` in place of `b` |
//!
//! Together with the lookups these pin `c` to exactly the integer reference
//! ([`zkinfer_models::arith`], [`zkinfer_models::eval`]) for every input within range.

use halo2_axiom::circuit::{Cell, Region, Value};
use halo2_axiom::halo2curves::ff::PrimeField;
use halo2_axiom::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector, VirtualCells};
use halo2_axiom::poly::Rotation;
use zkinfer_models::arith::{rescale, rescale_remainder};
use zkinfer_models::eval::reduce_step;
use zkinfer_models::ir::ReduceKind;

use super::func_table::FuncTableConfig;
use super::range_table::RangeTableConfig;
use super::{fe, pow2};
use crate::shape::{Ranges, Template};

/// Columns and selectors of one element-wise lane.
#[derive(Clone, Debug)]
pub struct ElemConfig {
    /// First operand.
    pub a: Column<Advice>,
    /// Second operand (templates with two variable operands).
    pub b: Option<Column<Advice>>,
    /// Result.
    pub c: Column<Advice>,
    /// Limbs, each looked up in the range table.
    pub limbs: Vec<Column<Advice>>,
    /// Constant operand of MaxConst/MinConst.
    pub konst: Option<Column<Fixed>>,
    /// One selector per present template.
    pub selectors: Vec<(Template, Selector)>,
    /// Limb width, value range and scale.
    pub ranges: Ranges,
}

/// The integer witness of one row, as plain data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElemRow {
    /// First operand.
    pub a: i128,
    /// Second operand (0 when unused).
    pub b: i128,
    /// Result.
    pub c: i128,
    /// Limb values.
    pub limbs: Vec<u64>,
}

/// Queried cells of a row, for building gate expressions (shared with the
/// compact lane, which queries the same roles at other columns and rotations).
pub(crate) struct Cells<F: PrimeField> {
    pub(crate) a: Expression<F>,
    pub(crate) b: Expression<F>,
    pub(crate) c: Expression<F>,
    pub(crate) k: Expression<F>,
    pub(crate) limbs: Vec<Expression<F>>,
}

/// A value's decomposition into `m` limbs of `bits`, or `None` when it is negative or
/// does not fit.
pub fn decompose(v: i128, m: usize, bits: u32) -> Option<Vec<u64>> {
    let total = m as u32 * bits;
    if v < 0 || (total < 127 && v >= 1i128 << total) {
        return None;
    }
    let mask = (1u128 << bits) - 1;
    Some((0..m).map(|j| ((v as u128 >> (j as u32 * bits)) & mask) as u64).collect())
}

fn constant<F: PrimeField>(v: i128) -> Expression<F> {
    Expression::Constant(fe(v))
}

fn constant_pow2<F: PrimeField>(n: u32) -> Expression<F> {
    Expression::Constant(pow2(n))
}

impl<F: PrimeField> Cells<F> {
    fn seg(&self, at: usize, m: usize, bits: u32) -> Expression<F> {
        (0..m).fold(constant(0), |acc, j| acc + self.limbs[at + j].clone() * constant_pow2(j as u32 * bits))
    }
}

/// Names and polynomials of a template's gate (without the selector).
pub(crate) fn template_polys<F: PrimeField>(
    t: Template,
    r: &Ranges,
    c: &Cells<F>,
) -> Vec<(&'static str, Expression<F>)> {
    let (l, v) = (r.lookup_bits, r.value_limbs());
    let half = constant_pow2::<F>(r.scale - 1);
    let unit = constant_pow2::<F>(r.scale);
    let signed_offset = constant_pow2::<F>(r.value_bits - 1);
    let side = r.remainder_side_limbs();
    let remainder = |rem: Expression<F>, polys: &mut Vec<(&'static str, Expression<F>)>| -> usize {
        polys.push(("remainder low", rem.clone() - c.seg(0, side, l)));
        if r.remainder_one_sided() {
            side
        } else {
            let top = unit.clone() - constant(1);
            polys.push(("remainder high", top - rem - c.seg(side, side, l)));
            2 * side
        }
    };
    let mut polys = Vec::new();
    match t {
        Template::Range => polys.push(("value range", c.a.clone() + signed_offset - c.seg(0, v, l))),
        Template::Rescale | Template::MulRescale => {
            let z = if t == Template::Rescale { c.a.clone() } else { c.a.clone() * c.b.clone() };
            let at = remainder(z + half - c.c.clone() * unit.clone(), &mut polys);
            polys.push(("value range", c.c.clone() + signed_offset - c.seg(at, v, l)));
        }
        Template::RescaleRelu => {
            // The pre-activation is not a cell: it follows from the remainder limbs,
            // y = (a + 2^(s-1) − r) / 2^s, and the checks below make it an integer.
            let low = c.seg(0, side, l);
            let inv_unit = Expression::Constant(pow2::<F>(r.scale).invert().unwrap_or(F::ZERO));
            let y = (c.a.clone() + half - low.clone()) * inv_unit;
            let at = if r.remainder_one_sided() {
                side
            } else {
                let top = unit.clone() - constant(1);
                polys.push(("remainder high", top - low - c.seg(side, side, l)));
                2 * side
            };
            polys.push(("relu choice", c.c.clone() * (c.c.clone() - y.clone())));
            polys.push(("relu non-negative", c.c.clone() - c.seg(at, v, l)));
            polys.push(("relu above input", c.c.clone() - y - c.seg(at + v, v, l)));
        }
        Template::Max | Template::Min | Template::MaxConst | Template::MinConst => {
            let other = if matches!(t, Template::Max | Template::Min) { c.b.clone() } else { c.k.clone() };
            let (d1, d2) = if matches!(t, Template::Max | Template::MaxConst) {
                (c.c.clone() - c.a.clone(), c.c.clone() - other.clone())
            } else {
                (c.a.clone() - c.c.clone(), other.clone() - c.c.clone())
            };
            polys.push(("choice", (c.c.clone() - c.a.clone()) * (c.c.clone() - other)));
            polys.push(("first difference", d1 - c.seg(0, v, l)));
            polys.push(("second difference", d2 - c.seg(v, v, l)));
        }
        // A lookup, not a gate (see `lookup_polys`).
        Template::Lookup => {}
        Template::Div => {
            // Rounding half up: 2·a·2^s + b = 2·c·b + r with 0 ≤ r < 2b.
            let r_ = c.seg(0, v, l);
            let two = constant::<F>(2);
            polys.push((
                "quotient",
                two.clone() * c.a.clone() * unit.clone() + c.b.clone()
                    - two.clone() * c.c.clone() * c.b.clone()
                    - r_.clone(),
            ));
            polys.push(("remainder below divisor", two * c.b.clone() - constant(1) - r_ - c.seg(v, v, l)));
            polys.push(("quotient range", c.c.clone() + signed_offset - c.seg(2 * v, v, l)));
        }
        Template::Sqrt => {
            // d = a·2^s − c² ∈ [0, 2c], c ≥ 0: c² ≤ a·2^s < (c + 1)².
            let d = c.seg(0, v, l);
            polys.push(("square below", c.a.clone() * unit.clone() - c.c.clone() * c.c.clone() - d.clone()));
            polys.push(("next square above", constant::<F>(2) * c.c.clone() - d - c.seg(v, v, l)));
            polys.push(("root non-negative", c.c.clone() - c.seg(2 * v, v, l)));
        }
    }
    polys
}

/// The lookup of a Lookup row: `(k, a, c)` against the function table's
/// `(tag, x, y)`, each input multiplied by the selector `q` so that other rows look
/// up `(0, 0, 0)`.
pub(crate) fn lookup_polys<F: PrimeField>(
    q: Expression<F>,
    c: &Cells<F>,
    table: &FuncTableConfig,
) -> Vec<(Expression<F>, halo2_axiom::plonk::TableColumn)> {
    vec![(q.clone() * c.k.clone(), table.tag), (q.clone() * c.a.clone(), table.x), (q * c.c.clone(), table.y)]
}

/// Creates each template's selector and its gate (or, for [`Template::Lookup`],
/// its lookup into the function table), reading the cells through `cells`. Shared
/// by the wide and the compact lanes, which differ only in where the cells are.
pub(crate) fn configure_templates<F: PrimeField>(
    meta: &mut ConstraintSystem<F>,
    templates: &[Template],
    ranges: &Ranges,
    func_table: Option<&FuncTableConfig>,
    cells: &dyn Fn(&mut VirtualCells<'_, F>, Template) -> Cells<F>,
) -> Vec<(Template, Selector)> {
    let mut selectors = Vec::new();
    for &template in templates {
        if template == Template::Lookup {
            let q = meta.complex_selector();
            if let Some(func_table) = func_table {
                meta.lookup("function table", |m| {
                    let c = cells(m, template);
                    lookup_polys(m.query_selector(q), &c, func_table)
                });
            }
            selectors.push((template, q));
            continue;
        }
        let q = meta.selector();
        meta.create_gate(gate_name(template), |m| {
            let c = cells(m, template);
            let q = m.query_selector(q);
            template_polys(template, ranges, &c).into_iter().map(|(name, p)| (name, q.clone() * p)).collect::<Vec<_>>()
        });
        selectors.push((template, q));
    }
    selectors
}

/// Gate name of a template.
pub fn gate_name(t: Template) -> &'static str {
    match t {
        Template::Range => "range",
        Template::Rescale => "rescale",
        Template::RescaleRelu => "rescale_relu",
        Template::MulRescale => "mul_rescale",
        Template::Max => "max",
        Template::Min => "min",
        Template::MaxConst => "max_const",
        Template::MinConst => "min_const",
        Template::Lookup => "lookup",
        Template::Div => "div",
        Template::Sqrt => "sqrt",
    }
}

/// The reference computation of one row: result, intermediate and limbs. Errors
/// name the value that does not fit the range.
pub fn elem_row(t: Template, r: &Ranges, a: i128, b: i128, k: i128) -> Result<ElemRow, String> {
    let (l, v) = (r.lookup_bits, r.value_limbs());
    let side = r.remainder_side_limbs();
    let fit = |what: &str, x: i128, m: usize| {
        decompose(x, m, l).ok_or_else(|| format!("{what} = {x} does not fit in {} bits", m as u32 * l))
    };
    let signed_offset = 1i128 << (r.value_bits - 1);
    let remainder_limbs = |z: i128| -> Result<Vec<u64>, String> {
        let rem = rescale_remainder(z, r.scale);
        let mut limbs = fit("remainder", rem, side)?;
        if !r.remainder_one_sided() {
            limbs.extend(fit("remainder complement", (1i128 << r.scale) - 1 - rem, side)?);
        }
        Ok(limbs)
    };
    let row = match t {
        Template::Range => ElemRow { a, b: 0, c: 0, limbs: fit("value", a + signed_offset, v)? },
        Template::Rescale | Template::MulRescale => {
            let z = if t == Template::Rescale { a } else { a * b };
            let c = rescale(z, r.scale);
            let mut limbs = remainder_limbs(z)?;
            limbs.extend(fit("rescaled value", c + signed_offset, v)?);
            ElemRow { a, b: if t == Template::MulRescale { b } else { 0 }, c, limbs }
        }
        Template::RescaleRelu => {
            let y = rescale(a, r.scale);
            let c = y.max(0);
            let mut limbs = remainder_limbs(a)?;
            limbs.extend(fit("relu output", c, v)?);
            limbs.extend(fit("relu margin", c - y, v)?);
            ElemRow { a, b: 0, c, limbs }
        }
        Template::Max | Template::Min | Template::MaxConst | Template::MinConst => {
            let kind = if matches!(t, Template::Max | Template::MaxConst) { ReduceKind::Max } else { ReduceKind::Min };
            let other = if t.uses_b() { b } else { k };
            let (c, d1, d2) = reduce_step(kind, a, other);
            let mut limbs = fit("difference", d1, v)?;
            limbs.extend(fit("difference", d2, v)?);
            ElemRow { a, b: if t.uses_b() { b } else { 0 }, c, limbs }
        }
        Template::Div => {
            if b <= 0 {
                return Err(format!("divisor {b} is not positive"));
            }
            let (c, rem) = zkinfer_models::arith::div_round(a * (1i128 << r.scale), b);
            let mut limbs = fit("remainder", rem, v)?;
            limbs.extend(fit("divisor margin", 2 * b - 1 - rem, v)?);
            limbs.extend(fit("quotient", c + signed_offset, v)?);
            ElemRow { a, b, c, limbs }
        }
        Template::Sqrt => {
            if a < 0 {
                return Err(format!("square root of the negative value {a}"));
            }
            let n = a * (1i128 << r.scale);
            let c = zkinfer_models::arith::isqrt(n);
            let d = n - c * c;
            let mut limbs = fit("root remainder", d, v)?;
            limbs.extend(fit("root margin", 2 * c - d, v)?);
            limbs.extend(fit("root", c, v)?);
            ElemRow { a, b: 0, c, limbs }
        }
        // The function is the graph's, not the row's: see `Witness::generate`.
        Template::Lookup => return Err("a table lookup's witness comes from its function".into()),
    };
    Ok(row)
}

impl ElemConfig {
    /// Allocates one lane for `templates` and builds its gates and lookups.
    pub fn configure<F: PrimeField>(
        meta: &mut ConstraintSystem<F>,
        templates: &[Template],
        ranges: Ranges,
        table: &RangeTableConfig,
        func_table: Option<&FuncTableConfig>,
    ) -> Self {
        let n_limbs = templates.iter().map(|t| ranges.limbs(*t)).max().unwrap_or(0);
        let a = meta.advice_column();
        let b = templates.iter().any(|t| t.uses_b()).then(|| meta.advice_column());
        let c = meta.advice_column();
        let limbs: Vec<_> = (0..n_limbs).map(|_| meta.advice_column()).collect();
        let konst = templates.iter().any(|t| t.uses_konst()).then(|| meta.fixed_column());
        for col in [Some(a), b, Some(c)].into_iter().flatten() {
            meta.enable_equality(col);
        }
        for limb in &limbs {
            meta.lookup("limb in range table", |m| vec![(m.query_advice(*limb, Rotation::cur()), table.column)]);
        }
        // Query only the cells a template uses, so that every queried cell is one
        // that `assign` fills.
        let cells = |m: &mut VirtualCells<'_, F>, template: Template| {
            let zero = || Expression::Constant(F::ZERO);
            Cells {
                a: m.query_advice(a, Rotation::cur()),
                b: match b {
                    Some(col) if template.uses_b() => m.query_advice(col, Rotation::cur()),
                    _ => zero(),
                },
                c: m.query_advice(c, Rotation::cur()),
                k: match konst {
                    Some(col) if template.uses_konst() => m.query_fixed(col, Rotation::cur()),
                    _ => zero(),
                },
                limbs: limbs.iter().take(ranges.limbs(template)).map(|l| m.query_advice(*l, Rotation::cur())).collect(),
            }
        };
        let selectors = configure_templates(meta, templates, &ranges, func_table, &cells);
        ElemConfig { a, b, c, limbs, konst, selectors, ranges }
    }

    /// Assigns one row at `row`: enables the template, fixes the constant, assigns
    /// the witness (unknown at key generation) and copies `a`/`b` from their
    /// sources. Returns the `a` and `c` cells.
    #[allow(clippy::too_many_arguments)]
    pub fn assign<F: PrimeField>(
        &self,
        region: &mut Region<'_, F>,
        row: usize,
        template: Template,
        konst: i64,
        witness: Option<&ElemRow>,
        src_a: Option<Cell>,
        src_b: Option<Cell>,
    ) -> Result<(Cell, Cell), Error> {
        let on_row = |col: Option<Column<Advice>>| col.map(|c| (c, row)).ok_or(Error::Synthesis);
        let cells = RowCells {
            a: (self.a, row),
            b: if template.uses_b() { Some(on_row(self.b)?) } else { None },
            c: (self.c, row),
            konst: if template.uses_konst() { Some((self.konst.ok_or(Error::Synthesis)?, row)) } else { None },
            limbs: self.limbs.iter().take(self.ranges.limbs(template)).map(|l| (*l, row)).collect(),
        };
        assign_row(region, &self.selectors, row, &cells, template, konst, witness, (src_a, src_b))
    }
}

/// Where the cells of one element-wise operation lie, as (column, row): the wide
/// lane keeps them on one row; the compact lane puts `b` and the limbs below.
pub(crate) struct RowCells {
    pub(crate) a: (Column<Advice>, usize),
    pub(crate) b: Option<(Column<Advice>, usize)>,
    pub(crate) c: (Column<Advice>, usize),
    pub(crate) konst: Option<(Column<Fixed>, usize)>,
    pub(crate) limbs: Vec<(Column<Advice>, usize)>,
}

/// Assigns one operation: enables `template`'s selector at `row`, fixes the
/// constant, assigns the witness (unknown at key generation) and copies `a`/`b`
/// from their sources. Returns the `a` and `c` cells. Shared by both lanes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn assign_row<F: PrimeField>(
    region: &mut Region<'_, F>,
    selectors: &[(Template, Selector)],
    row: usize,
    cells: &RowCells,
    template: Template,
    konst: i64,
    witness: Option<&ElemRow>,
    (src_a, src_b): (Option<Cell>, Option<Cell>),
) -> Result<(Cell, Cell), Error> {
    let (_, q) = selectors.iter().find(|(t, _)| *t == template).ok_or(Error::Synthesis)?;
    q.enable(region, row)?;
    let val = |f: fn(&ElemRow) -> i128| match witness {
        Some(w) => Value::known(fe::<F>(f(w))),
        None => Value::unknown(),
    };
    let a = region.assign_advice(cells.a.0, cells.a.1, val(|w| w.a)).cell();
    if let Some(src) = src_a {
        region.constrain_equal(src, a);
    }
    if let Some((col, at)) = cells.b {
        let b = region.assign_advice(col, at, val(|w| w.b)).cell();
        if let Some(src) = src_b {
            region.constrain_equal(src, b);
        }
    }
    let c = region.assign_advice(cells.c.0, cells.c.1, val(|w| w.c)).cell();
    if let Some((col, at)) = cells.konst {
        region.assign_fixed(col, at, fe::<F>(konst as i128));
    }
    for (j, (col, at)) in cells.limbs.iter().enumerate() {
        let v = match witness {
            Some(w) => Value::known(F::from(w.limbs.get(j).copied().unwrap_or(0))),
            None => Value::unknown(),
        };
        region.assign_advice(*col, *at, v);
    }
    Ok((a, c))
}

#[cfg(test)]
mod tests;
