//! The contract: two object-safe traits, so that pipelines and searches can hold any step
//! ([`Estimator`]: hyperparameters, by name; [`Fitted`]: what fitting learned), and the
//! macros that give each estimator its typed methods.

use ndarray::{Array1, Array2, ArrayView1};

use super::{check_len, render_estimator, render_fitted, Input, LearnError, Param, Result};
use crate::display::{MimeBundle, Render};

/// What an estimator does, deciding what a pipeline may put after it and what `score` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Transformer,
    Classifier,
    Regressor,
    Clusterer,
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
