//! Element-wise functions as ONNX defines them, loaded through tract's ONNX
//! front end like a file: Log, Reciprocal (and Div of a constant by a tensor),
//! Softplus, HardSigmoid, HardSwish, LeakyRelu, Elu, Selu, Celu, PRelu,
//! Softsign, Mish, SiLU, Gelu (exact and tanh), Sin, Cos, Tan, the inverse
//! trigonometric and hyperbolic functions, Sinh, Cosh, Sqrt, Rsqrt, Pow with
//! constant exponents and LogSoftmax. For each: which tract operators it becomes
//! (all supported), the float lowering against tract on random inputs in the
//! function's domain, and the integer reference against tract at two scales
//! within a per-function bound stated below (in units `2^-s` of the scale, plus
//! an absolute part for the clamps of saturating tables).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod onnx_proto;

use onnx_proto::{float_tensor, node};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use tract_onnx::pb::{self, attribute_proto::AttributeType};
use zkinfer_models::eval::evaluate;
use zkinfer_models::func::Func;
use zkinfer_models::ir::{Graph, Op};
use zkinfer_models::onnx::{OnnxModel, OpStatus};
use zkinfer_models::optimize::compose_linear;
use zkinfer_models::quantize::quantize_graph;
use zkinfer_models::quantize_inputs;

fn with_float(mut n: pb::NodeProto, name: &str, v: f32) -> pb::NodeProto {
    n.attribute.push(pb::AttributeProto {
        name: name.into(),
        r#type: AttributeType::Float as i32,
        f: v,
        ..Default::default()
    });
    n
}

fn with_string(mut n: pb::NodeProto, name: &str, v: &str) -> pb::NodeProto {
    n.attribute.push(pb::AttributeProto {
        name: name.into(),
        r#type: AttributeType::String as i32,
        s: v.as_bytes().to_vec(),
        ..Default::default()
    });
    n
}

/// A one-input graph `x → y` of `nodes`, loaded as a file would be.
fn load(nodes: Vec<pb::NodeProto>, init: Vec<pb::TensorProto>, shape: &[usize], opset: i64) -> OnnxModel {
    onnx_proto::load("functions", nodes, init, &[("x", shape)], &["y"], opset)
}

/// One function under test.
struct Case {
    name: &'static str,
    nodes: Vec<pb::NodeProto>,
    init: Vec<pb::TensorProto>,
    shape: Vec<usize>,
    opset: i64,
    /// Inputs drawn uniformly from this range.
    range: (f64, f64),
    /// Each input negated with probability 1/2 (ranges that avoid 0 on both sides).
    both_signs: bool,
    /// Largest |float lowering − tract|.
    float_tol: f64,
    /// Largest |integer reference − tract|: `units · 2^-s + root_units · 2^(-s/2) + abs`.
    units: f64,
    root_units: f64,
    abs: f64,
    /// The lookup tables the quantised graph must use (exactly).
    tables: Vec<Func>,
}

fn case(name: &'static str, nodes: Vec<pb::NodeProto>, range: (f64, f64), units: f64, tables: &[Func]) -> Case {
    Case {
        name,
        nodes,
        init: vec![],
        shape: vec![2, 8],
        opset: 17,
        range,
        both_signs: false,
        float_tol: 2e-5,
        units,
        root_units: 0.0,
        abs: 0.0,
        tables: tables.to_vec(),
    }
}

fn scalar(name: &str, v: f32) -> pb::TensorProto {
    float_tensor(name, &[], &[v])
}

fn pow_case(name: &'static str, e: f32, range: (f64, f64), units: f64, tables: &[Func]) -> Case {
    let mut c = case(name, vec![node("Pow", &["x", "e"], "y")], range, units, tables);
    c.init = vec![scalar("e", e)];
    c
}

