"""Every estimator the prelude exports through the same checks, as scikit-learn's
`check_estimator` runs every estimator through its own: hyperparameters read and set back by
name, an unknown parameter refused by name, fit then predict or transform with one output row
per sample, probabilities that sum to one, X of the wrong width and y of the wrong length
refused with a message naming the estimator, and the diagram in HTML."""

import pathlib
import re

import pytest
from conftest import printed_values

LEARN = pathlib.Path(__file__).parent.parent / "prelude" / "src" / "learn"

# Each exported estimator, built with its defaults (composites with small steps), and whether
# it reads a DataFrame.
ESTIMATORS = {
    "LinearRegression": "LinearRegression::new()",
    "Ridge": "Ridge::new()",
    "Lasso": "Lasso::new()",
    "LogisticRegression": "LogisticRegression::new()",
    "GaussianNb": "GaussianNb::new()",
    "Svc": "Svc::new()",
    "KNeighborsClassifier": "KNeighborsClassifier::new()",
    "KNeighborsRegressor": "KNeighborsRegressor::new()",
    "DecisionTreeClassifier": "DecisionTreeClassifier::new()",
    "DecisionTreeRegressor": "DecisionTreeRegressor::new()",
    "RandomForestClassifier": "RandomForestClassifier::new().n_estimators(10)",
    "RandomForestRegressor": "RandomForestRegressor::new().n_estimators(10)",
    "HistGradientBoostingClassifier": "HistGradientBoostingClassifier::new().max_iter(10)",
    "HistGradientBoostingRegressor": "HistGradientBoostingRegressor::new().max_iter(10)",
    "KMeans": "KMeans::new().n_clusters(3)",
    "Pca": "Pca::new()",
    "StandardScaler": "StandardScaler::new()",
    "MinMaxScaler": "MinMaxScaler::new()",
    "RobustScaler": "RobustScaler::new()",
    "SimpleImputer": "SimpleImputer::new()",
    "PolynomialFeatures": "PolynomialFeatures::new()",
    "OneHotEncoder": "OneHotEncoder::new()",
    "OrdinalEncoder": "OrdinalEncoder::new()",
    "Pipeline": 'Pipeline::new().step("scale", StandardScaler::new()).step("model", LogisticRegression::new()).build()?',
    "ColumnTransformer": 'ColumnTransformer::new().add("scale", StandardScaler::new(), ["a", "b"]).build()?',
    "FunctionTransformer": 'FunctionTransformer::new("double", |x| x * 2.0)',
}
READS_FRAMES = {"ColumnTransformer"}
# A closure, not a value: its one parameter cannot be set by name (as in scikit-learn, where
# `func` is a callable), and it applies to any width, as scikit-learn's does by default.
FIXED_PARAMS = {"FunctionTransformer"}
ANY_WIDTH = {"FunctionTransformer"}

