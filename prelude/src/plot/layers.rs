//! What a plot draws: lines, points, bars, histograms and rasters, from the user's values.

use ndarray::Array2;

use super::draw::bounds;
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
