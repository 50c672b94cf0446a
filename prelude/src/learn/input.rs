//! What estimators are fitted on and applied to: a matrix or a DataFrame.

use ndarray::{Array2, ArrayView2};
use polars::prelude::{DataFrame, DataType};

use super::{LearnError, Result};

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
