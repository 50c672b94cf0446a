//! `ColumnTransformer`: different transformers for different DataFrame columns (scale the
//! numbers, one-hot encode the categories), outputs side by side.

use ndarray::{concatenate, Array2, ArrayView1, Axis};

use super::{
    fitted_methods, render_estimator, require_choice, Estimator, Fitted, Input, Kind, LearnError,
    Param, Result, Samples,
};
use crate::display::{MimeBundle, Render};

#[derive(Clone)]
struct Group {
    name: String,
    transformer: Box<dyn Estimator>,
    columns: Vec<String>,
}

/// Collects column groups; [`ColumnTransformerBuilder::build`] checks them.
#[derive(Clone)]
pub struct ColumnTransformerBuilder {
    groups: Vec<Group>,
    remainder: String,
}

impl ColumnTransformerBuilder {
    /// Applies `transformer` to `columns` (DataFrame column names; `x0`, `x1`, ... for a
    /// matrix); its output columns are named `name__feature`.
    pub fn add<S: AsRef<str>>(
        mut self,
        name: &str,
        transformer: impl Estimator + 'static,
        columns: impl IntoIterator<Item = S>,
    ) -> Self {
        self.groups.push(Group {
            name: name.to_owned(),
            transformer: Box::new(transformer),
            columns: columns.into_iter().map(|c| c.as_ref().to_owned()).collect(),
        });
        self
    }

    /// What happens to the columns no group names: `"drop"` (the default) or
    /// `"passthrough"`.
    pub fn remainder(mut self, remainder: &str) -> Self {
        self.remainder = remainder.to_owned();
        self
    }

    pub fn build(self) -> Result<ColumnTransformer> {
        require_choice(
            "ColumnTransformer",
            "remainder",
            &self.remainder,
            &["drop", "passthrough"],
        )?;
        if self.groups.is_empty() {
            return Err(LearnError::data(
                "a ColumnTransformer needs at least one group: .add(name, transformer, columns)",
            ));
        }
        for (i, group) in self.groups.iter().enumerate() {
            let fail = |message: &str| Err(LearnError::data(message).in_step(&group.name));
            if group.name.is_empty() || group.name.contains("__") {
                return fail("a group name must be non-empty and without `__`");
            }
            if self.groups[..i]
                .iter()
                .any(|other| other.name == group.name)
            {
                return fail("the name is used by an earlier group");
            }
            if group.columns.is_empty() {
                return fail("names no columns");
            }
            if group.transformer.kind() != Kind::Transformer {
                return fail(&format!(
                    "{} is not a transformer",
                    group.transformer.name()
                ));
            }
        }
        Ok(ColumnTransformer {
            groups: self.groups,
            remainder: self.remainder,
        })
    }
}

/// Transformers applied to groups of columns, as scikit-learn's `ColumnTransformer`.
#[derive(Clone)]
pub struct ColumnTransformer {
    groups: Vec<Group>,
    remainder: String,
}

impl ColumnTransformer {
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> ColumnTransformerBuilder {
        ColumnTransformerBuilder {
            groups: Vec::new(),
            remainder: "drop".into(),
        }
    }

    pub fn fit<'a>(&self, x: impl Into<Input<'a>>) -> Result<FittedColumnTransformer> {
        self.fit_input(x.into())
    }

    pub fn fit_transform<'a>(&self, x: impl Into<Input<'a>>) -> Result<Array2<f64>> {
        let x = x.into();
        self.fit_input(x)?.transform(x)
    }

    fn fit_input(&self, x: Input) -> Result<FittedColumnTransformer> {
        let names = x.feature_names();
        let mut fitted = Vec::with_capacity(self.groups.len());
        for group in &self.groups {
            let selected =
                select(x, &names, &group.columns).map_err(|err| err.in_step(&group.name))?;
            let model = group
                .transformer
                .fit_box(selected.input(), None)
                .map_err(|err| err.in_step(&group.name))?;
            fitted.push(model);
        }
        let remainder = if self.remainder == "passthrough" {
            names
                .iter()
                .filter(|name| !self.groups.iter().any(|g| g.columns.contains(name)))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        Ok(FittedColumnTransformer {
            transformer: self.clone(),
            fitted,
            input_names: names,
            remainder,
        })
    }
}

/// The named columns of `x`, with an error naming a missing one and the columns there are.
fn select(x: Input, names: &[String], columns: &[String]) -> Result<Samples> {
    let mut indices = Vec::with_capacity(columns.len());
    for column in columns {
        let index = names
            .iter()
            .position(|name| name == column)
            .ok_or_else(|| {
                LearnError::data(format!(
                    "no column `{column}`; the columns are {}",
                    names.join(", ")
                ))
            })?;
        indices.push(index);
    }
    Ok(match x {
        Input::Array(array) => Samples::Array(array.select(Axis(1), &indices)),
        Input::Frame(frame) => Samples::Frame(
            frame
                .select(columns.iter().map(String::as_str))
                .map_err(|err| LearnError::data(err.to_string()))?,
        ),
    })
}

