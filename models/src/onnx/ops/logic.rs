//! Comparisons, boolean logic and casts.
//!
//! Booleans are the numbers `0` and `1` (`0` and `2^s` at the graph scale). A
//! comparison is a difference followed by a step function proven by table lookup
//! ([`crate::func`]): `a > b` is `Positive(a − b)`, `a < b` is `Positive(b − a)`,
//! `a ≥ b` is `NonNegative(a − b)`, `a ≤ b` is `NonNegative(b − a)`, `a = b` is
//! `IsZero(a − b)` and `a ≠ b` is `1 − IsZero(a − b)`: exact on the quantised
//! values, and, evaluated in floating point, exactly the ONNX comparison. On
//! booleans, Not is `1 − a`, And is `a·b`, Or is `a + b − a·b` and Xor is
//! `a + b − 2·a·b`, all exact (a product with `2^s`, rescaled by `2^s`, is the
//! other factor unchanged).
//!
//! Casts: to a float type, and of booleans or integers to an integer type at
//! least as wide, the value is unchanged (the identity); a cast of a number to
//! bool is `x ≠ 0`. A cast of a float to an integer type truncates towards 0
//! (`sign(x) · floor(|x|)`, [`super::math::truncate`]); values beyond the target
//! type's range are not saturated (ONNX leaves that undefined).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::cast::Cast;
use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{broadcast_pairs, Value};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem, FGraph, View};
use crate::func::Func;

pub(crate) struct LogicLowering;

/// tract's comparison operators (ONNX Equal, Less, Greater, LessOrEqual,
/// GreaterOrEqual; `NE` appears after simplification).
const COMPARISONS: [&str; 6] = ["Eq", "NE", "LT", "GT", "LTE", "GTE"];
/// Binary boolean operators (ONNX And, Or, Xor, and their bitwise forms on bool).
const LOGIC: [&str; 6] = ["And", "Or", "Xor", "BitAnd", "BitOr", "BitXor"];
/// Unary boolean negation.
const NOT: [&str; 2] = ["Not", "BitNot"];

fn is_bool(dt: DatumType) -> bool {
    dt == DatumType::Bool
}

fn is_numeric(dt: DatumType) -> bool {
    is_bool(dt) || dt.is_float() || integer(dt).is_integer()
}

/// tract's ONNX front end turns `int64` tensors into `TDim` (symbolic integers,
/// 64-bit when concrete): the same values as `i64`.
fn integer(dt: DatumType) -> DatumType {
    if dt.is_tdim() {
        DatumType::I64
    } else {
        dt
    }
}

/// Whether a cast from `from` to `to` keeps every value (and so is the identity
/// on the lowered values).
fn cast_keeps_values(from: DatumType, to: DatumType) -> bool {
    let (from, to) = (integer(from), integer(to));
    if to.is_float() {
        return is_numeric(from);
    }
    if to.is_integer() {
        return is_bool(from)
            || (from.is_integer()
                && to.size_of() >= from.size_of()
                && (to.is_signed() || from.is_unsigned())
                && (to.size_of() > from.size_of() || to.is_signed() == from.is_signed()));
    }
    is_bool(to) && is_bool(from)
}

/// `a − b` for each pair (`b − a` when `swap`).
fn difference(g: &mut FGraph, name: &str, origin: &str, shape: Vec<usize>, pairs: &[(Elem, Elem)], swap: bool) -> View {
    let rows = pairs
        .iter()
        .map(|&(a, b)| {
            let (x, y) = if swap { (b, a) } else { (a, b) };
            AffineRow { bias: 0.0, terms: vec![(x, 1.0), (y, -1.0)] }
        })
        .collect();
    g.affine(&format!("{name}.diff"), origin, shape, rows)
}

/// `1 − x` for each element (logical negation of booleans).
fn negation(g: &mut FGraph, name: &str, origin: &str, shape: Vec<usize>, x: &[Elem]) -> View {
    let rows = x.iter().map(|&e| AffineRow { bias: 1.0, terms: vec![(e, -1.0)] }).collect();
    g.affine(name, origin, shape, rows)
}

/// `x ≠ 0` as a boolean: `1 − IsZero(x)`.
pub(crate) fn not_zero(g: &mut FGraph, name: &str, origin: &str, shape: Vec<usize>, x: &[Elem]) -> View {
    let zero = g.map(&format!("{name}.is_zero"), origin, Func::IsZero, shape.clone(), x);
    negation(g, name, origin, shape, &zero.elems)
}

/// A comparison of each pair: the step function of their difference.
fn compare(g: &mut FGraph, name: &str, op: &str, shape: Vec<usize>, pairs: &[(Elem, Elem)]) -> Option<View> {
    let (func, swap, negate) = match op {
        "GT" => (Func::Positive, false, false),
        "LT" => (Func::Positive, true, false),
        "GTE" => (Func::NonNegative, false, false),
        "LTE" => (Func::NonNegative, true, false),
        "Eq" => (Func::IsZero, false, false),
        "NE" => (Func::IsZero, false, true),
        _ => return None,
    };
    let d = difference(g, name, op, shape.clone(), pairs, swap);
    if negate {
        let zero = g.map(&format!("{name}.is_zero"), op, func, shape.clone(), &d.elems);
        Some(negation(g, name, op, shape, &zero.elems))
    } else {
        Some(g.map(name, op, func, shape, &d.elems))
    }
}

