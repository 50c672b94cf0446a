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
mod forest;
mod inspection;
mod linear_model;
mod model_selection;
mod naive_bayes;
mod neighbors;
mod pipeline;
mod preprocessing;
mod svm;
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

use std::fmt;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use polars::prelude::{DataFrame, DataType};

use crate::display::{escape, MimeBundle, Render};

pub type Result<T> = std::result::Result<T, LearnError>;

/// Why an estimator could not be built, fitted or applied. Messages name the estimator,
/// parameter, step or column at fault.
#[derive(Debug, Clone, PartialEq)]
pub enum LearnError {
    /// A hyperparameter out of range or of the wrong type, or one that doesn't exist.
    Param {
        estimator: String,
        param: String,
        message: String,
    },
    /// Input of the wrong shape or content.
    Data(String),
    /// A pipeline or column transformer step that failed, with the step's name.
    Step {
        step: String,
        source: Box<LearnError>,
    },
}

impl LearnError {
    pub(crate) fn param(estimator: &str, param: &str, message: impl Into<String>) -> Self {
        LearnError::Param {
            estimator: estimator.to_owned(),
            param: param.to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn data(message: impl Into<String>) -> Self {
        LearnError::Data(message.into())
    }

    pub(crate) fn in_step(self, step: &str) -> Self {
        LearnError::Step {
            step: step.to_owned(),
            source: Box::new(self),
        }
    }
}

impl fmt::Display for LearnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LearnError::Param {
                estimator,
                param,
                message,
            } => {
                write!(f, "{estimator}: parameter `{param}` {message}")
            }
            LearnError::Data(message) => f.write_str(message),
            LearnError::Step { step, source } => write!(f, "step `{step}`: {source}"),
        }
    }
}

impl std::error::Error for LearnError {}

/// A hyperparameter's value, as searches pass them: `0.1`, `5`, `"median"`, `true`, `None`.
/// Shown as written in code (`{:?}` too), so that lists of parameters read naturally.
#[derive(Clone, PartialEq)]
pub enum Param {
    Float(f64),
    Int(i64),
    Str(String),
    Bool(bool),
    None,
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Param::Float(v) => write!(f, "{v}"),
            Param::Int(v) => write!(f, "{v}"),
            Param::Str(v) => write!(f, "{v:?}"),
            Param::Bool(v) => write!(f, "{v}"),
            Param::None => f.write_str("None"),
        }
    }
}

impl fmt::Debug for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

macro_rules! param_from {
    ($($ty:ty => $variant:ident as $as:ty),*) => {$(
        impl From<$ty> for Param {
            fn from(value: $ty) -> Self {
                Param::$variant(value as $as)
            }
        }
    )*};
}
param_from!(f64 => Float as f64, f32 => Float as f64, i32 => Int as i64, i64 => Int as i64,
    usize => Int as i64, u64 => Int as i64);

impl From<bool> for Param {
    fn from(value: bool) -> Self {
        Param::Bool(value)
    }
}

impl From<&str> for Param {
    fn from(value: &str) -> Self {
        Param::Str(value.to_owned())
    }
}

impl From<String> for Param {
    fn from(value: String) -> Self {
        Param::Str(value)
    }
}

impl<T: Into<Param>> From<Option<T>> for Param {
    fn from(value: Option<T>) -> Self {
        value.map_or(Param::None, Into::into)
    }
}

/// Reads a hyperparameter field back from a [`Param`]; `Err` says what the field expects.
pub trait FromParam: Sized {
    fn from_param(param: &Param) -> std::result::Result<Self, &'static str>;
}

impl FromParam for f64 {
    fn from_param(param: &Param) -> std::result::Result<Self, &'static str> {
        match *param {
            Param::Float(v) => Ok(v),
            Param::Int(v) => Ok(v as f64),
            _ => Err("a number"),
        }
    }
}

impl FromParam for usize {
    fn from_param(param: &Param) -> std::result::Result<Self, &'static str> {
        match *param {
            Param::Int(v) if v >= 0 => Ok(v as usize),
            _ => Err("a non-negative integer"),
        }
    }
}

impl FromParam for u64 {
    fn from_param(param: &Param) -> std::result::Result<Self, &'static str> {
        usize::from_param(param).map(|v| v as u64)
    }
}

impl FromParam for bool {
    fn from_param(param: &Param) -> std::result::Result<Self, &'static str> {
        match *param {
            Param::Bool(v) => Ok(v),
            _ => Err("true or false"),
        }
    }
}

