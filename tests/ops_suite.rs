//! The shared operator suite: every case runs through tract's float reference,
//! zkinfer's float lowering, the integer reference and the circuit (MockProver).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rand::{Rng, SeedableRng};
use zkinfer_circuits::compile::CompileOptions;
use zkinfer_models::ir::Op;
use zkinfer_tests::cases;
use zkinfer_tests::{max_diff, prepare};

/// One case through tract, the float lowering, the integer reference and the
/// circuit (MockProver), with the error bounds of the suite.
fn check_case(case: cases::Case) {
    let name = case.name.clone();
    let p = prepare(case.model, case.inputs, &CompileOptions::default());
    assert!(p.lowering_error < 1e-4, "{name}: float lowering differs from tract by {}", p.lowering_error);
    let int = p.integer_outputs();
    let err = max_diff(&[int], &[p.reference.concat()]);
    let reported = p.compiled.settings.calibration_max_abs_error;
    assert!((err - reported).abs() < 1e-12, "{name}: reported error {reported} but measured {err}");
    let magnitude = p.reference.concat().iter().fold(1.0f64, |m, v| m.max(v.abs()));
    // Relative to the outputs, or a few units of the chosen fixed-point scale
    // (table lookups make high scales costly, so calibration may pick a low one;
    // each lookup adds at most half a unit plus |f'| times its input's error).
    let unit = f64::powi(2.0, -(p.compiled.graph.scale as i32));
    assert!(
        err < (1e-2 * magnitude).max(8.0 * unit),
        "{name}: integer reference error {err} at scale {}",
        p.compiled.graph.scale
    );
    p.assert_circuit_equals_reference(&name);
}

/// The probe of `op` for `case` among `all`, prepared on inputs drawn from
/// `value`.
fn prepare_probe(
    all: &[zkinfer_models::onnx::probe::Probe],
    op: &str,
    case: &str,
    mut value: impl FnMut() -> f64,
) -> zkinfer_tests::Prepared {
    let probe = all.iter().find(|p| p.op == op && p.case == case).expect("probe");
    let (model, lens) = zkinfer_models::onnx::probe::load(probe).expect("loads");
    let inputs: Vec<Vec<f64>> = lens.iter().map(|&n| (0..n).map(|_| value()).collect()).collect();
    prepare(model, inputs, &CompileOptions::default())
}

#[test]
fn every_case_agrees_across_tract_integer_reference_and_circuit() {
    for case in cases::all(7) {
        check_case(case);
    }
}

/// ArgMax/ArgMin and computed-index gathers over several random inputs, ties
/// included: the indices must be exact, so the float lowering must match tract.
#[test]
fn tree_operators_agree_on_many_inputs() {
    for seed in 0..6 {
        let case = cases::argmax_and_gathers(100 + seed);
        check_case(case);
    }
}

/// Floor, Ceil and Round (ties to even) must be exact, ties included.
#[test]
fn rounding_is_exact_on_many_inputs() {
    for seed in 0..4 {
        let case = cases::rounding(300 + seed);
        let name = case.name.clone();
        let p = prepare(case.model, case.inputs, &CompileOptions::default());
        assert!(p.lowering_error == 0.0, "{name}: the float lowering differs from tract by {}", p.lowering_error);
        let err = max_diff(&[p.integer_outputs()], &[p.reference.concat()]);
        assert!(err == 0.0, "{name}: integer reference error {err}");
        p.assert_circuit_equals_reference(&name);
    }
}

/// LSTM and GRU cells over several random inputs and states.
#[test]
fn recurrent_cells_agree_on_many_inputs() {
    for seed in 0..4 {
        check_case(cases::recurrent_cells(200 + seed));
    }
}

