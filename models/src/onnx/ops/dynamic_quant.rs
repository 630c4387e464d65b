//! Dynamic 8-bit quantisation as onnxruntime's `quantize_dynamic` writes it:
//! `DynamicQuantizeLinear(x) → (q, s, z)`, then `MatMulInteger(q, W, z, W0)` or
//! `ConvInteger(q, K, z, K0)`, a `Cast` to float and a `Mul` by `s · W_scale`.
//!
//! The scale `s = (max(0, max x) − min(0, min x)) / 255` is computed, and tiny:
//! as a fixed-point value it would lose most of its digits, and the integer
//! accumulator it multiplies is large. So neither is formed. The lowering
//! carries `q` with its dequantised value `(q − z)·s` (the "fake-quantised" `x`),
//! the integer products as a factor times `s^−1`, and the scale as `1 · s^1`
//! ([`DynamicForm`]); the final `Mul` cancels the powers and leaves a plain
//! affine map over the dequantised values, whose weights are the dequantised
//! kernel (composed at compile time, so they keep their precision).
//!
//! The quantisation itself is proven, not assumed. With `R = max(hi − lo, 2^-6)`
//! (`2^-6` keeps an all-zero tensor off a division by zero):
//! - `z = round(−255·lo / R)`, and per element `t = 255·x / R` (exact divisions,
//!   [`crate::fgraph::FOp::Div`]) and `r = round(t)` ([`math::nearest`]);
//! - `u = clamp(r, −z, 255 − z)`, so `q = u + z = clamp(round(x/s) + z, 0, 255)`;
//! - `(q − z)·s = u·R/255 = x + (u − t)·R/255`: one product of the small
//!   `u − t ∈ [−1, 1]` by `R`, so no value grows beyond `x`'s own range.
//!
//! Rounding is half up where onnxruntime rounds half to even: on ties (and where
//! the fixed-point `t` and the float one straddle a half) `q` may differ by one.

use tract_onnx::prelude::*;

use super::super::lower::{Ctx, Lowering};
use super::super::value::{Dynamic, DynamicForm, Value};
use super::math::{self, Namer};
use crate::error::Result;
use crate::fgraph::{AffineRow, Elem, FGraph, View};
use crate::ir::ReduceKind;

/// tract's name of the quantiser (ONNX `DynamicQuantizeLinear`).
const OP: &str = "DynamicQuantizeLinearU8";

/// The smallest range the scale is computed from (see the module docs).
const MIN_RANGE: f64 = 1.0 / 64.0;

pub(crate) struct DynamicQuantLowering;

impl Lowering for DynamicQuantLowering {
    fn handles(&self, node: &TypedNode) -> bool {
        node.op.name() == OP
    }

    fn lower(&self, ctx: &mut Ctx<'_>, inputs: &[Value]) -> Result<Vec<Value>> {
        let x = inputs[0].to_view().map_err(|e| ctx.fail(e.to_string()))?;
        let name = ctx.name().to_string();
        let n = Namer { name: &name, origin: "DynamicQuantizeLinear" };
        let (quantiser, q, dequantised, range, zero) = quantise(ctx.g, &n, &x).map_err(|e| ctx.fail(e))?;
        let scale = math::scaled(ctx.g, &n, "scale", &[range], 1.0 / 255.0, 0.0);
        let scalar = |v: View| View { shape: Vec::new(), elems: v.elems };
        let dynamic = |form| Value::Dynamic(Dynamic { quantiser, form });
        Ok(vec![
            dynamic(DynamicForm::Quantised { q, dequantised }),
            dynamic(DynamicForm::Scaled {
                factor: View { shape: Vec::new(), elems: vec![Elem::Const(1.0)] },
                power: 1,
                plain: Some(scalar(scale)),
            }),
            dynamic(DynamicForm::ZeroPoint(View { shape: Vec::new(), elems: vec![zero] })),
        ])
    }
}