impl FromParam for String {
    fn from_param(param: &Param) -> std::result::Result<Self, &'static str> {
        match param {
            Param::Str(v) => Ok(v.clone()),
            _ => Err("a string"),
        }
    }
}

impl<T: FromParam> FromParam for Option<T> {
    fn from_param(param: &Param) -> std::result::Result<Self, &'static str> {
        match param {
            Param::None => Ok(None),
            other => T::from_param(other).map(Some),
        }
    }
}

/// What a builder method accepts for a field of type `T`. Own trait rather than `Into` so
/// that literals infer: `.n_estimators(100)` (no `From<i32> for usize`), `.alpha(1)`,
/// `.max_depth(5)` and `.max_depth(None)`.
pub trait Arg<T> {
    fn into_arg(self) -> T;
}

macro_rules! args {
    ($($from:ty => $to:ty: |$v:ident| $convert:expr),* $(,)?) => {$(
        impl Arg<$to> for $from {
            fn into_arg(self) -> $to {
                let $v = self;
                $convert
            }
        }
    )*};
}
args!(
    f64 => f64: |v| v,
    i32 => f64: |v| v as f64,
    usize => usize: |v| v,
    u64 => u64: |v| v,
    bool => bool: |v| v,
    &str => String: |v| v.to_owned(),
    String => String: |v| v,
    usize => Option<usize>: |v| Some(v),
    Option<usize> => Option<usize>: |v| v,
    u64 => Option<u64>: |v| Some(v),
    Option<u64> => Option<u64>: |v| v,
    f64 => Option<f64>: |v| Some(v),
    Option<f64> => Option<f64>: |v| v,
);

/// What an estimator does, deciding what a pipeline may put after it and what `score` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Transformer,
    Classifier,
    Regressor,
    Clusterer,
}

/// Rows of an [`Input`], owned: what cross-validation hands each fold.
pub(crate) enum Samples {
    Array(Array2<f64>),
    Frame(DataFrame),
}

impl Samples {
    pub(crate) fn input(&self) -> Input<'_> {
        match self {
            Samples::Array(array) => Input::Array(array.view()),
            Samples::Frame(frame) => Input::Frame(frame),
        }
    }
}

/// Samples to fit or apply an estimator to: a matrix, or a DataFrame whose columns are the
/// features (numeric ones for most estimators; [`ColumnTransformer`] and the encoders read
/// others too).
#[derive(Clone, Copy)]
pub enum Input<'a> {
    Array(ArrayView2<'a, f64>),
    Frame(&'a DataFrame),
}

impl<'a> From<&'a Array2<f64>> for Input<'a> {
    fn from(array: &'a Array2<f64>) -> Self {
        Input::Array(array.view())
    }
}

impl<'a> From<ArrayView2<'a, f64>> for Input<'a> {
    fn from(array: ArrayView2<'a, f64>) -> Self {
        Input::Array(array)
    }
}

impl<'a> From<&'a ArrayView2<'a, f64>> for Input<'a> {
    fn from(array: &'a ArrayView2<'a, f64>) -> Self {
        Input::Array(array.view())
    }
}

impl<'a> From<&'a DataFrame> for Input<'a> {
    fn from(frame: &'a DataFrame) -> Self {
        Input::Frame(frame)
    }
}

