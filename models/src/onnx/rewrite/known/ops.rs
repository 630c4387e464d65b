//! The operators the evaluator computes, on small tensors of `f64`.

use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::{AttributeProto, NodeProto, TensorProto};

use super::{Kind, Known, Unknown, MAX_ELEMENTS};

fn input(inputs: &[Option<Known>], i: usize) -> Result<&Known, Unknown> {
    inputs.get(i).and_then(Option::as_ref).ok_or_else(|| format!("input {i} is missing"))
}

fn ints_attr(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.ints.clone())
}

/// Axes from an input (opset 13 on) or an attribute.
fn axes(node: &NodeProto, inputs: &[Option<Known>], at: usize) -> Option<Vec<i64>> {
    match inputs.get(at).and_then(Option::as_ref) {
        Some(k) => Some(k.data.iter().map(|&v| v as i64).collect()),
        None => ints_attr(node, "axes"),
    }
}

fn axis(a: i64, rank: usize) -> Result<usize, Unknown> {
    let r = rank as i64;
    if a < -r || a >= r.max(1) {
        return Err(format!("axis {a} out of range for rank {rank}"));
    }
    Ok(if a < 0 { (a + r) as usize } else { a as usize })
}

pub(super) fn apply(node: &NodeProto, inputs: &[Option<Known>]) -> Result<Known, Unknown> {
    let op = node.op_type.as_str();
    let int_attr = |n: &str, d: i64| node.attribute.iter().find(|a| a.name == n).map_or(d, |a| a.i);
    match op {
        "Identity" => input(inputs, 0).cloned(),
        "Cast" => {
            let x = input(inputs, 0)?;
            let kind = kind_of(int_attr("to", 0) as i32)?;
            Ok(cast(x, kind))
        }
        "Not" => unary(input(inputs, 0)?, Kind::Bool, |v| f64::from(u8::from(v == 0.0))),
        "Neg" => unary(input(inputs, 0)?, input(inputs, 0)?.kind, |v| -v),
        "Abs" => unary(input(inputs, 0)?, input(inputs, 0)?.kind, f64::abs),
        "Add" | "Sub" | "Mul" | "Div" | "Max" | "Min" | "Mod" => {
            let mut acc = input(inputs, 0)?.clone();
            for b in inputs.iter().skip(1) {
                let b = b.as_ref().ok_or("an input is missing")?;
                let kind = acc.kind;
                let int = kind == Kind::Int;
                let fmod = int_attr("fmod", 0) == 1;
                acc = binary(&acc, b, kind, |x, y| match op {
                    "Add" => x + y,
                    "Sub" => x - y,
                    "Mul" => x * y,
                    "Div" if int => (x / y).trunc(),
                    "Div" => x / y,
                    "Max" => x.max(y),
                    "Min" => x.min(y),
                    _ if int && !fmod => x - y * (x / y).floor(),
                    _ => x % y,
                })?;
                if acc.data.iter().any(|v| !v.is_finite()) {
                    return Err("a division by zero".into());
                }
            }
            Ok(acc)
        }
        "Less" | "LessOrEqual" | "Greater" | "GreaterOrEqual" | "Equal" | "And" | "Or" | "Xor" => {
            let truth = |b: bool| f64::from(u8::from(b));
            binary(input(inputs, 0)?, input(inputs, 1)?, Kind::Bool, |x, y| match op {
                "Less" => truth(x < y),
                "LessOrEqual" => truth(x <= y),
                "Greater" => truth(x > y),
                "GreaterOrEqual" => truth(x >= y),
                "Equal" => truth(x == y),
                "And" => truth(x != 0.0 && y != 0.0),
                "Or" => truth(x != 0.0 || y != 0.0),
                _ => truth((x != 0.0) != (y != 0.0)),
            })
        }
        "Where" => {
            let (c, a, b) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
            // Each side where it is picked, 0 elsewhere; broadcast together.
            let picked = binary(c, a, a.kind, |c, a| if c != 0.0 { a } else { 0.0 })?;
            let other = binary(c, b, a.kind, |c, b| if c != 0.0 { 0.0 } else { b })?;
            binary(&picked, &other, a.kind, |x, y| x + y)
        }
        "Squeeze" | "Unsqueeze" => {
            let x = input(inputs, 0)?;
            let axes = axes(node, inputs, 1);
            let dims = if op == "Squeeze" {
                match axes {
                    Some(axes) => {
                        let axes = axes.iter().map(|&a| axis(a, x.dims.len())).collect::<Result<Vec<_>, _>>()?;
                        x.dims.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect()
                    }
                    None => x.dims.iter().copied().filter(|&d| d != 1).collect(),
                }
            } else {
                let axes = axes.ok_or("no axes")?;
                let rank = x.dims.len() + axes.len();
                let axes = axes.iter().map(|&a| axis(a, rank)).collect::<Result<Vec<_>, _>>()?;
                let mut rest = x.dims.iter();
                (0..rank).map(|i| if axes.contains(&i) { 1 } else { rest.next().copied().unwrap_or(1) }).collect()
            };
            Ok(Known { dims, ..x.clone() })
        }
        "Reshape" => {
            let (x, shape) = (input(inputs, 0)?, input(inputs, 1)?);
            let mut dims: Vec<i64> = shape.data.iter().map(|&v| v as i64).collect();
            for (i, d) in dims.iter_mut().enumerate() {
                if *d == 0 && int_attr("allowzero", 0) == 0 {
                    *d = *x.dims.get(i).ok_or("a copied dimension past the rank")? as i64;
                }
            }
            let known: i64 = dims.iter().filter(|&&d| d >= 0).product();
            let dims: Vec<usize> =
                dims.iter().map(|&d| if d < 0 { x.data.len() / (known.max(1) as usize) } else { d as usize }).collect();
            if dims.iter().product::<usize>() != x.data.len() {
                return Err("a reshape that changes the number of elements".into());
            }
            Ok(Known { dims, ..x.clone() })
        }
        "Gather" => gather(input(inputs, 0)?, input(inputs, 1)?, int_attr("axis", 0)),
        "Concat" => {
            let parts: Vec<&Known> = inputs.iter().flatten().collect();
            concat(&parts, int_attr("axis", 0))
        }
        "Range" => {
            let (s, l, d) = (input(inputs, 0)?, input(inputs, 1)?, input(inputs, 2)?);
            let (s, l, d) = (s.single().ok_or("start")?, l.single().ok_or("limit")?, d.single().ok_or("delta")?);
            let n = ((l - s) / d).ceil().max(0.0);
            if !n.is_finite() || n as usize > MAX_ELEMENTS {
                return Err("a range too long to evaluate".into());
            }
            let data: Vec<f64> = (0..n as usize).map(|i| s + i as f64 * d).collect();
            Ok(Known { dims: vec![data.len()], data, kind: input(inputs, 0)?.kind })
        }
        _ => Err(format!("{op} is not evaluated before proving")),
    }
}

