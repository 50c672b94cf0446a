//! Model inspection, as `sklearn.inspection`.

use ndarray::{Array1, Array2, Axis};
use polars::prelude::{df, SortMultipleOptions};
use rayon::prelude::*;

use super::{check_len, require, Fitted, Input, Result};
use crate::display::{MimeBundle, Render};
use crate::random;

/// How much a fitted model's score drops when one feature's values are shuffled.
#[derive(Debug, Clone)]
pub struct PermutationImportance {
    /// The drop for each feature (rows) and repeat (columns).
    pub importances: Array2<f64>,
    pub importances_mean: Array1<f64>,
    /// Over the repeats, as NumPy's `std` (ddof 0).
    pub importances_std: Array1<f64>,
}

/// Permutation importance of any fitted model on `(x, y)`, scored by its `score` (accuracy
/// or R²), as `sklearn.inspection.permutation_importance(model, x, y, n_repeats=...,
/// random_state=...)`: the same shuffles for the same `random_state`, so a model that
/// predicts as scikit-learn's gets scikit-learn's importances. Features run in parallel.
pub fn permutation_importance(
    model: &dyn Fitted,
    x: &Array2<f64>,
    y: &Array1<f64>,
    n_repeats: usize,
    random_state: Option<u64>,
) -> Result<PermutationImportance> {
    check_len(y.len(), x.nrows())?;
    require(
        n_repeats >= 1,
        "permutation_importance",
        "n_repeats",
        "≥ 1",
        n_repeats,
    )?;
    let baseline = model.score(Input::from(x), y.view())?;
    // scikit-learn draws one seed and restarts a generator from it for every feature.
    let seed = random::with_random_state(random_state, |rng| rng.randint(0, i32::MAX as i64 + 1));
    let drops: Vec<Vec<f64>> = (0..x.ncols())
        .into_par_iter()
        .map(|feature| {
            let mut rng = random::RandomState::new(seed as u64);
            let mut permuted = x.clone();
            let mut order: Vec<usize> = (0..x.nrows()).collect();
            (0..n_repeats)
                .map(|_| {
                    // Each repeat shuffles the already shuffled column again, as scikit-learn.
                    rng.shuffle(&mut order);
                    let column = permuted.column(feature).select(Axis(0), &order);
                    permuted.column_mut(feature).assign(&column);
                    Ok(baseline - model.score(Input::from(&permuted), y.view())?)
                })
                .collect::<Result<Vec<f64>>>()
        })
        .collect::<Result<_>>()?;
    let importances = Array2::from_shape_fn((x.ncols(), n_repeats), |(f, r)| drops[f][r]);
    Ok(PermutationImportance {
        importances_mean: importances.mean_axis(Axis(1)).expect("n_repeats > 0"),
        importances_std: importances.std_axis(Axis(1), 0.0),
        importances,
    })
}

/// A table of features, the most important first.
impl Render for PermutationImportance {
    fn render(&self) -> MimeBundle {
        let table = df!(
            "feature" => (0..self.importances_mean.len() as u32).collect::<Vec<_>>(),
            "importance_mean" => self.importances_mean.to_vec(),
            "importance_std" => self.importances_std.to_vec(),
        )
        .and_then(|frame| {
            frame.sort(
                ["importance_mean"],
                SortMultipleOptions::default().with_order_descending(true),
            )
        });
        match table {
            Ok(frame) => frame.render(),
            Err(error) => MimeBundle::plain(format!("{self:?} ({error})")),
        }
    }
}