impl Input<'_> {
    /// The same input for a shorter lifetime (ndarray 0.17's views are invariant, so this
    /// doesn't happen by itself).
    pub fn reborrow(&self) -> Input<'_> {
        match self {
            Input::Array(array) => Input::Array(array.view()),
            Input::Frame(frame) => Input::Frame(frame),
        }
    }

    pub fn nrows(&self) -> usize {
        match self {
            Input::Array(array) => array.nrows(),
            Input::Frame(frame) => frame.height(),
        }
    }

    pub fn ncols(&self) -> usize {
        match self {
            Input::Array(array) => array.ncols(),
            Input::Frame(frame) => frame.width(),
        }
    }

    /// Column names of a DataFrame; `x0`, `x1`, ... for a matrix, as scikit-learn names them.
    pub fn feature_names(&self) -> Vec<String> {
        match self {
            Input::Array(array) => (0..array.ncols()).map(|i| format!("x{i}")).collect(),
            Input::Frame(frame) => frame
                .get_column_names()
                .iter()
                .map(|name| name.to_string())
                .collect(),
        }
    }

    /// The samples as floats, nulls as NaN. Non-numeric columns are an error that names them.
    pub fn matrix(&self) -> Result<Array2<f64>> {
        match self {
            Input::Array(array) => Ok(array.to_owned()),
            Input::Frame(frame) => {
                let text: Vec<String> = frame
                    .columns()
                    .iter()
                    .filter(|column| !column.dtype().is_primitive_numeric())
                    .map(|column| format!("`{}` ({})", column.name(), column.dtype()))
                    .collect();
                if !text.is_empty() {
                    return Err(LearnError::data(format!(
                        "columns {} are not numeric: encode them first (OneHotEncoder or \
                         OrdinalEncoder in a ColumnTransformer)",
                        text.join(", ")
                    )));
                }
                frame
                    .to_ndarray::<polars::prelude::Float64Type>(Default::default())
                    .map_err(|err| LearnError::data(err.to_string()))
            }
        }
    }

    pub(crate) fn take_rows(&self, rows: &[usize]) -> Samples {
        match self {
            Input::Array(array) => Samples::Array(array.select(ndarray::Axis(0), rows)),
            Input::Frame(frame) => {
                let index: Vec<polars::prelude::IdxSize> = rows
                    .iter()
                    .map(|&r| r as polars::prelude::IdxSize)
                    .collect();
                let index = polars::prelude::IdxCa::from_vec("rows".into(), index);
                Samples::Frame(frame.take(&index).expect("row indices in range"))
            }
        }
    }

    /// Every column's values as text, for encoders: nulls become `None`.
    pub(crate) fn categories(&self) -> Vec<Vec<Option<String>>> {
        match self {
            Input::Array(array) => array
                .columns()
                .into_iter()
                .map(|column| {
                    column
                        .iter()
                        .map(|v| (!v.is_nan()).then(|| v.to_string()))
                        .collect()
                })
                .collect(),
            Input::Frame(frame) => frame
                .columns()
                .iter()
                .map(|column| {
                    let strings = column
                        .cast(&DataType::String)
                        .expect("any column casts to text");
                    strings
                        .str()
                        .expect("a string column")
                        .iter()
                        .map(|v| v.map(str::to_owned))
                        .collect()
                })
                .collect(),
        }
    }
}

/// An estimator before fitting: its name, kind and hyperparameters, and how to fit it.
pub trait Estimator: Send + Sync {
    fn name(&self) -> String;
    fn kind(&self) -> Kind;
    /// Hyperparameters with their current values, in declaration order.
    fn params(&self) -> Vec<(String, Param)>;
    /// Sets one hyperparameter by name (`step__param` inside pipelines).
    fn set_param(&mut self, name: &str, value: &Param) -> Result<()>;
    fn clone_box(&self) -> Box<dyn Estimator>;
    /// Fits on samples `x` and, for supervised estimators, targets `y`.
    fn fit_box(&self, x: Input, y: Option<ArrayView1<f64>>) -> Result<Box<dyn Fitted>>;
    /// Sub-estimators shown inside this one's diagram (pipeline steps, column groups).
    fn children(&self) -> Vec<(String, &dyn Estimator)> {
        Vec::new()
    }
}

impl Render for Box<dyn Estimator> {
    fn render(&self) -> MimeBundle {
        render_estimator(self.as_ref())
    }
}

impl Render for Box<dyn Fitted> {
    fn render(&self) -> MimeBundle {
        render_fitted(self.as_ref())
    }
}

impl Clone for Box<dyn Estimator> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// What fitting learned. Transformers answer `transform`, models `predict`.
pub trait Fitted: Send + Sync {
    /// The estimator, with the hyperparameters this was fitted with.
    fn estimator(&self) -> &dyn Estimator;

    fn transform(&self, _x: Input) -> Result<Array2<f64>> {
        Err(LearnError::data(format!(
            "{} is a model, not a transformer: it has no transform",
            self.estimator().name()
        )))
    }

    fn predict(&self, _x: Input) -> Result<Array1<f64>> {
        Err(LearnError::data(format!(
            "{} is a transformer: it has no predict",
            self.estimator().name()
        )))
    }

    /// Class probabilities, one column per class of [`Fitted::classes`].
    fn predict_proba(&self, _x: Input) -> Result<Array2<f64>> {
        Err(LearnError::data(format!(
            "{} has no predict_proba",
            self.estimator().name()
        )))
    }

    /// The class labels a classifier predicts, in increasing order.
    fn classes(&self) -> Option<&[f64]> {
        None
    }