/// LSTM, GRU and RNN over three time steps: tract keeps them as a `Scan`, which
/// is unrolled; each iteration must agree with tract and the circuit with the
/// integer reference. Also Resize (nearest, linear and cubic; up and down),
/// CumSum, Trilu,
/// ScatterElements, ReduceProd, the normalisations built on MeanOfSquares
/// (GroupNormalization of opset 21 and RMSNormalization of opset 23 among them)
/// and opset 20's Gelu, probed the same way.
#[test]
fn probed_operators_agree_with_tract_and_the_circuit() {
    use zkinfer_models::onnx::probe::probes;
    let mut rng = rand::rngs::StdRng::seed_from_u64(31);
    let wanted = [
        ("LSTM", "three time steps"),
        ("GRU", "three time steps"),
        ("RNN", ""),
        ("Resize", "nearest, integer scales"),
        ("Resize", "nearest, fractional scales"),
        ("Resize", "linear (bilinear)"),
        ("Resize", "linear, downscaling"),
        ("Resize", "cubic"),
        ("Resize", "cubic, exclude_outside"),
        ("LRN", ""),
        ("Hardmax", ""),
        ("QuantizeLinear", ""),
        ("IsNaN", ""),
        ("TopK", ""),
        ("TopK", "smallest, along the first axis"),
        ("ScatterND", ""),
        ("Mod", "by a constant"),
        ("Pow", "constant base, computed exponent"),
        ("CumSum", ""),
        ("Trilu", ""),
        ("ScatterElements", ""),
        ("InstanceNormalization", ""),
        ("MeanVarianceNormalization", ""),
        ("ReduceProd", ""),
        ("Gelu", ""),
        ("Gelu", "tanh"),
        ("GroupNormalization", ""),
        ("RMSNormalization", ""),
        ("DFT", "real signal"),
        ("DFT", "inverse, complex"),
        ("DFT", "one-sided"),
        ("STFT", ""),
        ("Loop", "fixed trip count, a carried value and a scan output"),
        ("If", "computed condition"),
    ];
    let all = probes();
    for (op, case) in wanted {
        let p = prepare_probe(&all, op, case, || rng.gen_range(-1.0..1.0));
        assert!(p.lowering_error < 1e-4, "{op}: float lowering differs from tract by {}", p.lowering_error);
        let err = max_diff(&[p.integer_outputs()], &[p.reference.concat()]);
        assert!(err < 2e-2, "{op}: integer reference error {err}");
        p.assert_circuit_equals_reference(op);
    }
}

/// Integer division (truncating, by 3 and by −4), shifts of computed integers
/// by constants and GatherND by computed indices must be exact: the probes
/// run on integer inputs.
#[test]
fn integer_operations_are_exact() {
    use zkinfer_models::onnx::probe::probes;
    let mut rng = rand::rngs::StdRng::seed_from_u64(41);
    let wanted = [
        ("Div", "of integers by a constant (truncating)", -120..120),
        ("Div", "of integers by a power of two", -120..120),
        ("BitShift", "computed, left by constants", 0..32),
        ("BitShift", "computed, right by constants", 0..250),
        ("GatherND", "computed indices", 0..2),
    ];
    let all = probes();
    for (op, case, range) in wanted {
        let p = prepare_probe(&all, op, case, || f64::from(rng.gen_range(range.clone())));
        let name = format!("{op} {case}");
        assert!(p.lowering_error == 0.0, "{name}: the float lowering differs from tract by {}", p.lowering_error);
        let err = max_diff(&[p.integer_outputs()], &[p.reference.concat()]);
        assert!(err == 0.0, "{name}: integer reference error {err}");
        p.assert_circuit_equals_reference(&name);
    }
    // By computed divisors of both signs (never 0): exact, truncating.
    let name = "Div of integers by a computed divisor (truncating)";
    let p = prepare_probe(&all, "Div", "of integers by a computed divisor (truncating)", || {
        let v = f64::from(rng.gen_range(1..60));
        if rng.gen_bool(0.5) {
            -v
        } else {
            v
        }
    });
    assert!(p.lowering_error == 0.0, "{name}: the float lowering differs from tract by {}", p.lowering_error);
    let err = max_diff(&[p.integer_outputs()], &[p.reference.concat()]);
    assert!(err == 0.0, "{name}: integer reference error {err}");
    p.assert_circuit_equals_reference(name);
}

#[test]
fn fixed_scales_also_agree() {
    for scale in [5, 9, 14] {
        let opts = CompileOptions { scale: Some(scale), ..Default::default() };
        let case = cases::conv_stride_pad(11);
        let p = prepare(case.model, case.inputs, &opts);
        assert_eq!(p.compiled.graph.scale, scale);
        p.assert_circuit_equals_reference(&format!("conv at scale {scale}"));
    }
}

#[test]
fn batchnorm_folds_into_the_preceding_convolution() {
    let case = cases::conv_batchnorm(3);
    let p = prepare(case.model, case.inputs, &CompileOptions::default());
    let linear = p.compiled.graph.nodes.iter().filter(|n| matches!(n.op, Op::Linear(_))).count();
    assert_eq!(linear, 1, "conv, scale and shift are one affine map");
    let relu = p.compiled.graph.nodes.iter().any(|n| matches!(n.op, Op::Rescale { relu: true, .. }));
    assert!(relu, "the ReLU fuses into the rescale");
}

