//! Remainders (ONNX Mod with `fmod = 1`, tract's Rem; integer Mod reaches it
//! too, through tract's expansion): by a constant, by exact integer arithmetic
//! around it; by a computed divisor, by an exact division and a one-step
//! correction. Both take the dividend's sign, as C's `fmod`. Integer division
//! by a computed divisor builds on the remainder.

use super::math::{product, rounding, scaled, sign_and_abs, Namer, Rounding};
use crate::fgraph::{AffineRow, Elem, FGraph, View};
use crate::func::Func;

/// `fmod(x, c)` for a constant `c ≠ 0` (C's remainder, ONNX Mod with `fmod = 1`
/// and tract's Rem: the sign of the dividend). With `d = |c|`: `r = x − d·round(x/d)`
/// by exact integer arithmetic ([`crate::fgraph::FOp::Wrap`]), `m = r + d·[r < 0]`
/// in `[0, d)`, then [`with_dividend_sign`].
pub(crate) fn fmod(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem], c: f64) -> View {
    let d = c.abs();
    let len = vec![x.len()];
    let r = g.wrap(&n.at("wrap"), n.origin, d, len, x);
    let d = vec![Elem::Const(d); x.len()];
    let m = floor_remainder(g, n, &r.elems, &d);
    with_dividend_sign(g, n, shape, x, &m.elems, &d)
}

/// `fmod(x, y)` for a computed divisor `y` (the same remainder as [`fmod`]).
/// With `d = |y|`: the fixed-point quotient `q = x/d` (an exact, rounded
/// division), `k = floor(q)` and `r = x − k·d` (exact: `k` is whole). Rounding
/// can only carry `q` up to the next integer, so `r ∈ [−d, d)` and
/// `m = r + d·[r < 0]` is the floor remainder in `[0, d)`; then
/// [`with_dividend_sign`]. A zero divisor fails at witness generation (ONNX
/// gives NaN). `Err` when a dividend is a constant (not supported).
pub(crate) fn fmod_computed(
    g: &mut FGraph,
    n: &Namer<'_>,
    shape: Vec<usize>,
    pairs: &[(Elem, Elem)],
) -> Result<View, String> {
    let x: Vec<Elem> = pairs.iter().map(|p| p.0).collect();
    let y: Vec<Elem> = pairs.iter().map(|p| p.1).collect();
    let d = if y.iter().all(|&e| g.nonnegative(e)) { y } else { sign_and_abs(g, n, &y).1.elems };
    fmod_by_magnitude(g, n, shape, &x, &d)
}

/// [`fmod_computed`] given the divisors' magnitudes `d = |y|`.
fn fmod_by_magnitude(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem], d: &[Elem]) -> Result<View, String> {
    let len = vec![x.len()];
    let quotient_pairs = x.iter().copied().zip(d.iter().copied()).collect();
    let q = g
        .divide(&n.at("quotient"), n.origin, len.clone(), quotient_pairs)
        .ok_or("Mod of a constant dividend by a computed divisor is not supported")?;
    let whole = rounding(g, &Namer { name: &n.at("whole"), origin: n.origin }, Rounding::Floor, len.clone(), &q.elems);
    let multiple = product(g, n, "multiple", &whole.elems, d);
    let rows = x.iter().zip(&multiple.elems).map(|(&x, &k)| AffineRow { bias: 0.0, terms: vec![(x, 1.0), (k, -1.0)] });
    let r = g.affine(&n.at("r"), n.origin, len, rows.collect());
    let m = floor_remainder(g, n, &r.elems, d);
    Ok(with_dividend_sign(g, n, shape, x, &m.elems, d))
}

