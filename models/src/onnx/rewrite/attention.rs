//! ONNX `Attention` (opset 23+) loads as tract's fused attention, which zkinfer
//! expands and proves. Some of its attributes tract ignores, giving wrong
//! results (checked against ONNX's own test cases), so those uses are refused
//! by name before anything is proven:
//! - a sliding window (`left_window_size` / `right_window_size`, opset 25);
//! - a causal mask together with a key/value cache (`past_key`), whose
//!   causal diagonal must be offset by the cache's length.
//!
//! tract also adds a boolean `attn_mask` as if it were a float bias (true as
//! 1.0, false as 0.0), so a mask known to be boolean becomes the bias ONNX
//! means: `Where(mask, 0, −∞)` for a constant mask (a row masked everywhere
//! then attends to nothing, as ONNX defines), `Where(mask, 0, −10⁴)` for a
//! computed one (`e^−10⁴` is 0 in float32, and the bias stays a finite
//! fixed-point value).

use tract_onnx::pb::NodeProto;

use super::super::ops::MASK_PENALTY;
use super::emit::{Attrs, Emit};
use super::Refusal;

/// Why tract would compute this `Attention` node wrongly, if it would.
pub(super) fn refusal(node: &NodeProto) -> Option<Refusal> {
    let attrs = Attrs(node);
    for window in ["left_window_size", "right_window_size"] {
        if attrs.int(window).is_some_and(|w| w >= 0) {
            return Some(format!("Attention with a sliding window (`{window}`) is not supported"));
        }
    }
    let has_past = node.input.get(4).is_some_and(|s| !s.is_empty());
    if attrs.int("is_causal") == Some(1) && has_past {
        return Some(
            "a causal Attention over a key/value cache (`past_key`) is not supported\n  hint: export the model \
             without the cache, or with an explicit attention mask"
                .into(),
        );
    }
    None
}

/// Whether `node` needs [`expand`]: a refusal, or a mask to check.
pub(super) fn needs_rewrite(node: &NodeProto) -> bool {
    refusal(node).is_some() || node.input.get(3).is_some_and(|m| !m.is_empty())
}

/// Refuses what tract gets wrong, and turns a boolean mask into a bias.
pub(super) fn expand(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    if let Some(reason) = refusal(node) {
        return Err(reason);
    }
    let mut node = node.clone();
    if let Some(mask) = node.input.get(3).filter(|m| !m.is_empty() && emit.is_bool(m)).cloned() {
        let q = Emit::input(&node, 0)?.to_string();
        let zero = emit.scalar("attend", 0.0);
        let zero = emit.binary("CastLike", &zero, &q);
        let bias = if emit.is_constant(&mask) { f64::NEG_INFINITY } else { -MASK_PENALTY };
        let masked = emit.scalar("masked", bias);
        let masked = emit.binary("CastLike", &masked, &q);
        node.input[3] = emit.op("Where", &[&mask, &zero, &masked], vec![]);
    }
    emit.node(node);
    Ok(())
}

#[cfg(test)]
mod tests {
    use tract_onnx::pb::attribute_proto::AttributeType;
    use tract_onnx::pb::AttributeProto;

    use super::*;

    fn attention(inputs: &[&str], attrs: &[(&str, i64)]) -> NodeProto {
        NodeProto {
            op_type: "Attention".into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            attribute: attrs
                .iter()
                .map(|&(name, i)| AttributeProto {
                    name: name.into(),
                    r#type: AttributeType::Int as i32,
                    i,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn windows_and_causal_caches_are_refused_plain_attention_is_not() {
        assert_eq!(refusal(&attention(&["q", "k", "v"], &[("is_causal", 1)])), None);
        assert_eq!(refusal(&attention(&["q", "k", "v", "", "pk", "pv"], &[])), None);
        assert_eq!(refusal(&attention(&["q", "k", "v"], &[("left_window_size", -1)])), None, "-1: no window");
        let w = refusal(&attention(&["q", "k", "v"], &[("left_window_size", 2)])).expect("window");
        assert!(w.contains("sliding window"), "{w}");
        let c = refusal(&attention(&["q", "k", "v", "", "pk", "pv"], &[("is_causal", 1)])).expect("cache");
        assert!(c.contains("past_key"), "{c}");
    }
}
