//! `Deconv` (ONNX ConvTranspose: any spatial rank, strides, padding, dilations,
//! output padding, groups, bias) → affine rows.
//!
//! A transposed convolution scatters: input position `i` and kernel tap `k` add
//! `x[i] · w[k]` to output position `o = i·stride + k·dilation − pad_before` (per
//! spatial axis) when `0 ≤ o < out`. Gathered per output element, that is one
//! affine row `bias + Σ x · w` over the contributing (input, tap) pairs, like a
//! convolution's rows; output padding only lengthens the output (those positions
//! get taps where the geometry reaches them, and the bias).

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::cnn::Deconv;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{strides, Value};
use super::conv::{add_computed_bias, computed_bias, constant_bias, constant_weights, GroupedKernel};
use super::geometry::Layout;
use crate::error::Result;
use crate::fgraph::{LayerWeights, WeightedRow};

pub(crate) struct DeconvLowering;

impl Lowering for DeconvLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<Deconv>()
    }

    fn supports(&self, _node: &TypedNode, const_inputs: &[bool]) -> std::result::Result<(), String> {
        constant_weights(const_inputs, "the kernel of a transposed convolution must be constant")
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<Deconv>().ok_or_else(|| ctx.fail("not a Deconv"))?.clone();
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let kernel = inputs[1].as_const().ok_or_else(|| ctx.fail("kernel is not constant"))?;
        let spec = &op.pool_spec;
        let group = op.group.max(1);
        let GroupedKernel { values: kvals, o_per_g, i_per_g, taps: n_k, out_channels, bias } =
            GroupedKernel::new(ctx, &op.kernel_format, kernel, inputs.get(2), group)?;
        let out_shape = ctx.out_shape();
        let input = Layout::of(spec, &x.shape).map_err(|e| ctx.fail(e.to_string()))?;
        let output = Layout::of(spec, &out_shape).map_err(|e| ctx.fail(e.to_string()))?;
        if input.c != group * i_per_g || output.c != out_channels {
            return Err(ctx.fail(format!(
                "channels {} → {} do not match the kernel ({} → {out_channels} in {group} groups)",
                input.c,
                output.c,
                group * i_per_g
            )));
        }
        let kernel_hw: Vec<usize> = spec.kernel_shape.to_vec();
        if kernel_hw.iter().product::<usize>() != n_k {
            return Err(ctx.fail("kernel size does not match the pooling spec"));
        }
        let (stride, dilation) = (spec.strides(), spec.dilations());
        let padding = spec
            .padding
            .compute_for_deconv(&input.hw, &kernel_hw, &dilation, &stride, &op.adjustments)
            .map_err(|e| ctx.fail(format!("padding: {e}")))?;
        let deconvoluted: Vec<usize> = padding.iter().map(|p| p.deconvoluted).collect();
        if deconvoluted != output.hw {
            return Err(ctx.fail(format!(
                "transposed-convolution geometry gives {deconvoluted:?}, tract's output has {:?}",
                output.hw
            )));
        }
        let rank = input.hw.len();
        let (in_strides, k_strides) = (strides(&input.hw), strides(&kernel_hw));
        let out_offset = |d: usize, coord: usize| coord * output.hw_strides[d];
        // Every (input position, tap) pair that lands inside the output: the input's
        // and the output's spatial offsets, and the tap.
        let mut scatter: Vec<(usize, usize, usize)> = Vec::new();
        for p in 0..input.hw.iter().product::<usize>() {
            let in_off: usize = (0..rank).map(|d| ((p / in_strides[d]) % input.hw[d]) * input.hw_strides[d]).sum();
            'taps: for tap in 0..n_k {
                let mut off = 0;
                for d in 0..rank {
                    let (i, kk) = ((p / in_strides[d]) % input.hw[d], (tap / k_strides[d]) % kernel_hw[d]);
                    let o = (i * stride[d] + kk * dilation[d]) as isize - padding[d].pad_before as isize;
                    if o < 0 || o >= output.hw[d] as isize {
                        continue 'taps;
                    }
                    off += out_offset(d, o as usize);
                }
                scatter.push((in_off, off, tap));
            }
        }
        let mut rows = vec![WeightedRow::default(); out_shape.iter().product()];
        for n in 0..input.n {
            for oc in 0..out_channels {
                for off in output.spatial_offsets() {
                    rows[output.index(n, oc, off)].bias = Some(oc);
                }
            }
            for g in 0..group {
                for o in 0..o_per_g {
                    let oc = g * o_per_g + o;
                    for i in 0..i_per_g {
                        let ic = g * i_per_g + i;
                        let wbase = (oc * i_per_g + i) * n_k;
                        for &(in_off, out_off, tap) in &scatter {
                            rows[output.index(n, oc, out_off)]
                                .terms
                                .push((x.elems[input.index(n, ic, in_off)], wbase + tap));
                        }
                    }
                }
            }
        }
        let layer = LayerWeights { weights: &kvals, bias: constant_bias(inputs, &bias) };
        let channel = |row: usize| output.channel_of(row);
        let mut view =
            ctx.g.weighted((ctx.name(), "Deconv"), out_shape, rows, layer, channel).map_err(|e| ctx.fail(e))?;
        if let Some(b) = computed_bias(inputs) {
            view = add_computed_bias(ctx, view, b, out_channels, channel)?;
        }
        Ok(vec![Value::View(view)])
    }
}
