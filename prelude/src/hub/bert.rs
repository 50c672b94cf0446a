//! BERT and DistilBERT (and models of their shape, such as MiniLM) built from the prelude's
//! layers, loading Hugging Face checkpoints by their names. candle-transformers has both, but
//! their linear layers are private (no LoRA adapters can be put on them) and their LayerNorm
//! is candle-nn's fused kernel, which records no backward (nothing below it could be
//! fine-tuned). Here the linear layers are [`nn::Linear`](crate::nn::Linear)s and the norms
//! [`LayerNorm`]s, which run the fused kernels anyway when nothing is being trained.

use std::path::Path;

use candle_core::{DType, Module, ModuleT, Result, Tensor};
use candle_nn::{Embedding, VarBuilder};
use candle_transformers::models::bert::{Config, HiddenAct, PositionEmbeddingType};

use super::{read_json, HubError};
use crate::nn::{layer_norm, linear, Dropout, LayerNorm, Linear, LoraConfig, MultiHeadAttention};

/// Where a checkpoint keeps each weight: BERT's and DistilBERT's names for the same parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Layout {
    /// The encoder's names in a task checkpoint (`bert.…`); bare encoders have none.
    prefix: &'static str,
    layers: &'static str,
    query: &'static str,
    key: &'static str,
    value: &'static str,
    out: &'static str,
    attention_norm: &'static str,
    expand: &'static str,
    project: &'static str,
    output_norm: &'static str,
    /// The dense layer between the `[CLS]` vector and the classifier, from the checkpoint's
    /// root, and what follows it: BERT's pooler (tanh), DistilBERT's pre-classifier (ReLU).
    pub pooler: &'static str,
    pooler_tanh: bool,
}

const BERT: Layout = Layout {
    prefix: "bert",
    layers: "encoder.layer",
    query: "attention.self.query",
    key: "attention.self.key",
    value: "attention.self.value",
    out: "attention.output.dense",
    attention_norm: "attention.output.LayerNorm",
    expand: "intermediate.dense",
    project: "output.dense",
    output_norm: "output.LayerNorm",
    pooler: "bert.pooler.dense",
    pooler_tanh: true,
};

const DISTILBERT: Layout = Layout {
    prefix: "distilbert",
    layers: "transformer.layer",
    query: "attention.q_lin",
    key: "attention.k_lin",
    value: "attention.v_lin",
    out: "attention.out_lin",
    attention_norm: "sa_layer_norm",
    expand: "ffn.lin1",
    project: "ffn.lin2",
    output_norm: "output_layer_norm",
    pooler: "pre_classifier",
    pooler_tanh: false,
};

/// A model directory's config.json as a BERT config, and the layout of its weights. A
/// DistilBERT config (`model_type: distilbert`) is read into the same fields: DistilBERT is
/// BERT without token types, with other names.
pub(crate) fn read_bert_config(dir: &Path) -> super::Result<(Config, Layout)> {
    let path = dir.join("config.json");
    let json = read_json(&path)?;
    let invalid = |message: String| HubError::Load {
        path: path.clone(),
        message,
    };
    if json["model_type"] != "distilbert" {
        let config = serde_json::from_value(json)
            .map_err(|err| invalid(format!("not a BERT config: {err}")))?;
        return Ok((config, BERT));
    }
    let size = |key: &str| {
        json[key]
            .as_u64()
            .map(|n| n as usize)
            .ok_or_else(|| invalid(format!("DistilBERT config without `{key}`")))
    };
    let number = |key: &str, default: f64| json[key].as_f64().unwrap_or(default);
    let config = Config {
        vocab_size: size("vocab_size")?,
        hidden_size: size("dim")?,
        num_hidden_layers: size("n_layers")?,
        num_attention_heads: size("n_heads")?,
        intermediate_size: size("hidden_dim")?,
        hidden_act: match json["activation"].as_str().unwrap_or("gelu") {
            "gelu" => HiddenAct::Gelu,
            "relu" => HiddenAct::Relu,
            other => return Err(invalid(format!("DistilBERT activation {other:?}"))),
        },
        hidden_dropout_prob: number("dropout", 0.1),
        max_position_embeddings: size("max_position_embeddings")?,
        type_vocab_size: 0,
        initializer_range: number("initializer_range", 0.02),
        layer_norm_eps: 1e-12,
        pad_token_id: json["pad_token_id"].as_u64().unwrap_or(0) as usize,
        position_embedding_type: PositionEmbeddingType::Absolute,
        use_cache: false,
        classifier_dropout: Some(number("seq_classif_dropout", 0.2)),
        model_type: Some("distilbert".into()),
    };
    Ok((config, DISTILBERT))
}

