//! `Conv` (any spatial rank, stride, padding, dilation, groups, bias) → affine rows;
//! QLinearConv (tract's Conv with quantisation parameters) as the same rows over
//! integers, then an exact requantisation ([`super::quant::quantise`]).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::cnn::{Conv, KernelFormat};

use super::super::lower::{Ctx, Lowering};
use super::super::value::{tensor_to_f64, Value};
use super::dynamic_quant;
use super::geometry::Geometry;
use super::math::Namer;
use super::quant::QLinear;
use crate::error::Result;
use crate::fgraph::{AffineRow, LayerWeights, View, WeightedRow};

pub(crate) struct ConvLowering;

/// The support check of a (transposed) convolution: a variable input and a
/// constant kernel; `message` names what must be constant. The bias may be
/// computed ([`add_computed_bias`]).
pub(super) fn constant_weights(const_inputs: &[bool], message: &str) -> std::result::Result<(), String> {
    if const_inputs.get(1) != Some(&true) {
        return Err(message.into());
    }
    if const_inputs.first() == Some(&true) {
        return Err("constant input".into());
    }
    Ok(())
}

/// A (transposed) convolution's constant kernel as `[G, O/G, I/G, HW]` values,
/// with its sizes and the bias per output channel.
pub(super) struct GroupedKernel {
    /// Kernel values, `[group][out/group][in/group][tap]` row-major.
    pub values: Vec<f64>,
    /// Output channels per group.
    pub o_per_g: usize,
    /// Input channels per group.
    pub i_per_g: usize,
    /// Taps per kernel (the product of its spatial sizes).
    pub taps: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Bias per output channel (zeros without one).
    pub bias: Vec<f64>,
}

/// The bias input when it is computed rather than constant. tract folds an
/// `Add` of a per-channel tensor into the convolution before it as its bias: a
/// residual connection at 1×1 spatial size (ResNet's last stage on a small
/// image), say.
pub(super) fn computed_bias(inputs: &[Value]) -> Option<&Value> {
    inputs.get(2).filter(|b| b.as_const().is_none())
}

/// The constant bias values to give [`LayerWeights`]: `None` when the layer has
/// no bias or a computed one.
pub(super) fn constant_bias<'a>(inputs: &[Value], values: &'a [f64]) -> Option<&'a [f64]> {
    inputs.get(2).filter(|b| b.as_const().is_some()).map(|_| values)
}

/// `out + bias[channel(i)]` for each output element `i`: a computed bias, one
/// element per output channel (or one for all).
pub(super) fn add_computed_bias(
    ctx: &mut Ctx<'_>,
    out: View,
    bias: &Value,
    out_channels: usize,
    channel: impl Fn(usize) -> usize,
) -> Result<View> {
    let bias = bias.to_view().map_err(|e| ctx.fail(e.to_string()))?;
    let per_channel = match bias.elems.len() {
        1 => false,
        n if n == out_channels => true,
        n => return Err(ctx.fail(format!("the computed bias has {n} values for {out_channels} output channels"))),
    };
    let rows = out
        .elems
        .iter()
        .enumerate()
        .map(|(i, &e)| {
            let b = bias.elems[if per_channel { channel(i) } else { 0 }];
            AffineRow { bias: 0.0, terms: vec![(e, 1.0), (b, 1.0)] }
        })
        .collect();
    let name = format!("{}.bias", ctx.name());
    Ok(ctx.g.affine(&name, "Add", out.shape, rows))
}

impl GroupedKernel {
    /// Reads `kernel` (in `format`) for `group` groups and the optional `bias`.
    pub fn new(
        ctx: &Ctx<'_>,
        format: &KernelFormat,
        kernel: &Tensor,
        bias: Option<&Value>,
        group: usize,
    ) -> Result<GroupedKernel> {
        let k = format.kernel_as_group_o_i_hw(kernel, group).map_err(|e| ctx.fail(format!("kernel: {e}")))?;
        let k_shape = k.shape().to_vec();
        let values = tensor_to_f64(&k).map_err(|e| ctx.fail(e.to_string()))?;
        let (o_per_g, i_per_g, taps) = (k_shape[1], k_shape[2], k_shape[3]);
        let out_channels = group * o_per_g;
        let bias: Vec<f64> = match bias.and_then(|b| b.as_const()) {
            None => vec![0.0; out_channels],
            Some(b) => {
                let b = tensor_to_f64(b).map_err(|e| ctx.fail(e.to_string()))?;
                match b.len() {
                    1 => vec![b[0]; out_channels],
                    n if n == out_channels => b,
                    n => return Err(ctx.fail(format!("bias has {n} values for {out_channels} output channels"))),
                }
            }
        };
        Ok(GroupedKernel { values, o_per_g, i_per_g, taps, out_channels, bias })
    }
}

