//! `Figure`: plots in a grid of panels, rendered as SVG with a PNG fallback, or saved.

use image::{DynamicImage, RgbImage};
use plotters::prelude::*;

use super::axes::Plot;
use super::raster::{embed_rasters, Rasters};
use super::style::{register_font, FONT, TEXT};
use crate::display::{MimeBundle, Png, Render, Svg};

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

    /// The size asked for, or panels of 430×340 px shrunk together to fit 840 px: the width
    /// of JupyterLab's output area in a 1280 px window with the file browser open (848 px),
    /// where a wider SVG is cut off, not scaled (JupyterLab 4 confines PNGs to the output
    /// area, not SVGs; matplotlib keeps a fixed figure size whatever the panels).
    fn pixels(&self) -> (u32, u32) {
        const PANEL: (u32, u32) = (430, 340);
        const MAX_WIDTH: u32 = 840;
        let (rows, columns) = self.grid();
        let title = if self.title.is_some() { 40 } else { 0 };
        let panel_width = PANEL.0.min(MAX_WIDTH / columns as u32);
        let panel_height = PANEL.1 * panel_width / PANEL.0;
        self.size.unwrap_or((
            columns as u32 * panel_width,
            rows as u32 * panel_height + title,
        ))
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
