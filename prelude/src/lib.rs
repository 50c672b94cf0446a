//! ferrolab: everything a Ferrolab notebook session has in scope.
//!
//! Every cell starts with `use ferrolab::prelude::*;`. This crate is built once, optimized,
//! as a Rust `dylib`, and cells link it dynamically (see kernel/src/prebuilt.rs for why).
//! The libraries keep their own names and docs: Ferrolab adds to them, it doesn't rename.

pub mod display;
pub mod prelude;
pub mod runtime;

pub use ndarray;
pub use polars;
