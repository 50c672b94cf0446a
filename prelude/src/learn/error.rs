//! Why an estimator could not be built, fitted or applied.

use std::fmt;

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
