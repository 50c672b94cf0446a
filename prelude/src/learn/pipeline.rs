//! `Pipeline`: named steps fitted in order on the training data only, so that nothing a
//! scaler or an encoder learns can leak from the data it is later scored on. Also the two
//! ways to write a step of one's own: [`FunctionTransformer`] (a closure) and [`Transform`]
//! (a type with state).

use std::sync::Arc;

use ndarray::{Array1, Array2, ArrayView1};

use super::{
    check_len, fitted_methods, render_estimator, Estimator, Fitted, Input, Kind, LearnError, Param,
    Result,
};
use crate::display::{MimeBundle, Render};

/// Collects steps; [`PipelineBuilder::build`] checks them.
#[derive(Clone, Default)]
pub struct PipelineBuilder {
    steps: Vec<(String, Box<dyn Estimator>)>,
}

impl PipelineBuilder {
    pub fn step(mut self, name: &str, estimator: impl Estimator + 'static) -> Self {
        self.steps.push((name.to_owned(), Box::new(estimator)));
        self
    }

    /// Checks the steps: names unique, non-empty and without `__` (it separates step and
    /// parameter in searches), and every step but the last a transformer.
    pub fn build(self) -> Result<Pipeline> {
        if self.steps.is_empty() {
            return Err(LearnError::data("a Pipeline needs at least one step"));
        }
        for (i, (name, estimator)) in self.steps.iter().enumerate() {
            let step_error = |message: String| Err(LearnError::data(message).in_step(name));
            if name.is_empty() || name.contains("__") {
                return step_error("a step name must be non-empty and without `__`".into());
            }
            if self.steps[..i].iter().any(|(other, _)| other == name) {
                return step_error("the name is used by an earlier step".into());
            }
            if i + 1 < self.steps.len() && estimator.kind() != Kind::Transformer {
                return step_error(format!(
                    "{} is a {:?}, but only the last step may be a model; every earlier step \
                     must be a transformer",
                    estimator.name(),
                    estimator.kind()
                ));
            }
        }
        Ok(Pipeline { steps: self.steps })
    }
}

/// Transformers then, optionally, a model, fitted and applied in order.
#[derive(Clone)]
pub struct Pipeline {
    steps: Vec<(String, Box<dyn Estimator>)>,
}

impl Pipeline {
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// Fits every step in turn on `x` and `y`, each on the previous one's output.
    pub fn fit<'a>(&self, x: impl Into<Input<'a>>, y: &Array1<f64>) -> Result<FittedPipeline> {
        self.fit_view(x.into(), Some(y.view()))
    }

    /// Fits a pipeline of transformers (or ending in a clusterer) that needs no targets.
    pub fn fit_unsupervised<'a>(&self, x: impl Into<Input<'a>>) -> Result<FittedPipeline> {
        self.fit_view(x.into(), None)
    }

    /// Sets `step__param`, as searches do: `pipe.set("model__c", 0.1)?`.
    pub fn set(mut self, name: &str, value: impl Into<Param>) -> Result<Self> {
        self.set_param(name, &value.into())?;
        Ok(self)
    }

    fn fit_view(&self, x: Input, y: Option<ArrayView1<f64>>) -> Result<FittedPipeline> {
        if let Some(y) = y {
            check_len(y.len(), x.nrows())?;
        }
        let mut fitted = Vec::with_capacity(self.steps.len());
        let mut current: Option<Array2<f64>> = None;
        for (i, (name, step)) in self.steps.iter().enumerate() {
            let input = current_input(&x, &current);
            let model = step.fit_box(input, y).map_err(|err| err.in_step(name))?;
            if i + 1 < self.steps.len() {
                current = Some(model.transform(input).map_err(|err| err.in_step(name))?);
            }
            fitted.push((name.clone(), model));
        }
        Ok(FittedPipeline {
            pipeline: self.clone(),
            steps: fitted,
        })
    }
}

impl Estimator for Pipeline {
    fn name(&self) -> String {
        "Pipeline".into()
    }

    fn kind(&self) -> Kind {
        self.steps
            .last()
            .map_or(Kind::Transformer, |(_, step)| step.kind())
    }

    fn params(&self) -> Vec<(String, Param)> {
        self.steps
            .iter()
            .flat_map(|(step, estimator)| {
                estimator
                    .params()
                    .into_iter()
                    .map(move |(name, value)| (format!("{step}__{name}"), value))
            })
            .collect()
    }

