//! Splitting, cross-validation and hyperparameter search, as `sklearn.model_selection`.
//! Folds and candidates are fitted in parallel, one fresh clone of the estimator each.

use std::time::Instant;

use ndarray::{Array1, Array2, ArrayView1, Axis};
use polars::prelude::{Column, DataFrame};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::{
    check_len, encode_classes, require, seed_for, Estimator, Fitted, Input, Kind, LearnError,
    Param, Result,
};
use crate::display::{escape, MimeBundle, Render};
use crate::metrics::{self, Average};
use crate::random::{self, RandomState};
use crate::runtime::check_interrupt;

/// How `train_test_split` splits: `Split { test_size: 0.2, stratify: true, ..Default::default() }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// The test share of the samples (0..1).
    pub test_size: f64,
    pub shuffle: bool,
    /// Keep each class's share the same in both parts (y holds class labels).
    pub stratify: bool,
    /// `None`: the global generator (`random::seed`), as scikit-learn uses `np.random`'s.
    pub random_state: Option<u64>,
}

impl Default for Split {
    fn default() -> Self {
        Split {
            test_size: 0.25,
            shuffle: true,
            stratify: false,
            random_state: None,
        }
    }
}

/// Rows that can be split: matrices, DataFrames and lists (of texts, say).
pub trait Rows: Sized {
    fn take(&self, rows: &[usize]) -> Self;
    fn n_rows(&self) -> usize;
}

impl Rows for Array2<f64> {
    fn take(&self, rows: &[usize]) -> Self {
        self.select(Axis(0), rows)
    }
    fn n_rows(&self) -> usize {
        self.nrows()
    }
}

impl<T: Clone> Rows for Vec<T> {
    fn take(&self, rows: &[usize]) -> Self {
        rows.iter().map(|&i| self[i].clone()).collect()
    }
    fn n_rows(&self) -> usize {
        self.len()
    }
}

impl Rows for DataFrame {
    fn take(&self, rows: &[usize]) -> Self {
        match Input::Frame(self).take_rows(rows) {
            super::Samples::Frame(frame) => frame,
            super::Samples::Array(_) => unreachable!("a frame's rows are a frame"),
        }
    }
    fn n_rows(&self) -> usize {
        self.height()
    }
}

/// Splits samples and targets into train and test parts:
/// `let (x_train, x_test, y_train, y_test) = train_test_split(&x, &y, Split::default())?;`
pub fn train_test_split<X: Rows>(
    x: &X,
    y: &Array1<f64>,
    split: Split,
) -> Result<(X, X, Array1<f64>, Array1<f64>)> {
    check_len(y.len(), x.n_rows())?;
    let (train, test) = split_indices(y.view(), &split)?;
    Ok((
        x.take(&train),
        x.take(&test),
        y.select(Axis(0), &train),
        y.select(Axis(0), &test),
    ))
}

/// Train and test row indices, the ones scikit-learn's `train_test_split` picks for the same
/// `random_state` (a `ShuffleSplit`, or a `StratifiedShuffleSplit` when stratifying).
fn split_indices(y: ArrayView1<f64>, split: &Split) -> Result<(Vec<usize>, Vec<usize>)> {
    let n = y.len();
    require(
        split.test_size > 0.0 && split.test_size < 1.0,
        "train_test_split",
        "test_size",
        "in (0, 1)",
        split.test_size,
    )?;
    let n_test = (split.test_size * n as f64).ceil() as usize;
    if n_test == 0 || n_test >= n {
        return Err(LearnError::data(format!(
            "train_test_split: {n} samples cannot give both parts a sample"
        )));
    }
    let n_train = n - n_test;
    if !split.shuffle {
        require(
            !split.stratify,
            "train_test_split",
            "shuffle",
            "true when stratifying",
            false,
        )?;
        return Ok(((0..n_train).collect(), (n_train..n).collect()));
    }
    random::with_random_state(split.random_state, |rng| {
        if split.stratify {
            stratified_indices(y, n_train, n_test, rng)
        } else {
            let order = rng.permutation(n);
            Ok((order[n_test..].to_vec(), order[..n_test].to_vec()))
        }
    })
}

