//! Plots for lessons, drawn by plotters in the look people know from matplotlib and seaborn:
//!
//! ```ignore
//! Plot::new().line(&x, &train).label("train").line(&x, &val).label("validation")
//!     .title("Loss").xlabel("epoch").ylabel("loss").log_y()
//! ```
//!
//! A plot (or a [`Figure`] of several panels) renders as SVG plus a PNG fallback. Text is
//! measured and rasterised with an embedded font, so no system fonts are needed.

mod axes;
mod draw;
mod figure;
mod layers;
mod raster;
mod style;

pub use axes::Plot;
pub use figure::Figure;
pub(crate) use layers::ParallelAxis;
