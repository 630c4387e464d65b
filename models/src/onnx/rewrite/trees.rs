//! Tree ensembles (`TreeEnsembleClassifier`, `TreeEnsembleRegressor`) as
//! comparisons and matrix products, one block per tree:
//!
//! 1. `c = [x[feature_j] ⋚ threshold_j]` for the tree's branch nodes `j`
//!    (`Gather`, a comparison per mode, `Cast`);
//! 2. for each leaf `l`, `p_l = Σ_j A_jl · c_j` with `A_jl = +1` when `l` lies
//!    under `j`'s true branch, `−1` under its false branch, `0` otherwise. Then
//!    `p_l ≤ T_l`, the number of true turns on the path to `l`, with equality
//!    exactly for the leaf that the input reaches, so `hit_l = ReLU(p_l − T_l + 1)`
//!    is 1 for it and 0 for every other leaf (all exact in fixed point);
//! 3. the scores are `Σ_trees hit · W + base`, `W` the leaves' weights per
//!    class or target (divided by the number of trees for `AVERAGE`).
//!
//! Missing values (NaN) cannot occur in a fixed-point input, so the
//! `nodes_missing_value_tracks_true` attribute has nothing to do.

use std::collections::{BTreeMap, HashMap};

use tract_onnx::pb::NodeProto;

use super::classify::{self, BinaryScores};
use super::emit::{Attr, Attrs, Emit};
use super::Refusal;

/// A comparison of a branch node; its result selects the true branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    Leq,
    Lt,
    Gte,
    Gt,
    Eq,
    Neq,
}

impl Mode {
    fn parse(s: &str) -> Result<Option<Mode>, Refusal> {
        Ok(Some(match s {
            "BRANCH_LEQ" => Mode::Leq,
            "BRANCH_LT" => Mode::Lt,
            "BRANCH_GTE" => Mode::Gte,
            "BRANCH_GT" => Mode::Gt,
            "BRANCH_EQ" => Mode::Eq,
            "BRANCH_NEQ" => Mode::Neq,
            "LEAF" => return Ok(None),
            other => return Err(format!("its node mode {other} is not an ONNX branch mode")),
        }))
    }

    /// The standard operator, and whether its result is negated.
    fn operator(self) -> (&'static str, bool) {
        match self {
            Mode::Leq => ("Greater", true),
            Mode::Lt => ("Less", false),
            Mode::Gte => ("Less", true),
            Mode::Gt => ("Greater", false),
            Mode::Eq => ("Equal", false),
            Mode::Neq => ("Equal", true),
        }
    }
}

/// One node of the ensemble.
struct TreeNode {
    mode: Option<Mode>,
    feature: i64,
    threshold: f64,
    on_true: usize,
    on_false: usize,
}

/// A leaf reached from the root by `path`: branch nodes and the turn taken.
struct Leaf {
    node: usize,
    path: Vec<(usize, bool)>,
}

/// The ensemble's nodes, and each tree's root.
struct Ensemble {
    nodes: Vec<TreeNode>,
    /// Position of each (tree, node) id pair.
    index: HashMap<(i64, i64), usize>,
    /// First node of each tree, by tree id.
    roots: BTreeMap<i64, usize>,
}

impl Ensemble {
    fn parse(attrs: &Attrs<'_>) -> Result<Ensemble, Refusal> {
        let trees = attrs.ints("nodes_treeids");
        let ids = attrs.ints("nodes_nodeids");
        let features = attrs.ints("nodes_featureids");
        let thresholds = attrs.floats("nodes_values");
        let modes = attrs.strings("nodes_modes");
        let on_true = attrs.ints("nodes_truenodeids");
        let on_false = attrs.ints("nodes_falsenodeids");
        let n = trees.len();
        let lengths = [ids.len(), features.len(), thresholds.len(), modes.len(), on_true.len(), on_false.len()];
        if n == 0 || lengths.iter().any(|&l| l != n) {
            return Err(format!("its node attributes have different lengths ({n} tree ids, {lengths:?})"));
        }
        let mut index = HashMap::with_capacity(n);
        let mut roots = BTreeMap::new();
        for (i, (&t, &id)) in trees.iter().zip(&ids).enumerate() {
            if index.insert((t, id), i).is_some() {
                return Err(format!("node {id} of tree {t} appears twice"));
            }
            roots.entry(t).or_insert(i);
        }
        let child = |t: i64, id: i64| {
            index.get(&(t, id)).copied().ok_or_else(|| format!("tree {t} refers to node {id}, which it does not have"))
        };
        let mut nodes = Vec::with_capacity(n);
        for i in 0..n {
            let mode = Mode::parse(&modes[i])?;
            let (yes, no) = match mode {
                Some(_) => (child(trees[i], on_true[i])?, child(trees[i], on_false[i])?),
                None => (i, i),
            };
            nodes.push(TreeNode { mode, feature: features[i], threshold: thresholds[i], on_true: yes, on_false: no });
        }
        Ok(Ensemble { nodes, index, roots })
    }

