//! Element-wise functions built from several proven steps: logarithms (with
//! Softplus and LogSoftmax recognised in tract's expansions), periodic functions,
//! reciprocals, square roots, constant powers and piecewise-linear activations.
//!
//! - `ln x` ([`wide_log`]): a lookup of [`Func::Log`] for `x ≤ 16`, and
//!   `4 · ln(x^(1/4))` (two exact square roots, then the same table) above, up
//!   to `16^4 = 65536`, picked by one exact comparison. Three patterns tract
//!   produces are recognised first: `ln(1 + e^x)` (ONNX Softplus, and Mish's
//!   inner softplus) becomes `max(x, 0) + SoftplusTail(x)`, exact up to the
//!   lookup's rounding at any `x`; `ln(softmax(x))` (ONNX LogSoftmax) becomes
//!   `x − max − ln Σ e^(x − max)` with one logarithm per softmax group; and
//!   `ln Σ e^(x_j)` (ONNX ReduceLogSumExp) becomes `max + ln Σ e^(x_j − max)`,
//!   which no exponential overflows.
//! - `sin x`, `cos x`: the argument reduced modulo `2π` into `[-π, π]`
//!   ([`FGraph::wrap`]), then one lookup over `±4`.
//! - `1 / x`: a division `round(2^2s / max(x, 1 unit))`; when `x` is not known to
//!   be non-negative, `sign(x) · 1/|x|` (so `1/0` is `0` where ONNX gives `±inf`).
//! - `sqrt x`, `x^-1/2`: the exact integer square root of `max(x, 0)` (and its
//!   reciprocal); `x^e` for a constant `e`: products for integer `e`, times a
//!   square root for half-integers, a reciprocal for negative ones, and
//!   `exp(e · ln x)` otherwise.
//! - LeakyRelu `max(x, αx)` (`min` for `α > 1`), HardSwish
//!   `x · min(max(x/6 + 1/2, 0), 1)`, SiLU `x · sigmoid(x)` and GELU (exact and
//!   tanh forms) by arithmetic around their lookups.

use std::convert::Infallible;

use crate::fgraph::{AffineRow, Elem, FGraph, FOp, View};
use crate::func::{Func, LOG_DOMAIN};
use crate::ir::{ReduceKind, Ref};

/// Names the steps of one operator: `name.suffix`, all with the same origin.
pub(crate) struct Namer<'a> {
    /// Node name.
    pub name: &'a str,
    /// Operator name.
    pub origin: &'a str,
}

impl Namer<'_> {
    pub(crate) fn at(&self, suffix: &str) -> String {
        if suffix.is_empty() {
            self.name.to_string()
        } else {
            format!("{}.{suffix}", self.name)
        }
    }
}

/// `bias + w · x` for each element.
pub(crate) fn scaled(g: &mut FGraph, n: &Namer<'_>, suffix: &str, x: &[Elem], w: f64, bias: f64) -> View {
    let rows = x.iter().map(|&e| AffineRow { bias, terms: vec![(e, w)] }).collect();
    g.affine(&n.at(suffix), n.origin, vec![x.len()], rows)
}

/// `max(x, k)` (or `min`) for each element.
pub(crate) fn clamp(g: &mut FGraph, n: &Namer<'_>, suffix: &str, kind: ReduceKind, x: &[Elem], k: f64) -> View {
    clamp_to(g, n, suffix, kind, x, Elem::Const(k))
}

/// `max(x, bound)` (or `min`) for each element, the bound a constant or computed.
pub(crate) fn clamp_to(g: &mut FGraph, n: &Namer<'_>, suffix: &str, kind: ReduceKind, x: &[Elem], bound: Elem) -> View {
    let sets = x.iter().map(|&e| vec![e, bound]).collect();
    g.reduce(&n.at(suffix), n.origin, kind, vec![x.len()], sets)
}

/// Elementwise products of two lists.
pub(crate) fn product(g: &mut FGraph, n: &Namer<'_>, suffix: &str, a: &[Elem], b: &[Elem]) -> View {
    let pairs = a.iter().copied().zip(b.iter().copied()).collect();
    g.multiply(&n.at(suffix), n.origin, vec![a.len()], pairs)
}

/// `sign(x)` (a table lookup) and `|x| = max(x, −x)` of each element.
pub(crate) fn sign_and_abs(g: &mut FGraph, n: &Namer<'_>, x: &[Elem]) -> (View, View) {
    let len = vec![x.len()];
    let sign = g.map(&n.at("sign"), n.origin, Func::Sign, len.clone(), x);
    let neg = scaled(g, n, "neg", x, -1.0, 0.0);
    let sets = x.iter().zip(&neg.elems).map(|(&p, &m)| vec![p, m]).collect();
    (sign, g.reduce(&n.at("abs"), n.origin, ReduceKind::Max, len, sets))
}

/// `max(x, 0)`.
pub(crate) fn relu(g: &mut FGraph, n: &Namer<'_>, suffix: &str, x: &[Elem]) -> View {
    clamp(g, n, suffix, ReduceKind::Max, x, 0.0)
}

