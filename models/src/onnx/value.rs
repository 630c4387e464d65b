//! Values flowing between lowerings: compile-time constants (tract tensors) or
//! views over computed elements; plus shape helpers shared by the operator files.

use std::sync::Arc;

use tract_onnx::prelude::*;

use crate::fgraph::{Elem, View};

/// An operator input or output during lowering.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    /// Known at compile time.
    Const(Arc<Tensor>),
    /// Depends on the model input.
    View(View),
    /// An output of a dynamic quantiser (`DynamicQuantizeLinear`), or a tensor
    /// derived from its scale ([`super::ops::dynamic_quant`]).
    Dynamic(Dynamic),
}

/// What zkinfer carries for a tensor that depends on a dynamic quantiser's
/// scale `s` (a computed scalar, tiny in fixed point, so never materialised on
/// its own where it can be avoided).
#[derive(Clone, Debug)]
pub(crate) struct Dynamic {
    /// Which quantiser (distinct for every `DynamicQuantizeLinear` lowered).
    pub quantiser: u32,
    /// The tensor, in the form the quantiser's consumers need.
    pub form: DynamicForm,
}

/// The forms of [`Dynamic`].
#[derive(Clone, Debug)]
pub(crate) enum DynamicForm {
    /// The 8-bit tensor `q`: its integers, and its dequantised value
    /// `(q − z)·s` (which integer matrix products and convolutions read).
    Quantised {
        /// `q` itself.
        q: View,
        /// `(q − z)·s`.
        dequantised: View,
    },
    /// The zero point `z`.
    ZeroPoint(View),
    /// `factor · s^power` elementwise (`power ≠ 0`): the scale is `1 · s^1`, an
    /// integer matrix product of dequantised values `Σ … · s^−1`.
    Scaled {
        /// The factor.
        factor: View,
        /// The power of the scale.
        power: i32,
        /// The tensor itself in fixed point, where it can be formed (the scale
        /// and its multiples by constants).
        plain: Option<View>,
    },
}

impl Dynamic {
    /// The views it holds, in a fixed order ([`Dynamic::with_views`] inverts it).
    pub fn views(&self) -> Vec<&View> {
        match &self.form {
            DynamicForm::Quantised { q, dequantised } => vec![q, dequantised],
            DynamicForm::ZeroPoint(z) => vec![z],
            DynamicForm::Scaled { factor, plain, .. } => std::iter::once(factor).chain(plain.as_ref()).collect(),
        }
    }

    /// The same tensor with its views replaced, in the order of [`Dynamic::views`]
    /// (after an operator that only moves elements was applied to each).
    pub fn with_views(&self, views: Vec<View>) -> Dynamic {
        let mut it = views.into_iter();
        let mut next = || it.next().unwrap_or_else(|| View { shape: Vec::new(), elems: Vec::new() });
        let form = match &self.form {
            DynamicForm::Quantised { .. } => DynamicForm::Quantised { q: next(), dequantised: next() },
            DynamicForm::ZeroPoint(_) => DynamicForm::ZeroPoint(next()),
            DynamicForm::Scaled { power, plain, .. } => {
                let factor = next();
                DynamicForm::Scaled { factor, power: *power, plain: plain.as_ref().map(|_| next()) }
            }
        };
        Dynamic { quantiser: self.quantiser, form }
    }

    /// The tensor as plain fixed-point elements, where it can be formed.
    fn plain(&self) -> Option<&View> {
        match &self.form {
            DynamicForm::Quantised { q, .. } => Some(q),
            DynamicForm::ZeroPoint(z) => Some(z),
            DynamicForm::Scaled { plain, .. } => plain.as_ref(),
        }
    }
}