    /// The leaves of the tree rooted at `root`, with their paths.
    fn leaves(&self, root: usize) -> Result<Vec<Leaf>, Refusal> {
        let mut leaves = Vec::new();
        let mut stack = vec![(root, Vec::new())];
        while let Some((at, path)) = stack.pop() {
            if path.len() > self.nodes.len() {
                return Err("a tree has a cycle".into());
            }
            let node = &self.nodes[at];
            if node.mode.is_none() {
                leaves.push(Leaf { node: at, path });
                continue;
            }
            let mut no = path.clone();
            no.push((at, false));
            let mut yes = path;
            yes.push((at, true));
            stack.push((node.on_false, no));
            stack.push((node.on_true, yes));
        }
        Ok(leaves)
    }
}

/// A leaf weight: tree id, node id, class or target id, weight.
type Vote = (i64, i64, i64, f64);

/// A leaf weight with its score column: tree id, node id, column, weight.
type Weight = (i64, i64, usize, f64);

/// The leaf weights, with their class or target id.
fn votes(attrs: &Attrs<'_>, prefix: &str) -> Result<Vec<Vote>, Refusal> {
    let trees = attrs.ints(&format!("{prefix}_treeids"));
    let nodes = attrs.ints(&format!("{prefix}_nodeids"));
    let columns = attrs.ints(&format!("{prefix}_ids"));
    let weights = attrs.floats(&format!("{prefix}_weights"));
    let n = trees.len();
    if nodes.len() != n || columns.len() != n || weights.len() != n {
        return Err(format!("its {prefix}_* attributes have different lengths"));
    }
    Ok((0..n).map(|i| (trees[i], nodes[i], columns[i], weights[i])).collect())
}

/// Emits the scores `Σ_trees hit · W + base` with `columns` columns, `W`
/// from `votes` whose ids are already columns.
fn scores(
    emit: &mut Emit<'_>,
    x: &str,
    ensemble: &Ensemble,
    weights: &[Weight],
    columns: usize,
    mut base: Vec<f64>,
) -> Result<String, Refusal> {
    let mut weight_of: HashMap<usize, Vec<(usize, f64)>> = HashMap::new();
    for &(tree, node, column, w) in weights {
        let at = *ensemble
            .index
            .get(&(tree, node))
            .ok_or_else(|| format!("a weight names node {node} of tree {tree}, which does not exist"))?;
        weight_of.entry(at).or_default().push((column, w));
    }
    let mut hits = Vec::new();
    let mut weights: Vec<f64> = Vec::new();
    for &root in ensemble.roots.values() {
        let leaves = ensemble.leaves(root)?;
        let leaf_weights = |leaf: &Leaf| {
            let mut row = vec![0.0; columns];
            for &(c, w) in weight_of.get(&leaf.node).map(Vec::as_slice).unwrap_or(&[]) {
                row[c] += w;
            }
            row
        };
        if leaves.len() == 1 {
            // A tree that is a single leaf adds its weights to every input.
            for (b, w) in base.iter_mut().zip(leaf_weights(&leaves[0])) {
                *b += w;
            }
            continue;
        }
        hits.push(tree_hits(emit, x, ensemble, &leaves)?);
        for leaf in &leaves {
            weights.extend(leaf_weights(leaf));
        }
    }
    if hits.is_empty() {
        return Err("every tree is a single leaf: the output does not depend on the input".into());
    }
    let refs: Vec<&str> = hits.iter().map(String::as_str).collect();
    let all_hits =
        if refs.len() == 1 { hits[0].clone() } else { emit.op("Concat", &refs, vec![("axis", Attr::Int(-1))]) };
    let leaves = weights.len() / columns.max(1);
    let summed = emit.matmul_const(&all_hits, leaves, &weights);
    if base.iter().all(|&b| b == 0.0) {
        return Ok(summed);
    }
    let base = emit.vector("base", &base);
    Ok(emit.binary("Add", &summed, &base))
}

