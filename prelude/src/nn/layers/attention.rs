//! Multi-head self-attention and its causal mask.

use candle_core::{Device, Module, Result, Tensor};
use candle_nn::VarBuilder;

use crate::nn::lora::{linear, Linear};

/// Multi-head self-attention, as `torch.nn.MultiheadAttention(d_model, heads,
/// batch_first=True)` applied to one sequence (query = key = value): inputs
/// `(batch, time, d_model)`; `causal` lets position t attend only to positions ≤ t.
pub struct MultiHeadAttention {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub out: Linear,
    pub heads: usize,
    pub causal: bool,
}

impl MultiHeadAttention {
    pub fn new(d_model: usize, heads: usize, causal: bool, vb: VarBuilder) -> Result<Self> {
        if heads == 0 || d_model % heads != 0 {
            candle_core::bail!(
                "MultiHeadAttention: d_model {d_model} is not a multiple of heads {heads}"
            );
        }
        Ok(MultiHeadAttention {
            query: linear(d_model, d_model, vb.pp("query"))?,
            key: linear(d_model, d_model, vb.pp("key"))?,
            value: linear(d_model, d_model, vb.pp("value"))?,
            out: linear(d_model, d_model, vb.pp("out"))?,
            heads,
            causal,
        })
    }

    /// The attention weights `(batch, heads, time, time)` and the output.
    pub fn forward_with_weights(&self, xs: &Tensor) -> Result<(Tensor, Tensor)> {
        self.forward_masked(xs, None)
    }

    /// As [`Self::forward_with_weights`], with `mask` added to the attention scores before
    /// the softmax (broadcast to `(batch, heads, time, time)`; a large negative number where
    /// a position must not be attended to, such as padding).
    pub fn forward_masked(&self, xs: &Tensor, mask: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let (batch, time, d_model) = xs.dims3()?;
        let head_dim = d_model / self.heads;
        let split = |t: Tensor| {
            t.reshape((batch, time, self.heads, head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(self.query.forward(xs)?)?;
        let k = split(self.key.forward(xs)?)?;
        let v = split(self.value.forward(xs)?)?;
        let mut scores = (q.matmul(&k.t()?)? / (head_dim as f64).sqrt())?;
        if self.causal {
            scores =
                scores.broadcast_add(&causal_mask(time, xs.device())?.to_dtype(scores.dtype())?)?;
        }
        if let Some(mask) = mask {
            scores = scores.broadcast_add(mask)?;
        }
        let weights = crate::nn::functional::softmax(&scores)?;
        let heads = weights.matmul(&v)?;
        let merged = heads.transpose(1, 2)?.reshape((batch, time, d_model))?;
        Ok((weights, self.out.forward(&merged)?))
    }
}

impl Module for MultiHeadAttention {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        Ok(self.forward_with_weights(xs)?.1)
    }
}

/// `(time, time)`: 0 where a position may attend, -∞ above the diagonal.
pub fn causal_mask(time: usize, device: &Device) -> Result<Tensor> {
    let values: Vec<f32> = (0..time)
        .flat_map(|i| (0..time).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(values, (time, time), device)
}