/// The argument of `ln(1 + e^x)`: `x` when `e` is `1 + exp(x)`.
fn softplus_argument(g: &FGraph, e: Elem) -> Option<Elem> {
    let Elem::Ref(r) = e else { return None };
    let FOp::Linear(l) = &g.nodes[r.node as usize].op else { return None };
    let i = r.index as usize;
    let [(t, w)] = l.terms.row(i) else { return None };
    if l.bias[i] != 1.0 || *w != 1.0 {
        return None;
    }
    match &g.nodes[t.node as usize].op {
        FOp::Map { func: Func::Exp, src } => Some(Elem::Ref(src[t.index as usize])),
        _ => None,
    }
}

/// A softmax output's parts: the shifted input `x − max`, the group's sum of
/// exponentials, and how many terms (at most 1 each) that sum has.
fn softmax_parts(g: &FGraph, e: Elem) -> Option<(Elem, Ref, f64)> {
    let Elem::Ref(r) = e else { return None };
    let node = &g.nodes[r.node as usize];
    let FOp::Div { a, b } = &node.op else { return None };
    if node.origin != "Softmax" {
        return None;
    }
    let (num, sum) = (a[r.index as usize], b[r.index as usize]);
    let FOp::Map { func: Func::Exp | Func::ExpNeg, src } = &g.nodes[num.node as usize].op else { return None };
    let FOp::Linear(l) = &g.nodes[sum.node as usize].op else { return None };
    let row = l.terms.row(sum.index as usize);
    if !row.iter().all(|&(_, w)| w == 1.0) || !row.iter().any(|&(t, _)| t == num) {
        return None;
    }
    Some((Elem::Ref(src[num.index as usize]), sum, row.len() as f64 + l.bias[sum.index as usize].max(0.0)))
}

/// `ln S` for sums of exponentials `S ∈ [1, terms]`: `2^j · ln(S^(1/2^j))` with
/// `j` square roots, the fewest that bring `terms` into the Log table's domain.
/// Returns the logarithms' elements and, per element, the factor `2^j`.
fn log_of_sums(g: &mut FGraph, n: &Namer<'_>, sums: &[(Elem, f64)]) -> (Vec<Elem>, Vec<f64>) {
    let mut roots: Vec<Elem> = sums.iter().map(|&(r, _)| r).collect();
    let mut factors = vec![1.0; sums.len()];
    let mut bound: Vec<f64> = sums.iter().map(|&(_, t)| t).collect();
    for step in 0.. {
        let todo: Vec<usize> = (0..sums.len()).filter(|&i| bound[i] > LOG_DOMAIN).collect();
        if todo.is_empty() {
            break;
        }
        let x: Vec<Elem> = todo.iter().map(|&i| roots[i]).collect();
        let r = g.sqrt(&n.at(&format!("sum_root{step}")), n.origin, vec![x.len()], &x);
        for (k, &i) in todo.iter().enumerate() {
            roots[i] = r.elems[k];
            factors[i] *= 2.0;
            bound[i] = bound[i].sqrt();
        }
    }
    let logs = g.map(&n.at("log_sum"), n.origin, Func::Log, vec![roots.len()], &roots);
    (logs.elems, factors)
}

/// The exponents `x_j` when `e` is `Σ_j e^(x_j)` over two or more terms: how
/// tract expands ONNX ReduceLogSumExp (Exp, a sum, then Ln).
fn log_sum_exp_arguments(g: &FGraph, e: Elem) -> Option<Vec<Elem>> {
    let Elem::Ref(r) = e else { return None };
    let FOp::Linear(l) = &g.nodes[r.node as usize].op else { return None };
    let i = r.index as usize;
    let row = l.terms.row(i);
    if l.bias[i] != 0.0 || row.len() < 2 || !row.iter().all(|&(_, w)| w == 1.0) {
        return None;
    }
    row.iter()
        .map(|&(t, _)| match &g.nodes[t.node as usize].op {
            FOp::Map { func: Func::Exp, src } => Some(Elem::Ref(src[t.index as usize])),
            _ => None,
        })
        .collect()
}

/// `max + ln Σ_j e^(x_j − max)` for each group of exponents: every exponential
/// is at most 1 and each sum lies in `[1, terms]`, so nothing saturates.
fn log_sum_exp(g: &mut FGraph, n: &Namer<'_>, groups: &[Vec<Elem>]) -> Vec<Elem> {
    let maxes = g.reduce(&n.at("lse_max"), n.origin, ReduceKind::Max, vec![groups.len()], groups.to_vec());
    let rows: Vec<AffineRow> = groups
        .iter()
        .zip(&maxes.elems)
        .flat_map(|(group, &m)| group.iter().map(move |&x| AffineRow { bias: 0.0, terms: vec![(x, 1.0), (m, -1.0)] }))
        .collect();
    let shifted = g.affine(&n.at("lse_shifted"), n.origin, vec![rows.len()], rows);
    let exps = g.map(&n.at("lse_exp"), n.origin, Func::ExpNeg, vec![shifted.elems.len()], &shifted.elems);
    let mut next = exps.elems.iter();
    let rows = groups
        .iter()
        .map(|group| AffineRow { bias: 0.0, terms: next.by_ref().take(group.len()).map(|&e| (e, 1.0)).collect() })
        .collect();
    let sums = g.affine(&n.at("lse_sum"), n.origin, vec![groups.len()], rows);
    let bounded: Vec<(Elem, f64)> = sums.elems.iter().zip(groups).map(|(&s, group)| (s, group.len() as f64)).collect();
    let (logs, factors) = log_of_sums(g, n, &bounded);
    let rows = maxes
        .elems
        .iter()
        .zip(logs.iter().zip(&factors))
        .map(|(&m, (&l, &f))| AffineRow { bias: 0.0, terms: vec![(m, 1.0), (l, f)] })
        .collect();
    g.affine(&n.at("log_sum_exp"), n.origin, vec![groups.len()], rows).elems
}

