//! Decision trees (CART, as `sklearn.tree`): best split by Gini, entropy or squared error,
//! thresholds halfway between neighbouring values. The tree grower is shared with the
//! random forests.

use ndarray::{Array1, Array2, ArrayView1};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::{
    argmax_classes, check_len, check_width, encode_classes, estimator, fitted_methods, require,
    require_choice, seed_for, supervised_fit, Estimator, Fitted, Input, LearnError, Result,
};
use crate::runtime::check_interrupt;

/// How a node's impurity is measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Criterion {
    Gini,
    Entropy,
    SquaredError,
}

/// What the grower needs to know, checked by the estimators that build it.
#[derive(Debug, Clone)]
pub(crate) struct Growth {
    pub criterion: Criterion,
    pub max_depth: Option<usize>,
    pub min_samples_split: usize,
    pub min_samples_leaf: usize,
    /// Features tried per split (all of them in a plain tree).
    pub max_features: usize,
}

/// The targets a tree is grown on: class indices or numbers.
pub(crate) enum Targets<'a> {
    Classes {
        index: &'a [usize],
        n_classes: usize,
    },
    Values(ArrayView1<'a, f64>),
}

#[derive(Debug, Clone)]
struct Node {
    /// `usize::MAX` for a leaf.
    feature: usize,
    threshold: f64,
    left: usize,
    right: usize,
    /// Class probabilities, or the mean target.
    value: Vec<f64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
    /// Total impurity decrease per feature, normalized to sum to 1.
    pub importances: Vec<f64>,
}

impl Tree {
    /// Grows a tree on the samples `rows` of `x` (repeats allowed: bootstrap samples).
    pub fn grow(
        x: &Array2<f64>,
        targets: &Targets,
        rows: Vec<usize>,
        growth: &Growth,
        seed: u64,
    ) -> Tree {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut tree = Tree {
            nodes: Vec::new(),
            importances: vec![0.0; x.ncols()],
        };
        // (rows, depth, parent slot to point at this node)
        let mut stack = vec![(rows, 0usize, None::<(usize, bool)>)];
        let mut features: Vec<usize> = (0..x.ncols()).collect();
        while let Some((rows, depth, parent)) = stack.pop() {
            check_interrupt();
            let (value, impurity) = node_value(targets, growth.criterion, &rows);
            let id = tree.nodes.len();
            if let Some((parent, is_left)) = parent {
                if is_left {
                    tree.nodes[parent].left = id;
                } else {
                    tree.nodes[parent].right = id;
                }
            }
            tree.nodes.push(Node {
                feature: usize::MAX,
                threshold: 0.0,
                left: 0,
                right: 0,
                value,
            });
            let splittable = rows.len() >= growth.min_samples_split
                && rows.len() >= 2 * growth.min_samples_leaf
                && growth.max_depth.is_none_or(|max| depth < max)
                && impurity > 1e-12;
            if !splittable {
                continue;
            }
            features.shuffle(&mut rng);
            let mut best: Option<Split> = None;
            for (tried, &feature) in features.iter().enumerate() {
                // Scikit-learn keeps looking past max_features until one valid split is found.
                if tried >= growth.max_features && best.is_some() {
                    break;
                }
                if let Some(split) = best_split(x, targets, &rows, feature, growth) {
                    if best.as_ref().is_none_or(|b| split.score < b.score) {
                        best = Some(split);
                    }
                }
            }
            let Some(split) = best else { continue };
            let (left, right): (Vec<usize>, Vec<usize>) = rows
                .iter()
                .partition(|&&r| x[[r, split.feature]] <= split.threshold);
            let (_, left_impurity) = node_value(targets, growth.criterion, &left);
            let (_, right_impurity) = node_value(targets, growth.criterion, &right);
            tree.importances[split.feature] += rows.len() as f64 * impurity
                - left.len() as f64 * left_impurity
                - right.len() as f64 * right_impurity;
            tree.nodes[id].feature = split.feature;
            tree.nodes[id].threshold = split.threshold;
            stack.push((right, depth + 1, Some((id, false))));
            stack.push((left, depth + 1, Some((id, true))));
        }
        let total: f64 = tree.importances.iter().sum();
        if total > 0.0 {
            tree.importances.iter_mut().for_each(|v| *v /= total);
        }
        tree
    }

