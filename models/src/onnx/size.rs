//! How large a model's lowering will be, from tract's shapes alone, so that a
//! model far too large for this machine is refused before any memory is spent
//! (a 224×224 AlexNet used to run for a minute and then abort on a failed
//! allocation of several GiB).
//!
//! The measure is the number of terms the element-level lowering writes: one
//! per multiply-accumulate of a convolution or a matrix product, one per window
//! element of a pooling, a loop's body once per step, and one per output
//! element of anything else.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::cnn::{Conv, Deconv, MaxPool, SumPool};
use tract_onnx::tract_core::ops::einsum::EinSum;
use tract_onnx::tract_core::ops::gru_seq::GruSeq;
use tract_onnx::tract_core::ops::scan::Scan;

use crate::error::{Error, Result};
use crate::memory::size;

/// Peak bytes of compilation per lowered term: the float graph, its composed
/// copy, the quantised graph and the circuit layout together. Measured
/// 2026-11-26: a 3×3 convolution of 16 to 32 channels at 64×64 (18.9 M terms)
/// peaks at 1.6 GiB (92 bytes per term) with calibration over every scale, 1.3
/// GiB at one given scale; 112 leaves a margin.
pub const BYTES_PER_TERM: u64 = 112;

/// The work of one node: its name, operator and lowered terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeWork {
    /// Node name.
    pub node: String,
    /// Operator name as tract prints it.
    pub op: String,
    /// Terms its lowering writes.
    pub terms: u64,
}

/// The estimated size of a model's lowering.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workload {
    /// Terms over all computed nodes.
    pub terms: u64,
    /// The computed nodes, largest first.
    pub nodes: Vec<NodeWork>,
}

impl Workload {
    /// Estimated peak memory of compiling the model.
    pub fn bytes(&self) -> u64 {
        self.terms.saturating_mul(BYTES_PER_TERM)
    }

    /// Refuses a model whose compilation would need more than `available`
    /// bytes (no check when availability is unknown), naming its largest layers.
    pub fn check_fits(&self, available: Option<u64>) -> Result<()> {
        let Some(available) = available else { return Ok(()) };
        if self.bytes() <= available {
            return Ok(());
        }
        let largest: Vec<String> =
            self.nodes.iter().take(3).map(|n| format!("`{}` ({}) {}", n.node, n.op, millions(n.terms))).collect();
        Err(Error::TooLarge(format!(
            "the model computes about {} multiply-accumulates (largest: {}); compiling it takes about {}, and only {} are available",
            millions(self.terms),
            largest.join(", "),
            size(self.bytes()),
            size(available)
        )))
    }
}

fn millions(terms: u64) -> String {
    if terms >= 1_000_000_000 {
        format!("{:.1} G", terms as f64 / 1e9)
    } else if terms >= 10_000_000 {
        format!("{:.0} M", terms as f64 / 1e6)
    } else {
        format!("{:.1} M", terms as f64 / 1e6)
    }
}

fn elements(model: &TypedModel, outlet: OutletId) -> u64 {
    model
        .outlet_fact(outlet)
        .ok()
        .and_then(|f| f.shape.as_concrete().map(|s| s.iter().map(|&d| d as u64).product()))
        .unwrap_or(0)
}