/// Inputs above this take [`wide_log`]'s second branch: the Log table's top.
const WIDE_LOG_SPLIT: f64 = LOG_DOMAIN;

/// `ln x` over `(0, 16^4]`: [`Func::Log`]'s table up to 16, and
/// `4 · ln(√√x)` above (the roots are exact integer square roots, and `√√x`
/// lies in `(2, 16]` there), picked by one exact comparison with 16. Beyond
/// `16^4` it reads `ln 65536`.
pub(crate) fn wide_log(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem]) -> View {
    let len = vec![x.len()];
    let near = g.map(&n.at("near"), n.origin, Func::Log, len.clone(), x);
    let root = g.sqrt(&n.at("root2"), n.origin, len.clone(), x);
    let root = g.sqrt(&n.at("root4"), n.origin, len.clone(), &root.elems);
    let far = g.map(&n.at("far"), n.origin, Func::Log, len, &root.elems);
    View { shape, elems: beyond(g, n, x, WIDE_LOG_SPLIT, &near.elems, (&far.elems, 4.0)) }
}

/// `ln x` for each element, recognising Softplus, LogSoftmax and
/// ReduceLogSumExp (see the module notes).
pub(crate) fn log(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem]) -> View {
    enum Kind {
        Plain,
        Softplus(Elem),
        LogSoftmax(Elem, usize),
        LogSumExp(Vec<Elem>),
    }
    let mut sums: Vec<(Elem, f64)> = Vec::new();
    let kinds: Vec<Kind> = x
        .iter()
        .map(|&e| {
            if let Some(arg) = softplus_argument(g, e) {
                Kind::Softplus(arg)
            } else if let Some(args) = log_sum_exp_arguments(g, e) {
                Kind::LogSumExp(args)
            } else if let Some((shifted, sum, terms)) = softmax_parts(g, e) {
                let k = sums.iter().position(|s| s.0 == Elem::Ref(sum)).unwrap_or_else(|| {
                    sums.push((Elem::Ref(sum), terms));
                    sums.len() - 1
                });
                Kind::LogSoftmax(shifted, k)
            } else {
                Kind::Plain
            }
        })
        .collect();
    let pick = |f: &dyn Fn(usize, &Kind) -> Option<Elem>| -> (Vec<usize>, Vec<Elem>) {
        kinds.iter().enumerate().filter_map(|(i, k)| f(i, k).map(|e| (i, e))).unzip()
    };
    let (plain_at, plain) = pick(&|i, k| matches!(k, Kind::Plain).then_some(x[i]));
    let (soft_at, soft) = pick(&|_, k| if let Kind::Softplus(a) = k { Some(*a) } else { None });
    let (lsm_at, lsm) = pick(&|_, k| if let Kind::LogSoftmax(s, _) = k { Some(*s) } else { None });
    let (lse_at, groups): (Vec<usize>, Vec<Vec<Elem>>) = kinds
        .iter()
        .enumerate()
        .filter_map(|(i, k)| if let Kind::LogSumExp(args) = k { Some((i, args.clone())) } else { None })
        .unzip();
    let mut out = vec![Elem::Const(0.0); x.len()];
    if !plain.is_empty() {
        let v = wide_log(g, n, vec![plain.len()], &plain);
        for (i, e) in plain_at.into_iter().zip(v.elems) {
            out[i] = e;
        }
    }
    if !groups.is_empty() {
        for (i, e) in lse_at.into_iter().zip(log_sum_exp(g, n, &groups)) {
            out[i] = e;
        }
    }
    if !soft.is_empty() {
        let v = softplus(g, &Namer { name: &n.at("softplus"), origin: n.origin }, &soft);
        for (i, e) in soft_at.into_iter().zip(v.elems) {
            out[i] = e;
        }
    }
    if !lsm.is_empty() {
        let (logs, factors) = log_of_sums(g, n, &sums);
        let rows = lsm_at
            .iter()
            .zip(&lsm)
            .map(|(&i, &s)| {
                let Kind::LogSoftmax(_, k) = kinds[i] else { unreachable!("picked log-softmax elements") };
                AffineRow { bias: 0.0, terms: vec![(s, 1.0), (logs[k], -factors[k])] }
            })
            .collect();
        let v = g.affine(&n.at("log_softmax"), n.origin, vec![lsm.len()], rows);
        for (i, e) in lsm_at.into_iter().zip(v.elems) {
            out[i] = e;
        }
    }
    View { shape, elems: out }
}

