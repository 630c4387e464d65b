//! ONNX ConvTranspose (tract's `Deconv`) in many configurations — 1-D and 2-D,
//! strides, explicit and automatic padding, dilations, output padding, an
//! explicit output shape, groups (depthwise included), with and without bias,
//! batches — loaded through tract's ONNX front end: the float lowering equals
//! tract on random inputs, and the integer reference stays within the
//! quantisation error bound of an affine map.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod onnx_proto;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use tract_onnx::pb::{self, attribute_proto::AttributeType, tensor_proto::DataType};
use zkinfer_models::eval::evaluate;
use zkinfer_models::ir::Op;
use zkinfer_models::onnx::{OnnxModel, OpStatus};
use zkinfer_models::optimize::compose_linear;
use zkinfer_models::quantize::quantize_graph;
use zkinfer_models::quantize_inputs;

/// One ConvTranspose configuration.
#[derive(Clone, Debug)]
struct Config {
    name: &'static str,
    /// Input shape `[N, C_in, spatial...]`.
    input: Vec<usize>,
    out_channels: usize,
    kernel: Vec<usize>,
    group: usize,
    bias: bool,
    /// Integer attributes (strides, pads, dilations, output_padding, output_shape).
    ints: Vec<(&'static str, Vec<i64>)>,
    auto_pad: Option<&'static str>,
}

fn config(name: &'static str, input: &[usize], out_channels: usize, kernel: &[usize]) -> Config {
    Config {
        name,
        input: input.to_vec(),
        out_channels,
        kernel: kernel.to_vec(),
        group: 1,
        bias: true,
        ints: vec![],
        auto_pad: None,
    }
}

impl Config {
    fn with(mut self, attr: &'static str, v: &[i64]) -> Self {
        self.ints.push((attr, v.to_vec()));
        self
    }

    /// The ONNX model with random weights from `rng`, and the number of kernel
    /// weights.
    fn model(&self, rng: &mut ChaCha20Rng) -> OnnxModel {
        let c_in = self.input[1];
        let mut wshape = vec![c_in as i64, (self.out_channels / self.group) as i64];
        wshape.extend(self.kernel.iter().map(|&k| k as i64));
        let n_w: i64 = wshape.iter().product();
        let w: Vec<f32> = (0..n_w).map(|_| rng.gen_range(-0.5f32..0.5)).collect();
        let b: Vec<f32> = (0..self.out_channels).map(|_| rng.gen_range(-0.5f32..0.5)).collect();
        let tensor = |name: &str, dims: Vec<i64>, data: Vec<f32>| pb::TensorProto {
            name: name.into(),
            dims,
            data_type: DataType::Float as i32,
            float_data: data,
            ..Default::default()
        };
        let mut init = vec![tensor("w", wshape, w)];
        let mut inputs = vec!["x".to_string(), "w".to_string()];
        if self.bias {
            init.push(tensor("b", vec![self.out_channels as i64], b));
            inputs.push("b".into());
        }
        let mut attribute: Vec<pb::AttributeProto> = self
            .ints
            .iter()
            .map(|(name, v)| pb::AttributeProto {
                name: (*name).into(),
                r#type: AttributeType::Ints as i32,
                ints: v.clone(),
                ..Default::default()
            })
            .collect();
        attribute.push(pb::AttributeProto {
            name: "group".into(),
            r#type: AttributeType::Int as i32,
            i: self.group as i64,
            ..Default::default()
        });
        if let Some(p) = self.auto_pad {
            attribute.push(pb::AttributeProto {
                name: "auto_pad".into(),
                r#type: AttributeType::String as i32,
                s: p.as_bytes().to_vec(),
                ..Default::default()
            });
        }
        let node = pb::NodeProto {
            op_type: "ConvTranspose".into(),
            name: "deconv".into(),
            input: inputs,
            output: vec!["y".into()],
            attribute,
            ..Default::default()
        };
        onnx_proto::load("deconv", vec![node], init, &[("x", &self.input)], &["y"], 17)
    }
}

fn configs() -> Vec<Config> {
    let mut grouped = config("grouped, dilated, asymmetric pads", &[1, 4, 3, 4], 6, &[2, 3])
        .with("strides", &[1, 2])
        .with("dilations", &[2, 1])
        .with("pads", &[0, 1, 1, 0]);
    grouped.group = 2;
    let mut depthwise =
        config("depthwise", &[1, 3, 4, 4], 3, &[3, 3]).with("strides", &[2, 2]).with("pads", &[1, 1, 1, 1]);
    depthwise.group = 3;
    let mut no_bias = config("1-D, no bias", &[1, 3, 5], 2, &[4]).with("strides", &[3]).with("pads", &[2, 1]);
    no_bias.bias = false;
    let mut same = config("SAME_UPPER", &[1, 2, 3, 3], 2, &[3, 3]).with("strides", &[2, 2]);
    same.auto_pad = Some("SAME_UPPER");
    vec![
        config("stride 2, padding, output padding", &[1, 2, 4, 4], 3, &[3, 3])
            .with("strides", &[2, 2])
            .with("pads", &[1, 1, 1, 1])
            .with("output_padding", &[1, 1]),
        grouped,
        depthwise,
        no_bias,
        config("1-D, dilated, output padding", &[1, 2, 6], 3, &[3])
            .with("strides", &[2])
            .with("dilations", &[2])
            .with("output_padding", &[1]),
        config("kernel = stride (no overlap, as in GANs)", &[1, 4, 3, 3], 2, &[2, 2]).with("strides", &[2, 2]),
        config("explicit output shape", &[1, 2, 3, 4], 2, &[3, 3])
            .with("strides", &[2, 2])
            .with("output_shape", &[8, 9]),
        same,
        config("batch of 2", &[2, 2, 3, 3], 2, &[2, 3]).with("strides", &[1, 2]),
        config("3-D", &[1, 2, 2, 3, 2], 2, &[2, 2, 2]).with("strides", &[2, 1, 2]).with("pads", &[0, 1, 0, 1, 0, 1]),
    ]
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max)
}

