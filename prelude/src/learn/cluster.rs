//! k-means with k-means++ seeding, as `sklearn.cluster.KMeans` (Lloyd's algorithm).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::distr::{weighted::WeightedIndex, Distribution};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::neighbors::squared_distances;
use super::{
    check_width, estimator, fitted_methods, require, seed_for, Estimator, Fitted, Input,
    LearnError, Result,
};
use crate::runtime::check_interrupt;

estimator! {
    /// Partitions samples into `n_clusters` groups around their means. Each of `n_init`
    /// runs starts from k-means++ seeds; the run of lowest inertia wins.
    pub struct KMeans(Clusterer, unsupervised) {
        n_clusters: usize = 8,
        n_init: usize = 1,
        max_iter: usize = 300,
        tol: f64 = 1e-4,
        random_state: Option<u64> = None,
    }
}

impl KMeans {
    pub fn fit<'a>(&self, x: impl Into<Input<'a>>) -> Result<FittedKMeans> {
        self.fit_input(x.into())
    }

    /// Fits and returns each sample's cluster, as `fit_predict`.
    pub fn fit_predict<'a>(&self, x: impl Into<Input<'a>>) -> Result<Array1<f64>> {
        Ok(self.fit_input(x.into())?.labels.mapv(|l| l as f64))
    }

    fn fit_input(&self, x: Input) -> Result<FittedKMeans> {
        let x = x.matrix()?;
        require(
            self.n_clusters >= 1 && self.n_clusters <= x.nrows(),
            "KMeans",
            "n_clusters",
            &format!("between 1 and the number of samples ({})", x.nrows()),
            self.n_clusters,
        )?;
        require(self.n_init >= 1, "KMeans", "n_init", "≥ 1", self.n_init)?;
        require(
            self.max_iter >= 1,
            "KMeans",
            "max_iter",
            "≥ 1",
            self.max_iter,
        )?;
        if x.iter().any(|v| !v.is_finite()) {
            return Err(LearnError::data(
                "KMeans: X has NaN or infinite values; impute them first (SimpleImputer)",
            ));
        }
        // Scikit-learn's tolerance is relative to the data's mean variance.
        let tol = self.tol * x.var_axis(Axis(0), 0.0).mean().unwrap_or(0.0);
        let mut rng = StdRng::seed_from_u64(seed_for(self.random_state));
        let mut best: Option<FittedKMeans> = None;
        for _ in 0..self.n_init {
            let centers = kmeans_plus_plus(x.view(), self.n_clusters, &mut rng);
            let run = lloyd(x.view(), centers, self.max_iter, tol);
            if best.as_ref().is_none_or(|b| run.2 < b.inertia) {
                let (cluster_centers, labels, inertia, n_iter) = run;
                best = Some(FittedKMeans {
                    model: self.clone(),
                    cluster_centers,
                    labels,
                    inertia,
                    n_iter,
                });
            }
        }
        Ok(best.expect("n_init ≥ 1"))
    }
}

fn squared_distance(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter().zip(b).map(|(p, q)| (p - q) * (p - q)).sum()
}

