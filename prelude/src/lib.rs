//! ferrolab: everything a Ferrolab notebook session has in scope.
//!
//! Every cell starts with `use ferrolab::prelude::*;`. This crate is built once, optimized,
//! as a Rust `dylib`, and cells link it dynamically (see kernel/src/prebuilt.rs for why).
//! The libraries keep their own names and docs: Ferrolab adds to them, it doesn't rename.

pub mod array;
pub mod data;
pub mod datasets;
pub mod display;
pub mod frame;
pub mod hub;
pub mod learn;
pub mod linalg;
pub mod metrics;
pub mod nn;
pub mod parameters;
pub mod plot;
pub mod prelude;
pub mod progress;
pub mod random;
pub mod runtime;
pub mod tensor;
pub mod track;
pub mod train;

pub use candle_core as candle;
pub use candle_nn;
pub use candle_transformers;
pub use faer;
pub use image;
pub use ndarray;
pub use plotters;
pub use polars;
pub use rand;
pub use tokenizers;