CHECKS = r"""
let x = Array2::from_shape_fn((30, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f64 + 0.5 * j as f64);
let y_class = Array1::from_shape_fn(30, |i| (i % 3 % 2) as f64);
let y_reg = &x.column(0) * 2.0 + &x.column(1);
let frame = df!("a" => x.column(0).to_vec(), "b" => x.column(1).to_vec(), "c" => x.column(2).to_vec())?;
let narrow = x.slice(s![.., ..2]).to_owned();
for (estimator, reads_frame, fixed_params, any_width) in estimators {
    let name = estimator.name();
    let mut problems: Vec<String> = Vec::new();
    let named = |message: &str| {
        message.contains(&name) || estimator.children().iter().any(|(_, child)| message.contains(&child.name()))
    };

    let mut copy = estimator.clone();
    for (param, value) in estimator.params() {
        match (copy.set_param(&param, &value), fixed_params) {
            (Err(error), false) => problems.push(format!("set_param({param}, its own value): {error}")),
            (Ok(()), true) => problems.push(format!("set_param({param}) took a value for a closure")),
            (Err(error), true) if !error.to_string().contains(&param) => problems.push(format!("refusing {param} does not name it: {error}")),
            _ => {}
        }
    }
    if copy.params() != estimator.params() {
        problems.push("setting each parameter to its own value changed the parameters".into());
    }
    match copy.set_param("no_such_param", &learn::Param::Int(1)) {
        Ok(()) => problems.push("an unknown parameter was accepted".into()),
        Err(error) if !error.to_string().contains("no_such_param") => problems.push(format!("the unknown parameter is not named: {error}")),
        Err(_) => {}
    }

    let input: learn::Input = if reads_frame { (&frame).into() } else { (&x).into() };
    let y = match estimator.kind() {
        learn::Kind::Classifier => Some(y_class.view()),
        learn::Kind::Regressor => Some(y_reg.view()),
        _ => None,
    };
    let transforms = estimator.kind() == learn::Kind::Transformer;
    match estimator.fit_box(input.reborrow(), y.clone()) {
        Err(error) => problems.push(format!("fit: {error}")),
        Ok(fitted) => {
            let rows = if transforms {
                fitted.transform(input.reborrow()).map(|t| t.nrows())
            } else {
                fitted.predict(input.reborrow()).map(|p| p.len())
            };
            match rows {
                Ok(30) => {}
                Ok(rows) => problems.push(format!("{rows} output rows for 30 samples")),
                Err(error) => problems.push(format!("applying the fitted estimator: {error}")),
            }
            if estimator.kind() == learn::Kind::Classifier {
                if let Ok(proba) = fitted.predict_proba(input.reborrow()) {
                    let classes = fitted.classes().map_or(0, |c| c.len());
                    if proba.dim() != (30, classes) || proba.rows().into_iter().any(|r| (r.sum() - 1.0).abs() > 1e-9) {
                        problems.push(format!("probabilities of shape {:?} for {classes} classes, or rows not summing to 1", proba.dim()));
                    }
                }
            }
            if !reads_frame && !any_width {
                let applied = if transforms {
                    fitted.transform((&narrow).into()).map(|_| ())
                } else {
                    fitted.predict((&narrow).into()).map(|_| ())
                };
                match applied {
                    Ok(()) => problems.push("X with 2 columns was taken after fitting on 3".into()),
                    Err(error) if !named(&error.to_string()) => problems.push(format!("the width error names no estimator: {error}")),
                    Err(_) => {}
                }
            }
            if !fitted.render().0.get("text/html").is_some_and(|html| html.contains(&name)) {
                problems.push("the fitted estimator's HTML does not name it".into());
            }
        }
    }
    if let Some(y) = y {
        match estimator.fit_box(input.reborrow(), Some(y.slice(s![..20]))) {
            Ok(_) => problems.push("y of 20 values was taken for 30 samples".into()),
            Err(error) if !error.to_string().contains("20") => problems.push(format!("the length error does not say the length: {error}")),
            Err(_) => {}
        }
    }
    if !estimator.render().0.get("text/html").is_some_and(|html| html.contains(&name)) {
        problems.push("the estimator's HTML does not name it".into());
    }
    println!("{name} {problems:?}");
}
"""


def exported_estimators():
    """The estimator types the learn module declares: through the `estimator!` macro and the
    macros that declare a pair (a classifier and a regressor), or by implementing `Estimator`."""
    names = set()
    for source in LEARN.rglob("*.rs"):
        text = source.read_text()
        names.update(re.findall(r"pub struct (\w+)\((?:Transformer|Classifier|Regressor|Clusterer),", text))
        names.update(re.findall(r"\w+!\(\s*(?:///[^\n]*\n\s*)*(\w+), (?:Classifier|Regressor),", text))
        names.update(re.findall(r"impl Estimator for (\w+)", text))
    return names


def test_every_exported_estimator_is_checked():
    assert exported_estimators() == set(ESTIMATORS)


@pytest.fixture(scope="module")
def problems(kernel):
    entries = ",\n".join(
        f"(Box::new({code}) as Box<dyn learn::Estimator>, {str(name in READS_FRAMES).lower()}, "
        f"{str(name in FIXED_PARAMS).lower()}, {str(name in ANY_WIDTH).lower()})"
        for name, code in ESTIMATORS.items()
    )
    run = kernel.run("{\nlet estimators = vec![\n" + entries + "\n];\n" + CHECKS + "}", timeout=600)
    assert run.status == "ok", run.reply["content"]
    return printed_values(run)


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_estimator_passes_the_common_checks(problems, name):
    assert problems[name] == []
