//! Unary element-wise operators: Square, Neg, Abs by arithmetic; Floor, Ceil and
//! Round (ties to even) from an exact integer remainder; Sigmoid, Tanh, Erf, Exp,
//! Sign, Asin, Atanh, Asinh and Acosh by one table lookup ([`crate::func`]); Ln,
//! Sin, Cos, Tan, Atan, Acos, Sinh, Cosh, Recip, Sqrt, Rsqrt, PowConst,
//! LeakyRelu, HardSwish, Silu and GELU in several steps ([`super::math`]); IsNaN and IsInf are constant false (fixed-point values are
//! finite).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;
use tract_onnx::tract_core::ops::math::PowConst;
use tract_onnx::tract_core::ops::nn::{GeluApproximate, LeakyRelu};

use super::super::lower::{Ctx, Lowering};
use super::super::value::Value;
use super::math::{self, Namer};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem};
use crate::func::Func;
use crate::ir::ReduceKind;

pub(crate) struct ElementWiseLowering;

const SUPPORTED: [&str; 25] = [
    "Floor",
    "Ceil",
    "RoundHalfToEven",
    "Square",
    "Neg",
    "Abs",
    "Ln",
    "Sin",
    "Cos",
    "Recip",
    "Sqrt",
    "Rsqrt",
    "PowConst",
    "LeakyRelu",
    "HardSwish",
    "Silu",
    "GeluExact",
    "GeluApproximate",
    "IsNan",
    "IsInf",
    "Tan",
    "Atan",
    "Acos",
    "Sinh",
    "Cosh",
];

fn negated(ctx: &mut Ctx<'_>, x: &[Elem], shape: Vec<usize>, name: &str) -> Vec<Elem> {
    let rows = x.iter().map(|e| AffineRow { bias: 0.0, terms: vec![(*e, -1.0)] }).collect();
    ctx.g.affine(name, "Neg", shape, rows).elems
}

/// The mini-op of an element-wise node, downcast.
fn mini<T: tract_onnx::tract_core::ops::element_wise::ElementWiseMiniOp + Clone>(ctx: &Ctx<'_>) -> Option<T> {
    ctx.node.op_as::<ElementWiseOp>().and_then(|op| op.0.downcast_ref::<T>()).cloned()
}

impl Lowering for ElementWiseLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<ElementWiseOp>()
    }

    fn supports(&self, node: &TypedNode, _const_inputs: &[bool]) -> std::result::Result<(), String> {
        let name = node.op.name();
        if SUPPORTED.contains(&name.as_ref()) || Func::from_name(&name).is_some() {
            Ok(())
        } else {
            Err(format!("element-wise {name} is not supported yet"))
        }
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let name = ctx.op_name();
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let node = ctx.name().to_string();
        let shape = x.shape.clone();
        let n = Namer { name: &node, origin: &name };
        let view = match name.as_str() {
            "Square" => {
                let pairs = x.elems.iter().map(|e| (*e, *e)).collect();
                ctx.g.multiply(&node, &name, shape, pairs)
            }
            "Neg" => {
                let elems = negated(ctx, &x.elems, shape.clone(), &node);
                crate::fgraph::View { shape, elems }
            }
            "Abs" => {
                let neg = negated(ctx, &x.elems, shape.clone(), &format!("{node}.neg"));
                let sets = x.elems.iter().zip(neg).map(|(p, n)| vec![*p, n]).collect();
                ctx.g.reduce(&node, &name, ReduceKind::Max, shape, sets)
            }
            "Ln" => math::log(ctx.g, &n, shape, &x.elems),
            "Sin" => math::periodic(ctx.g, &n, Func::Sin, shape, &x.elems),
            "Cos" => math::periodic(ctx.g, &n, Func::Cos, shape, &x.elems),
            "Tan" => math::tan(ctx.g, &n, shape, &x.elems),
            "Atan" => math::atan(ctx.g, &n, shape, &x.elems),
            "Acos" => math::acos(ctx.g, &n, shape, &x.elems),
            "Asinh" => math::inverse_hyperbolic(ctx.g, &n, shape, &x.elems, true),
            "Acosh" => math::inverse_hyperbolic(ctx.g, &n, shape, &x.elems, false),
            "Sinh" => math::hyperbolic(ctx.g, &n, shape, &x.elems, true),
            "Cosh" => math::hyperbolic(ctx.g, &n, shape, &x.elems, false),
            "Recip" => math::reciprocal(ctx.g, &n, shape, &x.elems),
            "Sqrt" => math::sqrt(ctx.g, &n, shape, &x.elems),
            "Rsqrt" => {
                let root = math::sqrt(ctx.g, &Namer { name: &format!("{node}.sqrt"), origin: &name }, shape, &x.elems);
                math::reciprocal(ctx.g, &n, root.shape.clone(), &root.elems)
            }
            "PowConst" => {
                let op = mini::<PowConst>(ctx).ok_or_else(|| ctx.fail("not a PowConst"))?;
                math::pow_const(ctx.g, &n, shape, &x.elems, f64::from(op.exponent))
            }
            "LeakyRelu" => {
                let op = mini::<LeakyRelu>(ctx).ok_or_else(|| ctx.fail("not a LeakyRelu"))?;
                math::leaky_relu(ctx.g, &n, shape, &x.elems, f64::from(op.alpha))
            }
            "HardSwish" => math::hard_swish(ctx.g, &n, shape, &x.elems),
            "Floor" => math::rounding(ctx.g, &n, math::Rounding::Floor, shape, &x.elems),
            "Ceil" => math::rounding(ctx.g, &n, math::Rounding::Ceil, shape, &x.elems),
            "RoundHalfToEven" => math::rounding(ctx.g, &n, math::Rounding::HalfToEven, shape, &x.elems),
            "Silu" => math::silu(ctx.g, &n, shape, &x.elems),
            // Every value in the circuit is a finite fixed-point number (inputs
            // with NaN or infinities are refused when quantised), so these are
            // false everywhere.
            "IsNan" | "IsInf" => crate::fgraph::View { elems: vec![Elem::Const(0.0); x.len()], shape },
            "GeluExact" => math::gelu(ctx.g, &n, shape, &x.elems, None),
            "GeluApproximate" => {
                let op = mini::<GeluApproximate>(ctx).ok_or_else(|| ctx.fail("not a GeluApproximate"))?;
                math::gelu(ctx.g, &n, shape, &x.elems, Some(if op.fast_impl { 2 } else { 3 }))
            }
            other => match Func::from_name(other) {
                Some(func) => ctx.g.map(&node, &name, func, shape, &x.elems),
                None => return Err(ctx.fail(format!("element-wise {other} is not supported"))),
            },
        };
        Ok(vec![Value::View(view)])
    }
}
