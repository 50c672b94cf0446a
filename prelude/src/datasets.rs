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

/// California housing prices by census block group (1990), with scikit-learn's eight
/// features (`MedInc`, `HouseAge`, `AveRooms`, `AveBedrms`, `Population`, `AveOccup`,
/// `Latitude`, `Longitude`) derived from the census table as `fetch_california_housing` does,
/// and the median house value in $100,000 as target. This copy of the table (the one
/// *Hands-On Machine Learning* uses, see [`california_housing_table`]) lacks 207
/// `total_bedrooms`, so `AveBedrms` is NaN there: impute it, or use a model that takes
/// missing values (HistGradientBoosting).
pub fn load_california_housing() -> Dataset {
    let table = california_housing_table();
    let column = |name: &str| -> Vec<f64> {
        let values = table
            .column(name)
            .expect("a census column")
            .cast(&polars::prelude::DataType::Float64)
            .expect("numbers");
        values
            .f64()
            .expect("floats")
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect()
    };
    let households = column("households");
    let per_household = |name: &str| -> Vec<f64> {
        column(name)
            .iter()
            .zip(&households)
            .map(|(v, h)| v / h)
            .collect()
    };
    let features = [
        ("MedInc", column("median_income")),
        ("HouseAge", column("housing_median_age")),
        ("AveRooms", per_household("total_rooms")),
        ("AveBedrms", per_household("total_bedrooms")),
        ("Population", column("population")),
        ("AveOccup", per_household("population")),
        ("Latitude", column("latitude")),
        ("Longitude", column("longitude")),
    ];
    let rows = households.len();
    let data = Array2::from_shape_fn((rows, features.len()), |(i, j)| features[j].1[i]);
    Dataset {
        name: "california_housing".into(),
        title: "California housing dataset".into(),
        data,
        target: column("median_house_value")
            .iter()
            .map(|v| v / 100_000.0)
            .collect(),
        feature_names: features.iter().map(|(name, _)| name.to_string()).collect(),
        target_names: Vec::new(),
    }
}

/// The 1990 California census table behind [`load_california_housing`], one row per block
/// group: location, age, room/bedroom/population/household totals, median income, median
/// house value, and the categorical `ocean_proximity`; 207 `total_bedrooms` are missing.
pub fn california_housing_table() -> DataFrame {
    use polars::prelude::{CsvReadOptions, SerReader};
    let csv = include_bytes!("../data/california_housing.csv");
    CsvReadOptions::default()
        .with_has_header(true)
        .into_reader_with_file_handle(std::io::Cursor::new(&csv[..]))
        .finish()
        .expect("the shipped California housing CSV parses")
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

/// The parameters of [`make_classification`], with scikit-learn's defaults:
/// `datasets::make_classification(MakeClassification { n_samples: 500, seed: 0, ..Default::default() })`.
#[derive(Debug, Clone, PartialEq)]
pub struct MakeClassification {
    pub n_samples: usize,
    pub n_features: usize,
    pub n_informative: usize,
    pub n_redundant: usize,
    pub n_repeated: usize,
    pub n_classes: usize,
    pub n_clusters_per_class: usize,
    /// The fraction of samples whose class is then drawn at random (label noise).
    pub flip_y: f64,
    /// Half the side of the hypercube the clusters sit on: larger is easier.
    pub class_sep: f64,
    pub seed: u64,
}

impl Default for MakeClassification {
    fn default() -> Self {
        MakeClassification {
            n_samples: 100,
            n_features: 20,
            n_informative: 2,
            n_redundant: 2,
            n_repeated: 0,
            n_classes: 2,
            n_clusters_per_class: 2,
            flip_y: 0.01,
            class_sep: 1.0,
            seed: 0,
        }
    }
}

/// A classification problem built as scikit-learn builds it: Gaussian clusters on vertices
/// of a hypercube in the informative features, each cluster stretched by a random linear
/// map; redundant features are random linear combinations of the informative ones, repeated
/// ones copies, the rest noise; samples and features shuffled. Same algorithm as
/// scikit-learn, not the same random numbers.
pub fn make_classification(options: MakeClassification) -> (Array2<f64>, Array1<f64>) {
    let MakeClassification {
        n_samples,
        n_features,
        n_informative,
        n_redundant,
        n_repeated,
        n_classes,
        ..
    } = options;
    let clusters = n_classes * options.n_clusters_per_class;
    assert!(
        n_informative + n_redundant + n_repeated <= n_features,
        "make_classification: n_informative + n_redundant + n_repeated ({}) must not exceed n_features ({n_features})",
        n_informative + n_redundant + n_repeated
    );
    assert!(
        n_informative < 64 && clusters <= 1 << n_informative,
        "make_classification: n_classes * n_clusters_per_class ({clusters}) must be at most \
         2^n_informative (n_informative = {n_informative})"
    );
    let mut generator = StdRng::seed_from_u64(options.seed);
    let gaussian = Normal::new(0.0, 1.0).expect("valid");

    // Distinct hypercube vertices, one per cluster.
    let mut vertices: Vec<u64> = Vec::with_capacity(clusters);
    while vertices.len() < clusters {
        let vertex = generator.random::<u64>() & ((1u64 << n_informative) - 1);
        if !vertices.contains(&vertex) {
            vertices.push(vertex);
        }
    }
    let mut x = Array2::<f64>::zeros((n_samples, n_features));
    let mut y = Array1::<f64>::zeros(n_samples);
    let mut start = 0;
    for (k, vertex) in vertices.iter().enumerate() {
        let count = n_samples / clusters + usize::from(k < n_samples % clusters);
        let stretch = Array2::from_shape_simple_fn((n_informative, n_informative), || {
            2.0 * generator.random::<f64>() - 1.0
        });
        let points = Array2::from_shape_simple_fn((count, n_informative), || {
            gaussian.sample(&mut generator)
        })
        .dot(&stretch);
        for (row, point) in points.outer_iter().enumerate() {
            for (j, value) in point.iter().enumerate() {
                let side = if vertex >> j & 1 == 1 { 1.0 } else { -1.0 };
                x[[start + row, j]] = value + side * options.class_sep;
            }
            y[start + row] = (k % n_classes) as f64;
        }
        start += count;
    }
    let informative = x.slice(ndarray::s![.., ..n_informative]).to_owned();
    let mixing = Array2::from_shape_simple_fn((n_informative, n_redundant), || {
        2.0 * generator.random::<f64>() - 1.0
    });
    x.slice_mut(ndarray::s![.., n_informative..n_informative + n_redundant])
        .assign(&informative.dot(&mixing));
    let useful = n_informative + n_redundant;
    for j in useful..useful + n_repeated {
        let source = generator.random_range(0..useful.max(1));
        let copy = x.column(source).to_owned();
        x.column_mut(j).assign(&copy);
    }
    for j in useful + n_repeated..n_features {
        for i in 0..n_samples {
            x[[i, j]] = gaussian.sample(&mut generator);
        }
    }
    for label in y.iter_mut() {
        if generator.random::<f64>() < options.flip_y {
            *label = generator.random_range(0..n_classes) as f64;
        }
    }
    let mut features: Vec<usize> = (0..n_features).collect();
    features.shuffle(&mut generator);
    shuffled(x.select(Axis(1), &features), y, &mut generator)
}

/// The parameters of [`make_regression`], with scikit-learn's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct MakeRegression {
    pub n_samples: usize,
    pub n_features: usize,
    pub n_informative: usize,
    pub bias: f64,
    /// The standard deviation of the Gaussian noise added to the target.
    pub noise: f64,
    pub seed: u64,
}