/// scikit-learn's `StratifiedShuffleSplit`: each class gives its share of both parts (the
/// most likely counts, ties broken at random), its rows drawn by a permutation.
fn stratified_indices(
    y: ArrayView1<f64>,
    n_train: usize,
    n_test: usize,
    rng: &mut RandomState,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let (classes, index) = encode_classes(y);
    let members: Vec<Vec<usize>> = (0..classes.len())
        .map(|c| (0..y.len()).filter(|&i| index[i] == c).collect())
        .collect();
    if let Some(c) = members.iter().position(|m| m.len() < 2) {
        return Err(LearnError::data(format!(
            "train_test_split: class {} has fewer than 2 samples, so it cannot be in both parts",
            classes[c]
        )));
    }
    if n_train.min(n_test) < classes.len() {
        return Err(LearnError::data(format!(
            "train_test_split: {n_train} train and {n_test} test samples cannot hold each of \
             the {} classes",
            classes.len()
        )));
    }
    let counts: Vec<usize> = members.iter().map(Vec::len).collect();
    let train_counts = approximate_mode(&counts, n_train, rng);
    let remaining: Vec<usize> = counts
        .iter()
        .zip(&train_counts)
        .map(|(c, t)| c - t)
        .collect();
    let test_counts = approximate_mode(&remaining, n_test, rng);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (rows, (&n_train, &n_test)) in members.iter().zip(train_counts.iter().zip(&test_counts)) {
        let drawn: Vec<usize> = rng
            .permutation(rows.len())
            .iter()
            .map(|&i| rows[i])
            .collect();
        train.extend_from_slice(&drawn[..n_train]);
        test.extend_from_slice(&drawn[n_train..n_train + n_test]);
    }
    rng.shuffle(&mut train);
    rng.shuffle(&mut test);
    Ok((train, test))
}

/// How many of `n_draws` each class gives: the floor of its share, then one more for the
/// classes with the largest remainders (ties drawn at random), as scikit-learn's
/// `_approximate_mode`.
fn approximate_mode(counts: &[usize], n_draws: usize, rng: &mut RandomState) -> Vec<usize> {
    let total: usize = counts.iter().sum();
    let exact: Vec<f64> = counts
        .iter()
        .map(|&c| c as f64 / total as f64 * n_draws as f64)
        .collect();
    let mut taken: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut missing = n_draws.saturating_sub(taken.iter().sum());
    let remainder: Vec<f64> = exact.iter().map(|e| e - e.floor()).collect();
    let mut levels = remainder.clone();
    levels.sort_by(|a, b| b.total_cmp(a));
    levels.dedup();
    for level in levels {
        if missing == 0 {
            break;
        }
        let tied: Vec<usize> = (0..counts.len())
            .filter(|&c| remainder[c] == level)
            .collect();
        let now = tied.len().min(missing);
        for pick in rng.choice(tied.len(), now, false) {
            taken[tied[pick]] += 1;
        }
        missing -= now;
    }
    taken
}

/// `(train rows, test rows)` for each fold.
pub type Folds = Vec<(Vec<usize>, Vec<usize>)>;

/// The constructor and the seeded shuffle both fold kinds share.
macro_rules! fold_settings {
    ($($folds:ident),*) => {$(
        impl $folds {
            /// `n_splits` folds, in the samples' order.
            pub fn new(n_splits: usize) -> Self {
                $folds { n_splits, shuffle: false, random_state: None }
            }

            /// Shuffles the samples first, with this seed.
            pub fn shuffle(mut self, seed: u64) -> Self {
                self.shuffle = true;
                self.random_state = Some(seed);
                self
            }
        }
    )*};
}
fold_settings!(KFold, StratifiedKFold);

