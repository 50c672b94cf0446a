//! Files that runs write and read (checkpoints, plots, data), kept by content, and the model
//! registry: named models with numbered versions and aliases ("best", "production").
//!
//! ```text
//! <store>/artifacts/<sha256>               each distinct file once, named by its SHA-256
//! <store>/models/<name>/<version>.json      a registered version: its artifact and run
//! <store>/models/<name>/aliases/<alias>     the version an alias points at (a number)
//! ```
//!
//! A run's record lists the artifacts it wrote (`outputs`) and read (`inputs`), each with the
//! run that wrote it: the lineage. Every file here is created aside and renamed, or created
//! only if absent, so concurrent kernels never see or leave a partial one.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::provenance::hex;
use super::{store, Run, Store};

/// A stored file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// The file's name when it was logged (`model.safetensors`).
    pub name: String,
    pub sha256: String,
    pub size: u64,
    /// The id of the run that wrote it.
    pub run: String,
}

/// A version of a registered model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    pub model: String,
    pub version: u32,
    pub artifact: Artifact,
    /// Milliseconds since the Unix epoch.
    pub created: u64,
    /// Where the file is in the store, to load from.
    #[serde(skip)]
    pub path: PathBuf,
}

impl Store {
    /// Where an artifact's content is: open it, or load weights from it.
    pub fn artifact_path(&self, artifact: &Artifact) -> PathBuf {
        self.path().join("artifacts").join(&artifact.sha256)
    }