/// Each sample's nearest center and squared distance to it, in parallel blocks.
fn assign(x: ArrayView2<f64>, centers: &Array2<f64>) -> Vec<(usize, f64)> {
    let blocks: Vec<_> = x.axis_chunks_iter(Axis(0), 512).collect();
    blocks
        .into_par_iter()
        .flat_map_iter(|block| {
            let distances = squared_distances(block, centers.view());
            distances
                .rows()
                .into_iter()
                .map(|row| {
                    row.iter()
                        .copied()
                        .enumerate()
                        .fold(
                            (0, f64::INFINITY),
                            |best, (k, d)| if d < best.1 { (k, d) } else { best },
                        )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Greedy k-means++ (scikit-learn's): each new center is the best of `2 + ln k` candidates
/// drawn in proportion to the squared distance to the nearest chosen center.
fn kmeans_plus_plus(x: ArrayView2<f64>, k: usize, rng: &mut StdRng) -> Array2<f64> {
    let n = x.nrows();
    let trials = 2 + (k as f64).ln().floor() as usize;
    let mut centers = Array2::zeros((k, x.ncols()));
    let first = rng.random_range(0..n);
    centers.row_mut(0).assign(&x.row(first));
    let mut closest: Vec<f64> = (0..n)
        .map(|i| squared_distance(x.row(i), x.row(first)))
        .collect();
    for c in 1..k {
        let Ok(weights) = WeightedIndex::new(&closest) else {
            // All samples coincide with chosen centers: any sample will do.
            centers.row_mut(c).assign(&x.row(rng.random_range(0..n)));
            continue;
        };
        let (candidate, distances) = (0..trials)
            .map(|_| weights.sample(rng))
            .map(|candidate| {
                let distances: Vec<f64> = (0..n)
                    .into_par_iter()
                    .map(|i| closest[i].min(squared_distance(x.row(i), x.row(candidate))))
                    .collect();
                (candidate, distances)
            })
            .min_by(|a, b| a.1.iter().sum::<f64>().total_cmp(&b.1.iter().sum::<f64>()))
            .expect("at least two trials");
        centers.row_mut(c).assign(&x.row(candidate));
        closest = distances;
    }
    centers
}

/// Lloyd iterations until the centers move less than `tol` (summed squared shift) or the
/// labels stop changing. An emptied cluster keeps its center.
fn lloyd(
    x: ArrayView2<f64>,
    mut centers: Array2<f64>,
    max_iter: usize,
    tol: f64,
) -> (Array2<f64>, Array1<usize>, f64, usize) {
    let mut labels: Vec<usize> = Vec::new();
    let mut n_iter = max_iter;
    for iteration in 0..max_iter {
        check_interrupt();
        let assignment = assign(x, &centers);
        let new_labels: Vec<usize> = assignment.iter().map(|a| a.0).collect();
        let mut sums = Array2::<f64>::zeros(centers.dim());
        let mut counts = vec![0usize; centers.nrows()];
        for (i, &label) in new_labels.iter().enumerate() {
            sums.row_mut(label).scaled_add(1.0, &x.row(i));
            counts[label] += 1;
        }
        let mut shift = 0.0;
        for (k, &count) in counts.iter().enumerate() {
            if count > 0 {
                let mean = sums.row(k).mapv(|v| v / count as f64);
                shift += squared_distance(mean.view(), centers.row(k));
                centers.row_mut(k).assign(&mean);
            }
        }
        let unchanged = new_labels == labels;
        labels = new_labels;
        if unchanged || shift <= tol {
            n_iter = iteration + 1;
            break;
        }
    }
    // Labels and inertia for the final centers.
    let assignment = assign(x, &centers);
    let inertia = assignment.iter().map(|a| a.1).sum();
    let labels = assignment.iter().map(|a| a.0).collect();
    (centers, labels, inertia, n_iter)
}

pub struct FittedKMeans {
    model: KMeans,
    pub cluster_centers: Array2<f64>,
    /// Each training sample's cluster.
    pub labels: Array1<usize>,
    /// Sum of squared distances of samples to their nearest center.
    pub inertia: f64,
    pub n_iter: usize,
}

impl FittedKMeans {
    /// The sum of squared distances of `x`'s samples to their nearest center.
    pub fn inertia_of<'a>(&self, x: impl Into<Input<'a>>) -> Result<f64> {
        let x = x.into().matrix()?;
        check_width("KMeans", self.cluster_centers.ncols(), &x)?;
        Ok(assign(x.view(), &self.cluster_centers)
            .iter()
            .map(|a| a.1)
            .sum())
    }
}

impl Fitted for FittedKMeans {
    fn estimator(&self) -> &dyn Estimator {
        &self.model
    }

    /// Distances to each center.
    fn transform(&self, x: Input) -> Result<Array2<f64>> {
        let x = x.matrix()?;
        check_width("KMeans", self.cluster_centers.ncols(), &x)?;
        Ok(Array2::from_shape_fn(
            (x.nrows(), self.cluster_centers.nrows()),
            |(i, k)| squared_distance(x.row(i), self.cluster_centers.row(k)).sqrt(),
        ))
    }

    fn predict(&self, x: Input) -> Result<Array1<f64>> {
        let x = x.matrix()?;
        check_width("KMeans", self.cluster_centers.ncols(), &x)?;
        Ok(assign(x.view(), &self.cluster_centers)
            .iter()
            .map(|a| a.0 as f64)
            .collect())
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        (0..self.cluster_centers.nrows())
            .map(|k| format!("kmeans{k}"))
            .collect()
    }

    fn summary(&self) -> Vec<(String, String)> {
        vec![
            ("inertia".into(), format!("{:.4}", self.inertia)),
            ("n_iter".into(), self.n_iter.to_string()),
        ]
    }
}
fitted_methods!(FittedKMeans: predict, transform);