/// The quantiser's circuit: its id, `q`, `(q − z)·s`, the range `R` and `z`.
fn quantise(g: &mut FGraph, n: &Namer<'_>, x: &View) -> std::result::Result<(u32, View, View, Elem, Elem), String> {
    let one = vec![1];
    let with_zero = |kind: ReduceKind, g: &mut FGraph, suffix: &str| {
        let set = x.elems.iter().copied().chain([Elem::Const(0.0)]).collect();
        g.reduce(&n.at(suffix), n.origin, kind, one.clone(), vec![set]).elems[0]
    };
    let lo = with_zero(ReduceKind::Min, g, "min");
    let hi = with_zero(ReduceKind::Max, g, "max");
    let spread = g.affine(
        &n.at("spread"),
        n.origin,
        one.clone(),
        vec![AffineRow { bias: 0.0, terms: vec![(hi, 1.0), (lo, -1.0)] }],
    );
    let range = math::clamp(g, n, "range", ReduceKind::Max, &spread.elems, MIN_RANGE).elems[0];
    let Elem::Ref(id) = range else {
        return Err("the quantised tensor is constant".into());
    };
    // z = round(−255·lo / R)
    let z_num = math::scaled(g, n, "zero_numerator", &[lo], -255.0, 0.0);
    let z_frac = divide_by(g, n, "zero_exact", &z_num.elems, range)?;
    let (zero, _) = math::nearest(g, &Namer { name: &n.at("zero"), origin: n.origin }, &z_frac.elems);
    let zero = zero.elems[0];
    // t = 255·x / R, r = round(t), u = clamp(r, −z, 255 − z)
    let len = vec![x.len()];
    let t_num = math::scaled(g, n, "numerator", &x.elems, 255.0, 0.0);
    let t = divide_by(g, n, "exact", &t_num.elems, range)?;
    let (r, _) = math::nearest(g, &Namer { name: &n.at("round"), origin: n.origin }, &t.elems);
    let low = math::scaled(g, n, "low", &[zero], -1.0, 0.0).elems[0];
    let high = math::scaled(g, n, "high", &[zero], -1.0, 255.0).elems[0];
    let u = math::clamp_to(g, n, "at_least_low", ReduceKind::Max, &r.elems, low);
    let u = math::clamp_to(g, n, "centred", ReduceKind::Min, &u.elems, high);
    // q = u + z; (q − z)·s = x + (u − t)·R/255
    let q_rows = u.elems.iter().map(|&e| AffineRow { bias: 0.0, terms: vec![(e, 1.0), (zero, 1.0)] }).collect();
    let q = g.affine(&n.at("quantised"), n.origin, len.clone(), q_rows);
    let d_rows = u.elems.iter().zip(&t.elems).map(|(&u, &t)| AffineRow { bias: 0.0, terms: vec![(u, 1.0), (t, -1.0)] });
    let d = g.affine(&n.at("residual"), n.origin, len.clone(), d_rows.collect());
    let pairs = d.elems.iter().map(|&e| (e, range)).collect();
    let e = g.multiply(&n.at("residual_scaled"), n.origin, len.clone(), pairs);
    let deq_rows =
        x.elems.iter().zip(&e.elems).map(|(&x, &e)| AffineRow { bias: 0.0, terms: vec![(x, 1.0), (e, 1.0 / 255.0)] });
    let dequantised = g.affine(&n.at("dequantised"), n.origin, len, deq_rows.collect());
    let shaped = |v: View| View { shape: x.shape.clone(), elems: v.elems };
    Ok((id.node, shaped(q), shaped(dequantised), range, zero))
}

/// `v_i / d` for a computed, positive `d`.
fn divide_by(g: &mut FGraph, n: &Namer<'_>, suffix: &str, v: &[Elem], d: Elem) -> std::result::Result<View, String> {
    let pairs = v.iter().map(|&e| (e, d)).collect();
    g.divide(&n.at(suffix), n.origin, vec![v.len()], pairs)
        .ok_or_else(|| "a constant element cannot be divided by the computed range".to_string())
}

/// The dequantised operand of an integer matrix product or convolution
/// (MatMulInteger, ConvInteger): `x` must be a quantiser's `q` and `zero` that
/// quantiser's zero point. `None` when `x` is not dynamically quantised.
pub(crate) fn dequantised_operand(ctx: &Ctx<'_>, x: &Value, zero: &Value) -> Result<Option<(u32, View)>> {
    let Value::Dynamic(Dynamic { quantiser, form: DynamicForm::Quantised { dequantised, .. } }) = x else {
        return Ok(None);
    };
    match zero {
        Value::Dynamic(Dynamic { quantiser: z, form: DynamicForm::ZeroPoint(_) }) if z == quantiser => {
            Ok(Some((*quantiser, dequantised.clone())))
        }
        _ => {
            Err(ctx
                .fail("an integer product of DynamicQuantizeLinear's output must use that quantiser's own zero point"))
        }
    }
}

/// The result of an integer product of dequantised values: `Σ (q − z)(k − k0)`
/// is `view · s^−1`.
pub(crate) fn integer_product(quantiser: u32, view: View) -> Value {
    Value::Dynamic(Dynamic { quantiser, form: DynamicForm::Scaled { factor: view, power: -1, plain: None } })
}

