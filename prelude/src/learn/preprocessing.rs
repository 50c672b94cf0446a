//! Scalers, encoders, imputation and polynomial features, as `sklearn.preprocessing` and
//! `sklearn.impute`. Missing values are NaN in matrices and null in DataFrames; the scalers
//! ignore them when fitting and keep them, as scikit-learn's do.

use std::cmp::Ordering;
use std::collections::HashMap;

use ndarray::{Array1, Array2, ArrayView1, Axis};

use super::{
    check_width, estimator, fitted_methods, require, require_choice, unsupervised_fit, Estimator,
    Fitted, Input, LearnError, Result,
};

/// The non-NaN values of a column.
fn present(column: ArrayView1<f64>) -> Vec<f64> {
    column.iter().copied().filter(|v| !v.is_nan()).collect()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// The `q`-th quantile (0..=1) of sorted values, interpolated linearly as NumPy's default.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let position = q * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}

/// Applies `(x - offset) / scale` column by column.
fn affine(x: &Array2<f64>, offset: &Array1<f64>, scale: &Array1<f64>) -> Array2<f64> {
    let mut out = x.clone();
    for (mut column, (&o, &s)) in out.columns_mut().into_iter().zip(offset.iter().zip(scale)) {
        column.mapv_inplace(|v| (v - o) / s);
    }
    out
}

/// Scikit-learn's rule for constant features: a zero scale becomes 1.
fn nonzero(scale: f64) -> f64 {
    if scale == 0.0 || !scale.is_finite() {
        1.0
    } else {
        scale
    }
}

estimator! {
    /// Standardizes each feature to mean 0 and variance 1 (population variance, as
    /// scikit-learn).
    pub struct StandardScaler(Transformer, unsupervised) {
        with_mean: bool = true,
        with_std: bool = true,
    }
}
unsupervised_fit!(StandardScaler => FittedStandardScaler);

impl StandardScaler {
    fn fit_input(&self, x: Input) -> Result<FittedStandardScaler> {
        let x = x.matrix()?;
        let (mut means, mut scales) = (Vec::new(), Vec::new());
        for column in x.columns() {
            let values = present(column);
            let m = mean(&values);
            let var =
                values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / values.len().max(1) as f64;
            means.push(if self.with_mean { m } else { 0.0 });
            scales.push(if self.with_std {
                nonzero(var.sqrt())
            } else {
                1.0
            });
        }
        Ok(FittedStandardScaler {
            scaler: self.clone(),
            mean: means.into(),
            scale: scales.into(),
        })
    }
}

pub struct FittedStandardScaler {
    scaler: StandardScaler,
    /// Per-feature mean (0 when `with_mean` is off).
    pub mean: Array1<f64>,
    /// Per-feature standard deviation (1 for constant features or when `with_std` is off).
    pub scale: Array1<f64>,
}

impl Fitted for FittedStandardScaler {
    fn estimator(&self) -> &dyn Estimator {
        &self.scaler
    }

    fn transform(&self, x: Input) -> Result<Array2<f64>> {
        let x = x.matrix()?;
        check_width("StandardScaler", self.mean.len(), &x)?;
        Ok(affine(&x, &self.mean, &self.scale))
    }

    fn summary(&self) -> Vec<(String, String)> {
        vec![("n_features".into(), self.mean.len().to_string())]
    }
}
fitted_methods!(FittedStandardScaler: transform);

estimator! {
    /// Scales each feature to `[feature_min, feature_max]` (scikit-learn's `feature_range`).
    pub struct MinMaxScaler(Transformer, unsupervised) {
        feature_min: f64 = 0.0,
        feature_max: f64 = 1.0,
    }
}
unsupervised_fit!(MinMaxScaler => FittedMinMaxScaler);

impl MinMaxScaler {
    fn fit_input(&self, x: Input) -> Result<FittedMinMaxScaler> {
        require(
            self.feature_min < self.feature_max,
            "MinMaxScaler",
            "feature_min",
            "below feature_max",
            self.feature_min,
        )?;
        let x = x.matrix()?;
        let span = self.feature_max - self.feature_min;
        let (mut offset, mut scale) = (Vec::new(), Vec::new());
        for column in x.columns() {
            let values = present(column);
            let low = values.iter().copied().fold(f64::INFINITY, f64::min);
            let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let s = nonzero(high - low) / span;
            // (x - low) / s + feature_min == (x - (low - feature_min * s)) / s
            offset.push(low - self.feature_min * s);
            scale.push(s);
        }
        Ok(FittedMinMaxScaler {
            scaler: self.clone(),
            offset: offset.into(),
            scale: scale.into(),
        })
    }
}

pub struct FittedMinMaxScaler {
    scaler: MinMaxScaler,
    offset: Array1<f64>,
    scale: Array1<f64>,
}

impl Fitted for FittedMinMaxScaler {
    fn estimator(&self) -> &dyn Estimator {
        &self.scaler
    }

    fn transform(&self, x: Input) -> Result<Array2<f64>> {
        let x = x.matrix()?;
        check_width("MinMaxScaler", self.scale.len(), &x)?;
        Ok(affine(&x, &self.offset, &self.scale))
    }
}
fitted_methods!(FittedMinMaxScaler: transform);

estimator! {
    /// Centres on the median and scales by the interquartile range: robust to outliers.
    pub struct RobustScaler(Transformer, unsupervised) {
        with_centering: bool = true,
        with_scaling: bool = true,
        quantile_low: f64 = 25.0,
        quantile_high: f64 = 75.0,
    }
}
unsupervised_fit!(RobustScaler => FittedRobustScaler);

impl RobustScaler {
    fn fit_input(&self, x: Input) -> Result<FittedRobustScaler> {
        require(
            0.0 <= self.quantile_low
                && self.quantile_low < self.quantile_high
                && self.quantile_high <= 100.0,
            "RobustScaler",
            "quantile_low",
            "in [0, quantile_high) with quantile_high ≤ 100",
            self.quantile_low,
        )?;
        let x = x.matrix()?;
        let (mut center, mut scale) = (Vec::new(), Vec::new());
        for column in x.columns() {
            let values = sorted(present(column));
            center.push(if self.with_centering {
                quantile(&values, 0.5)
            } else {
                0.0
            });
            let iqr = quantile(&values, self.quantile_high / 100.0)
                - quantile(&values, self.quantile_low / 100.0);
            scale.push(if self.with_scaling { nonzero(iqr) } else { 1.0 });
        }
        Ok(FittedRobustScaler {
            scaler: self.clone(),
            center: center.into(),
            scale: scale.into(),
        })
    }
}

pub struct FittedRobustScaler {
    scaler: RobustScaler,
    pub center: Array1<f64>,
    pub scale: Array1<f64>,
}

impl Fitted for FittedRobustScaler {
    fn estimator(&self) -> &dyn Estimator {
        &self.scaler
    }

    fn transform(&self, x: Input) -> Result<Array2<f64>> {
        let x = x.matrix()?;
        check_width("RobustScaler", self.scale.len(), &x)?;
        Ok(affine(&x, &self.center, &self.scale))
    }
}
fitted_methods!(FittedRobustScaler: transform);

/// Each column's categories in scikit-learn's order: numbers numerically, text
/// lexicographically, missing (`None`) last.
fn learn_categories(x: Input) -> Vec<Vec<Option<String>>> {
    x.categories()
        .into_iter()
        .map(|column| {
            let mut categories = column;
            let numeric = categories
                .iter()
                .flatten()
                .all(|c| c.parse::<f64>().is_ok());
            categories.sort_by(|a, b| match (a, b) {
                (None, None) => Ordering::Equal,
                (None, _) => Ordering::Greater,
                (_, None) => Ordering::Less,
                (Some(a), Some(b)) if numeric => a
                    .parse::<f64>()
                    .unwrap()
                    .total_cmp(&b.parse::<f64>().unwrap()),
                (Some(a), Some(b)) => a.cmp(b),
            });
            categories.dedup();
            categories
        })
        .collect()
}

fn category_name(category: &Option<String>) -> &str {
    category.as_deref().unwrap_or("null")
}

/// Each column's categories, and each category's position among them for lookups.
type CategoryIndex = Vec<HashMap<Option<String>, usize>>;

fn fit_categories(x: Input) -> (Vec<Vec<Option<String>>>, CategoryIndex) {
    let categories = learn_categories(x);
    let index = categories
        .iter()
        .map(|column| {
            column
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, c)| (c, i))
                .collect()
        })
        .collect();
    (categories, index)
}