    fn set_param(&mut self, name: &str, value: &Param) -> Result<()> {
        let names: Vec<String> = self.steps.iter().map(|(step, _)| step.clone()).collect();
        let unknown = || {
            LearnError::param(
                "Pipeline",
                name,
                format!(
                    "does not name a step's parameter: write step__param, steps are {}",
                    names.join(", ")
                ),
            )
        };
        let (step, param) = name.split_once("__").ok_or_else(unknown)?;
        let (_, estimator) = self
            .steps
            .iter_mut()
            .find(|(candidate, _)| candidate == step)
            .ok_or_else(unknown)?;
        estimator
            .set_param(param, value)
            .map_err(|err| err.in_step(step))
    }

    fn clone_box(&self) -> Box<dyn Estimator> {
        Box::new(self.clone())
    }

    fn fit_box(&self, x: Input, y: Option<ArrayView1<f64>>) -> Result<Box<dyn Fitted>> {
        Ok(Box::new(self.fit_view(x, y)?))
    }

    fn children(&self) -> Vec<(String, &dyn Estimator)> {
        self.steps
            .iter()
            .map(|(name, step)| (name.clone(), step.as_ref()))
            .collect()
    }
}

impl Render for Pipeline {
    fn render(&self) -> MimeBundle {
        render_estimator(self)
    }
}

/// A fitted pipeline: `predict` runs every transformer, then the model.
pub struct FittedPipeline {
    pipeline: Pipeline,
    steps: Vec<(String, Box<dyn Fitted>)>,
}

impl FittedPipeline {
    /// A fitted step by name, to read what it learned.
    pub fn step(&self, name: &str) -> Option<&dyn Fitted> {
        self.steps
            .iter()
            .find(|(candidate, _)| candidate == name)
            .map(|(_, step)| step.as_ref())
    }

    /// Runs the transformers before the last step; the last step's input.
    fn prepare(&self, x: Input) -> Result<Option<Array2<f64>>> {
        let mut current: Option<Array2<f64>> = None;
        for (name, step) in &self.steps[..self.steps.len() - 1] {
            let input = current_input(&x, &current);
            current = Some(step.transform(input).map_err(|err| err.in_step(name))?);
        }
        Ok(current)
    }

    fn last(&self) -> (&str, &dyn Fitted) {
        let (name, step) = self.steps.last().expect("a pipeline has steps");
        (name, step.as_ref())
    }

    /// Input feature names through every step: the names the last step sees.
    pub fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        Fitted::feature_names_out(self, input)
    }
}

/// The previous step's output, or `x` before the first step.
fn current_input<'a>(x: &'a Input<'_>, previous: &'a Option<Array2<f64>>) -> Input<'a> {
    match previous {
        Some(array) => Input::Array(array.view()),
        None => x.reborrow(),
    }
}

/// Applies `apply` to the last step of a fitted pipeline, after the transformers.
fn through_last<T>(
    pipeline: &FittedPipeline,
    x: Input,
    apply: impl FnOnce(&dyn Fitted, Input) -> Result<T>,
) -> Result<T> {
    let prepared = pipeline.prepare(x)?;
    let input = current_input(&x, &prepared);
    let (name, last) = pipeline.last();
    apply(last, input).map_err(|err| err.in_step(name))
}

impl Fitted for FittedPipeline {
    fn estimator(&self) -> &dyn Estimator {
        &self.pipeline
    }

    fn transform(&self, x: Input) -> Result<Array2<f64>> {
        through_last(self, x, |last, input| last.transform(input))
    }

    fn predict(&self, x: Input) -> Result<Array1<f64>> {
        through_last(self, x, |last, input| last.predict(input))
    }

    fn predict_proba(&self, x: Input) -> Result<Array2<f64>> {
        through_last(self, x, |last, input| last.predict_proba(input))
    }

    fn classes(&self) -> Option<&[f64]> {
        self.last().1.classes()
    }

    fn feature_names_out(&self, input: &[String]) -> Vec<String> {
        self.steps.iter().fold(input.to_vec(), |names, (_, step)| {
            step.feature_names_out(&names)
        })
    }

    fn children(&self) -> Vec<(String, &dyn Fitted)> {
        self.steps
            .iter()
            .map(|(name, step)| (name.clone(), step.as_ref()))
            .collect()
    }
}

