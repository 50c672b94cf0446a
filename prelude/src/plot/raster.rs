//! Rasters (heatmaps, images, contours): cells as rectangles in a bitmap, one embedded PNG
//! in an SVG.

use base64::Engine;
use image::{DynamicImage, RgbImage};
use ndarray::Array2;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

use super::draw::bounds;
use super::layers::Colors;
use super::style::{FONT, PALETTE};
use crate::display::{format_float, Png};

/// How a figure's rasters reach the output. A bitmap gets their cells as rectangles. An SVG
/// gets a placeholder rectangle of a reserved colour for each, which `embed_rasters` then
/// replaces with the raster as a PNG `<image>`: a 60 × 80 picture is one element, not 4,800.
#[derive(Default)]
pub(super) struct Rasters {
    pub(super) embed: bool,
    pub(super) images: Vec<RgbImage>,
}

/// Placeholder fills are `#FE00nn`, `nn` the raster's number: colours no palette uses.
pub(super) fn placeholder(index: usize) -> RGBColor {
    RGBColor(254, 0, index as u8)
}

pub(super) fn draw_raster<DB, X, Y>(
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

pub(super) fn raster_colors(values: &Array2<f64>, colors: Colors) -> Array2<RGBColor> {
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
pub(super) fn embed_rasters(svg: String, images: &[RgbImage]) -> String {
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
