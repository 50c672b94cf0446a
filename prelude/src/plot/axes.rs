//! `Plot`: one set of axes, built call by call.

use ndarray::{Array2, ArrayBase, Data, Ix2};

use super::draw::bounds;
use super::layers::{cell_span, cells, points, Colors, Layer, ParallelAxis};
use super::style::{ANNOTATE_UP_TO, BOUNDARY_RESOLUTION};
use crate::array::{Labels, Values};

/// One set of axes: its layers, labels and scales.
#[derive(Debug, Clone, Default)]
pub struct Plot {
    pub(super) layers: Vec<Layer>,
    pub(super) title: Option<String>,
    pub(super) xlabel: Option<String>,
    pub(super) ylabel: Option<String>,
    pub(super) log_x: bool,
    pub(super) log_y: bool,
    pub(super) xlim: Option<(f64, f64)>,
    pub(super) ylim: Option<(f64, f64)>,
    pub(super) size: Option<(u32, u32)>,
}

impl Plot {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parallel coordinates, as a sweep's results are shown: an upright axis per named
    /// column, each row (`columns[j][row]`) a line across the axes, coloured by its value in
    /// the last column (the metric, by convention).
    pub fn parallel_coordinates(mut self, names: &[&str], columns: &[Vec<f64>]) -> Self {
        let axes = names
            .iter()
            .zip(columns)
            .map(|(name, values)| ParallelAxis::numeric(name, values))
            .collect();
        self.layers.push(Layer::Parallel { axes });
        self
    }

    /// Parallel coordinates over axes already placed (numbers and categories mixed).
    pub(crate) fn parallel_axes(mut self, axes: Vec<ParallelAxis>) -> Self {
        self.layers.push(Layer::Parallel { axes });
        self
    }

    /// A line through `(x[i], y[i])`.
    pub fn line<X: Values + ?Sized, Y: Values + ?Sized>(mut self, x: &X, y: &Y) -> Self {
        self.layers.push(Layer::Line {
            points: points(x, y),
            label: None,
        });
        self
    }

    /// `y` against `0, 1, 2, ...`, like `plt.plot(y)`.
    pub fn line_y<Y: Values + ?Sized>(self, y: &Y) -> Self {
        let x: Vec<f64> = (0..y.values().len()).map(|i| i as f64).collect();
        self.line(&x, y)
    }

    pub fn scatter<X: Values + ?Sized, Y: Values + ?Sized>(mut self, x: &X, y: &Y) -> Self {
        self.layers.push(Layer::Scatter {
            points: points(x, y),
            label: None,
        });
        self
    }

    /// Points coloured by their class (`labels[i]`), with a legend of the classes.
    pub fn scatter_by<X: Values + ?Sized, Y: Values + ?Sized, L: Labels + ?Sized>(
        mut self,
        x: &X,
        y: &Y,
        labels: &L,
    ) -> Self {
        let (x, y, labels) = (x.values(), y.values(), labels.labels());
        assert!(
            x.len() == y.len() && y.len() == labels.len(),
            "scatter_by: {} x values, {} y values and {} labels",
            x.len(),
            y.len(),
            labels.len()
        );
        let (points, classes) = x
            .into_iter()
            .zip(y)
            .zip(labels)
            .filter(|((x, y), _)| x.is_finite() && y.is_finite())
            .unzip();
        self.layers.push(Layer::ScatterBy { points, classes });
        self
    }

    /// A histogram of `values` in `bins` equal-width bins.
    pub fn hist<V: Values + ?Sized>(mut self, values: &V, bins: usize) -> Self {
        assert!(bins > 0, "hist: bins must be at least 1");
        let values: Vec<f64> = values
            .values()
            .into_iter()
            .filter(|v| v.is_finite())
            .collect();
        let (low, high) = bounds(values.iter().copied()).unwrap_or((0.0, 1.0));
        let width = if high > low {
            (high - low) / bins as f64
        } else {
            1.0
        };
        let mut counts = vec![0.0; bins];
        for v in values {
            counts[(((v - low) / width) as usize).min(bins - 1)] += 1.0;
        }
        let edges = (0..=bins).map(|i| low + i as f64 * width).collect();
        self.layers.push(Layer::Histogram {
            edges,
            counts,
            label: None,
        });
        self
    }