/// What both encoders do when transforming: each value's position among its column's
/// fitted categories, column by column. A category not seen in fit is `None` when the
/// encoder tolerates it, else an error naming it and the `handle_unknown` setting to use.
fn category_codes(
    index: &CategoryIndex,
    x: Input,
    encoder: &str,
    tolerate: bool,
    remedy: &str,
) -> Result<Vec<Vec<Option<usize>>>> {
    if x.ncols() != index.len() {
        return Err(LearnError::data(format!(
            "{encoder} was fitted on {} columns, X has {}",
            index.len(),
            x.ncols()
        )));
    }
    x.categories()
        .into_iter()
        .zip(index)
        .enumerate()
        .map(|(j, (column, lookup))| {
            column
                .into_iter()
                .map(|value| match lookup.get(&value) {
                    Some(&k) => Ok(Some(k)),
                    None if tolerate => Ok(None),
                    None => Err(LearnError::data(format!(
                        "{encoder}: column {j} has category {:?} not seen in fit ({remedy})",
                        category_name(&value)
                    ))),
                })
                .collect()
        })
        .collect()
}

estimator! {
    /// One 0/1 column per category of each feature. Text and number columns both work;
    /// missing values are a category of their own. `handle_unknown`: `"error"` or
    /// `"ignore"` (all zeros for a category not seen in fit).
    pub struct OneHotEncoder(Transformer, unsupervised) {
        handle_unknown: String = "error".into(),
    }
}
unsupervised_fit!(OneHotEncoder => FittedOneHotEncoder);

