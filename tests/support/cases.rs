//! Small models built in code with tract's own operators — the shared suite every
//! layer runs against (tract float, zkinfer float lowering, integer reference,
//! circuit). One case per supported operator pattern, plus random generators for
//! property tests.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::axes::AxesMapping;
use tract_onnx::tract_core::ops::array::{Gather, Pad, PadMode, Slice, TypedConcat};
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::change_axes::AxisOp;
use tract_onnx::tract_core::ops::cnn::{Conv, KernelFormat, MaxPool, PaddingSpec, PoolSpec, SumPool};
use tract_onnx::tract_core::ops::einsum::EinSum;
use tract_onnx::tract_core::ops::math;
use tract_onnx::tract_core::ops::nn::DataFormat;
use zkinfer_models::onnx::OnnxModel;

/// A model and an input for it.
pub struct Case {
    /// Case name.
    pub name: String,
    /// The model (decluttered like a loaded one).
    pub model: OnnxModel,
    /// One flattened tensor per model input.
    pub inputs: Vec<Vec<f64>>,
}

/// Builds a typed model step by step with random weights.
pub struct Builder {
    model: TypedModel,
    rng: ChaCha20Rng,
    inputs: Vec<Vec<f64>>,
    count: usize,
}

impl Builder {
    /// A builder whose random weights and inputs come from `seed`.
    pub fn new(seed: u64) -> Self {
        Builder { model: TypedModel::default(), rng: ChaCha20Rng::seed_from_u64(seed), inputs: Vec::new(), count: 0 }
    }

    fn name(&mut self, what: &str) -> String {
        self.count += 1;
        format!("{what}_{}", self.count)
    }

    fn random(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.rng.gen_range(-scale..scale)).collect()
    }

    /// A model input of `shape` with random values in `[-scale, scale)`.
    pub fn input(&mut self, shape: &[usize], scale: f32) -> OutletId {
        let name = self.name("input");
        let data = self.random(shape.iter().product(), scale);
        self.inputs.push(data.iter().map(|v| *v as f64).collect());
        self.model.add_source(name, f32::fact(shape)).expect("source")
    }

    /// A model input of `shape` with random values on the grid `k · step`,
    /// `|k| ≤ max_steps`: exact at every fixed-point scale that resolves `step`,
    /// so comparisons have exact ties and no near-ties.
    pub fn grid_input(&mut self, shape: &[usize], step: f32, max_steps: i32) -> OutletId {
        let name = self.name("input");
        let data: Vec<f32> =
            (0..shape.iter().product()).map(|_| self.rng.gen_range(-max_steps..=max_steps) as f32 * step).collect();
        self.inputs.push(data.iter().map(|v| *v as f64).collect());
        self.model.add_source(name, f32::fact(shape)).expect("source")
    }

    /// A constant tensor of `shape` with random values in `[-scale, scale)`.
    pub fn konst(&mut self, shape: &[usize], scale: f32) -> OutletId {
        let data = self.random(shape.iter().product(), scale);
        self.tensor(tract_ndarray::ArrayD::from_shape_vec(shape, data).expect("shape").into())
    }

    /// A constant tensor.
    pub fn tensor(&mut self, t: Tensor) -> OutletId {
        let name = self.name("const");
        self.model.add_const(name, t).expect("const")
    }

    /// A constant scalar broadcastable against a tensor of rank `rank`.
    pub fn scalar(&mut self, v: f32, rank: usize) -> OutletId {
        self.tensor(tract_ndarray::ArrayD::from_elem(vec![1; rank], v).into())
    }

    /// Wires an operator.
    pub fn op(&mut self, what: &str, op: impl Into<Box<dyn TypedOp>>, inputs: &[OutletId]) -> OutletId {
        let name = self.name(what);
        self.model.wire_node(name, op.into(), inputs).expect("wire")[0]
    }

    /// A `rows × 4` input's single-head attention scores `q·kᵀ` (random
    /// projections) and its values `v`.
    pub fn attention_scores(&mut self, rows: usize) -> (OutletId, OutletId) {
        let x = self.input(&[rows, 4], 1.0);
        let wq = self.konst(&[4, 4], 0.6);
        let wk = self.konst(&[4, 4], 0.6);
        let wv = self.konst(&[4, 4], 0.6);
        let q = self.op("q", einsum(&["mk", "nk"], "mn"), &[x, wq]);
        let k = self.op("k", einsum(&["mk", "nk"], "mn"), &[x, wk]);
        let v = self.op("v", einsum(&["mk", "nk"], "mn"), &[x, wv]);
        (self.op("scores", einsum(&["mk", "nk"], "mn"), &[q, k]), v)
    }

    /// A convolution (OIHW kernel, NCHW data) with random weights and bias.
    #[allow(clippy::too_many_arguments)]
    pub fn conv(
        &mut self,
        x: OutletId,
        in_channels: usize,
        out_channels: usize,
        kernel: &[usize],
        strides: &[usize],
        dilations: &[usize],
        pads: (&[usize], &[usize]),
        group: usize,
    ) -> OutletId {
        let mut kshape = vec![out_channels, in_channels / group];
        kshape.extend_from_slice(kernel);
        let k = self.konst(&kshape, 0.5);
        let b = self.konst(&[out_channels], 0.5);
        let spec = PoolSpec {
            data_format: DataFormat::NCHW,
            kernel_shape: kernel.into(),
            padding: PaddingSpec::Explicit(pads.0.into(), pads.1.into()),
            dilations: Some(dilations.into()),
            strides: Some(strides.into()),
            input_channels: in_channels,
            output_channels: out_channels,
        };
        let conv = Conv { pool_spec: spec, kernel_fmt: KernelFormat::OIHW, group, q_params: None };
        self.op("conv", conv, &[x, k, b])
    }

    /// `max(x, 0)`.
    pub fn relu(&mut self, x: OutletId, rank: usize) -> OutletId {
        let zero = self.scalar(0.0, rank);
        self.op("relu", math::max(), &[x, zero])
    }

    /// A pooling spec over NCHW data.
    pub fn pool_spec(channels: usize, kernel: &[usize], strides: &[usize], padding: PaddingSpec) -> PoolSpec {
        PoolSpec {
            data_format: DataFormat::NCHW,
            kernel_shape: kernel.into(),
            padding,
            dilations: None,
            strides: Some(strides.into()),
            input_channels: channels,
            output_channels: channels,
        }
    }

    /// Finishes with the given outputs.
    pub fn finish(mut self, name: &str, outputs: &[OutletId]) -> Case {
        self.model.select_output_outlets(outputs).expect("outputs");
        let model = OnnxModel::from_typed(name, self.model).expect("declutters");
        Case { name: name.to_string(), model, inputs: self.inputs }
    }
}

