//! Recurrent layers and fused additions as PyTorch exports them, loaded
//! through tract's ONNX front end:
//!
//! - ONNX GRU with `linear_before_reset` (PyTorch's) over four or more steps,
//!   which tract turns into its whole-sequence `GruSeq`: forward, reverse and
//!   bidirectional, with and without bias, with a computed initial state, and
//!   above 64 hidden units (where tract moves the input-side product out of the
//!   op);
//! - a residual `Add` at 1×1 spatial size, which tract folds into the
//!   convolution before it as a computed bias (ResNet's last stage on a small
//!   image).
//!
//! In each, the float lowering equals tract on random inputs and the integer
//! reference stays close to it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod onnx_proto;

use onnx_proto::{float_tensor, node};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use tract_onnx::pb::{self, attribute_proto::AttributeType};
use zkinfer_models::eval::evaluate;
use zkinfer_models::onnx::{OnnxModel, OpStatus};
use zkinfer_models::optimize::compose_linear;
use zkinfer_models::quantize::quantize_graph;
use zkinfer_models::quantize_inputs;

fn int_attr(name: &str, i: i64) -> pb::AttributeProto {
    pb::AttributeProto { name: name.into(), r#type: AttributeType::Int as i32, i, ..Default::default() }
}

fn random(rng: &mut ChaCha20Rng, n: usize, r: f32) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-r..r)).collect()
}

/// One GRU layer.
struct Gru {
    name: &'static str,
    steps: usize,
    batch: usize,
    features: usize,
    hidden: usize,
    direction: &'static str,
    bias: bool,
    /// The initial state is a second model input (otherwise zero).
    initial_state: bool,
}

impl Gru {
    fn directions(&self) -> usize {
        if self.direction == "bidirectional" {
            2
        } else {
            1
        }
    }

    fn input_shapes(&self) -> Vec<Vec<usize>> {
        let mut shapes = vec![vec![self.steps, self.batch, self.features]];
        if self.initial_state {
            shapes.push(vec![self.directions(), self.batch, self.hidden]);
        }
        shapes
    }

    fn model(&self, rng: &mut ChaCha20Rng) -> OnnxModel {
        let (d, h, i) = (self.directions() as i64, self.hidden as i64, self.features as i64);
        // Weights of about 1/sqrt(fan-in), as PyTorch initialises them.
        let r = 1.0 / (self.hidden as f32).sqrt();
        let mut init = vec![
            float_tensor("W", &[d, 3 * h, i], &random(rng, (d * 3 * h * i) as usize, r)),
            float_tensor("R", &[d, 3 * h, h], &random(rng, (d * 3 * h * h) as usize, r)),
        ];
        let mut inputs = vec!["x", "W", "R"];
        if self.bias {
            init.push(float_tensor("B", &[d, 6 * h], &random(rng, (d * 6 * h) as usize, r)));
            inputs.push("B");
        }
        if self.initial_state {
            if !self.bias {
                inputs.push("");
            }
            inputs.extend(["", "h0"]);
        }
        let mut gru = node("GRU", &inputs, "Y");
        gru.output.push("Y_h".into());
        gru.attribute = vec![
            int_attr("hidden_size", h),
            int_attr("linear_before_reset", 1),
            pb::AttributeProto {
                name: "direction".into(),
                r#type: AttributeType::String as i32,
                s: self.direction.as_bytes().to_vec(),
                ..Default::default()
            },
        ];
        let shapes = self.input_shapes();
        let mut named: Vec<(&str, &[usize])> = vec![("x", &shapes[0])];
        if self.initial_state {
            named.push(("h0", &shapes[1]));
        }
        onnx_proto::load(self.name, vec![gru], init, &named, &["Y", "Y_h"], 17)
    }
}

