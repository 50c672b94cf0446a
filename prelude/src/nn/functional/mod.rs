//! `torch.nn.functional` for the operations training spends its time in, each fused: the
//! forward pass and the backward pass are one sweep over the data each, split over all
//! cores. candle composes these from element-wise operations that each allocate, run on one
//! thread and record their own backward (GELU's backward alone is seven of them), and
//! candle-nn's fused softmax and layer norm record no backward at all. The prelude's layers
//! (`LayerNorm`, `MultiHeadAttention`, `TransformerBlock`, `Conv2d`, `MaxPool2d`, the hub's
//! BERT) and `nn::loss::cross_entropy` run these.
//!
//! The kernels compute in f32 or f64; f16 and bf16 tensors are widened to f32 around them.
//! On a GPU each function is candle's own composed form of the same operation.

mod activation;
mod conv;
mod kernel;
mod math;
mod norm;
mod softmax;

pub use activation::gelu;
pub use conv::{conv2d, max_pool2d};
pub use norm::layer_norm;
pub use softmax::{cross_entropy, softmax};