fn einsum(expr_in: &[&str], expr_out: &str) -> EinSum {
    EinSum::new(AxesMapping::from_strs(expr_in, &[expr_out]).expect("axes"), f32::datum_type())
}

/// Dense layer `x·Wᵀ + b` then ReLU, then a second dense layer.
pub fn dense(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[1, 6], 2.0);
    let w = b.konst(&[5, 6], 0.6);
    let h = b.op("gemm", einsum(&["mk", "nk"], "mn"), &[x, w]);
    let bias = b.konst(&[1, 5], 0.5);
    let h = b.op("bias", math::add(), &[h, bias]);
    let h = b.relu(h, 2);
    let w2 = b.konst(&[3, 5], 0.6);
    let y = b.op("gemm", einsum(&["mk", "nk"], "mn"), &[h, w2]);
    b.finish("dense", &[y])
}

/// The constant on the left of a matrix product.
pub fn matmul_constant_left(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[4, 3], 1.5);
    let w = b.konst(&[2, 4], 0.7);
    let y = b.op("matmul", einsum(&["ik", "kj"], "ij"), &[w, x]);
    b.finish("matmul_constant_left", &[y])
}

/// Strided, padded convolution with bias and ReLU.
pub fn conv_stride_pad(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[1, 2, 7, 6], 1.5);
    let y = b.conv(x, 2, 3, &[3, 3], &[2, 2], &[1, 1], (&[1, 0], &[1, 2]), 1);
    let y = b.relu(y, 4);
    b.finish("conv_stride_pad", &[y])
}

/// Depthwise (grouped) dilated convolution.
pub fn conv_grouped_dilated(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[1, 4, 7, 7], 1.5);
    let y = b.conv(x, 4, 4, &[2, 3], &[1, 1], &[2, 1], (&[1, 1], &[1, 1]), 4);
    let y = b.conv(y, 4, 2, &[1, 1], &[1, 1], &[1, 1], (&[0, 0], &[0, 0]), 2);
    b.finish("conv_grouped_dilated", &[y])
}

/// One-dimensional convolution.
pub fn conv_1d(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[1, 2, 9], 1.5);
    let y = b.conv(x, 2, 3, &[3], &[2], &[1], (&[1], &[1]), 1);
    b.finish("conv_1d", &[y])
}

/// Convolution followed by a per-channel affine map (BatchNormalization after
/// tract's simplification), which composes into the convolution.
pub fn conv_batchnorm(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[1, 3, 5, 5], 1.5);
    let y = b.conv(x, 3, 4, &[3, 3], &[1, 1], &[1, 1], (&[1, 1], &[1, 1]), 1);
    let gamma = b.konst(&[1, 4, 1, 1], 1.5);
    let beta = b.konst(&[1, 4, 1, 1], 0.5);
    let y = b.op("bn_mul", math::mul(), &[y, gamma]);
    let y = b.op("bn_add", math::add(), &[y, beta]);
    let y = b.relu(y, 4);
    b.finish("conv_batchnorm", &[y])
}

/// 8-bit fake quantisation, as QDQ exports wrap each layer: QuantizeLinear to
/// `u8` (zero point 128; inputs spread far enough to saturate both ends), then
/// DequantizeLinear back, then a dense layer.
pub fn quantize_dequantize(seed: u64) -> Case {
    use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;
    use tract_onnx::tract_core::ops::quant::{DequantizeLinearF32, QuantizeLinearU8};
    let mut b = Builder::new(seed);
    let x = b.input(&[1, 12], 8.0);
    let q =
        b.op("quantize", ElementWiseOp(Box::new(QuantizeLinearU8 { scale: 1.0 / 0.05, zero_point: 128 }), None), &[x]);
    let dq = b.op("dequantize", DequantizeLinearF32 { scale: 0.05, zero_point: 128 }, &[q]);
    let w = b.konst(&[3, 12], 0.5);
    let y = b.op("gemm", einsum(&["mk", "nk"], "mn"), &[dq, w]);
    b.finish("quantize_dequantize", &[y])
}

/// A float cast to int64 (truncation towards 0) and back, then scaled: inputs
/// of both signs, most of them fractional.
pub fn truncating_cast(seed: u64) -> Case {
    use tract_onnx::tract_core::ops::cast::cast;
    let mut b = Builder::new(seed);
    let x = b.input(&[2, 9], 5.0);
    let whole = b.op("to_int", cast(DatumType::I64), &[x]);
    let back = b.op("to_float", cast(DatumType::F32), &[whole]);
    let half = b.scalar(0.5, 2);
    let y = b.op("scale", math::mul(), &[back, half]);
    b.finish("truncating_cast", &[y])
}

/// Mod by constants (tract's Rem: C's fmod, the sign of the dividend) on inputs
/// of both signs on a 0.25 grid, multiples of the divisor included: every
/// value is exact in binary, so the result must be too.
pub fn remainders(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.grid_input(&[2, 9], 0.25, 20);
    let three_quarters = b.scalar(0.75, 2);
    let y = b.op("mod", math::rem(), &[x, three_quarters]);
    let minus_two = b.scalar(-2.0, 2);
    let z = b.op("mod_negative_divisor", math::rem(), &[x, minus_two]);
    b.finish("remainders", &[y, z])
}