    /// The leaf value (class probabilities or mean) for one sample.
    pub fn leaf(&self, sample: ArrayView1<f64>) -> &[f64] {
        let mut node = &self.nodes[0];
        while node.feature != usize::MAX {
            node = &self.nodes[if sample[node.feature] <= node.threshold {
                node.left
            } else {
                node.right
            }];
        }
        &node.value
    }

    pub fn depth(&self) -> usize {
        fn depth(nodes: &[Node], id: usize) -> usize {
            let node = &nodes[id];
            if node.feature == usize::MAX {
                0
            } else {
                1 + depth(nodes, node.left).max(depth(nodes, node.right))
            }
        }
        depth(&self.nodes, 0)
    }

    pub fn leaves(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.feature == usize::MAX)
            .count()
    }
}

struct Split {
    feature: usize,
    threshold: f64,
    /// Weighted child impurity, up to terms that don't depend on the split: lower is better.
    score: f64,
}

/// Class probabilities (or the mean) and the impurity of a node's samples.
fn node_value(targets: &Targets, criterion: Criterion, rows: &[usize]) -> (Vec<f64>, f64) {
    let n = rows.len().max(1) as f64;
    match targets {
        Targets::Classes { index, n_classes } => {
            let mut counts = vec![0.0; *n_classes];
            rows.iter().for_each(|&r| counts[index[r]] += 1.0);
            let p: Vec<f64> = counts.iter().map(|c| c / n).collect();
            let impurity = if criterion == Criterion::Entropy {
                -p.iter()
                    .filter(|&&p| p > 0.0)
                    .map(|p| p * p.log2())
                    .sum::<f64>()
            } else {
                1.0 - p.iter().map(|p| p * p).sum::<f64>()
            };
            (p, impurity)
        }
        Targets::Values(y) => {
            let mean = rows.iter().map(|&r| y[r]).sum::<f64>() / n;
            let var = rows.iter().map(|&r| (y[r] - mean).powi(2)).sum::<f64>() / n;
            (vec![mean], var)
        }
    }
}

/// The best threshold on one feature: samples sorted by it, children's statistics updated
/// one sample at a time as the threshold moves right.
fn best_split(
    x: &Array2<f64>,
    targets: &Targets,
    rows: &[usize],
    feature: usize,
    growth: &Growth,
) -> Option<Split> {
    let mut order: Vec<(f64, usize)> = rows.iter().map(|&r| (x[[r, feature]], r)).collect();
    order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let n = order.len();
    let leaf = growth.min_samples_leaf;
    let mut best: Option<(f64, usize)> = None;
    let mut consider = |position: usize, score: f64| {
        // position: the last sample on the left
        if position + 1 >= leaf
            && n - position - 1 >= leaf
            && order[position].0 < order[position + 1].0
            && best.is_none_or(|(b, _)| score < b)
        {
            best = Some((score, position));
        }
    };
    match targets {
        Targets::Classes { index, n_classes } => {
            let mut left = vec![0.0; *n_classes];
            let mut right = vec![0.0; *n_classes];
            order.iter().for_each(|&(_, r)| right[index[r]] += 1.0);
            let (mut left_squares, mut right_squares) =
                (0.0, right.iter().map(|c| c * c).sum::<f64>());
            for position in 0..n - 1 {
                let class = index[order[position].1];
                left_squares += 2.0 * left[class] + 1.0;
                right_squares -= 2.0 * right[class] - 1.0;
                left[class] += 1.0;
                right[class] -= 1.0;
                let (nl, nr) = ((position + 1) as f64, (n - position - 1) as f64);
                let score = match growth.criterion {
                    // n_l·gini_l + n_r·gini_r = n - Σl²/n_l - Σr²/n_r
                    Criterion::Entropy => entropy_sum(&left, nl) + entropy_sum(&right, nr),
                    _ => -(left_squares / nl + right_squares / nr),
                };
                consider(position, score);
            }
        }
        Targets::Values(y) => {
            let total: f64 = order.iter().map(|&(_, r)| y[r]).sum();
            let mut left_sum = 0.0;
            for position in 0..n - 1 {
                left_sum += y[order[position].1];
                let (nl, nr) = ((position + 1) as f64, (n - position - 1) as f64);
                let right_sum = total - left_sum;
                // n_l·var_l + n_r·var_r = Σy² - S_l²/n_l - S_r²/n_r
                consider(
                    position,
                    -(left_sum * left_sum / nl + right_sum * right_sum / nr),
                );
            }
        }
    }
    best.map(|(score, position)| {
        let (low, high) = (order[position].0, order[position + 1].0);
        let middle = low / 2.0 + high / 2.0;
        Split {
            feature,
            threshold: if middle >= high { low } else { middle },
            score,
        }
    })
}