/// `Mul` where an operand carries a power of a quantiser's scale: powers add,
/// factors multiply, and a power of zero is a plain tensor. `None` when neither
/// operand does (or they come from different quantisers: then plain views).
pub(crate) fn multiply(ctx: &mut Ctx<'_>, a: &Value, b: &Value) -> Result<Option<Value>> {
    // (quantiser, factor, power, plain value) of an operand.
    type Operand = (Option<u32>, View, i32, Option<View>);
    let operand = |ctx: &Ctx<'_>, v: &Value| -> Result<Option<Operand>> {
        Ok(match v {
            Value::Dynamic(Dynamic { quantiser, form: DynamicForm::Scaled { factor, power, plain } }) => {
                Some((Some(*quantiser), factor.clone(), *power, plain.clone()))
            }
            Value::Dynamic(_) => None,
            _ => {
                let view = v.to_view().map_err(|e| ctx.fail(e.to_string()))?;
                Some((None, view.clone(), 0, Some(view)))
            }
        })
    };
    let (Some((qa, fa, pa, plain_a)), Some((qb, fb, pb, plain_b))) = (operand(ctx, a)?, operand(ctx, b)?) else {
        return Ok(None);
    };
    let quantiser = match (qa, qb) {
        (None, None) => return Ok(None),
        (Some(x), Some(y)) if x != y => return Ok(None),
        (x, y) => x.or(y).unwrap_or_default(),
    };
    let name = ctx.name().to_string();
    let product = |ctx: &mut Ctx<'_>, suffix: &str, x: &View, y: &View| -> Result<View> {
        let (shape, pairs) = super::super::value::broadcast_pairs(x, y)
            .ok_or_else(|| ctx.fail(format!("shapes {:?} and {:?} do not broadcast", x.shape, y.shape)))?;
        Ok(ctx.g.multiply(&format!("{name}{suffix}"), "Mul", shape, pairs))
    };
    let factor = product(ctx, "", &fa, &fb)?;
    let power = pa + pb;
    if power == 0 {
        return Ok(Some(Value::View(factor)));
    }
    // The plain value only where one side is a constant (the scale times the
    // kernel's scale, say): a product of two rounded fixed-point values would
    // only mislead.
    let constant = |v: &View| v.elems.iter().all(|e| matches!(e, Elem::Const(_)));
    let plain = match (plain_a, plain_b) {
        (Some(x), Some(y)) if constant(&x) || constant(&y) => Some(product(ctx, ".plain", &x, &y)?),
        _ => None,
    };
    Ok(Some(Value::Dynamic(Dynamic { quantiser, form: DynamicForm::Scaled { factor, power, plain } })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arith::quantize;
    use crate::eval::evaluate;
    use crate::quantize::quantize_graph;

    /// The examples of ONNX's DynamicQuantizeLinear specification: `q` and `z`
    /// exactly, and the dequantised values within a unit of `(q − z)·s`.
    #[test]
    fn quantiser_matches_the_onnx_examples_exactly() {
        let examples: [(&[f64], &[i128], i128); 3] = [
            (&[0., 2., -3., -2.5, 1.34, 0.5], &[153, 255, 0, 26, 221, 179], 153),
            (&[-1., -2.1, -1.3, -2.5, -3.34, -4.], &[191, 121, 172, 96, 42, 0], 255),
            (
                &[1., 2.1, 1.3, 2.5, 3.34, 4., 1.5, 2.6, 3.9, 4., 3., 2.345],
                &[64, 134, 83, 159, 213, 255, 96, 166, 249, 255, 191, 149],
                0,
            ),
        ];
        for (x, want_q, want_z) in examples {
            let mut g = FGraph::default();
            let input = g.add_input("x", vec![x.len()]);
            let n = Namer { name: "dql", origin: "DynamicQuantizeLinear" };
            let (_, q, dequantised, range, zero) = quantise(&mut g, &n, &input).expect("quantiser");
            g.outputs = vec![
                q,
                dequantised,
                View { shape: vec![1], elems: vec![zero] },
                View { shape: vec![1], elems: vec![range] },
            ];
            for scale in [10, 12, 16] {
                let graph = quantize_graph(&g, scale).expect("quantises");
                let qin: Vec<i64> = x.iter().map(|v| quantize(*v, scale).expect("fits")).collect();
                let out = evaluate(&graph, &[qin]).expect("evaluates").outputs(&graph);
                let unit = (1i128 << scale) as f64;
                let len = x.len();
                let q: Vec<i128> = out[..len].iter().map(|v| v / (1 << scale)).collect();
                assert_eq!(&q, want_q, "q at scale {scale}");
                assert!(out[..len].iter().all(|v| v % (1 << scale) == 0), "q is whole at scale {scale}");
                assert_eq!(out[2 * len], want_z << scale, "zero point at scale {scale}");
                let s = out[2 * len + 1] as f64 / unit / 255.0;
                for i in 0..len {
                    let want = (want_q[i] - want_z) as f64 * s;
                    let got = out[len + i] as f64 / unit;
                    assert!((got - want).abs() <= 2.0 / unit, "dequantised {i} at scale {scale}: {got} vs {want}");
                }
            }
        }
    }
}