/// One encoder layer, post-norm as in BERT and DistilBERT: `norm(x + attention(x))`, then
/// `norm(x + project(act(expand(x))))`.
pub struct BertLayer {
    pub attention: MultiHeadAttention,
    pub attention_norm: LayerNorm,
    /// BERT's `intermediate.dense`, DistilBERT's `ffn.lin1`.
    pub expand: Linear,
    /// BERT's `output.dense`, DistilBERT's `ffn.lin2`.
    pub project: Linear,
    pub output_norm: LayerNorm,
}

/// A BERT or DistilBERT encoder, with the dense layer its classification head reads the
/// `[CLS]` vector through when the checkpoint has one (see [`Layout::pooler`]). Dropout (the
/// config's `hidden_dropout_prob`) applies to embeddings and sublayer outputs in training;
/// attention probabilities are not dropped.
pub struct Bert {
    pub word_embeddings: Embedding,
    pub position_embeddings: Embedding,
    /// BERT's; DistilBERT has no token types.
    pub token_type_embeddings: Option<Embedding>,
    pub embeddings_norm: LayerNorm,
    pub layers: Vec<BertLayer>,
    pub pooler: Option<Linear>,
    pub(crate) layout: Layout,
    activation: HiddenAct,
    dropout: Dropout,
}

/// The linear layers LoRA can adapt, by the names [`Bert::add_lora`] takes (those of the
/// prelude's `TransformerBlock`; in a BERT checkpoint `attention.self.query`, `.key`,
/// `.value`, `attention.output.dense`, `intermediate.dense`, `output.dense`).
const LORA_TARGETS: [&str; 6] = ["query", "key", "value", "out", "expand", "project"];

impl Bert {
    /// Loads the encoder from `vb`, whose names carry the layout's prefix (`bert.`,
    /// `distilbert.`: a task checkpoint such as `BertForSequenceClassification`) or not (a
    /// bare encoder).
    pub(crate) fn load(vb: VarBuilder, config: &Config, layout: Layout) -> Result<Bert> {
        let prefixed = vb.contains_tensor(&format!(
            "{}.embeddings.word_embeddings.weight",
            layout.prefix
        ));
        let (encoder, pooler_path) = if prefixed {
            (vb.pp(layout.prefix), layout.pooler.to_owned())
        } else {
            let local = layout.pooler.strip_prefix(&format!("{}.", layout.prefix));
            (vb.clone(), local.unwrap_or(layout.pooler).to_owned())
        };
        let hidden = config.hidden_size;
        let eps = config.layer_norm_eps;
        let embeddings = encoder.pp("embeddings");
        let layers = (0..config.num_hidden_layers)
            .map(|i| BertLayer::load(encoder.pp(format!("{}.{i}", layout.layers)), config, layout))
            .collect::<Result<Vec<_>>>()?;
        let pooler = if vb.contains_tensor(&format!("{pooler_path}.weight")) {
            Some(linear(hidden, hidden, vb.pp(pooler_path))?)
        } else {
            None
        };
        let token_type_embeddings = if config.type_vocab_size > 0 {
            Some(candle_nn::embedding(
                config.type_vocab_size,
                hidden,
                embeddings.pp("token_type_embeddings"),
            )?)
        } else {
            None
        };
        Ok(Bert {
            word_embeddings: candle_nn::embedding(
                config.vocab_size,
                hidden,
                embeddings.pp("word_embeddings"),
            )?,
            position_embeddings: candle_nn::embedding(
                config.max_position_embeddings,
                hidden,
                embeddings.pp("position_embeddings"),
            )?,
            token_type_embeddings,
            embeddings_norm: layer_norm(hidden, eps, embeddings.pp("LayerNorm"))?,
            layers,
            pooler,
            layout,
            activation: config.hidden_act,
            dropout: Dropout(config.hidden_dropout_prob),
        })
    }