/// `x − max − ln Σ e^(x − max)` per softmax group, from the shifted inputs, the
/// sums of exponentials (one per group, `group_of` maps elements to groups) and
/// the group sizes.
pub(crate) fn log_softmax(
    g: &mut FGraph,
    n: &Namer<'_>,
    shape: Vec<usize>,
    shifted: &[Elem],
    sums: &View,
    group_of: &[usize],
    group_size: usize,
) -> View {
    let refs: Vec<(Elem, f64)> = sums.elems.iter().map(|&e| (e, group_size as f64)).collect();
    let (logs, factors) = log_of_sums(g, n, &refs);
    let rows = shifted
        .iter()
        .zip(group_of)
        .map(|(&s, &k)| AffineRow { bias: 0.0, terms: vec![(s, 1.0), (logs[k], -factors[k])] })
        .collect();
    g.affine(&n.at(""), n.origin, shape, rows)
}

/// `softplus(x) = max(x, 0) + ln(1 + e^-|x|)`.
pub(crate) fn softplus(g: &mut FGraph, n: &Namer<'_>, x: &[Elem]) -> View {
    let r = relu(g, n, "relu", x);
    let t = g.map(&n.at("tail"), n.origin, Func::SoftplusTail, vec![x.len()], x);
    let rows = r.elems.iter().zip(&t.elems).map(|(&a, &b)| AffineRow { bias: 0.0, terms: vec![(a, 1.0), (b, 1.0)] });
    g.affine(&n.at(""), n.origin, vec![x.len()], rows.collect())
}

/// `sin x` or `cos x`: reduced modulo `2π`, then looked up.
pub(crate) fn periodic(g: &mut FGraph, n: &Namer<'_>, func: Func, shape: Vec<usize>, x: &[Elem]) -> View {
    let r = g.wrap(&n.at("wrap"), n.origin, std::f64::consts::TAU, shape.clone(), x);
    g.map(&n.at(""), n.origin, func, shape, &r.elems)
}

/// `tan x`: the argument reduced modulo `π` into `[-π/2, π/2]`, then a table
/// that saturates at `±TAN_EDGE` ([`crate::func::Func::Tan`]).
pub(crate) fn tan(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem]) -> View {
    let r = g.wrap(&n.at("wrap"), n.origin, std::f64::consts::PI, shape.clone(), x);
    g.map(&n.at(""), n.origin, Func::Tan, shape, &r.elems)
}

/// `atan x = sign(x) · (T(min(|x|, 1)) − T(1 / max(|x|, 1)) + π/4)` with `T` the
/// table over `[-1, 1]`: for `|x| ≤ 1` the second lookup reads `T(1) = π/4`,
/// for `|x| > 1` the first does, leaving `π/2 − atan(1/|x|)`.
pub(crate) fn atan(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem]) -> View {
    let len = vec![x.len()];
    let (sign, abs) = sign_and_abs(g, n, x);
    let small = clamp(g, n, "small", ReduceKind::Min, &abs.elems, 1.0);
    let big = clamp(g, n, "big", ReduceKind::Max, &abs.elems, 1.0);
    let inv = g.recip(&n.at("inv"), n.origin, len.clone(), &big.elems);
    let near = g.map(&n.at("atan_small"), n.origin, Func::Atan, len.clone(), &small.elems);
    let far = g.map(&n.at("atan_inv"), n.origin, Func::Atan, len.clone(), &inv.elems);
    let rows = near
        .elems
        .iter()
        .zip(&far.elems)
        .map(|(&a, &b)| AffineRow { bias: std::f64::consts::FRAC_PI_4, terms: vec![(a, 1.0), (b, -1.0)] })
        .collect();
    let magnitude = g.affine(&n.at("magnitude"), n.origin, len, rows);
    View { shape, elems: product(g, n, "", &sign.elems, &magnitude.elems).elems }
}

/// `acos x = π/2 − asin x`.
pub(crate) fn acos(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem]) -> View {
    let a = g.map(&n.at("asin"), n.origin, Func::Asin, vec![x.len()], x);
    let rows = a.elems.iter().map(|&e| AffineRow { bias: std::f64::consts::FRAC_PI_2, terms: vec![(e, -1.0)] });
    g.affine(&n.at(""), n.origin, shape, rows.collect())
}

/// Inputs beyond this take the logarithmic form of [`inverse_hyperbolic`]: the
/// edge of the Asinh and Acosh tables.
const INVERSE_HYPERBOLIC_SPLIT: f64 = crate::func::DOMAIN;