fn grus() -> Vec<Gru> {
    let gru = |name, steps, hidden, direction| Gru {
        name,
        steps,
        batch: 1,
        features: 3,
        hidden,
        direction,
        bias: true,
        initial_state: false,
    };
    vec![
        gru("forward, 5 steps", 5, 4, "forward"),
        Gru { bias: false, ..gru("reverse, no bias", 4, 3, "reverse") },
        gru("bidirectional", 6, 3, "bidirectional"),
        Gru { batch: 2, initial_state: true, ..gru("batch of 2 from a computed state", 4, 3, "forward") },
        Gru { features: 2, ..gru("66 hidden units (input product outside the op)", 4, 66, "forward") },
    ]
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max)
}

/// Checks that `model` holds a supported `op`, that its float lowering equals
/// tract on `inputs`, and that the integer reference at scale 12 is within
/// `bound` of tract.
fn check(name: &str, model: &OnnxModel, op: &str, inputs: &[Vec<f64>], bound: f64) {
    let table = model.op_table();
    assert!(table.iter().any(|r| r.op == op), "{name}: no {op} in {table:?}");
    for row in &table {
        assert!(!matches!(row.status, OpStatus::Unsupported(_)), "{name}: {row:?}");
    }
    let want = model.run_float(inputs).unwrap().concat();
    let mut g = model.lower().unwrap();
    let lowered = g.outputs_of(&g.evaluate(inputs)).concat();
    let err = max_diff(&want, &lowered);
    assert!(err < 1e-5, "{name}: float lowering differs from tract by {err}");
    compose_linear(&mut g, 12);
    let graph = quantize_graph(&g, 12).unwrap();
    graph.validate().unwrap();
    let trace = evaluate(&graph, &quantize_inputs(inputs, 12).unwrap()).unwrap();
    let got: Vec<f64> = trace.outputs(&graph).iter().map(|v| *v as f64 / 4096.0).collect();
    let err = max_diff(&want, &got);
    assert!(err <= bound, "{name}: the integer reference is {err} from tract (bound {bound})");
}

#[test]
fn whole_sequence_grus_match_tract() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    for c in grus() {
        let model = c.model(&mut rng);
        for _ in 0..2 {
            let inputs: Vec<Vec<f64>> = c
                .input_shapes()
                .iter()
                .map(|s| (0..s.iter().product()).map(|_| rng.gen_range(-1.0..1.0)).collect())
                .collect();
            // States stay in (−1, 1); table and rounding errors of a few units
            // per step at scale 12.
            check(c.name, &model, "GruSeq", &inputs, 0.01);
        }
    }
}

#[test]
fn a_residual_folded_into_a_convolution_bias_matches_tract() {
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let c = 6;
    for (name, spatial, bias) in [("1×1, with bias", 1, true), ("1×1, no bias", 1, false), ("3×3", 3, true)] {
        let shape = [1, c, spatial, spatial];
        let mut init = vec![float_tensor("w", &[c as i64, c as i64, 3, 3], &random(&mut rng, c * c * 9, 0.3))];
        let mut conv_inputs = vec!["x", "w"];
        if bias {
            init.push(float_tensor("b", &[c as i64], &random(&mut rng, c, 0.3)));
            conv_inputs.push("b");
        }
        let mut conv = node("Conv", &conv_inputs, "conv");
        conv.attribute.push(pb::AttributeProto {
            name: "pads".into(),
            r#type: AttributeType::Ints as i32,
            ints: vec![1, 1, 1, 1],
            ..Default::default()
        });
        let nodes = vec![conv, node("Add", &["conv", "x"], "y")];
        let model = onnx_proto::load("residual", nodes, init, &[("x", &shape)], &["y"], 17);
        if spatial == 1 && !bias {
            // The case this test is for: the residual became the bias.
            assert!(model.op_table().iter().all(|r| r.op != "Add"), "{name}: tract kept the Add");
        }
        let inputs = vec![(0..shape.iter().product()).map(|_| rng.gen_range(-1.0..1.0)).collect::<Vec<f64>>()];
        check(name, &model, "Conv", &inputs, 0.01);
    }
}