impl Estimator for ColumnTransformer {
    fn name(&self) -> String {
        "ColumnTransformer".into()
    }

    fn kind(&self) -> Kind {
        Kind::Transformer
    }

    fn params(&self) -> Vec<(String, Param)> {
        let mut params = vec![("remainder".to_owned(), Param::Str(self.remainder.clone()))];
        for group in &self.groups {
            params.extend(
                group
                    .transformer
                    .params()
                    .into_iter()
                    .map(|(name, value)| (format!("{}__{name}", group.name), value)),
            );
        }
        params
    }

    fn set_param(&mut self, name: &str, value: &Param) -> Result<()> {
        if name == "remainder" {
            let remainder: String = super::FromParam::from_param(value).map_err(|expected| {
                LearnError::param("ColumnTransformer", name, format!("expects {expected}"))
            })?;
            require_choice(
                "ColumnTransformer",
                "remainder",
                &remainder,
                &["drop", "passthrough"],
            )?;
            self.remainder = remainder;
            return Ok(());
        }
        let groups: Vec<String> = self.groups.iter().map(|g| g.name.clone()).collect();
        let unknown = || {
            LearnError::param(
                "ColumnTransformer",
                name,
                format!(
                    "does not exist: write group__param, groups are {}",
                    groups.join(", ")
                ),
            )
        };
        let (group, param) = name.split_once("__").ok_or_else(unknown)?;
        let target = self
            .groups
            .iter_mut()
            .find(|g| g.name == group)
            .ok_or_else(unknown)?;
        target
            .transformer
            .set_param(param, value)
            .map_err(|err| err.in_step(group))
    }

    fn clone_box(&self) -> Box<dyn Estimator> {
        Box::new(self.clone())
    }

    fn fit_box(&self, x: Input, _y: Option<ArrayView1<f64>>) -> Result<Box<dyn Fitted>> {
        Ok(Box::new(self.fit_input(x)?))
    }

    fn children(&self) -> Vec<(String, &dyn Estimator)> {
        self.groups
            .iter()
            .map(|g| {
                (
                    format!("{} [{}]", g.name, g.columns.join(", ")),
                    g.transformer.as_ref(),
                )
            })
            .collect()
    }
}

impl Render for ColumnTransformer {
    fn render(&self) -> MimeBundle {
        render_estimator(self)
    }
}

pub struct FittedColumnTransformer {
    transformer: ColumnTransformer,
    fitted: Vec<Box<dyn Fitted>>,
    input_names: Vec<String>,
    remainder: Vec<String>,
}

impl FittedColumnTransformer {
    pub fn feature_names_out(&self) -> Vec<String> {
        Fitted::feature_names_out(self, &self.input_names)
    }
}

impl Fitted for FittedColumnTransformer {
    fn estimator(&self) -> &dyn Estimator {
        &self.transformer
    }

    fn transform(&self, x: Input) -> Result<Array2<f64>> {
        let names = x.feature_names();
        let mut parts = Vec::with_capacity(self.fitted.len() + 1);
        for (group, model) in self.transformer.groups.iter().zip(&self.fitted) {
            let selected =
                select(x, &names, &group.columns).map_err(|err| err.in_step(&group.name))?;
            parts.push(
                model
                    .transform(selected.input())
                    .map_err(|err| err.in_step(&group.name))?,
            );
        }
        if !self.remainder.is_empty() {
            parts.push(select(x, &names, &self.remainder)?.input().matrix()?);
        }
        let views: Vec<_> = parts.iter().map(|part| part.view()).collect();
        concatenate(Axis(1), &views).map_err(|err| LearnError::data(err.to_string()))
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        let mut names: Vec<String> = self
            .transformer
            .groups
            .iter()
            .zip(&self.fitted)
            .flat_map(|(group, model)| {
                model
                    .feature_names_out(&group.columns)
                    .into_iter()
                    .map(move |name| format!("{}__{name}", group.name))
            })
            .collect();
        names.extend(
            self.remainder
                .iter()
                .map(|name| format!("remainder__{name}")),
        );
        names
    }

    fn children(&self) -> Vec<(String, &dyn Fitted)> {
        self.transformer
            .groups
            .iter()
            .zip(&self.fitted)
            .map(|(g, model)| {
                (
                    format!("{} [{}]", g.name, g.columns.join(", ")),
                    model.as_ref(),
                )
            })
            .collect()
    }
}

fitted_methods!(FittedColumnTransformer: transform);
