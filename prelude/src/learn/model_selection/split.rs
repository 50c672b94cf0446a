//! `train_test_split`, with scikit-learn's rows for the same `random_state`.

use ndarray::{Array1, Array2, ArrayView1, Axis};
use polars::prelude::DataFrame;

use crate::learn::{check_len, encode_classes, require, Input, LearnError, Result, Samples};
use crate::random::{self, RandomState};

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
            Samples::Frame(frame) => frame,
            Samples::Array(_) => unreachable!("a frame's rows are a frame"),
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
