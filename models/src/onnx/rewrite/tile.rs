//! `Tile` by constant repeats, loaded as a `Concat` of copies along each
//! repeated axis (the same tensor, the same order): tract simplifies a Tile of
//! a length-1 axis into broadcasting and then wires a matrix product fed by it
//! to the untiled tensor, and fails ("Trying to substitute a 10,100,F32 by
//! 1,100,F32": EZKL's large_mlp, PyTorch's `x.repeat(10, 1)` before a Linear).
//! A circuit moves the same data either way.

use std::collections::HashMap;

use tract_onnx::pb::GraphProto;

use super::emit::{Attr, Emit};
use super::known::{Evaluator, Walk};

/// Most copies along one axis written out as a Concat (beyond, the Tile stays).
const MAX_COPIES: i64 = 256;

/// Rewrites every `Tile` of `graph` whose repeats are known constants;
/// returns how many.
pub(crate) fn tiles_as_concats(graph: &mut GraphProto, opset: Option<i64>) -> usize {
    let (nodes, mut walk) = Walk::start(graph);
    let mut rewritten = 0;
    for (i, node) in nodes.into_iter().enumerate() {
        let repeats = match (node.op_type.as_str(), node.domain.as_str(), node.input.get(1)) {
            ("Tile", "" | "ai.onnx", Some(r)) => {
                let scope = walk.scope(graph, None);
                Evaluator::new(&scope, HashMap::new()).value(r).ok()
            }
            _ => None,
        };
        let repeats: Option<Vec<i64>> = repeats.map(|k| k.data.iter().map(|&v| v as i64).collect());
        let (Some(repeats), Some(x), Some(y)) = (repeats, node.input.first(), node.output.first()) else {
            walk.keep(node);
            continue;
        };
        if repeats.iter().any(|&r| !(1..=MAX_COPIES).contains(&r)) {
            walk.keep(node);
            continue;
        }
        let base = if node.name.is_empty() { format!("tile_{i}") } else { node.name.clone() };
        let mut emit = Emit::new(graph, &base, opset);
        let mut current = x.clone();
        for (axis, &r) in repeats.iter().enumerate().filter(|(_, &r)| r > 1) {
            let copies: Vec<&str> = std::iter::repeat_n(current.as_str(), r as usize).collect();
            current = emit.op("Concat", &copies, vec![("axis", Attr::Int(axis as i64))]);
        }
        emit.op_into("Identity", &[&current], vec![], y);
        emit.finish().into_iter().for_each(|n| walk.keep(n));
        rewritten += 1;
    }
    walk.finish(graph);
    rewritten
}
