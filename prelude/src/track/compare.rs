//! Runs side by side: a project's runs as a DataFrame (as MLflow's `search_runs` gives them)
//! and one metric's curves across runs.

use std::collections::BTreeSet;

use polars::prelude::*;
use serde_json::Value;

use super::store::{self, Record, Summary};
use super::{Run, Store};
use crate::plot::Plot;

impl Store {
    /// Every run of `project`, a row each, oldest first: `id`, `name`, `status`, `start`,
    /// `duration` (seconds), `tags`, `commit`, `dirty`, then `config.<key>` for each config
    /// value (nested groups as `config.optimizer.lr`), `metrics.<name>` for each metric's last
    /// value and `best.<name>` for its best (the highest for names with `acc`, `auc`, `f1`,
    /// `precision`, `recall`, `r2` or `score` in them, the lowest otherwise).
    pub fn runs(&self, project: &str) -> PolarsResult<DataFrame> {
        let mut records = Vec::new();
        for dir in store::run_dirs(self.path(), Some(project))? {
            records.push(store::read_record(&dir)?);
        }
        records.sort_by_key(|record| record.start_time);
        runs_frame(&records)
    }
}

/// Every run of `project` in the default store, as a DataFrame: see [`Store::runs`].
pub fn runs(project: &str) -> PolarsResult<DataFrame> {
    Store::default().runs(project)
}

fn runs_frame(records: &[Record]) -> PolarsResult<DataFrame> {
    let text = |f: &dyn Fn(&Record) -> Option<String>| -> Vec<Option<String>> {
        records.iter().map(f).collect()
    };
    let mut columns = vec![
        Column::new("id".into(), text(&|r| Some(r.id.clone()))),
        Column::new("name".into(), text(&|r| Some(r.name.clone()))),
        Column::new(
            "status".into(),
            text(&|r| Some(r.effective_status().as_str().to_owned())),
        ),
        Column::new(
            "start".into(),
            records
                .iter()
                .map(|r| r.start_time as i64)
                .collect::<Vec<_>>(),
        )
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?,
        Column::new(
            "duration".into(),
            records
                .iter()
                .map(|r| {
                    r.end_time
                        .map(|end| end.saturating_sub(r.start_time) as f64 / 1000.0)
                })
                .collect::<Vec<_>>(),
        ),
        Column::new("tags".into(), text(&|r| Some(r.tags.join(", ")))),
        Column::new(
            "commit".into(),
            text(&|r| r.provenance.git.as_ref().map(|g| g.commit.clone())),
        ),
        Column::new(
            "dirty".into(),
            records
                .iter()
                .map(|r| r.provenance.git.as_ref().map(|g| g.dirty))
                .collect::<Vec<_>>(),
        ),
    ];
    let configs: Vec<Vec<(String, Value)>> =
        records.iter().map(|r| flat_config(&r.config)).collect();
    let keys: BTreeSet<&String> = configs.iter().flatten().map(|(key, _)| key).collect();
    for key in keys {
        let values: Vec<Option<&Value>> = configs
            .iter()
            .map(|config| config.iter().find(|(k, _)| k == key).map(|(_, v)| v))
            .collect();
        columns.push(config_column(&format!("config.{key}"), &values)?);
    }
    let metrics: BTreeSet<&String> = records.iter().flat_map(|r| r.summary.keys()).collect();
    for metric in metrics {
        let summaries: Vec<Option<&Summary>> =
            records.iter().map(|r| r.summary.get(metric)).collect();
        let higher_is_better = higher_is_better(metric);
        columns.push(Column::new(
            format!("metrics.{metric}").into(),
            summaries
                .iter()
                .map(|s| s.map(|s| s.last))
                .collect::<Vec<_>>(),
        ));
        columns.push(Column::new(
            format!("best.{metric}").into(),
            summaries
                .iter()
                .map(|s| s.map(|s| if higher_is_better { s.max } else { s.min }))
                .collect::<Vec<_>>(),
        ));
    }
    DataFrame::new(records.len(), columns)
}

fn higher_is_better(metric: &str) -> bool {
    let metric = metric.to_lowercase();
    ["acc", "auc", "f1", "precision", "recall", "r2", "score"]
        .iter()
        .any(|word| metric.contains(word))
}

/// A config column typed by its values: booleans, integers, floats, or else text (lists and
/// mixed values as their JSON).
fn config_column(name: &str, values: &[Option<&Value>]) -> PolarsResult<Column> {
    let present = || values.iter().flatten();
    let name = name.into();
    Ok(if present().all(|v| v.is_boolean()) {
        Column::new(
            name,
            values
                .iter()
                .map(|v| v.and_then(Value::as_bool))
                .collect::<Vec<_>>(),
        )
    } else if present().all(|v| v.is_i64()) {
        Column::new(
            name,
            values
                .iter()
                .map(|v| v.and_then(Value::as_i64))
                .collect::<Vec<_>>(),
        )
    } else if present().all(|v| v.is_number()) {
        Column::new(
            name,
            values
                .iter()
                .map(|v| v.and_then(Value::as_f64))
                .collect::<Vec<_>>(),
        )
    } else {
        Column::new(
            name,
            values.iter().map(|v| v.map(value_text)).collect::<Vec<_>>(),
        )
    })
}

/// A config value as a reader wants it: a string without quotes, anything else as JSON.
pub(super) fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A config's values by dotted path (`optimizer.lr`), groups flattened, in the config's order.
pub(super) fn flat_config(config: &Value) -> Vec<(String, Value)> {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(entries) => {
                for (key, value) in entries {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, value, out);
                }
            }
            leaf => out.push((prefix.to_owned(), leaf.clone())),
        }
    }
    let mut out = Vec::new();
    walk("", config, &mut out);
    out
}

/// One metric of several runs on one set of axes, a line per run, labelled by name.
pub fn curves(metric: &str, runs: &[Run]) -> Plot {
    let mut plot = Plot::new();
    for run in runs {
        plot = plot
            .line(&run.steps(metric), &run.metric(metric))
            .label(&run.name());
    }
    plot.title(metric).xlabel("step").ylabel(metric)
}
