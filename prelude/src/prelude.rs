//! The names every cell sees. Libraries are re-exported under the names their docs use:
//! `ndarray::Zip`, `polars::prelude::*`, `candle_nn::Linear`, `plotters::prelude::*` work as
//! written there.

pub use ndarray::{
    array, s, Array, Array1, Array2, Array3, ArrayD, ArrayView1, ArrayView2, Axis, Ix1, Ix2,
    ShapeBuilder,
};
pub use polars::df;
pub use polars::prelude::*;

pub use candle_core::{DType, Device, Module, ModuleT, Tensor};
// The type of `nn::var_builder(..)` as rust-analyzer spells it, so that a cell can keep one in
// a variable ("cannot find trait `SimpleBackend`" otherwise).
pub use candle_nn::var_builder::{SimpleBackend, VarBuilderArgs};
pub use image::{self, DynamicImage, GrayImage, RgbImage};

pub use crate::array::{ArrayIndexing, MaskedFill, ToFrame, ToImage};
pub use crate::data::{DataLoader, Dataset, FileStream, TensorDataset};
pub use crate::datasets::{MakeClassification, MakeRegression};
pub use crate::display::{
    clear_output, display, DisplayHandle, Html, Latex, Markdown, MimeBundle, Png, Render, Svg,
};
pub use crate::learn::{
    cross_val_score, permutation_importance, train_test_split, ColumnTransformer,
    DecisionTreeClassifier, DecisionTreeRegressor, Distribution, Estimator, Fitted,
    FunctionTransformer, GaussianNb, GridSearchCV, HistGradientBoostingClassifier,
    HistGradientBoostingRegressor, KFold, KMeans, KNeighborsClassifier, KNeighborsRegressor, Lasso,
    LearnError, LinearRegression, LogisticRegression, MinMaxScaler, OneHotEncoder, OrdinalEncoder,
    Param, Pca, Pipeline, PolynomialFeatures, RandomForestClassifier, RandomForestRegressor,
    RandomizedSearchCV, Ridge, RobustScaler, SimpleImputer, Split, StandardScaler, StratifiedKFold,
    Svc, Transform,
};
pub use crate::metrics::{self, Average};
pub use crate::nn::optim::Optimizer;
pub use crate::nn::{self, device};
pub use crate::parameters::parameter;
// The `tensor![..]` literal (exported at the crate root, as macros are).
pub use crate::plot::{Figure, Plot};
pub use crate::progress::progress;
pub use crate::runtime::{check_interrupt, InterruptibleExt};
pub use crate::tensor;
pub use crate::tensor::{IntoTensor, ToArray, ToTensor};
pub use crate::train::{History, Trainer};
// Configs of tracked runs: `track::run("moons").config(json!({"lr": 0.01}))`.
pub use crate::{datasets, hub, learn, linalg, random, track};
pub use serde_json::json;

pub use candle_core::{self, self as candle};
pub use {candle_nn, candle_transformers, ndarray, plotters, polars, rand, tokenizers};
