//! A run as the notebook shows it: a card with its name, status, config, latest metrics and a
//! small curve per metric, redrawn in place while it logs.

use std::fmt::Write;

use base64::Engine;

use super::compare::{flat_config, value_text};
use super::outbox;
use super::{Run, State};
use crate::display::{escape, MimeBundle, Render};
use crate::plot::{Figure, Plot};

/// Curves drawn on the card; the table lists every metric.
const CURVES: usize = 6;
/// Points per curve: more than a 280 px panel can show apart.
const POINTS: usize = 400;

pub(super) struct Card<'a>(pub &'a State);

impl Render for Run {
    fn render(&self) -> MimeBundle {
        Card(&self.lock()).render()
    }
}

impl Render for Card<'_> {
    fn render(&self) -> MimeBundle {
        MimeBundle::plain(self.text()).with("text/html", self.html())
    }
}

impl Card<'_> {
    fn headline(&self) -> String {
        let record = &self.0.record;
        let mut line = format!(
            "run {} ({}) in {}: {}",
            record.name,
            record.id,
            record.project,
            record.effective_status().as_str(),
        );
        if let Some(last) = record.summary.values().map(|s| s.step).max() {
            line += &format!(" at step {last}");
        }
        if let Some(end) = record.end_time {
            line += &format!(", {}", duration(end.saturating_sub(record.start_time)));
        }
        line
    }

    /// Where the run stands with its MLflow server, if it has one (in HTML, its page there as a
    /// link).
    fn mlflow(&self, html: bool) -> Option<String> {
        let standing = outbox::standing(&self.0.dir)?;
        let line = match (standing.failure, standing.link) {
            (Some(failure), _) => {
                format!("MLflow: not sent yet, kept here and tried again ({failure})")
            }
            (None, Some(page)) if html => {
                let page = escape(&page);
                return Some(format!(
                    "MLflow: <a href=\"{page}\" target=\"_blank\">{page}</a>"
                ));
            }
            (None, Some(page)) => format!("MLflow: {page}"),
            (None, None) => format!("MLflow: sending to {}", standing.uri),
        };
        Some(if html { escape(&line) } else { line })
    }

    fn text(&self) -> String {
        let mut text = self.headline();
        if let Some(line) = self.mlflow(false) {
            text = text + "\n  " + &line;
        }
        for (name, summary) in &self.0.record.summary {
            write!(
                text,
                "\n  {name} = {} (min {}, max {})",
                number(summary.last),
                number(summary.min),
                number(summary.max)
            )
            .unwrap();
        }
        text
    }

    fn html(&self) -> String {
        let record = &self.0.record;
        let mut html = format!(
            "<div class=\"ferrolab-run\"><style>.ferrolab-run td,.ferrolab-run th{{padding:1px \
             8px;text-align:left}}.ferrolab-run .muted{{color:#777}}</style>\
             <div><b>{}</b></div>",
            escape(&self.headline())
        );
        if let Some(line) = self.mlflow(true) {
            write!(html, "<div class=\"muted\">{line}</div>").unwrap();
        }
        let config = flat_config(&record.config);
        if !config.is_empty() {
            html += "<table><tr><th>config</th><th></th></tr>";
            for (key, value) in config {
                write!(
                    html,
                    "<tr><td class=\"muted\">{}</td><td>{}</td></tr>",
                    escape(&key),
                    escape(&value_text(&value))
                )
                .unwrap();
            }
            html += "</table>";
        }
        if !record.summary.is_empty() {
            html += "<table><tr><th>metric</th><th>last</th><th>min</th><th>max</th>\
                     <th>step</th></tr>";
            for (name, summary) in &record.summary {
                write!(
                    html,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(name),
                    number(summary.last),
                    number(summary.min),
                    number(summary.max),
                    summary.step
                )
                .unwrap();
            }
            html += "</table>";
            if let Some(svg) = self.curves() {
                // An <img>, not inline SVG: JupyterLab's sanitizer keeps it in untrusted
                // notebooks.
                write!(
                    html,
                    "<img alt=\"metrics\" src=\"data:image/svg+xml;base64,{}\">",
                    base64::engine::general_purpose::STANDARD.encode(svg)
                )
                .unwrap();
            }
        }
        html + "</div>"
    }

    fn curves(&self) -> Option<String> {
        let mut figure = Figure::new().columns(3);
        let mut panels = 0usize;
        for (name, points) in self.0.series.iter().take(CURVES) {
            let stride = points.len().div_ceil(POINTS).max(1);
            let (steps, values): (Vec<f64>, Vec<f64>) = points
                .iter()
                .step_by(stride)
                .chain(points.last())
                .map(|&(step, value)| (step as f64, value))
                .unzip();
            figure = figure.panel(Plot::new().line(&steps, &values).title(name));
            panels += 1;
        }
        let rows = panels.div_ceil(3) as u32;
        let width = 280 * panels.min(3) as u32;
        figure.size(width, 200 * rows).to_svg().ok()
    }
}

/// At most four decimals (scientific notation for the very large and the very small).
pub(super) fn number(value: f64) -> String {
    if value != 0.0 && (value.abs() >= 1e5 || value.abs() < 1e-3) {
        format!("{value:.3e}")
    } else {
        format!("{}", (value * 1e4).round() / 1e4)
    }
}

fn duration(ms: u64) -> String {
    let seconds = ms as f64 / 1000.0;
    match seconds {
        s if s < 60.0 => format!("{s:.1} s"),
        s if s < 3600.0 => format!("{}m {:02}s", (s / 60.0) as u64, (s % 60.0) as u64),
        s => format!(
            "{}h {:02}m",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        ),
    }
}