    /// Names of the output features, given the input ones.
    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        input.to_vec()
    }

    /// Accuracy for classifiers, R² for regressors, as scikit-learn's `score`.
    fn score(&self, x: Input, y: ArrayView1<f64>) -> Result<f64> {
        let predicted = self.predict(x)?;
        check_len(y.len(), predicted.len())?;
        match self.estimator().kind() {
            Kind::Classifier => Ok(crate::metrics::accuracy_score(&y, &predicted)),
            Kind::Regressor => Ok(crate::metrics::r2_score(&y, &predicted)),
            kind => Err(LearnError::data(format!(
                "{} is a {kind:?}: it has no score against targets",
                self.estimator().name()
            ))),
        }
    }

    /// Learned attributes worth showing next to the hyperparameters in the diagram.
    fn summary(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    fn children(&self) -> Vec<(String, &dyn Fitted)> {
        Vec::new()
    }
}

pub(crate) fn check_len(expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(LearnError::data(format!(
            "X has {got} samples but y has {expected}: they must match"
        )))
    }
}

/// Checks that `x` has as many columns as the estimator was fitted on.
pub(crate) fn check_width(name: &str, fitted: usize, x: &Array2<f64>) -> Result<()> {
    if x.ncols() == fitted {
        Ok(())
    } else {
        Err(LearnError::data(format!(
            "{name} was fitted on {fitted} features, X has {}",
            x.ncols()
        )))
    }
}

/// Sorted distinct labels, and each sample's index into them.
pub(crate) fn encode_classes(y: ArrayView1<f64>) -> (Vec<f64>, Vec<usize>) {
    let mut classes: Vec<f64> = y.to_vec();
    classes.sort_by(f64::total_cmp);
    classes.dedup();
    let index = y
        .iter()
        .map(|v| classes.partition_point(|c| c < v))
        .collect();
    (classes, index)
}

/// The seed for one fit: the estimator's `random_state`, or a draw from the global
/// [`crate::random`] generator so that `random::seed(..)` makes a whole notebook repeatable.
pub(crate) fn seed_for(random_state: Option<u64>) -> u64 {
    random_state.unwrap_or_else(|| rand::Rng::random(&mut *crate::random::rng()))
}

