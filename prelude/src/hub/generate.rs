//! `TextGenerator`: text generation with a Llama-family decoder (candle-transformers'
//! `llama`: Llama, TinyLlama, SmolLM and other models with its architecture), sampling with
//! temperature, top-k and top-p, the text streamed into the cell's output as it grows.

use candle_core::{DType, Device, Tensor};
use candle_transformers::generation::LogitsProcessor;
use candle_transformers::models::llama::{Cache, Config, Llama, LlamaConfig, LlamaEosToks};

use super::{load_weights, model_dir, read_config, Result, Tokenizer};
use crate::display::{LiveText, MimeBundle, Render};
use crate::nn::GenerationConfig;

pub struct TextGenerator {
    model: Llama,
    config: Config,
    tokenizer: Tokenizer,
    eos: Vec<u32>,
}

impl TextGenerator {
    /// Loads a Llama-family model directory or cached repo id (see [`super::model_dir`]).
    pub fn load(model: &str) -> Result<TextGenerator> {
        let dir = model_dir(model)?;
        let llama: LlamaConfig = read_config(&dir, "Llama")?;
        let eos = match &llama.eos_token_id {
            Some(LlamaEosToks::Single(id)) => vec![*id],
            Some(LlamaEosToks::Multiple(ids)) => ids.clone(),
            None => Vec::new(),
        };
        let config = llama.into_config(false);
        let model = load_weights(&dir, |vb| Llama::load(vb, &config))?;
        Ok(TextGenerator {
            model,
            config,
            tokenizer: Tokenizer::from_dir(&dir)?,
            eos,
        })
    }

    /// Continues `prompt` token by token.
    pub fn generate(&self, prompt: &str, options: &GenerationConfig) -> Result<Generation> {
        let mut ids = self.tokenizer.encode(prompt)?.ids;
        let prompt_length = ids.len();
        let mut cache = Cache::new(true, DType::F32, &self.config, &Device::Cpu)?;
        let mut sampler = LogitsProcessor::from_sampling(options.seed, options.sampling());
        let mut shown = LiveText::new(options.stream, prompt);
        let mut position = 0;
        for _ in 0..options.max_new_tokens {
            crate::runtime::check_interrupt();
            // The whole prompt first, then one token at a time against the key/value cache.
            let input = Tensor::new(&ids[position..], &Device::Cpu)?.unsqueeze(0)?;
            let logits = self
                .model
                .forward(&input, position, &mut cache)?
                .squeeze(0)?;
            position = ids.len();
            let next = sampler.sample(&logits)?;
            ids.push(next);
            if self.eos.contains(&next) || ids.len() >= self.config.max_position_embeddings {
                break;
            }
            shown.update(|| self.tokenizer.decode(&ids))?;
        }
        let generation = Generation {
            text: self.tokenizer.decode(&ids)?,
            new_ids: ids[prompt_length..].to_vec(),
            ids,
        };
        shown.finish(&generation);
        Ok(generation)
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }
}

impl Render for TextGenerator {
    fn render(&self) -> MimeBundle {
        let c = &self.config;
        MimeBundle::plain(format!(
            "TextGenerator(llama: {} layers, hidden {}, {} heads, vocab {})",
            c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.vocab_size
        ))
    }
}

/// A prompt and its continuation.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// Prompt and continuation, decoded.
    pub text: String,
    /// Every token id, the prompt's included.
    pub ids: Vec<u32>,
    /// The generated ids only.
    pub new_ids: Vec<u32>,
}

impl Render for Generation {
    fn render(&self) -> MimeBundle {
        MimeBundle::plain(self.text.clone())
    }
}