/// Terms the lowering of `node` writes.
fn node_terms(model: &TypedModel, node: &TypedNode) -> u64 {
    let out = (0..node.outputs.len()).map(|slot| elements(model, OutletId::new(node.id, slot))).sum::<u64>();
    let taps = |kernel: &[usize]| kernel.iter().map(|&d| d as u64).product::<u64>().max(1);
    if let Some(conv) = node.op_as::<Conv>() {
        let per_output = (conv.pool_spec.input_channels / conv.group.max(1)) as u64;
        return out.saturating_mul(per_output.saturating_mul(taps(&conv.pool_spec.kernel_shape)));
    }
    if let Some(deconv) = node.op_as::<Deconv>() {
        let input = node.inputs.first().map_or(0, |&o| elements(model, o));
        let per_input = (deconv.pool_spec.output_channels / deconv.group.max(1)) as u64;
        return input.saturating_mul(per_input.saturating_mul(taps(&deconv.pool_spec.kernel_shape)));
    }
    if let Some(pool) = node.op_as::<MaxPool>() {
        return out.saturating_mul(taps(&pool.pool_spec.kernel_shape));
    }
    if let Some(pool) = node.op_as::<SumPool>() {
        return out.saturating_mul(taps(&pool.pool_spec.kernel_shape));
    }
    if let Some(scan) = node.op_as::<Scan>() {
        // Unrolled: the body once per step of the scanned axis.
        let steps = scan.input_mapping.iter().zip(&node.inputs).find_map(|(m, &o)| {
            let info = m.as_scan()?;
            let fact = model.outlet_fact(o).ok()?;
            fact.shape.as_concrete().and_then(|s| s.get(info.axis).copied())
        });
        let body = super::lower::workload(&scan.body).map_or(0, |w| w.terms);
        return (steps.unwrap_or(1) as u64).saturating_mul(body).max(out);
    }
    if let Some(gru) = node.op_as::<GruSeq>() {
        // Unrolled: per step and batch row, the recurrent product (3h·h), the
        // input-side one (3h·features, unless tract moved it out) and the cell.
        let x = node.inputs.first().and_then(|&o| model.outlet_fact(o).ok()?.shape.as_concrete().map(|s| s.to_vec()));
        let Some(&[batch, steps, width]) = x.as_deref() else { return out };
        let h = gru.hidden as u64;
        let input_side = if gru.projected { 0 } else { 3 * h * width as u64 };
        let per_row = 3 * h * h + input_side + 12 * h;
        return (batch as u64).saturating_mul(steps as u64).saturating_mul(per_row).max(out);
    }
    if let Some(einsum) = node.op_as::<EinSum>() {
        // One term per point of the index space: the product of every axis's size.
        let mut terms = 1u64;
        for axis in einsum.axes.iter_all_axes() {
            let dim = axis.inputs.iter().enumerate().find_map(|(slot, positions)| {
                let &pos = positions.first()?;
                let fact = model.outlet_fact(*node.inputs.get(slot)?).ok()?;
                fact.shape.as_concrete().and_then(|s| s.get(pos).copied())
            });
            terms = terms.saturating_mul(dim.unwrap_or(1) as u64);
        }
        return terms.max(out);
    }
    out
}

/// The workload of the nodes of `model` that are computed (`computed[id]`):
/// constants and nodes folded at compile time write no terms.
pub(crate) fn workload(model: &TypedModel, computed: &[bool]) -> Workload {
    let mut nodes: Vec<NodeWork> = model
        .nodes()
        .iter()
        .filter(|n| computed.get(n.id).copied().unwrap_or(false))
        .map(|n| NodeWork { node: n.name.clone(), op: n.op.name().to_string(), terms: node_terms(model, n) })
        .collect();
    nodes.sort_by_key(|n| std::cmp::Reverse(n.terms));
    Workload { terms: nodes.iter().map(|n| n.terms).fold(0u64, u64::saturating_add), nodes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(terms: &[u64]) -> Workload {
        let nodes = terms
            .iter()
            .enumerate()
            .map(|(i, &t)| NodeWork { node: format!("n{i}"), op: "Conv".into(), terms: t })
            .collect();
        Workload { terms: terms.iter().sum(), nodes }
    }

    #[test]
    fn a_model_beyond_the_memory_is_refused_with_its_largest_layers() {
        let w = work(&[200_000_000, 50_000_000, 3_000_000, 1_000]);
        assert_eq!(w.bytes(), 253_001_000 * BYTES_PER_TERM);
        assert!(w.check_fits(None).is_ok(), "unknown availability does not block");
        assert!(w.check_fits(Some(w.bytes())).is_ok());
        let err = w.check_fits(Some(8 << 30)).unwrap_err().to_string();
        for part in ["253 M multiply-accumulates", "`n0` (Conv) 200 M", "`n2` (Conv) 3.0 M", "8.0 GiB", "hint:"] {
            assert!(err.contains(part), "{part:?} in {err}");
        }
        assert!(!err.contains("`n3`"), "three layers named: {err}");
        assert!(work(&[4_200_000_000]).check_fits(Some(1 << 30)).unwrap_err().to_string().contains("4.2 G"));
    }
}