/// And, Or, Xor of boolean pairs.
fn logic(g: &mut FGraph, name: &str, op: &str, shape: Vec<usize>, pairs: Vec<(Elem, Elem)>) -> Option<View> {
    // Or: a + b − ab; Xor: a + b − 2ab; And: ab.
    let product_weight = match op {
        "And" | "BitAnd" => return Some(g.multiply(name, op, shape, pairs)),
        "Or" | "BitOr" => -1.0,
        "Xor" | "BitXor" => -2.0,
        _ => return None,
    };
    let product = g.multiply(&format!("{name}.and"), op, shape.clone(), pairs.clone());
    let rows = pairs
        .iter()
        .zip(&product.elems)
        .map(|(&(a, b), &ab)| AffineRow { bias: 0.0, terms: vec![(a, 1.0), (b, 1.0), (ab, product_weight)] })
        .collect();
    Some(g.affine(name, op, shape, rows))
}

impl Lowering for LogicLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        let name = node.op.name();
        (node.op_is::<TypedBinOp>() && (COMPARISONS.contains(&name.as_ref()) || LOGIC.contains(&name.as_ref())))
            || (node.op_is::<ElementWiseOp>() && NOT.contains(&name.as_ref()))
            || node.op_is::<Cast>()
    }

    fn supports_types(&self, node: &TypedNode, input_types: &[DatumType]) -> std::result::Result<(), String> {
        let name = node.op.name();
        if let Some(cast) = node.op_as::<Cast>() {
            let from = input_types.first().copied().unwrap_or(DatumType::F32);
            return if cast_keeps_values(from, cast.to)
                || (is_bool(cast.to) && is_numeric(from))
                || (from.is_float() && integer(cast.to).is_integer())
            {
                Ok(())
            } else {
                Err(format!("a cast of a computed {from:?} tensor to {:?} is not supported yet", cast.to))
            };
        }
        if COMPARISONS.contains(&name.as_ref()) {
            return match input_types.iter().find(|dt| !is_numeric(**dt)) {
                None => Ok(()),
                Some(dt) => Err(format!("a comparison of {dt:?} tensors is not supported")),
            };
        }
        match input_types.iter().find(|dt| !is_bool(**dt)) {
            None => Ok(()),
            Some(dt) => {
                Err(format!("{name} of {dt:?} tensors (bitwise integer logic) is not supported; booleans only"))
            }
        }
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let node = ctx.name().to_string();
        let op = ctx.op_name();
        if let Some(cast) = ctx.node.op_as::<Cast>() {
            let from = ctx.input_types.first().copied().unwrap_or(DatumType::F32);
            // Before reading the input as elements: a value-keeping cast passes
            // any value through, a dynamic quantiser's too.
            if cast_keeps_values(from, cast.to) {
                return Ok(vec![inputs[0].clone()]);
            }
            let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
            if from.is_float() && integer(cast.to).is_integer() {
                let shape = x.shape.clone();
                let n = super::math::Namer { name: &node, origin: &op };
                return Ok(vec![Value::View(super::math::truncate(ctx.g, &n, shape, &x.elems))]);
            }
            if !is_bool(cast.to) {
                return Err(ctx.fail(format!("cast from {from:?} to {:?}", cast.to)));
            }
            let shape = x.shape.clone();
            return Ok(vec![Value::View(not_zero(ctx.g, &node, &op, shape, &x.elems))]);
        }
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        if NOT.contains(&op.as_str()) {
            let shape = x.shape.clone();
            return Ok(vec![Value::View(negation(ctx.g, &node, &op, shape, &x.elems))]);
        }
        let y = inputs[1].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let (shape, pairs) = broadcast_pairs(&x, &y)
            .ok_or_else(|| ctx.fail(format!("shapes {:?} and {:?} do not broadcast", x.shape, y.shape)))?;
        let view = match compare(ctx.g, &node, &op, shape.clone(), &pairs) {
            Some(v) => v,
            None => logic(ctx.g, &node, &op, shape, pairs)
                .ok_or_else(|| ctx.fail(format!("operator {op} is not supported")))?,
        };
        Ok(vec![Value::View(view)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_preserving_casts() {
        use DatumType::*;
        for to in [F16, F32, F64] {
            for from in [Bool, I8, U8, I32, I64, F32, F64] {
                assert!(cast_keeps_values(from, to), "{from:?} -> {to:?}");
            }
        }
        for to in [U8, I8, I32, I64] {
            assert!(cast_keeps_values(Bool, to));
            assert!(!cast_keeps_values(F32, to), "truncation is not the identity");
        }
        assert!(cast_keeps_values(I32, I64));
        assert!(cast_keeps_values(U8, I32));
        assert!(cast_keeps_values(I64, I64));
        assert!(!cast_keeps_values(I64, I32), "narrowing may wrap");
        assert!(!cast_keeps_values(I8, U32), "negative values wrap");
        assert!(!cast_keeps_values(U32, I32), "large values wrap");
        assert!(cast_keeps_values(Bool, Bool));
        assert!(!cast_keeps_values(F32, Bool), "x != 0, not the identity");
        assert!(cast_keeps_values(Bool, TDim) && cast_keeps_values(TDim, F32) && cast_keeps_values(I32, TDim));
        assert!(!cast_keeps_values(F32, TDim));
    }
}