/// Every function, with its domain and error bound. The bounds follow from the
/// quantisation: an input is within half a unit, a table entry or a rescale adds
/// half a unit, and a function multiplies its input's error by its slope.
fn cases() -> Vec<Case> {
    use Func::*;
    let mut cases = vec![
        // |d ln x| ≤ 0.5u / x ≤ 2u on x ≥ 0.25, plus the entry's rounding.
        case("Log", vec![node("Log", &["x"], "y")], (0.25, 15.0), 3.0, &[Log, Positive]),
        // The positive branch: 0.5u / x² ≤ 2u on x ≥ 0.5, plus the division's rounding.
        case(
            "Reciprocal",
            vec![node("Relu", &["x"], "r"), node("Add", &["r", "half"], "p"), node("Reciprocal", &["p"], "y")],
            (-3.0, 3.0),
            3.0,
            &[],
        ),
        // Either sign: sign(x) · 1/|x|.
        case("Reciprocal (any sign)", vec![node("Reciprocal", &["x"], "y")], (0.5, 4.0), 3.0, &[Sign]),
        case("Div by a tensor", vec![node("Div", &["three", "x"], "y")], (0.75, 4.0), 8.0, &[Sign]),
        // max(x, 0) + ln(1 + e^-|x|): slope ≤ 1, two roundings; beyond ±8 the
        // tail's clamp costs at most 3.4e-4.
        case("Softplus", vec![node("Softplus", &["x"], "y")], (-7.5, 7.5), 2.0, &[SoftplusTail]),
        // Arithmetic: |x|·0.5u for α's rounding, the rescale, β's rounding.
        case(
            "HardSigmoid",
            vec![with_float(with_float(node("HardSigmoid", &["x"], "y"), "alpha", 0.3), "beta", 0.4)],
            (-4.0, 4.0),
            3.5,
            &[],
        ),
        // h = clamp(x/6 + 1/2) within 2.1u where |x| < 3; x·h within 3·2.1u + 1u.
        case("HardSwish", vec![node("HardSwish", &["x"], "y")], (-5.0, 5.0), 8.0, &[]),
        case("LeakyRelu", vec![with_float(node("LeakyRelu", &["x"], "y"), "alpha", 0.1)], (-4.0, 4.0), 3.0, &[]),
        case("LeakyRelu α > 1", vec![with_float(node("LeakyRelu", &["x"], "y"), "alpha", 1.5)], (-4.0, 4.0), 4.0, &[]),
        case("LeakyRelu α < 0", vec![with_float(node("LeakyRelu", &["x"], "y"), "alpha", -0.5)], (-4.0, 4.0), 3.0, &[]),
        // tract: Where(x < 0, α(e^x − 1), x).
        case("Elu", vec![with_float(node("Elu", &["x"], "y"), "alpha", 0.7)], (-6.0, 4.0), 3.0, &[Exp, Positive]),
        case("Selu", vec![node("Selu", &["x"], "y")], (-6.0, 4.0), 5.0, &[Exp, Positive]),
        case("Celu", vec![node("Celu", &["x"], "y")], (-6.0, 4.0), 4.0, &[Exp]),
        // x / (1 + |x|): a reciprocal of a provably positive value.
        case("Softsign", vec![node("Softsign", &["x"], "y")], (-6.0, 6.0), 4.0, &[]),
        // x · tanh(softplus(x)): |x| ≤ 4 times the tanh's error.
        case("Mish", vec![node("Mish", &["x"], "y")], (-4.0, 4.0), 12.0, &[SoftplusTail, Tanh]),
        // x · sigmoid(x), fused by tract into Silu.
        case("SiLU", vec![node("Sigmoid", &["x"], "s"), node("Mul", &["x", "s"], "y")], (-6.0, 6.0), 6.0, &[Sigmoid]),
        // The argument reduced modulo 2π (exact but for 2π's rounding), then
        // one lookup: the input's, the reduction's and the entry's rounding.
        case("Sin", vec![node("Sin", &["x"], "y")], (-20.0, 20.0), 2.0, &[Sin]),
        case("Cos", vec![node("Cos", &["x"], "y")], (-20.0, 20.0), 2.0, &[Cos]),
        // Many periods: the reduction's turn count is exact to a unit of 2^-2s.
        case("Sin (large arguments)", vec![node("Sin", &["x"], "y")], (-500.0, 500.0), 2.5, &[Sin]),
        // floor(sqrt): within 1u, plus the input's 0.5u · 1/(2√x) ≤ 0.5u on x ≥ 1/4.
        case("Sqrt", vec![node("Sqrt", &["x"], "y")], (0.25, 6.0), 2.0, &[]),
        // 1/√x on x ≥ 0.25: the root's 1.5u times 1/x ≤ 4, plus a division.
        case("Rsqrt", vec![node("Sqrt", &["x"], "r"), node("Reciprocal", &["r"], "y")], (0.25, 4.0), 8.0, &[]),
        pow_case("Pow 2", 2.0, (-3.0, 3.0), 4.0, &[]),
        // 3x²·0.5u + two rescales, |x| ≤ 2.
        pow_case("Pow 3", 3.0, (-2.0, 2.0), 10.0, &[]),
        pow_case("Pow 0.5", 0.5, (0.25, 6.0), 2.0, &[]),
        // x · √x: x·1.5u + √x·0.5u + a rescale, x ≤ 4.
        pow_case("Pow 1.5", 1.5, (0.0, 4.0), 9.0, &[]),
        pow_case("Pow -1", -1.0, (0.5, 4.0), 3.0, &[Sign]),
        pow_case("Pow -2", -2.0, (0.5, 3.0), 12.0, &[]),
        // exp(2.3 · ln x): the exponent within 2.3·1.5u + 0.5u, times the result ≤ 12.5.
        pow_case("Pow 2.3", 2.3, (0.5, 3.0), 64.0, &[Log, Exp, Positive]),
        // One lookup each: the input's 0.5u times the slope, plus the entry's.
        // asin: slope ≤ 3.2 on |x| ≤ 0.95; acos adds π/2's rounding.
        case("Asin", vec![node("Asin", &["x"], "y")], (-0.95, 0.95), 3.0, &[Asin]),
        case("Acos", vec![node("Acos", &["x"], "y")], (-0.95, 0.95), 4.0, &[Asin]),
        // atanh: slope ≤ 5.3 on |x| ≤ 0.9; asinh, acosh: slope ≤ 1 and ≤ 1.5.
        case("Atanh", vec![node("Atanh", &["x"], "y")], (-0.9, 0.9), 4.0, &[Atanh]),
        case("Asinh", vec![node("Asinh", &["x"], "y")], (-7.0, 7.0), 2.0, &[Asinh, Sign, Positive, Log]),
        case(
            "Asinh beyond the table",
            vec![node("Asinh", &["x"], "y")],
            (-200.0, 200.0),
            8.0,
            &[Asinh, Sign, Positive, Log],
        ),
        case("Acosh", vec![node("Acosh", &["x"], "y")], (1.2, 7.5), 2.0, &[Acosh, Positive, Log]),
        case("Acosh beyond the table", vec![node("Acosh", &["x"], "y")], (1.2, 200.0), 8.0, &[Acosh, Positive, Log]),
        // sign(x)·(T(min(|x|,1)) − T(1/max(|x|,1)) + π/4): two entries, π/4, the
        // reciprocal's rounding (slope of atan ≤ 1) and the sign product's rescale.
        case("Atan", vec![node("Atan", &["x"], "y")], (-6.0, 6.0), 6.0, &[Sign, Atan]),
        // Reduced modulo π, then the table: slope 1 + tan² ≤ 7.6 on |x| ≤ 1.2.
        case("Tan", vec![node("Tan", &["x"], "y")], (-1.2, 1.2), 10.0, &[Tan]),
        // (e^x ∓ e^-x)/2: the exponential's slope ≤ e^3 = 20 times 0.5u, twice, halved.
        case("Sinh", vec![node("Sinh", &["x"], "y")], (-3.0, 3.0), 14.0, &[Exp]),
        case("Cosh", vec![node("Cosh", &["x"], "y")], (-3.0, 3.0), 14.0, &[Exp]),
    ];
    // exp(y · ln p) with p = relu(x) + 0.5 (provably positive) and y = x: the
    // logarithm's 1.5u times |y| ≤ 2, the product's rescale, times the result ≤ 12.
    let mut computed = case(
        "Pow (computed exponent)",
        vec![node("Relu", &["x"], "r"), node("Add", &["r", "half"], "p"), node("Pow", &["p", "x"], "y")],
        (-2.0, 2.0),
        64.0,
        &[Log, Exp, Positive],
    );
    computed.init = vec![scalar("half", 0.5)];
    cases.push(computed);
    cases[1].init = vec![scalar("half", 0.5)];
    cases[3].init = vec![scalar("three", 3.0)];
    for c in &mut cases {
        c.both_signs = matches!(c.name, "Reciprocal (any sign)" | "Div by a tensor" | "Pow -1" | "Pow -2");
    }
    let mut prelu = case("PRelu", vec![node("PRelu", &["x", "slope"], "y")], (-4.0, 4.0), 3.0, &[Positive]);
    prelu.init = vec![float_tensor("slope", &[8], &[0.1, 0.2, 0.3, 0.4, -0.1, 0.5, 1.0, 0.0])];
    cases.push(prelu);
    let mut gelu = case("Gelu", vec![node("Gelu", &["x"], "y")], (-4.0, 4.0), 6.0, &[Erf]);
    gelu.opset = 20;
    cases.push(gelu);
    let mut gelu_tanh = case(
        "Gelu (tanh)",
        vec![with_string(node("Gelu", &["x"], "y"), "approximate", "tanh")],
        (-4.0, 4.0),
        8.0,
        &[Tanh],
    );
    gelu_tanh.opset = 20;
    cases.push(gelu_tanh);
    // x − max − ln Σ e^(x − max): the sum's n roundings of 0.5u over S ≥ 1, the
    // logarithm's; with 40 terms one square root first (its floor: 2u after
    // doubling the logarithm).
    for (name, n, units) in [("LogSoftmax", 8, 6.0), ("LogSoftmax (40 classes)", 40, 24.0)] {
        let mut c = case(name, vec![node("LogSoftmax", &["x"], "y")], (-3.0, 3.0), units, &[ExpNeg, Log]);
        c.shape = vec![2, n];
        cases.push(c);
    }
    // Near 0 the square root's slope is unbounded: |√a − √b| ≤ √|a − b|, so the
    // input's rounding costs up to √(u/2), plus 1u for the floor.
    let mut sqrt_small = case("Sqrt near 0", vec![node("Sqrt", &["x"], "y")], (0.0, 0.01), 1.0, &[]);
    sqrt_small.root_units = std::f64::consts::FRAC_1_SQRT_2;
    cases.push(sqrt_small);
    let mut softplus_wide =
        case("Softplus beyond the tables", vec![node("Softplus", &["x"], "y")], (-30.0, 30.0), 2.0, &[SoftplusTail]);
    softplus_wide.abs = 3.4e-4;
    softplus_wide.float_tol = 3.4e-4;
    cases.push(softplus_wide);
    // ln x above the table's 16: 4·ln(√√x), within 2.5u·4 of the input's rounding.
    cases.push(case("Log beyond 16", vec![node("Log", &["x"], "y")], (16.5, 3000.0), 8.0, &[Log, Positive]));
    // ln Σ e^x over rows of 8 values up to 60: shifted by the row's maximum,
    // so no exponential leaves its table.
    let mut lse = with_float(node("ReduceLogSumExp", &["x"], "y"), "unused", 0.0);
    lse.attribute.retain(|a| a.name != "unused");
    lse.attribute.push(pb::AttributeProto {
        name: "axes".into(),
        r#type: AttributeType::Ints as i32,
        ints: vec![1],
        ..Default::default()
    });
    cases.push(case("ReduceLogSumExp of large values", vec![lse], (20.0, 60.0), 8.0, &[ExpNeg, Log]));
    cases
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max)
}