impl OneHotEncoder {
    fn fit_input(&self, x: Input) -> Result<FittedOneHotEncoder> {
        require_choice(
            "OneHotEncoder",
            "handle_unknown",
            &self.handle_unknown,
            &["error", "ignore"],
        )?;
        let (categories, index) = fit_categories(x);
        Ok(FittedOneHotEncoder {
            index,
            encoder: self.clone(),
            categories,
        })
    }
}

pub struct FittedOneHotEncoder {
    encoder: OneHotEncoder,
    /// The categories of each input column, in output order.
    pub categories: Vec<Vec<Option<String>>>,
    index: CategoryIndex,
}

impl Fitted for FittedOneHotEncoder {
    fn estimator(&self) -> &dyn Estimator {
        &self.encoder
    }

    fn transform(&self, x: Input) -> Result<Array2<f64>> {
        let codes = category_codes(
            &self.index,
            x,
            "OneHotEncoder",
            self.encoder.handle_unknown == "ignore",
            "set handle_unknown(\"ignore\") to encode it as all zeros",
        )?;
        let width: usize = self.categories.iter().map(Vec::len).sum();
        let mut out = Array2::zeros((x.nrows(), width));
        let mut start = 0;
        for (column, categories) in codes.iter().zip(&self.categories) {
            for (i, code) in column.iter().enumerate() {
                if let Some(k) = code {
                    out[[i, start + k]] = 1.0;
                }
            }
            start += categories.len();
        }
        Ok(out)
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        input
            .iter()
            .zip(&self.categories)
            .flat_map(|(name, categories)| {
                categories
                    .iter()
                    .map(move |c| format!("{name}_{}", category_name(c)))
            })
            .collect()
    }

