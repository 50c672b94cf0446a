//! `Tokenizer`: a model's `tokenizer.json` (the `tokenizers` crate, the same code as
//! Python's `tokenizers`), with batches padded to their longest text and truncated to the
//! model's length, and encodings that show as a table of tokens.

use std::path::Path;

use ndarray::Array2;
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::{AddedToken, Model, PaddingParams, PaddingStrategy, TruncationParams};

use super::{model_dir, model_file, read_json, HubError, Result};
use crate::display::{escape, MimeBundle, Render};

#[derive(Clone)]
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
}

fn tokenizer_error(err: tokenizers::Error) -> HubError {
    HubError::Model(format!("tokenizer: {err}"))
}

impl Tokenizer {
    /// The tokenizer of a model directory or cached repo id (see [`super::model_dir`]).
    pub fn load(model: &str) -> Result<Tokenizer> {
        Tokenizer::from_dir(&model_dir(model)?)
    }

    /// tokenizer.json, or for BERT-family checkpoints saved before that file existed, their
    /// vocab.txt.
    pub(crate) fn from_dir(dir: &Path) -> Result<Tokenizer> {
        let mut inner = if dir.join("vocab.txt").is_file() && !dir.join("tokenizer.json").is_file()
        {
            wordpiece_from_vocab(dir)?
        } else {
            let path = model_file(dir, "tokenizer.json")?;
            tokenizers::Tokenizer::from_file(&path).map_err(|err| HubError::Load {
                path: path.clone(),
                message: err.to_string(),
            })?
        };
        // Some tokenizer.json files pad every text to a fixed length (all-MiniLM-L6-v2: 128);
        // batches are padded to their longest text instead, as Python's tokenizers do.
        let pad = inner.get_padding().cloned().unwrap_or_default();
        inner.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..pad
        }));
        Ok(Tokenizer { inner })
    }

    /// Texts longer than `max_length` tokens (special tokens included) are cut.
    pub fn truncate(mut self, max_length: usize) -> Self {
        let params = TruncationParams {
            max_length,
            ..self.inner.get_truncation().cloned().unwrap_or_default()
        };
        self.inner
            .with_truncation(Some(params))
            .expect("valid truncation");
        self
    }

    /// One text, with the model's special tokens (`[CLS]`, `[SEP]`, ...).
    pub fn encode(&self, text: &str) -> Result<Encoding> {
        let encoding = self.inner.encode(text, true).map_err(tokenizer_error)?;
        Ok(Encoding {
            tokens: encoding.get_tokens().to_vec(),
            ids: encoding.get_ids().to_vec(),
            attention_mask: encoding.get_attention_mask().to_vec(),
        })
    }

    /// Texts as one padded batch: ids, attention masks and type ids, `(texts, longest)`.
    pub fn batch<S: AsRef<str>>(&self, texts: &[S]) -> Result<Batch> {
        let texts: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
        self.batch_of(texts)
    }

    fn batch_of(&self, texts: Vec<&str>) -> Result<Batch> {
        let encodings = self
            .inner
            .encode_batch(texts, true)
            .map_err(tokenizer_error)?;
        let width = encodings
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(0);
        let matrix = |field: fn(&tokenizers::Encoding) -> &[u32]| {
            Array2::from_shape_fn((encodings.len(), width), |(i, j)| {
                field(&encodings[i]).get(j).copied().unwrap_or(0)
            })
        };
        Ok(Batch {
            input_ids: matrix(tokenizers::Encoding::get_ids),
            attention_mask: matrix(tokenizers::Encoding::get_attention_mask),
            type_ids: matrix(tokenizers::Encoding::get_type_ids),
            tokens: encodings.iter().map(|e| e.get_tokens().to_vec()).collect(),
        })
    }

    /// Text from ids, without the special tokens.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, true).map_err(tokenizer_error)
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The wrapped `tokenizers::Tokenizer`, for everything else it can do.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }
}