fn unary(x: &Known, kind: Kind, f: impl Fn(f64) -> f64) -> Result<Known, Unknown> {
    Ok(Known { dims: x.dims.clone(), data: x.data.iter().map(|&v| f(v)).collect(), kind })
}

fn cast(x: &Known, kind: Kind) -> Known {
    let data = x
        .data
        .iter()
        .map(|&v| match kind {
            Kind::Float => f64::from(v as f32),
            Kind::Int => v.trunc(),
            Kind::Bool => f64::from(u8::from(v != 0.0)),
        })
        .collect();
    Known { dims: x.dims.clone(), data, kind }
}

/// `f` element by element with NumPy broadcasting.
fn binary(a: &Known, b: &Known, kind: Kind, f: impl Fn(f64, f64) -> f64) -> Result<Known, Unknown> {
    let rank = a.dims.len().max(b.dims.len());
    let pad = |d: &[usize]| -> Vec<usize> { std::iter::repeat_n(1, rank - d.len()).chain(d.iter().copied()).collect() };
    let (da, db) = (pad(&a.dims), pad(&b.dims));
    let mut dims = Vec::with_capacity(rank);
    for (&x, &y) in da.iter().zip(&db) {
        if x != y && x != 1 && y != 1 {
            return Err(format!("shapes {:?} and {:?} do not broadcast", a.dims, b.dims));
        }
        dims.push(if x == 1 { y } else { x });
    }
    let n: usize = dims.iter().product();
    if n > MAX_ELEMENTS {
        return Err(format!("more than {MAX_ELEMENTS} elements"));
    }
    let strides = |d: &[usize]| -> Vec<usize> {
        let mut s = vec![0; rank];
        let mut acc = 1;
        for i in (0..rank).rev() {
            s[i] = if d[i] == 1 { 0 } else { acc };
            acc *= d[i];
        }
        s
    };
    let (sa, sb) = (strides(&da), strides(&db));
    let mut data = Vec::with_capacity(n);
    for flat in 0..n {
        let (mut rem, mut ia, mut ib) = (flat, 0, 0);
        for i in (0..rank).rev() {
            let c = rem % dims[i];
            rem /= dims[i];
            ia += c * sa[i];
            ib += c * sb[i];
        }
        data.push(f(a.data[ia], b.data[ib]));
    }
    Ok(Known { dims, data, kind })
}