/// Remainders by computed divisors, positive and negative (tract's Rem: the sign
/// of the dividend), on grid values so that the float reference is exact.
pub fn computed_remainders(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.grid_input(&[2, 9], 0.25, 40);
    let y = b.grid_input(&[2, 9], 0.25, 12);
    let abs = b.op("abs", math::abs(), &[y]);
    let quarter = b.scalar(0.25, 2);
    let d = b.op("divisor", math::add(), &[abs, quarter]);
    let positive = b.op("mod", math::rem(), &[x, d]);
    let minus = b.op("negative_divisor", math::neg(), &[d]);
    let negative = b.op("mod_negative_divisor", math::rem(), &[x, minus]);
    b.finish("computed_remainders", &[positive, negative])
}

/// ScatterElements (along each axis) and ScatterND by computed indices: the
/// indices are inputs (whole numbers, made non-negative by Abs, cast to i64),
/// the updates computed too.
pub fn computed_scatters(seed: u64) -> Case {
    use tract_onnx::tract_core::ops::array::{ScatterElements, ScatterNd, ScatterReduction};
    use tract_onnx::tract_core::ops::cast::cast;
    let mut b = Builder::new(seed);
    let x = b.input(&[3, 4], 1.0);
    let updates = b.input(&[3, 2], 1.0);
    let index = |b: &mut Builder, shape: &[usize], max: i32| {
        let raw = b.grid_input(shape, 1.0, max);
        let whole = b.op("index_abs", math::abs(), &[raw]);
        b.op("index_cast", cast(i64::datum_type()), &[whole])
    };
    let cols = index(&mut b, &[3, 2], 3);
    let along_rows =
        b.op("scatter_columns", ScatterElements { axis: 1, reduction: ScatterReduction::None }, &[x, cols, updates]);
    let rows = index(&mut b, &[2, 4], 2);
    let more = b.input(&[2, 4], 1.0);
    let along_columns =
        b.op("scatter_rows", ScatterElements { axis: 0, reduction: ScatterReduction::None }, &[x, rows, more]);
    let tuples = index(&mut b, &[2, 1], 2);
    let slices = b.input(&[2, 4], 1.0);
    let nd = b.op("scatter_nd", ScatterNd { reduction: ScatterReduction::None }, &[x, tuples, slices]);
    b.finish("computed_scatters", &[along_rows, along_columns, nd])
}

/// Max pooling with padding and stride.
pub fn max_pool(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[1, 2, 6, 5], 2.0);
    let spec = Builder::pool_spec(2, &[3, 3], &[2, 2], PaddingSpec::Explicit(tvec![1, 1], tvec![1, 1]));
    let y = b.op("maxpool", MaxPool { pool_spec: spec, with_index_outputs: None }, &[x]);
    b.finish("max_pool", &[y])
}

/// Average pooling with padding, counting and not counting the padding, and
/// global average pooling.
pub fn average_pools(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[1, 3, 5, 6], 2.0);
    let pads = PaddingSpec::Explicit(tvec![1, 1], tvec![1, 0]);
    let a = b.op(
        "avg_incl",
        SumPool {
            pool_spec: Builder::pool_spec(3, &[2, 3], &[2, 2], pads.clone()),
            count_include_pad: true,
            normalize: true,
        },
        &[x],
    );
    let c = b.op(
        "avg_excl",
        SumPool { pool_spec: Builder::pool_spec(3, &[2, 3], &[2, 2], pads), count_include_pad: false, normalize: true },
        &[x],
    );
    let g = b.op(
        "global_avg",
        SumPool {
            pool_spec: Builder::pool_spec(3, &[5, 6], &[1, 1], PaddingSpec::Valid),
            count_include_pad: false,
            normalize: true,
        },
        &[x],
    );
    b.finish("average_pools", &[a, c, g])
}

/// Broadcasting arithmetic: by constants and between two variable tensors, and
/// a product of two variable tensors.
pub fn broadcast_arithmetic(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[1, 3, 4], 1.5);
    let c = b.konst(&[1, 3, 1], 1.0);
    let y = b.op("add_const", math::add(), &[x, c]);
    let d = b.konst(&[1, 1, 4], 1.0);
    let z = b.op("mul_const", math::mul(), &[x, d]);
    let s = b.op("sub", math::sub(), &[y, z]);
    let p = b.op("mul_vars", math::mul(), &[s, x]);
    let two = b.scalar(2.5, 3);
    let q = b.op("div_const", math::div(), &[p, two]);
    b.finish("broadcast_arithmetic", &[q])
}

/// Clip as Max and Min with constants, Min of two tensors, Neg, Abs and Square.
pub fn clip_and_unary(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[2, 5], 2.0);
    let lo = b.scalar(-0.5, 2);
    let hi = b.scalar(0.75, 2);
    let y = b.op("clip_lo", math::max(), &[x, lo]);
    let y = b.op("clip_hi", math::min(), &[y, hi]);
    let n = b.op("neg", math::neg(), &[x]);
    let m = b.op("min", math::min(), &[y, n]);
    let a = b.op("abs", math::abs(), &[m]);
    let sq = b.op("square", math::square(), &[x]);
    let out = b.op("sum", math::add(), &[a, sq]);
    b.finish("clip_and_unary", &[out])
}

