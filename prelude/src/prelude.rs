//! The names every cell sees. Libraries are re-exported under the names their docs use.

pub use ndarray::{array, s, Array, Array1, Array2, Array3, ArrayD, ArrayView1, ArrayView2, Axis};
pub use polars::df;
pub use polars::prelude::*;

pub use crate::display::{
    clear_output, display, DisplayHandle, Html, Latex, Markdown, MimeBundle, Render, Svg,
};
pub use crate::runtime::{check_interrupt, InterruptibleExt};
