//! What a plot draws: lines, points, bars, histograms and rasters, from the user's values.

use ndarray::Array2;

use super::draw::{bounds, distinct, tick};
use crate::array::Values;

#[derive(Debug, Clone)]
pub(super) enum Layer {
    Line {
        points: Vec<(f64, f64)>,
        label: Option<String>,
    },
    Scatter {
        points: Vec<(f64, f64)>,
        label: Option<String>,
    },
    /// Points coloured by class, one legend entry per class.
    ScatterBy {
        points: Vec<(f64, f64)>,
        classes: Vec<String>,
    },
    Histogram {
        edges: Vec<f64>,
        counts: Vec<f64>,
        label: Option<String>,
    },
    Bars {
        names: Vec<String>,
        heights: Vec<f64>,
    },
    /// A raster of values over a rectangle: heatmaps, images, filled contours, boundaries.
    Raster {
        values: Array2<f64>,
        x: (f64, f64),
        y: (f64, f64),
        colors: Colors,
    },
    /// Parallel coordinates: an upright axis per column at x = 0, 1, ..., each row a line
    /// across them at its values scaled to [0, 1], coloured by its value on the last axis.
    Parallel { axes: Vec<ParallelAxis> },
}

/// One upright axis of parallel coordinates: each row's place on it (0 at the bottom, 1 at
/// the top) and the labels written beside it.
#[derive(Debug, Clone)]
pub(crate) struct ParallelAxis {
    pub name: String,
    pub positions: Vec<f64>,
    pub ticks: Vec<(f64, String)>,
}

impl ParallelAxis {
    /// Numbers, scaled from their lowest to their highest; on a log scale when they are
    /// positive and span two decades or more (learning rates).
    pub(crate) fn numeric(name: &str, values: &[f64]) -> ParallelAxis {
        let (low, high) = bounds(values.iter().copied()).unwrap_or((0.0, 1.0));
        let log = low > 0.0 && high / low >= 100.0;
        let scale = |v: f64| if log { v.ln() } else { v };
        let span = scale(high) - scale(low);
        let place = |v: f64| {
            if span > 0.0 {
                (scale(v) - scale(low)) / span
            } else {
                0.5
            }
        };
        ParallelAxis {
            name: name.to_owned(),
            positions: values.iter().map(|&v| place(v)).collect(),
            ticks: vec![(place(low), tick(low)), (place(high), tick(high))],
        }
    }

    /// Categories (an optimizer's name), spread evenly in sorted order, each labelled.
    pub(crate) fn categories(name: &str, values: &[String]) -> ParallelAxis {
        let names = distinct(values);
        let place = |i: usize| {
            if names.len() > 1 {
                i as f64 / (names.len() - 1) as f64
            } else {
                0.5
            }
        };
        ParallelAxis {
            name: name.to_owned(),
            positions: values
                .iter()
                .map(|v| place(names.iter().position(|n| n == v).unwrap_or(0)))
                .collect(),
            ticks: names
                .iter()
                .enumerate()
                .map(|(i, n)| (place(i), n.clone()))
                .collect(),
        }
    }
}

impl Layer {
    pub(super) fn set_label(&mut self, text: String) {
        match self {
            Layer::Line { label, .. }
            | Layer::Scatter { label, .. }
            | Layer::Histogram { label, .. } => *label = Some(text),
            _ => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Colors {
    /// viridis over min..max, with values written in the cells when `annotate`.
    Viridis { annotate: bool },
    /// white (low) to black (high), as matplotlib's `gray_r` shows digits.
    GreyReversed,
    /// viridis in this many flat bands (filled contours).
    Bands(usize),
    /// one palette colour per class, lightened (decision regions).
    Classes,
}

pub(super) fn points<X: Values + ?Sized, Y: Values + ?Sized>(x: &X, y: &Y) -> Vec<(f64, f64)> {
    let (x, y) = (x.values(), y.values());
    assert_eq!(
        x.len(),
        y.len(),
        "x has {} values but y has {}",
        x.len(),
        y.len()
    );
    // Missing values (nulls, NaN) leave gaps rather than corrupt the drawing.
    x.into_iter()
        .zip(y)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect()
}

/// A raster of one cell per entry, centred on whole numbers: column `j` at `x = j` and row
/// `i` at `y = -i`, so that row 0 is at the top and ticks count rows downwards.
pub(super) fn cells(values: Array2<f64>, colors: Colors) -> Layer {
    let (rows, cols) = values.dim();
    Layer::Raster {
        values,
        x: (-0.5, cols as f64 - 0.5),
        y: (0.5 - rows as f64, 0.5),
        colors,
    }
}

/// The span of grid points, each the centre of a cell.
pub(super) fn cell_span(points: &[f64]) -> (f64, f64) {
    let (low, high) = bounds(points.iter().copied()).unwrap_or((0.0, 1.0));
    let half = if points.len() > 1 {
        (high - low) / (points.len() - 1) as f64 / 2.0
    } else {
        0.5
    };
    (low - half, high + half)
}