/// Table lookups: a dense layer, then Sigmoid, Tanh and an exact GELU
/// (`x · 0.5 · (1 + erf(x / √2))`, as PyTorch exports it).
pub fn nonlinear(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[1, 6], 2.0);
    let w = b.konst(&[5, 6], 0.8);
    let h = b.op("gemm", einsum(&["mk", "nk"], "mn"), &[x, w]);
    let sig = b.op("sigmoid", tract_onnx::tract_core::ops::nn::sigmoid(), &[h]);
    let tanh = b.op("tanh", math::tanh(), &[h]);
    let inv_sqrt2 = b.scalar(std::f32::consts::FRAC_1_SQRT_2, 2);
    let scaled = b.op("scale", math::mul(), &[h, inv_sqrt2]);
    let erf = b.op("erf", math::erf(), &[scaled]);
    let one = b.scalar(1.0, 2);
    let shifted = b.op("one_plus", math::add(), &[erf, one]);
    let half = b.scalar(0.5, 2);
    let phi = b.op("half", math::mul(), &[shifted, half]);
    let gelu = b.op("gelu", math::mul(), &[h, phi]);
    b.finish("nonlinear", &[sig, tanh, gelu])
}

/// Softmax over the last axis of a dense layer's output (exp by lookup, a sum and
/// divisions by it), and over the first axis of a second copy.
pub fn softmax(seed: u64) -> Case {
    use tract_onnx::tract_core::ops::nn::{Softmax, SoftmaxKind};
    let mut b = Builder::new(seed);
    let x = b.input(&[2, 6], 1.5);
    let w = b.konst(&[4, 6], 0.7);
    let h = b.op("gemm", einsum(&["mk", "nk"], "mn"), &[x, w]);
    let last = b.op("softmax_last", Softmax::new(tvec![1], None, SoftmaxKind::Softmax), &[h]);
    let first = b.op("softmax_first", Softmax::new(tvec![0], None, SoftmaxKind::Softmax), &[h]);
    b.finish("softmax", &[last, first])
}

/// A single-head attention block: scores `q·kᵀ / 2` (a product of two variable
/// tensors), softmax over keys, then the weighted sum of values (another one).
pub fn attention(seed: u64) -> Case {
    use tract_onnx::tract_core::ops::nn::{Softmax, SoftmaxKind};
    let mut b = Builder::new(seed);
    let (scores, v) = b.attention_scores(3);
    let half = b.scalar(0.5, 2);
    let scaled = b.op("scale", math::mul(), &[scores, half]);
    let attn = b.op("softmax", Softmax::new(tvec![1], None, SoftmaxKind::Softmax), &[scaled]);
    let out = b.op("context", einsum(&["mn", "nk"], "mk"), &[attn, v]);
    b.finish("attention", &[out])
}

/// Causal self-attention as exporters write the mask: scores set to −∞ with
/// Where (PyTorch's `masked_fill`), and an additive mask of −1e9 on a second
/// head; then Softmax, LogSoftmax and the context. Masked positions weigh 0.
pub fn masked_attention(seed: u64) -> Case {
    use tract_onnx::tract_core::ops::logic::Iff;
    use tract_onnx::tract_core::ops::nn::{Softmax, SoftmaxKind};
    let mut b = Builder::new(seed);
    let (scores, v) = b.attention_scores(4);
    let future: Vec<bool> = (0..16).map(|i| i % 4 > i / 4).collect();
    let future = b.tensor(tract_ndarray::Array2::from_shape_vec((4, 4), future).expect("mask").into_tensor());
    let minus_infinity = b.scalar(f32::NEG_INFINITY, 2);
    let masked = b.op("masked_fill", Iff, &[future, minus_infinity, scores]);
    let attn = b.op("softmax", Softmax::new(tvec![1], None, SoftmaxKind::Softmax), &[masked]);
    let context = b.op("context", einsum(&["mn", "nk"], "mk"), &[attn, v]);
    let additive: Vec<f32> = (0..16).map(|i| if i % 4 > i / 4 { -1e9 } else { 0.0 }).collect();
    let additive = b.tensor(tract_ndarray::Array2::from_shape_vec((4, 4), additive).expect("mask").into_tensor());
    let masked_sum = b.op("mask_add", math::add(), &[scores, additive]);
    let attn_add = b.op("softmax_add", Softmax::new(tvec![1], None, SoftmaxKind::Softmax), &[masked_sum]);
    let log_attn = b.op("log_softmax", Softmax::new(tvec![1], None, SoftmaxKind::LogSoftmax), &[scores]);
    b.finish("masked_attention", &[context, attn_add, log_attn])
}

/// RmsNorm (LayerNormalization's second half, as tract fuses it: products, a
/// mean, an integer square root, divisions), then a constant mask applied with
/// Iff (ONNX Where).
pub fn norm_and_mask(seed: u64) -> Case {
    use tract_onnx::tract_core::ops::logic::Iff;
    use tract_onnx::tract_core::ops::nn::RmsNorm;
    let mut b = Builder::new(seed);
    let x = b.input(&[3, 4], 2.0);
    let w = b.konst(&[4, 4], 0.7);
    let h = b.op("gemm", einsum(&["mk", "nk"], "mn"), &[x, w]);
    let norm = b.op("rms_norm", RmsNorm { axis: 1, eps: tensor0(1e-5f32).into_arc_tensor() }, &[h]);
    let mask: Vec<bool> = (0..12).map(|i| i % 4 <= i / 4).collect();
    let cond = b.tensor(tract_ndarray::Array2::from_shape_vec((3, 4), mask).expect("mask").into_tensor());
    let fill = b.scalar(-1.0, 2);
    let masked = b.op("where", Iff, &[cond, norm, fill]);
    b.finish("norm_and_mask", &[masked])
}

/// A comparison operator of tract (`CompGT`, `CompEq`, ...) as a typed op.
pub fn comparison(op: impl tract_onnx::tract_core::ops::binary::BinMiniOp) -> TypedBinOp {
    TypedBinOp(Box::new(op), None)
}

/// `Cast` to `f32` (booleans become 0 and 1).
pub fn to_float() -> tract_onnx::tract_core::ops::cast::Cast {
    tract_onnx::tract_core::ops::cast::cast(f32::datum_type())
}