#[test]
fn conv_transpose_matches_tract_in_every_configuration() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    for c in configs() {
        let model = model_checked(&c, &mut rng);
        let len: usize = c.input.iter().product();
        for trial in 0..3 {
            let inputs = vec![(0..len).map(|_| rng.gen_range(-1.5f32..1.5) as f64).collect::<Vec<_>>()];
            let want = model.run_float(&inputs).unwrap().concat();
            let mut g = model.lower().unwrap();
            let lowered = g.outputs_of(&g.evaluate(&inputs)).concat();
            let err = max_diff(&want, &lowered);
            assert!(err < 1e-5, "{}: float lowering differs from tract by {err}", c.name);
            compose_linear(&mut g, 8);
            // Each output is bias + Σ x·w over at most C_in/group · |kernel| terms
            // (|x| < 1.5, |w| < 0.5): within half a unit per quantised factor of
            // each term, plus the bias and the rescale.
            let terms = (c.input[1] / c.group * c.kernel.iter().product::<usize>()) as f64;
            for scale in [8, 12] {
                let graph = quantize_graph(&g, scale).unwrap();
                graph.validate().unwrap();
                assert!(
                    graph.lookup_tables().is_empty()
                        && graph.nodes.iter().all(|n| !matches!(n.op, Op::MulRescale { .. }))
                );
                let trace = evaluate(&graph, &quantize_inputs(&inputs, scale).unwrap()).unwrap();
                let unit = f64::powi(2.0, -(scale as i32));
                let got: Vec<f64> = trace.outputs(&graph).iter().map(|v| *v as f64 * unit).collect();
                let err = max_diff(&want, &got);
                let bound = (terms * (0.5 + 1.5) * 0.5 + 1.0) * unit;
                assert!(err <= bound, "{} trial {trial} scale {scale}: error {err} > {bound}", c.name);
            }
        }
    }
}

/// The model of `c`, checked to hold a supported Deconv.
fn model_checked(c: &Config, rng: &mut ChaCha20Rng) -> OnnxModel {
    let model = c.model(rng);
    let table = model.op_table();
    assert!(table.iter().any(|r| r.op == "Deconv"), "{}: {table:?}", c.name);
    for row in &table {
        assert!(!matches!(row.status, OpStatus::Unsupported(_)), "{}: {row:?}", c.name);
    }
    model
}