    fn summary(&self) -> Vec<(String, String)> {
        self.categories
            .iter()
            .enumerate()
            .map(|(j, c)| {
                let names: Vec<&str> = c.iter().map(category_name).collect();
                (format!("categories[{j}]"), names.join(", "))
            })
            .collect()
    }
}
fitted_methods!(FittedOneHotEncoder: transform);

estimator! {
    /// Each category as its index among the column's sorted categories. `handle_unknown`:
    /// `"error"` or `"use_encoded_value"` (then unseen categories become `unknown_value`).
    pub struct OrdinalEncoder(Transformer, unsupervised) {
        handle_unknown: String = "error".into(),
        unknown_value: f64 = -1.0,
    }
}
unsupervised_fit!(OrdinalEncoder => FittedOrdinalEncoder);

impl OrdinalEncoder {
    fn fit_input(&self, x: Input) -> Result<FittedOrdinalEncoder> {
        require_choice(
            "OrdinalEncoder",
            "handle_unknown",
            &self.handle_unknown,
            &["error", "use_encoded_value"],
        )?;
        let (categories, index) = fit_categories(x);
        Ok(FittedOrdinalEncoder {
            index,
            encoder: self.clone(),
            categories,
        })
    }
}

pub struct FittedOrdinalEncoder {
    encoder: OrdinalEncoder,
    pub categories: Vec<Vec<Option<String>>>,
    index: CategoryIndex,
}

impl Fitted for FittedOrdinalEncoder {
    fn estimator(&self) -> &dyn Estimator {
        &self.encoder
    }

    fn transform(&self, x: Input) -> Result<Array2<f64>> {
        let codes = category_codes(
            &self.index,
            x,
            "OrdinalEncoder",
            self.encoder.handle_unknown == "use_encoded_value",
            "set handle_unknown(\"use_encoded_value\") to encode it as unknown_value",
        )?;
        let mut out = Array2::zeros((x.nrows(), codes.len()));
        for (j, column) in codes.iter().enumerate() {
            for (i, code) in column.iter().enumerate() {
                out[[i, j]] = code.map_or(self.encoder.unknown_value, |k| k as f64);
            }
        }
        Ok(out)
    }
}
fitted_methods!(FittedOrdinalEncoder: transform);

estimator! {
    /// Fills missing values (NaN, or null in a DataFrame) per feature. `strategy`: `"mean"`,
    /// `"median"`, `"most_frequent"` or `"constant"` (then `fill_value`).
    pub struct SimpleImputer(Transformer, unsupervised) {
        strategy: String = "mean".into(),
        fill_value: f64 = 0.0,
    }
}
unsupervised_fit!(SimpleImputer => FittedSimpleImputer);

impl SimpleImputer {
    fn fit_input(&self, x: Input) -> Result<FittedSimpleImputer> {
        require_choice(
            "SimpleImputer",
            "strategy",
            &self.strategy,
            &["mean", "median", "most_frequent", "constant"],
        )?;
        let x = x.matrix()?;
        let statistics = x
            .columns()
            .into_iter()
            .map(|column| {
                let values = sorted(present(column));
                if values.is_empty() && self.strategy != "constant" {
                    // Scikit-learn drops an all-missing column; we keep the width and fill it.
                    return self.fill_value;
                }
                match self.strategy.as_str() {
                    "mean" => mean(&values),
                    "median" => quantile(&values, 0.5),
                    "most_frequent" => most_frequent(&values),
                    _ => self.fill_value,
                }
            })
            .collect();
        Ok(FittedSimpleImputer {
            imputer: self.clone(),
            statistics,
        })
    }
}

/// The most frequent of sorted values, the smallest on ties (as scikit-learn).
fn most_frequent(sorted: &[f64]) -> f64 {
    let mut best = (0, f64::NAN);
    let mut i = 0;
    while i < sorted.len() {
        let run = sorted[i..].iter().take_while(|&&v| v == sorted[i]).count();
        if run > best.0 {
            best = (run, sorted[i]);
        }
        i += run;
    }
    best.1
}