impl Default for MakeRegression {
    fn default() -> Self {
        MakeRegression {
            n_samples: 100,
            n_features: 100,
            n_informative: 10,
            bias: 0.0,
            noise: 0.0,
            seed: 0,
        }
    }
}

/// A linear regression problem as scikit-learn builds it: standard normal features, a target
/// `X · coef + bias + noise` where `n_informative` coefficients are drawn from U(0, 100) and
/// the rest are 0 (all of them when `n_informative` exceeds `n_features`, as scikit-learn).
/// Returns `(x, y, coef)`; samples and features shuffled.
pub fn make_regression(options: MakeRegression) -> (Array2<f64>, Array1<f64>, Array1<f64>) {
    let MakeRegression {
        n_samples,
        n_features,
        ..
    } = options;
    let n_informative = options.n_informative.min(n_features);
    let mut generator = StdRng::seed_from_u64(options.seed);
    let gaussian = Normal::new(0.0, 1.0).expect("valid");
    let x =
        Array2::from_shape_simple_fn((n_samples, n_features), || gaussian.sample(&mut generator));
    let coef = Array1::from_shape_fn(n_features, |j| {
        if j < n_informative {
            100.0 * generator.random::<f64>()
        } else {
            0.0
        }
    });
    let y = x.dot(&coef)
        + options.bias
        + Array1::from_shape_simple_fn(n_samples, || {
            options.noise * gaussian.sample(&mut generator)
        });
    // Shuffle features with their coefficients, then samples with their targets.
    let mut features: Vec<usize> = (0..n_features).collect();
    features.shuffle(&mut generator);
    let (x, coef) = (
        x.select(Axis(1), &features),
        coef.select(Axis(0), &features),
    );
    let (x, y) = shuffled(x, y, &mut generator);
    (x, y, coef)
}

/// Samples (rows and their targets) in a random order.
fn shuffled(x: Array2<f64>, y: Array1<f64>, generator: &mut StdRng) -> (Array2<f64>, Array1<f64>) {
    let mut order: Vec<usize> = (0..x.nrows()).collect();
    order.shuffle(generator);
    (x.select(Axis(0), &order), y.select(Axis(0), &order))
}
