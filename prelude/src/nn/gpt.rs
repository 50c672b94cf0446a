//! A GPT small enough to train in a notebook: token and position embeddings, a stack of the
//! prelude's causal [`TransformerBlock`]s, a final layer norm and a linear head over the
//! vocabulary, as in Karpathy's minGPT. It samples with a [`GenerationConfig`], as the Hugging
//! Face models do.

use candle_core::{Device, Module, ModuleT, Result, Tensor, D};
use candle_nn::{Embedding, VarBuilder};
use candle_transformers::generation::LogitsProcessor;

use super::lora::{linear, Linear, LoraConfig};
use super::GenerationConfig;
use super::{layer_norm, LayerNorm, TransformerBlock};
use crate::display::{LiveText, MimeBundle};

/// A GPT's sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct GptConfig {
    pub vocab_size: usize,
    /// The most tokens it sees at once.
    pub context: usize,
    pub d_model: usize,
    pub heads: usize,
    pub layers: usize,
    pub dropout: f64,
}

pub struct Gpt {
    pub config: GptConfig,
    pub tokens: Embedding,
    pub positions: Embedding,
    pub blocks: Vec<TransformerBlock>,
    pub norm: LayerNorm,
    pub head: Linear,
}

impl Gpt {
    /// Token ids `(batch, time)` → logits, for inference (dropout off, as after PyTorch's
    /// `model.eval()`); a training step calls `forward_t(ids, true)`.
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        self.forward_t(ids, false)
    }

    pub fn new(config: GptConfig, vb: VarBuilder) -> Result<Gpt> {
        let d = config.d_model;
        let blocks = (0..config.layers)
            .map(|i| {
                TransformerBlock::new(
                    d,
                    config.heads,
                    true,
                    config.dropout,
                    vb.pp(format!("block{i}")),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Gpt {
            tokens: candle_nn::embedding(config.vocab_size, d, vb.pp("tokens"))?,
            positions: candle_nn::embedding(config.context, d, vb.pp("positions"))?,
            blocks,
            norm: layer_norm(d, 1e-5, vb.pp("norm"))?,
            head: linear(d, config.vocab_size, vb.pp("head"))?,
            config,
        })
    }

    /// Puts a LoRA adapter on every linear layer `config.targets` names, in every block (and
    /// on the head if named), its variables in `vb`; returns how many layers got one.
    pub fn add_lora(&mut self, config: &LoraConfig, vb: VarBuilder) -> Result<usize> {
        const LAYERS: [&str; 7] = ["query", "key", "value", "out", "expand", "project", "head"];
        if let Some(unknown) = config
            .targets
            .iter()
            .find(|t| !LAYERS.contains(&t.as_str()))
        {
            candle_core::bail!("LoRA target {unknown:?}: a Gpt's linear layers are {LAYERS:?}");
        }
        let mut adapted = 0;
        for target in &config.targets {
            let (rank, alpha) = (config.rank, config.alpha);
            if target == "head" {
                self.head.add_lora(rank, alpha, vb.pp("head"))?;
                adapted += 1;
                continue;
            }
            for (i, block) in self.blocks.iter_mut().enumerate() {
                let vb = vb.pp(format!("block{i}"));
                let attention = &mut block.attention;
                let (layer, vb) = match target.as_str() {
                    "query" => (&mut attention.query, vb.pp("attention.query")),
                    "key" => (&mut attention.key, vb.pp("attention.key")),
                    "value" => (&mut attention.value, vb.pp("attention.value")),
                    "out" => (&mut attention.out, vb.pp("attention.out")),
                    "expand" => (&mut block.expand, vb.pp("expand")),
                    _ => (&mut block.project, vb.pp("project")),
                };
                layer.add_lora(rank, alpha, vb)?;
                adapted += 1;
            }
        }
        Ok(adapted)
    }

    /// Mean cross-entropy of predicting each `targets` token from the tokens before it.
    pub fn loss(&self, ids: &Tensor, targets: &Tensor, train: bool) -> Result<Tensor> {
        let logits = self.forward_t(ids, train)?;
        let vocab = self.config.vocab_size;
        crate::nn::loss::cross_entropy(&logits.reshape(((), vocab))?, &targets.flatten_all()?)
    }

    /// Continues `prompt` token by token, sampled as `options` say (the last `context` tokens
    /// condition each one); `decode` turns ids into the text streamed into the cell's output.
    pub fn generate(
        &self,
        prompt: &[u32],
        options: &GenerationConfig,
        decode: impl Fn(&[u32]) -> String,
    ) -> Result<Vec<u32>> {
        let device = self.head.base.weight().device();
        let mut ids = prompt.to_vec();
        let mut sampler = LogitsProcessor::from_sampling(options.seed, options.sampling());
        let mut shown = LiveText::new(options.stream, &decode(&ids));
        for _ in 0..options.max_new_tokens {
            crate::runtime::check_interrupt();
            let window = &ids[ids.len().saturating_sub(self.config.context)..];
            let input = Tensor::new(window, device)?.unsqueeze(0)?;
            let logits = self.forward_t(&input, false)?.squeeze(0)?;
            let last = logits.get(window.len() - 1)?.to_device(&Device::Cpu)?;
            ids.push(sampler.sample(&last)?);
            shown.update(|| Ok::<_, candle_core::Error>(decode(&ids)))?;
        }
        shown.finish(&MimeBundle::plain(decode(&ids)));
        Ok(ids)
    }
}

/// Token ids `(batch, time)` → logits `(batch, time, vocab_size)`.
impl ModuleT for Gpt {
    fn forward_t(&self, ids: &Tensor, train: bool) -> Result<Tensor> {
        let time = ids.dim(D::Minus1)?;
        if time > self.config.context {
            candle_core::bail!(
                "Gpt: {time} tokens, but the context holds {}",
                self.config.context
            );
        }
        let positions = Tensor::arange(0u32, time as u32, ids.device())?;
        let mut x = self
            .tokens
            .forward(ids)?
            .broadcast_add(&self.positions.forward(&positions)?)?;
        for block in &self.blocks {
            x = block.forward_t(&x, train)?;
        }
        self.head.forward(&self.norm.forward(&x)?)
    }
}