/// `n_splits` consecutive folds (after an optional seeded shuffle), the first `n % n_splits`
/// one sample larger, as scikit-learn's `KFold`.
#[derive(Debug, Clone, PartialEq)]
pub struct KFold {
    pub n_splits: usize,
    pub shuffle: bool,
    pub random_state: Option<u64>,
}

impl KFold {
    pub fn split(&self, n_samples: usize) -> Result<Folds> {
        check_splits(self.n_splits, n_samples)?;
        let mut order: Vec<usize> = (0..n_samples).collect();
        if self.shuffle {
            random::with_random_state(self.random_state, |rng| rng.shuffle(&mut order));
        }
        let mut fold_of = vec![0; n_samples];
        let mut start = 0;
        for fold in 0..self.n_splits {
            let size = n_samples / self.n_splits + usize::from(fold < n_samples % self.n_splits);
            order[start..start + size]
                .iter()
                .for_each(|&i| fold_of[i] = fold);
            start += size;
        }
        Ok(folds_from(&fold_of, self.n_splits))
    }
}

fn check_splits(n_splits: usize, n_samples: usize) -> Result<()> {
    require(n_splits >= 2, "KFold", "n_splits", "≥ 2", n_splits)?;
    require(
        n_splits <= n_samples,
        "KFold",
        "n_splits",
        &format!("at most the number of samples ({n_samples})"),
        n_splits,
    )
}

fn folds_from(fold_of: &[usize], n_splits: usize) -> Folds {
    (0..n_splits)
        .map(|fold| {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..fold_of.len()).partition(|&i| fold_of[i] == fold);
            (train, test)
        })
        .collect()
}

/// Folds that keep each class's share, with scikit-learn's `StratifiedKFold` allocation:
/// without shuffling, the folds are the ones scikit-learn makes.
#[derive(Debug, Clone, PartialEq)]
pub struct StratifiedKFold {
    pub n_splits: usize,
    pub shuffle: bool,
    pub random_state: Option<u64>,
}

impl StratifiedKFold {
    pub fn split(&self, y: &Array1<f64>) -> Result<Folds> {
        self.split_view(y.view())
    }

    fn split_view(&self, y: ArrayView1<f64>) -> Result<Folds> {
        check_splits(self.n_splits, y.len())?;
        // scikit-learn numbers the classes in order of first appearance, which decides both
        // the allocation and the order of the shuffles.
        let (classes, sorted_index) = encode_classes(y);
        let mut first_seen = Vec::with_capacity(classes.len());
        for &class in &sorted_index {
            if !first_seen.contains(&class) {
                first_seen.push(class);
            }
        }
        let index: Vec<usize> = sorted_index
            .iter()
            .map(|c| first_seen.iter().position(|f| f == c).expect("seen"))
            .collect();
        // Deal the class-sorted labels round-robin over the folds: fold f gets
        // sorted[f], sorted[f + k], ...; count what each fold got of each class.
        let mut sorted = index.clone();
        sorted.sort_unstable();
        let mut allocation = vec![vec![0usize; classes.len()]; self.n_splits];
        for (position, &class) in sorted.iter().enumerate() {
            allocation[position % self.n_splits][class] += 1;
        }
        let mut fold_of = vec![0; y.len()];
        random::with_random_state(self.random_state, |rng| {
            for class in 0..classes.len() {
                let mut folds: Vec<usize> = (0..self.n_splits)
                    .flat_map(|fold| std::iter::repeat_n(fold, allocation[fold][class]))
                    .collect();
                if self.shuffle {
                    rng.shuffle(&mut folds);
                }
                let members = (0..y.len()).filter(|&i| index[i] == class);
                for (sample, fold) in members.zip(folds) {
                    fold_of[sample] = fold;
                }
            }
        });
        Ok(folds_from(&fold_of, self.n_splits))
    }
}

/// How cross-validation splits: a fold count (stratified for classifiers, as scikit-learn's
/// `cv=5`), a `KFold` or a `StratifiedKFold`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cv {
    Folds(usize),
    KFold(KFold),
    Stratified(StratifiedKFold),
}

