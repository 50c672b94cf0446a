//! Drawing a plot with plotters: ranges and scales, axes, ticks, layers and the legend.

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use super::axes::Plot;
use super::layers::{Colors, Layer, ParallelAxis};
use super::raster::{draw_raster, Rasters};
use super::style::{AXIS, FONT, GRID, PALETTE, TEXT};
use crate::display::format_float;
use plotters::coord::CoordTranslate;
use plotters::style::colors::colormaps::ViridisRGB;

impl Plot {
    /// The x range shown: the data's, padded 5% like matplotlib, or what `xlim` set.
    fn x_range(&self) -> (f64, f64) {
        self.xlim.unwrap_or_else(|| {
            let xs = self.layers.iter().flat_map(|layer| -> Vec<f64> {
                match layer {
                    Layer::Line { points, .. }
                    | Layer::Scatter { points, .. }
                    | Layer::ScatterBy { points, .. } => points.iter().map(|p| p.0).collect(),
                    Layer::Histogram { edges, .. } => edges.clone(),
                    Layer::Bars { names, .. } => vec![-0.5, names.len() as f64 - 0.5],
                    Layer::Raster { x, .. } => vec![x.0, x.1],
                    // Room for the labels right of the last axis.
                    Layer::Parallel { axes } => vec![-0.2, axes.len() as f64 - 0.6],
                }
            });
            padded(xs, self.log_x, self.only_rasters())
        })
    }

    fn y_range(&self) -> (f64, f64) {
        self.ylim.unwrap_or_else(|| {
            let ys = self.layers.iter().flat_map(|layer| -> Vec<f64> {
                match layer {
                    Layer::Line { points, .. }
                    | Layer::Scatter { points, .. }
                    | Layer::ScatterBy { points, .. } => points.iter().map(|p| p.1).collect(),
                    // Bars and histograms stand on zero.
                    Layer::Histogram { counts, .. } => {
                        counts.iter().copied().chain([0.0]).collect()
                    }
                    Layer::Bars { heights, .. } => heights.iter().copied().chain([0.0]).collect(),
                    Layer::Raster { y, .. } => vec![y.0, y.1],
                    Layer::Parallel { .. } => vec![0.0, 1.0],
                }
            });
            padded(ys, self.log_y, self.only_rasters())
        })
    }

    /// Rasters fill the axes exactly, with no padding.
    fn only_rasters(&self) -> bool {
        self.layers
            .iter()
            .all(|layer| matches!(layer, Layer::Raster { .. }))
    }

