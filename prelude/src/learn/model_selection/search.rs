//! Hyperparameter search: `GridSearchCV`, `RandomizedSearchCV` and the fitted result.

use ndarray::{Array1, Array2, ArrayView1};
use polars::prelude::{Column, DataFrame};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::folds::Cv;
use super::validation::{check_scoring, fit_and_score};
use crate::display::{escape, MimeBundle, Render};
use crate::learn::{
    check_len, require, seed_for, Estimator, Fitted, Input, LearnError, Param, Result,
};

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