fitted_methods!(FittedPipeline: predict, predict_proba, transform, score);

/// A stateless step from a closure, as scikit-learn's `FunctionTransformer`:
/// `FunctionTransformer::new("log1p", |x| x.mapv(f64::ln_1p))`.
#[derive(Clone)]
pub struct FunctionTransformer {
    name: String,
    function: Arc<dyn Fn(&Array2<f64>) -> Array2<f64> + Send + Sync>,
}

impl FunctionTransformer {
    pub fn new(
        name: &str,
        function: impl Fn(&Array2<f64>) -> Array2<f64> + Send + Sync + 'static,
    ) -> Self {
        FunctionTransformer {
            name: name.to_owned(),
            function: Arc::new(function),
        }
    }
}

impl Estimator for FunctionTransformer {
    fn name(&self) -> String {
        "FunctionTransformer".into()
    }

    fn kind(&self) -> Kind {
        Kind::Transformer
    }

    fn params(&self) -> Vec<(String, Param)> {
        vec![("func".into(), Param::Str(self.name.clone()))]
    }

    fn set_param(&mut self, name: &str, _value: &Param) -> Result<()> {
        Err(LearnError::param(
            "FunctionTransformer",
            name,
            "cannot be set: build a new FunctionTransformer",
        ))
    }

    fn clone_box(&self) -> Box<dyn Estimator> {
        Box::new(self.clone())
    }

    fn fit_box(&self, _x: Input, _y: Option<ArrayView1<f64>>) -> Result<Box<dyn Fitted>> {
        Ok(Box::new(self.clone()))
    }
}

impl Fitted for FunctionTransformer {
    fn estimator(&self) -> &dyn Estimator {
        self
    }

    fn transform(&self, x: Input) -> Result<Array2<f64>> {
        Ok((self.function)(&x.matrix()?))
    }
}

impl Render for FunctionTransformer {
    fn render(&self) -> MimeBundle {
        render_estimator(self)
    }
}

/// A transformer of one's own, with state learned in `fit`; every type implementing it is an
/// [`Estimator`] and can be a pipeline step.
///
/// ```ignore
/// #[derive(Clone)]
/// struct ClipOutliers { k: f64, low: Array1<f64>, high: Array1<f64> }
/// impl Transform for ClipOutliers {
///     fn fit(&mut self, x: &Array2<f64>, _y: Option<ArrayView1<f64>>) -> Result<(), LearnError> { ...; Ok(()) }
///     fn transform(&self, x: &Array2<f64>) -> Result<Array2<f64>, LearnError> { ... }
/// }
/// ```
pub trait Transform: Clone + Send + Sync + 'static {
    /// Learns from the training samples (and targets, inside a supervised pipeline);
    /// nothing by default.
    fn fit(&mut self, _x: &Array2<f64>, _y: Option<ArrayView1<f64>>) -> Result<()> {
        Ok(())
    }

    fn transform(&self, x: &Array2<f64>) -> Result<Array2<f64>>;
}

impl<T: Transform> Estimator for T {
    fn name(&self) -> String {
        let path = std::any::type_name::<T>();
        path.rsplit("::").next().unwrap_or(path).to_owned()
    }

    fn kind(&self) -> Kind {
        Kind::Transformer
    }

    fn params(&self) -> Vec<(String, Param)> {
        Vec::new()
    }

    fn set_param(&mut self, name: &str, _value: &Param) -> Result<()> {
        Err(LearnError::param(
            &Estimator::name(self),
            name,
            "does not exist: a Transform has no settable parameters",
        ))
    }

    fn clone_box(&self) -> Box<dyn Estimator> {
        Box::new(self.clone())
    }

    fn fit_box(&self, x: Input, y: Option<ArrayView1<f64>>) -> Result<Box<dyn Fitted>> {
        let mut fitted = self.clone();
        Transform::fit(&mut fitted, &x.matrix()?, y)?;
        Ok(Box::new(FittedTransform(fitted)))
    }
}

struct FittedTransform<T>(T);

impl<T: Transform> Fitted for FittedTransform<T> {
    fn estimator(&self) -> &dyn Estimator {
        &self.0
    }

    fn transform(&self, x: Input) -> Result<Array2<f64>> {
        self.0.transform(&x.matrix()?)
    }
}
