//! Layers candle-nn lacks, in `torch.nn`'s terms: a named [`Sequential`] with a model
//! summary, [`MaxPool2d`], [`Flatten`], [`Tanh`], a [`Dropout`] drawn from the seeded global
//! generator, a [`LayerNorm`] that gradients pass through, [`MultiHeadAttention`] and a
//! GPT-style [`TransformerBlock`]; and [`Conv2d`], candle-nn's layer with a fast backward
//! pass. Linear, BatchNorm, Embedding and the other activations are candle-nn's
//! (`candle_nn::linear`, `candle_nn::Activation::Relu`, ...).
//!
//! [`var_builder`] draws new parameters from `random`'s global generator, so that
//! `random::seed(42)` makes a model's initial weights reproducible (candle's own CPU
//! generator cannot be seeded).

mod attention;
mod basic;
mod conv;
mod init;
mod norm;
mod sequential;
mod transformer;

pub use attention::{causal_mask, MultiHeadAttention};
pub use basic::{Dropout, Flatten, MaxPool2d, Tanh};
pub use conv::{conv2d, Conv2d};
pub use init::var_builder;
pub use norm::{layer_norm, LayerNorm};
pub use sequential::{Sequential, Summary};
pub use transformer::TransformerBlock;