    pub(super) fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
        rasters: &mut Rasters,
    ) -> Result<(), String> {
        let (x, y) = (self.x_range(), self.y_range());
        let mut builder = ChartBuilder::on(area);
        builder
            .margin(12)
            .x_label_area_size(if self.xlabel.is_some() { 45 } else { 30 })
            .y_label_area_size(if self.ylabel.is_some() { 70 } else { 55 });
        if let Some(title) = &self.title {
            builder.caption(title, (FONT, 17).into_font().color(&TEXT));
        }
        match (self.log_x, self.log_y) {
            (false, false) => self.draw_axes(&mut builder, x.0..x.1, y.0..y.1, rasters),
            (true, false) => {
                self.draw_axes(&mut builder, (x.0..x.1).log_scale(), y.0..y.1, rasters)
            }
            (false, true) => {
                self.draw_axes(&mut builder, x.0..x.1, (y.0..y.1).log_scale(), rasters)
            }
            (true, true) => self.draw_axes(
                &mut builder,
                (x.0..x.1).log_scale(),
                (y.0..y.1).log_scale(),
                rasters,
            ),
        }
    }

    fn draw_axes<DB, X, Y>(
        &self,
        builder: &mut ChartBuilder<DB>,
        x: X,
        y: Y,
        rasters: &mut Rasters,
    ) -> Result<(), String>
    where
        DB: DrawingBackend,
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let mut chart = builder
            .build_cartesian_2d(x, y)
            .map_err(|e| e.to_string())?;
        let bar_names = self.layers.iter().find_map(|layer| match layer {
            Layer::Bars { names, .. } => Some(names.clone()),
            Layer::Parallel { axes } => Some(axes.iter().map(|a| a.name.clone()).collect()),
            _ => None,
        });
        // Parallel coordinates' heights are per-axis fractions: only their own labels mean anything.
        let parallel = self
            .layers
            .iter()
            .any(|layer| matches!(layer, Layer::Parallel { .. }));
        // Heatmaps and images are grids of cells: ticks at whole cells, rows counted from the top.
        let cell_grid = self.layers.iter().find_map(|layer| match layer {
            Layer::Raster {
                values,
                colors: Colors::Viridis { .. } | Colors::GreyReversed,
                ..
            } => Some(values.dim()),
            _ => None,
        });
        let format_x = |v: &f64| match (&bar_names, cell_grid) {
            (Some(names), _) => category(names, *v),
            (None, Some(_)) => cell_index(*v),
            (None, None) => tick(*v),
        };
        let format_y = |v: &f64| match cell_grid {
            Some(_) => cell_index(-v),
            None => tick(*v),
        };
        let mut mesh = chart.configure_mesh();
        mesh.bold_line_style(GRID.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS.stroke_width(1))
            .label_style((FONT, 12).into_font().color(&TEXT))
            .axis_desc_style((FONT, 14).into_font().color(&TEXT))
            .x_label_formatter(&format_x)
            .y_label_formatter(&format_y);
        if let Some(names) = &bar_names {
            mesh.x_labels(names.len() + 1).disable_x_mesh();
        }
        if parallel {
            mesh.y_labels(0).disable_mesh();
        }
        if let Some((rows, cols)) = cell_grid {
            mesh.x_labels(cols.min(10) + 1)
                .y_labels(rows.min(10) + 1)
                .disable_mesh();
        }
        if let Some(label) = &self.xlabel {
            mesh.x_desc(label.as_str());
        }
        if let Some(label) = &self.ylabel {
            mesh.y_desc(label.as_str());
        }
        mesh.draw().map_err(|e| e.to_string())?;

        let mut next_color = 0;
        let mut legend = false;
        for layer in &self.layers {
            let mut color = || {
                next_color += 1;
                PALETTE[(next_color - 1) % PALETTE.len()]
            };
            match layer {
                Layer::Line { points, label } => {
                    let c = color();
                    let series = chart
                        .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))
                        .map_err(|e| e.to_string())?;
                    if let Some(label) = label {
                        legend = true;
                        series.label(label).legend(move |(x, y)| {
                            PathElement::new([(x, y), (x + 18, y)], c.stroke_width(2))
                        });
                    }
                }
                Layer::Scatter { points, label } => {
                    let c = color();
                    let series = chart
                        .draw_series(
                            points
                                .iter()
                                .map(|&p| Circle::new(p, 3, c.mix(0.8).filled())),
                        )
                        .map_err(|e| e.to_string())?;
                    if let Some(label) = label {
                        legend = true;
                        series
                            .label(label)
                            .legend(move |p| Circle::new(p, 4, c.filled()));
                    }
                }
                Layer::ScatterBy { points, classes } => {
                    for class in distinct(classes) {
                        let c = color();
                        chart
                            .draw_series(
                                points
                                    .iter()
                                    .zip(classes)
                                    .filter(|(_, k)| **k == class)
                                    .map(|(&p, _)| Circle::new(p, 3, c.mix(0.85).filled())),
                            )
                            .map_err(|e| e.to_string())?
                            .label(class)
                            .legend(move |p| Circle::new(p, 4, c.filled()));
                        legend = true;
                    }
                }
                Layer::Histogram {
                    edges,
                    counts,
                    label,
                } => {
                    let c = color();
                    let series = chart
                        .draw_series(counts.iter().enumerate().map(|(i, &count)| {
                            Rectangle::new(
                                [(edges[i], 0.0), (edges[i + 1], count)],
                                c.mix(0.75).filled(),
                            )
                        }))
                        .map_err(|e| e.to_string())?;
                    if let Some(label) = label {
                        legend = true;
                        series.label(label).legend(move |(x, y)| {
                            Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled())
                        });
                    }
                    chart
                        .draw_series(counts.iter().enumerate().map(|(i, &count)| {
                            Rectangle::new(
                                [(edges[i], 0.0), (edges[i + 1], count)],
                                WHITE.stroke_width(1),
                            )
                        }))
                        .map_err(|e| e.to_string())?;
                }
                Layer::Bars { heights, .. } => {
                    let c = color();
                    chart
                        .draw_series(heights.iter().enumerate().map(|(i, &h)| {
                            Rectangle::new([(i as f64 - 0.4, 0.0), (i as f64 + 0.4, h)], c.filled())
                        }))
                        .map_err(|e| e.to_string())?;
                }
                Layer::Raster {
                    values,
                    x,
                    y,
                    colors,
                } => {
                    draw_raster(&mut chart, values, *x, *y, *colors, rasters)?;
                }
                Layer::Parallel { axes } => draw_parallel(&mut chart, axes)?,
            }
        }
        if legend {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(GRID)
                .label_font((FONT, 12).into_font().color(&TEXT))
                .draw()
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

fn draw_parallel<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<DB, CT>,
    axes: &[ParallelAxis],
) -> Result<(), String> {
    let rows = axes.first().map_or(0, |a| a.positions.len());
    let colour_by = axes.last().map(|a| a.positions.clone()).unwrap_or_default();
    for row in 0..rows {
        let colour = ViridisRGB.get_color_normalized(colour_by[row], 0.0, 1.0);
        let line = axes
            .iter()
            .enumerate()
            .map(|(i, axis)| (i as f64, axis.positions[row]));
        chart
            .draw_series(LineSeries::new(line, colour.mix(0.85).stroke_width(2)))
            .map_err(|e| e.to_string())?;
    }
    for (i, axis) in axes.iter().enumerate() {
        let x = i as f64;
        chart
            .draw_series([PathElement::new([(x, 0.0), (x, 1.0)], AXIS.stroke_width(1))])
            .map_err(|e| e.to_string())?;
        let style = (FONT, 12).into_font().color(&TEXT);
        chart
            .draw_series(
                axis.ticks
                    .iter()
                    .map(|(at, label)| Text::new(format!(" {label}"), (x, *at), style.clone())),
            )
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

pub(super) fn bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((low, high)) => Some((low.min(v), high.max(v))),
        })
}

