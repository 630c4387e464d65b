//! `GridSample` over two spatial axes (spatial transformers, optical-flow
//! warps), in `bilinear` and `nearest` modes with `zeros` and `border` padding.
//!
//! Each output pixel `p` reads the input at the pixel coordinates its grid
//! entry denormalises to (`x` from the grid's first component along the
//! width, `y` from the second along the height). Along each axis of length
//! `s` the read is a set of weights `w_{p,j}`, `j` in `0..s`:
//! - bilinear: `lo = floor(c)`, `f = c − lo`, and `w_j = [lo = j] + f·([lo = j − 1] − [lo = j])`
//!   (the two neighbours' tent weights; a neighbour outside the axis simply
//!   has no `j`, which is zero padding);
//! - nearest: `w_j = [round(c) = j]`, ties to even as tract and ONNX do.
//!
//! Every `[· = j]` is one exact `IsZero` lookup of an integer, and the output
//! is `Σ_i w^y_{p,i} · Σ_j w^x_{p,j} · X[i, j]`: the rows, then the column,
//! as sums of products. Border padding clamps `c` into `[0, s − 1]` first;
//! zero padding clamps it into `[−1, s]`, which changes no weight inside the
//! axis and keeps the comparisons few. The cost grows with the input's area
//! per output pixel, so this suits the small feature maps spatial
//! transformers warp.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::nn::grid_sample::{GridSample, InterpolationMode, PaddingMode};

use super::super::lower::{Ctx, Lowering};
use super::super::value::Value;
use super::math::{self, clamp, product, scaled, Namer, Rounding};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem, FGraph};
use crate::func::Func;
use crate::ir::ReduceKind;

pub(crate) struct GridSampleLowering;

impl Lowering for GridSampleLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op_is::<GridSample>()
    }

    fn supports(&self, node: &TypedNode, _const_inputs: &[bool]) -> std::result::Result<(), String> {
        let op = node.op_as::<GridSample>().ok_or("not a GridSample")?;
        if op.mode == InterpolationMode::Bicubic {
            return Err("GridSample in bicubic mode (bilinear and nearest are supported)".into());
        }
        if op.padding_mode == PaddingMode::Reflection {
            return Err("GridSample with reflection padding (zeros and border are supported)".into());
        }
        match node.outputs.first().map(|o| o.fact.rank()) {
            Some(4) => Ok(()),
            Some(rank) => Err(format!("GridSample over {} spatial axes (two are supported)", rank.saturating_sub(2))),
            None => Err("GridSample without an output".into()),
        }
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let op = ctx.node.op_as::<GridSample>().ok_or_else(|| ctx.fail("not a GridSample"))?.clone();
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let grid = inputs[1].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let (&[batch, channels, height, width], &[grid_batch, out_h, out_w, 2]) =
            (x.shape.as_slice(), grid.shape.as_slice())
        else {
            return Err(ctx.fail(format!(
                "GridSample over {:?} by a grid {:?}: only two spatial axes are supported",
                x.shape, grid.shape
            )));
        };
        if grid_batch != batch {
            return Err(ctx.fail(format!("a grid of batch {grid_batch} for an input of batch {batch}")));
        }
        let name = ctx.name().to_string();
        let origin = ctx.op_name();
        let n = Namer { name: &name, origin: &origin };
        let gx: Vec<Elem> = grid.elems.iter().step_by(2).copied().collect();
        let gy: Vec<Elem> = grid.elems.iter().skip(1).step_by(2).copied().collect();
        let wx = axis_weights(ctx.g, &Namer { name: &n.at("x"), origin: &origin }, &gx, width, &op);
        let wy = axis_weights(ctx.g, &Namer { name: &n.at("y"), origin: &origin }, &gy, height, &op);
        let pixels = out_h * out_w;
        // Σ_j w^x_{p,j}·X[b, c, i, j] for every row i, then Σ_i w^y_{p,i} of those.
        let at = |b: usize, c: usize, i: usize, j: usize| x.elems[((b * channels + c) * height + i) * width + j];
        let mut row_sums = Vec::with_capacity(batch * channels * pixels * height);
        for b in 0..batch {
            for c in 0..channels {
                for p in 0..pixels {
                    let q = b * pixels + p;
                    for i in 0..height {
                        row_sums.push((0..width).map(|j| (wx[q][j], at(b, c, i, j))).collect());
                    }
                }
            }
        }
        let rows = ctx.g.dot_products(&n.at("rows"), &origin, vec![row_sums.len()], row_sums);
        let mut sums = Vec::with_capacity(batch * channels * pixels);
        for b in 0..batch {
            for c in 0..channels {
                for p in 0..pixels {
                    let q = b * pixels + p;
                    let first = ((b * channels + c) * pixels + p) * height;
                    sums.push((0..height).map(|i| (wy[q][i], rows.elems[first + i])).collect());
                }
            }
        }
        let y = ctx.g.dot_products(&name, &origin, vec![batch, channels, out_h, out_w], sums);
        Ok(vec![Value::View(y)])
    }
}