#[test]
fn batchnorm_folds_into_hidden_convolution_weights() {
    use zkinfer_circuits::visibility::{Visibilities, Visibility};
    let case = cases::conv_batchnorm(3);
    let visibility = Visibilities { weights: Visibility::Hashed, ..Default::default() };
    let p = prepare(case.model, case.inputs, &CompileOptions { visibility, ..Default::default() });
    let linear: Vec<_> = p.compiled.graph.nodes.iter().filter(|n| matches!(n.op, Op::Linear(_))).collect();
    assert_eq!(linear.len(), 1, "conv, scale and shift are one affine map with hidden weights too");
    assert!(matches!(&linear[0].op, Op::Linear(l) if l.params.is_some()));
    let params = zkinfer_models::params::committed_params(&p.compiled.graph).expect("one value per parameter");
    assert_eq!(params.len(), 4 * 3 * 3 * 3 + 4, "each kernel element and channel bias, scaled and shifted");
    p.assert_circuit_equals_reference("conv + batchnorm with hidden weights");
}

#[test]
fn fake_quantisation_rounds_and_saturates_like_8_bit_inference() {
    for seed in 0..3 {
        let case = cases::quantize_dequantize(40 + seed);
        let p = prepare(case.model, case.inputs, &CompileOptions { scale: Some(14), ..Default::default() });
        assert!(p.lowering_error < 1e-4, "float lowering differs from tract by {}", p.lowering_error);
        let err = max_diff(&[p.integer_outputs()], &[p.reference.concat()]);
        // Measured 6.3e-3 at scale 14 (1.8e-1 at scale 10, 4x less per 2 bits):
        // the step 0.05 itself is a fixed-point weight, off by up to half a unit,
        // times q up to 127 and twelve terms. The rounding and the clamps are exact.
        assert!(err < 2e-2, "seed {seed}: error {err}");
        p.assert_circuit_equals_reference("QuantizeLinear → DequantizeLinear → Gemm");
    }
}

/// MatMulInteger and ConvInteger on 8-bit inputs: integer accumulators, equal
/// to tract's exactly; DynamicQuantizeLinear's outputs within a step of tract's
/// (its rounding is half up where tract's is half to even).
#[test]
fn integer_kernels_are_exact_and_the_dynamic_quantiser_close() {
    use zkinfer_models::onnx::probe::{load, probes};
    let mut rng = rand::rngs::StdRng::seed_from_u64(77);
    for op in ["MatMulInteger", "ConvInteger", "DynamicQuantizeLinear"] {
        let probe = probes().into_iter().find(|p| p.op == op).expect("probe");
        let (model, lens) = load(&probe).expect("loads");
        let integers = op != "DynamicQuantizeLinear";
        let inputs: Vec<Vec<f64>> = lens
            .iter()
            .map(|&n| {
                (0..n)
                    .map(|_| if integers { f64::from(rng.gen_range(0u8..=255)) } else { rng.gen_range(-1.0..1.0) })
                    .collect()
            })
            .collect();
        let p = prepare(model, inputs, &CompileOptions::default());
        let err = max_diff(&[p.integer_outputs()], &[p.reference.concat()]);
        let bound = if integers { 0.0 } else { 1.0 };
        assert!(err <= bound, "{op}: error {err}");
        p.assert_circuit_equals_reference(op);
    }
}

/// Mod by constants and by computed divisors, on grid values: exact.
#[test]
fn remainders_are_exact_with_the_dividends_sign() {
    type Make = fn(u64) -> cases::Case;
    let kinds: [(&str, Make); 2] =
        [("Mod by constants", cases::remainders), ("Mod by computed divisors", cases::computed_remainders)];
    for (what, make) in kinds {
        for seed in 0..3 {
            let case = make(70 + seed);
            let p = prepare(case.model, case.inputs, &CompileOptions::default());
            let err = max_diff(&[p.integer_outputs()], &[p.reference.concat()]);
            assert_eq!(err, 0.0, "{what}, seed {seed}: fmod of grid values is exact");
            p.assert_circuit_equals_reference(what);
        }
    }
}

