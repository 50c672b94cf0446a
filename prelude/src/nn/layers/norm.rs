//! A layer norm that gradients pass through.

use candle_core::{Module, Result, Tensor};
use candle_nn::init::Init;
use candle_nn::VarBuilder;

/// `torch.nn.LayerNorm(size)`: each vector normalised to mean 0 and variance 1, then scaled
/// and shifted. candle-nn's `LayerNorm` runs a fused kernel that records no backward: the
/// gradient would stop at every norm, and nothing below it would learn. This one is made of
/// differentiable tensor operations, and runs the fused kernel only when nothing it touches
/// is being trained.
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
        let trained = [xs, &self.weight, &self.bias].iter().any(|t| t.track_op());
        if !trained && xs.is_contiguous() {
            return candle_nn::ops::layer_norm(xs, &self.weight, &self.bias, self.eps as f32);
        }
        let centred = xs.broadcast_sub(&xs.mean_keepdim(candle_core::D::Minus1)?)?;
        let variance = centred.sqr()?.mean_keepdim(candle_core::D::Minus1)?;
        centred
            .broadcast_div(&(variance + self.eps)?.sqrt()?)?
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)
    }
}