/// `asinh x` (`odd`) or `acosh x`: the function's table up to `|x| = 8`, and
/// beyond it `sign(x) · ln(|x| + √(x² ± 1))` through [`wide_log`] (well
/// conditioned there), picked by one exact comparison.
pub(crate) fn inverse_hyperbolic(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem], odd: bool) -> View {
    let len = vec![x.len()];
    let func = if odd { Func::Asinh } else { Func::Acosh };
    let near = g.map(&n.at("near"), n.origin, func, len.clone(), x);
    let (sign, abs): (Option<Vec<Elem>>, Vec<Elem>) = if odd {
        let (sign, abs) = sign_and_abs(g, n, x);
        (Some(sign.elems), abs.elems)
    } else {
        (None, x.to_vec())
    };
    let square = product(g, n, "square", &abs, &abs);
    let shifted = scaled(g, n, "square_shifted", &square.elems, 1.0, if odd { 1.0 } else { -1.0 });
    let root = sqrt(g, &Namer { name: &n.at("root"), origin: n.origin }, len.clone(), &shifted.elems);
    let rows = abs.iter().zip(&root.elems).map(|(&a, &r)| AffineRow { bias: 0.0, terms: vec![(a, 1.0), (r, 1.0)] });
    let argument = g.affine(&n.at("argument"), n.origin, len.clone(), rows.collect());
    let log = wide_log(g, &Namer { name: &n.at("log"), origin: n.origin }, len.clone(), &argument.elems);
    let far = match sign {
        Some(sign) => product(g, n, "signed", &sign, &log.elems).elems,
        None => log.elems,
    };
    View { shape, elems: beyond(g, n, &abs, INVERSE_HYPERBOLIC_SPLIT, &near.elems, (&far, 1.0)) }
}

/// `near` where `x ≤ split` and `weight · far` where `x > split`, element by
/// element: `near + [x > split] · (weight·far − near)`, one exact comparison
/// and one product each.
fn beyond(g: &mut FGraph, n: &Namer<'_>, x: &[Elem], split: f64, near: &[Elem], far: (&[Elem], f64)) -> Vec<Elem> {
    let len = vec![x.len()];
    let above = scaled(g, n, "above", x, 1.0, -split);
    let is_far = g.map(&n.at("is_far"), n.origin, Func::Positive, len.clone(), &above.elems);
    let (far, weight) = far;
    let rows = near.iter().zip(far).map(|(&a, &b)| AffineRow { bias: 0.0, terms: vec![(b, weight), (a, -1.0)] });
    let step = g.affine(&n.at("step"), n.origin, len.clone(), rows.collect());
    let picked = product(g, n, "picked", &is_far.elems, &step.elems);
    let rows = near.iter().zip(&picked.elems).map(|(&a, &b)| AffineRow { bias: 0.0, terms: vec![(a, 1.0), (b, 1.0)] });
    g.affine(&n.at(""), n.origin, len, rows.collect()).elems
}

/// `sinh x = (e^x − e^-x) / 2` (`odd`) or `cosh x = (e^x + e^-x) / 2`, from the
/// exponential's table (which saturates at `±DOMAIN`, as Exp does).
pub(crate) fn hyperbolic(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem], odd: bool) -> View {
    let len = vec![x.len()];
    let neg = scaled(g, n, "neg", x, -1.0, 0.0);
    let up = g.map(&n.at("exp"), n.origin, Func::Exp, len.clone(), x);
    let down = g.map(&n.at("exp_neg"), n.origin, Func::Exp, len, &neg.elems);
    let sign = if odd { -0.5 } else { 0.5 };
    let rows =
        up.elems.iter().zip(&down.elems).map(|(&u, &d)| AffineRow { bias: 0.0, terms: vec![(u, 0.5), (d, sign)] });
    g.affine(&n.at(""), n.origin, shape, rows.collect())
}

/// `trunc x = sign(x) · floor(|x|)` (a cast of a float to an integer type).
pub(crate) fn truncate(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem]) -> View {
    let len = vec![x.len()];
    let (sign, abs) = sign_and_abs(g, n, x);
    let whole = rounding(g, &Namer { name: &n.at("floor"), origin: n.origin }, Rounding::Floor, len, &abs.elems);
    View { shape, elems: product(g, n, "", &sign.elems, &whole.elems).elems }
}

/// `x_i / d_i` for constant divisors: one affine row each.
pub(crate) fn quotient_rows(x: &[Elem], divisors: &[f64]) -> Vec<AffineRow> {
    x.iter().zip(divisors).map(|(&x, &d)| AffineRow { bias: 0.0, terms: vec![(x, 1.0 / d)] }).collect()
}