/// Every comparison, of an input against a broadcast constant row, a scalar and
/// a computed tensor (`y = x/2 + 1/4`), on grid inputs (ties such as
/// `max(x, 0) = x` are exact), each cast to float.
pub fn comparisons(seed: u64) -> Case {
    use tract_onnx::tract_core::ops::logic::{CompEq, CompGT, CompGTE, CompLT, CompLTE};
    let mut b = Builder::new(seed);
    let x = b.grid_input(&[2, 6], 0.125, 12);
    let half = b.scalar(0.5, 2);
    let quarter = b.scalar(0.25, 2);
    let y = b.op("half", math::mul(), &[x, half]);
    let y = b.op("shift", math::add(), &[y, quarter]);
    let row: Vec<f32> = (0..6).map(|i| (i as f32 - 2.5) * 0.25).collect();
    let row = b.tensor(tract_ndarray::Array2::from_shape_vec((1, 6), row).expect("row").into_tensor());
    let zero = b.scalar(0.0, 2);
    let relu = b.op("relu", math::max(), &[x, zero]);
    let tests = [
        b.op("gt_row", comparison(CompGT), &[x, row]),
        b.op("lt_y", comparison(CompLT), &[x, y]),
        b.op("ge_y", comparison(CompGTE), &[y, x]),
        b.op("le_zero", comparison(CompLTE), &[x, zero]),
        b.op("eq_relu", comparison(CompEq), &[relu, x]),
        b.op("eq_row", comparison(CompEq), &[row, x]),
    ];
    let outs: Vec<OutletId> = tests.iter().map(|t| b.op("cast", to_float(), &[*t])).collect();
    b.finish("comparisons", &outs)
}

/// Boolean logic on comparison results (Not, And, Or, Xor), Where with computed
/// conditions (both branches computed, one constant, both constant), Sign, a
/// cast of a float to bool (`x ≠ 0`) and of a boolean to an integer and back to
/// float, and arithmetic on a selected tensor.
pub fn logic_and_where(seed: u64) -> Case {
    use tract_onnx::tract_core::ops::logic::{self, CompGT, CompLT, Iff};
    let mut b = Builder::new(seed);
    let x = b.grid_input(&[3, 4], 0.25, 6);
    let y = b.grid_input(&[3, 4], 0.25, 6);
    let zero = b.scalar(0.0, 2);
    let pos = b.op("x_pos", comparison(CompGT), &[x, zero]);
    let less = b.op("x_lt_y", comparison(CompLT), &[x, y]);
    let not_pos = b.op("not", logic::not(), &[pos]);
    let and = b.op("and", TypedBinOp(Box::new(logic::And), None), &[pos, less]);
    let or = b.op("or", TypedBinOp(Box::new(logic::Or), None), &[not_pos, less]);
    let xor = b.op("xor", TypedBinOp(Box::new(logic::Xor), None), &[pos, less]);
    let both = b.op("where_both", Iff, &[and, x, y]);
    let fill = b.scalar(-1.5, 2);
    let one_const = b.op("where_const", Iff, &[or, x, fill]);
    let row: Vec<f32> = vec![0.75, -0.5, 2.0, 0.0];
    let row = b.tensor(tract_ndarray::Array2::from_shape_vec((1, 4), row).expect("row").into_tensor());
    let half = b.scalar(0.5, 2);
    let consts = b.op("where_consts", Iff, &[xor, row, half]);
    let diff = b.op("sub", math::sub(), &[x, y]);
    let sign = b.op("sign", math::sign(), &[diff]);
    let nonzero = b.op("to_bool", tract_onnx::tract_core::ops::cast::cast(bool::datum_type()), &[x]);
    let as_int = b.op("to_int", tract_onnx::tract_core::ops::cast::cast(i64::datum_type()), &[not_pos]);
    let as_float = b.op("to_float", to_float(), &[as_int]);
    let nonzero = b.op("cast", to_float(), &[nonzero]);
    let two = b.scalar(2.0, 2);
    let scaled = b.op("scaled", math::mul(), &[both, two]);
    let shifted = b.op("plus", math::add(), &[scaled, one_const]);
    b.finish("logic_and_where", &[shifted, consts, sign, nonzero, as_float])
}

/// Padding in every mode, then a sum so that every padded cell matters.
pub fn pads(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[1, 2, 3, 4], 1.5);
    let mut outs = Vec::new();
    for mode in [PadMode::Constant(tensor0(1.5f32).into_arc_tensor()), PadMode::Reflect, PadMode::Edge] {
        let p = b.op("pad", Pad { pads: vec![(0, 0), (0, 0), (2, 1), (1, 2)], mode }, &[x]);
        outs.push(p);
    }
    let s = b.op("sum1", math::add(), &[outs[0], outs[1]]);
    let s = b.op("sum2", math::add(), &[s, outs[2]]);
    b.finish("pads", &[s])
}

/// Reshape, transpose, squeeze/unsqueeze, slice, concat and a constant gather.
pub fn data_movement(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[1, 2, 3, 4], 1.5);
    let t = b.op("transpose", AxisOp::Move(1, 3), &[x]);
    let r = b.op(
        "reshape",
        AxisOp::Reshape(1, tvec![3.to_dim(), 4.to_dim(), 2.to_dim()], tvec![6.to_dim(), 4.to_dim()]),
        &[t],
    );
    let s = b.op("squeeze", AxisOp::Rm(0), &[r]);
    let u = b.op("unsqueeze", AxisOp::Add(1), &[s]);
    let lo = b.op("slice_lo", Slice::new(0, 0, 2), &[u]);
    let hi = b.op("slice_hi", Slice::new(0, 4, 6), &[u]);
    let cat = b.op("concat", TypedConcat::new(0), &[hi, lo]);
    let idx = b.tensor(tensor1(&[3i64, 0, 2, 2]));
    let g = b.op("gather", Gather::new(2), &[cat, idx]);
    let w = b.konst(&[4, 4], 0.5);
    let y = b.op("dense", einsum(&["abk", "nk"], "abn"), &[g, w]);
    b.finish("data_movement", &[y])
}

