//! Attributes that newer opsets added to operators tract already loads, and
//! that tract ignores (checked against ONNX's own test cases): the rewrite
//! spells the operator out with them.
//! - `Swish` with `alpha` (opset 24): `x · sigmoid(alpha · x)`;
//! - `SpaceToDepth` with `mode = "CRD"` (opset 25): the default DCR
//!   rearrangement, whose channel `(i·b + j)·C + c` is then moved to
//!   `c·b² + i·b + j` by a reshape to `[N, b², C, H'·W']`, a transpose of the
//!   two channel axes and a reshape back.

use tract_onnx::pb::NodeProto;

use super::emit::{Attr, Attrs, Emit};
use super::Refusal;

/// Whether `node` uses an attribute tract would ignore.
pub(super) fn ignored_by_tract(node: &NodeProto) -> bool {
    let attrs = Attrs(node);
    match node.op_type.as_str() {
        "Swish" => attrs.float("alpha").is_some_and(|a| a != 1.0),
        "SpaceToDepth" => attrs.string("mode").is_some_and(|m| m == "CRD"),
        _ => false,
    }
}

pub(super) fn expand(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let x = Emit::input(node, 0)?;
    let y = Emit::output(node, 0).ok_or("its output is missing")?;
    let attrs = Attrs(node);
    match node.op_type.as_str() {
        "Swish" => {
            let alpha = emit.scalar("alpha", f64::from(attrs.float("alpha").unwrap_or(1.0)));
            let alpha = emit.binary("CastLike", &alpha, x);
            let scaled = emit.binary("Mul", &alpha, x);
            let gate = emit.op("Sigmoid", &[&scaled], vec![]);
            emit.op_into("Mul", &[x, &gate], vec![], y);
        }
        _ => {
            let b = attrs.int("blocksize").ok_or("its blocksize is missing")?;
            let dcr = emit.op("SpaceToDepth", &[x], vec![("blocksize", Attr::Int(b))]);
            let shape = emit.op("Shape", &[x], vec![]);
            let one = emit.int64s("one", &[1], vec![1]);
            let channels = emit.op("Gather", &[&shape, &one], vec![("axis", Attr::Int(0))]);
            let head = emit.int64s("head", &[2], vec![0, b * b]);
            let rest = emit.int64s("rest", &[1], vec![-1]);
            let split = emit.op("Concat", &[&head, &channels, &rest], vec![("axis", Attr::Int(0))]);
            let grouped = emit.binary("Reshape", &dcr, &split);
            let swapped = emit.op("Transpose", &[&grouped], vec![("perm", Attr::Ints(vec![0, 2, 1, 3]))]);
            let out_shape = emit.op("Shape", &[&dcr], vec![]);
            emit.op_into("Reshape", &[&swapped, &out_shape], vec![], y);
        }
    }
    Ok(())
}
