//! Splitting, cross-validation and hyperparameter search, as `sklearn.model_selection`.
//! Folds and candidates are fitted in parallel, one fresh clone of the estimator each.

mod folds;
mod search;
mod split;
mod validation;

pub use folds::{Cv, Folds, KFold, StratifiedKFold};
pub use search::{Distribution, FittedSearch, GridSearchCV, RandomizedSearchCV};
pub use split::{train_test_split, Rows, Split};
pub use validation::cross_val_score;
