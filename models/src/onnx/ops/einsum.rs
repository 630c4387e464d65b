//! `EinSum` (Gemm, MatMul, dense layers): with one constant operand → affine rows;
//! with two variable operands (attention scores, attention × values) → sums of
//! products ([`crate::fgraph::FOp::Dot`]), proven as dot products whose weights
//! are witnesses, rescaled once per output. QLinearMatMul (an EinSum with
//! quantisation parameters): the same over zero-point-centred integers, then an
//! exact requantisation ([`super::quant::quantise`]).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::einsum::EinSum;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{strides, tensor_to_f64, Value};
use super::dynamic_quant;
use super::math::Namer;
use super::quant::QLinear;
use crate::error::Result;
use crate::fgraph::{LayerWeights, WeightedRow};

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
            // QLinearMatMul and MatMulInteger: a, b, bias, then a0, a_scale, b0,
            // b_scale, y0, y_scale.
            if !QLinear::constant_parameters(node, const_inputs, 2) {
                return Err("a quantised matrix product needs constant zero points and scales".into());
            }
            return Ok(());
        }
        if const_inputs.len() != 2 {
            return Err(format!("{}-operand EinSum is not supported", const_inputs.len()));
        }
        Ok(())
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<EinSum>().ok_or_else(|| ctx.fail("not an EinSum"))?.clone();
        let a_shape = inputs[0].shape();
        let b_shape = inputs[1].shape();
        let out_shape = ctx.out_shape();
        let columns = out_shape.last().copied().unwrap_or(1).max(1);
        let mut axes = Vec::new();
        for axis in op.axes.iter_all_axes() {
            let a = axis.inputs[0].to_vec();
            let b = axis.inputs[1].to_vec();
            let out = axis.outputs[0].to_vec();
            if out.len() > 1 {
                return Err(ctx.fail(format!("axis {} repeats in the output", axis.repr)));
            }
            // An operand's size-1 dimension broadcasts against the other's.
            let size = a
                .iter()
                .map(|&p| a_shape[p])
                .chain(b.iter().map(|&p| b_shape[p]))
                .chain(out.iter().map(|&p| out_shape[p]))
                .max()
                .unwrap_or(1);
            axes.push(AxisUse { size, a, b, out });
        }
        let (sa, sb, so) = (strides(&a_shape), strides(&b_shape), strides(&out_shape));
        let summed: Vec<&AxisUse> = axes.iter().filter(|ax| ax.out.is_empty()).collect();
        let kept: Vec<&AxisUse> = axes.iter().filter(|ax| !ax.out.is_empty()).collect();
        let n_sum: usize = summed.iter().map(|ax| ax.size).product();
        let n_out: usize = out_shape.iter().product();
        let offset = |ax: &AxisUse, v: usize| -> (usize, usize) {
            (ax.a.iter().map(|&p| (v % a_shape[p]) * sa[p]).sum(), ax.b.iter().map(|&p| (v % b_shape[p]) * sb[p]).sum())
        };
        // Element indices (in a and in b) of term `s` of output `o`.
        let term = |o: usize, s: usize| -> (usize, usize) {
            let (mut ia, mut ib) = (0, 0);
            for ax in &kept {
                let p = ax.out[0];
                let (da, db) = offset(ax, (o / so[p]) % out_shape[p]);
                ia += da;
                ib += db;
            }
            let mut rest = s;
            for ax in summed.iter().rev() {
                let (da, db) = offset(ax, rest % ax.size);
                rest /= ax.size;
                ia += da;
                ib += db;
            }
            (ia, ib)
        };
        let name = ctx.name().to_string();
        let dynamic = match (op.q_params, inputs.get(3)) {
            (Some(_), Some(zero)) => dynamic_quant::dequantised_operand(ctx, &inputs[0], zero)?,
            _ => None,
        };
        let mut inputs = inputs.to_vec();
        if let Some((_, dequantised)) = &dynamic {
            inputs[0] = Value::View(dequantised.clone());
        }
        if matches!(inputs.get(1), Some(Value::Dynamic(_))) && op.q_params.is_some() {
            return Err(ctx.fail("the dynamically quantised operand of MatMulInteger must be the first"));
        }
        let inputs = inputs.as_slice();
        let quantised = match op.q_params {
            Some(_) => Some(quantised_operands(ctx, inputs, dynamic.is_some(), columns)?),
            None => None,
        };
        let zero = |operand: usize| quantised.as_ref().map_or(0.0, |q| [q.x_zero, q.k_zero[0]][operand]);
        let n = Namer { name: &name, origin: "QLinearMatMul" };
        let centred = |ctx: &mut Ctx<'_>, operand: usize| -> Result<crate::fgraph::View> {
            let v = inputs[operand].to_view().map_err(|e| ctx.fail(e.to_string()))?;
            Ok(QLinear::centre(ctx.g, &n, &format!("centred{operand}"), v, zero(operand)))
        };
        let view = match (inputs[0].as_const(), inputs[1].as_const()) {
            (None, None) => {
                let a = centred(ctx, 0)?;
                let b = centred(ctx, 1)?;
                let rows = (0..n_out)
                    .map(|o| {
                        (0..n_sum)
                            .map(|s| {
                                let (ia, ib) = term(o, s);
                                (a.elems[ia], b.elems[ib])
                            })
                            .collect()
                    })
                    .collect();
                ctx.g.dot_products(&name, "EinSum", out_shape, rows)
            }
            _ => {
                let var = if inputs[0].as_const().is_none() { 0 } else { 1 };
                let x = centred(ctx, var)?;
                let mut w = tensor_to_f64(inputs[1 - var].as_const().ok_or_else(|| ctx.fail("no constant operand"))?)
                    .map_err(|e| ctx.fail(e.to_string()))?;
                // Integer weights `w − w0`: exact, no rescale.
                // Per-column zero points (of the constant second operand) centre
                // each column on its own: the column is the output's last axis.
                match &quantised {
                    Some(q) if var == 0 && q.k_zero.len() > 1 => {
                        let column_axis = kept
                            .iter()
                            .find(|ax| ax.out.first() == Some(&(out_shape.len().saturating_sub(1))))
                            .and_then(|ax| ax.b.first().copied())
                            .ok_or_else(|| ctx.fail("per-column zero points, but no column axis"))?;
                        let column = |i: usize| (i / sb[column_axis]) % b_shape[column_axis];
                        w.iter_mut().enumerate().for_each(|(i, v)| *v -= q.per_channel(&q.k_zero, column(i)));
                    }
                    _ => {
                        let w_zero = zero(1 - var);
                        w.iter_mut().for_each(|v| *v -= w_zero);
                    }
                }
                let weight_index = |o: usize, s: usize| {
                    let (ia, ib) = term(o, s);
                    if var == 0 {
                        (ia, ib)
                    } else {
                        (ib, ia)
                    }
                };
                let rows = (0..n_out)
                    .map(|o| WeightedRow {
                        bias: None,
                        terms: (0..n_sum)
                            .map(|s| {
                                let (xi, wi) = weight_index(o, s);
                                (x.elems[xi], wi)
                            })
                            .collect(),
                    })
                    .collect();
                // An output's feature: where its weights start in the constant
                // operand (the kept axes' offset), which names the column of a
                // dense layer's weight matrix.
                let feature = |o: usize| weight_index(o, 0).1;
                let layer = LayerWeights { weights: &w, bias: None };
                ctx.g.weighted((&name, "EinSum"), out_shape.clone(), rows, layer, feature).map_err(|e| ctx.fail(e))?
            }
        };
        if let Some((quantiser, _)) = dynamic {
            return Ok(vec![dynamic_quant::integer_product(quantiser, view)]);
        }
        let Some(q) = quantised else { return Ok(vec![Value::View(view)]) };
        Ok(vec![Value::View(q.requantise(ctx.g, &n, view, |o| o % columns))])
    }
}

/// The quantisation of a QLinearMatMul (or MatMulInteger): one zero point and
/// scale for the first operand, one or one per output column (`columns`) for a
/// constant second operand, and a zero bias.
fn quantised_operands(ctx: &Ctx<'_>, inputs: &[Value], dequantised_a: bool, columns: usize) -> Result<QLinear> {
    let q = QLinear::read(ctx, inputs, "QLinearMatMul", dequantised_a)?;
    let per_column = |v: &[f64]| v.len() == 1 || (v.len() == columns && inputs[1].as_const().is_some());
    if !per_column(&q.k_zero) || !per_column(&q.k_scale) {
        return Err(ctx.fail(format!(
            "the second operand's zero points and scales must be one value, or one per column ({columns}) of a constant operand"
        )));
    }
    let bias = inputs.get(2).and_then(Value::as_const).ok_or_else(|| ctx.fail("the bias is not constant"))?;
    if tensor_to_f64(bias).map_err(|e| ctx.fail(e.to_string()))?.iter().any(|b| *b != 0.0) {
        return Err(ctx.fail("a quantised matrix product with a bias is not supported yet"));
    }
    Ok(q)
}