/// LeNet-style activation: `x² + x`, then average pooling.
pub fn square_activation(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[1, 1, 6, 6], 1.5);
    let y = b.conv(x, 1, 2, &[3, 3], &[1, 1], &[1, 1], (&[0, 0], &[0, 0]), 1);
    let sq = b.op("square", math::square(), &[y]);
    let act = b.op("add", math::add(), &[sq, y]);
    let p = b.op(
        "pool",
        SumPool {
            pool_spec: Builder::pool_spec(2, &[2, 2], &[2, 2], PaddingSpec::Valid),
            count_include_pad: true,
            normalize: true,
        },
        &[act],
    );
    b.finish("square_activation", &[p])
}

/// Transposed convolutions (tract's `Deconv`, ONNX ConvTranspose): a strided,
/// padded 2-D one with output padding and bias, a ReLU, then a grouped 1-D one
/// over the flattened rows.
pub fn conv_transpose(seed: u64) -> Case {
    use tract_onnx::tract_core::ops::cnn::Deconv;
    let mut b = Builder::new(seed);
    let x = b.input(&[1, 2, 3, 4], 1.5);
    let k = b.konst(&[3, 2, 3, 3], 0.5);
    let bias = b.konst(&[3], 0.5);
    let spec = PoolSpec {
        data_format: DataFormat::NCHW,
        kernel_shape: tvec![3, 3],
        padding: PaddingSpec::Explicit(tvec![1, 0], tvec![1, 1]),
        dilations: None,
        strides: Some(tvec![2, 2]),
        input_channels: 2,
        output_channels: 3,
    };
    let deconv = Deconv { pool_spec: spec, kernel_format: KernelFormat::OIHW, adjustments: tvec![1, 0], group: 1 };
    let y = b.op("deconv", deconv, &[x, k, bias]);
    let y = b.relu(y, 4);
    // [1, 3, 6, 8] → [1, 6, 24] → grouped 1-D: 6 → 4 channels in 2 groups.
    let flat = b.op(
        "rows",
        AxisOp::Reshape(1, tvec![3.to_dim(), 6.to_dim(), 8.to_dim()], tvec![6.to_dim(), 24.to_dim()]),
        &[y],
    );
    let k1 = b.konst(&[4, 3, 3], 0.4);
    let bias1 = b.konst(&[4], 0.5);
    let spec = PoolSpec {
        data_format: DataFormat::NCHW,
        kernel_shape: tvec![3],
        padding: PaddingSpec::Explicit(tvec![1], tvec![0]),
        dilations: Some(tvec![2]),
        strides: Some(tvec![2]),
        input_channels: 6,
        output_channels: 4,
    };
    let deconv = Deconv { pool_spec: spec, kernel_format: KernelFormat::OIHW, adjustments: tvec![1], group: 2 };
    let z = b.op("deconv_1d", deconv, &[flat, k1, bias1]);
    b.finish("conv_transpose", &[z])
}

/// Periodic functions and logarithms: Sin and Cos of inputs spanning several
/// periods (reduced modulo 2π first), Ln of `x² + 1/4` and of `|x| + 1/2`.
pub fn periodic_and_log(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[2, 5], 9.0);
    let sin = b.op("sin", math::sin(), &[x]);
    let cos = b.op("cos", math::cos(), &[x]);
    let scale = b.scalar(0.25, 2);
    let small = b.op("small", math::mul(), &[x, scale]);
    let sq = b.op("square", math::square(), &[small]);
    let quarter = b.scalar(0.25, 2);
    let pos = b.op("pos", math::add(), &[sq, quarter]);
    let ln = b.op("ln", math::ln(), &[pos]);
    let abs = b.op("abs", math::abs(), &[small]);
    let half = b.scalar(0.5, 2);
    let pos2 = b.op("pos2", math::add(), &[abs, half]);
    let ln2 = b.op("ln2", math::ln(), &[pos2]);
    b.finish("periodic_and_log", &[sin, cos, ln, ln2])
}

/// Square roots, reciprocals and constant powers: Sqrt of a ReLU, Rsqrt, a
/// reciprocal of a value of either sign (`tanh(x) + 2`, not provably positive:
/// sign times reciprocal of the magnitude) and of a provably positive one, x³,
/// `relu(x)^1.5`, `x^-2`.
pub fn roots_and_reciprocals(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[2, 5], 2.0);
    let r = b.relu(x, 2);
    let sqrt = b.op("sqrt", math::sqrt(), &[r]);
    let sq = b.op("square", math::square(), &[x]);
    let half = b.scalar(0.5, 2);
    let pos = b.op("pos", math::add(), &[sq, half]);
    let rsqrt = b.op("rsqrt", math::rsqrt(), &[pos]);
    let t = b.op("tanh", math::tanh(), &[x]);
    let two = b.scalar(2.0, 2);
    let t2 = b.op("shift", math::add(), &[t, two]);
    let recip_any = b.op("recip_any", math::recip(), &[t2]);
    let recip_pos = b.op("recip_pos", math::recip(), &[pos]);
    let cube = b.op("cube", math::pow_const(3.0), &[x]);
    let p15 = b.op("pow15", math::pow_const(1.5), &[r]);
    let inv_sq = b.op("inv_sq", math::pow_const(-2.0), &[pos]);
    b.finish("roots_and_reciprocals", &[sqrt, rsqrt, recip_any, recip_pos, cube, p15, inv_sq])
}