#[test]
fn scatters_by_computed_indices_agree_with_tract() {
    for seed in 0..4 {
        let case = cases::computed_scatters(90 + seed);
        let p = prepare(case.model, case.inputs, &CompileOptions::default());
        assert!(p.lowering_error < 1e-4, "seed {seed}: float lowering differs from tract by {}", p.lowering_error);
        let err = max_diff(&[p.integer_outputs()], &[p.reference.concat()]);
        let unit = f64::powi(2.0, -(p.compiled.graph.scale as i32));
        // Moved elements keep their quantisation (half a unit).
        assert!(err <= unit, "seed {seed}: error {err}");
        p.assert_circuit_equals_reference("scatters by computed indices");
    }
}

/// LpPool, which tract cannot load, is rewritten before loading into
/// `(k · AveragePool(|x|^p))^(1/p)`: checked against LpPool computed here from
/// its definition, then through the integer reference and the circuit.
#[test]
fn lp_pool_is_rewritten_to_its_definition() {
    use zkinfer_models::onnx::probe::{load, probes};
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    // (case, p, kernel, stride, pad) on the probe's [1, 2, 4, 4] input.
    for (case, p, k, stride, pad) in [("", 2, 2, 1, 0), ("p = 3, stride 2, padded", 3, 3, 2, 1)] {
        let probe = probes().into_iter().find(|q| q.op == "LpPool" && q.case == case).expect("probe");
        let (model, lens) = load(&probe).expect("loads");
        let x: Vec<f64> = (0..lens[0]).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let side = 4i64;
        let out = (side + 2 * pad - k) / stride + 1;
        let mut want = Vec::new();
        for c in 0..2 {
            for oy in 0..out {
                for ox in 0..out {
                    let mut sum = 0.0;
                    for dy in 0..k {
                        for dx in 0..k {
                            let (y, xx) = (oy * stride - pad + dy, ox * stride - pad + dx);
                            if (0..side).contains(&y) && (0..side).contains(&xx) {
                                sum += x[(c * 16 + y * 4 + xx) as usize].abs().powi(p);
                            }
                        }
                    }
                    want.push(sum.powf(1.0 / f64::from(p)));
                }
            }
        }
        let prepared = prepare(model, vec![x], &CompileOptions::default());
        let tract = prepared.reference.concat();
        assert!(max_diff(std::slice::from_ref(&tract), &[want]) < 1e-5, "{case}: the rewrite is not LpPool");
        let err = max_diff(&[prepared.integer_outputs()], &[tract]);
        assert!(err < 2e-2, "{case}: integer reference error {err}");
        prepared.assert_circuit_equals_reference("LpPool");
    }
}

#[test]
fn casts_to_integers_truncate_exactly() {
    for seed in 0..3 {
        let case = cases::truncating_cast(60 + seed);
        let p = prepare(case.model, case.inputs, &CompileOptions::default());
        let err = max_diff(&[p.integer_outputs()], &[p.reference.concat()]);
        assert_eq!(err, 0.0, "seed {seed}: trunc(x)/2 is exact on the quantised input");
        p.assert_circuit_equals_reference("Cast to int64 and back");
    }
}

#[test]
fn activation_free_dense_stacks_collapse() {
    let case = cases::matmul_constant_left(5);
    let p = prepare(case.model, case.inputs, &CompileOptions::default());
    assert!(p.compiled.graph.linear_terms() <= 2 * 4 * 3);
}

#[test]
fn lookups_are_accurate_at_a_higher_scale() {
    let case = cases::nonlinear(5);
    let p = prepare(case.model, case.inputs, &CompileOptions { scale: Some(10), ..Default::default() });
    let err = max_diff(&[p.integer_outputs()], &[p.reference.concat()]);
    assert!(err < 4e-3, "sigmoid, tanh and GELU at scale 10: error {err}");
    assert!(!p.compiled.graph.lookup_tables().is_empty());
    p.assert_circuit_equals_reference("nonlinear at scale 10");
}

