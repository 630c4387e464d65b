//! `Pad` in constant, reflect and edge modes: pure data movement.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::array::{Pad, PadMode};

use super::super::lower::{Ctx, Lowering};
use super::super::value::{strides, tensor_to_f64, Value};
use crate::error::Result;
use crate::fgraph::{Elem, View};

pub(crate) struct PadLowering;

/// Source coordinate of padded coordinate `p` along an axis of length `len` padded by
/// `before`, or `None` when it is a constant cell.
fn source(mode: &PadMode, p: usize, before: usize, len: usize) -> Option<usize> {
    let i = p as isize - before as isize;
    if (0..len as isize).contains(&i) {
        return Some(i as usize);
    }
    match mode {
        PadMode::Constant(_) => None,
        PadMode::Edge => Some(i.clamp(0, len as isize - 1) as usize),
        PadMode::Reflect => {
            if len == 1 {
                return Some(0);
            }
            let period = 2 * (len as isize - 1);
            let m = i.rem_euclid(period);
            Some(if m < len as isize { m } else { period - m } as usize)
        }
    }
}

impl Lowering for PadLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<Pad>()
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<Pad>().ok_or_else(|| ctx.fail("not a Pad"))?.clone();
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let fill = match &op.mode {
            PadMode::Constant(t) => {
                tensor_to_f64(t).map_err(|e| ctx.fail(e.to_string()))?.first().copied().unwrap_or(0.0)
            }
            _ => 0.0,
        };
        let out_shape = ctx.out_shape();
        let (si, so) = (strides(&x.shape), strides(&out_shape));
        let n: usize = out_shape.iter().product();
        let mut elems = Vec::with_capacity(n);
        for flat in 0..n {
            let mut src = Some(0usize);
            for d in 0..out_shape.len() {
                let p = (flat / so[d]) % out_shape[d];
                src = match (src, source(&op.mode, p, op.pads[d].0, x.shape[d])) {
                    (Some(acc), Some(i)) => Some(acc + i * si[d]),
                    _ => None,
                };
            }
            elems.push(src.map_or(Elem::Const(fill), |i| x.elems[i]));
        }
        Ok(vec![Value::View(View { shape: out_shape, elems })])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_and_edge_follow_onnx() {
        // [a b c] reflect-padded by 2 each side: c b a b c b a
        let m = PadMode::Reflect;
        let got: Vec<usize> = (0..7).map(|p| source(&m, p, 2, 3).unwrap()).collect();
        assert_eq!(got, vec![2, 1, 0, 1, 2, 1, 0]);
        let e = PadMode::Edge;
        let got: Vec<usize> = (0..5).map(|p| source(&e, p, 1, 3).unwrap()).collect();
        assert_eq!(got, vec![0, 0, 1, 2, 2]);
        assert_eq!(source(&PadMode::Constant(tensor0(0f32).into_arc_tensor()), 0, 1, 3), None);
    }
}