/// A BERT WordPiece tokenizer from `vocab.txt` alone (distilbert-base-uncased-finetuned-sst-2-
/// english has no tokenizer.json): what transformers' `BertTokenizerFast` builds from the same
/// file, lowercasing as tokenizer_config.json's `do_lower_case` says (yes when it is silent).
fn wordpiece_from_vocab(dir: &Path) -> Result<tokenizers::Tokenizer> {
    let path = dir.join("vocab.txt");
    let load_error = |message: String| HubError::Load {
        path: path.clone(),
        message,
    };
    let model = WordPiece::from_file(&path.to_string_lossy())
        .unk_token("[UNK]".into())
        .build()
        .map_err(|err| load_error(err.to_string()))?;
    let id = |token: &str| {
        model
            .token_to_id(token)
            .ok_or_else(|| load_error(format!("no {token} in the vocabulary")))
    };
    let (cls, sep, pad) = (id("[CLS]")?, id("[SEP]")?, id("[PAD]")?);
    let lowercase = read_json(&dir.join("tokenizer_config.json"))
        .ok()
        .and_then(|config| config["do_lower_case"].as_bool())
        .unwrap_or(true);
    let specials: Vec<AddedToken> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .into_iter()
        .filter(|token| model.token_to_id(token).is_some())
        .map(|token| AddedToken::from(token, true))
        .collect();
    let mut tokenizer = tokenizers::Tokenizer::new(model);
    tokenizer
        .with_normalizer(Some(BertNormalizer::new(true, true, None, lowercase)))
        .map_err(|err| load_error(err.to_string()))?;
    tokenizer
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_post_processor(Some(BertProcessing::new(
            ("[SEP]".into(), sep),
            ("[CLS]".into(), cls),
        )))
        .with_decoder(Some(WordPieceDecoder::default()))
        .with_padding(Some(PaddingParams {
            pad_id: pad,
            pad_token: "[PAD]".into(),
            ..Default::default()
        }));
    tokenizer
        .add_special_tokens(specials)
        .map_err(|err| load_error(err.to_string()))?;
    Ok(tokenizer)
}

impl Render for Tokenizer {
    fn render(&self) -> MimeBundle {
        MimeBundle::plain(format!("Tokenizer(vocab_size={})", self.vocab_size()))
    }
}

/// One tokenized text.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoding {
    pub tokens: Vec<String>,
    pub ids: Vec<u32>,
    pub attention_mask: Vec<u32>,
}

impl Render for Encoding {
    fn render(&self) -> MimeBundle {
        let text: Vec<String> = self
            .tokens
            .iter()
            .zip(&self.ids)
            .map(|(t, id)| format!("{t}:{id}"))
            .collect();
        MimeBundle::plain(format!("{} tokens: {}", self.tokens.len(), text.join(" ")))
            .with("text/html", token_table(&[&self.tokens], &[&self.ids]))
    }
}

/// Texts tokenized together, padded to the longest: one row per text.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub input_ids: Array2<u32>,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Array2<u32>,
    pub type_ids: Array2<u32>,
    pub tokens: Vec<Vec<String>>,
}

impl Render for Batch {
    fn render(&self) -> MimeBundle {
        let (texts, width) = self.input_ids.dim();
        let tokens: Vec<&Vec<String>> = self.tokens.iter().collect();
        let ids: Vec<Vec<u32>> = self
            .input_ids
            .rows()
            .into_iter()
            .map(|r| r.to_vec())
            .collect();
        let ids: Vec<&Vec<u32>> = ids.iter().collect();
        MimeBundle::plain(format!(
            "Batch: {texts} texts × {width} tokens (padded)\n{:?}",
            self.input_ids
        ))
        .with("text/html", token_table(&tokens, &ids))
    }
}

/// A table with one row per text, one column per position: each cell the token over its id;
/// padding greyed.
fn token_table(tokens: &[&Vec<String>], ids: &[&Vec<u32>]) -> String {
    let width = ids.iter().map(|row| row.len()).max().unwrap_or(0);
    let header: String = (0..width).map(|j| format!("<th>{j}</th>")).collect();
    let rows: String = tokens
        .iter()
        .zip(ids)
        .enumerate()
        .map(|(i, (tokens, ids))| {
            let cells: String = ids
                .iter()
                .enumerate()
                .map(|(j, id)| match tokens.get(j) {
                    Some(token) if !token.is_empty() && token != "[PAD]" => {
                        format!("<td>{}<br/><small>{id}</small></td>", escape(token))
                    }
                    _ => format!("<td style=\"color:#bbb\">pad<br/><small>{id}</small></td>"),
                })
                .collect();
            format!("<tr><th>{i}</th>{cells}</tr>")
        })
        .collect();
    format!("<div class=\"ferrolab-table\"><table><thead><tr><th></th>{header}</tr></thead><tbody>{rows}</tbody></table></div>")
}