/// Division by computed divisors: positive (`x / (y² + ½)`), of either sign
/// (times constant signs), a constant over a computed divisor, and LayerNorm as
/// older exporters write it: `(x − mean) / sqrt(var + ε)` with the means as
/// products with a constant averaging matrix.
pub fn divisions(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[2, 6], 2.0);
    let y = b.input(&[2, 6], 2.0);
    let sq = b.op("square", math::square(), &[y]);
    let half = b.scalar(0.5, 2);
    let positive = b.op("positive", math::add(), &[sq, half]);
    let by_positive = b.op("div_positive", math::div(), &[x, positive]);
    let signs = vec![1.0f32, -1.0, 1.0, -1.0, -1.0, 1.0];
    let signs = b.tensor(tract_ndarray::Array2::from_shape_vec((1, 6), signs).expect("signs").into_tensor());
    let signed = b.op("signed", math::mul(), &[positive, signs]);
    let by_signed = b.op("div_signed", math::div(), &[x, signed]);
    let three = b.scalar(3.0, 2);
    let constant_over = b.op("constant_over", math::div(), &[three, signed]);
    let average = b.tensor(tract_ndarray::Array2::from_elem((6, 6), 1.0f32 / 6.0).into_tensor());
    let mean = b.op("mean", einsum(&["mk", "nk"], "mn"), &[x, average]);
    let centred = b.op("centred", math::sub(), &[x, mean]);
    let squares = b.op("squares", math::square(), &[centred]);
    let variance = b.op("variance", einsum(&["mk", "nk"], "mn"), &[squares, average]);
    let eps = b.scalar(1e-3, 2);
    let shifted = b.op("variance_eps", math::add(), &[variance, eps]);
    let std = b.op("std", math::sqrt(), &[shifted]);
    let normalised = b.op("layer_norm", math::div(), &[centred, std]);
    b.finish("divisions", &[by_positive, by_signed, constant_over, normalised])
}

/// Activations by arithmetic and lookups: LeakyRelu (`max(x, αx)`), HardSwish,
/// HardSigmoid (tract's Mul, Add, Min, Max), Softplus as tract expands it
/// (`ln(1 + e^x)`, recognised and proven as `max(x, 0) + ln(1 + e^-|x|)`) and
/// SiLU (`x · sigmoid(x)`, which tract fuses).
pub fn activations(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.input(&[1, 6], 2.0);
    let w = b.konst(&[6, 6], 0.8);
    let h = b.op("gemm", einsum(&["mk", "nk"], "mn"), &[x, w]);
    let leaky = b.op("leaky", tract_onnx::tract_core::ops::nn::leaky_relu(0.1), &[h]);
    let swish = b.op("hard_swish", tract_onnx::tract_core::ops::nn::hard_swish(), &[h]);
    let alpha = b.scalar(0.2, 2);
    let beta = b.scalar(0.5, 2);
    let (zero, one) = (b.scalar(0.0, 2), b.scalar(1.0, 2));
    let hs = b.op("hs_mul", math::mul(), &[h, alpha]);
    let hs = b.op("hs_add", math::add(), &[hs, beta]);
    let hs = b.op("hs_min", math::min(), &[hs, one]);
    let hs = b.op("hs_max", math::max(), &[hs, zero]);
    let e = b.op("exp", math::exp(), &[h]);
    let one2 = b.scalar(1.0, 2);
    let e1 = b.op("plus_one", math::add(), &[e, one2]);
    let softplus = b.op("softplus", math::ln(), &[e1]);
    let sig = b.op("sigmoid", tract_onnx::tract_core::ops::nn::sigmoid(), &[h]);
    let silu = b.op("silu", math::mul(), &[h, sig]);
    b.finish("activations", &[leaky, swish, hs, softplus, silu])
}

/// LogSoftmax both ways: tract's own `LogSoftmax` kind over the last axis, and
/// ONNX's expansion `ln(softmax(x))` over the first (recognised: `x − max −
/// ln Σ e^(x − max)`, one logarithm per group, never the log of a rounded
/// probability).
pub fn log_softmax(seed: u64) -> Case {
    use tract_onnx::tract_core::ops::nn::{Softmax, SoftmaxKind};
    let mut b = Builder::new(seed);
    let x = b.input(&[3, 6], 1.5);
    let w = b.konst(&[5, 6], 0.7);
    let h = b.op("gemm", einsum(&["mk", "nk"], "mn"), &[x, w]);
    let last = b.op("log_softmax", Softmax::new(tvec![1], None, SoftmaxKind::LogSoftmax), &[h]);
    let soft = b.op("softmax", Softmax::new(tvec![0], None, SoftmaxKind::Softmax), &[h]);
    let first = b.op("ln", math::ln(), &[soft]);
    b.finish("log_softmax", &[last, first])
}

/// Tree-ensemble operators: ArgMax and ArgMin (first and last index, on a coarse
/// grid so that ties occur), their indices gathering from a constant table on
/// axis 1, from computed data with `Gather` on axis 1, and with `GatherElements`.
pub fn argmax_and_gathers(seed: u64) -> Case {
    use tract_onnx::tract_core::ops::array::GatherElements;
    use tract_onnx::tract_core::ops::nn::{Reduce, Reducer};
    let mut b = Builder::new(seed);
    let x = b.grid_input(&[3, 4], 0.25, 3);
    let first = b.op("argmax", Reduce { axes: tvec![1], reducer: Reducer::ArgMax(false) }, &[x]);
    let last = b.op("argmin_last", Reduce { axes: tvec![1], reducer: Reducer::ArgMin(true) }, &[x]);
    let table = b.konst(&[2, 4], 1.0);
    let looked = b.op("gather_table", Gather::new(1), &[table, first]);
    let picked = b.op("gather_elements", GatherElements { axis: 1 }, &[x, first]);
    let rows = b.op("gather_computed", Gather::new(1), &[x, last]);
    let first = b.op("cast_first", to_float(), &[first]);
    let last = b.op("cast_last", to_float(), &[last]);
    b.finish("argmax_and_gathers", &[first, last, looked, picked, rows])
}