/// n · entropy of class counts.
fn entropy_sum(counts: &[f64], n: f64) -> f64 {
    -counts
        .iter()
        .filter(|&&c| c > 0.0)
        .map(|c| c * (c / n).log2())
        .sum::<f64>()
}

/// Features tried per split for `max_features` ("all", "sqrt", "log2").
fn features_per_split(max_features: &str, n_features: usize) -> usize {
    let n = n_features as f64;
    let count = match max_features {
        "sqrt" => n.sqrt().floor(),
        "log2" => n.log2().floor(),
        _ => n,
    };
    (count as usize).clamp(1, n_features.max(1))
}

fn criterion(estimator: &str, name: &str, classification: bool) -> Result<Criterion> {
    if classification {
        require_choice(estimator, "criterion", name, &["gini", "entropy"])?;
        Ok(if name == "gini" {
            Criterion::Gini
        } else {
            Criterion::Entropy
        })
    } else {
        require_choice(estimator, "criterion", name, &["squared_error"])?;
        Ok(Criterion::SquaredError)
    }
}

/// Samples for a tree model: finite numbers (trees have no rule for NaN here).
pub(crate) fn prepare(name: &str, x: Input, y: ArrayView1<f64>) -> Result<Array2<f64>> {
    let x = x.matrix()?;
    check_len(y.len(), x.nrows())?;
    if x.nrows() == 0 {
        return Err(LearnError::data(format!("{name}: X has no samples")));
    }
    if x.iter().any(|v| v.is_nan()) {
        return Err(LearnError::data(format!(
            "{name}: X has NaN values; impute them (SimpleImputer) or use HistGradientBoosting, which handles them"
        )));
    }
    Ok(x)
}

/// Checks the hyperparameters every tree estimator shares and turns them into a [`Growth`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn growth(
    estimator: &str,
    classification: bool,
    criterion_name: &str,
    max_depth: Option<usize>,
    min_samples_split: usize,
    min_samples_leaf: usize,
    max_features: &str,
    n_features: usize,
) -> Result<Growth> {
    require(
        min_samples_split >= 2,
        estimator,
        "min_samples_split",
        "≥ 2",
        min_samples_split,
    )?;
    require(
        min_samples_leaf >= 1,
        estimator,
        "min_samples_leaf",
        "≥ 1",
        min_samples_leaf,
    )?;
    require(
        max_depth != Some(0),
        estimator,
        "max_depth",
        "≥ 1 or None",
        0,
    )?;
    require_choice(
        estimator,
        "max_features",
        max_features,
        &["all", "sqrt", "log2"],
    )?;
    Ok(Growth {
        criterion: criterion(estimator, criterion_name, classification)?,
        max_depth,
        min_samples_split,
        min_samples_leaf,
        max_features: features_per_split(max_features, n_features),
    })
}