impl Value {
    /// The tensor shape.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            Value::Const(t) => t.shape().to_vec(),
            Value::View(v) => v.shape.clone(),
            Value::Dynamic(d) => d.views().first().map(|v| v.shape.clone()).unwrap_or_default(),
        }
    }

    /// The constant tensor, if this is one.
    pub fn as_const(&self) -> Option<&Arc<Tensor>> {
        match self {
            Value::Const(t) => Some(t),
            Value::View(_) | Value::Dynamic(_) => None,
        }
    }

    /// The elements as a view (constants become constant elements).
    pub fn to_view(&self) -> TractResult<View> {
        match self {
            Value::View(v) => Ok(v.clone()),
            Value::Dynamic(d) => d.plain().cloned().ok_or_else(|| {
                TractError::msg(
                    "this tensor is a product of DynamicQuantizeLinear's computed scale; zkinfer proves it only \
                     where it is scaled back by that scale (MatMulInteger or ConvInteger, Cast, then Mul by the \
                     scale, as onnxruntime's dynamic quantisation writes it)",
                )
            }),
            Value::Const(t) => {
                Ok(View { shape: t.shape().to_vec(), elems: tensor_to_f64(t)?.into_iter().map(Elem::Const).collect() })
            }
        }
    }
}

/// Flattens any numeric tensor to `f64`s, row-major.
pub(crate) fn tensor_to_f64(t: &Tensor) -> TractResult<Vec<f64>> {
    let t = t.cast_to::<f64>()?;
    Ok(t.to_plain_array_view::<f64>()?.iter().copied().collect())
}

/// Row-major strides of a shape.
pub(crate) fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The row-major offset, in data of strides `data_strides`, of the coordinates
/// of element `flat` of an index tensor of shape `idx_shape`, leaving out axis
/// `axis` (GatherElements and ScatterElements put the index there).
pub(crate) fn offset_off_axis(flat: usize, idx_shape: &[usize], data_strides: &[usize], axis: usize) -> usize {
    let is = strides(idx_shape);
    (0..idx_shape.len()).filter(|&d| d != axis).map(|d| ((flat / is[d]) % idx_shape[d]) * data_strides[d]).sum()
}

/// Numpy broadcasting of two shapes, or `None` when incompatible.
pub(crate) fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| {
        let off = rank - s.len();
        if i < off {
            1
        } else {
            s[i - off]
        }
    };
    (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// For each element of `out` (a broadcast of `shape`), the row-major index of the
/// source element in a tensor of `shape`.
pub(crate) fn broadcast_indices(shape: &[usize], out: &[usize]) -> Vec<usize> {
    let n: usize = out.iter().product();
    let off = out.len() - shape.len();
    let src_strides = strides(shape);
    let out_strides = strides(out);
    (0..n)
        .map(|flat| {
            let mut idx = 0;
            for (d, (&os, &od)) in out_strides.iter().zip(out).enumerate() {
                let coord = (flat / os) % od;
                if d >= off {
                    let sd = d - off;
                    if shape[sd] != 1 {
                        idx += coord * src_strides[sd];
                    }
                }
            }
            idx
        })
        .collect()
}

/// A broadcast shape and, per element of it, a pair of source elements.
pub(crate) type Pairs = (Vec<usize>, Vec<(Elem, Elem)>);

/// The elements of two views paired by numpy broadcasting, with the broadcast
/// shape; `None` when the shapes do not broadcast.
pub(crate) fn broadcast_pairs(a: &View, b: &View) -> Option<Pairs> {
    let shape = broadcast_shape(&a.shape, &b.shape)?;
    let ia = broadcast_indices(&a.shape, &shape);
    let ib = broadcast_indices(&b.shape, &shape);
    let pairs = ia.iter().zip(&ib).map(|(&i, &j)| (a.elems[i], b.elems[j])).collect();
    Some((shape, pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shape(&[2, 3], &[3]), Some(vec![2, 3]));
        assert_eq!(broadcast_shape(&[2, 1], &[1, 4]), Some(vec![2, 4]));
        assert_eq!(broadcast_shape(&[2, 3], &[2]), None);
        assert_eq!(broadcast_indices(&[3], &[2, 3]), vec![0, 1, 2, 0, 1, 2]);
        assert_eq!(broadcast_indices(&[2, 1], &[2, 2]), vec![0, 0, 1, 1]);
        assert_eq!(broadcast_indices(&[], &[2]), vec![0, 0]);
    }
}