/// tract's fused LSTM and GRU cells (one time step of ONNX LSTM/GRU): gate
/// pre-activations from dense layers of an input and a computed previous state.
pub fn recurrent_cells(seed: u64) -> Case {
    use tract_onnx::tract_core::ops::gru_cell::GruEpilogue;
    use tract_onnx::tract_core::ops::lstm_cell::LstmEpilogue;
    let mut b = Builder::new(seed);
    let hidden = 3;
    let x = b.input(&[2, 4], 1.0);
    let state = b.input(&[2, hidden], 0.8);
    let w = b.konst(&[4 * hidden, 4], 0.8);
    let preact = b.op("lstm_gates", einsum(&["bk", "gk"], "bg"), &[x, w]);
    let lstm = b.op("lstm", LstmEpilogue { hidden }, &[preact, state]);
    let cell = OutletId::new(lstm.node, 1);
    let wx = b.konst(&[3 * hidden, 4], 0.8);
    let wr = b.konst(&[3 * hidden, hidden], 0.8);
    let xh = b.op("gru_x", einsum(&["bk", "gk"], "bg"), &[x, wx]);
    let rh = b.op("gru_r", einsum(&["bk", "gk"], "bg"), &[lstm, wr]);
    let gru = b.op("gru", GruEpilogue { hidden }, &[xh, rh, lstm]);
    b.finish("recurrent_cells", &[lstm, cell, gru])
}

/// Floor, Ceil and Round (ties to even) on a grid of quarters, so that exact
/// integers and exact ties (±k.5) occur, scaled so that outputs of all signs
/// feed a dense layer.
pub fn rounding(seed: u64) -> Case {
    let mut b = Builder::new(seed);
    let x = b.grid_input(&[2, 8], 0.25, 14);
    let floor = b.op("floor", math::floor(), &[x]);
    let ceil = b.op("ceil", math::ceil(), &[x]);
    let round = b.op("round", math::round_half_to_even(), &[x]);
    let sum = b.op("sum", math::add(), &[floor, ceil]);
    b.finish("rounding", &[floor, ceil, round, sum])
}

/// Every named case.
pub fn all(seed: u64) -> Vec<Case> {
    vec![
        dense(seed),
        matmul_constant_left(seed),
        conv_stride_pad(seed),
        conv_grouped_dilated(seed),
        conv_1d(seed),
        conv_batchnorm(seed),
        max_pool(seed),
        average_pools(seed),
        broadcast_arithmetic(seed),
        clip_and_unary(seed),
        pads(seed),
        data_movement(seed),
        square_activation(seed),
        nonlinear(seed),
        softmax(seed),
        attention(seed),
        masked_attention(seed),
        norm_and_mask(seed),
        comparisons(seed),
        logic_and_where(seed),
        conv_transpose(seed),
        periodic_and_log(seed),
        roots_and_reciprocals(seed),
        divisions(seed),
        activations(seed),
        log_softmax(seed),
        argmax_and_gathers(seed),
        recurrent_cells(seed),
        rounding(seed),
    ]
}

/// A random small CNN: convolution (random geometry), ReLU, a pooling, a dense
/// layer. Parameters come from the caller (a property-test strategy).
#[derive(Clone, Debug)]
pub struct RandomCnn {
    /// Input channels.
    pub channels: usize,
    /// Input height and width.
    pub hw: (usize, usize),
    /// Output channels per group.
    pub out_per_group: usize,
    /// Groups.
    pub group: usize,
    /// Kernel height and width.
    pub kernel: (usize, usize),
    /// Strides.
    pub stride: (usize, usize),
    /// Dilations.
    pub dilation: (usize, usize),
    /// Padding before and after, per axis.
    pub pad: (usize, usize, usize, usize),
    /// Max pooling (else average).
    pub max_pool: bool,
    /// Dense output size.
    pub dense: usize,
    /// Random seed for weights and inputs.
    pub seed: u64,
}

impl RandomCnn {
    /// Builds the model, or `None` when the geometry leaves no output.
    pub fn build(&self) -> Option<Case> {
        let (h, w) = self.hw;
        let ce = |n: usize, k: usize, d: usize, s: usize, p: usize| -> Option<usize> {
            let span = (k - 1) * d + 1;
            (n + p >= span).then(|| (n + p - span) / s + 1)
        };
        let oh = ce(h, self.kernel.0, self.dilation.0, self.stride.0, self.pad.0 + self.pad.2)?;
        let ow = ce(w, self.kernel.1, self.dilation.1, self.stride.1, self.pad.1 + self.pad.3)?;
        if oh < 2 || ow < 2 {
            return None;
        }
        let mut b = Builder::new(self.seed);
        let cin = self.channels * self.group;
        let cout = self.out_per_group * self.group;
        let x = b.input(&[1, cin, h, w], 1.5);
        let y = b.conv(
            x,
            cin,
            cout,
            &[self.kernel.0, self.kernel.1],
            &[self.stride.0, self.stride.1],
            &[self.dilation.0, self.dilation.1],
            (&[self.pad.0, self.pad.1], &[self.pad.2, self.pad.3]),
            self.group,
        );
        let y = b.relu(y, 4);
        let spec = Builder::pool_spec(cout, &[2, 2], &[1, 1], PaddingSpec::Valid);
        let p = if self.max_pool {
            b.op("maxpool", MaxPool { pool_spec: spec, with_index_outputs: None }, &[y])
        } else {
            b.op("avgpool", SumPool { pool_spec: spec, count_include_pad: false, normalize: true }, &[y])
        };
        let flat = cout * (oh - 1) * (ow - 1);
        let f = b.op(
            "flatten",
            AxisOp::Reshape(1, tvec![cout.to_dim(), (oh - 1).to_dim(), (ow - 1).to_dim()], tvec![flat.to_dim()]),
            &[p],
        );
        let wd = b.konst(&[self.dense, flat], 0.4);
        let out = b.op("dense", einsum(&["mk", "nk"], "mn"), &[f, wd]);
        Some(b.finish("random_cnn", &[out]))
    }
}
