//! Support vector machines (`SVMRegressor`, `SVMClassifier`) as kernel
//! matrices and linear maps.
//!
//! The kernel `K[n, v] = k(x_n, sv_v)` of every input with every support
//! vector: `x·sv` (linear), `(γ·x·sv + c)^d` (polynomial), `tanh(γ·x·sv + c)`
//! (sigmoid) or `exp(−γ·|x − sv|²)` (RBF). The RBF distance is formed from
//! `√γ·x` and `√γ·sv` (more significant bits for the typical γ > 1), from the
//! differences themselves (exact in fixed point) up to 2^16 products, and as
//! `|x|² − 2·x·sv + |sv|²` (far fewer rows, less precise for large inputs)
//! beyond.
//!
//! A regressor is `K · coefficients + ρ`. A classifier is one-vs-one: each pair
//! of classes `(i, j)` scores `s_ij = K · M_ij + ρ_ij` (the coefficients of both
//! classes' support vectors), votes for `i` when `s_ij > 0` and for `j`
//! otherwise, and predicts the first class with the most votes. Platt
//! probabilities (`prob_a`, `prob_b`) need an iterative coupling of the pairs
//! and are refused.

use tract_onnx::pb::NodeProto;

use super::classify;
use super::emit::{Attrs, Emit};
use super::Refusal;

/// Products beyond which the RBF distance is expanded instead of formed from
/// the differences.
const DIFFERENCE_PRODUCTS: usize = 1 << 16;

/// The kernel of an SVM node.
struct Kernel {
    kind: String,
    gamma: f64,
    coef0: f64,
    degree: f64,
}

impl Kernel {
    fn parse(attrs: &Attrs<'_>) -> Kernel {
        let params = attrs.floats("kernel_params");
        let at = |i: usize| params.get(i).copied().unwrap_or(0.0);
        Kernel {
            kind: attrs.string("kernel_type").unwrap_or_else(|| "LINEAR".into()),
            gamma: at(0),
            coef0: at(1),
            degree: at(2),
        }
    }

    /// Emits `K[n, v]` for the row-major support vectors `sv` (`count` rows).
    fn emit(&self, emit: &mut Emit<'_>, x: &str, sv: &[f64], count: usize) -> Result<String, Refusal> {
        if count == 0 || sv.is_empty() || !sv.len().is_multiple_of(count) {
            return Err(format!("its {} support vector values do not split into {count} vectors", sv.len()));
        }
        let features = sv.len() / count;
        let dots = || transpose(sv, count);
        let scaled_dots = |emit: &mut Emit<'_>| {
            let t: Vec<f64> = dots().into_iter().map(|w| w * self.gamma).collect();
            let product = emit.matmul_const(x, features, &t);
            let c = emit.scalar("coef0", self.coef0);
            emit.binary("Add", &product, &c)
        };
        Ok(match self.kind.as_str() {
            "LINEAR" => emit.matmul_const(x, features, &dots()),
            "POLY" => {
                let base = scaled_dots(emit);
                let degree = emit.scalar("degree", self.degree);
                emit.binary("Pow", &base, &degree)
            }
            "SIGMOID" => {
                let base = scaled_dots(emit);
                emit.op("Tanh", &[&base], vec![])
            }
            "RBF" => {
                // γ·|x − sv|² as |√γ·x − √γ·sv|²: the scaled differences keep
                // more significant bits in fixed point.
                let root = self.gamma.max(0.0).sqrt();
                let sv: Vec<f64> = sv.iter().map(|v| v * root).collect();
                let root = emit.scalar("root_gamma", root);
                let x = emit.binary("Mul", x, &root);
                let distance = if count * features <= DIFFERENCE_PRODUCTS {
                    let rows = emit.int64s("rows", &[3], vec![0, 1, -1]);
                    let column = emit.binary("Reshape", &x, &rows);
                    let vectors = emit.matrix("support_vectors", count, &sv);
                    let diff = emit.binary("Sub", &column, &vectors);
                    let squares = emit.binary("Mul", &diff, &diff);
                    let sums = emit.reduce_last("ReduceSum", &squares);
                    let flat = emit.int64s("flat", &[2], vec![0, -1]);
                    emit.binary("Reshape", &sums, &flat)
                } else {
                    let squares = emit.binary("Mul", &x, &x);
                    let norm = emit.reduce_last("ReduceSum", &squares);
                    let minus_two: Vec<f64> = transpose(&sv, count).into_iter().map(|w| -2.0 * w).collect();
                    let cross = emit.matmul_const(&x, features, &minus_two);
                    let sv_norms: Vec<f64> =
                        sv.chunks(features).map(|v| v.iter().map(|a| a * a).sum::<f64>()).collect();
                    let sv_norms = emit.vector("support_norms", &sv_norms);
                    let partial = emit.binary("Add", &cross, &sv_norms);
                    emit.binary("Add", &partial, &norm)
                };
                let exponent = emit.op("Neg", &[&distance], vec![]);
                emit.op("Exp", &[&exponent], vec![])
            }
            other => return Err(format!("its kernel {other} is not one of LINEAR, POLY, RBF, SIGMOID")),
        })
    }
}

