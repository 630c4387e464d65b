//! `Iff` (ONNX `Where`). Where the condition is a constant — masks, such as
//! causal attention's — each output element is one of its inputs' elements:
//! data movement. A computed condition `c` (a boolean, `0` or `1`, produced by a
//! comparison or logic operator) selects arithmetically: `y + c·(x − y)`, one
//! rescaled product per element, exact for `c ∈ {0, 1}` (at the graph scale
//! `c·2^s·(x − y)` rescaled by `2^s` is `x − y` or `0`). When both branches are
//! constants it is one affine map `y + (x − y)·c` with fractional weights, whose
//! rescale can land one unit from the selected constant's own rounding.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::logic::Iff;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{broadcast_indices, broadcast_shape, tensor_to_f64, Value};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem, View};

pub(crate) struct SelectLowering;

impl Lowering for SelectLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<Iff>()
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let cond_shape = inputs[0].shape();
        let cond: Vec<Elem> = match inputs[0].as_const() {
            Some(t) => tensor_to_f64(t).map_err(|e| ctx.fail(e.to_string()))?.into_iter().map(Elem::Const).collect(),
            None => inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?.elems,
        };
        let a = inputs[1].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let b = inputs[2].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let shape = broadcast_shape(&cond_shape, &a.shape)
            .and_then(|s| broadcast_shape(&s, &b.shape))
            .ok_or_else(|| ctx.fail("condition and branches do not broadcast"))?;
        let (ic, ia, ib) = (
            broadcast_indices(&cond_shape, &shape),
            broadcast_indices(&a.shape, &shape),
            broadcast_indices(&b.shape, &shape),
        );
        // Constant conditions pick an element; computed ones are selected below.
        let mut elems = Vec::with_capacity(ic.len());
        let mut computed = Vec::new(); // (slot, condition, x, y)
        for i in 0..ic.len() {
            let (x, y) = (a.elems[ia[i]], b.elems[ib[i]]);
            match cond[ic[i]] {
                Elem::Const(c) => elems.push(if c != 0.0 { x } else { y }),
                c @ Elem::Ref(_) => {
                    computed.push((i, c, x, y));
                    elems.push(Elem::Const(0.0));
                }
            }
        }
        if !computed.is_empty() {
            let name = ctx.name().to_string();
            let origin = ctx.op_name();
            let n = vec![computed.len()];
            let diff = computed
                .iter()
                .map(|&(_, _, x, y)| AffineRow { bias: 0.0, terms: vec![(x, 1.0), (y, -1.0)] })
                .collect();
            let d = ctx.g.affine(&format!("{name}.diff"), &origin, n.clone(), diff);
            let pairs = computed.iter().zip(&d.elems).map(|(&(_, c, _, _), &d)| (c, d)).collect();
            let picked = ctx.g.multiply(&format!("{name}.pick"), &origin, n.clone(), pairs);
            let rows = computed
                .iter()
                .zip(&picked.elems)
                .map(|(&(_, _, _, y), &p)| AffineRow { bias: 0.0, terms: vec![(y, 1.0), (p, 1.0)] })
                .collect();
            let out = ctx.g.affine(&name, &origin, n, rows);
            for (&(slot, ..), e) in computed.iter().zip(out.elems) {
                elems[slot] = e;
            }
        }
        Ok(vec![Value::View(View { shape, elems })])
    }
}