impl From<usize> for Cv {
    fn from(n: usize) -> Self {
        Cv::Folds(n)
    }
}

impl From<i32> for Cv {
    fn from(n: i32) -> Self {
        Cv::Folds(n.max(0) as usize)
    }
}

impl From<KFold> for Cv {
    fn from(k: KFold) -> Self {
        Cv::KFold(k)
    }
}

impl From<StratifiedKFold> for Cv {
    fn from(k: StratifiedKFold) -> Self {
        Cv::Stratified(k)
    }
}

impl Cv {
    fn folds(&self, kind: Kind, y: ArrayView1<f64>) -> Result<Folds> {
        match self {
            Cv::Folds(n) if kind == Kind::Classifier => StratifiedKFold::new(*n).split_view(y),
            Cv::Folds(n) => KFold::new(*n).split(y.len()),
            Cv::KFold(k) => k.split(y.len()),
            Cv::Stratified(k) => k.split_view(y),
        }
    }
}

/// The scores scikit-learn's `scoring=` names; "" is the estimator's own `score`.
const SCORERS: &[&str] = &[
    "",
    "accuracy",
    "f1",
    "f1_macro",
    "f1_weighted",
    "precision_macro",
    "recall_macro",
    "roc_auc",
    "r2",
    "neg_mean_squared_error",
    "neg_root_mean_squared_error",
    "neg_mean_absolute_error",
];

fn check_scoring(scoring: &str) -> Result<()> {
    require(
        SCORERS.contains(&scoring),
        "scoring",
        "scoring",
        &format!("one of {}", SCORERS[1..].join(", ")),
        format!("{scoring:?}"),
    )
}

/// One score of a fitted model on held-out samples; higher is better (errors are negated).
fn score(fitted: &dyn Fitted, scoring: &str, x: Input, y: ArrayView1<f64>) -> Result<f64> {
    if scoring.is_empty() {
        return fitted.score(x, y);
    }
    if scoring == "roc_auc" {
        let proba = fitted.predict_proba(x)?;
        if proba.ncols() != 2 {
            return Err(LearnError::data(
                "roc_auc scoring needs a binary classifier",
            ));
        }
        return Ok(metrics::roc_auc_score(&y, &proba.column(1)));
    }
    let p = fitted.predict(x)?;
    Ok(match scoring {
        "accuracy" => metrics::accuracy_score(&y, &p),
        "f1" => metrics::f1_score(&y, &p, Average::Binary),
        "f1_macro" => metrics::f1_score(&y, &p, Average::Macro),
        "f1_weighted" => metrics::f1_score(&y, &p, Average::Weighted),
        "precision_macro" => metrics::precision_score(&y, &p, Average::Macro),
        "recall_macro" => metrics::recall_score(&y, &p, Average::Macro),
        "r2" => metrics::r2_score(&y, &p),
        "neg_mean_squared_error" => -metrics::mean_squared_error(&y, &p),
        "neg_root_mean_squared_error" => -metrics::root_mean_squared_error(&y, &p),
        _ => -metrics::mean_absolute_error(&y, &p),
    })
}

/// Fits a clone of `estimator` on each fold's training rows and scores it on its test rows:
/// `cross_val_score(&pipe, &x, &y, 5)?`. Folds run in parallel.
pub fn cross_val_score<'a>(
    estimator: &dyn Estimator,
    x: impl Into<Input<'a>>,
    y: &Array1<f64>,
    cv: impl Into<Cv>,
) -> Result<Array1<f64>> {
    let x = x.into();
    check_len(y.len(), x.nrows())?;
    let folds = cv.into().folds(estimator.kind(), y.view())?;
    let scores = folds
        .par_iter()
        .map(|fold| fit_and_score(estimator, "", x, y.view(), fold).map(|(score, _)| score))
        .collect::<Result<Vec<f64>>>()?;
    Ok(scores.into())
}