fn gather(data: &Known, indices: &Known, axis_attr: i64) -> Result<Known, Unknown> {
    let ax = axis(axis_attr, data.dims.len())?;
    let len = *data.dims.get(ax).ok_or("gather from a scalar")?;
    let outer: usize = data.dims[..ax].iter().product();
    let inner: usize = data.dims[ax + 1..].iter().product();
    let mut out = Vec::new();
    for o in 0..outer {
        for &i in &indices.data {
            let i = if i < 0.0 { i + len as f64 } else { i };
            if i < 0.0 || i >= len as f64 {
                return Err(format!("index {i} out of range {len}"));
            }
            let start = (o * len + i as usize) * inner;
            out.extend_from_slice(&data.data[start..start + inner]);
        }
    }
    let dims = data.dims[..ax].iter().chain(&indices.dims).chain(&data.dims[ax + 1..]).copied().collect();
    Ok(Known { dims, data: out, kind: data.kind })
}

fn concat(parts: &[&Known], axis_attr: i64) -> Result<Known, Unknown> {
    let first = parts.first().ok_or("nothing to concatenate")?;
    let ax = axis(axis_attr, first.dims.len())?;
    let outer: usize = first.dims[..ax].iter().product();
    let mut dims = first.dims.clone();
    dims[ax] = 0;
    for p in parts {
        if p.dims.len() != first.dims.len()
            || p.dims.iter().zip(&first.dims).enumerate().any(|(i, (a, b))| i != ax && a != b)
        {
            return Err("concatenated shapes differ".into());
        }
        dims[ax] += p.dims[ax];
    }
    let mut data = Vec::new();
    for o in 0..outer {
        for p in parts {
            let block: usize = p.dims[ax..].iter().product();
            data.extend_from_slice(&p.data[o * block..(o + 1) * block]);
        }
    }
    Ok(Known { dims, data, kind: first.kind })
}

/// A `Constant` node's value.
pub(super) fn constant(node: &NodeProto) -> Result<Known, Unknown> {
    let a: &AttributeProto = node.attribute.first().ok_or("a Constant without a value")?;
    match a.name.as_str() {
        "value" => decode(a.t.as_ref().ok_or("no tensor")?),
        "value_int" => Ok(Known::int(a.i)),
        "value_ints" => {
            Ok(Known { dims: vec![a.ints.len()], data: a.ints.iter().map(|&v| v as f64).collect(), kind: Kind::Int })
        }
        "value_float" => Ok(Known { dims: vec![], data: vec![f64::from(a.f)], kind: Kind::Float }),
        "value_floats" => Ok(Known {
            dims: vec![a.floats.len()],
            data: a.floats.iter().map(|&v| f64::from(v)).collect(),
            kind: Kind::Float,
        }),
        other => Err(format!("a Constant given by `{other}`")),
    }
}