fn lookups(graph: &Graph, func: Func) -> usize {
    graph.nodes.iter().filter(|n| matches!(&n.op, Op::Lookup { func: f, .. } if *f == func)).map(|n| n.len()).sum()
}

#[test]
fn functions_lower_and_quantise_within_their_bounds() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    for c in cases() {
        let model = load(c.nodes.clone(), c.init.clone(), &c.shape, c.opset);
        let table = model.op_table();
        for row in &table {
            assert!(!matches!(row.status, OpStatus::Unsupported(_)), "{}: {row:?}", c.name);
        }
        let len: usize = c.shape.iter().product();
        for trial in 0..4 {
            let x: Vec<f64> = (0..len)
                .map(|_| {
                    let v = rng.gen_range(c.range.0..c.range.1) as f32 as f64;
                    if c.both_signs && rng.gen_bool(0.5) {
                        -v
                    } else {
                        v
                    }
                })
                .collect();
            let inputs = vec![x];
            let want = model.run_float(&inputs).unwrap().concat();
            let mut g = model.lower().unwrap();
            let lowered = g.outputs_of(&g.evaluate(&inputs)).concat();
            let float_err = max_diff(&want, &lowered);
            assert!(float_err <= c.float_tol, "{} trial {trial}: float lowering differs by {float_err}", c.name);
            compose_linear(&mut g, 8);
            for scale in [8, 12] {
                let graph = quantize_graph(&g, scale).unwrap();
                graph.validate().unwrap();
                let mut tables: Vec<Func> = graph.lookup_tables().into_iter().map(|(f, _)| f).collect();
                tables.sort();
                let mut expected = c.tables.clone();
                expected.sort();
                assert_eq!(tables, expected, "{}: lookup tables", c.name);
                let trace = evaluate(&graph, &quantize_inputs(&inputs, scale).unwrap()).unwrap();
                let unit = f64::powi(2.0, -(scale as i32));
                let got: Vec<f64> = trace.outputs(&graph).iter().map(|v| *v as f64 * unit).collect();
                let err = max_diff(&want, &got);
                let bound = c.units * unit + c.root_units * unit.sqrt() + c.abs;
                assert!(err <= bound, "{} trial {trial} scale {scale}: error {err} > {bound}", c.name);
            }
        }
    }
}