#[test]
fn transposed_convolutions_and_new_functions_agree_at_fixed_scales() {
    // Bounds in units of the scale (measured: 1.4–1.7, 1.1, 4.0–4.6, 3.3 and
    // 2.6–2.9): a transposed convolution is an affine map, half a unit per
    // quantised factor of its terms; the others follow the per-function bounds
    // of models/tests/funcs_onnx.rs, composed with the layers in front of them.
    for scale in [8, 12] {
        let unit = f64::powi(2.0, -scale);
        for (case, units) in [
            (cases::conv_transpose(2), 8.0),
            (cases::periodic_and_log(2), 3.0),
            (cases::roots_and_reciprocals(2), 10.0),
            (cases::activations(2), 8.0),
            (cases::log_softmax(2), 6.0),
        ] {
            let name = format!("{} at scale {scale}", case.name);
            let p =
                prepare(case.model, case.inputs, &CompileOptions { scale: Some(scale as u32), ..Default::default() });
            assert!(p.lowering_error < 1e-4, "{name}: float lowering differs from tract by {}", p.lowering_error);
            let err = max_diff(&[p.integer_outputs()], &[p.reference.concat()]);
            assert!(err <= units * unit, "{name}: integer reference error {err} ({} units)", err / unit);
            p.assert_circuit_equals_reference(&name);
        }
    }
    // The compact (EVM) profile lays the same rows out differently: the
    // division's constant numerator, the reduction's rescales, the new tables.
    for case in [cases::roots_and_reciprocals(4), cases::periodic_and_log(4), cases::conv_transpose(4)] {
        let name = format!("{} (evm profile)", case.name);
        let opts =
            CompileOptions { scale: Some(8), profile: zkinfer_circuits::plan::Profile::Evm, ..Default::default() };
        let p = prepare(case.model, case.inputs, &opts);
        p.assert_circuit_equals_reference(&name);
    }
}

#[test]
fn comparisons_logic_and_where_are_exact_at_every_scale() {
    // Grid inputs: every value and every difference is exact at these scales, so
    // the float lowering, the integer reference and the circuit all equal tract.
    for scale in [4, 9, 13] {
        for seed in [1, 2] {
            for case in [cases::comparisons(seed), cases::logic_and_where(seed)] {
                let name = format!("{} (seed {seed}, scale {scale})", case.name);
                let p = prepare(case.model, case.inputs, &CompileOptions { scale: Some(scale), ..Default::default() });
                assert_eq!(p.lowering_error, 0.0, "{name}: the float graph is the ONNX semantics");
                let err = max_diff(&[p.integer_outputs()], &[p.reference.concat()]);
                assert_eq!(err, 0.0, "{name}: integer reference differs from tract");
                let steps = p.compiled.graph.lookup_tables();
                assert!(steps.iter().all(|(f, bits)| f.is_step() && *bits == 2), "{name}: small step tables {steps:?}");
                p.assert_circuit_equals_reference(&name);
            }
        }
    }
}

#[test]
fn quantised_comparisons_differ_from_float_only_near_ties() {
    use tract_onnx::prelude::*;
    use tract_onnx::tract_core::ops::logic::{CompEq, CompGT, CompGTE, CompLT, CompLTE};
    use zkinfer_tests::cases::{comparison, to_float, Builder};
    let scale = 6;
    let unit = f64::powi(2.0, -scale);
    let mut near = 0;
    for seed in 0..6u64 {
        let mut b = Builder::new(seed);
        let x = b.input(&[4, 8], 1.0);
        // Constants a few quantisation units from some inputs: near-ties happen.
        let row: Vec<f32> = (0..8).map(|i| (i as f32 - 3.5) * 0.25 + 0.3 * unit as f32).collect();
        let c = b.tensor(tract_ndarray::Array2::from_shape_vec((1, 8), row.clone()).unwrap().into_tensor());
        let ops = [
            b.op("gt", comparison(CompGT), &[x, c]),
            b.op("lt", comparison(CompLT), &[x, c]),
            b.op("ge", comparison(CompGTE), &[x, c]),
            b.op("le", comparison(CompLTE), &[x, c]),
            b.op("eq", comparison(CompEq), &[x, c]),
        ];
        let outs: Vec<OutletId> = ops.iter().map(|o| b.op("cast", to_float(), &[*o])).collect();
        let mut case = b.finish("near_ties", &outs);
        // Put some inputs within a unit of the constants.
        for (i, v) in case.inputs[0].iter_mut().enumerate() {
            if i % 5 == 0 {
                *v = row[i % 8] as f64 + (i as f64 / 32.0 - 0.5) * 2.0 * unit;
            }
        }
        let xs = case.inputs[0].clone();
        let p = prepare(case.model, case.inputs, &CompileOptions { scale: Some(scale as u32), ..Default::default() });
        assert_eq!(p.lowering_error, 0.0, "the float graph compares exactly as tract");
        let got = p.integer_outputs();
        let want = p.reference.concat();
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            let i = k % xs.len();
            let d = xs[i] - row[i % 8] as f64;
            if g != w {
                assert!(d.abs() <= unit, "output {k}: quantised comparison differs at |x - c| = {} > 1 unit", d.abs());
                near += 1;
            } else {
                assert!(*g == 0.0 || *g == 1.0);
            }
        }
        if seed == 0 {
            p.assert_circuit_equals_reference("near ties");
        }
    }
    assert!(near > 0, "the test has near-ties that quantisation decides differently");
}