/// Score and fit seconds of one fold.
fn fit_and_score(
    estimator: &dyn Estimator,
    scoring: &str,
    x: Input,
    y: ArrayView1<f64>,
    (train, test): &(Vec<usize>, Vec<usize>),
) -> Result<(f64, f64)> {
    check_interrupt();
    let start = Instant::now();
    let x_train = x.take_rows(train);
    let y_train = y.select(Axis(0), train);
    let fitted = estimator.fit_box(x_train.input(), Some(y_train.view()))?;
    let seconds = start.elapsed().as_secs_f64();
    let x_test = x.take_rows(test);
    Ok((
        score(
            fitted.as_ref(),
            scoring,
            x_test.input(),
            y.select(Axis(0), test).view(),
        )?,
        seconds,
    ))
}

/// A value space for one hyperparameter in a randomized search.
#[derive(Debug, Clone, PartialEq)]
pub enum Distribution {
    /// One of these, uniformly.
    Choice(Vec<Param>),
    /// A float, uniform in `[low, high)`.
    Uniform(f64, f64),
    /// A float whose logarithm is uniform: for scales like `c` or `alpha`.
    LogUniform(f64, f64),
    /// An integer in `[low, high]`.
    Int(i64, i64),
}

impl<T: Into<Param>, const N: usize> From<[T; N]> for Distribution {
    fn from(values: [T; N]) -> Self {
        Distribution::Choice(values.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Param>> From<Vec<T>> for Distribution {
    fn from(values: Vec<T>) -> Self {
        Distribution::Choice(values.into_iter().map(Into::into).collect())
    }
}

impl Distribution {
    fn sample(&self, rng: &mut StdRng) -> Param {
        match self {
            Distribution::Choice(values) => values[rng.random_range(0..values.len())].clone(),
            Distribution::Uniform(low, high) => Param::Float(rng.random_range(*low..*high)),
            Distribution::LogUniform(low, high) => {
                Param::Float(rng.random_range(low.ln()..high.ln()).exp())
            }
            Distribution::Int(low, high) => Param::Int(rng.random_range(*low..=*high)),
        }
    }
}

/// Every combination of the listed values, each cross-validated:
/// `GridSearchCV::new(&pipe).param("model__c", [0.1, 1.0, 10.0]).fit(&x, &y)?`.
#[derive(Clone)]
pub struct GridSearchCV {
    search: Search,
    grid: Vec<(String, Vec<Param>)>,
}

/// `n_iter` random draws from the listed distributions, each cross-validated.
#[derive(Clone)]
pub struct RandomizedSearchCV {
    search: Search,
    space: Vec<(String, Distribution)>,
    n_iter: usize,
    random_state: Option<u64>,
}

/// What both searches share: the estimator, folds and scoring.
#[derive(Clone)]
struct Search {
    estimator: Box<dyn Estimator>,
    cv: Cv,
    scoring: String,
}

/// The settings both searches share, as builder methods.
macro_rules! search_settings {
    ($($search:ident),*) => {$(
        impl $search {
            /// Folds: a count (stratified for classifiers), `KFold` or `StratifiedKFold`;
            /// 5 by default.
            pub fn cv(mut self, cv: impl Into<Cv>) -> Self {
                self.search.cv = cv.into();
                self
            }

            /// A scikit-learn scorer name ("accuracy", "f1_macro",
            /// "neg_root_mean_squared_error", ...); the estimator's own `score` by default.
            pub fn scoring(mut self, scoring: &str) -> Self {
                self.search.scoring = scoring.to_owned();
                self
            }
        }
    )*};
}
search_settings!(GridSearchCV, RandomizedSearchCV);

impl GridSearchCV {
    pub fn new(estimator: &dyn Estimator) -> Self {
        GridSearchCV {
            search: Search::new(estimator),
            grid: Vec::new(),
        }
    }

    /// Values to try for one parameter (`step__param` inside a pipeline).
    pub fn param<T: Into<Param>>(
        mut self,
        name: &str,
        values: impl IntoIterator<Item = T>,
    ) -> Self {
        self.grid.push((
            name.to_owned(),
            values.into_iter().map(Into::into).collect(),
        ));
        self
    }

    pub fn fit<'a>(&self, x: impl Into<Input<'a>>, y: &Array1<f64>) -> Result<FittedSearch> {
        let mut candidates: Vec<Vec<(String, Param)>> = vec![Vec::new()];
        for (name, values) in &self.grid {
            if values.is_empty() {
                return Err(LearnError::param(
                    "GridSearchCV",
                    name,
                    "has no values to try",
                ));
            }
            candidates = candidates
                .iter()
                .flat_map(|partial| {
                    values.iter().map(move |value| {
                        let mut next = partial.clone();
                        next.push((name.clone(), value.clone()));
                        next
                    })
                })
                .collect();
        }
        self.search
            .run("GridSearchCV", candidates, x.into(), y.view())
    }
}

impl RandomizedSearchCV {
    pub fn new(estimator: &dyn Estimator) -> Self {
        RandomizedSearchCV {
            search: Search::new(estimator),
            space: Vec::new(),
            n_iter: 10,
            random_state: None,
        }
    }

    /// A distribution (or a list of values) for one parameter.
    pub fn param(mut self, name: &str, distribution: impl Into<Distribution>) -> Self {
        self.space.push((name.to_owned(), distribution.into()));
        self
    }

    pub fn n_iter(mut self, n_iter: usize) -> Self {
        self.n_iter = n_iter;
        self
    }

    pub fn random_state(mut self, seed: u64) -> Self {
        self.random_state = Some(seed);
        self
    }

    pub fn fit<'a>(&self, x: impl Into<Input<'a>>, y: &Array1<f64>) -> Result<FittedSearch> {
        require(
            self.n_iter >= 1,
            "RandomizedSearchCV",
            "n_iter",
            "≥ 1",
            self.n_iter,
        )?;
        let mut rng = StdRng::seed_from_u64(seed_for(self.random_state));
        let candidates = (0..self.n_iter)
            .map(|_| {
                self.space
                    .iter()
                    .map(|(name, d)| (name.clone(), d.sample(&mut rng)))
                    .collect()
            })
            .collect();
        self.search
            .run("RandomizedSearchCV", candidates, x.into(), y.view())
    }
}

impl Search {
    fn new(estimator: &dyn Estimator) -> Self {
        Search {
            estimator: estimator.clone_box(),
            cv: Cv::Folds(5),
            scoring: String::new(),
        }
    }

