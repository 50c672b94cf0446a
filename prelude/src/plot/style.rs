//! The look: matplotlib's colours, the grid, the embedded font.

use std::sync::Once;

use plotters::prelude::*;

/// matplotlib's default colour cycle ("tab10").
pub(super) const PALETTE: [RGBColor; 10] = [
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
pub(super) const GRID: RGBColor = RGBColor(229, 229, 229);
pub(super) const AXIS: RGBColor = RGBColor(120, 120, 120);
pub(super) const TEXT: RGBColor = RGBColor(40, 40, 40);
pub(super) const FONT: &str = "sans-serif";
/// Resolution of the grid a decision boundary is evaluated on, per axis.
pub(super) const BOUNDARY_RESOLUTION: usize = 150;
/// Heatmaps up to this many cells per side print their values in the cells.
pub(super) const ANNOTATE_UP_TO: usize = 12;

/// plotters measures and rasterises text with fonts registered by name; ours is embedded.
pub(super) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            include_bytes!("../../assets/DejaVuSans.ttf"),
        )
        .unwrap_or_else(|_| panic!("the embedded font is valid"));
    });
}
