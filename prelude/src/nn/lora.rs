//! LoRA (Hu et al., 2021): fine-tune a large layer by training a small low-rank update beside
//! it. A [`Linear`] here is candle-nn's, plus an optional adapter: `y = W x + (α / r) B A x`,
//! with `W` frozen (the optimizer never sees it), `A` (r × in) random and `B` (out × r) zero,
//! so an adapted model starts out exactly as the base one. The adapters' variables live in a
//! `VarMap` of their own: train it, save it (`varmap.save(path)`, safetensors), load it into
//! the same base model later (`varmap.load(path)`).

use candle_core::{Module, Result, Tensor};
use candle_nn::init::{FanInOut, NonLinearity, NormalOrUniform};
use candle_nn::{Init, VarBuilder};

use super::precision::compute_dtype;

/// A linear layer that can carry a LoRA adapter.
pub struct Linear {
    pub base: candle_nn::Linear,
    adapter: Option<Adapter>,
}

struct Adapter {
    a: Tensor,
    b: Tensor,
    scale: f64,
}

/// `torch.nn.Linear(inputs, outputs)`, its weight and bias in `vb` as candle-nn names them.
pub fn linear(inputs: usize, outputs: usize, vb: VarBuilder) -> Result<Linear> {
    Ok(candle_nn::linear(inputs, outputs, vb)?.into())
}

/// An adapter's rank and scale, and which layers get one (by the field names of the model's
/// linear layers: `query`, `key`, `value`, `out`, `expand`, `project`, `head` in a `Gpt`).
#[derive(Debug, Clone, PartialEq)]
pub struct LoraConfig {
    pub rank: usize,
    pub alpha: f64,
    pub targets: Vec<String>,
}

impl LoraConfig {
    pub fn new(rank: usize, alpha: f64, targets: &[&str]) -> Self {
        LoraConfig {
            rank,
            alpha,
            targets: targets.iter().map(|t| t.to_string()).collect(),
        }
    }
}

impl From<candle_nn::Linear> for Linear {
    fn from(base: candle_nn::Linear) -> Self {
        Linear {
            base,
            adapter: None,
        }
    }
}

impl Linear {
    /// Adds an adapter whose `lora_a` and `lora_b` are created in `vb` (PEFT's names), or
    /// found there when `vb`'s VarMap already holds them.
    pub fn add_lora(&mut self, rank: usize, alpha: f64, vb: VarBuilder) -> Result<()> {
        let (outputs, inputs) = self.base.weight().dims2()?;
        // PEFT's initialisation: A as a linear layer's weight (Kaiming uniform), B zero.
        let kaiming = Init::Kaiming {
            dist: NormalOrUniform::Uniform,
            fan: FanInOut::FanIn,
            non_linearity: NonLinearity::ExplicitGain(1.0 / 3f64.sqrt()),
        };
        self.adapter = Some(Adapter {
            a: vb.get_with_hints((rank, inputs), "lora_a", kaiming)?,
            b: vb.get_with_hints((outputs, rank), "lora_b", Init::Const(0.0))?,
            scale: alpha / rank as f64,
        });
        Ok(())
    }

    pub fn has_lora(&self) -> bool {
        self.adapter.is_some()
    }
}

impl Module for Linear {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let base = match compute_dtype().filter(|&d| d != xs.dtype()) {
            // Autocast: weight, bias and input in `dtype`, the result back in the input's.
            Some(dtype) => {
                let weight = self.base.weight().to_dtype(dtype)?;
                let bias = self.base.bias().map(|b| b.to_dtype(dtype)).transpose()?;
                candle_nn::Linear::new(weight, bias)
                    .forward(&xs.to_dtype(dtype)?)?
                    .to_dtype(xs.dtype())?
            }
            None => self.base.forward(xs)?,
        };
        let Some(adapter) = &self.adapter else {
            return Ok(base);
        };
        let update = xs
            .broadcast_matmul(&adapter.a.t()?)?
            .broadcast_matmul(&adapter.b.t()?)?;
        base + (update * adapter.scale)?
    }
}
