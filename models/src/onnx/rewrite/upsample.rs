//! `Upsample` (ONNX opsets 7 to 9, deprecated since 10 for `Resize`), which
//! PyTorch wrote for `nn.Upsample` and `F.interpolate` while its default
//! opset was 9, and which tract does not load.
//!
//! Upsample maps output index `i` to input coordinate `i / scale`
//! (asymmetric), nearest taking the floor: exactly `Resize` of opset 10, which
//! has no other coordinate mapping. The rewrite gives every Upsample its scales
//! as an input (opset 7 has them as an attribute) and `nearest_mode = floor`;
//! [`builder`] then loads it as tract loads a `Resize` of opset 10, whatever
//! the model's opset.

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::InferenceOp;

use super::emit::{Attr, Attrs, Emit};
use super::Refusal;

/// The op name tract's registry knows the rewritten node by.
pub(crate) const OP: &str = "Upsample";

pub(super) fn expand(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let attrs = Attrs(node);
    let x = Emit::input(node, 0)?;
    let y = Emit::output(node, 0).ok_or("its output is missing")?;
    let scales = match node.input.get(1).filter(|s| !s.is_empty()) {
        Some(s) => s.clone(),
        None => {
            let scales = attrs.floats("scales");
            if scales.is_empty() {
                return Err("it has no scales (neither an input nor an attribute)".into());
            }
            emit.vector("scales", &scales)
        }
    };
    let mode = attrs.string("mode").unwrap_or_else(|| "nearest".into());
    if mode != "nearest" && mode != "linear" && mode != "bilinear" {
        return Err(format!("mode `{mode}` is not nearest or linear"));
    }
    let mode = if mode == "bilinear" { "linear".to_string() } else { mode };
    emit.op_into(OP, &[x, &scales], vec![("mode", Attr::Str(mode)), ("nearest_mode", Attr::Str("floor".into()))], y);
    Ok(())
}

/// tract's loader for a rewritten Upsample: its `Resize` at opset 10.
pub(crate) fn builder(ctx: &ParsingContext, node: &NodeProto) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let resize = *ctx.framework.op_register.0.get("Resize").ok_or_else(|| TractError::msg("tract has no Resize"))?;
    let mut at_10 = ctx.clone();
    at_10.onnx_operator_set_version = 10;
    let mut node = node.clone();
    node.op_type = "Resize".into();
    resize(&at_10, &node)
}
