//! Hugging Face models and tokenizers, loaded offline: from a model directory, or by repo id
//! from the local Hugging Face cache. Nothing here ever opens a network connection.
//!
//! ```ignore
//! let model = hub::SentenceEncoder::load("sentence-transformers/all-MiniLM-L6-v2")?;
//! let embeddings = model.encode(&["A cat sits on the mat.", "Stocks fell today."])?;
//! ```

mod bert;
mod classify;
mod embed;
mod generate;
mod tokenizer;

pub use bert::{Bert, BertLayer};
pub use classify::{Predictions, TextClassifier};
pub use embed::{SearchHit, SemanticIndex, SentenceEncoder};
pub use generate::{Generation, TextGenerator};
pub use tokenizer::{Batch, Encoding, Tokenizer};

use std::fmt;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use candle_nn::VarBuilder;

/// Why a model could not be found or loaded.
#[derive(Debug, Clone, PartialEq)]
pub enum HubError {
    /// No directory with the model's files: every place looked, and how to put them there.
    NotFound { model: String, looked: Vec<PathBuf> },
    /// A file that is there but could not be read or understood.
    Load { path: PathBuf, message: String },
    /// Tokenizing or running the model failed.
    Model(String),
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HubError::NotFound { model, looked } => {
                writeln!(f, "model `{model}` not found; looked in:")?;
                for place in looked {
                    writeln!(f, "  {}", place.display())?;
                }
                write!(
                    f,
                    "Nothing is downloaded here. Pass the path of a directory holding config.json, \
                     model.safetensors and tokenizer.json, or put the model in the Hugging Face \
                     cache on a machine with a network (`huggingface-cli download {model}`) and \
                     copy the cache folder to $HF_HUB_CACHE (or $HF_HOME/hub, or \
                     ~/.cache/huggingface/hub)."
                )
            }
            HubError::Load { path, message } => write!(f, "{}: {message}", path.display()),
            HubError::Model(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for HubError {}

impl From<candle_core::Error> for HubError {
    fn from(err: candle_core::Error) -> Self {
        HubError::Model(err.to_string())
    }
}

pub type Result<T> = std::result::Result<T, HubError>;

/// The Hugging Face cache folders, in the order `huggingface_hub` uses them: `$HF_HUB_CACHE`,
/// `$HF_HOME/hub`, `~/.cache/huggingface/hub`; then Ferrolab's own, `$FERROLAB_HOME/hub`,
/// where install/setup puts the models the course uses.
fn cache_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(cache) = std::env::var_os("HF_HUB_CACHE") {
        dirs.push(PathBuf::from(cache));
    }
    if let Some(home) = std::env::var_os("HF_HOME") {
        dirs.push(PathBuf::from(home).join("hub"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cache/huggingface/hub"));
    }
    dirs.extend(ferrolab_protocol::home().map(|home| home.join("hub")));
    dirs
}

/// The directory holding a model's files: `model` itself when it is a directory with a
/// `config.json` or `tokenizer.json`, else the snapshot of repo id `model` in the first cache
/// that has it (`hf_hub`'s offline cache layout: refs/main names the snapshot).
pub fn model_dir(model: &str) -> Result<PathBuf> {
    let path = Path::new(model);
    let has_model_files =
        |dir: &Path| dir.join("config.json").is_file() || dir.join("tokenizer.json").is_file();
    if has_model_files(path) {
        return Ok(path.to_path_buf());
    }
    let mut looked = vec![path.to_path_buf()];
    for cache in cache_dirs() {
        let repo = hf_hub::Cache::new(cache.clone()).model(model.to_owned());
        let found = ["config.json", "tokenizer.json"]
            .iter()
            .find_map(|file| repo.get(file));
        if let Some(file) = found {
            return Ok(file
                .parent()
                .expect("a file in a snapshot folder")
                .to_path_buf());
        }
        looked.push(cache.join(format!("models--{}", model.replace('/', "--"))));
    }
    Err(HubError::NotFound {
        model: model.to_owned(),
        looked,
    })
}

/// A file of a model directory, with an error naming it when it is missing.
fn model_file(dir: &Path, name: &str) -> Result<PathBuf> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(HubError::Load {
            path,
            message: "missing from the model directory".into(),
        })
    }
}

/// A model directory's config.json, parsed as `family`'s config type.
fn read_config<C: serde::de::DeserializeOwned>(dir: &Path, family: &str) -> Result<C> {
    let path = model_file(dir, "config.json")?;
    serde_json::from_value(read_json(&path)?).map_err(|err| HubError::Load {
        path,
        message: format!("not a {family} config: {err}"),
    })
}

/// Builds a model from a directory's model.safetensors, mapped (not read) into memory.
fn load_weights<M>(
    dir: &Path,
    build: impl FnOnce(VarBuilder) -> candle_core::Result<M>,
) -> Result<M> {
    let path = model_file(dir, "model.safetensors")?;
    let load_error = |err: candle_core::Error| HubError::Load {
        path: path.clone(),
        message: err.to_string(),
    };
    // Safety: the file is mapped read-only and not modified while the model lives.
    let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&path], DType::F32, &Device::Cpu) }
        .map_err(load_error)?;
    build(vb).map_err(load_error)
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|err| HubError::Load {
        path: path.to_path_buf(),
        message: err.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|err| HubError::Load {
        path: path.to_path_buf(),
        message: err.to_string(),
    })
}
