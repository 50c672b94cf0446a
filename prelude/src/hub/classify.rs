//! `TextClassifier`: BERT or DistilBERT with a sequence-classification head, as
//! transformers' `BertForSequenceClassification` and `DistilBertForSequenceClassification`:
//! the pooled `[CLS]` vector, dropout, one linear layer to one logit per label. Load a fine-tuned checkpoint to predict, or put a new head (and LoRA
//! adapters) on a pretrained encoder to fine-tune it with the `Trainer`.

use candle_core::{DType, Device, Module, ModuleT, Tensor};
use candle_nn::{Init, VarBuilder};
use candle_transformers::models::bert::Config;
use ndarray::Array2;
use polars::prelude::{Column, DataFrame};

use super::bert::{read_bert_config, Bert};
use super::{load_weights, model_dir, HubError, Result, Tokenizer};
use crate::display::{MimeBundle, Render};
use crate::nn::{linear, Dropout, Linear, LoraConfig};
use crate::tensor::ToTensor;

pub struct TextClassifier {
    pub bert: Bert,
    /// `classifier` in the checkpoint: hidden size → one logit per label.
    pub classifier: Linear,
    labels: Vec<String>,
    tokenizer: Tokenizer,
    dropout: Dropout,
    pad_id: u32,
    name: String,
}

/// Texts per forward pass in [`TextClassifier::predict`].
const BATCH: usize = 64;

impl TextClassifier {
    /// A fine-tuned `BertForSequenceClassification` or `DistilBertForSequenceClassification`
    /// checkpoint (a directory or a cached repo id), such as transformers' default sentiment
    /// model distilbert-base-uncased-finetuned-sst-2-english: its labels are config.json's `id2label`, `LABEL_0`, `LABEL_1`, ... when it has none.
    pub fn load(model: &str) -> Result<TextClassifier> {
        let dir = model_dir(model)?;
        let (config, layout) = read_bert_config(&dir)?;
        let raw = super::read_json(&dir.join("config.json"))?;
        let labels = labels_of(&raw).ok_or_else(|| HubError::Load {
            path: dir.join("config.json"),
            message: "no `id2label` or `num_labels`: not a sequence-classification model".into(),
        })?;
        let (bert, classifier) = load_weights(&dir, |vb| {
            let bert = Bert::load(vb.clone(), &config, layout)?;
            let classifier = linear(config.hidden_size, labels.len(), vb.pp("classifier"))?;
            Ok((bert, classifier))
        })?;
        TextClassifier::assemble(&dir, &config, bert, classifier, labels)
    }

    /// A new classification head for `labels` on a pretrained encoder (a directory or cached
    /// repo id, as `SentenceEncoder::load`), its weights drawn as transformers does (normal,
    /// σ = the config's `initializer_range`) and created in `vb`, where the optimizer finds
    /// them; so is a pooler when the checkpoint has none. The encoder's own weights are
    /// frozen: train the head alone, or add LoRA adapters with [`Self::add_lora`].
    pub fn new(model: &str, labels: &[&str], vb: VarBuilder) -> Result<TextClassifier> {
        let dir = model_dir(model)?;
        let (config, layout) = read_bert_config(&dir)?;
        let hidden = config.hidden_size;
        let mut bert = load_weights(&dir, |vb| Bert::load(vb, &config, layout))?;
        let init = Init::Randn {
            mean: 0.0,
            stdev: config.initializer_range,
        };
        let new_linear = |inputs: usize, outputs: usize, vb: VarBuilder| -> Result<Linear> {
            let weight = vb.get_with_hints((outputs, inputs), "weight", init)?;
            let bias = vb.get_with_hints(outputs, "bias", Init::Const(0.0))?;
            Ok(Linear::from(candle_nn::Linear::new(weight, Some(bias))))
        };
        if bert.pooler.is_none() {
            bert.pooler = Some(new_linear(hidden, hidden, vb.pp(layout.pooler))?);
        }
        let classifier = new_linear(hidden, labels.len(), vb.pp("classifier"))?;
        let labels = labels.iter().map(|l| l.to_string()).collect();
        TextClassifier::assemble(&dir, &config, bert, classifier, labels)
    }

    fn assemble(
        dir: &std::path::Path,
        config: &Config,
        bert: Bert,
        classifier: Linear,
        labels: Vec<String>,
    ) -> Result<TextClassifier> {
        let tokenizer = Tokenizer::from_dir(dir)?.truncate(config.max_position_embeddings);
        let pad_id = tokenizer.inner().get_padding().map_or(0, |p| p.pad_id);
        Ok(TextClassifier {
            bert,
            classifier,
            labels,
            tokenizer,
            dropout: Dropout(
                config
                    .classifier_dropout
                    .unwrap_or(config.hidden_dropout_prob),
            ),
            pad_id,
            name: dir.display().to_string(),
        })
    }