    /// Cross-validates every candidate (all candidate × fold fits in parallel), then refits
    /// the best on all the data.
    fn run(
        &self,
        name: &str,
        candidates: Vec<Vec<(String, Param)>>,
        x: Input,
        y: ArrayView1<f64>,
    ) -> Result<FittedSearch> {
        check_scoring(&self.scoring)?;
        check_len(y.len(), x.nrows())?;
        let estimators = candidates
            .iter()
            .map(|params| {
                let mut estimator = self.estimator.clone_box();
                for (param, value) in params {
                    estimator.set_param(param, value)?;
                }
                Ok(estimator)
            })
            .collect::<Result<Vec<_>>>()?;
        let folds = self.cv.folds(self.estimator.kind(), y)?;
        let jobs: Vec<(usize, usize)> = (0..candidates.len())
            .flat_map(|c| (0..folds.len()).map(move |f| (c, f)))
            .collect();
        let results = jobs
            .par_iter()
            .map(|&(c, f)| fit_and_score(estimators[c].as_ref(), &self.scoring, x, y, &folds[f]))
            .collect::<Result<Vec<(f64, f64)>>>()?;
        let k = folds.len();
        let stats: Vec<(f64, f64, f64)> = results
            .chunks(k)
            .map(|fold_results| {
                let scores: Vec<f64> = fold_results.iter().map(|r| r.0).collect();
                let mean = scores.iter().sum::<f64>() / k as f64;
                let std =
                    (scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / k as f64).sqrt();
                (
                    mean,
                    std,
                    fold_results.iter().map(|r| r.1).sum::<f64>() / k as f64,
                )
            })
            .collect();
        // The first of the best, as scikit-learn's rank 1.
        let best = (0..stats.len()).fold(0, |b, c| if stats[c].0 > stats[b].0 { c } else { b });
        let rank = |c: usize| 1 + stats.iter().filter(|s| s.0 > stats[c].0).count();
        let mut columns: Vec<Column> = Vec::new();
        for (i, (param, _)) in candidates
            .first()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let values: Vec<String> = candidates.iter().map(|c| c[i].1.to_string()).collect();
            columns.push(Column::new(format!("param_{param}").into(), values));
        }
        columns.push(Column::new(
            "mean_test_score".into(),
            stats.iter().map(|s| s.0).collect::<Vec<_>>(),
        ));
        columns.push(Column::new(
            "std_test_score".into(),
            stats.iter().map(|s| s.1).collect::<Vec<_>>(),
        ));
        columns.push(Column::new(
            "rank_test_score".into(),
            (0..stats.len()).map(|c| rank(c) as u32).collect::<Vec<_>>(),
        ));
        columns.push(Column::new(
            "mean_fit_time".into(),
            stats.iter().map(|s| s.2).collect::<Vec<_>>(),
        ));
        let cv_results = DataFrame::new_infer_height(columns)
            .map_err(|err| LearnError::data(err.to_string()))?;
        let best_estimator = estimators[best].fit_box(x, Some(y))?;
        Ok(FittedSearch {
            name: name.to_owned(),
            best_params: candidates[best].clone(),
            best_score: stats[best].0,
            best_estimator,
            cv_results,
        })
    }
}

