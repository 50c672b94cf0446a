//! The options of text generation, shared by the course's GPT (`nn::Gpt::generate`) and the
//! Hugging Face models (`hub::TextGenerator::generate`).

use candle_transformers::generation::Sampling;

/// How to pick each next token, as Hugging Face's `GenerationConfig`. `temperature` 0 is greedy (always the most likely token);
/// `top_k` keeps the k most likely, `top_p` the smallest set whose probability reaches p.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationConfig {
    pub max_new_tokens: usize,
    pub temperature: f64,
    pub top_k: Option<usize>,
    pub top_p: Option<f64>,
    pub seed: u64,
    /// Show the text in the cell's output as it is generated.
    pub stream: bool,
}

impl Default for GenerationConfig {
    fn default() -> Self {
        GenerationConfig {
            max_new_tokens: 64,
            temperature: 0.8,
            top_k: None,
            top_p: Some(0.95),
            seed: 0,
            stream: true,
        }
    }
}

impl GenerationConfig {
    pub(crate) fn sampling(&self) -> Sampling {
        let temperature = self.temperature;
        match (temperature <= 0.0, self.top_k, self.top_p) {
            (true, _, _) => Sampling::ArgMax,
            (false, None, None) => Sampling::All { temperature },
            (false, Some(k), None) => Sampling::TopK { k, temperature },
            (false, None, Some(p)) => Sampling::TopP { p, temperature },
            (false, Some(k), Some(p)) => Sampling::TopKThenTopP { k, p, temperature },
        }
    }
}
