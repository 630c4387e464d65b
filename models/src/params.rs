//! Hidden weights: which model parameter each coefficient of a linear map is.
//!
//! By default weights are constants baked into the circuit. When they are to be
//! hidden (`--weights-visibility private|public|hashed`), the lowering registers
//! the kernels and biases of the parametrised layers (Conv, ConvTranspose, Gemm
//! and MatMul with a constant operand) as *parameters*, numbered
//! [`ParamId`]s, and tags each term of the linear maps it builds with the
//! parameter it reads. The circuit then puts each parameter in one witness cell,
//! copies it to every place it is used, and exposes the parameters (`public`),
//! their Poseidon commitment (`hashed`) or nothing (`private`). The layout and the
//! verifying key depend only on which parameter each term reads, never on a
//! parameter's value.
//!
//! The committed vector is [`committed_params`]: the parameters the circuit uses,
//! in increasing id order, at the scale their linear map uses them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ir::{Graph, Op};

/// The number of a model parameter.
pub type ParamId = u32;

/// The parameter behind each term and bias of a linear map (see [`crate::ir::Linear`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinearParams {
    /// Per term, aligned with the map's `terms.items`: the parameter it is, or
    /// `None` for a constant of the architecture (kept fixed).
    pub terms: Vec<Option<ParamId>>,
    /// Per output: the parameter its bias is, or `None` for a fixed bias.
    pub bias: Vec<Option<ParamId>>,
}

impl LinearParams {
    /// Every parameter this map reads, with the value it gives it (`weights` and
    /// `bias` are the map's own, aligned with `self`).
    pub fn values<'a>(
        &'a self,
        weights: impl Iterator<Item = i64> + 'a,
        bias: &'a [i64],
    ) -> impl Iterator<Item = (ParamId, i64)> + 'a {
        let terms = self.terms.iter().zip(weights).filter_map(|(p, w)| p.map(|p| (p, w)));
        let biases = self.bias.iter().zip(bias).filter_map(|(p, b)| p.map(|p| (p, *b)));
        terms.chain(biases)
    }
}

/// The parameters `graph` uses, in increasing id order, with their quantised
/// values: the vector a `public` weights proof exposes and a `hashed` one
/// commits to. Fails when one parameter has two values (a lowering bug: a
/// parameter is one number).
pub fn committed_params(graph: &Graph) -> Result<Vec<(ParamId, i64)>, String> {
    let mut values: BTreeMap<ParamId, (i64, &str)> = BTreeMap::new();
    for node in &graph.nodes {
        let Op::Linear(l) = &node.op else { continue };
        let Some(params) = &l.params else { continue };
        for (p, v) in params.values(l.terms.items.iter().map(|(_, w)| *w), &l.bias) {
            match values.get(&p) {
                Some(&(old, _)) if old != v => {
                    return Err(format!(
                        "parameter {p} has two values ({old} and {v}) in node `{}`; weights cannot be hidden",
                        node.name
                    ))
                }
                Some(_) => {}
                None => {
                    values.insert(p, (v, &node.name));
                }
            }
        }
    }
    Ok(values.into_iter().map(|(p, (v, _))| (p, v)).collect())
}

/// Whether some linear map of `graph` reads parameters.
pub fn has_params(graph: &Graph) -> bool {
    graph.nodes.iter().any(|n| matches!(&n.op, Op::Linear(l) if l.params.is_some()))
}
