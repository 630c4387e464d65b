//! `QuantizeLinear` and `DequantizeLinear` on computed tensors (QDQ models: the
//! "fake quantisation" an 8-bit export wraps around each layer). tract keeps them
//! as `QuantizeLinearU8`/`I8` (element-wise, holding `1/scale`) and
//! `DequantizeLinearF32`; constant ones fold away. Quantise:
//! `clamp(round_half_even(x / scale) + zero_point, qmin, qmax)` by an affine map,
//! the exact rounding ([`super::math::rounding`]) and two clamps; dequantise:
//! `(q − zero_point) · scale`, one affine map. The integer `q` is carried as a
//! value like any other (at the graph scale), so the circuit proves exactly the
//! rounding and saturation that 8-bit inference performs.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;
use tract_onnx::tract_core::ops::quant::{DequantizeLinearF32, QuantizeLinearI8, QuantizeLinearU8};

use super::super::lower::{Ctx, Lowering};
use super::super::value::{tensor_to_f64, Value};
use super::math::{self, Namer};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem, FGraph, View};
use crate::ir::ReduceKind;

pub(crate) struct QuantLowering;

/// `(1/scale, zero point, qmin, qmax)` of a quantising node.
fn quantizer(node: &TypedNode) -> Option<(f64, f64, f64, f64)> {
    let mini = &node.op_as::<ElementWiseOp>()?.0;
    if let Some(q) = mini.downcast_ref::<QuantizeLinearU8>() {
        return Some((f64::from(q.scale), f64::from(q.zero_point), 0.0, 255.0));
    }
    let q = mini.downcast_ref::<QuantizeLinearI8>()?;
    Some((f64::from(q.scale), f64::from(q.zero_point), -128.0, 127.0))
}

impl Lowering for QuantLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        quantizer(node).is_some() || node.op_is::<DequantizeLinearF32>()
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let node = ctx.name().to_string();
        let shape = x.shape.clone();
        if let Some(dq) = ctx.node.op_as::<DequantizeLinearF32>().cloned() {
            let (scale, zero) = (f64::from(dq.scale), f64::from(dq.zero_point));
            let n = Namer { name: &node, origin: "DequantizeLinear" };
            let y = math::scaled(ctx.g, &n, "", &x.elems, scale, -zero * scale);
            return Ok(vec![Value::View(View { shape, elems: y.elems })]);
        }
        let (inv_scale, zero, qmin, qmax) = quantizer(ctx.node).ok_or_else(|| ctx.fail("not a QuantizeLinear"))?;
        let n = Namer { name: &node, origin: "QuantizeLinear" };
        let multipliers = vec![inv_scale; x.elems.len()];
        Ok(vec![Value::View(quantise(ctx.g, &n, shape, &x.elems, &multipliers, zero, (qmin, qmax)))])
    }
}

/// `clamp(round_half_even(x_i · m_i) + zero, qmin, qmax)` for each element: an
/// affine map, the exact rounding ([`math::rounding`]) and two clamps.
/// QuantizeLinear (`m_i = 1/scale`) and the requantisation of QLinearConv
/// (`m_i = x_scale·k_scale/y_scale`) share it.
pub(crate) fn quantise(
    g: &mut FGraph,
    n: &Namer<'_>,
    shape: Vec<usize>,
    x: &[Elem],
    multipliers: &[f64],
    zero: f64,
    (qmin, qmax): (f64, f64),
) -> View {
    let len = vec![x.len()];
    let rows = x.iter().zip(multipliers).map(|(&e, &m)| AffineRow { bias: 0.0, terms: vec![(e, m)] }).collect();
    let scaled = g.affine(&n.at("scaled"), n.origin, len.clone(), rows);
    let round = Namer { name: &n.at("round"), origin: n.origin };
    let rounded = math::rounding(g, &round, math::Rounding::HalfToEven, len.clone(), &scaled.elems);
    let rows = rounded.elems.iter().map(|&e| AffineRow { bias: zero, terms: vec![(e, 1.0)] }).collect();
    let shifted = g.affine(&n.at("shifted"), n.origin, len, rows);
    let low = math::clamp(g, n, "min", ReduceKind::Max, &shifted.elems, qmin);
    let high = math::clamp(g, n, "", ReduceKind::Min, &low.elems, qmax);
    View { shape, elems: high.elems }
}

/// The quantisation of tract's integer Conv and EinSum (QLinearConv,
/// QLinearMatMul): inputs 3–8 are `x0, x_scale, k0, k_scale, y0, y_scale`, and
/// `y = clamp(round((Σ (x − x0)(k − k0) + b) · x_scale·k_scale/y_scale) + y0,
/// qmin, qmax)`, rounding half to even.
pub(crate) struct QLinear {
    /// The first operand's zero point.
    pub x_zero: f64,
    /// The first operand's scale.
    pub x_scale: f64,
    /// The second operand's zero point: one value, or one per output channel.
    pub k_zero: Vec<f64>,
    /// The second operand's scale: one value, or one per output channel.
    pub k_scale: Vec<f64>,
    /// The output's zero point.
    pub y_zero: f64,
    /// The output's scale.
    pub y_scale: f64,
    /// The output type's range; `None` for an integer accumulator (MatMulInteger,
    /// ConvInteger: a 32-bit output, no requantisation).
    pub range: Option<(f64, f64)>,
}

