//! Random forests, as `sklearn.ensemble.RandomForest*`: trees grown in parallel on
//! bootstrap samples, trying a random subset of features at each split.

use ndarray::{Array1, Array2, ArrayView1};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::tree::{growth, prepare, Growth, Targets, Tree};
use super::{
    argmax_classes, check_width, encode_classes, estimator, fitted_methods, require, seed_for,
    supervised_fit, Estimator, Fitted, Input, LearnError, Result,
};
use crate::runtime::check_interrupt;

macro_rules! random_forest {
    ($(#[$meta:meta])* $name:ident, $kind:ident, $criterion:literal, $max_features:literal, $classification:literal) => {
        estimator! {
            $(#[$meta])*
            pub struct $name($kind, supervised) {
                n_estimators: usize = 100,
                criterion: String = $criterion.into(),
                max_depth: Option<usize> = None,
                min_samples_split: usize = 2,
                min_samples_leaf: usize = 1,
                /// Features tried per split: "sqrt", "log2" or "all".
                max_features: String = $max_features.into(),
                bootstrap: bool = true,
                random_state: Option<u64> = None,
            }
        }
        supervised_fit!($name => FittedRandomForest);

        impl $name {
            fn fit_view(&self, x: Input, y: ArrayView1<f64>) -> Result<FittedRandomForest> {
                let name = stringify!($name);
                require(self.n_estimators >= 1, name, "n_estimators", "≥ 1", self.n_estimators)?;
                let x = prepare(name, x, y)?;
                let growth = growth(name, $classification, &self.criterion, self.max_depth, self.min_samples_split,
                    self.min_samples_leaf, &self.max_features, x.ncols())?;
                let (classes, index) = if $classification { encode_classes(y) } else { (Vec::new(), Vec::new()) };
                let targets = if $classification {
                    Targets::Classes { index: &index, n_classes: classes.len() }
                } else {
                    Targets::Values(y)
                };
                let trees = grow_forest(&x, &targets, &growth, self.n_estimators, self.bootstrap, seed_for(self.random_state));
                Ok(FittedRandomForest::new(Box::new(self.clone()), trees, classes, x.ncols()))
            }
        }
    };
}

random_forest!(
    /// A forest of classification trees; predicts the class of highest mean probability.
    RandomForestClassifier, Classifier, "gini", "sqrt", true
);
random_forest!(
    /// A forest of regression trees; predicts their mean.
    RandomForestRegressor, Regressor, "squared_error", "all", false
);

/// Grows `n` trees on all cores, each from its own seed so the result doesn't depend on
/// the number of threads.
fn grow_forest(
    x: &Array2<f64>,
    targets: &Targets,
    growth: &Growth,
    n: usize,
    bootstrap: bool,
    seed: u64,
) -> Vec<Tree> {
    let samples = x.nrows();
    (0..n)
        .into_par_iter()
        .map(|i| {
            check_interrupt();
            let mut rng = StdRng::seed_from_u64(
                seed.wrapping_add(i as u64)
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            let rows = if bootstrap {
                (0..samples).map(|_| rng.random_range(0..samples)).collect()
            } else {
                (0..samples).collect()
            };
            Tree::grow(x, targets, rows, growth, rng.random())
        })
        .collect()
}

pub struct FittedRandomForest {
    model: Box<dyn Estimator>,
    trees: Vec<Tree>,
    /// Class labels (empty for a regressor).
    pub classes: Vec<f64>,
    /// Mean impurity decrease per feature over the trees, summing to 1.
    pub feature_importances: Array1<f64>,
    n_features: usize,
}

impl FittedRandomForest {
    fn new(
        model: Box<dyn Estimator>,
        trees: Vec<Tree>,
        classes: Vec<f64>,
        n_features: usize,
    ) -> Self {
        let mut importances = Array1::<f64>::zeros(n_features);
        for tree in &trees {
            importances += &Array1::from(tree.importances.clone());
        }
        let total = importances.sum();
        if total > 0.0 {
            importances /= total;
        }
        FittedRandomForest {
            model,
            trees,
            classes,
            feature_importances: importances,
            n_features,
        }
    }

    /// The mean of the trees' leaf values for each sample, computed in parallel.
    fn mean_leaf(&self, x: Input) -> Result<Array2<f64>> {
        let x = x.matrix()?;
        check_width(&self.model.name(), self.n_features, &x)?;
        let width = self.classes.len().max(1);
        let rows: Vec<Vec<f64>> = (0..x.nrows())
            .into_par_iter()
            .map(|i| {
                let mut mean = vec![0.0; width];
                for tree in &self.trees {
                    mean.iter_mut()
                        .zip(tree.leaf(x.row(i)))
                        .for_each(|(m, v)| *m += v);
                }
                mean.iter_mut().for_each(|m| *m /= self.trees.len() as f64);
                mean
            })
            .collect();
        Ok(Array2::from_shape_vec((x.nrows(), width), rows.concat()).expect("rows × width"))
    }
}

impl Fitted for FittedRandomForest {
    fn estimator(&self) -> &dyn Estimator {
        self.model.as_ref()
    }

    fn predict_proba(&self, x: Input) -> Result<Array2<f64>> {
        if self.classes.is_empty() {
            return Err(LearnError::data("a regression forest has no predict_proba"));
        }
        self.mean_leaf(x)
    }

    fn predict(&self, x: Input) -> Result<Array1<f64>> {
        let mean = self.mean_leaf(x)?;
        Ok(if self.classes.is_empty() {
            mean.column(0).to_owned()
        } else {
            argmax_classes(&mean, &self.classes)
        })
    }

    fn classes(&self) -> Option<&[f64]> {
        (!self.classes.is_empty()).then_some(self.classes.as_slice())
    }

    fn summary(&self) -> Vec<(String, String)> {
        vec![("trees".into(), self.trees.len().to_string())]
    }
}
fitted_methods!(FittedRandomForest: predict, predict_proba, score);
