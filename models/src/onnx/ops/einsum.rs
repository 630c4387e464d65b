//! `EinSum` with one constant operand (Gemm, MatMul, dense layers) → affine rows.
//! A product of two variable tensors (attention) is not supported yet.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::einsum::EinSum;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{strides, tensor_to_f64, Value};
use crate::error::Result;
use crate::fgraph::AffineRow;

pub(crate) struct EinSumLowering;

/// One axis of the expression: its size and positions in each operand and the output.
struct AxisUse {
    size: usize,
    a: Vec<usize>,
    b: Vec<usize>,
    out: Vec<usize>,
}

impl Lowering for EinSumLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<EinSum>()
    }

    fn supports(&self, node: &TypedNode, const_inputs: &[bool]) -> std::result::Result<(), String> {
        let Some(op) = node.op_as::<EinSum>() else { return Err("not an EinSum".into()) };
        if op.q_params.is_some() {
            return Err("integer-quantised matrix products are not supported yet".into());
        }
        if const_inputs.len() != 2 {
            return Err(format!("{}-operand EinSum is not supported", const_inputs.len()));
        }
        if !const_inputs[0] && !const_inputs[1] {
            return Err("product of two variable tensors (e.g. attention scores) is not supported yet".into());
        }
        Ok(())
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<EinSum>().ok_or_else(|| ctx.fail("not an EinSum"))?.clone();
        let var = if inputs[0].as_const().is_none() { 0 } else { 1 };
        let x = inputs[var].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let w = tensor_to_f64(inputs[1 - var].as_const().ok_or_else(|| ctx.fail("no constant operand"))?)
            .map_err(|e| ctx.fail(e.to_string()))?;
        let a_shape = inputs[0].shape();
        let b_shape = inputs[1].shape();
        let out_shape = ctx.out_shape();
        let mut axes = Vec::new();
        for axis in op.axes.iter_all_axes() {
            let a = axis.inputs[0].to_vec();
            let b = axis.inputs[1].to_vec();
            let out = axis.outputs[0].to_vec();
            if out.len() > 1 {
                return Err(ctx.fail(format!("axis {} repeats in the output", axis.repr)));
            }
            let size = a
                .first()
                .map(|&p| a_shape[p])
                .or_else(|| b.first().map(|&p| b_shape[p]))
                .or_else(|| out.first().map(|&p| out_shape[p]))
                .unwrap_or(1);
            axes.push(AxisUse { size, a, b, out });
        }
        let (sa, sb, so) = (strides(&a_shape), strides(&b_shape), strides(&out_shape));
        let summed: Vec<&AxisUse> = axes.iter().filter(|ax| ax.out.is_empty()).collect();
        let kept: Vec<&AxisUse> = axes.iter().filter(|ax| !ax.out.is_empty()).collect();
        let n_sum: usize = summed.iter().map(|ax| ax.size).product();
        let n_out: usize = out_shape.iter().product();
        let offset = |ax: &AxisUse, v: usize| -> (usize, usize) {
            (ax.a.iter().map(|&p| v * sa[p]).sum(), ax.b.iter().map(|&p| v * sb[p]).sum())
        };
        let mut rows = Vec::with_capacity(n_out);
        for o in 0..n_out {
            let (mut ia0, mut ib0) = (0, 0);
            for ax in &kept {
                let p = ax.out[0];
                let (da, db) = offset(ax, (o / so[p]) % out_shape[p]);
                ia0 += da;
                ib0 += db;
            }
            let mut row = AffineRow::default();
            for s in 0..n_sum {
                let (mut ia, mut ib, mut rest) = (ia0, ib0, s);
                for ax in summed.iter().rev() {
                    let (da, db) = offset(ax, rest % ax.size);
                    rest /= ax.size;
                    ia += da;
                    ib += db;
                }
                let (xi, wi) = if var == 0 { (ia, ib) } else { (ib, ia) };
                row.terms.push((x.elems[xi], w[wi]));
            }
            rows.push(row);
        }
        let view = ctx.g.affine(ctx.name(), "EinSum", out_shape, rows);
        Ok(vec![Value::View(view)])
    }
}