    /// Copies `path` into the store under its hash (once, however many runs log it).
    fn store_file(&self, path: &Path, run: &str) -> io::Result<Artifact> {
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "an artifact is a file"))?
            .to_string_lossy()
            .into_owned();
        let folder = self.path().join("artifacts");
        fs::create_dir_all(&folder)?;
        // Copied while hashing, into a temporary file renamed to the hash once known.
        let aside = folder.join(format!(".{run}.{name}.{}.partial", std::process::id()));
        let (sha256, size) = {
            let mut source = File::open(path)?;
            let mut copy = File::create(&aside)?;
            let mut hasher = Sha256::new();
            let mut buffer = vec![0; 1 << 20];
            let mut size = 0;
            loop {
                let read = source.read(&mut buffer)?;
                if read == 0 {
                    break;
                }
                hasher.update(&buffer[..read]);
                copy.write_all(&buffer[..read])?;
                size += read as u64;
            }
            copy.sync_data()?;
            (hex(&hasher.finalize()), size)
        };
        fs::rename(&aside, folder.join(&sha256))?;
        Ok(Artifact {
            name,
            sha256,
            size,
            run: run.to_owned(),
        })
    }

    /// A registered model's version, by alias (`"best"`) or number (`"3"`), or the latest
    /// with `"latest"`.
    pub fn model(&self, name: &str, alias_or_version: &str) -> io::Result<ModelVersion> {
        let folder = self.path().join("models").join(name);
        let version = match alias_or_version {
            "latest" => self.versions(name)?.last().map(|v| v.version),
            text => match text.parse::<u32>() {
                Ok(number) => Some(number),
                Err(_) => fs::read_to_string(folder.join("aliases").join(text))
                    .ok()
                    .and_then(|number| number.trim().parse().ok()),
            },
        };
        let missing = || {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "no model `{name}` version `{alias_or_version}` in {} (registered: {})",
                    self.path().display(),
                    self.describe_model(name)
                ),
            )
        };
        let version = version.ok_or_else(missing)?;
        self.versions(name)?
            .into_iter()
            .find(|v| v.version == version)
            .ok_or_else(missing)
    }

    /// Every version of a model, oldest first.
    pub fn versions(&self, name: &str) -> io::Result<Vec<ModelVersion>> {
        let folder = self.path().join("models").join(name);
        let mut versions = Vec::new();
        let entries = match fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(versions),
            Err(error) => return Err(error),
        };
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = fs::read_to_string(&path)?;
                let mut version: ModelVersion = serde_json::from_str(&text)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                version.path = self.artifact_path(&version.artifact);
                versions.push(version);
            }
        }
        versions.sort_by_key(|v| v.version);
        Ok(versions)
    }

    /// Points `alias` at `version` of model `name`, moving it from any other version.
    pub fn set_alias(&self, name: &str, version: u32, alias: &str) -> io::Result<()> {
        if alias == "latest" || alias.parse::<u32>().is_ok() || alias.contains('/') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{alias}` cannot be an alias: it reads as a version"),
            ));
        }
        let folder = self.path().join("models").join(name).join("aliases");
        fs::create_dir_all(&folder)?;
        let aside = folder.join(format!(".{alias}.{}", std::process::id()));
        fs::write(&aside, format!("{version}\n"))?;
        fs::rename(aside, folder.join(alias))
    }

    fn describe_model(&self, name: &str) -> String {
        match self.versions(name) {
            Ok(versions) if !versions.is_empty() => versions
                .iter()
                .map(|v| v.version.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            _ => "none".to_owned(),
        }
    }

    /// The next version of `name`, claimed by creating its file: two kernels registering
    /// at once get different numbers.
    fn claim_version(&self, name: &str, artifact: Artifact) -> io::Result<ModelVersion> {
        let folder = self.path().join("models").join(name);
        fs::create_dir_all(&folder)?;
        let mut version = self.versions(name)?.last().map_or(1, |v| v.version + 1);
        loop {
            let model = ModelVersion {
                model: name.to_owned(),
                version,
                path: self.artifact_path(&artifact),
                artifact: artifact.clone(),
                created: store::now_ms(),
            };
            match File::create_new(folder.join(format!("{version}.json"))) {
                Ok(mut file) => {
                    serde_json::to_writer_pretty(&mut file, &model)?;
                    file.sync_data()?;
                    return Ok(model);
                }
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => version += 1,
                Err(error) => return Err(error),
            }
        }
    }
}

impl Run {
    fn store(&self) -> Store {
        let dir = self.dir();
        // <store>/<project>/<id>
        Store::at(
            dir.parent()
                .and_then(Path::parent)
                .unwrap_or(Path::new(".")),
        )
    }

    /// Keeps a copy of the file at `path` as this run's output.
    pub fn log_artifact(&self, path: impl AsRef<Path>) -> io::Result<Artifact> {
        let artifact = self.store().store_file(path.as_ref(), self.id())?;
        let mut state = self.lock();
        state.record.outputs.push(artifact.clone());
        state.flush();
        Ok(artifact)
    }

    /// Stores the file at `path` as the next version of model `name`, with `aliases`
    /// ("best", "production") moved to it.
    #[track_caller]
    pub fn register_model(
        &self,
        name: &str,
        path: impl AsRef<Path>,
        aliases: &[&str],
    ) -> io::Result<ModelVersion> {
        super::check_folder_name("model", name);
        let store = self.store();
        let artifact = self.log_artifact(path)?;
        let version = store.claim_version(name, artifact)?;
        for alias in aliases {
            store.set_alias(name, version.version, alias)?;
        }
        Ok(version)
    }

    /// A registered model's file, recorded as this run's input: `run.use_model("moons-mlp",
    /// "best")?` gives the path to load the weights from.
    pub fn use_model(&self, name: &str, alias_or_version: &str) -> io::Result<PathBuf> {
        let store = self.store();
        let version = store.model(name, alias_or_version)?;
        let mut state = self.lock();
        state.record.inputs.push(version.artifact);
        state.flush();
        Ok(version.path)
    }

    /// The artifacts this run wrote.
    pub fn outputs(&self) -> Vec<Artifact> {
        self.lock().record.outputs.clone()
    }

    /// The artifacts this run read, each naming the run that wrote it.
    pub fn inputs(&self) -> Vec<Artifact> {
        self.lock().record.inputs.clone()
    }
}

/// A registered model's version in the default store: `track::model("moons-mlp", "best")?`.
pub fn model(name: &str, alias_or_version: &str) -> io::Result<ModelVersion> {
    Store::default().model(name, alias_or_version)
}