/// Declares an estimator: a struct of hyperparameters with scikit-learn's defaults, a
/// builder method per parameter, and the [`Estimator`] methods that read and set them by
/// name. `fit_box` wires the typed `fit` (supervised or not).
macro_rules! estimator {
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($kind:ident, $fit:ident) {
            $( $(#[$pmeta:meta])* $param:ident : $ty:ty = $default:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name { $( $param: $ty, )* }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $param: $default, )* }
            }
        }

        impl $name {
            pub fn new() -> Self {
                Self::default()
            }
            $(
                $(#[$pmeta])*
                pub fn $param(mut self, value: impl $crate::learn::Arg<$ty>) -> Self {
                    self.$param = value.into_arg();
                    self
                }
            )*
        }

        impl $crate::learn::Estimator for $name {
            fn name(&self) -> String {
                stringify!($name).to_owned()
            }
            fn kind(&self) -> $crate::learn::Kind {
                $crate::learn::Kind::$kind
            }
            fn params(&self) -> Vec<(String, $crate::learn::Param)> {
                vec![$( (stringify!($param).to_owned(), self.$param.clone().into()), )*]
            }
            fn set_param(&mut self, name: &str, value: &$crate::learn::Param) -> $crate::learn::Result<()> {
                match name {
                    $( stringify!($param) => {
                        self.$param = $crate::learn::FromParam::from_param(value).map_err(|expected| {
                            $crate::learn::LearnError::param(stringify!($name), name,
                                format!("expects {expected}, got {value}"))
                        })?;
                    } )*
                    _ => return Err($crate::learn::unknown_param(stringify!($name), name, &[$(stringify!($param)),*])),
                }
                Ok(())
            }
            fn clone_box(&self) -> Box<dyn $crate::learn::Estimator> {
                Box::new(self.clone())
            }
            fn fit_box(
                &self,
                x: $crate::learn::Input,
                y: Option<ndarray::ArrayView1<f64>>,
            ) -> $crate::learn::Result<Box<dyn $crate::learn::Fitted>> {
                $crate::learn::estimator!(@fit $fit, self, x, y, $name)
            }
        }

        impl $crate::display::Render for $name {
            fn render(&self) -> $crate::display::MimeBundle {
                $crate::learn::render_estimator(self)
            }
        }
    };
    (@fit supervised, $self:ident, $x:ident, $y:ident, $name:ident) => {{
        let y = $y.ok_or_else(|| {
            $crate::learn::LearnError::data(concat!(stringify!($name), " needs targets y to fit"))
        })?;
        Ok(Box::new($self.fit_view($x, y)?))
    }};
    (@fit unsupervised, $self:ident, $x:ident, $y:ident, $name:ident) => {{
        let _ = $y;
        Ok(Box::new($self.fit_input($x)?))
    }};
}
pub(crate) use estimator;

/// The typed methods of a fitted type (thin generic shells over its [`Fitted`]
/// implementation, one per method it answers) and its notebook display:
/// `fitted_methods!(FittedRidge: predict, score)`.
macro_rules! fitted_methods {
    ($fitted:ident: $($method:ident),*) => {
        impl $fitted {
            $( $crate::learn::fitted_methods!(@$method); )*
        }

        impl $crate::display::Render for $fitted {
            fn render(&self) -> $crate::display::MimeBundle {
                $crate::learn::render_fitted(self)
            }
        }
    };
    (@predict) => {
        pub fn predict<'a>(&self, x: impl Into<$crate::learn::Input<'a>>) -> $crate::learn::Result<ndarray::Array1<f64>> {
            $crate::learn::Fitted::predict(self, x.into())
        }
    };
    (@predict_proba) => {
        /// Class probabilities, one column per class, classes in increasing order.
        pub fn predict_proba<'a>(&self, x: impl Into<$crate::learn::Input<'a>>) -> $crate::learn::Result<ndarray::Array2<f64>> {
            $crate::learn::Fitted::predict_proba(self, x.into())
        }
    };
    (@transform) => {
        pub fn transform<'a>(&self, x: impl Into<$crate::learn::Input<'a>>) -> $crate::learn::Result<ndarray::Array2<f64>> {
            $crate::learn::Fitted::transform(self, x.into())
        }
    };
    (@score) => {
        /// Accuracy for a classifier, R² for a regressor.
        pub fn score<'a>(&self, x: impl Into<$crate::learn::Input<'a>>, y: &ndarray::Array1<f64>) -> $crate::learn::Result<f64> {
            $crate::learn::Fitted::score(self, x.into(), y.view())
        }
    };
}
pub(crate) use fitted_methods;

/// The typed `fit` of a supervised estimator.
macro_rules! supervised_fit {
    ($name:ident => $fitted:ident) => {
        impl $name {
            /// Fits on samples `x` (a matrix or a DataFrame) and targets `y`.
            pub fn fit<'a>(
                &self,
                x: impl Into<$crate::learn::Input<'a>>,
                y: &ndarray::Array1<f64>,
            ) -> $crate::learn::Result<$fitted> {
                self.fit_view(x.into(), y.view())
            }
        }
    };
}
pub(crate) use supervised_fit;

/// The typed `fit` and `fit_transform` of an unsupervised estimator.
macro_rules! unsupervised_fit {
    ($name:ident => $fitted:ident) => {
        impl $name {
            pub fn fit<'a>(
                &self,
                x: impl Into<$crate::learn::Input<'a>>,
            ) -> $crate::learn::Result<$fitted> {
                self.fit_input(x.into())
            }
            pub fn fit_transform<'a>(
                &self,
                x: impl Into<$crate::learn::Input<'a>>,
            ) -> $crate::learn::Result<ndarray::Array2<f64>> {
                let x = x.into();
                $crate::learn::Fitted::transform(&self.fit_input(x)?, x)
            }
        }
    };
}
pub(crate) use unsupervised_fit;

pub(crate) fn unknown_param(estimator: &str, name: &str, known: &[&str]) -> LearnError {
    LearnError::param(
        estimator,
        name,
        format!("does not exist; {estimator} has {}", known.join(", ")),
    )
}

/// Checks a condition on a hyperparameter, with scikit-learn's wording of the constraint.
pub(crate) fn require(
    ok: bool,
    estimator: &str,
    param: &str,
    constraint: &str,
    value: impl fmt::Display,
) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(LearnError::param(
            estimator,
            param,
            format!("must be {constraint}, got {value}"),
        ))
    }
}

/// Checks a string-valued hyperparameter against its choices.
pub(crate) fn require_choice(
    estimator: &str,
    param: &str,
    value: &str,
    choices: &[&str],
) -> Result<()> {
    require(
        choices.contains(&value),
        estimator,
        param,
        &format!("one of {}", choices.join(", ")),
        format!("{value:?}"),
    )
}