impl QLinear {
    /// The support check of tract's quantised Conv and EinSum (inputs `x, k, bias,
    /// x0, x_scale, k0, k_scale, y0, y_scale`): inputs `first..` must be
    /// constants, except the input zero point of an integer product with a
    /// 32-bit output (MatMulInteger, ConvInteger), which a dynamic quantiser
    /// computes ([`super::dynamic_quant`]).
    pub fn constant_parameters(node: &TypedNode, const_inputs: &[bool], first: usize) -> bool {
        let accumulator = node.outputs[0].fact.datum_type.unquantized() == DatumType::I32;
        let constant = |i: usize| const_inputs.get(i).copied().unwrap_or(false) || (accumulator && i == 3);
        const_inputs.len() == 9 && (first..9).all(constant)
    }

    /// Reads the parameters of `op` (its name, for errors) from its inputs. With
    /// `dequantised_x`, the first operand is already dequantised by a dynamic
    /// quantiser ([`super::dynamic_quant`]): its zero point (computed) is not
    /// read, and its scale is 1.
    pub fn read(ctx: &Ctx<'_>, inputs: &[Value], op: &str, dequantised_x: bool) -> Result<QLinear> {
        let values = |i: usize, what: &str| -> Result<Vec<f64>> {
            let t =
                inputs.get(i).and_then(Value::as_const).ok_or_else(|| ctx.fail(format!("{what} is not constant")))?;
            let v = tensor_to_f64(t).map_err(|e| ctx.fail(e.to_string()))?;
            if v.is_empty() {
                return Err(ctx.fail(format!("{what} is empty")));
            }
            Ok(v)
        };
        let scalar = |i: usize, what: &str| -> Result<f64> {
            let v = values(i, what)?;
            if v.len() != 1 {
                return Err(ctx.fail(format!("{what} must be one value, found {}", v.len())));
            }
            Ok(v[0])
        };
        let range = match ctx.node.outputs[0].fact.datum_type.unquantized() {
            DatumType::U8 => Some((0.0, 255.0)),
            DatumType::I8 => Some((-128.0, 127.0)),
            DatumType::I32 => None,
            other => return Err(ctx.fail(format!("{op} output of type {other:?}"))),
        };
        let q = QLinear {
            x_zero: if dequantised_x { 0.0 } else { scalar(3, "the input zero point")? },
            x_scale: scalar(4, "the input scale")?,
            k_zero: values(5, "the kernel zero point")?,
            k_scale: values(6, "the kernel scale")?,
            y_zero: scalar(7, "the output zero point")?,
            y_scale: scalar(8, "the output scale")?,
            range,
        };
        if q.y_scale <= 0.0 || q.x_scale <= 0.0 || q.k_scale.iter().any(|s| *s <= 0.0) {
            return Err(ctx.fail("quantisation scales must be positive"));
        }
        if q.range.is_none()
            && (q.y_scale != 1.0 || q.y_zero != 0.0 || q.x_scale != 1.0 || q.k_scale.iter().any(|s| *s != 1.0))
        {
            return Err(
                ctx.fail(format!("{op} with a 32-bit output must have unit scales and a zero output zero point"))
            );
        }
        Ok(q)
    }

    /// `x − zero` for each element of `x` (an operand centred on its zero
    /// point), the view itself when `zero` is 0.
    pub fn centre(g: &mut FGraph, n: &Namer<'_>, suffix: &str, x: View, zero: f64) -> View {
        if zero == 0.0 {
            return x;
        }
        View { elems: math::scaled(g, n, suffix, &x.elems, 1.0, -zero).elems, shape: x.shape }
    }

    /// The integer sums `acc` requantised to the output type, element `i` with
    /// the kernel scale of `channel(i)`.
    pub fn requantise(&self, g: &mut FGraph, n: &Namer<'_>, acc: View, channel: impl Fn(usize) -> usize) -> View {
        let Some(range) = self.range else { return acc };
        let multipliers: Vec<f64> = (0..acc.elems.len())
            .map(|i| self.x_scale * self.per_channel(&self.k_scale, channel(i)) / self.y_scale)
            .collect();
        let requantise = Namer { name: &n.at("requantise"), origin: n.origin };
        quantise(g, &requantise, acc.shape, &acc.elems, &multipliers, self.y_zero, range)
    }

    /// `values[channel]`, or its one value.
    pub fn per_channel(&self, values: &[f64], channel: usize) -> f64 {
        values.get(channel).or(values.first()).copied().unwrap_or(0.0)
    }
}
