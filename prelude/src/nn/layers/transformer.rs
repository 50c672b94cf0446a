//! GPT-2's pre-norm transformer block.

use candle_core::{Module, ModuleT, Result, Tensor};
use candle_nn::VarBuilder;

use super::attention::MultiHeadAttention;
use super::basic::Dropout;
use super::norm::{layer_norm, LayerNorm};
use crate::nn::lora::{linear, Linear};

/// A pre-norm transformer block as GPT-2 has: `x + attention(norm(x))`, then
/// `x + mlp(norm(x))` with a GELU MLP four times wider than the model, dropout after each.
pub struct TransformerBlock {
    pub norm1: LayerNorm,
    pub attention: MultiHeadAttention,
    pub norm2: LayerNorm,
    pub expand: Linear,
    pub project: Linear,
    pub dropout: Dropout,
}

impl TransformerBlock {
    pub fn new(
        d_model: usize,
        heads: usize,
        causal: bool,
        dropout: f64,
        vb: VarBuilder,
    ) -> Result<Self> {
        Ok(TransformerBlock {
            norm1: layer_norm(d_model, 1e-5, vb.pp("norm1"))?,
            attention: MultiHeadAttention::new(d_model, heads, causal, vb.pp("attention"))?,
            norm2: layer_norm(d_model, 1e-5, vb.pp("norm2"))?,
            expand: linear(d_model, 4 * d_model, vb.pp("expand"))?,
            project: linear(4 * d_model, d_model, vb.pp("project"))?,
            dropout: Dropout(dropout),
        })
    }
}

impl ModuleT for TransformerBlock {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let attended = self.attention.forward(&self.norm1.forward(xs)?)?;
        let xs = (xs + self.dropout.forward_t(&attended, train)?)?;
        let hidden = self.expand.forward(&self.norm2.forward(&xs)?)?;
        let hidden = crate::nn::functional::gelu(&hidden)?;
        let mlp = self.project.forward(&hidden)?;
        &xs + self.dropout.forward_t(&mlp, train)?
    }
}