fn kind_of(data_type: i32) -> Result<Kind, Unknown> {
    use DataType as D;
    match DataType::try_from(data_type) {
        Ok(D::Float | D::Double) => Ok(Kind::Float),
        Ok(D::Bool) => Ok(Kind::Bool),
        Ok(D::Int8 | D::Int16 | D::Int32 | D::Int64 | D::Uint8 | D::Uint16 | D::Uint32 | D::Uint64) => Ok(Kind::Int),
        _ => Err(format!("element type {data_type}")),
    }
}

/// The elements of a tensor of numbers or booleans.
pub(super) fn decode(t: &TensorProto) -> Result<Known, Unknown> {
    use DataType as D;
    let dims: Vec<usize> =
        t.dims.iter().map(|&d| usize::try_from(d).map_err(|_| "a negative dimension")).collect::<Result<_, _>>()?;
    let n: usize = dims.iter().product();
    if n > MAX_ELEMENTS {
        return Err(format!("more than {MAX_ELEMENTS} elements"));
    }
    let kind = kind_of(t.data_type)?;
    let dt = DataType::try_from(t.data_type).map_err(|_| "an unknown element type")?;
    let raw = &t.raw_data;
    let data: Vec<f64> = if !raw.is_empty() {
        let width = match dt {
            D::Bool | D::Int8 | D::Uint8 => 1,
            D::Int16 | D::Uint16 => 2,
            D::Float | D::Int32 | D::Uint32 => 4,
            _ => 8,
        };
        if raw.len() != n * width {
            return Err(format!("{} bytes of data for {n} elements", raw.len()));
        }
        raw.chunks_exact(width)
            .map(|c| {
                let mut b = [0u8; 8];
                b[..width].copy_from_slice(c);
                match dt {
                    D::Bool | D::Uint8 => f64::from(c[0]),
                    D::Int8 => f64::from(c[0] as i8),
                    D::Int16 => f64::from(i16::from_le_bytes([c[0], c[1]])),
                    D::Uint16 => f64::from(u16::from_le_bytes([c[0], c[1]])),
                    D::Float => f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                    D::Int32 => f64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                    D::Uint32 => f64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                    D::Double => f64::from_le_bytes(b),
                    D::Uint64 => u64::from_le_bytes(b) as f64,
                    _ => i64::from_le_bytes(b) as f64,
                }
            })
            .collect()
    } else {
        match dt {
            D::Float => t.float_data.iter().map(|&v| f64::from(v)).collect(),
            D::Double => t.double_data.clone(),
            D::Int64 => t.int64_data.iter().map(|&v| v as f64).collect(),
            D::Uint32 | D::Uint64 => t.uint64_data.iter().map(|&v| v as f64).collect(),
            _ => t.int32_data.iter().map(|&v| f64::from(v)).collect(),
        }
    };
    if data.len() != n {
        return Err(format!("{} elements for shape {dims:?}", data.len()));
    }
    Ok(Known { dims, data, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasts_gathers_and_concatenates() {
        let a = Known { dims: vec![2, 1], data: vec![1.0, 2.0], kind: Kind::Int };
        let b = Known { dims: vec![3], data: vec![10.0, 20.0, 30.0], kind: Kind::Int };
        let sum = binary(&a, &b, Kind::Int, |x, y| x + y).expect("broadcasts");
        assert_eq!((sum.dims.clone(), sum.data.clone()), (vec![2, 3], vec![11.0, 21.0, 31.0, 12.0, 22.0, 32.0]));
        let cols = gather(&sum, &Known { dims: vec![2], data: vec![-1.0, 0.0], kind: Kind::Int }, 1).expect("gathers");
        assert_eq!(cols.data, vec![31.0, 11.0, 32.0, 12.0]);
        let joined = concat(&[&a, &a], 1).expect("concatenates");
        assert_eq!((joined.dims, joined.data), (vec![2, 2], vec![1.0, 1.0, 2.0, 2.0]));
        assert!(binary(&b, &Known { dims: vec![2], data: vec![0.0; 2], kind: Kind::Int }, Kind::Int, |x, _| x).is_err());
    }
}