impl Lowering for ConvLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<Conv>()
    }

    fn supports(&self, node: &TypedNode, const_inputs: &[bool]) -> std::result::Result<(), String> {
        let Some(conv) = node.op_as::<Conv>() else { return Err("not a Conv".into()) };
        if conv.q_params.is_some() {
            // QLinearConv and ConvInteger: x, kernel, bias, then x0, x_scale, k0,
            // k_scale, y0, y_scale.
            if !QLinear::constant_parameters(node, const_inputs, 1) {
                return Err("QLinearConv needs a constant kernel, bias, zero points and scales".into());
            }
            if const_inputs[0] {
                return Err("constant input".into());
            }
            return Ok(());
        }
        constant_weights(const_inputs, "the kernel must be constant (weights known at compile time)")
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let conv = ctx.node.op_as::<Conv>().ok_or_else(|| ctx.fail("not a Conv"))?.clone();
        let dynamic = match (&conv.q_params, inputs.get(3)) {
            (Some(_), Some(zero)) => dynamic_quant::dequantised_operand(ctx, &inputs[0], zero)?,
            _ => None,
        };
        let x = match &dynamic {
            Some((_, dequantised)) => dequantised.clone(),
            None => inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?,
        };
        let kernel = inputs[1].as_const().ok_or_else(|| ctx.fail("kernel is not constant"))?;
        let spec = &conv.pool_spec;
        let group = conv.group.max(1);
        let quantised = match conv.q_params {
            Some(_) => Some(QLinear::read(ctx, inputs, "QLinearConv", dynamic.is_some())?),
            None => None,
        };
        let name = ctx.name().to_string();
        let n = Namer { name: &name, origin: "QLinearConv" };
        let x = match &quantised {
            Some(q) => QLinear::centre(ctx.g, &n, "x_centred", x, q.x_zero),
            None => x,
        };
        let GroupedKernel { values: mut kvals, o_per_g, i_per_g, taps: n_k, out_channels, bias } =
            GroupedKernel::new(ctx, &conv.kernel_fmt, kernel, inputs.get(2), group)?;
        if let Some(q) = &quantised {
            // Integer weights `k − k0`: exact, no rescale.
            let per_channel = i_per_g * n_k;
            for (i, v) in kvals.iter_mut().enumerate() {
                *v -= q.per_channel(&q.k_zero, i / per_channel);
            }
        }
        let out_shape = ctx.out_shape();
        let Geometry { input, output, windows, out_spatial } =
            Geometry::new(spec, &x.shape, &out_shape).map_err(|e| ctx.fail(e))?;
        if input.c != group * i_per_g {
            return Err(ctx.fail(format!("input has {} channels, kernel expects {}", input.c, group * i_per_g)));
        }
        if windows.kernel.iter().product::<usize>() != n_k {
            return Err(ctx.fail("kernel size does not match the pooling spec"));
        }
        let mut rows = vec![WeightedRow::default(); out_shape.iter().product()];
        for n in 0..input.n {
            for g in 0..group {
                for o in 0..o_per_g {
                    let oc = g * o_per_g + o;
                    for (pos, taps) in windows.taps.iter().enumerate() {
                        let row = &mut rows[output.index(n, oc, out_spatial[pos])];
                        row.bias = Some(oc);
                        for i in 0..i_per_g {
                            let ic = g * i_per_g + i;
                            let wbase = (oc * i_per_g + i) * n_k;
                            for (tap, off) in taps.iter().enumerate() {
                                if let Some(off) = off {
                                    row.terms.push((x.elems[input.index(n, ic, *off)], wbase + tap));
                                }
                            }
                        }
                    }
                }
            }
        }
        let layer = LayerWeights { weights: &kvals, bias: constant_bias(inputs, &bias) };
        let channel = |row: usize| output.channel_of(row);
        let mut view =
            ctx.g.weighted((ctx.name(), "Conv"), out_shape, rows, layer, channel).map_err(|e| ctx.fail(e))?;
        if let Some(b) = computed_bias(inputs) {
            if quantised.is_some() || dynamic.is_some() {
                return Err(ctx.fail("a quantised convolution's bias must be constant"));
            }
            view = add_computed_bias(ctx, view, b, out_channels, channel)?;
        }
        if let Some((quantiser, _)) = dynamic {
            return Ok(vec![dynamic_quant::integer_product(quantiser, view)]);
        }
        let Some(q) = quantised else { return Ok(vec![Value::View(view)]) };
        if q.k_zero.len() > 1 && q.k_zero.len() != out_channels
            || q.k_scale.len() > 1 && q.k_scale.len() != out_channels
        {
            return Err(ctx.fail("per-channel zero points or scales do not match the output channels"));
        }
        Ok(vec![Value::View(q.requantise(ctx.g, &n, view, |row| output.channel_of(row)))])
    }
}