/// The one-hot leaf indicator of one tree, `[..., leaves]`.
fn tree_hits(emit: &mut Emit<'_>, x: &str, ensemble: &Ensemble, leaves: &[Leaf]) -> Result<String, Refusal> {
    // The tree's branch nodes, grouped by mode: one comparison per group.
    let mut groups: BTreeMap<Mode, Vec<usize>> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for leaf in leaves {
        for &(j, _) in &leaf.path {
            if seen.insert(j) {
                if let Some(mode) = ensemble.nodes[j].mode {
                    groups.entry(mode).or_default().push(j);
                }
            }
        }
    }
    let mut column_of = HashMap::new();
    let mut parts = Vec::new();
    for (mode, branch) in &groups {
        for &j in branch {
            column_of.insert(j, column_of.len());
        }
        let features: Vec<i64> = branch.iter().map(|&j| ensemble.nodes[j].feature).collect();
        if let Some(bad) = features.iter().find(|&&f| f < 0) {
            return Err(format!("a branch reads feature {bad}"));
        }
        let thresholds: Vec<f64> = branch.iter().map(|&j| ensemble.nodes[j].threshold).collect();
        let picked = emit.columns(x, &features);
        let thresholds = emit.vector("thresholds", &thresholds);
        let (op, negate) = mode.operator();
        let mut test = emit.binary(op, &picked, &thresholds);
        if negate {
            test = emit.op("Not", &[&test], vec![]);
        }
        parts.push(emit.cast_float(&test));
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    let conditions =
        if refs.len() == 1 { parts[0].clone() } else { emit.op("Concat", &refs, vec![("axis", Attr::Int(-1))]) };
    let (branches, n_leaves) = (column_of.len(), leaves.len());
    let mut turns = vec![0.0; branches * n_leaves];
    let mut offsets = Vec::with_capacity(n_leaves);
    for (l, leaf) in leaves.iter().enumerate() {
        let mut trues = 0.0;
        for &(j, yes) in &leaf.path {
            turns[column_of[&j] * n_leaves + l] = if yes { 1.0 } else { -1.0 };
            trues += f64::from(u8::from(yes));
        }
        offsets.push(1.0 - trues);
    }
    let reached = emit.matmul_const(&conditions, branches, &turns);
    let offsets = emit.vector("path_offsets", &offsets);
    let shifted = emit.binary("Add", &reached, &offsets);
    Ok(emit.op("Relu", &[&shifted], vec![]))
}

/// The votes with their ids replaced by score columns (`column`) and weights
/// scaled by `factor`.
fn columns_of(
    votes: Vec<Vote>,
    factor: f64,
    column: impl Fn(i64) -> Result<usize, Refusal>,
) -> Result<Vec<Weight>, Refusal> {
    votes.into_iter().map(|(tree, node, id, w)| Ok((tree, node, column(id)?, w * factor))).collect()
}

/// The column of class or target `id` of `count` (`what`: "class", "target").
fn column_in(id: i64, count: usize, what: &str) -> Result<usize, Refusal> {
    usize::try_from(id).ok().filter(|&c| c < count).ok_or_else(|| format!("a weight is for {what} {id} of {count}"))
}

/// `count` base values (zeros when absent; `what`: "classes", "targets").
fn base_values(attrs: &Attrs<'_>, count: usize, what: &str) -> Result<Vec<f64>, Refusal> {
    let base = attrs.floats("base_values");
    if base.is_empty() {
        return Ok(vec![0.0; count]);
    }
    if base.len() != count {
        return Err(format!("it has {} base values for {count} {what}", base.len()));
    }
    Ok(base)
}

pub(super) fn regressor(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let attrs = Attrs(node);
    let x = Emit::input(node, 0)?;
    let y = Emit::output(node, 0).ok_or("its output is missing")?;
    let ensemble = Ensemble::parse(&attrs)?;
    let targets = attrs.int("n_targets").unwrap_or(1).max(1) as usize;
    let factor = match attrs.string("aggregate_function").as_deref().unwrap_or("SUM") {
        "SUM" => 1.0,
        "AVERAGE" => 1.0 / ensemble.roots.len() as f64,
        other => {
            return Err(format!(
                "its aggregate function {other} is not supported (SUM and AVERAGE are, which scikit-learn, XGBoost and \
                 LightGBM use)"
            ))
        }
    };
    let base = base_values(&attrs, targets, "targets")?;
    let weights = columns_of(votes(&attrs, "target")?, factor, |id| column_in(id, targets, "target"))?;
    let scores = scores(emit, x, &ensemble, &weights, targets, base)?;
    classify::post_transform(emit, &attrs.post_transform(), &scores, y)
}

pub(super) fn classifier(emit: &mut Emit<'_>, node: &NodeProto) -> Result<(), Refusal> {
    let attrs = Attrs(node);
    let x = Emit::input(node, 0)?;
    let ensemble = Ensemble::parse(&attrs)?;
    let labels = classify::int_labels(node, "classlabels_int64s")?;
    let votes = votes(&attrs, "class")?;
    let classes = labels.len();
    // A binary ensemble that scores one class only (gradient boosting) has one
    // score column.
    let single = classes == 2 && votes.windows(2).all(|w| w[0].2 == w[1].2);
    let (columns, base, weights) = if single {
        let class = votes.first().map_or(0, |v| v.2.clamp(0, 1) as usize);
        let base = attrs.floats("base_values");
        let b = match base.len() {
            0 => 0.0,
            1 => base[0],
            _ => base[class],
        };
        (1, vec![b], columns_of(votes, 1.0, |_| Ok(0))?)
    } else {
        let base = base_values(&attrs, classes, "classes")?;
        (classes, base, columns_of(votes, 1.0, |id| column_in(id, classes, "class"))?)
    };
    let raw = scores(emit, x, &ensemble, &weights, columns, base)?;
    let binary = match attrs.post_transform().as_str() {
        "NONE" => BinaryScores::Complement,
        _ => BinaryScores::Symmetric,
    };
    classify::outputs(emit, node, raw, columns, &labels, binary)
}