// The diagram: scikit-learn's estimator HTML, boxes of name and parameters, nested for
// pipelines and column transformers. Parameters that differ from the defaults are bold.

pub(crate) fn render_estimator(estimator: &dyn Estimator) -> MimeBundle {
    MimeBundle::plain(plain_text(estimator, 0)).with(
        "text/html",
        format!(
            "<div class=\"ferrolab-estimator\">{STYLE}{}</div>",
            estimator_box(estimator, None)
        ),
    )
}

pub(crate) fn render_fitted(fitted: &dyn Fitted) -> MimeBundle {
    MimeBundle::plain(format!("fitted {}", plain_text(fitted.estimator(), 0))).with(
        "text/html",
        format!(
            "<div class=\"ferrolab-estimator\">{STYLE}{}</div>",
            fitted_box(fitted)
        ),
    )
}

const STYLE: &str = "<style>.ferrolab-estimator details{border:1px solid #8aa;border-radius:4px;\
margin:4px;padding:2px 6px;background:#f4f8fb;display:inline-block;vertical-align:top}\
.ferrolab-estimator summary{font-family:monospace;font-weight:bold;cursor:pointer}\
.ferrolab-estimator .fitted{background:#e8f5e9;border-color:#6a6}\
.ferrolab-estimator table{font-family:monospace;font-size:90%}\
.ferrolab-estimator .steps{display:flex;flex-direction:column;align-items:flex-start}\
.ferrolab-estimator .columns{display:flex;flex-direction:row}</style>";

fn plain_text(estimator: &dyn Estimator, indent: usize) -> String {
    let children = estimator.children();
    if children.is_empty() {
        let params: Vec<String> = estimator
            .params()
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        return format!("{}({})", estimator.name(), params.join(", "));
    }
    let pad = "    ".repeat(indent + 1);
    let inner: Vec<String> = children
        .iter()
        .map(|(name, child)| format!("{pad}({name:?}, {}),", plain_text(*child, indent + 1)))
        .collect();
    format!(
        "{}([\n{}\n{}])",
        estimator.name(),
        inner.join("\n"),
        "    ".repeat(indent)
    )
}

fn params_table(params: &[(String, Param)]) -> String {
    let rows: String = params
        .iter()
        .map(|(name, value)| {
            format!(
                "<tr><td>{}</td><td>{}</td></tr>",
                escape(name),
                escape(&value.to_string())
            )
        })
        .collect();
    format!("<table>{rows}</table>")
}

fn estimator_box(estimator: &dyn Estimator, label: Option<&str>) -> String {
    let title = match label {
        Some(label) => format!("{}: {}", escape(label), escape(&estimator.name())),
        None => escape(&estimator.name()),
    };
    let children = estimator.children();
    let body = if children.is_empty() {
        params_table(&estimator.params())
    } else {
        let inner: String = children
            .iter()
            .map(|(name, child)| estimator_box(*child, Some(name)))
            .collect();
        nested(estimator, inner)
    };
    format!("<details open><summary>{title}</summary>{body}</details>")
}

/// The boxes of a pipeline's steps (one above the other) or of a column transformer's
/// groups (side by side).
fn nested(estimator: &dyn Estimator, inner: String) -> String {
    let layout = if estimator.name() == "ColumnTransformer" {
        "columns"
    } else {
        "steps"
    };
    format!("<div class=\"{layout}\">{inner}</div>")
}

fn fitted_box(fitted: &dyn Fitted) -> String {
    let estimator = fitted.estimator();
    let children = fitted.children();
    let body = if children.is_empty() {
        let learned: String = fitted
            .summary()
            .iter()
            .map(|(name, value)| {
                format!(
                    "<tr><td>{}</td><td>{}</td></tr>",
                    escape(name),
                    escape(value)
                )
            })
            .collect();
        let learned = if learned.is_empty() {
            String::new()
        } else {
            format!("<b>learned</b><table>{learned}</table>")
        };
        format!("{}{learned}", params_table(&estimator.params()))
    } else {
        let inner: String = children
            .iter()
            .map(|(name, child)| {
                fitted_box(*child).replacen("<summary>", &format!("<summary>{}: ", escape(name)), 1)
            })
            .collect();
        nested(estimator, inner)
    };
    format!(
        "<details open class=\"fitted\"><summary>{} (fitted)</summary>{body}</details>",
        escape(&estimator.name())
    )
}
