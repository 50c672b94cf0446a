//! Machine learning in the shape of scikit-learn: estimators with explicit hyperparameters,
//! `fit` returning the fitted model, pipelines, cross-validation and searches.
//!
//! ```ignore
//! let model = Pipeline::new()
//!     .step("scale", StandardScaler::new())
//!     .step("model", LogisticRegression::new().c(0.5))
//!     .build()?
//!     .fit(&x_train, &y_train)?;
//! model.score(&x_test, &y_test)?
//! ```
//!
//! The contract is two object-safe traits so that pipelines and searches can hold any step:
//! [`Estimator`] (hyperparameters, by name for `step__param` searches) and [`Fitted`] (what
//! fitting learned). Each estimator also has a typed `fit` returning its own fitted type.
//! Targets are `Array1<f64>`, class labels included, as in [`crate::metrics`].
//!
//! The algorithms are written here, following scikit-learn's step by step, so that the
//! deterministic estimators give scikit-learn's results exactly (tests/test_learn.py) and
//! all of them fit the by-name contract. linfa could not serve: it is built on ndarray 0.16,
//! whose arrays don't mix with ours. smartcore builds on ndarray 0.17 but has its own
//! estimator contract and algorithm details; it was not benchmarked against these.

mod boosting;
mod cluster;
mod compose;
mod decomposition;
mod diagram;
mod error;
mod forest;
mod input;
mod inspection;
mod linear_model;
mod math;
mod model_selection;
mod naive_bayes;
mod neighbors;
mod params;
mod pipeline;
mod preprocessing;
mod svm;
mod traits;
mod tree;

pub use boosting::{
    FittedHistGradientBoosting, HistGradientBoostingClassifier, HistGradientBoostingRegressor,
};
pub use cluster::{FittedKMeans, KMeans};
pub use compose::{ColumnTransformer, ColumnTransformerBuilder, FittedColumnTransformer};
pub use decomposition::{FittedPca, Pca};
pub use forest::{FittedRandomForest, RandomForestClassifier, RandomForestRegressor};
pub use inspection::{permutation_importance, PermutationImportance};
pub use linear_model::{
    FittedLinearModel, FittedLogisticRegression, Lasso, LinearRegression, LogisticRegression, Ridge,
};
pub use model_selection::{
    cross_val_score, train_test_split, Cv, Distribution, FittedSearch, Folds, GridSearchCV, KFold,
    RandomizedSearchCV, Rows, Split, StratifiedKFold,
};
pub use naive_bayes::{FittedGaussianNb, GaussianNb};
pub use neighbors::{FittedKNeighbors, KNeighborsClassifier, KNeighborsRegressor};
pub use pipeline::{FittedPipeline, FunctionTransformer, Pipeline, PipelineBuilder, Transform};
pub use preprocessing::{
    FittedMinMaxScaler, FittedOneHotEncoder, FittedOrdinalEncoder, FittedPolynomialFeatures,
    FittedRobustScaler, FittedSimpleImputer, FittedStandardScaler, MinMaxScaler, OneHotEncoder,
    OrdinalEncoder, PolynomialFeatures, RobustScaler, SimpleImputer, StandardScaler,
};
pub use svm::{FittedSvc, Svc};
pub use tree::{DecisionTreeClassifier, DecisionTreeRegressor, FittedDecisionTree};

// The contract every estimator follows, each idea in a file of its own.
pub use error::{LearnError, Result};
pub use input::Input;
pub use params::{Arg, FromParam, Param};
pub use traits::{Estimator, Fitted, Kind};

pub(crate) use diagram::{render_estimator, render_fitted};
pub(crate) use input::{check_len, check_width, Samples};
pub(crate) use math::{argmax_classes, encode_classes, sigmoid, softmax};
pub(crate) use params::{require, require_choice, seed_for, unknown_param};
pub(crate) use traits::{estimator, fitted_methods, supervised_fit, unsupervised_fit};