/// ONNX's integer division by computed divisors, truncating towards zero:
/// `x − fmod(x, y)` is an exact multiple of `y` ([`fmod_computed`]), so its
/// quotient by `|y|` is an exact division, and `sign(y)` gives the sign.
pub(crate) fn integer_division_computed(
    g: &mut FGraph,
    n: &Namer<'_>,
    shape: Vec<usize>,
    pairs: &[(Elem, Elem)],
) -> Result<View, String> {
    let len = vec![pairs.len()];
    let x: Vec<Elem> = pairs.iter().map(|p| p.0).collect();
    let y: Vec<Elem> = pairs.iter().map(|p| p.1).collect();
    // One sign and magnitude of the divisors serve the remainder and the quotient.
    let (sign, d) = sign_and_abs(g, n, &y);
    let rem = Namer { name: &n.at("remainder"), origin: n.origin };
    let r = fmod_by_magnitude(g, &rem, len.clone(), &x, &d.elems)?;
    let rows = x.iter().zip(&r.elems).map(|(&x, &r)| AffineRow { bias: 0.0, terms: vec![(x, 1.0), (r, -1.0)] });
    let multiple = g.affine(&n.at("multiple_of_divisor"), n.origin, len.clone(), rows.collect());
    let pairs = multiple.elems.iter().copied().zip(d.elems.iter().copied()).collect();
    let magnitude = g
        .divide(&n.at("magnitude"), n.origin, len, pairs)
        .ok_or("an integer division of a constant by a computed divisor is not supported")?;
    Ok(View { shape, elems: product(g, n, "", &sign.elems, &magnitude.elems).elems })
}

/// The floor remainder in `[0, d)` from `r ∈ [−d, d)`: `r + d·[r < 0]`.
fn floor_remainder(g: &mut FGraph, n: &Namer<'_>, r: &[Elem], d: &[Elem]) -> View {
    let len = vec![r.len()];
    let neg_r = scaled(g, n, "neg_r", r, -1.0, 0.0);
    let r_negative = g.map(&n.at("r_negative"), n.origin, Func::Positive, len.clone(), &neg_r.elems);
    let carry = product(g, n, "carry", &r_negative.elems, d);
    let rows = r.iter().zip(&carry.elems).map(|(&r, &c)| AffineRow { bias: 0.0, terms: vec![(r, 1.0), (c, 1.0)] });
    g.affine(&n.at("floor_mod"), n.origin, len, rows.collect())
}

/// The remainder with the dividend's sign from the floor remainder `m ∈ [0, d)`:
/// `m − d·[x < 0]·[m ≠ 0]`.
fn with_dividend_sign(g: &mut FGraph, n: &Namer<'_>, shape: Vec<usize>, x: &[Elem], m: &[Elem], d: &[Elem]) -> View {
    let len = vec![x.len()];
    let neg_x = scaled(g, n, "neg_x", x, -1.0, 0.0);
    let x_negative = g.map(&n.at("x_negative"), n.origin, Func::Positive, len.clone(), &neg_x.elems);
    let m_nonzero = super::not_zero(g, &n.at("m_nonzero"), n.origin, len, m);
    let wraps = product(g, n, "wraps", &x_negative.elems, &m_nonzero.elems);
    let back = product(g, n, "wrap_back", &wraps.elems, d);
    let rows = m.iter().zip(&back.elems).map(|(&m, &w)| AffineRow { bias: 0.0, terms: vec![(m, 1.0), (w, -1.0)] });
    g.affine(&n.at(""), n.origin, shape, rows.collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::evaluate;
    use crate::fgraph::FGraph;
    use crate::quantize::quantize_graph;

    /// `fmod` by computed divisors equals C's `fmod` of the integers exactly, at a
    /// coarse scale where the rounded quotient often carries up to the next
    /// integer (`65/33`: `1.97` rounds to `2` at scale 4).
    #[test]
    fn remainders_by_computed_divisors_are_exact_even_when_the_quotient_rounds_up() {
        let scale = 4;
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for a in -70i64..=70 {
            for d in [-40i64, -33, -17, -16, -3, -1, 1, 2, 5, 16, 33, 40] {
                xs.push(a);
                ys.push(d);
            }
        }
        let mut g = FGraph::default();
        let x = g.add_input("x", vec![xs.len()]);
        let y = g.add_input("y", vec![ys.len()]);
        let n = Namer { name: "mod", origin: "Mod" };
        let pairs: Vec<(Elem, Elem)> = x.elems.iter().copied().zip(y.elems.iter().copied()).collect();
        let r = fmod_computed(&mut g, &n, vec![xs.len()], &pairs).expect("lowers");
        g.outputs = vec![r];
        let graph = quantize_graph(&g, scale).expect("quantises");
        let out = evaluate(&graph, &[xs.clone(), ys.clone()]).expect("evaluates").outputs(&graph);
        for ((a, d), got) in xs.iter().zip(&ys).zip(&out) {
            assert_eq!(*got, i128::from(a % d), "fmod({a}, {d}) in units of 2^-{scale}");
        }
    }
}