/// A finished search: the cross-validation table and the best candidate refitted on all the
/// data, which `predict` and `score` use.
pub struct FittedSearch {
    name: String,
    pub best_params: Vec<(String, Param)>,
    /// Mean cross-validated score of the best candidate.
    pub best_score: f64,
    pub best_estimator: Box<dyn Fitted>,
    /// One row per candidate: its parameters, mean and std of its fold scores, rank and mean
    /// fit time in seconds.
    pub cv_results: DataFrame,
}

impl Fitted for FittedSearch {
    fn estimator(&self) -> &dyn Estimator {
        self.best_estimator.estimator()
    }

    fn predict(&self, x: Input) -> Result<Array1<f64>> {
        self.best_estimator.predict(x)
    }

    fn predict_proba(&self, x: Input) -> Result<Array2<f64>> {
        self.best_estimator.predict_proba(x)
    }

    fn transform(&self, x: Input) -> Result<Array2<f64>> {
        self.best_estimator.transform(x)
    }

    fn classes(&self) -> Option<&[f64]> {
        self.best_estimator.classes()
    }
}

impl FittedSearch {
    pub fn predict<'a>(&self, x: impl Into<Input<'a>>) -> Result<Array1<f64>> {
        Fitted::predict(self, x.into())
    }

    pub fn score<'a>(&self, x: impl Into<Input<'a>>, y: &Array1<f64>) -> Result<f64> {
        Fitted::score(self, x.into(), y.view())
    }
}

impl Render for FittedSearch {
    fn render(&self) -> MimeBundle {
        let params: Vec<String> = self
            .best_params
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        let headline = format!(
            "{}: best score {:.4} with {}",
            self.name,
            self.best_score,
            params.join(", ")
        );
        let table = self.cv_results.render();
        let html = table.0.get("text/html").cloned().unwrap_or_default();
        let text = table.0.get("text/plain").cloned().unwrap_or_default();
        MimeBundle::plain(format!("{headline}\n{text}")).with(
            "text/html",
            format!("<p><b>{}</b></p>{html}", escape(&headline)),
        )
    }
}
