//! Function tables that saturated on a sample input. Most tabulated functions
//! flatten out beyond their table (sigmoid, tanh, erf, `e^x` for `x → −∞`), so
//! clamping their inputs costs nothing. Two do not: `e^x` above `x = 8` reads
//! `e^8`, and `tan x` within 0.07 of a pole reads `±tan 1.5`. A model that
//! drives them there gets outputs that are not what it computes in floating
//! point; [`saturations`] finds each such node on the calibration input, so
//! the user hears of it by name instead of reading a large error.

use crate::fgraph::{FGraph, FOp};
use crate::func::{Func, DOMAIN, TAN_EDGE};
use crate::optimize::live;

/// A node whose function table saturated.
#[derive(Clone, Debug, PartialEq)]
pub struct Saturation {
    /// The node's name.
    pub node: String,
    /// The ONNX/tract operator it came from.
    pub origin: String,
    /// The function.
    pub func: Func,
    /// The input farthest beyond the table.
    pub reached: f64,
    /// Where the table stops being exact.
    pub edge: f64,
}

impl Saturation {
    /// A one-line description for the user.
    pub fn describe(&self) -> String {
        let range =
            if self.func == Func::Exp { format!("at most {}", self.edge) } else { format!("within ±{}", self.edge) };
        format!(
            "node `{}` ({}): its {} table holds inputs {range}, but this input reaches {:.3}; beyond the table the circuit reads the value at its edge, not the model's\n  hint: scale the values down before this node (e.g. normalise the model's input), or expect these outputs to saturate",
            self.node,
            self.origin,
            self.func.name(),
            self.reached,
        )
    }
}

/// The real input beyond which `func`'s table no longer follows the function
/// (by magnitude), for the functions that do not flatten out.
fn exact_within(func: Func) -> Option<f64> {
    match func {
        Func::Exp => Some(DOMAIN),
        Func::Tan => Some(TAN_EDGE),
        _ => None,
    }
}

/// Every table node of `g` whose inputs leave its exact range on `inputs`
/// (`e^x` only above: below `−8` it is within 3.4e-4 of 0).
pub fn saturations(g: &FGraph, inputs: &[Vec<f64>]) -> Vec<Saturation> {
    if !g.nodes.iter().any(|n| matches!(&n.op, FOp::Map { func, .. } if exact_within(*func).is_some())) {
        return Vec::new();
    }
    // Only nodes an output depends on: the lowering leaves behind the
    // exponentials of patterns it rewrote exactly (Softplus, ReduceLogSumExp).
    let live = live(g);
    let values = g.evaluate(inputs);
    let mut found = Vec::new();
    for (node, _) in g.nodes.iter().zip(&live).filter(|(_, live)| **live) {
        let FOp::Map { func, src } = &node.op else { continue };
        let Some(edge) = exact_within(*func) else { continue };
        let reach = |x: f64| if *func == Func::Exp { x } else { x.abs() };
        let mut inputs = src.iter().map(|r| values[r.node as usize][r.index as usize]);
        let Some(first) = inputs.next() else { continue };
        let reached = inputs.fold(first, |m, x| if reach(x) > reach(m) { x } else { m });
        if reach(reached) > edge {
            found.push(Saturation { node: node.name.clone(), origin: node.origin.clone(), func: *func, reached, edge });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exponential_past_its_table_is_found_and_a_small_one_is_not() {
        let mut g = FGraph::default();
        let x = g.add_input("x", vec![3]);
        let e = g.map("exp", "Exp", Func::Exp, vec![3], &x.elems);
        let s = g.map("sigmoid", "Sigmoid", Func::Sigmoid, vec![3], &x.elems);
        g.outputs = vec![e, s];
        assert!(saturations(&g, &[vec![-20.0, 0.5, 7.9]]).is_empty(), "below −8 and within 8 are fine");
        let found = saturations(&g, &[vec![1.0, 9.5, -30.0]]);
        assert_eq!(found.len(), 1, "only the exponential, not the sigmoid: {found:?}");
        assert_eq!((found[0].node.as_str(), found[0].reached, found[0].edge), ("exp", 9.5, DOMAIN));
        let text = found[0].describe();
        assert!(text.contains("node `exp` (Exp)") && text.contains("reaches 9.500"), "{text}");
    }

    #[test]
    fn tangents_are_measured_by_magnitude_and_dead_nodes_are_skipped() {
        let mut g = FGraph::default();
        let x = g.add_input("x", vec![2]);
        let t = g.map("tan", "Tan", Func::Tan, vec![2], &x.elems);
        let unused = g.map("unused_exp", "Exp", Func::Exp, vec![2], &x.elems);
        g.outputs = vec![t];
        assert!(saturations(&g, &[vec![0.3, -1.2]]).is_empty(), "within ±1.5, and the dead Exp is not read");
        let found = saturations(&g, &[vec![0.3, -1.55]]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].node.as_str(), found[0].reached), ("tan", -1.55));
        let _ = unused;
    }
}