    /// LoRA adapters on the encoder's linear layers (see [`Bert::add_lora`]), in `vb`.
    pub fn add_lora(&mut self, config: &LoraConfig, vb: VarBuilder) -> Result<usize> {
        Ok(self.bert.add_lora(config, vb)?)
    }

    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Token ids `(texts, longest)` (u32), padded with the tokenizer's pad id: the input of
    /// [`Self::forward_t`], for a `TensorDataset`.
    pub fn tokenize<S: AsRef<str>>(&self, texts: &[S]) -> Result<Tensor> {
        Ok(self
            .tokenizer
            .batch(texts)?
            .input_ids
            .to_tensor(&Device::Cpu)?)
    }

    /// Logits `(batch, labels)` for token ids `(batch, time)`; padding (the pad id) is
    /// masked out. `train` turns dropout on.
    pub fn forward_t(&self, ids: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let mask = ids.ne(self.pad_id)?;
        let hidden = self.bert.forward(ids, &mask, train)?;
        let pooled = self.bert.pool(&hidden)?;
        self.classifier
            .forward(&self.dropout.forward_t(&pooled, train)?)
    }

    /// Each text's label and the probability of every label.
    pub fn predict<S: AsRef<str>>(&self, texts: &[S]) -> Result<Predictions> {
        let texts: Vec<String> = texts.iter().map(|t| t.as_ref().to_owned()).collect();
        let mut probabilities = Array2::zeros((texts.len(), self.labels.len()));
        for (chunk, start) in texts.chunks(BATCH).zip((0..).step_by(BATCH)) {
            crate::runtime::check_interrupt();
            let logits = self.forward_t(&self.tokenize(chunk)?, false)?;
            let rows = candle_nn::ops::softmax_last_dim(&logits.to_dtype(DType::F32)?)?
                .to_vec2::<f32>()?;
            for (i, row) in rows.iter().enumerate() {
                for (j, &p) in row.iter().enumerate() {
                    probabilities[[start + i, j]] = f64::from(p);
                }
            }
        }
        Ok(Predictions {
            texts,
            labels: self.labels.clone(),
            probabilities,
        })
    }
}

/// config.json's labels in id order: `id2label`, else `num_labels` generic names.
fn labels_of(config: &serde_json::Value) -> Option<Vec<String>> {
    if let Some(map) = config["id2label"].as_object() {
        let mut labels: Vec<(usize, String)> = map
            .iter()
            .filter_map(|(id, label)| Some((id.parse().ok()?, label.as_str()?.to_owned())))
            .collect();
        labels.sort();
        return Some(labels.into_iter().map(|(_, label)| label).collect());
    }
    let count = config["num_labels"].as_u64()?;
    Some((0..count).map(|i| format!("LABEL_{i}")).collect())
}

impl Render for TextClassifier {
    fn render(&self) -> MimeBundle {
        MimeBundle::plain(format!(
            "TextClassifier({}, labels={:?})",
            self.name, self.labels
        ))
    }
}

/// [`TextClassifier::predict`]'s answer: one row per text.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    pub texts: Vec<String>,
    pub labels: Vec<String>,
    /// `(texts, labels)`: each row sums to 1.
    pub probabilities: Array2<f64>,
}

impl Predictions {
    /// The most probable label of each text.
    pub fn predicted(&self) -> Vec<&str> {
        self.probabilities
            .rows()
            .into_iter()
            .map(|row| {
                let best = (0..row.len())
                    .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                    .unwrap_or(0);
                self.labels[best].as_str()
            })
            .collect()
    }

    /// A table: text, predicted label, then each label's probability.
    pub fn frame(&self) -> DataFrame {
        let mut columns = vec![
            Column::new("text".into(), self.texts.clone()),
            Column::new("label".into(), self.predicted()),
        ];
        for (j, label) in self.labels.iter().enumerate() {
            let name = format!("p({label})");
            columns.push(Column::new(
                name.into(),
                self.probabilities.column(j).to_vec(),
            ));
        }
        DataFrame::new_infer_height(columns).expect("columns of one length")
    }
}

impl Render for Predictions {
    fn render(&self) -> MimeBundle {
        self.frame().render()
    }
}
