//! A layer norm that gradients pass through.

use candle_core::{Module, Result, Tensor};
use candle_nn::init::Init;
use candle_nn::VarBuilder;

/// `torch.nn.LayerNorm(size)`: each vector normalised to mean 0 and variance 1, then scaled
/// and shifted. candle-nn's `LayerNorm` runs a fused kernel that records no backward: the
/// gradient would stop at every norm, and nothing below it would learn. This one runs
/// [`crate::nn::functional::layer_norm`], fused with its backward.
pub struct LayerNorm {
    pub weight: Tensor,
    pub bias: Tensor,
    pub eps: f64,
}

/// A [`LayerNorm`] over the last dimension, its weight and bias in `vb` as candle-nn names
/// them (`weight`, `bias`), so that checkpoints of candle-nn models load.
pub fn layer_norm(size: usize, eps: f64, vb: VarBuilder) -> Result<LayerNorm> {
    Ok(LayerNorm {
        weight: vb.get_with_hints(size, "weight", Init::Const(1.0))?,
        bias: vb.get_with_hints(size, "bias", Init::Const(0.0))?,
        eps,
    })
}

impl Module for LayerNorm {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        crate::nn::functional::layer_norm(xs, &self.weight, &self.bias, self.eps)
    }
}
