//! Histogram-based gradient boosting, as `sklearn.ensemble.HistGradientBoosting*` (the
//! LightGBM design): features binned into at most 255 quantile bins, trees grown leaf by leaf
//! on gradient/hessian histograms (a child's histogram is its parent's minus its sibling's),
//! missing values sent to whichever side helps, early stopping on a held-out part.

use std::collections::BinaryHeap;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rayon::prelude::*;

use super::{
    argmax_classes, check_len, check_width, encode_classes, estimator, fitted_methods, require,
    require_choice, seed_for, sigmoid, softmax, supervised_fit, Estimator, Fitted, Input,
    LearnError, Result,
};
use crate::runtime::check_interrupt;

/// The bin index of missing values; real values use 0..max_bins.
const MISSING: u8 = 255;

/// Bin upper bounds per feature: a value falls in the first bin whose bound it doesn't
/// exceed.
struct Binner {
    thresholds: Vec<Vec<f64>>,
}

impl Binner {
    /// Midpoints between distinct values, or between NumPy "midpoint" percentiles when there
    /// are more distinct values than bins (scikit-learn's rule).
    fn fit(x: ArrayView2<f64>, max_bins: usize) -> Binner {
        let thresholds = x
            .columns()
            .into_iter()
            .map(|column| {
                let mut values: Vec<f64> = column.iter().copied().filter(|v| !v.is_nan()).collect();
                values.sort_by(f64::total_cmp);
                let mut distinct = values.clone();
                distinct.dedup();
                if distinct.len() <= max_bins {
                    distinct
                        .windows(2)
                        .map(|w| w[0] + (w[1] - w[0]) / 2.0)
                        .collect()
                } else {
                    let mut bounds: Vec<f64> = (1..max_bins)
                        .map(|i| {
                            let position = i as f64 / max_bins as f64 * (values.len() - 1) as f64;
                            (values[position.floor() as usize] + values[position.ceil() as usize])
                                / 2.0
                        })
                        .collect();
                    bounds.dedup();
                    bounds
                }
            })
            .collect();
        Binner { thresholds }
    }

