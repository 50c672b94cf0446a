//! Plots for lessons, drawn by plotters in the look people know from matplotlib and seaborn:
//!
//! ```ignore
//! Plot::new().line(&x, &train).label("train").line(&x, &val).label("validation")
//!     .title("Loss").xlabel("epoch").ylabel("loss").log_y()
//! ```
//!
//! A plot (or a [`Figure`] of several panels) renders as SVG plus a PNG fallback. Text is
//! measured and rasterised with an embedded font, so no system fonts are needed.

use std::sync::Once;

use base64::Engine;
use image::{DynamicImage, RgbImage};
use ndarray::{Array2, ArrayBase, Data, Ix2};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

use crate::array::{Labels, Values};
use crate::display::{format_float, MimeBundle, Png, Render, Svg};

/// matplotlib's default colour cycle ("tab10").
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
const GRID: RGBColor = RGBColor(229, 229, 229);
const AXIS: RGBColor = RGBColor(120, 120, 120);
const TEXT: RGBColor = RGBColor(40, 40, 40);
const FONT: &str = "sans-serif";
/// Resolution of the grid a decision boundary is evaluated on, per axis.
const BOUNDARY_RESOLUTION: usize = 150;
/// Heatmaps up to this many cells per side print their values in the cells.
const ANNOTATE_UP_TO: usize = 12;

#[derive(Debug, Clone)]
enum Layer {
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
    fn set_label(&mut self, text: String) {
        match self {
            Layer::Line { label, .. }
            | Layer::Scatter { label, .. }
            | Layer::Histogram { label, .. } => *label = Some(text),
            _ => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Colors {
    /// viridis over min..max, with values written in the cells when `annotate`.
    Viridis { annotate: bool },
    /// white (low) to black (high), as matplotlib's `gray_r` shows digits.
    GreyReversed,
    /// viridis in this many flat bands (filled contours).
    Bands(usize),
    /// one palette colour per class, lightened (decision regions).
    Classes,
}

/// One set of axes: its layers, labels and scales.
#[derive(Debug, Clone, Default)]
pub struct Plot {
    layers: Vec<Layer>,
    title: Option<String>,
    xlabel: Option<String>,
    ylabel: Option<String>,
    log_x: bool,
    log_y: bool,
    xlim: Option<(f64, f64)>,
    ylim: Option<(f64, f64)>,
    size: Option<(u32, u32)>,
}

impl Plot {
    pub fn new() -> Self {
        Self::default()
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

    fn draw<DB: DrawingBackend>(
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
            _ => None,
        });
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

/// Several plots in a grid of panels, with an optional overall title.
#[derive(Debug, Clone, Default)]
pub struct Figure {
    panels: Vec<Plot>,
    columns: Option<usize>,
    title: Option<String>,
    size: Option<(u32, u32)>,
}

impl Figure {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn panel(mut self, plot: Plot) -> Self {
        self.panels.push(plot);
        self
    }

    /// Panels per row (default: all in one row, up to 3).
    pub fn columns(mut self, columns: usize) -> Self {
        self.columns = Some(columns.max(1));
        self
    }

    pub fn title(mut self, text: &str) -> Self {
        self.title = Some(text.to_owned());
        self
    }

    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = Some((width, height));
        self
    }

    fn grid(&self) -> (usize, usize) {
        let columns = self.columns.unwrap_or(self.panels.len().clamp(1, 3));
        (self.panels.len().div_ceil(columns).max(1), columns)
    }

    fn pixels(&self) -> (u32, u32) {
        let (rows, columns) = self.grid();
        let title = if self.title.is_some() { 40 } else { 0 };
        self.size
            .unwrap_or((columns as u32 * 430, rows as u32 * 340 + title))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: DrawingArea<DB, plotters::coord::Shift>,
        rasters: &mut Rasters,
    ) -> Result<(), String> {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let root = match &self.title {
            Some(title) => root
                .titled(title, (FONT, 20).into_font().color(&TEXT))
                .map_err(|e| e.to_string())?,
            None => root,
        };
        for (plot, area) in self.panels.iter().zip(root.split_evenly(self.grid())) {
            plot.draw(&area, rasters)?;
        }
        root.present().map_err(|e| e.to_string())
    }

    /// The figure as an SVG document.
    pub fn to_svg(&self) -> Result<String, String> {
        register_font();
        let mut svg = String::new();
        let mut rasters = Rasters {
            embed: true,
            ..Rasters::default()
        };
        self.draw(
            SVGBackend::with_string(&mut svg, self.pixels()).into_drawing_area(),
            &mut rasters,
        )?;
        Ok(embed_rasters(svg, &rasters.images))
    }

    /// The figure as an RGB image.
    pub fn to_image(&self) -> Result<DynamicImage, String> {
        register_font();
        let (width, height) = self.pixels();
        let mut pixels = vec![0; width as usize * height as usize * 3];
        let backend = BitMapBackend::with_buffer(&mut pixels, (width, height));
        self.draw(backend.into_drawing_area(), &mut Rasters::default())?;
        RgbImage::from_raw(width, height, pixels)
            .map(DynamicImage::ImageRgb8)
            .ok_or_else(|| "plot buffer has the wrong size".to_owned())
    }

    /// Writes the figure to a `.svg` or `.png` file.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<(), String> {
        let path = path.as_ref();
        match path.extension().and_then(|e| e.to_str()) {
            Some("svg") => std::fs::write(path, self.to_svg()?).map_err(|e| e.to_string()),
            Some("png") => self.to_image()?.save(path).map_err(|e| e.to_string()),
            _ => Err(format!(
                "save: {} should end in .svg or .png",
                path.display()
            )),
        }
    }
}

impl From<Plot> for Figure {
    fn from(plot: Plot) -> Self {
        let size = plot.size.or(Some((640, 420)));
        Figure {
            panels: vec![plot],
            size,
            ..Figure::default()
        }
    }
}

impl Render for Figure {
    fn render(&self) -> MimeBundle {
        let (width, height) = self.pixels();
        let text = format!(
            "<Figure {width}x{height} with {} panel(s)>",
            self.panels.len()
        );
        let svg = match self.to_svg() {
            Ok(svg) => svg,
            Err(err) => return MimeBundle::plain(format!("{text}: could not be drawn: {err}")),
        };
        let png = self
            .to_image()
            .ok()
            .and_then(|image| Png::encode(&image).ok());
        let mut bundle = Svg(svg).render().with("text/plain", text);
        if let Some(png) = png {
            bundle.0.extend(
                png.render()
                    .0
                    .into_iter()
                    .filter(|(mime, _)| mime != "text/plain"),
            );
        }
        bundle
    }
}

impl Render for Plot {
    fn render(&self) -> MimeBundle {
        Figure::from(self.clone()).render()
    }
}

/// plotters measures and rasterises text with fonts registered by name; ours is embedded.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            include_bytes!("../assets/DejaVuSans.ttf"),
        )
        .unwrap_or_else(|_| panic!("the embedded font is valid"));
    });
}