/// The weights `w_{p,j}` (`j` in `0..size`) with which each output pixel reads
/// one axis, from the normalised grid coordinates (see the module notes).
fn axis_weights(g: &mut FGraph, n: &Namer<'_>, coords: &[Elem], size: usize, op: &GridSample) -> Vec<Vec<Elem>> {
    let s = size as f64;
    // align_corners: (c + 1)/2·(s − 1); otherwise ((c + 1)·s − 1)/2.
    let slope = if op.align_corners { (s - 1.0) / 2.0 } else { s / 2.0 };
    let pixel = scaled(g, n, "pixel", coords, slope, (s - 1.0) / 2.0);
    let (lo, hi) = if op.padding_mode == PaddingMode::Border { (0.0, s - 1.0) } else { (-1.0, s) };
    let low = clamp(g, n, "clamp_low", ReduceKind::Max, &pixel.elems, lo);
    let c = clamp(g, n, "clamp_high", ReduceKind::Min, &low.elems, hi).elems;
    let count = coords.len();
    // The candidate positions a pixel's base index is compared with.
    let first: i64 = if op.mode == InterpolationMode::Bilinear { -1 } else { 0 };
    let candidates: Vec<i64> = (first..size as i64).collect();
    let base = match op.mode {
        InterpolationMode::Nearest => math::rounding(g, n, Rounding::HalfToEven, vec![count], &c).elems,
        _ => math::rounding(g, n, Rounding::Floor, vec![count], &c).elems,
    };
    let offsets = base
        .iter()
        .flat_map(|&e| candidates.iter().map(move |&j| AffineRow { bias: -(j as f64), terms: vec![(e, 1.0)] }))
        .collect();
    let len = vec![count * candidates.len()];
    let offsets = g.affine(&n.at("offset"), n.origin, len.clone(), offsets);
    let hits = g.map(&n.at("hit"), n.origin, Func::IsZero, len, &offsets.elems).elems;
    let per = candidates.len();
    let hit = |p: usize, j: i64| hits[p * per + (j - first) as usize];
    if op.mode == InterpolationMode::Nearest {
        return (0..count).map(|p| (0..size as i64).map(|j| hit(p, j)).collect()).collect();
    }
    // Bilinear: w_j = [lo = j] + f·([lo = j − 1] − [lo = j]), f = c − lo.
    let frac: Vec<AffineRow> =
        c.iter().zip(&base).map(|(&x, &b)| AffineRow { bias: 0.0, terms: vec![(x, 1.0), (b, -1.0)] }).collect();
    let frac = g.affine(&n.at("frac"), n.origin, vec![count], frac).elems;
    let steps = (0..count)
        .flat_map(|p| (0..size as i64).map(move |j| (p, j)))
        .map(|(p, j)| AffineRow { bias: 0.0, terms: vec![(hit(p, j - 1), 1.0), (hit(p, j), -1.0)] })
        .collect();
    let steps = g.affine(&n.at("step"), n.origin, vec![count * size], steps).elems;
    let spread: Vec<Elem> = (0..count).flat_map(|p| std::iter::repeat_n(frac[p], size)).collect();
    let moved = product(g, n, "moved", &spread, &steps).elems;
    let weights = (0..count)
        .flat_map(|p| (0..size).map(move |j| (p, j)))
        .map(|(p, j)| AffineRow { bias: 0.0, terms: vec![(hit(p, j as i64), 1.0), (moved[p * size + j], 1.0)] })
        .collect();
    let weights = g.affine(&n.at("weight"), n.origin, vec![count * size], weights).elems;
    weights.chunks(size).map(<[Elem]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(mode: InterpolationMode, padding_mode: PaddingMode, align_corners: bool) -> GridSample {
        GridSample { mode, padding_mode, align_corners }
    }

    /// The weights for constant coordinates (everything folds).
    fn weights(c: f64, size: usize, op: &GridSample) -> Vec<f64> {
        let mut g = FGraph::default();
        let n = Namer { name: "w", origin: "GridSample" };
        let w = axis_weights(&mut g, &n, &[Elem::Const(c)], size, op);
        let values = g.evaluate(&[]);
        w[0].iter()
            .map(|e| match e {
                Elem::Const(v) => *v,
                Elem::Ref(r) => values[r.node as usize][r.index as usize],
            })
            .collect()
    }

    #[test]
    fn bilinear_weights_are_tents_and_vanish_outside() {
        let bilinear = op(InterpolationMode::Bilinear, PaddingMode::Zeros, true);
        // align_corners: −1 → 0, 1 → s − 1; 0.25 over 5 is pixel 2.5.
        assert_eq!(weights(0.25, 5, &bilinear), vec![0.0, 0.0, 0.5, 0.5, 0.0]);
        assert_eq!(weights(-1.0, 4, &bilinear), vec![1.0, 0.0, 0.0, 0.0]);
        // Far outside with zero padding: nothing is read.
        assert_eq!(weights(-3.0, 4, &bilinear), vec![0.0; 4]);
        // Half a pixel outside (not aligned, pixel −0.5): half of the edge.
        let half = op(InterpolationMode::Bilinear, PaddingMode::Zeros, false);
        assert_eq!(weights(-1.0, 4, &half), vec![0.5, 0.0, 0.0, 0.0]);
        // Border padding clamps to the edge instead.
        let border = op(InterpolationMode::Bilinear, PaddingMode::Border, false);
        assert_eq!(weights(-3.0, 4, &border), vec![1.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn nearest_picks_one_position_ties_to_even() {
        let nearest = op(InterpolationMode::Nearest, PaddingMode::Zeros, true);
        // Pixel 1.5 over 4 (align: (0 + 1)/2·3): ties to 2.
        assert_eq!(weights(0.0, 4, &nearest), vec![0.0, 0.0, 1.0, 0.0]);
        assert_eq!(weights(5.0, 4, &nearest), vec![0.0; 4], "outside reads zero");
    }
}