/// ONNX's integer division by constants (truncating towards zero). By a power
/// of two `2^k`, `trunc(x · 2^-k)`, exact (the factor is exact at any scale
/// from `k` up). By another divisor `d`, the remainder `r` (exact,
/// [`super::remainder::fmod`]) makes `x − r` a multiple of `d`, and the
/// quotient `(x − r)/d` is rounded to that integer: exact while the product's
/// rounding error, `|x − r| · 2^-(s+1)` at scale `s`, stays below one half.
pub(crate) fn integer_division(
    g: &mut FGraph,
    n: &Namer<'_>,
    shape: Vec<usize>,
    x: &[Elem],
    divisors: &[f64],
) -> Result<View, String> {
    let len = vec![x.len()];
    let Some(&first) = divisors.first() else { return Ok(View { shape, elems: vec![] }) };
    if divisors.iter().any(|&d| d.fract() != 0.0) {
        return Err("an integer division by a fractional divisor".into());
    }
    let power_of_two = divisors.iter().all(|&d| d.abs() == first.abs() && d.abs().log2().fract() == 0.0);
    if power_of_two {
        let q = g.affine(&n.at("quotient"), n.origin, len.clone(), quotient_rows(x, divisors));
        return Ok(truncate(g, n, shape, &q.elems));
    }
    if divisors.iter().any(|&d| d != first) {
        let elems = by_distinct_constant(g, n, x, divisors, |g, n, part, d| {
            integer_division(g, n, vec![part.len()], part, &vec![d; part.len()]).map(|v| v.elems)
        })?;
        return Ok(View { shape, elems });
    }
    let r = super::remainder::fmod(g, &Namer { name: &n.at("remainder"), origin: n.origin }, len.clone(), x, first);
    let rows = x
        .iter()
        .zip(&r.elems)
        .zip(divisors)
        .map(|((&x, &r), &d)| AffineRow { bias: 0.0, terms: vec![(x, 1.0 / d), (r, -1.0 / d)] });
    let q = g.affine(&n.at("quotient"), n.origin, len, rows.collect());
    let (whole, _) = nearest(g, n, &q.elems);
    Ok(View { shape, elems: whole.elems })
}

/// Which integer a value rounds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rounding {
    /// Towards −∞.
    Floor,
    /// Towards +∞.
    Ceil,
    /// To the nearest integer, ties to even (ONNX Round).
    HalfToEven,
}

/// The nearest integer `r = x − w` (ties half up) and the rounding remainder
/// `w = x − r ∈ [−½, ½)`, exact in integer arithmetic ([`FGraph::wrap`]).
pub(crate) fn nearest(g: &mut FGraph, n: &Namer<'_>, x: &[Elem]) -> (View, View) {
    let len = vec![x.len()];
    let w = g.wrap(&n.at("frac"), n.origin, 1.0, len.clone(), x);
    let r_rows = x.iter().zip(&w.elems).map(|(&x, &w)| AffineRow { bias: 0.0, terms: vec![(x, 1.0), (w, -1.0)] });
    (g.affine(&n.at("nearest"), n.origin, len, r_rows.collect()), w)
}

/// Floor, Ceil and Round (ties to even) from the rounding remainder
/// `w = x − round_half_up(x) ∈ [−½, ½)` (a [`FGraph::wrap`] of period 1, exact in
/// integer arithmetic) and `r = x − w`:
/// - `floor(x) = r − [w < 0]`, `ceil(x) = r + [w > 0]` (exact comparisons);
/// - ties (`w = −½`) round half up to `r`; to even, an odd `r` must be `r − 1`.
///   `v = wrap(r, 2)` is `0` for even `r` and `−1` for odd, so the result is
///   `r + [w = −½]·v`.
pub(crate) fn rounding(g: &mut FGraph, n: &Namer<'_>, kind: Rounding, shape: Vec<usize>, x: &[Elem]) -> View {
    let len = vec![x.len()];
    let (r, w) = nearest(g, n, x);
    let (correction, weight) = match kind {
        Rounding::Floor => {
            let neg = scaled(g, n, "neg_frac", &w.elems, -1.0, 0.0);
            (g.map(&n.at("below"), n.origin, Func::Positive, len.clone(), &neg.elems), -1.0)
        }
        Rounding::Ceil => (g.map(&n.at("above"), n.origin, Func::Positive, len.clone(), &w.elems), 1.0),
        Rounding::HalfToEven => {
            let shifted = scaled(g, n, "tie_offset", &w.elems, 1.0, 0.5);
            let tie = g.map(&n.at("tie"), n.origin, Func::IsZero, len.clone(), &shifted.elems);
            let parity = g.wrap(&n.at("parity"), n.origin, 2.0, len.clone(), &r.elems);
            (product(g, n, "to_even", &tie.elems, &parity.elems), 1.0)
        }
    };
    let rows = r
        .elems
        .iter()
        .zip(&correction.elems)
        .map(|(&r, &c)| AffineRow { bias: 0.0, terms: vec![(r, 1.0), (c, weight)] });
    let mut out = g.affine(&n.at(""), n.origin, len, rows.collect());
    out.shape = shape;
    out
}

/// `1 / x`: directly when every element is known to be non-negative (clamped
/// to at least one unit), else `sign(x) · 1/|x|`.
pub(crate) fn reciprocal(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem]) -> View {
    if x.iter().all(|&e| g.nonnegative(e)) {
        return g.recip(&n.at(""), n.origin, shape, x);
    }
    let len = vec![x.len()];
    let (sign, abs) = sign_and_abs(g, n, x);
    let inv = g.recip(&n.at("recip"), n.origin, len, &abs.elems);
    let mut v = product(g, n, "", &sign.elems, &inv.elems);
    v.shape = shape;
    v
}