#[test]
fn tract_expansions_become_the_intended_circuits() {
    let by_name = |name: &str| cases().into_iter().find(|c| c.name == name).unwrap();
    let quantised = |c: &Case| {
        let model = load(c.nodes.clone(), c.init.clone(), &c.shape, c.opset);
        let mut g = model.lower().unwrap();
        compose_linear(&mut g, 8);
        quantize_graph(&g, 8).unwrap()
    };
    // Softplus: no exponential or logarithm tables, one tail lookup per element.
    let g = quantised(&by_name("Softplus"));
    assert_eq!(lookups(&g, Func::SoftplusTail), 16);
    // LogSoftmax: one logarithm per group (2 rows of 8), no division; 40 classes
    // take one square root per group first.
    let g = quantised(&by_name("LogSoftmax"));
    assert_eq!(lookups(&g, Func::Log), 2);
    assert!(!g.nodes.iter().any(|n| matches!(n.op, Op::DivRescale { .. })));
    let g = quantised(&by_name("LogSoftmax (40 classes)"));
    assert_eq!(lookups(&g, Func::Log), 2);
    assert_eq!(g.nodes.iter().filter(|n| matches!(n.op, Op::Sqrt { .. })).map(|n| n.len()).sum::<usize>(), 2);
    // Sin: tables over ±4 (s + 3 bits), one lookup per element.
    let g = quantised(&by_name("Sin"));
    assert_eq!(g.lookup_tables(), vec![(Func::Sin, 11)]);
    // Log: the positive inputs [1, 2^12] units.
    assert_eq!(Func::Log.input_range(Func::Log.table_bits(8)), (1, 4096));
    // A reciprocal of a provably positive value needs no sign; HardSigmoid,
    // HardSwish and LeakyRelu need no table at all (checked in the first test).
    let g = quantised(&by_name("Reciprocal"));
    assert!(g.lookup_tables().is_empty());
}

#[test]
fn elu_lowers_as_tracts_where_of_an_exponential() {
    let model = load(vec![with_float(node("Elu", &["x"], "y"), "alpha", 0.7)], vec![], &[2, 8], 17);
    let ops: Vec<String> = model.op_table().into_iter().map(|r| r.op).collect();
    for op in ["LT", "Exp", "Iff"] {
        assert!(ops.iter().any(|o| o == op), "{op} in {ops:?}");
    }
}