#[test]
fn logic_model_proves_verifies_and_rejects_a_changed_output() {
    use halo2_axiom::halo2curves::bn256::Fr;
    use halo2_axiom::halo2curves::ff::PrimeField;
    let case = cases::logic_and_where(11);
    let p = prepare(case.model, case.inputs, &CompileOptions::default());
    assert!(p.compiled.shape.uses_func_table());
    let dir = tempfile::tempdir().unwrap();
    let srs = zkinfer_prover::srs::SrsStore::new(dir.path()).get(p.compiled.shape.k).unwrap();
    let pk = zkinfer_prover::keys::keygen(&p.compiled, &srs).unwrap();
    let proof = zkinfer_prover::prove::prove(&p.compiled, &pk, &srs.params, p.witness()).unwrap();
    let (vk, params) = (pk.verifying_key(), srs.verifier_params());
    zkinfer_verifier::verify(&vk, &params, &proof).unwrap();
    assert_eq!(proof.outputs().unwrap(), p.witness().outputs);
    // A changed public output is rejected.
    let mut bad = proof.clone();
    let mut out = bad.instances_fr().unwrap();
    out[0] += Fr::one();
    bad.instances = out.iter().map(PrimeField::to_repr).collect();
    assert!(zkinfer_verifier::verify(&vk, &params, &bad).is_err());
}

#[test]
fn iris_example_codes_equal_the_float_codes() {
    use zkinfer_models::input::read_input_file;
    use zkinfer_models::onnx::OnnxModel;
    // examples/iris (scripts/make_iris_model.py): Gabor convolution, Greater(·, 0),
    // Cast. Weights and grey levels are exact in fixed point, so only responses
    // within half a unit above zero could round to the other bit; neither sample
    // has one, so every bit equals tract's.
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/iris");
    let mut codes = Vec::new();
    for input in ["input.json", "input_other.json"] {
        let data = read_input_file(&root.join(input)).unwrap();
        let lens: Vec<usize> = data.tensors.iter().map(|t| t.len()).collect();
        let model = OnnxModel::load(&root.join("network.onnx"), None, &lens).unwrap();
        let p = prepare(model, data.tensors, &CompileOptions::default());
        assert_eq!(p.lowering_error, 0.0, "{input}");
        let code = p.integer_outputs();
        assert_eq!(code.len(), 512);
        assert_eq!(code, p.reference.concat(), "{input}: every bit as in floating point");
        assert!(p.compiled.shape.k <= 14, "{input}: k = {}", p.compiled.shape.k);
        if input == "input.json" {
            p.assert_circuit_equals_reference("iris");
        }
        codes.push(code);
    }
    let hamming = codes[0].iter().zip(&codes[1]).filter(|(a, b)| a != b).count() as f64 / 512.0;
    assert!((0.4..0.6).contains(&hamming), "two different irises differ in about half their bits: {hamming}");
}

/// Division by computed divisors of either sign (and a constant over one), and
/// LayerNorm as older exporters decompose it, over several random inputs. tract
/// turns `x / y` into `x · (1/y)`: each reciprocal is a proven division.
#[test]
fn divisions_by_computed_divisors_agree_on_many_inputs() {
    let case = cases::divisions(500);
    let p = prepare(case.model, case.inputs, &CompileOptions::default());
    let divisions = p.compiled.graph.nodes.iter().filter(|n| matches!(n.op, Op::DivRescale { .. })).count();
    assert!(divisions >= 3, "x/(y²+½), x/±(y²+½) and the norm each divide, found {divisions}");
    for seed in 0..4 {
        check_case(cases::divisions(500 + seed));
    }
}

/// Masked positions (−∞ by Where, −1e9 added) leave the softmax: their weights
/// are the constant 0, over several inputs.
#[test]
fn masked_softmax_positions_weigh_zero() {
    for seed in 0..3 {
        let case = cases::masked_attention(600 + seed);
        let p = prepare(case.model, case.inputs, &CompileOptions::default());
        let outputs = p.integer_outputs();
        // The second output (the additively masked softmax, 4×4 after the 4×4
        // context): above the diagonal exactly 0.
        for i in 0..16 {
            if i % 4 > i / 4 {
                assert_eq!(outputs[16 + i], 0.0, "seed {seed}: masked weight {i}");
            }
        }
        check_case(cases::masked_attention(600 + seed));
    }
}