macro_rules! decision_tree {
    ($(#[$meta:meta])* $name:ident, $kind:ident, $criterion:literal, $classification:literal) => {
        estimator! {
            $(#[$meta])*
            pub struct $name($kind, supervised) {
                criterion: String = $criterion.into(),
                max_depth: Option<usize> = None,
                min_samples_split: usize = 2,
                min_samples_leaf: usize = 1,
                /// Features tried per split: "all", "sqrt" or "log2".
                max_features: String = "all".into(),
                random_state: Option<u64> = None,
            }
        }
        supervised_fit!($name => FittedDecisionTree);

        impl $name {
            fn fit_view(&self, x: Input, y: ArrayView1<f64>) -> Result<FittedDecisionTree> {
                let name = stringify!($name);
                let x = prepare(name, x, y)?;
                let growth = growth(name, $classification, &self.criterion, self.max_depth, self.min_samples_split,
                    self.min_samples_leaf, &self.max_features, x.ncols())?;
                let rows = (0..x.nrows()).collect();
                let seed = seed_for(self.random_state);
                let (classes, tree) = if $classification {
                    let (classes, index) = encode_classes(y);
                    let targets = Targets::Classes { index: &index, n_classes: classes.len() };
                    (classes, Tree::grow(&x, &targets, rows, &growth, seed))
                } else {
                    (Vec::new(), Tree::grow(&x, &Targets::Values(y), rows, &growth, seed))
                };
                Ok(FittedDecisionTree {
                    feature_importances: tree.importances.clone().into(),
                    model: Box::new(self.clone()),
                    tree,
                    classes,
                    n_features: x.ncols(),
                })
            }
        }
    };
}

decision_tree!(
    /// A classification tree; `criterion` "gini" or "entropy".
    DecisionTreeClassifier, Classifier, "gini", true
);
decision_tree!(
    /// A regression tree; `criterion` "squared_error".
    DecisionTreeRegressor, Regressor, "squared_error", false
);

pub struct FittedDecisionTree {
    model: Box<dyn Estimator>,
    tree: Tree,
    /// Class labels (empty for a regression tree).
    pub classes: Vec<f64>,
    /// Each feature's share of the total impurity decrease.
    pub feature_importances: Array1<f64>,
    n_features: usize,
}

impl FittedDecisionTree {
    pub fn depth(&self) -> usize {
        self.tree.depth()
    }

    pub fn n_leaves(&self) -> usize {
        self.tree.leaves()
    }

    /// The rules as indented text, as scikit-learn's `export_text`: `print!("{}",
    /// tree.export_text(&iris.feature_names))`. Class leaves show the class label.
    pub fn export_text(&self, feature_names: &[String]) -> String {
        let mut out = String::new();
        self.write_rules(0, 0, feature_names, &mut out);
        out
    }

    fn write_rules(&self, id: usize, depth: usize, names: &[String], out: &mut String) {
        let node = &self.tree.nodes[id];
        let indent = "|   ".repeat(depth);
        if node.feature == usize::MAX {
            let value = if self.classes.is_empty() {
                format!("value: [{:.2}]", node.value[0])
            } else {
                let best =
                    node.value
                        .iter()
                        .enumerate()
                        .fold((0, -1.0), |b, (i, &p)| if p > b.1 { (i, p) } else { b });
                format!("class: {}", self.classes[best.0])
            };
            out.push_str(&format!("{indent}|--- {value}\n"));
            return;
        }
        let fallback = format!("feature_{}", node.feature);
        let name = names.get(node.feature).unwrap_or(&fallback);
        out.push_str(&format!("{indent}|--- {name} <= {:.2}\n", node.threshold));
        self.write_rules(node.left, depth + 1, names, out);
        out.push_str(&format!("{indent}|--- {name} >  {:.2}\n", node.threshold));
        self.write_rules(node.right, depth + 1, names, out);
    }
}

impl Fitted for FittedDecisionTree {
    fn estimator(&self) -> &dyn Estimator {
        self.model.as_ref()
    }

    fn predict_proba(&self, x: Input) -> Result<Array2<f64>> {
        if self.classes.is_empty() {
            return Err(LearnError::data("a regression tree has no predict_proba"));
        }
        let x = x.matrix()?;
        check_width(&self.model.name(), self.n_features, &x)?;
        let mut proba = Array2::zeros((x.nrows(), self.classes.len()));
        for (mut out, sample) in proba.rows_mut().into_iter().zip(x.rows()) {
            out.iter_mut()
                .zip(self.tree.leaf(sample))
                .for_each(|(o, &p)| *o = p);
        }
        Ok(proba)
    }

    fn predict(&self, x: Input) -> Result<Array1<f64>> {
        if !self.classes.is_empty() {
            return Ok(argmax_classes(&self.predict_proba(x)?, &self.classes));
        }
        let x = x.matrix()?;
        check_width(&self.model.name(), self.n_features, &x)?;
        Ok(x.rows()
            .into_iter()
            .map(|sample| self.tree.leaf(sample)[0])
            .collect())
    }

    fn classes(&self) -> Option<&[f64]> {
        (!self.classes.is_empty()).then_some(self.classes.as_slice())
    }

    fn summary(&self) -> Vec<(String, String)> {
        vec![
            ("depth".into(), self.depth().to_string()),
            ("leaves".into(), self.n_leaves().to_string()),
        ]
    }
}
fitted_methods!(FittedDecisionTree: predict, predict_proba, score);
