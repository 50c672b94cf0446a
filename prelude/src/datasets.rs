//! Toy datasets and generators, as `sklearn.datasets`: `let iris = datasets::load_iris();`.
//!
//! The data files in `prelude/data/` are the ones scikit-learn ships, written as plain CSV by
//! `prelude/data/datasets.py`, and compiled into the prelude: nothing is read or fetched at
//! run time.

use std::f64::consts::PI;

use ndarray::{Array1, Array2, Array3, Axis};
use polars::prelude::{Column, DataFrame};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

use crate::display::{escape, MimeBundle, Render};

/// A dataset as scikit-learn's loaders return it: samples in the rows of `data`, one
/// `target` per sample, and names for both.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    pub title: String,
    pub data: Array2<f64>,
    pub target: Array1<f64>,
    pub feature_names: Vec<String>,
    /// Class names, indexed by the target's value; empty for regression targets.
    pub target_names: Vec<String>,
}

impl Dataset {
    /// Features and target as one DataFrame (`as_frame=True` in scikit-learn).
    pub fn frame(&self) -> DataFrame {
        let mut columns: Vec<Column> = self
            .data
            .axis_iter(Axis(1))
            .zip(&self.feature_names)
            .map(|(values, name)| Column::new(name.into(), values.to_vec()))
            .collect();
        columns.push(if self.target_names.is_empty() {
            Column::new("target".into(), self.target.to_vec())
        } else {
            Column::new("target".into(), self.target.mapv(|t| t as i64).to_vec())
        });
        DataFrame::new_infer_height(columns).expect("columns of one length")
    }

    /// The samples as square images, `(samples, side, side)`: the digits are 8 × 8.
    pub fn images(&self) -> Option<Array3<f64>> {
        let side = (self.data.ncols() as f64).sqrt() as usize;
        (side * side == self.data.ncols())
            .then(|| self.data.to_shape((self.data.nrows(), side, side)).ok())
            .flatten()
            .map(|images| images.to_owned())
    }
}

impl Render for Dataset {
    fn render(&self) -> MimeBundle {
        let classes = if self.target_names.is_empty() {
            "a numeric target".to_owned()
        } else {
            format!(
                "{} classes: {}",
                self.target_names.len(),
                self.target_names.join(", ")
            )
        };
        let summary = format!(
            "{} ({}): {} samples × {} features, {classes}",
            self.name,
            self.title,
            self.data.nrows(),
            self.data.ncols()
        );
        let frame = self.frame().render();
        let table = frame.0.get("text/html").cloned().unwrap_or_default();
        MimeBundle::plain(summary.clone())
            .with("text/html", format!("<p>{}</p>{table}", escape(&summary)))
    }
}

const META: &str = include_str!("../data/datasets.json");

pub fn load_iris() -> Dataset {
    load("iris", include_str!("../data/iris.csv"))
}

pub fn load_wine() -> Dataset {
    load("wine", include_str!("../data/wine.csv"))
}

pub fn load_breast_cancer() -> Dataset {
    load("breast_cancer", include_str!("../data/breast_cancer.csv"))
}

/// The diabetes regression data, features scaled as scikit-learn's `load_diabetes()` scales them.
pub fn load_diabetes() -> Dataset {
    load("diabetes", include_str!("../data/diabetes.csv"))
}

/// 8 × 8 images of handwritten digits, pixel values 0..16; see [`Dataset::images`].
pub fn load_digits() -> Dataset {
    load("digits", include_str!("../data/digits.csv"))
}

/// Reads one of our own data files: a header of feature names and `target`, then numbers.
fn load(name: &str, csv: &str) -> Dataset {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let width = header.len();
    let values: Vec<f64> = lines
        .flat_map(|line| line.split(','))
        .map(|value| value.parse().expect("a number"))
        .collect();
    let table = Array2::from_shape_vec((values.len() / width, width), values).expect("rectangular");
    let meta: serde_json::Value = serde_json::from_str(META).expect("valid datasets.json");
    let strings = |key: &str| -> Vec<String> {
        meta[name][key]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    Dataset {
        name: name.to_owned(),
        title: meta[name]["title"].as_str().unwrap_or(name).to_owned(),
        data: table.slice(ndarray::s![.., ..width - 1]).to_owned(),
        target: table.column(width - 1).to_owned(),
        feature_names: header[..width - 1].iter().map(|h| h.to_string()).collect(),
        target_names: strings("target_names"),
    }
}

/// Two interleaving half circles, as `make_moons(n_samples, noise=noise, random_state=seed)`:
/// the outer moon is class 0, the inner one class 1; samples are shuffled. Same algorithm as
/// scikit-learn, not the same random numbers.
pub fn make_moons(n_samples: usize, noise: f64, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let outer = n_samples / 2;
    let inner = n_samples - outer;
    let arc = |count: usize, i: usize| {
        if count > 1 {
            PI * i as f64 / (count - 1) as f64
        } else {
            0.0
        }
    };
    let mut samples: Vec<([f64; 2], f64)> = (0..outer)
        .map(|i| ([arc(outer, i).cos(), arc(outer, i).sin()], 0.0))
        .chain((0..inner).map(|i| ([1.0 - arc(inner, i).cos(), 0.5 - arc(inner, i).sin()], 1.0)))
        .collect();
    let mut generator = StdRng::seed_from_u64(seed);
    samples.shuffle(&mut generator);
    let jitter = Normal::new(0.0, noise.max(0.0)).expect("noise >= 0");
    let x = Array2::from_shape_fn((n_samples, 2), |(i, j)| {
        samples[i].0[j] + jitter.sample(&mut generator)
    });
    let y = samples.iter().map(|s| s.1).collect();
    (x, y)
}

/// Gaussian blobs, as `make_blobs(n_samples, n_features, centers, cluster_std, random_state)`:
/// centres drawn uniformly from the box (-10, 10) in every feature, samples split evenly
/// among them and shuffled.
pub fn make_blobs(
    n_samples: usize,
    n_features: usize,
    centers: usize,
    cluster_std: f64,
    seed: u64,
) -> (Array2<f64>, Array1<f64>) {
    assert!(centers > 0, "make_blobs: centers must be at least 1");
    let mut generator = StdRng::seed_from_u64(seed);
    let centres = Array2::from_shape_simple_fn((centers, n_features), || {
        generator.random_range(-10.0..10.0)
    });
    let mut labels: Vec<usize> = (0..n_samples)
        .map(|i| i * centers / n_samples.max(1))
        .collect();
    labels.shuffle(&mut generator);
    let spread = Normal::new(0.0, cluster_std).expect("cluster_std >= 0");
    let x = Array2::from_shape_fn((n_samples, n_features), |(i, j)| {
        centres[[labels[i], j]] + spread.sample(&mut generator)
    });
    (x, labels.into_iter().map(|l| l as f64).collect())
}
