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
}

impl Value {
    /// The tensor shape.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            Value::Const(t) => t.shape().to_vec(),
            Value::View(v) => v.shape.clone(),
        }
    }

    /// The constant tensor, if this is one.
    pub fn as_const(&self) -> Option<&Arc<Tensor>> {
        match self {
            Value::Const(t) => Some(t),
            Value::View(_) => None,
        }
    }

    /// The elements as a view (constants become constant elements).
    pub fn to_view(&self) -> TractResult<View> {
        match self {
            Value::View(v) => Ok(v.clone()),
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