/// `sqrt(max(x, 0))` (the clamp only where `x` may be negative).
pub(crate) fn sqrt(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem]) -> View {
    if x.iter().all(|&e| g.nonnegative(e)) {
        return g.sqrt(&n.at(""), n.origin, shape, x);
    }
    let m = relu(g, n, "clamp", x);
    g.sqrt(&n.at(""), n.origin, shape, &m.elems)
}

/// `x^k` for an integer `k ≥ 1`, by squaring and multiplying.
fn int_power(g: &mut FGraph, n: &Namer<'_>, x: &[Elem], k: u32) -> Vec<Elem> {
    if k == 1 {
        return x.to_vec();
    }
    let half = int_power(g, n, x, k / 2);
    let sq = product(g, n, &format!("pow{}", k / 2 * 2), &half, &half).elems;
    if k % 2 == 1 {
        product(g, n, &format!("pow{k}"), &sq, x).elems
    } else {
        sq
    }
}

/// Largest integer exponent computed by products (beyond it, `exp(e · ln x)`).
const MAX_INT_EXPONENT: f64 = 16.0;

/// `x^e` for a constant exponent (see the module notes).
pub(crate) fn pow_const(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem], e: f64) -> View {
    let len = x.len();
    let twice = 2.0 * e;
    if e == 0.0 {
        return View { shape, elems: vec![Elem::Const(1.0); len] };
    }
    if twice.fract() == 0.0 && e.abs() <= MAX_INT_EXPONENT {
        let k = e.abs().floor() as u32;
        let half = e.fract() != 0.0;
        let root = half.then(|| sqrt(g, &Namer { name: &n.at("sqrt"), origin: n.origin }, vec![len], x).elems);
        let power = (k > 0).then(|| int_power(g, n, x, k));
        let magnitude: Vec<Elem> = match (power, root) {
            (Some(p), Some(r)) => product(g, n, "times_root", &p, &r).elems,
            (Some(p), None) => p,
            (None, Some(r)) => r,
            (None, None) => unreachable!("e is not 0"),
        };
        if e > 0.0 {
            return View { shape, elems: magnitude };
        }
        return reciprocal(g, &Namer { name: &n.at(""), origin: n.origin }, shape, &magnitude);
    }
    let l = wide_log(g, &Namer { name: &n.at("log"), origin: n.origin }, vec![len], x);
    let t = scaled(g, n, "times_exponent", &l.elems, e, 0.0);
    g.map(&n.at(""), n.origin, Func::Exp, shape, &t.elems)
}

/// `x_i^(e_i)` for constant exponents that differ between elements: one
/// [`pow_const`] per distinct exponent, so that integer exponents of negative
/// bases stay exact products.
fn pow_consts(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem], exponents: &[f64]) -> View {
    let Ok(elems) = by_distinct_constant(g, n, x, exponents, |g, n, part, e| {
        Ok::<_, Infallible>(pow_const(g, n, vec![part.len()], part, e).elems)
    });
    View { shape, elems }
}

