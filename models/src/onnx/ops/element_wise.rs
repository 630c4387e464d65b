//! Unary element-wise operators: Square, Neg, Abs by arithmetic; Sigmoid, Tanh,
//! Erf, Exp and Sign by table lookup ([`crate::func`]).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;

use super::super::lower::{Ctx, Lowering};
use super::super::value::Value;
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem};
use crate::ir::ReduceKind;

pub(crate) struct ElementWiseLowering;

const SUPPORTED: [&str; 3] = ["Square", "Neg", "Abs"];

fn negated(ctx: &mut Ctx<'_>, x: &[Elem], shape: Vec<usize>, name: &str) -> Vec<Elem> {
    let rows = x.iter().map(|e| AffineRow { bias: 0.0, terms: vec![(*e, -1.0)] }).collect();
    ctx.g.affine(name, "Neg", shape, rows).elems
}

impl Lowering for ElementWiseLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<ElementWiseOp>()
    }

    fn supports(&self, node: &TypedNode, _const_inputs: &[bool]) -> std::result::Result<(), String> {
        let name = node.op.name();
        if SUPPORTED.contains(&name.as_ref()) || crate::func::Func::from_name(&name).is_some() {
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
            other => match crate::func::Func::from_name(other) {
                Some(func) => ctx.g.map(&node, &name, func, shape, &x.elems),
                None => return Err(ctx.fail(format!("element-wise {other} is not supported"))),
            },
        };
        Ok(vec![Value::View(view)])
    }
}
