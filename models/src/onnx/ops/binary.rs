//! Broadcasting binary operators: Add, Sub, Mul, Div (by a constant; of
//! integers, truncating as ONNX does), Max, Min, Pow with a computed exponent
//! ([`super::math::pow`]), Mod (tract's Rem, by a constant
//! [`super::remainder::fmod`], by a computed divisor
//! [`super::remainder::fmod_computed`]), and shifts by constant amounts
//! (tract's ShiftLeft and ShiftRight, which it also makes of integer products
//! by powers of two).

use std::convert::Infallible;

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{broadcast_pairs, Value};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem};
use crate::ir::ReduceKind;

pub(crate) struct BinaryLowering;

/// Largest shift: a right shift's factor `2^-k` stays exact at scales up to it.
const MAX_SHIFT: f64 = 24.0;

/// Whether the node's output is an integer tensor (ONNX integer division
/// truncates).
fn integer_output(ctx: &Ctx<'_>) -> bool {
    ctx.node.outputs.first().is_some_and(|o| o.fact.datum_type.is_integer())
}

const SUPPORTED: [&str; 10] = ["Add", "Sub", "Mul", "Div", "Max", "Min", "Pow", "Rem", "ShiftLeft", "ShiftRight"];

impl Lowering for BinaryLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<TypedBinOp>()
    }

    fn supports(&self, node: &TypedNode, const_inputs: &[bool]) -> std::result::Result<(), String> {
        let name = node.op.name();
        if !SUPPORTED.contains(&name.as_ref()) {
            return Err(format!("binary operator {name} is not supported yet"));
        }
        let integer = node.outputs.first().is_some_and(|o| o.fact.datum_type.is_integer());
        if name == "Div" && !integer && !const_inputs.get(1).copied().unwrap_or(false) {
            // tract writes a float division by a tensor as a reciprocal and a
            // product; a Div left by a tensor is an integer one.
            return Err("division by a variable tensor is not supported yet".into());
        }
        if name.starts_with("Shift") && !const_inputs.get(1).copied().unwrap_or(false) {
            return Err("a shift by computed amounts is not supported (only by constants)".into());
        }
        Ok(())
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let name = ctx.op_name();
        if name == "Mul" {
            if let Some(v) = super::dynamic_quant::multiply(ctx, &inputs[0], &inputs[1])? {
                return Ok(vec![v]);
            }
        }
        let a = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let b = inputs[1].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let (shape, pairs) = broadcast_pairs(&a, &b)
            .ok_or_else(|| ctx.fail(format!("shapes {:?} and {:?} do not broadcast", a.shape, b.shape)))?;
        let node = ctx.name().to_string();
        let view = match name.as_str() {
            "Add" | "Sub" => {
                let sign = if name == "Add" { 1.0 } else { -1.0 };
                let rows =
                    pairs.into_iter().map(|(x, y)| AffineRow { bias: 0.0, terms: vec![(x, 1.0), (y, sign)] }).collect();
                ctx.g.affine(&node, &name, shape, rows)
            }
            "Mul" => ctx.g.multiply(&node, &name, shape, pairs),
            "Div" if pairs.iter().any(|p| matches!(p.1, Elem::Ref(_))) && integer_output(ctx) => {
                let n = super::math::Namer { name: &node, origin: &name };
                super::remainder::integer_division_computed(ctx.g, &n, shape, &pairs).map_err(|e| ctx.fail(e))?
            }
            "Div" => {
                let mut divisors = Vec::with_capacity(pairs.len());
                for &(_, y) in &pairs {
                    let Elem::Const(d) = y else { return Err(ctx.fail("variable divisor")) };
                    if d == 0.0 {
                        return Err(ctx.fail("division by zero"));
                    }
                    divisors.push(d);
                }
                let x: Vec<Elem> = pairs.iter().map(|p| p.0).collect();
                if integer_output(ctx) {
                    let n = super::math::Namer { name: &node, origin: &name };
                    super::math::integer_division(ctx.g, &n, shape, &x, &divisors).map_err(|e| ctx.fail(e))?
                } else {
                    ctx.g.affine(&node, &name, shape, super::math::quotient_rows(&x, &divisors))
                }
            }
            "ShiftLeft" | "ShiftRight" => {
                let mut rows = Vec::with_capacity(pairs.len());
                for &(x, k) in &pairs {
                    let Elem::Const(k) = k else { return Err(ctx.fail("a shift by a computed amount")) };
                    if !(0.0..=MAX_SHIFT).contains(&k) || k.fract() != 0.0 {
                        return Err(ctx.fail(format!("a shift by {k} bits (0 to {MAX_SHIFT} are supported)")));
                    }
                    let factor = if name == "ShiftLeft" { k.exp2() } else { (-k).exp2() };
                    rows.push(AffineRow { bias: 0.0, terms: vec![(x, factor)] });
                }
                let shifted = ctx.g.affine(&node, &name, shape.clone(), rows);
                if name == "ShiftLeft" {
                    shifted
                } else {
                    // An arithmetic right shift is the floor of the quotient.
                    let n = super::math::Namer { name: &node, origin: &name };
                    super::math::rounding(ctx.g, &n, super::math::Rounding::Floor, shape, &shifted.elems)
                }
            }
            "Pow" => {
                let n = super::math::Namer { name: &node, origin: &name };
                super::math::pow(ctx.g, &n, shape, &pairs).map_err(|e| ctx.fail(e))?
            }
            "Rem" => {
                let n = super::math::Namer { name: &node, origin: &name };
                let divisors: Vec<Option<f64>> =
                    pairs.iter().map(|(_, y)| if let Elem::Const(d) = y { Some(*d) } else { None }).collect();
                match () {
                    _ if divisors.contains(&Some(0.0)) => return Err(ctx.fail("Mod by zero")),
                    // Computed divisors: an exact division per element.
                    _ if divisors.iter().all(Option::is_none) => {
                        super::remainder::fmod_computed(ctx.g, &n, shape, &pairs).map_err(|e| ctx.fail(e))?
                    }
                    // Constant divisors: exact integer arithmetic around each
                    // (the remainder takes the dividend's sign, so only |d| counts).
                    _ if divisors.iter().all(Option::is_some) => {
                        let x: Vec<Elem> = pairs.iter().map(|p| p.0).collect();
                        let d: Vec<f64> = divisors.iter().flatten().map(|d| d.abs()).collect();
                        let Ok(elems) = super::math::by_distinct_constant(ctx.g, &n, &x, &d, |g, n, part, d| {
                            Ok::<_, Infallible>(super::remainder::fmod(g, n, vec![part.len()], part, d).elems)
                        });
                        crate::fgraph::View { shape, elems }
                    }
                    _ => {
                        return Err(ctx.fail(
                            "Mod by a mix of constant and computed divisors is not supported (all constant, or all computed)",
                        ))
                    }
                }
            }
            "Max" | "Min" => {
                let kind = if name == "Max" { ReduceKind::Max } else { ReduceKind::Min };
                let sets = pairs.into_iter().map(|(x, y)| vec![x, y]).collect();
                ctx.g.reduce(&node, &name, kind, shape, sets)
            }
            other => return Err(ctx.fail(format!("binary operator {other} is not supported"))),
        };
        Ok(vec![Value::View(view)])
    }
}
