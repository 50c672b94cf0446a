//! Scoring held-out folds: `cross_val_score` and the scorers `scoring=` names.

use std::time::Instant;

use ndarray::{Array1, ArrayView1, Axis};
use rayon::prelude::*;

use super::folds::Cv;
use crate::learn::{check_len, require, Estimator, Fitted, Input, LearnError, Result};
use crate::metrics::{self, Average};
use crate::runtime::check_interrupt;

/// The scores scikit-learn's `scoring=` names; "" is the estimator's own `score`.
const SCORERS: &[&str] = &[
    "",
    "accuracy",
    "f1",
    "f1_macro",
    "f1_weighted",
    "precision_macro",
    "recall_macro",
    "roc_auc",
    "r2",
    "neg_mean_squared_error",
    "neg_root_mean_squared_error",
    "neg_mean_absolute_error",
];

pub(super) fn check_scoring(scoring: &str) -> Result<()> {
    require(
        SCORERS.contains(&scoring),
        "scoring",
        "scoring",
        &format!("one of {}", SCORERS[1..].join(", ")),
        format!("{scoring:?}"),
    )
}

/// One score of a fitted model on held-out samples; higher is better (errors are negated).
pub(super) fn score(
    fitted: &dyn Fitted,
    scoring: &str,
    x: Input,
    y: ArrayView1<f64>,
) -> Result<f64> {
    if scoring.is_empty() {
        return fitted.score(x, y);
    }
    if scoring == "roc_auc" {
        let proba = fitted.predict_proba(x)?;
        if proba.ncols() != 2 {
            return Err(LearnError::data(
                "roc_auc scoring needs a binary classifier",
            ));
        }
        return Ok(metrics::roc_auc_score(&y, &proba.column(1)));
    }
    let p = fitted.predict(x)?;
    Ok(match scoring {
        "accuracy" => metrics::accuracy_score(&y, &p),
        "f1" => metrics::f1_score(&y, &p, Average::Binary),
        "f1_macro" => metrics::f1_score(&y, &p, Average::Macro),
        "f1_weighted" => metrics::f1_score(&y, &p, Average::Weighted),
        "precision_macro" => metrics::precision_score(&y, &p, Average::Macro),
        "recall_macro" => metrics::recall_score(&y, &p, Average::Macro),
        "r2" => metrics::r2_score(&y, &p),
        "neg_mean_squared_error" => -metrics::mean_squared_error(&y, &p),
        "neg_root_mean_squared_error" => -metrics::root_mean_squared_error(&y, &p),
        _ => -metrics::mean_absolute_error(&y, &p),
    })
}

/// Fits a clone of `estimator` on each fold's training rows and scores it on its test rows:
/// `cross_val_score(&pipe, &x, &y, 5)?`. Folds run in parallel.
pub fn cross_val_score<'a>(
    estimator: &dyn Estimator,
    x: impl Into<Input<'a>>,
    y: &Array1<f64>,
    cv: impl Into<Cv>,
) -> Result<Array1<f64>> {
    let x = x.into();
    check_len(y.len(), x.nrows())?;
    let folds = cv.into().folds(estimator.kind(), y.view())?;
    let scores = folds
        .par_iter()
        .map(|fold| fit_and_score(estimator, "", x, y.view(), fold).map(|(score, _)| score))
        .collect::<Result<Vec<f64>>>()?;
    Ok(scores.into())
}

/// Score and fit seconds of one fold.
pub(super) fn fit_and_score(
    estimator: &dyn Estimator,
    scoring: &str,
    x: Input,
    y: ArrayView1<f64>,
    (train, test): &(Vec<usize>, Vec<usize>),
) -> Result<(f64, f64)> {
    check_interrupt();
    let start = Instant::now();
    let x_train = x.take_rows(train);
    let y_train = y.select(Axis(0), train);
    let fitted = estimator.fit_box(x_train.input(), Some(y_train.view()))?;
    let seconds = start.elapsed().as_secs_f64();
    let x_test = x.take_rows(test);
    Ok((
        score(
            fitted.as_ref(),
            scoring,
            x_test.input(),
            y.select(Axis(0), test).view(),
        )?,
        seconds,
    ))
}
