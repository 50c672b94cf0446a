//! Hyperparameters: their values as searches pass them, how builder methods accept them,
//! and the checks with scikit-learn's wording.

use std::fmt;

use super::{LearnError, Result};

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

/// The seed for one fit: the estimator's `random_state`, or a draw from the global
/// [`crate::random`] generator so that `random::seed(..)` makes a whole notebook repeatable.
pub(crate) fn seed_for(random_state: Option<u64>) -> u64 {
    random_state.unwrap_or_else(|| rand::Rng::random(&mut *crate::random::rng()))
}