/// `f` applied once per distinct constant of `constants` (one per element of
/// `x`), to the elements that share it, the results put back in order: an
/// operation by constants that differ per element (exponents, divisors) as a
/// few operations by one constant each. With one constant, `f` gets `n` as it
/// is, so a uniform operation is named as before.
pub(crate) fn by_distinct_constant<E>(
    g: &mut FGraph,
    n: &Namer<'_>,
    x: &[Elem],
    constants: &[f64],
    mut f: impl FnMut(&mut FGraph, &Namer<'_>, &[Elem], f64) -> Result<Vec<Elem>, E>,
) -> Result<Vec<Elem>, E> {
    let mut distinct: Vec<f64> = Vec::new();
    for &c in constants {
        if !distinct.iter().any(|d| d.to_bits() == c.to_bits()) {
            distinct.push(c);
        }
    }
    if let [c] = distinct[..] {
        return f(g, n, x, c);
    }
    let mut out = vec![Elem::Const(0.0); x.len()];
    for (k, &c) in distinct.iter().enumerate() {
        let at: Vec<usize> = (0..x.len()).filter(|&i| constants[i].to_bits() == c.to_bits()).collect();
        let part: Vec<Elem> = at.iter().map(|&i| x[i]).collect();
        let name = n.at(&format!("by{k}"));
        let values = f(g, &Namer { name: &name, origin: n.origin }, &part, c)?;
        for (i, e) in at.into_iter().zip(values) {
            out[i] = e;
        }
    }
    Ok(out)
}

/// `x^y` element by element for a computed exponent: `exp(y · ln x)`. The base
/// must be positive: a constant greater than 0, or a tensor the graph proves
/// non-negative (after Relu, Exp, Sigmoid, Softmax, a square, …; an input of 0
/// reads the logarithm's floor, so `0^y ≈ 0` for `y > 0`). A negative base is
/// refused: `(−2)^3` is defined, but not through a logarithm. When every
/// exponent is one constant this is [`pow_const`].
pub(crate) fn pow(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, pairs: &[(Elem, Elem)]) -> Result<View, String> {
    let x: Vec<Elem> = pairs.iter().map(|p| p.0).collect();
    let exponents: Option<Vec<f64>> =
        pairs.iter().map(|p| if let Elem::Const(e) = p.1 { Some(e) } else { None }).collect();
    if let Some(exponents) = exponents {
        return Ok(pow_consts(g, n, shape, &x, &exponents));
    }
    if let Some(bad) = x.iter().find(|&&b| !matches!(b, Elem::Const(c) if c > 0.0) && !g.nonnegative(b)) {
        return Err(match bad {
            Elem::Const(c) => format!("Pow of the constant base {c} by a computed exponent is not supported (a base must be positive)"),
            Elem::Ref(_) => "Pow of a base that may be negative by a computed exponent is not supported (zkinfer proves x^y as exp(y·ln x): the base must be provably non-negative, e.g. after Relu, Exp or Softmax)".into(),
        });
    }
    // ln of each computed base (one table lookup each); constants fold.
    let computed: Vec<Elem> = x.iter().copied().filter(|e| matches!(e, Elem::Ref(_))).collect();
    let logs = log(g, &Namer { name: &n.at("ln"), origin: n.origin }, vec![computed.len()], &computed).elems;
    let mut next = logs.into_iter();
    let ln_base: Vec<Elem> = x
        .iter()
        .map(|&b| match b {
            Elem::Const(c) => Elem::Const(c.ln()),
            Elem::Ref(_) => next.next().unwrap_or(Elem::Const(0.0)),
        })
        .collect();
    let len = vec![x.len()];
    let exponent_pairs = ln_base.into_iter().zip(pairs.iter().map(|p| p.1)).collect();
    let t = g.multiply(&n.at("times_exponent"), n.origin, len, exponent_pairs);
    Ok(g.map(&n.at(""), n.origin, Func::Exp, shape, &t.elems))
}

/// LeakyRelu: `max(x, αx)` for `0 ≤ α ≤ 1`, `min(x, αx)` for `α > 1`, and
/// `max(x, 0) + α·min(x, 0)` for `α < 0`.
pub(crate) fn leaky_relu(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem], alpha: f64) -> View {
    let len = vec![x.len()];
    let mut v = if (0.0..=1.0).contains(&alpha) || alpha > 1.0 {
        let ax = scaled(g, n, "alpha", x, alpha, 0.0);
        let kind = if alpha <= 1.0 { ReduceKind::Max } else { ReduceKind::Min };
        let sets = x.iter().zip(&ax.elems).map(|(&p, &q)| vec![p, q]).collect();
        g.reduce(&n.at(""), n.origin, kind, len, sets)
    } else {
        let pos = relu(g, n, "pos", x);
        let neg = clamp(g, n, "neg", ReduceKind::Min, x, 0.0);
        let rows = pos
            .elems
            .iter()
            .zip(&neg.elems)
            .map(|(&p, &q)| AffineRow { bias: 0.0, terms: vec![(p, 1.0), (q, alpha)] })
            .collect();
        g.affine(&n.at(""), n.origin, len, rows)
    };
    v.shape = shape;
    v
}

/// HardSwish: `x · min(max(x/6 + 1/2, 0), 1)`.
pub(crate) fn hard_swish(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem]) -> View {
    let h = scaled(g, n, "affine", x, 1.0 / 6.0, 0.5);
    let h = clamp(g, n, "low", ReduceKind::Max, &h.elems, 0.0);
    let h = clamp(g, n, "high", ReduceKind::Min, &h.elems, 1.0);
    let mut v = product(g, n, "", x, &h.elems);
    v.shape = shape;
    v
}

/// SiLU: `x · sigmoid(x)`.
pub(crate) fn silu(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem]) -> View {
    let s = g.map(&n.at("sigmoid"), n.origin, Func::Sigmoid, vec![x.len()], x);
    let mut v = product(g, n, "", x, &s.elems);
    v.shape = shape;
    v
}

/// GELU: `x · (1 + erf(x/√2)) / 2`, or with `tanh_power` (2 or 3) tract's tanh
/// approximation `x · (1 + tanh(√(2/π) · (x + 0.044715 · x^N))) / 2`.
pub(crate) fn gelu(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem], tanh_power: Option<u32>) -> View {
    let len = vec![x.len()];
    let inner = match tanh_power {
        None => {
            let s = scaled(g, n, "scale", x, std::f64::consts::FRAC_1_SQRT_2, 0.0);
            g.map(&n.at("erf"), n.origin, Func::Erf, len, &s.elems)
        }
        Some(p) => {
            let c = (2.0 / std::f64::consts::PI).sqrt();
            let xp = int_power(g, n, x, p);
            let rows = x
                .iter()
                .zip(&xp)
                .map(|(&a, &b)| AffineRow { bias: 0.0, terms: vec![(a, c), (b, c * 0.044715)] })
                .collect();
            let s = g.affine(&n.at("inner"), n.origin, len.clone(), rows);
            g.map(&n.at("tanh"), n.origin, Func::Tanh, len, &s.elems)
        }
    };
    let phi = scaled(g, n, "phi", &inner.elems, 0.5, 0.5);
    let mut v = product(g, n, "", x, &phi.elems);
    v.shape = shape;
    v
}
