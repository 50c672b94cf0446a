//! Toy datasets and generators, as `sklearn.datasets`: `let iris = datasets::load_iris();`.
//!
//! The data files in `prelude/data/` are the ones scikit-learn ships, written as plain CSV by
//! `prelude/data/datasets.py`, and compiled into the prelude: nothing is read or fetched at
//! run time.

use std::f64::consts::PI;

use ndarray::{Array1, Array2, Array3, Axis};
use polars::prelude::{Column, DataFrame};

use crate::display::{escape, MimeBundle, Render};
use crate::random::{self, RandomState};

/// A dataset as scikit-learn's loaders return it (its `Bunch`): samples in the rows of
/// `data`, one `target` per sample, and names for both. (`data::Dataset` is the other idea:
/// samples by index for a `DataLoader`, as PyTorch's.)
#[derive(Debug, Clone)]
pub struct Bunch {
    pub name: String,
    pub title: String,
    pub data: Array2<f64>,
    pub target: Array1<f64>,
    pub feature_names: Vec<String>,
    /// Class names, indexed by the target's value; empty for regression targets.
    pub target_names: Vec<String>,
}

impl Bunch {
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

impl Render for Bunch {
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

pub fn load_iris() -> Bunch {
    load("iris", include_str!("../data/iris.csv"))
}

pub fn load_wine() -> Bunch {
    load("wine", include_str!("../data/wine.csv"))
}

pub fn load_breast_cancer() -> Bunch {
    load("breast_cancer", include_str!("../data/breast_cancer.csv"))
}

/// The diabetes regression data, features scaled as scikit-learn's `load_diabetes()` scales them.
pub fn load_diabetes() -> Bunch {
    load("diabetes", include_str!("../data/diabetes.csv"))
}

/// 8 × 8 images of handwritten digits, pixel values 0..16; see [`Bunch::images`].
pub fn load_digits() -> Bunch {
    load("digits", include_str!("../data/digits.csv"))
}

/// California housing prices by census block group (1990), with scikit-learn's eight
/// features (`MedInc`, `HouseAge`, `AveRooms`, `AveBedrms`, `Population`, `AveOccup`,
/// `Latitude`, `Longitude`) derived from the census table as `fetch_california_housing` does,
/// and the median house value in $100,000 as target. This copy of the table (the one
/// *Hands-On Machine Learning* uses, see [`california_housing_table`]) lacks 207
/// `total_bedrooms`, so `AveBedrms` is NaN there: impute it, or use a model that takes
/// missing values (HistGradientBoosting).
pub fn load_california_housing() -> Bunch {
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
    Bunch {
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
fn load(name: &str, csv: &str) -> Bunch {
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
    Bunch {
        name: name.to_owned(),
        title: meta[name]["title"].as_str().unwrap_or(name).to_owned(),
        data: table.slice(ndarray::s![.., ..width - 1]).to_owned(),
        target: table.column(width - 1).to_owned(),
        feature_names: header[..width - 1].iter().map(|h| h.to_string()).collect(),
        target_names: strings("target_names"),
    }
}

/// Two interleaving half circles, as `make_moons(n_samples, noise=noise, random_state=seed)`:
/// the outer moon is class 0, the inner one class 1; samples are shuffled. The same rows as
/// scikit-learn's for the same seed.
pub fn make_moons(n_samples: usize, noise: f64, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let outer = n_samples / 2;
    let inner = n_samples - outer;
    let mut x = Array2::zeros((n_samples, 2));
    for (i, angle) in linspace(0.0, PI, outer).into_iter().enumerate() {
        x.row_mut(i)
            .assign(&ndarray::array![angle.cos(), angle.sin()]);
    }
    for (i, angle) in linspace(0.0, PI, inner).into_iter().enumerate() {
        x.row_mut(outer + i)
            .assign(&ndarray::array![1.0 - angle.cos(), 1.0 - angle.sin() - 0.5]);
    }
    let y = (0..n_samples)
        .map(|i| f64::from(u8::from(i >= outer)))
        .collect();
    random::with_random_state(Some(seed), |generator| {
        let (mut x, y) = shuffled(x, y, generator);
        if noise > 0.0 {
            x.iter_mut()
                .for_each(|value| *value += generator.normal(0.0, noise));
        }
        (x, y)
    })
}

/// `np.linspace(start, stop, n)`, computed as NumPy does (`i * step + start`, the last
/// point exactly `stop`), so that generated points match to the bit.
fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    let step = (stop - start) / n.saturating_sub(1) as f64;
    (0..n)
        .map(|i| match i {
            0 => start,
            i if i == n - 1 => stop,
            i => i as f64 * step + start,
        })
        .collect()
}

/// Gaussian blobs, as `make_blobs(n_samples, n_features, centers, cluster_std, random_state)`:
/// centres drawn uniformly from the box (-10, 10) in every feature, samples split evenly
/// among them (the first `n_samples % centers` one more) and shuffled. The same rows as
/// scikit-learn's for the same seed.
#[track_caller]
pub fn make_blobs(
    n_samples: usize,
    n_features: usize,
    centers: usize,
    cluster_std: f64,
    seed: u64,
) -> (Array2<f64>, Array1<f64>) {
    assert!(centers > 0, "make_blobs: centers must be at least 1");
    random::with_random_state(Some(seed), |generator| {
        let centres =
            Array2::from_shape_simple_fn((centers, n_features), || generator.uniform(-10.0, 10.0));
        let labels: Array1<f64> = (0..centers)
            .flat_map(|c| {
                let count = n_samples / centers + usize::from(c < n_samples % centers);
                std::iter::repeat_n(c as f64, count)
            })
            .collect();
        let x = Array2::from_shape_fn((n_samples, n_features), |(i, j)| {
            generator.normal(centres[[labels[i] as usize, j]], cluster_std)
        });
        shuffled(x, labels, generator)
    })
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
/// ones copies, the rest noise; a share `flip_y` of labels redrawn; samples and features
/// shuffled. The same rows as scikit-learn's for the same seed.
#[track_caller]
pub fn make_classification(options: MakeClassification) -> (Array2<f64>, Array1<f64>) {
    let MakeClassification {
        n_samples,
        n_features,
        n_informative,
        n_redundant,
        n_repeated,
        n_classes,
        n_clusters_per_class,
        flip_y,
        class_sep,
        seed,
    } = options;
    let clusters = n_classes * n_clusters_per_class;
    assert!(
        n_informative + n_redundant + n_repeated <= n_features,
        "make_classification: n_informative + n_redundant + n_repeated ({}) must not exceed n_features ({n_features})",
        n_informative + n_redundant + n_repeated
    );
    assert!(
        (clusters as f64).log2() <= n_informative as f64,
        "make_classification: n_classes * n_clusters_per_class ({clusters}) must be at most \
         2^n_informative (n_informative = {n_informative})"
    );
    // Cluster sizes as scikit-learn computes them (in floating point), the rest dealt out.
    let mut sizes: Vec<usize> = (0..clusters)
        .map(|_| {
            (n_samples as f64 * (1.0 / n_classes as f64) / n_clusters_per_class as f64) as usize
        })
        .collect();
    let dealt: usize = sizes.iter().sum();
    for i in 0..n_samples - dealt {
        sizes[i % clusters] += 1;
    }
    random::with_random_state(Some(seed), |generator| {
        let vertices = hypercube(clusters, n_informative, generator);
        let mut x = Array2::<f64>::zeros((n_samples, n_features));
        let mut y = Array1::<f64>::zeros(n_samples);
        let mut informative = standard_normal((n_samples, n_informative), generator);
        let mut start = 0;
        for (k, (vertex, &size)) in vertices.outer_iter().zip(&sizes).enumerate() {
            let rows = ndarray::s![start..start + size, ..];
            let stretch = 2.0 * standard_uniform((n_informative, n_informative), generator) - 1.0;
            let centroid = vertex.mapv(|bit| bit * 2.0 * class_sep - class_sep);
            let cluster = informative.slice(rows).dot(&stretch) + &centroid;
            informative.slice_mut(rows).assign(&cluster);
            y.slice_mut(ndarray::s![start..start + size])
                .fill((k % n_classes) as f64);
            start += size;
        }
        x.slice_mut(ndarray::s![.., ..n_informative])
            .assign(&informative);
        if n_redundant > 0 {
            let mixing = 2.0 * standard_uniform((n_informative, n_redundant), generator) - 1.0;
            x.slice_mut(ndarray::s![.., n_informative..n_informative + n_redundant])
                .assign(&informative.dot(&mixing));
        }
        let useful = n_informative + n_redundant;
        if n_repeated > 0 {
            let sources = standard_uniform(n_repeated, generator)
                .mapv(|u| ((useful as f64 - 1.0) * u + 0.5) as usize);
            for (j, &source) in sources.iter().enumerate() {
                let copy = x.column(source).to_owned();
                x.column_mut(useful + j).assign(&copy);
            }
        }
        let noise_features = n_features - useful - n_repeated;
        if noise_features > 0 {
            x.slice_mut(ndarray::s![.., n_features - noise_features..])
                .assign(&standard_normal((n_samples, noise_features), generator));
        }
        if flip_y >= 0.0 {
            let flipped: Vec<usize> = standard_uniform(n_samples, generator)
                .iter()
                .enumerate()
                .filter(|(_, u)| **u < flip_y)
                .map(|(i, _)| i)
                .collect();
            for i in flipped {
                y[i] = generator.randint(0, n_classes as i64) as f64;
            }
        }
        let (x, y) = shuffled(x, y, generator);
        let features = generator.permutation(n_features);
        (x.select(Axis(1), &features), y)
    })
}

/// `count` distinct vertices of the `dimensions`-cube as rows of 0s and 1s, as
/// scikit-learn's `_generate_hypercube` draws them.
fn hypercube(count: usize, dimensions: usize, generator: &mut RandomState) -> Array2<f64> {
    if dimensions > 30 {
        let extra = Array2::from_shape_simple_fn((count, dimensions - 30), || {
            generator.randint(0, 2) as f64
        });
        let rest = hypercube(count, 30, generator);
        return ndarray::concatenate![Axis(1), extra, rest];
    }
    let numbers = sample_without_replacement(1 << dimensions, count, generator);
    // Column j is bit `dimensions - 1 - j`: the number's binary digits, most significant first.
    Array2::from_shape_fn((count, dimensions), |(i, j)| {
        (numbers[i] >> (dimensions - 1 - j) & 1) as f64
    })
}

/// scikit-learn's `sample_without_replacement(population, count)` with its automatic choice
/// among a permutation, tracking selection and reservoir sampling (which draw differently).
fn sample_without_replacement(
    population: usize,
    count: usize,
    generator: &mut RandomState,
) -> Vec<usize> {
    let ratio = if population == 0 {
        1.0
    } else {
        count as f64 / population as f64
    };
    if ratio > 0.01 && ratio < 0.99 {
        let mut order = generator.permutation(population);
        order.truncate(count);
        order
    } else if ratio < 0.2 {
        let mut chosen = std::collections::HashSet::new();
        (0..count)
            .map(|_| loop {
                let pick = generator.randint(0, population as i64) as usize;
                if chosen.insert(pick) {
                    break pick;
                }
            })
            .collect()
    } else {
        let mut out: Vec<usize> = (0..count).collect();
        for i in count..population {
            let j = generator.randint(0, i as i64 + 1) as usize;
            if j < count {
                out[j] = i;
            }
        }
        out
    }
}

fn standard_normal<D: ndarray::Dimension>(
    shape: impl ndarray::ShapeBuilder<Dim = D>,
    generator: &mut RandomState,
) -> ndarray::Array<f64, D> {
    ndarray::Array::from_shape_simple_fn(shape, || generator.standard_normal())
}

fn standard_uniform<D: ndarray::Dimension>(
    shape: impl ndarray::ShapeBuilder<Dim = D>,
    generator: &mut RandomState,
) -> ndarray::Array<f64, D> {
    ndarray::Array::from_shape_simple_fn(shape, || generator.random_sample())
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
/// Returns `(x, y, coef)`; samples and features shuffled. The same rows as scikit-learn's
/// `make_regression(..., coef=True)` for the same seed.
pub fn make_regression(options: MakeRegression) -> (Array2<f64>, Array1<f64>, Array1<f64>) {
    let MakeRegression {
        n_samples,
        n_features,
        bias,
        noise,
        seed,
        ..
    } = options;
    let n_informative = options.n_informative.min(n_features);
    random::with_random_state(Some(seed), |generator| {
        let x = standard_normal((n_samples, n_features), generator);
        let mut coef = Array1::zeros(n_features);
        coef.slice_mut(ndarray::s![..n_informative])
            .assign(&(100.0 * standard_uniform(n_informative, generator)));
        let mut y = x.dot(&coef) + bias;
        if noise > 0.0 {
            y.iter_mut()
                .for_each(|value| *value += generator.normal(0.0, noise));
        }
        let (x, y) = shuffled(x, y, generator);
        let features = generator.permutation(n_features);
        (
            x.select(Axis(1), &features),
            y,
            coef.select(Axis(0), &features),
        )
    })
}

/// Samples (rows and their targets) in a random order, as scikit-learn's `utils.shuffle`.
fn shuffled(
    x: Array2<f64>,
    y: Array1<f64>,
    generator: &mut RandomState,
) -> (Array2<f64>, Array1<f64>) {
    let order = generator.permutation(x.nrows());
    (x.select(Axis(0), &order), y.select(Axis(0), &order))
}