    /// One bar per name.
    pub fn bar<N: Labels + ?Sized, V: Values + ?Sized>(mut self, names: &N, heights: &V) -> Self {
        let (names, heights) = (names.labels(), heights.values());
        assert_eq!(
            names.len(),
            heights.len(),
            "bar: {} names but {} heights",
            names.len(),
            heights.len()
        );
        self.layers.push(Layer::Bars { names, heights });
        self
    }

    /// A matrix as coloured cells (viridis), row 0 at the top; small ones show their values.
    pub fn heatmap<S: Data<Elem = f64>>(mut self, matrix: &ArrayBase<S, Ix2>) -> Self {
        let annotate = matrix.nrows().max(matrix.ncols()) <= ANNOTATE_UP_TO;
        self.layers
            .push(cells(matrix.to_owned(), Colors::Viridis { annotate }));
        self
    }

    /// A grey-level image (white low, black high), row 0 at the top.
    pub fn imshow<S: Data<Elem = f64>>(mut self, image: &ArrayBase<S, Ix2>) -> Self {
        self.layers
            .push(cells(image.to_owned(), Colors::GreyReversed));
        self
    }

    /// Filled contours of `z[(i, j)]` at `(x[j], y[i])` on a regular grid, in `levels` bands.
    pub fn contourf<X: Values + ?Sized, Y: Values + ?Sized, S: Data<Elem = f64>>(
        mut self,
        x: &X,
        y: &Y,
        z: &ArrayBase<S, Ix2>,
        levels: usize,
    ) -> Self {
        let (x, y) = (x.values(), y.values());
        assert_eq!(
            (y.len(), x.len()),
            z.dim(),
            "contourf: z must have shape (y.len(), x.len())"
        );
        let mut values = z.to_owned();
        values.invert_axis(ndarray::Axis(0)); // rasters are stored top row first
        self.layers.push(Layer::Raster {
            values,
            x: cell_span(&x),
            y: cell_span(&y),
            colors: Colors::Bands(levels.max(2)),
        });
        self
    }

    /// The regions a classifier assigns to each class over `x × y`: `predict` gets every
    /// point of a fine grid as the rows of one matrix and returns their classes.
    pub fn decision_boundary<R: Values>(
        mut self,
        x: (f64, f64),
        y: (f64, f64),
        predict: impl Fn(&Array2<f64>) -> R,
    ) -> Self {
        let n = BOUNDARY_RESOLUTION;
        let step =
            |(low, high): (f64, f64), i: usize| low + (high - low) * (i as f64 + 0.5) / n as f64;
        // Top row first, as rasters are stored.
        let grid = Array2::from_shape_fn((n * n, 2), |(k, axis)| match axis {
            0 => step(x, k % n),
            _ => step(y, n - 1 - k / n),
        });
        let classes = predict(&grid).values();
        assert_eq!(
            classes.len(),
            n * n,
            "decision_boundary: predict must return one class per row"
        );
        let values = Array2::from_shape_vec((n, n), classes).expect("n × n classes");
        self.layers.push(Layer::Raster {
            values,
            x,
            y,
            colors: Colors::Classes,
        });
        self
    }

    /// Names the layer added last, for the legend.
    pub fn label(mut self, text: &str) -> Self {
        if let Some(layer) = self.layers.last_mut() {
            layer.set_label(text.to_owned());
        }
        self
    }

    pub fn title(mut self, text: &str) -> Self {
        self.title = Some(text.to_owned());
        self
    }

    pub fn xlabel(mut self, text: &str) -> Self {
        self.xlabel = Some(text.to_owned());
        self
    }

    pub fn ylabel(mut self, text: &str) -> Self {
        self.ylabel = Some(text.to_owned());
        self
    }

    pub fn log_x(mut self) -> Self {
        self.log_x = true;
        self
    }

    pub fn log_y(mut self) -> Self {
        self.log_y = true;
        self
    }

    pub fn xlim(mut self, low: f64, high: f64) -> Self {
        self.xlim = Some((low, high));
        self
    }

    pub fn ylim(mut self, low: f64, high: f64) -> Self {
        self.ylim = Some((low, high));
        self
    }

    /// Size in pixels (default 640 × 420).
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = Some((width, height));
        self
    }
}
