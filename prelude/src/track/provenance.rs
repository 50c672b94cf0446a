//! What produced a run, captured when it starts, without asking: enough to answer "which
//! code, which data order, which machine" months later.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use candle_core::DeviceLocation;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// The notebook's path as Jupyter names it (`JPY_SESSION_NAME`), when it does.
    pub notebook: Option<String>,
    /// The kernel's working directory: the notebook's folder under Jupyter.
    pub directory: String,
    pub git: Option<Git>,
    pub rustc: Option<String>,
    pub ferrolab: String,
    /// SHA-256 of the Cargo.lock the prelude was built from: the exact crate versions.
    pub lock_sha256: Option<String>,
    /// Every seed the session set before and during the run, in order.
    pub seeds: Vec<Seed>,
    /// The device `nn::device()` picks.
    pub device: String,
    pub host: String,
    pub pid: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Git {
    pub commit: String,
    pub branch: Option<String>,
    /// Uncommitted changes to tracked files; the diff is the run's `git.diff`.
    pub dirty: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Seed {
    /// What set it: `random::seed`, `DataLoader::shuffle`.
    pub source: String,
    pub seed: u64,
}

impl Provenance {
    /// This session's provenance now, and the working tree's uncommitted diff, if any.
    pub fn capture() -> (Provenance, Option<String>) {
        let directory = std::env::current_dir().unwrap_or_default();
        let (git, diff) = match git(&directory) {
            Some((git, diff)) => (Some(git), diff),
            None => (None, None),
        };
        let provenance = Provenance {
            notebook: std::env::var("JPY_SESSION_NAME").ok(),
            directory: directory.display().to_string(),
            git,
            rustc: rustc_version().clone(),
            ferrolab: env!("CARGO_PKG_VERSION").to_owned(),
            lock_sha256: lock_sha256().clone(),
            seeds: seeds(),
            device: device_name(),
            host: host(),
            pid: std::process::id(),
        };
        (provenance, diff)
    }
}

/// The seeds set so far in this session.
pub fn seeds() -> Vec<Seed> {
    crate::random::seeds_set()
        .into_iter()
        .map(|(source, seed)| Seed {
            source: source.to_owned(),
            seed,
        })
        .collect()
}

fn device_name() -> String {
    match crate::nn::device().location() {
        DeviceLocation::Cpu => "cpu".to_owned(),
        DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
        other => format!("{other:?}"),
    }
}

pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}

/// The commit `directory` is in and its uncommitted diff; `None` outside a repository or
/// without git.
fn git(directory: &Path) -> Option<(Git, Option<String>)> {
    let run = |args: &[&str]| -> Option<String> {
        let output = Command::new("git")
            .arg("-C")
            .arg(directory)
            .args(args)
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let commit = run(&["rev-parse", "HEAD"])?.trim().to_owned();
    let branch = run(&["symbolic-ref", "--short", "-q", "HEAD"])
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty());
    let diff = run(&["diff", "HEAD"]).filter(|d| !d.is_empty());
    let git = Git {
        commit,
        branch,
        dirty: diff.is_some(),
    };
    Some((git, diff))
}

fn rustc_version() -> &'static Option<String> {
    static VERSION: OnceLock<Option<String>> = OnceLock::new();
    VERSION.get_or_init(|| {
        let output = Command::new("rustc").arg("--version").output().ok()?;
        Some(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    })
}

/// The workspace's Cargo.lock, beside the prelude's sources the kernel names.
fn lock_sha256() -> &'static Option<String> {
    static HASH: OnceLock<Option<String>> = OnceLock::new();
    HASH.get_or_init(|| {
        let prelude = std::env::var_os(ferrolab_protocol::env::PRELUDE)?;
        let lock = std::fs::read(Path::new(&prelude).join("../Cargo.lock")).ok()?;
        Some(hex(&Sha256::digest(&lock)))
    })
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