/// The transpose of `count` row-major vectors: `features × count`, row-major.
fn transpose(vectors: &[f64], count: usize) -> Vec<f64> {
    let features = vectors.len() / count.max(1);
    let mut t = vec![0.0; vectors.len()];
    for v in 0..count {
        for f in 0..features {
            t[f * count + v] = vectors[v * features + f];
        }
    }
    t
}

pub(super) fn regressor(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let attrs = Attrs(node);
    let x = Emit::input(node, 0)?;
    let y = Emit::output(node, 0).ok_or("its output is missing")?;
    let coefficients = attrs.floats("coefficients");
    let rho = attrs.floats("rho").first().copied().unwrap_or(0.0);
    let supports = attrs.int("n_supports").unwrap_or(0).max(0) as usize;
    let score = if supports > 0 {
        let kernel = Kernel::parse(&attrs).emit(emit, x, &attrs.floats("support_vectors"), supports)?;
        if coefficients.len() != supports {
            return Err(format!("it has {} coefficients for {supports} support vectors", coefficients.len()));
        }
        emit.matmul_const(&kernel, supports, &coefficients)
    } else {
        emit.matmul_const(x, coefficients.len(), &coefficients)
    };
    let rho = emit.vector("rho", &[rho]);
    let score = emit.binary("Add", &score, &rho);
    if attrs.int("one_class").unwrap_or(0) != 0 {
        // +1 inside the class (s > 0), −1 outside.
        let zero = emit.scalar("zero", 0.0);
        let inside = emit.binary("Greater", &score, &zero);
        let inside = emit.cast_float(&inside);
        let two = emit.scalar("two", 2.0);
        let doubled = emit.binary("Mul", &inside, &two);
        let one = emit.scalar("one", 1.0);
        emit.op_into("Sub", &[&doubled, &one], vec![], y);
        return Ok(());
    }
    classify::post_transform(emit, &attrs.post_transform(), &score, y)
}

pub(super) fn classifier(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let attrs = Attrs(node);
    let x = Emit::input(node, 0)?;
    let labels = classify::int_labels(node, "classlabels_ints")?;
    if !attrs.floats("prob_a").is_empty() {
        return Err("it computes Platt probabilities (prob_a, prob_b), which couple the class pairs iteratively; \
                    export the SVM without probability=True"
            .into());
    }
    let per_class: Vec<usize> = attrs.ints("vectors_per_class").iter().map(|&v| v.max(0) as usize).collect();
    let supports: usize = per_class.iter().sum();
    let classes = labels.len();
    if supports == 0 || per_class.len() != classes || classes < 2 {
        return Err("only kernel SVMs with support vectors for each class are supported".into());
    }
    let coefficients = attrs.floats("coefficients");
    let rho = attrs.floats("rho");
    let pairs = classes * (classes - 1) / 2;
    if coefficients.len() != (classes - 1) * supports || rho.len() != pairs {
        return Err(format!(
            "it has {} coefficients and {} offsets for {classes} classes and {supports} support vectors",
            coefficients.len(),
            rho.len()
        ));
    }
    let kernel = Kernel::parse(&attrs).emit(emit, x, &attrs.floats("support_vectors"), supports)?;
    let starts: Vec<usize> = per_class.iter().scan(0, |s, &n| Some(std::mem::replace(s, *s + n))).collect();
    // M[v, pair], row-major; votes V[pair, class] and their constant part.
    let mut m = vec![0.0; supports * pairs];
    let mut votes = vec![0.0; pairs * classes];
    let mut vote_base = vec![0.0; classes];
    let mut pair = 0;
    for i in 0..classes {
        for j in i + 1..classes {
            for v in starts[i]..starts[i] + per_class[i] {
                m[v * pairs + pair] += coefficients[(j - 1) * supports + v];
            }
            for v in starts[j]..starts[j] + per_class[j] {
                m[v * pairs + pair] += coefficients[i * supports + v];
            }
            // votes_i += g, votes_j += 1 − g for g = [s_ij > 0].
            votes[pair * classes + i] += 1.0;
            votes[pair * classes + j] -= 1.0;
            vote_base[j] += 1.0;
            pair += 1;
        }
    }
    let products = emit.matmul_const(&kernel, supports, &m);
    let rho = emit.vector("rho", &rho);
    let scores = emit.binary("Add", &products, &rho);
    if let Some(label) = Emit::output(node, 0) {
        let zero = emit.scalar("zero", 0.0);
        let wins = emit.binary("Greater", &scores, &zero);
        let wins = emit.cast_float(&wins);
        let tally = emit.matmul_const(&wins, pairs, &votes);
        let vote_base = emit.vector("vote_base", &vote_base);
        let tally = emit.binary("Add", &tally, &vote_base);
        classify::label(emit, &tally, &labels, label);
    }
    if let Some(out) = Emit::output(node, 1) {
        if pairs == 1 {
            // Two classes: onnxruntime writes [−s, s].
            let spread = classify::symmetric(emit, &scores);
            classify::post_transform(emit, &attrs.post_transform(), &spread, out)?;
        } else {
            classify::post_transform(emit, &attrs.post_transform(), &scores, out)?;
        }
    }
    Ok(())
}
