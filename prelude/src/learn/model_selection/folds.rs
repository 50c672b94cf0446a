//! Folds for cross-validation: `KFold`, `StratifiedKFold`, and `cv=` as a count.

use ndarray::{Array1, ArrayView1};

use crate::learn::{encode_classes, require, Kind, Result};
use crate::random;

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

pub(super) fn check_splits(n_splits: usize, n_samples: usize) -> Result<()> {
    require(n_splits >= 2, "KFold", "n_splits", "≥ 2", n_splits)?;
    require(
        n_splits <= n_samples,
        "KFold",
        "n_splits",
        &format!("at most the number of samples ({n_samples})"),
        n_splits,
    )
}

pub(super) fn folds_from(fold_of: &[usize], n_splits: usize) -> Folds {
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
    pub(super) fn folds(&self, kind: Kind, y: ArrayView1<f64>) -> Result<Folds> {
        match self {
            Cv::Folds(n) if kind == Kind::Classifier => StratifiedKFold::new(*n).split_view(y),
            Cv::Folds(n) => KFold::new(*n).split(y.len()),
            Cv::KFold(k) => k.split(y.len()),
            Cv::Stratified(k) => k.split_view(y),
        }
    }
}
