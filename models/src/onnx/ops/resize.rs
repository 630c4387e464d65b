//! `Resize` with constant scales or sizes, in every mode but
//! `tf_crop_and_resize`: nearest (any scale, every `nearest_mode`), linear and
//! cubic (any coefficient, `exclude_outside`, antialiasing), with every plain
//! coordinate transform. A resize is separable and linear in its input, so each
//! resized axis becomes one affine map whose weights are tract's resampling plan
//! (`plan_axis`, with tract's kernels): the circuit computes what tract
//! interpolates, up to quantisation. Nearest plans are weight-1 copies, which cost
//! nothing. tract keeps the clean subset in its core op and the rest in its ONNX
//! op; both are handled here.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::nn::resize::{
    cubic_weights, linear_weights, plan_axis, window_size, AxisPlan, Interpolator, Resize,
};
use tract_onnx_opl::resize::{AspectRatio, CoordTransform, Nearest, Resize as OnnxResize};

use super::super::lower::{Ctx, Lowering};
use super::super::value::{tensor_to_f64, Value};
use crate::error::Result;
use crate::fgraph::{AffineRow, View};

pub(crate) struct ResizeLowering;

impl Lowering for ResizeLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<Resize>() || node.op_is::<OnnxResize>()
    }

    fn supports(&self, node: &TypedNode, const_inputs: &[bool]) -> std::result::Result<(), String> {
        if let Some(op) = node.op_as::<OnnxResize>() {
            if op.coord_transformer == CoordTransform::TfCropAndResize {
                return Err("Resize in tf_crop_and_resize mode is not supported yet".into());
            }
            if op.keep_aspect_ratio_policy != AspectRatio::Stretch {
                return Err("Resize with a keep_aspect_ratio_policy other than stretch is not supported yet".into());
            }
        }
        if const_inputs.iter().skip(1).all(|c| *c) {
            Ok(())
        } else {
            Err("Resize with computed scales or sizes is not supported (they must be constants)".into())
        }
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = match (ctx.node.op_as::<Resize>(), ctx.node.op_as::<OnnxResize>()) {
            (Some(core), _) => Planner::Core(core.clone()),
            (None, Some(onnx)) => Planner::Onnx(onnx.clone()),
            _ => return Err(ctx.fail("not a Resize")),
        };
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let out_shape = ctx.out_shape();
        if out_shape.len() != x.shape.len() {
            return Err(ctx.fail("the output's rank differs from the input's"));
        }
        // tract's scales: the constant scales input when it has one per axis,
        // otherwise output over input length.
        let rank = x.shape.len();
        let axes = op.axes(rank).map_err(|e| ctx.fail(e.to_string()))?;
        let given: Option<Vec<f64>> = op
            .scales_input()
            .and_then(|ix| inputs.get(ix))
            .and_then(|v| v.as_const())
            .and_then(|t| tensor_to_f64(t).ok())
            .filter(|s| s.len() == axes.len());
        let mut scales: Vec<f32> = out_shape.iter().zip(&x.shape).map(|(o, i)| *o as f32 / *i as f32).collect();
        if let Some(given) = given {
            for (&axis, s) in axes.iter().zip(given) {
                scales[axis] = s as f32;
            }
        }
        let mut current = x;
        for (axis, &scale) in scales.iter().enumerate() {
            let (len_in, len_out) = (current.shape[axis], out_shape[axis]);
            if len_in == len_out && scale == 1.0 {
                continue;
            }
            if len_in == 0 {
                return Err(ctx.fail(format!("axis {axis} is empty")));
            }
            let plan = op.plan(scale, len_in, len_out);
            let inner: usize = current.shape[axis + 1..].iter().product();
            let outer: usize = current.shape[..axis].iter().product();
            let mut rows = Vec::with_capacity(outer * len_out * inner);
            for o in 0..outer {
                for xo in 0..len_out {
                    let taps = plan.indices[xo * plan.window..][..plan.window]
                        .iter()
                        .zip(&plan.weights[xo * plan.window..][..plan.window])
                        .filter(|(_, w)| **w != 0.0);
                    let taps: Vec<(usize, f64)> = taps.map(|(i, w)| (*i, f64::from(*w))).collect();
                    for i in 0..inner {
                        let terms = if plan.extrapolated[xo] {
                            Vec::new()
                        } else {
                            taps.iter().map(|&(xi, w)| (current.elems[(o * len_in + xi) * inner + i], w)).collect()
                        };
                        rows.push(AffineRow { bias: 0.0, terms });
                    }
                }
            }
            let mut shape = current.shape.clone();
            shape[axis] = len_out;
            let name = format!("{}.axis{axis}", ctx.name());
            current = ctx.g.affine(&name, "Resize", shape, rows);
        }
        Ok(vec![Value::View(View { shape: out_shape, elems: current.elems })])
    }
}

/// Where a resize's resampling plans come from: tract's core op, or its ONNX op
/// (the modes core leaves out), whose plan is rebuilt here from tract's public
/// kernels exactly as the op builds it.
enum Planner {
    Core(Resize),
    Onnx(OnnxResize),
}

impl Planner {
    /// The input holding the scales, if any.
    fn scales_input(&self) -> Option<usize> {
        match self {
            Planner::Core(op) => op.optional_scales_input,
            Planner::Onnx(op) => op.optional_scales_input,
        }
    }

    /// The axes the scales and sizes describe.
    fn axes(&self, rank: usize) -> TractResult<TVec<usize>> {
        match self {
            Planner::Core(_) => Ok((0..rank).collect()),
            Planner::Onnx(op) => op.resized_axes(rank),
        }
    }

    /// The resampling plan of one axis.
    fn plan(&self, scale: f32, len_in: usize, len_out: usize) -> AxisPlan {
        let op = match self {
            Planner::Core(op) => return op.plan_axis(scale, len_in, len_out),
            Planner::Onnx(op) => op,
        };
        let window = window_size(&op.interpolator, op.antialias, scale);
        let transform = match &op.coord_transformer {
            CoordTransform::Plain(t) => t.clone(),
            // Refused in `supports`.
            CoordTransform::TfCropAndResize => return plan_axis(len_in, len_out, window, false, |_| None, |_, _| ()),
        };
        let coord = |x| Some(transform.transform(x, scale, len_in, len_out));
        let (exclude, antialias, a) = (op.exclude_outside, op.antialias, op.cubic_coeff_a());
        match op.interpolator {
            Interpolator::Linear => {
                plan_axis(len_in, len_out, window, exclude, coord, |r, w| linear_weights(r, scale, antialias, w))
            }
            Interpolator::Cubic => {
                plan_axis(len_in, len_out, window, exclude, coord, |r, w| cubic_weights(r, scale, a, antialias, w))
            }
            Interpolator::Nearest => plan_axis(len_in, len_out, window, exclude, coord, |r, w| {
                let right = r == 1.0
                    || match op.nearest {
                        Nearest::Floor => false,
                        Nearest::Ceil => true,
                        Nearest::RoundPreferFloor => r > 0.5,
                        Nearest::RoundPreferCeil => r >= 0.5,
                    };
                w[0] = f32::from(u8::from(!right));
                w[1] = f32::from(u8::from(right));
            }),
        }
    }
}
