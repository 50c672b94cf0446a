//! k-nearest neighbours, as `sklearn.neighbors.KNeighbors*`: brute-force Euclidean search,
//! parallel over the queried samples (at notebook sizes a tree index doesn't pay for itself).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

use super::{
    argmax_classes, check_len, check_width, encode_classes, estimator, fitted_methods, require,
    require_choice, supervised_fit, Estimator, Fitted, Input, Result,
};
use crate::runtime::check_interrupt;

macro_rules! k_neighbors {
    ($(#[$meta:meta])* $name:ident, $kind:ident, $classification:literal) => {
        estimator! {
            $(#[$meta])*
            pub struct $name($kind, supervised) {
                n_neighbors: usize = 5,
                /// "uniform", or "distance" to weight neighbours by inverse distance.
                weights: String = "uniform".into(),
            }
        }
        supervised_fit!($name => FittedKNeighbors);

        impl $name {
            fn fit_view(&self, x: Input, y: ArrayView1<f64>) -> Result<FittedKNeighbors> {
                let name = stringify!($name);
                require_choice(name, "weights", &self.weights, &["uniform", "distance"])?;
                let x = x.matrix()?;
                check_len(y.len(), x.nrows())?;
                require(self.n_neighbors >= 1 && self.n_neighbors <= x.nrows(), name, "n_neighbors",
                    &format!("between 1 and the number of samples ({})", x.nrows()), self.n_neighbors)?;
                let (classes, index) = if $classification { encode_classes(y) } else { (Vec::new(), Vec::new()) };
                let targets = if $classification { index.iter().map(|&i| i as f64).collect() } else { y.to_owned() };
                Ok(FittedKNeighbors { model: Box::new(self.clone()), k: self.n_neighbors, by_distance: self.weights == "distance", x, targets, classes })
            }
        }
    };
}

k_neighbors!(
    /// Predicts the majority class among the nearest training samples.
    KNeighborsClassifier, Classifier, true
);
k_neighbors!(
    /// Predicts the mean target of the nearest training samples.
    KNeighborsRegressor, Regressor, false
);

pub struct FittedKNeighbors {
    model: Box<dyn Estimator>,
    k: usize,
    by_distance: bool,
    x: Array2<f64>,
    /// Class indices or target values of the training samples.
    targets: Array1<f64>,
    pub classes: Vec<f64>,
}

impl FittedKNeighbors {
    /// Each query's neighbours as (weight, training sample), nearest first. Queries go in
    /// blocks, in parallel, each block's distances one matrix product.
    fn neighbours(&self, x: Input) -> Result<Vec<Vec<(f64, usize)>>> {
        let x = x.matrix()?;
        check_width(&self.model.name(), self.x.ncols(), &x)?;
        let blocks: Vec<_> = x.axis_chunks_iter(Axis(0), 256).collect();
        Ok(blocks
            .into_par_iter()
            .flat_map_iter(|block| {
                check_interrupt();
                let distances = squared_distances(block, self.x.view());
                distances
                    .rows()
                    .into_iter()
                    .map(|row| self.nearest(row))
                    .collect::<Vec<_>>()
            })
            .collect())
    }

    fn nearest(&self, distances: ArrayView1<f64>) -> Vec<(f64, usize)> {
        // One pass keeping the k best in order: k is small, so inserting beats a partition.
        let mut near: Vec<(f64, usize)> = Vec::with_capacity(self.k + 1);
        for (j, &d) in distances.iter().enumerate() {
            if near.len() == self.k && d >= near[self.k - 1].0 {
                continue;
            }
            let at = near.partition_point(|n| n.0 <= d);
            near.insert(at, (d, j));
            near.truncate(self.k);
        }
        let exact = near.iter().any(|d| d.0 == 0.0);
        near.into_iter()
            .map(|(d2, j)| {
                // With "distance" weights an exact match takes all the weight.
                let weight = match (self.by_distance, exact) {
                    (false, _) => 1.0,
                    (true, true) => f64::from(d2 == 0.0),
                    (true, false) => 1.0 / d2.sqrt(),
                };
                (weight, j)
            })
            .collect()
    }
}

/// Squared Euclidean distances between the rows of `a` and those of `b`, expanded as
/// ‖a‖² + ‖b‖² - 2 a·b so that the work is one matrix product (as scikit-learn's
/// `euclidean_distances`); rounding below zero is clamped.
pub(crate) fn squared_distances(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    let norms =
        |m: ArrayView2<f64>| -> Array1<f64> { m.rows().into_iter().map(|r| r.dot(&r)).collect() };
    let (a_norms, b_norms) = (norms(a), norms(b));
    let mut distances = a.dot(&b.t());
    for (mut row, a_norm) in distances.rows_mut().into_iter().zip(a_norms) {
        row.zip_mut_with(&b_norms, |d, b_norm| {
            *d = (a_norm + b_norm - 2.0 * *d).max(0.0)
        });
    }
    distances
}

impl Fitted for FittedKNeighbors {
    fn estimator(&self) -> &dyn Estimator {
        self.model.as_ref()
    }

    fn predict_proba(&self, x: Input) -> Result<Array2<f64>> {
        let neighbours = self.neighbours(x)?;
        let mut proba = Array2::zeros((neighbours.len(), self.classes.len().max(1)));
        for (mut row, near) in proba.rows_mut().into_iter().zip(neighbours) {
            near.iter()
                .for_each(|&(w, j)| row[self.targets[j] as usize] += w);
            let total = row.sum();
            row /= total;
        }
        Ok(proba)
    }

    fn predict(&self, x: Input) -> Result<Array1<f64>> {
        if !self.classes.is_empty() {
            return Ok(argmax_classes(&self.predict_proba(x)?, &self.classes));
        }
        Ok(self
            .neighbours(x)?
            .iter()
            .map(|near| {
                let total: f64 = near.iter().map(|n| n.0).sum();
                near.iter().map(|&(w, j)| w * self.targets[j]).sum::<f64>() / total
            })
            .collect())
    }

    fn classes(&self) -> Option<&[f64]> {
        (!self.classes.is_empty()).then_some(self.classes.as_slice())
    }
}
fitted_methods!(FittedKNeighbors: predict, predict_proba, score);
