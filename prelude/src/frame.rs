//! polars in notebooks: DataFrames and Series as pandas-style tables, LazyFrames as their plan.

use polars::prelude::{AnyValue, Column, DataFrame, LazyFrame, Series};

use crate::display::{
    escape, format_float, kept_indices, with_gaps, Cell, MimeBundle, Render, Table,
};

/// Like pandas: frames longer than this show their first and last rows only...
const MAX_ROWS: usize = 60;
const EDGE_ROWS: usize = 5;
/// ... and frames wider than this their first and last columns.
const MAX_COLUMNS: usize = 20;
const EDGE_COLUMNS: usize = 10;

impl Render for DataFrame {
    fn render(&self) -> MimeBundle {
        let (height, width) = self.shape();
        let footer = format!("{height} rows × {width} columns");
        MimeBundle::plain(self.to_string()).with("text/html", table(self, footer).html())
    }
}

impl Render for Series {
    fn render(&self) -> MimeBundle {
        let footer = format!("length {}, dtype {}", self.len(), self.dtype());
        let frame = self.clone().into_frame();
        MimeBundle::plain(self.to_string()).with("text/html", table(&frame, footer).html())
    }
}

/// What `df.column("x")?` gives.
impl Render for Column {
    fn render(&self) -> MimeBundle {
        self.as_materialized_series().render()
    }
}

impl Render for LazyFrame {
    fn render(&self) -> MimeBundle {
        let plan = self
            .describe_plan()
            .unwrap_or_else(|err| format!("(no plan: {err})"));
        let schema = match self.clone().collect_schema() {
            Ok(schema) => schema
                .iter()
                .map(|(name, dtype)| format!("  {name}: {dtype}"))
                .collect::<Vec<_>>()
                .join("\n"),
            Err(err) => format!("  (no schema: {err})"),
        };
        let text = format!(
            "LazyFrame (nothing computed until .collect())\nplan:\n{plan}\nschema:\n{schema}"
        );
        MimeBundle::plain(text.clone()).with("text/html", format!("<pre>{}</pre>", escape(&text)))
    }
}

fn table(frame: &DataFrame, footer: String) -> Table {
    let (height, width) = frame.shape();
    let kept_rows = kept_indices(height, height > MAX_ROWS, EDGE_ROWS);
    let kept_columns = kept_indices(width, width > MAX_COLUMNS, EDGE_COLUMNS);
    let columns: Vec<Option<usize>> = with_gaps(&kept_columns)
        .into_iter()
        .map(|c| c.map(|c| kept_columns[c]))
        .collect();
    let mut table = Table {
        columns: columns
            .iter()
            .map(|c| {
                c.map(|c| {
                    let column = &frame.columns()[c];
                    (column.name().to_string(), Some(column.dtype().to_string()))
                })
            })
            .collect(),
        rows: with_gaps(&kept_rows)
            .into_iter()
            .map(|r| r.map(|r| kept_rows[r]))
            .map(|r| {
                r.map(|r| {
                    let cells = columns
                        .iter()
                        .map(|c| match c {
                            Some(c) => cell(frame.columns()[*c].get(r)),
                            None => Cell::LeftOut,
                        })
                        .collect();
                    (r.to_string(), cells)
                })
            })
            .collect(),
        footer,
    };
    table.equalize_columns();
    table
}

fn cell(value: polars::prelude::PolarsResult<AnyValue<'_>>) -> Cell {
    match value {
        Ok(AnyValue::Null) => Cell::Null,
        Ok(AnyValue::Float64(x)) => Cell::Value(format_float(x)),
        Ok(AnyValue::Float32(x)) => Cell::Value(format_float(f64::from(x))),
        Ok(value) => match value.get_str() {
            Some(text) => Cell::Value(text.to_owned()),
            None => Cell::Value(value.to_string()),
        },
        Err(err) => Cell::Value(format!("error: {err}")),
    }
}