/// Data bounds padded by 5% (multiplicatively on log axes), never empty.
pub(super) fn padded(values: impl Iterator<Item = f64>, log: bool, exact: bool) -> (f64, f64) {
    let values = values.filter(|v| !log || *v > 0.0);
    let (low, high) = bounds(values).unwrap_or(if log { (1.0, 10.0) } else { (0.0, 1.0) });
    if exact {
        return (low, high);
    }
    if log {
        let ratio = (high / low).powf(0.05).max(1.1);
        (low / ratio, high * ratio)
    } else {
        let pad = if high > low {
            (high - low) * 0.05
        } else {
            low.abs().max(1.0) * 0.05
        };
        (low - pad, high + pad)
    }
}

/// A tick label as matplotlib writes one: `3`, not `3.0`.
pub(super) fn tick(value: f64) -> String {
    let value = if value.abs() < 1e-12 { 0.0 } else { value };
    let text = format_float(value);
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

/// Cells sit on whole numbers; ticks between them stay blank.
pub(super) fn cell_index(position: f64) -> String {
    whole(position).map(|i| i.to_string()).unwrap_or_default()
}

pub(super) fn category(names: &[String], position: f64) -> String {
    whole(position)
        .and_then(|i| names.get(i).cloned())
        .unwrap_or_default()
}

pub(super) fn whole(position: f64) -> Option<usize> {
    let index = position.round();
    ((position - index).abs() < 1e-9 && index >= 0.0).then_some(index as usize)
}

pub(super) fn distinct(classes: &[String]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for class in classes {
        if !seen.contains(class) {
            seen.push(class.clone());
        }
    }
    // Numeric class labels read best in numeric order.
    seen.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(a), Ok(b)) => a.total_cmp(&b),
        _ => a.cmp(b),
    });
    seen
}
