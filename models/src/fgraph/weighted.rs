//! Linear maps whose coefficients come from a layer's weight tensor: plain affine
//! rows by default, parameter-tagged rows when weights are hidden
//! ([`crate::params`]).

use super::{AffineRow, Elem, FGraph, FLinear, FNode, FOp, View};
use crate::ir::Ref;
use crate::params::{LinearParams, ParamId};

/// One output of a parametrised layer: `bias[b] + Σ weights[i] · elem`, by
/// indices into the layer's weight and bias tensors.
#[derive(Clone, Debug, Default)]
pub struct WeightedRow {
    /// Index into the bias tensor, if the row has a bias.
    pub bias: Option<usize>,
    /// Terms: the element and the index of its weight.
    pub terms: Vec<(Elem, usize)>,
}

/// A layer's constant tensors: the weights its rows index, and the biases (when it
/// has a bias input).
#[derive(Clone, Copy, Debug)]
pub struct LayerWeights<'a> {
    /// Weight tensor, flattened.
    pub weights: &'a [f64],
    /// Bias tensor, flattened.
    pub bias: Option<&'a [f64]>,
}

impl FGraph {
    /// Registers `values` as parameters; returns the id of the first (the others
    /// follow in order).
    pub fn add_params(&mut self, values: &[f64]) -> ParamId {
        let first = self.params.len() as ParamId;
        self.params.extend_from_slice(values);
        first
    }

    /// Adds the rows of a layer with weights `layer`. With visible weights this is
    /// [`FGraph::affine`]. With hidden weights every weight and bias is registered
    /// as a parameter, and every row, terms included, becomes a linear output
    /// tagged with the parameters it reads; a row without a bias tensor gets a
    /// zero parameter of its own per distinct `bias_key`, so that where a model
    /// has no bias nothing shows either. `bias_key(row)` names the output channel
    /// or feature a row belongs to. A constant input that meets a weight folds to
    /// nothing when it is zero (padding) and is refused otherwise: the product
    /// would reveal the weight.
    pub fn weighted(
        &mut self,
        (name, origin): (&str, &str),
        shape: Vec<usize>,
        rows: Vec<WeightedRow>,
        layer: LayerWeights<'_>,
        bias_key: impl Fn(usize) -> usize,
    ) -> Result<View, String> {
        if !self.hide_weights {
            let rows = rows
                .into_iter()
                .map(|r| AffineRow {
                    bias: r.bias.and_then(|b| layer.bias.map(|bias| bias[b])).unwrap_or(0.0),
                    terms: r.terms.into_iter().map(|(e, i)| (e, layer.weights[i])).collect(),
                })
                .collect();
            return Ok(self.affine(name, origin, shape, rows));
        }
        let first_weight = self.add_params(layer.weights);
        let first_bias = layer.bias.map(|b| self.add_params(b));
        let mut zero_bias: std::collections::HashMap<usize, ParamId> = std::collections::HashMap::new();
        let (mut lin, mut params) = (FLinear::default(), LinearParams::default());
        for (index, row) in rows.into_iter().enumerate() {
            let mut terms = Vec::with_capacity(row.terms.len());
            let mut ids = Vec::with_capacity(row.terms.len());
            for (e, i) in row.terms {
                match e {
                    Elem::Ref(r) => {
                        terms.push((r, layer.weights[i]));
                        ids.push(Some(first_weight + i as ParamId));
                    }
                    Elem::Const(0.0) => {}
                    Elem::Const(c) => {
                        return Err(format!(
                            "a constant input ({c}) meets a hidden weight: the product would reveal the weight\n  hint: use --weights-visibility fixed for this model"
                        ))
                    }
                }
            }
            let (bias, bias_id) = match (row.bias, layer.bias, first_bias) {
                (Some(b), Some(values), Some(first)) => (values[b], first + b as ParamId),
                _ => {
                    let key = bias_key(index);
                    let next = self.params.len() as ParamId;
                    let id = *zero_bias.entry(key).or_insert(next);
                    if id == next {
                        self.params.push(0.0);
                    }
                    (0.0, id)
                }
            };
            params.terms.extend(ids);
            params.bias.push(Some(bias_id));
            lin.bias.push(bias);
            lin.terms.push_row(terms);
        }
        lin.params = Some(params);
        let len = lin.bias.len();
        let node = self.push(FNode { name: name.to_string(), origin: origin.to_string(), len, op: FOp::Linear(lin) });
        Ok(View { elems: (0..len).map(|i| Elem::Ref(Ref::new(node, i))).collect(), shape })
    }
}