    /// Binned samples, feature-major: `bins[feature][sample]`.
    fn transform(&self, x: ArrayView2<f64>) -> Vec<Vec<u8>> {
        x.columns()
            .into_iter()
            .zip(&self.thresholds)
            .map(|(column, bounds)| {
                column
                    .iter()
                    .map(|&v| {
                        if v.is_nan() {
                            MISSING
                        } else {
                            bounds.partition_point(|&t| t < v) as u8
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

#[derive(Clone, Copy, Default)]
struct HistBin {
    gradient: f64,
    hessian: f64,
    count: u32,
}

/// One histogram of 256 bins per feature.
type Histogram = Vec<HistBin>;

fn histogram(bins: &[Vec<u8>], rows: &[u32], gradient: &[f64], hessian: &[f64]) -> Histogram {
    let per_feature = |feature: &Vec<u8>| {
        let mut hist = vec![HistBin::default(); 256];
        for &r in rows {
            let bin = &mut hist[feature[r as usize] as usize];
            bin.gradient += gradient[r as usize];
            bin.hessian += hessian[r as usize];
            bin.count += 1;
        }
        hist
    };
    // Threads pay off only on large nodes.
    if rows.len() > 4096 {
        bins.par_iter().flat_map_iter(per_feature).collect()
    } else {
        bins.iter().flat_map(per_feature).collect()
    }
}

fn subtract(parent: &Histogram, child: &Histogram) -> Histogram {
    parent
        .iter()
        .zip(child)
        .map(|(p, c)| HistBin {
            gradient: p.gradient - c.gradient,
            hessian: p.hessian - c.hessian,
            count: p.count - c.count,
        })
        .collect()
}

struct Growth {
    max_leaf_nodes: usize,
    max_depth: Option<usize>,
    min_samples_leaf: u32,
    l2: f64,
    learning_rate: f64,
}

#[derive(Clone, Copy)]
struct Split {
    gain: f64,
    feature: usize,
    bin: u8,
    missing_left: bool,
}

/// The best split of a node from its histogram, trying missing values on either side.
fn best_split(hist: &Histogram, n_features: usize, growth: &Growth) -> Option<Split> {
    let total = hist[..256].iter().fold(HistBin::default(), |a, b| HistBin {
        gradient: a.gradient + b.gradient,
        hessian: a.hessian + b.hessian,
        count: a.count + b.count,
    });
    let score = |g: f64, h: f64| g * g / (h + growth.l2);
    let parent = score(total.gradient, total.hessian);
    let mut best: Option<Split> = None;
    for feature in 0..n_features {
        let bins = &hist[feature * 256..(feature + 1) * 256];
        let missing = bins[MISSING as usize];
        for missing_left in [false, true] {
            if missing_left && missing.count == 0 {
                break;
            }
            let mut left = if missing_left {
                missing
            } else {
                HistBin::default()
            };
            for bin in 0..MISSING {
                let b = bins[bin as usize];
                left.gradient += b.gradient;
                left.hessian += b.hessian;
                left.count += b.count;
                let right_count = total.count - left.count;
                if left.count < growth.min_samples_leaf {
                    continue;
                }
                if right_count < growth.min_samples_leaf {
                    break;
                }
                let right_hessian = total.hessian - left.hessian;
                if left.hessian < 1e-3 || right_hessian < 1e-3 {
                    continue;
                }
                let gain = score(left.gradient, left.hessian)
                    + score(total.gradient - left.gradient, right_hessian)
                    - parent;
                if gain > 1e-12 && best.is_none_or(|s| gain > s.gain) {
                    best = Some(Split {
                        gain,
                        feature,
                        bin,
                        missing_left,
                    });
                }
            }
        }
    }
    best
}

#[derive(Debug, Clone)]
struct Node {
    /// `usize::MAX` for a leaf.
    feature: usize,
    bin: u8,
    missing_left: bool,
    left: usize,
    right: usize,
    value: f64,
    /// The loss reduction this split bought (0 for a leaf): feature importances sum it.
    gain: f64,
}

impl Node {
    /// A leaf whose value is set once the tree is grown.
    const LEAF: Node = Node {
        feature: usize::MAX,
        bin: 0,
        missing_left: false,
        left: 0,
        right: 0,
        value: 0.0,
        gain: 0.0,
    };
}

struct Leaf {
    node: usize,
    rows: Vec<u32>,
    hist: Histogram,
    depth: usize,
    split: Option<Split>,
}

/// A split candidate in the best-first queue, ordered by gain.
struct Candidate(f64, usize);

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Candidate {}
impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0).then(other.1.cmp(&self.1))
    }
}

struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    /// Grows one tree leaf by leaf, always splitting the leaf of largest gain, and adds
    /// each leaf's value to the training samples' raw predictions `raw`.
    fn grow(
        bins: &[Vec<u8>],
        rows: Vec<u32>,
        gradient: &[f64],
        hessian: &[f64],
        growth: &Growth,
        raw: &mut [f64],
    ) -> Tree {
        let n_features = bins.len();
        let new_leaf = |rows: Vec<u32>, hist: Histogram, depth: usize, node: usize| {
            let can_split = rows.len() as u32 >= 2 * growth.min_samples_leaf
                && growth.max_depth.is_none_or(|max| depth < max);
            let split = if can_split {
                best_split(&hist, n_features, growth)
            } else {
                None
            };
            Leaf {
                node,
                rows,
                hist,
                depth,
                split,
            }
        };
        let root_hist = histogram(bins, &rows, gradient, hessian);
        let mut nodes = vec![Node::LEAF];
        let mut leaves = vec![Some(new_leaf(rows, root_hist, 0, 0))];
        let mut queue = BinaryHeap::new();
        if let Some(split) = leaves[0].as_ref().and_then(|l| l.split) {
            queue.push(Candidate(split.gain, 0));
        }
        let mut n_leaves = 1;
        while n_leaves < growth.max_leaf_nodes {
            let Some(Candidate(_, index)) = queue.pop() else {
                break;
            };
            let leaf = leaves[index].take().expect("queued leaves are open");
            let split = leaf.split.expect("queued leaves have a split");
            let feature = &bins[split.feature];
            let (left_rows, right_rows): (Vec<u32>, Vec<u32>) = leaf.rows.iter().partition(|&&r| {
                let bin = feature[r as usize];
                if bin == MISSING {
                    split.missing_left
                } else {
                    bin <= split.bin
                }
            });
            // Builds the smaller child's histogram; the larger one's is the difference.
            let left_is_smaller = left_rows.len() <= right_rows.len();
            let small_hist = histogram(
                bins,
                if left_is_smaller {
                    &left_rows
                } else {
                    &right_rows
                },
                gradient,
                hessian,
            );
            let large_hist = subtract(&leaf.hist, &small_hist);
            let (left_hist, right_hist) = if left_is_smaller {
                (small_hist, large_hist)
            } else {
                (large_hist, small_hist)
            };
            let (left_id, right_id) = (nodes.len(), nodes.len() + 1);
            nodes[leaf.node] = Node {
                feature: split.feature,
                bin: split.bin,
                missing_left: split.missing_left,
                left: left_id,
                right: right_id,
                value: 0.0,
                gain: split.gain,
            };
            for (rows, hist, id) in [
                (left_rows, left_hist, left_id),
                (right_rows, right_hist, right_id),
            ] {
                nodes.push(Node::LEAF);
                let child = new_leaf(rows, hist, leaf.depth + 1, id);
                if let Some(split) = child.split {
                    queue.push(Candidate(split.gain, leaves.len()));
                }
                leaves.push(Some(child));
            }
            n_leaves += 1;
        }
        for leaf in leaves.into_iter().flatten() {
            let (g, h) = leaf.rows.iter().fold((0.0, 0.0), |(g, h), &r| {
                (g + gradient[r as usize], h + hessian[r as usize])
            });
            let value = -growth.learning_rate * g / (h + growth.l2);
            nodes[leaf.node].value = value;
            leaf.rows.iter().for_each(|&r| raw[r as usize] += value);
        }
        Tree { nodes }
    }

    fn predict(&self, bins: &[Vec<u8>], sample: usize) -> f64 {
        let mut node = &self.nodes[0];
        while node.feature != usize::MAX {
            let bin = bins[node.feature][sample];
            let left = if bin == MISSING {
                node.missing_left
            } else {
                bin <= node.bin
            };
            node = &self.nodes[if left { node.left } else { node.right }];
        }
        node.value
    }
}

/// The loss being boosted: its gradients, hessians and value, per sample and output.
#[derive(Clone, Copy, PartialEq)]
enum Loss {
    SquaredError,
    /// Binary log-loss on one raw score per sample.
    Binary,
    /// Softmax cross-entropy on one raw score per class.
    Multinomial(usize),
}

impl Loss {
    fn outputs(self) -> usize {
        match self {
            Loss::Multinomial(k) => k,
            _ => 1,
        }
    }

    /// Raw scores before any tree: the best constant.
    fn baseline(self, y: &[f64]) -> Vec<f64> {
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        match self {
            Loss::SquaredError => vec![mean],
            Loss::Binary => {
                let p = mean.clamp(1e-12, 1.0 - 1e-12);
                vec![(p / (1.0 - p)).ln()]
            }
            Loss::Multinomial(k) => (0..k)
                .map(|c| {
                    let share =
                        y.iter().filter(|&&v| v as usize == c).count() as f64 / y.len() as f64;
                    share.max(1e-12).ln()
                })
                .collect(),
        }
    }

    /// Fills gradients and hessians of output `k` from raw scores (`raw[k][i]`).
    fn derivatives(
        self,
        raw: &[Vec<f64>],
        y: &[f64],
        k: usize,
        gradient: &mut [f64],
        hessian: &mut [f64],
    ) {
        for i in 0..y.len() {
            let (g, h) = match self {
                Loss::SquaredError => (raw[0][i] - y[i], 1.0),
                Loss::Binary => {
                    let p = sigmoid(raw[0][i]);
                    (p - y[i], p * (1.0 - p))
                }
                Loss::Multinomial(_) => {
                    let p = softmax_at(raw, i)[k];
                    (p - f64::from(y[i] as usize == k), p * (1.0 - p))
                }
            };
            gradient[i] = g;
            hessian[i] = h;
        }
    }

    /// Mean loss over samples (halved squared error, as scikit-learn's).
    fn value(self, raw: &[Vec<f64>], y: &[f64]) -> f64 {
        let total: f64 = (0..y.len())
            .map(|i| match self {
                Loss::SquaredError => 0.5 * (raw[0][i] - y[i]).powi(2),
                Loss::Binary => {
                    let z = raw[0][i];
                    z.max(0.0) + (-z.abs()).exp().ln_1p() - y[i] * z
                }
                Loss::Multinomial(_) => -softmax_at(raw, i)[y[i] as usize].max(1e-300).ln(),
            })
            .sum();
        total / y.len() as f64
    }
}

/// The class probabilities of sample `i`, from each class's raw scores.
fn softmax_at(raw: &[Vec<f64>], i: usize) -> Array1<f64> {
    let mut proba: Array1<f64> = raw.iter().map(|r| r[i]).collect();
    softmax(proba.view_mut());
    proba
}

macro_rules! hist_gradient_boosting {
    ($(#[$meta:meta])* $name:ident, $kind:ident, $classification:literal) => {
        estimator! {
            $(#[$meta])*
            pub struct $name($kind, supervised) {
                learning_rate: f64 = 0.1,
                max_iter: usize = 100,
                max_leaf_nodes: Option<usize> = Some(31),
                max_depth: Option<usize> = None,
                min_samples_leaf: usize = 20,
                l2_regularization: f64 = 0.0,
                max_bins: usize = 255,
                /// "auto" (on past 10,000 samples), "on" or "off".
                early_stopping: String = "auto".into(),
                validation_fraction: f64 = 0.1,
                n_iter_no_change: usize = 10,
                tol: f64 = 1e-7,
                random_state: Option<u64> = None,
            }
        }
        supervised_fit!($name => FittedHistGradientBoosting);

        impl $name {
            fn fit_view(&self, x: Input, y: ArrayView1<f64>) -> Result<FittedHistGradientBoosting> {
                let name = stringify!($name);
                require(self.learning_rate > 0.0, name, "learning_rate", "> 0", self.learning_rate)?;
                require(self.max_iter >= 1, name, "max_iter", "≥ 1", self.max_iter)?;
                require(self.max_leaf_nodes.is_none_or(|n| n >= 2), name, "max_leaf_nodes", "≥ 2 or None", format!("{:?}", self.max_leaf_nodes))?;
                require(self.min_samples_leaf >= 1, name, "min_samples_leaf", "≥ 1", self.min_samples_leaf)?;
                require(self.l2_regularization >= 0.0, name, "l2_regularization", "≥ 0", self.l2_regularization)?;
                require((2..=255).contains(&self.max_bins), name, "max_bins", "between 2 and 255", self.max_bins)?;
                require(self.validation_fraction > 0.0 && self.validation_fraction < 1.0, name, "validation_fraction", "in (0, 1)", self.validation_fraction)?;
                require_choice(name, "early_stopping", &self.early_stopping, &["auto", "on", "off"])?;
                let x = x.matrix()?;
                check_len(y.len(), x.nrows())?;
                let (classes, targets) = if $classification {
                    let (classes, index) = encode_classes(y);
                    if classes.len() < 2 {
                        return Err(LearnError::data(format!("{name} needs at least two classes in y")));
                    }
                    (classes, index.iter().map(|&i| i as f64).collect())
                } else {
                    (Vec::new(), y.to_vec())
                };
                let loss = match classes.len() {
                    0 => Loss::SquaredError,
                    2 => Loss::Binary,
                    k => Loss::Multinomial(k),
                };
                let early = self.early_stopping == "on" || (self.early_stopping == "auto" && x.nrows() > 10_000);
                let boosting = Boosting {
                    growth: Growth {
                        max_leaf_nodes: self.max_leaf_nodes.unwrap_or(usize::MAX),
                        max_depth: self.max_depth,
                        min_samples_leaf: self.min_samples_leaf as u32,
                        l2: self.l2_regularization,
                        learning_rate: self.learning_rate,
                    },
                    loss,
                    max_iter: self.max_iter,
                    max_bins: self.max_bins,
                    validation: early.then_some((self.validation_fraction, self.n_iter_no_change, self.tol)),
                    seed: seed_for(self.random_state),
                };
                let (binner, baseline, trees, validation_loss) = boosting.run(&x, &targets);
                Ok(FittedHistGradientBoosting { model: Box::new(self.clone()), feature_importances: gain_importances(&trees, binner.thresholds.len()), binner, baseline, trees, loss, classes, validation_loss })
            }
        }
    };
}

hist_gradient_boosting!(
    /// Gradient-boosted trees for classification (log-loss; softmax past two classes).
    HistGradientBoostingClassifier, Classifier, true
);
hist_gradient_boosting!(
    /// Gradient-boosted trees for regression (squared error).
    HistGradientBoostingRegressor, Regressor, false
);

/// One boosting run's settings, checked by the estimators.
struct Boosting {
    growth: Growth,
    loss: Loss,
    max_iter: usize,
    max_bins: usize,
    /// Held-out fraction, patience and tolerance when early stopping is on.
    validation: Option<(f64, usize, f64)>,
    seed: u64,
}

type Trees = Vec<Vec<Tree>>;

impl Boosting {
    fn run(&self, x: &Array2<f64>, y: &[f64]) -> (Binner, Vec<f64>, Trees, Vec<f64>) {
        let mut order: Vec<usize> = (0..x.nrows()).collect();
        let (train, valid) = match self.validation {
            Some((fraction, _, _)) => {
                order.shuffle(&mut StdRng::seed_from_u64(self.seed));
                let n_valid = ((x.nrows() as f64) * fraction).ceil() as usize;
                let (valid, train) = order.split_at(n_valid);
                (train.to_vec(), valid.to_vec())
            }
            None => (order, Vec::new()),
        };
        let x_train = x.select(Axis(0), &train);
        let y_train: Vec<f64> = train.iter().map(|&i| y[i]).collect();
        let binner = Binner::fit(x_train.view(), self.max_bins);
        let bins = binner.transform(x_train.view());
        let valid_bins = binner.transform(x.select(Axis(0), &valid).view());
        let y_valid: Vec<f64> = valid.iter().map(|&i| y[i]).collect();

        let baseline = self.loss.baseline(&y_train);
        let outputs = self.loss.outputs();
        let mut raw: Vec<Vec<f64>> = baseline.iter().map(|&b| vec![b; train.len()]).collect();
        let mut raw_valid: Vec<Vec<f64>> = baseline.iter().map(|&b| vec![b; valid.len()]).collect();
        let (mut gradient, mut hessian) = (vec![0.0; train.len()], vec![0.0; train.len()]);
        let mut trees: Trees = Vec::new();
        let mut scores = Vec::new();
        let all_rows: Vec<u32> = (0..train.len() as u32).collect();
        for _ in 0..self.max_iter {
            check_interrupt();
            let before = raw.clone();
            let mut round = Vec::with_capacity(outputs);
            for k in 0..outputs {
                // Every class's gradients come from the scores before this round.
                self.loss
                    .derivatives(&before, &y_train, k, &mut gradient, &mut hessian);
                let tree = Tree::grow(
                    &bins,
                    all_rows.clone(),
                    &gradient,
                    &hessian,
                    &self.growth,
                    &mut raw[k],
                );
                for (i, value) in raw_valid[k].iter_mut().enumerate() {
                    *value += tree.predict(&valid_bins, i);
                }
                round.push(tree);
            }
            trees.push(round);
            if let Some((_, patience, tol)) = self.validation {
                scores.push(-self.loss.value(&raw_valid, &y_valid));
                // Scikit-learn's rule: stop when none of the last `patience` scores beats the
                // one before them by more than `tol`.
                if scores.len() > patience {
                    let reference = scores[scores.len() - patience - 1];
                    if scores[scores.len() - patience..]
                        .iter()
                        .all(|&s| s <= reference + tol)
                    {
                        break;
                    }
                }
            }
        }
        let validation_loss = scores.iter().map(|s| -s).collect();
        (binner, baseline, trees, validation_loss)
    }
}

pub struct FittedHistGradientBoosting {
    model: Box<dyn Estimator>,
    binner: Binner,
    baseline: Vec<f64>,
    trees: Trees,
    loss: Loss,
    /// Class labels (empty for a regressor).
    pub classes: Vec<f64>,
    /// The held-out loss after each iteration when early stopping was on.
    pub validation_loss: Vec<f64>,
    /// Each feature's share of the loss reduction its splits bought over all trees, summing
    /// to 1 (LightGBM's and XGBoost's "gain" importance: scikit-learn's histogram boosting
    /// has none, and points to `permutation_importance`, also here).
    pub feature_importances: Array1<f64>,
}

fn gain_importances(trees: &Trees, n_features: usize) -> Array1<f64> {
    let mut importances = Array1::<f64>::zeros(n_features);
    for node in trees.iter().flatten().flat_map(|tree| &tree.nodes) {
        if node.feature != usize::MAX {
            importances[node.feature] += node.gain;
        }
    }
    let total = importances.sum();
    if total > 0.0 {
        importances /= total;
    }
    importances
}

impl FittedHistGradientBoosting {
    /// Boosting iterations run (fewer than `max_iter` when early stopping ended them).
    pub fn n_iter(&self) -> usize {
        self.trees.len()
    }

    fn raw(&self, x: Input) -> Result<Vec<Vec<f64>>> {
        let x = x.matrix()?;
        check_width(&self.model.name(), self.binner.thresholds.len(), &x)?;
        let bins = self.binner.transform(x.view());
        Ok((0..self.baseline.len())
            .map(|k| {
                (0..x.nrows())
                    .into_par_iter()
                    .map(|i| {
                        self.baseline[k]
                            + self
                                .trees
                                .iter()
                                .map(|round| round[k].predict(&bins, i))
                                .sum::<f64>()
                    })
                    .collect()
            })
            .collect())
    }
}

impl Fitted for FittedHistGradientBoosting {
    fn estimator(&self) -> &dyn Estimator {
        self.model.as_ref()
    }

    fn predict_proba(&self, x: Input) -> Result<Array2<f64>> {
        let raw = self.raw(x)?;
        let n = raw[0].len();
        match self.loss {
            Loss::SquaredError => Err(LearnError::data("a regressor has no predict_proba")),
            Loss::Binary => Ok(Array2::from_shape_fn((n, 2), |(i, c)| {
                let p = sigmoid(raw[0][i]);
                if c == 1 {
                    p
                } else {
                    1.0 - p
                }
            })),
            Loss::Multinomial(k) => {
                let rows: Vec<f64> = (0..n).flat_map(|i| softmax_at(&raw, i)).collect();
                Ok(Array2::from_shape_vec((n, k), rows).expect("n × k"))
            }
        }
    }

    fn predict(&self, x: Input) -> Result<Array1<f64>> {
        if self.loss == Loss::SquaredError {
            return Ok(self.raw(x)?.swap_remove(0).into());
        }
        Ok(argmax_classes(&self.predict_proba(x)?, &self.classes))
    }

    fn classes(&self) -> Option<&[f64]> {
        (!self.classes.is_empty()).then_some(self.classes.as_slice())
    }

    fn summary(&self) -> Vec<(String, String)> {
        vec![("n_iter".into(), self.n_iter().to_string())]
    }
}
fitted_methods!(FittedHistGradientBoosting: predict, predict_proba, score);