pub struct FittedSimpleImputer {
    imputer: SimpleImputer,
    /// The fill value of each feature.
    pub statistics: Array1<f64>,
}

impl Fitted for FittedSimpleImputer {
    fn estimator(&self) -> &dyn Estimator {
        &self.imputer
    }

    fn transform(&self, x: Input) -> Result<Array2<f64>> {
        let mut x = x.matrix()?;
        check_width("SimpleImputer", self.statistics.len(), &x)?;
        for (mut column, &fill) in x.columns_mut().into_iter().zip(&self.statistics) {
            column.mapv_inplace(|v| if v.is_nan() { fill } else { v });
        }
        Ok(x)
    }
}
fitted_methods!(FittedSimpleImputer: transform);

estimator! {
    /// Products of features up to `degree`, in scikit-learn's column order: the bias, the
    /// features, then their degree-2 products `x0²`, `x0·x1`, ..., and so on.
    pub struct PolynomialFeatures(Transformer, unsupervised) {
        degree: usize = 2,
        interaction_only: bool = false,
        include_bias: bool = true,
    }
}
unsupervised_fit!(PolynomialFeatures => FittedPolynomialFeatures);

impl PolynomialFeatures {
    fn fit_input(&self, x: Input) -> Result<FittedPolynomialFeatures> {
        require(
            self.degree >= 1,
            "PolynomialFeatures",
            "degree",
            "at least 1",
            self.degree,
        )?;
        let n = x.ncols();
        let mut terms: Vec<Vec<usize>> = if self.include_bias {
            vec![vec![]]
        } else {
            vec![]
        };
        let mut previous: Vec<Vec<usize>> = vec![vec![]];
        for _ in 0..self.degree {
            // Extends each term of the previous degree by a feature no smaller than its last
            // (no equal one when interaction_only): combinations in lexicographic order.
            let next: Vec<Vec<usize>> = previous
                .iter()
                .flat_map(|term| {
                    let start = term
                        .last()
                        .map_or(0, |&last| last + usize::from(self.interaction_only));
                    (start..n).map(move |feature| {
                        let mut longer = term.clone();
                        longer.push(feature);
                        longer
                    })
                })
                .collect();
            terms.extend(next.iter().cloned());
            previous = next;
        }
        Ok(FittedPolynomialFeatures {
            features: self.clone(),
            n_features: n,
            terms,
        })
    }
}

pub struct FittedPolynomialFeatures {
    features: PolynomialFeatures,
    n_features: usize,
    /// Each output column as the input features it multiplies (empty: the bias).
    terms: Vec<Vec<usize>>,
}

impl Fitted for FittedPolynomialFeatures {
    fn estimator(&self) -> &dyn Estimator {
        &self.features
    }

    fn transform(&self, x: Input) -> Result<Array2<f64>> {
        let x = x.matrix()?;
        check_width("PolynomialFeatures", self.n_features, &x)?;
        let mut out = Array2::ones((x.nrows(), self.terms.len()));
        for (mut column, term) in out.axis_iter_mut(Axis(1)).zip(&self.terms) {
            for &feature in term {
                column *= &x.column(feature);
            }
        }
        Ok(out)
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        self.terms
            .iter()
            .map(|term| {
                if term.is_empty() {
                    return "1".to_owned();
                }
                let mut parts: Vec<String> = Vec::new();
                let mut i = 0;
                while i < term.len() {
                    let power = term[i..].iter().take_while(|&&f| f == term[i]).count();
                    let name = &input[term[i]];
                    parts.push(if power == 1 {
                        name.clone()
                    } else {
                        format!("{name}^{power}")
                    });
                    i += power;
                }
                parts.join(" ")
            })
            .collect()
    }
}
fitted_methods!(FittedPolynomialFeatures: transform);