    /// The last layer's token vectors `(batch, time, hidden)` for token ids `(batch, time)`;
    /// `mask` (1 for real tokens, 0 for padding, any integer or float dtype) keeps padding
    /// from being attended to. Token types are all 0 (single texts).
    pub fn forward(&self, ids: &Tensor, mask: &Tensor, train: bool) -> Result<Tensor> {
        let time = ids.dim(1)?;
        let positions = Tensor::arange(0u32, time as u32, ids.device())?;
        let mut embedded = self
            .word_embeddings
            .forward(ids)?
            .broadcast_add(&self.position_embeddings.forward(&positions)?)?;
        if let Some(types) = &self.token_type_embeddings {
            embedded = embedded.broadcast_add(&types.forward(&ids.zeros_like()?)?)?;
        }
        let mut xs = self
            .dropout
            .forward_t(&self.embeddings_norm.forward(&embedded)?, train)?;
        // 0 where a token may be attended to, a large negative number at padding, as
        // transformers' extended attention mask: `(batch, 1, 1, time)`.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(1)?.unsqueeze(1)?;
        let mask = ((mask - 1.0)? * f64::from(f32::MAX))?.to_dtype(xs.dtype())?;
        for layer in &self.layers {
            xs = layer.forward(&xs, &mask, self.activation, self.dropout, train)?;
        }
        Ok(xs)
    }

    /// The pooled `[CLS]` vector `(batch, hidden)` that the classification head reads:
    /// through BERT's pooler (tanh) or DistilBERT's pre-classifier (ReLU) when there is one.
    pub fn pool(&self, hidden: &Tensor) -> Result<Tensor> {
        let cls = hidden.narrow(1, 0, 1)?.squeeze(1)?;
        match &self.pooler {
            Some(pooler) if self.layout.pooler_tanh => pooler.forward(&cls)?.tanh(),
            Some(pooler) => pooler.forward(&cls)?.relu(),
            None => Ok(cls),
        }
    }

    /// Puts a LoRA adapter on every linear layer `config.targets` names in every encoder
    /// layer, its variables in `vb`; returns how many layers got one.
    pub fn add_lora(&mut self, config: &LoraConfig, vb: VarBuilder) -> Result<usize> {
        if let Some(unknown) = config
            .targets
            .iter()
            .find(|t| !LORA_TARGETS.contains(&t.as_str()))
        {
            candle_core::bail!(
                "LoRA target {unknown:?}: BERT's linear layers are {LORA_TARGETS:?}"
            );
        }
        let mut adapted = 0;
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let vb = vb.pp(format!("layer{i}"));
            for target in &config.targets {
                let linear = match target.as_str() {
                    "query" => &mut layer.attention.query,
                    "key" => &mut layer.attention.key,
                    "value" => &mut layer.attention.value,
                    "out" => &mut layer.attention.out,
                    "expand" => &mut layer.expand,
                    _ => &mut layer.project,
                };
                linear.add_lora(config.rank, config.alpha, vb.pp(target))?;
                adapted += 1;
            }
        }
        Ok(adapted)
    }
}

impl BertLayer {
    fn load(vb: VarBuilder, config: &Config, names: Layout) -> Result<BertLayer> {
        let (hidden, eps) = (config.hidden_size, config.layer_norm_eps);
        let heads = config.num_attention_heads;
        if heads == 0 || hidden % heads != 0 {
            candle_core::bail!("BERT: hidden_size {hidden} is not a multiple of {heads} heads");
        }
        let intermediate = config.intermediate_size;
        Ok(BertLayer {
            attention: MultiHeadAttention {
                query: linear(hidden, hidden, vb.pp(names.query))?,
                key: linear(hidden, hidden, vb.pp(names.key))?,
                value: linear(hidden, hidden, vb.pp(names.value))?,
                out: linear(hidden, hidden, vb.pp(names.out))?,
                heads,
                causal: false,
            },
            attention_norm: layer_norm(hidden, eps, vb.pp(names.attention_norm))?,
            expand: linear(hidden, intermediate, vb.pp(names.expand))?,
            project: linear(intermediate, hidden, vb.pp(names.project))?,
            output_norm: layer_norm(hidden, eps, vb.pp(names.output_norm))?,
        })
    }

    fn forward(
        &self,
        xs: &Tensor,
        mask: &Tensor,
        activation: HiddenAct,
        dropout: Dropout,
        train: bool,
    ) -> Result<Tensor> {
        let (_, attended) = self.attention.forward_masked(xs, Some(mask))?;
        let xs = self
            .attention_norm
            .forward(&(xs + dropout.forward_t(&attended, train)?)?)?;
        let expanded = self.expand.forward(&xs)?;
        let activated = match activation {
            HiddenAct::Gelu => crate::nn::functional::gelu(&expanded)?,
            HiddenAct::GeluApproximate => expanded.gelu()?,
            HiddenAct::Relu => expanded.relu()?,
        };
        let projected = self.project.forward(&activated)?;
        self.output_norm
            .forward(&(xs + dropout.forward_t(&projected, train)?)?)
    }
}
