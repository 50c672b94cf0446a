//! The diagram: scikit-learn's estimator HTML, boxes of name and parameters, nested for
//! pipelines and column transformers. Parameters that differ from the defaults are bold.

use super::{Estimator, Fitted, Param};
use crate::display::{escape, MimeBundle};

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