fn points<X: Values + ?Sized, Y: Values + ?Sized>(x: &X, y: &Y) -> Vec<(f64, f64)> {
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
fn cells(values: Array2<f64>, colors: Colors) -> Layer {
    let (rows, cols) = values.dim();
    Layer::Raster {
        values,
        x: (-0.5, cols as f64 - 0.5),
        y: (0.5 - rows as f64, 0.5),
        colors,
    }
}

/// The span of grid points, each the centre of a cell.
fn cell_span(points: &[f64]) -> (f64, f64) {
    let (low, high) = bounds(points.iter().copied()).unwrap_or((0.0, 1.0));
    let half = if points.len() > 1 {
        (high - low) / (points.len() - 1) as f64 / 2.0
    } else {
        0.5
    };
    (low - half, high + half)
}

fn bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((low, high)) => Some((low.min(v), high.max(v))),
        })
}

/// Data bounds padded by 5% (multiplicatively on log axes), never empty.
fn padded(values: impl Iterator<Item = f64>, log: bool, exact: bool) -> (f64, f64) {
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
fn tick(value: f64) -> String {
    let value = if value.abs() < 1e-12 { 0.0 } else { value };
    let text = format_float(value);
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

/// Cells sit on whole numbers; ticks between them stay blank.
fn cell_index(position: f64) -> String {
    whole(position).map(|i| i.to_string()).unwrap_or_default()
}

fn category(names: &[String], position: f64) -> String {
    whole(position)
        .and_then(|i| names.get(i).cloned())
        .unwrap_or_default()
}

fn whole(position: f64) -> Option<usize> {
    let index = position.round();
    ((position - index).abs() < 1e-9 && index >= 0.0).then_some(index as usize)
}

fn distinct(classes: &[String]) -> Vec<String> {
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

/// How a figure's rasters reach the output. A bitmap gets their cells as rectangles. An SVG
/// gets a placeholder rectangle of a reserved colour for each, which `embed_rasters` then
/// replaces with the raster as a PNG `<image>`: a 60 × 80 picture is one element, not 4,800.
#[derive(Default)]
struct Rasters {
    embed: bool,
    images: Vec<RgbImage>,
}

/// Placeholder fills are `#FE00nn`, `nn` the raster's number: colours no palette uses.
fn placeholder(index: usize) -> RGBColor {
    RGBColor(254, 0, index as u8)
}

fn draw_raster<DB, X, Y>(
    chart: &mut ChartContext<DB, Cartesian2d<X, Y>>,
    values: &Array2<f64>,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    colors: Colors,
    rasters: &mut Rasters,
) -> Result<(), String>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let (rows, cols) = values.dim();
    let cell_colors = raster_colors(values, colors);
    let (dx, dy) = ((x1 - x0) / cols as f64, (y1 - y0) / rows as f64);
    if rasters.embed && rasters.images.len() < 256 {
        let fill = placeholder(rasters.images.len());
        let pixels = cell_colors
            .iter()
            .flat_map(|&RGBColor(r, g, b)| [r, g, b])
            .collect();
        rasters
            .images
            .push(RgbImage::from_raw(cols as u32, rows as u32, pixels).expect("rows × cols"));
        chart
            .draw_series([Rectangle::new([(x0, y1), (x1, y0)], fill.filled())])
            .map_err(|e| e.to_string())?;
    } else {
        let mut runs = Vec::new();
        for (row, line) in cell_colors.outer_iter().enumerate() {
            let top = y1 - row as f64 * dy;
            let mut start = 0;
            for col in 1..=cols {
                if col == cols || line[col] != line[start] {
                    let rect = [
                        (x0 + start as f64 * dx, top),
                        (x0 + col as f64 * dx, top - dy),
                    ];
                    runs.push(Rectangle::new(rect, line[start].filled()));
                    start = col;
                }
            }
        }
        chart.draw_series(runs).map_err(|e| e.to_string())?;
    }
    if colors == (Colors::Viridis { annotate: true }) {
        let labels = values.indexed_iter().map(|((row, col), &v)| {
            let RGBColor(r, g, b) = cell_colors[[row, col]];
            let luminance = 0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b);
            let style = (FONT, 12)
                .into_font()
                .color(if luminance < 128.0 { &WHITE } else { &BLACK })
                .pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Center,
                ));
            let centre = (x0 + (col as f64 + 0.5) * dx, y1 - (row as f64 + 0.5) * dy);
            Text::new(format_float(v), centre, style)
        });
        chart.draw_series(labels).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn raster_colors(values: &Array2<f64>, colors: Colors) -> Array2<RGBColor> {
    let (low, high) = bounds(values.iter().copied()).unwrap_or((0.0, 1.0));
    let span = (high - low).max(1e-12);
    let fraction = |v: f64| ((v - low) / span).clamp(0.0, 1.0);
    values.mapv(|v| match colors {
        Colors::Viridis { .. } => ViridisRGB.get_color_normalized(fraction(v), 0.0, 1.0),
        Colors::GreyReversed => {
            let grey = (255.0 * (1.0 - fraction(v))).round() as u8;
            RGBColor(grey, grey, grey)
        }
        Colors::Bands(levels) => {
            let band = (fraction(v) * levels as f64)
                .floor()
                .min(levels as f64 - 1.0);
            ViridisRGB.get_color_normalized((band + 0.5) / levels as f64, 0.0, 1.0)
        }
        Colors::Classes => {
            let RGBColor(r, g, b) = PALETTE[(v.round().max(0.0) as usize) % PALETTE.len()];
            let light = |c: u8| (f64::from(c) * 0.35 + 255.0 * 0.65) as u8;
            RGBColor(light(r), light(g), light(b))
        }
    })
}

/// Replaces each raster's placeholder `<rect>` in plotters' SVG by an `<image>` of the same
/// box holding the raster as a PNG, drawn with crisp cells.
fn embed_rasters(svg: String, images: &[RgbImage]) -> String {
    let mut svg = svg;
    for (index, image) in images.iter().enumerate() {
        let RGBColor(r, g, b) = placeholder(index);
        let fill = format!("fill=\"#{r:02X}{g:02X}{b:02X}\"");
        let Some(at) = svg.find(&fill) else { continue };
        let (Some(start), Some(end)) = (svg[..at].rfind("<rect"), svg[at..].find("/>")) else {
            continue;
        };
        let rect = &svg[start..at + end];
        let attribute = |name: &str| -> String {
            let key = format!(" {name}=\"");
            rect.find(&key)
                .and_then(|i| rect[i + key.len()..].split('"').next())
                .unwrap_or("0")
                .to_owned()
        };
        let png = Png::encode(&DynamicImage::ImageRgb8(image.clone()))
            .map(|png| base64::engine::general_purpose::STANDARD.encode(png.0))
            .unwrap_or_default();
        let element = format!(
            "<image x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" preserveAspectRatio=\"none\" \
             style=\"image-rendering:pixelated\" href=\"data:image/png;base64,{png}\"/>",
            attribute("x"),
            attribute("y"),
            attribute("width"),
            attribute("height"),
        );
        svg.replace_range(start..at + end + 2, &element);
    }
    svg
}
