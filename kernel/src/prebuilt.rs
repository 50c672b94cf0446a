//! The prebuilt prelude: built once per user into `$FERROLAB_HOME/prelude`, then shared by
//! every session through a hard-linked copy of its cargo target directory.
//!
//! Why this shape (measured; see docs/performance.md):
//! - Cells are compiled by evcxr as a cargo crate that depends on `ferrolab` by path, so that
//!   rust-analyzer sees the prelude's source and can infer the types of users' variables.
//! - `ferrolab` is a Rust `dylib` and cells are built with `-Cprefer-dynamic`, so a cell links
//!   against `libferrolab.so` and `libstd.so` instead of re-linking polars & co. statically.
//! - Cargo only reuses artifacts built with the exact same command, profile and flags. So the
//!   prebuild runs the very command evcxr runs for a cell (same Cargo.toml profile, same
//!   RUSTFLAGS, same `--target`), and `$FERROLAB_HOME/.cargo/config.toml` makes every
//!   dependency optimized while cells are compiled at a low opt-level.
//! - Each session gets its own target directory (cells of two sessions would overwrite each
//!   other's `libctx.so`), made of hard links to the big artifacts and copies of the small
//!   bookkeeping files that cargo rewrites: milliseconds, no disk cost.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use ferrolab_protocol::env;
use sha2::{Digest, Sha256};

/// The opt-level cells are compiled at. Generic library code (ndarray's arithmetic, polars'
/// builders) is compiled in the cell that uses it, so at 0 `&a + &b` on a million floats took
/// 29 ms; at 1 it takes 0.8 ms, and cells compiled no slower (docs/performance.md).
/// `:opt 0|2` changes it per session.
pub const CELL_OPT_LEVEL: &str = "1";

/// Profile overrides for everything built under `$FERROLAB_HOME`: dependencies (the prelude
/// and whatever `:dep` adds) are optimized; only the cell crate itself is not.
const CARGO_CONFIG: &str = r#"# Written by ferrolab-kernel: dependencies of notebook cells are built optimized.
[profile.dev.package."*"]
opt-level = 3
debug-assertions = false
overflow-checks = false
"#;

/// Files under this size are copied into a session's target directory, larger ones hard-linked.
/// Cargo rewrites its small fingerprint files in place, which must not leak into the shared copy;
/// rustc and the linker replace big artifacts by rename, so sharing those is safe (build
/// scripts' outputs are the exception: always copied).
const COPY_BELOW_BYTES: u64 = 64 * 1024;

pub struct Prebuilt {
    /// The prelude crate's source directory (holds its Cargo.toml).
    pub source: PathBuf,
    /// `$FERROLAB_HOME`: the prebuilt prelude, session directories and history.
    pub home: PathBuf,
}

impl Prebuilt {
    pub fn from_env() -> Result<Self> {
        // Explicit, never a path compiled into the binary: one build serves several checkouts.
        let source = std::env::var_os(env::PRELUDE)
            .map(PathBuf::from)
            .with_context(|| {
                format!(
                    "{} is not set: it names the prelude folder (install/setup sets it)",
                    env::PRELUDE
                )
            })?;
        let source = source.canonicalize().with_context(|| {
            format!(
                "prelude source not found at {} (set {})",
                source.display(),
                env::PRELUDE
            )
        })?;
        let home = ferrolab_protocol::home()
            .with_context(|| format!("no cache directory; set {}", env::HOME))?;
        fs::create_dir_all(home.join(".cargo"))
            .with_context(|| format!("creating {}", home.display()))?;
        write_if_changed(&home.join(".cargo/config.toml"), CARGO_CONFIG)?;
        Ok(Prebuilt { source, home })
    }

    fn build_dir(&self) -> PathBuf {
        self.home.join("prelude")
    }

    /// The prebuilt prelude's Cargo.lock: the versions every session builds with.
    pub fn lock_path(&self) -> PathBuf {
        self.build_dir().join("Cargo.lock")
    }

    fn stamp_path(&self) -> PathBuf {
        self.build_dir().join("ferrolab-stamp")
    }

    /// The cargo dependency line that cells use for the prelude.
    pub fn dependency(&self) -> String {
        format!("{{ path = {:?} }}", self.source.display().to_string())
    }

    /// A hash of everything that decides the prelude's build: its sources, the lock file,
    /// the compiler and this kernel's version. Cheap enough to check at every kernel start.
    fn fingerprint(&self) -> Result<String> {
        let mut hasher = Sha256::new();
        let mut files = Vec::new();
        for dir in self.source_dirs()? {
            collect_files(&dir, &mut files)?;
        }
        files.retain(|path| !path.components().any(|c| c.as_os_str() == "target"));
        files.sort();
        let lock = self.source.join("../Cargo.lock");
        files.extend(lock.exists().then_some(lock));
        for path in files {
            hasher.update(path.to_string_lossy().as_bytes());
            hasher.update(fs::read(&path).with_context(|| format!("reading {}", path.display()))?);
        }
        hasher.update(cell_manifest(&self.dependency()));
        hasher.update(rustc_info());
        hasher.update(env!("CARGO_PKG_VERSION"));
        Ok(hex::encode(hasher.finalize()))
    }

    /// The prelude's folder and those of the crates it depends on by path (the protocol it
    /// shares with the kernel): their sources are the prelude's build too.
    fn source_dirs(&self) -> Result<Vec<PathBuf>> {
        let manifest = self.source.join("Cargo.toml");
        let text = fs::read_to_string(&manifest)
            .with_context(|| format!("reading {}", manifest.display()))?;
        let manifest: toml::Table = text.parse().context("parsing the prelude's Cargo.toml")?;
        let mut dirs = vec![self.source.clone()];
        let dependencies = manifest.get("dependencies").and_then(|d| d.as_table());
        for dependency in dependencies.into_iter().flat_map(|d| d.values()) {
            if let Some(path) = dependency.get("path").and_then(|p| p.as_str()) {
                dirs.push(self.source.join(path).canonicalize()?);
            }
        }
        Ok(dirs)
    }

    pub fn is_fresh(&self) -> bool {
        self.fresh_fingerprint().is_some()
    }

    /// The prelude's fingerprint, when the prebuilt prelude was built from its sources as
    /// they are now.
    pub fn fresh_fingerprint(&self) -> Option<String> {
        let now = self.fingerprint().ok()?;
        let stamp = fs::read_to_string(self.stamp_path()).ok()?;
        (stamp.lines().next() == Some(now.as_str())).then_some(now)
    }

    /// Why the prelude must be (re)built before a session can use it, if it must: said to the
    /// user, who waits minutes for it, once (later sessions reuse the build).
    pub fn stale_reason(&self) -> Option<String> {
        if self.is_fresh() {
            return None;
        }
        let Ok(stamp) = fs::read_to_string(self.stamp_path()) else {
            return Some("The prelude has not been built yet: building it once (many minutes; every later session reuses it).".into());
        };
        let built_with = stamp.lines().nth(1).unwrap_or("an older Rust");
        Some(if built_with != rustc_release() {
            format!("Rust changed ({built_with} -> {}): rebuilding the prelude once for it (later sessions reuse it).", rustc_release())
        } else {
            "The prelude's sources changed: rebuilding it once (later sessions reuse it).".into()
        })
    }

    /// Builds the prelude exactly as evcxr will build a cell that uses it, reporting each
    /// crate cargo compiles. Concurrent kernels wait for one another on a lock file.
    pub fn build(&self, mut progress: impl FnMut(&str)) -> Result<()> {
        let dir = self.build_dir();
        fs::create_dir_all(dir.join("src"))?;
        let _lock = FileLock::acquire(&self.home.join("prelude.lock"))?;
        if self.is_fresh() {
            return Ok(());
        }
        // Taken before the build: sources edited while it runs must make the next start
        // rebuild, not be stamped as built.
        let fingerprint = self.fingerprint()?;
        write_if_changed(&dir.join("Cargo.toml"), &cell_manifest(&self.dependency()))?;
        write_if_changed(&dir.join("src/lib.rs"), "")?;
        // Start from the committed lock, so the prelude gets the versions the tests ran with:
        // resolving (`cargo metadata`) only adds the cell crate and drops what the kernel
        // alone uses, which is checked before the build, and the build itself is `--locked`.
        let committed_lock = self.source.join("../Cargo.lock");
        fs::copy(&committed_lock, self.lock_path()).context("copying Cargo.lock")?;
        let resolved = cell_cargo_command(&dir)
            .args(["metadata", "--format-version", "1"])
            .stdout(Stdio::null())
            .status()
            .context("running cargo metadata for the prelude")?;
        if !resolved.success() {
            bail!("resolving the prelude's dependencies failed (cargo metadata, above)");
        }
        crate::lockfile::check_subset(&self.lock_path(), &committed_lock)?;
        // evcxr's build of a cell: `--target` and JSON messages.
        let mut child = cell_cargo_command(&dir)
            .args(["build", "--locked", "--target", host_target()])
            .arg("--message-format=json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("running cargo to build the prelude")?;
        // Compiler errors come as JSON on stdout (evcxr's message format): read them on a
        // thread, so that neither pipe fills while the other is read.
        let stdout = child.stdout.take().expect("piped");
        let errors = std::thread::spawn(move || compiler_errors(BufReader::new(stdout)));
        let mut last_lines = Vec::new();
        for line in BufReader::new(child.stderr.take().expect("piped")).lines() {
            let line = line?;
            if line.trim_start().starts_with("Compiling") {
                progress(line.trim());
            }
            last_lines.push(line);
            if last_lines.len() > 40 {
                last_lines.remove(0);
            }
        }
        let errors = errors.join().unwrap_or_default();
        if !child.wait()?.success() {
            bail!(
                "building the prelude failed:\n{}{}",
                errors.join(""),
                last_lines.join("\n")
            );
        }
        // The compiler's version is kept to say why a later rebuild happens.
        let stamp = format!("{fingerprint}\n{}\n", rustc_release());
        fs::write(self.stamp_path(), stamp)?;
        Ok(())
    }

    /// Where this kernel's session lives: named by pid, so that directories left behind by
    /// kernels that died can be recognised and removed.
    pub fn session_dir(&self) -> PathBuf {
        self.home
            .join("sessions")
            .join(format!("{}-{}", std::process::id(), uuid::Uuid::new_v4()))
    }

    /// Fills a session directory: its cargo target is a cheap copy of the prebuilt one.
    pub fn prepare_session_dir(&self, dir: &Path) -> Result<()> {
        // Deleting a dead session's 5,000 files takes seconds where the disk discards freed
        // blocks at once (ext4's `discard`): the new session need not wait for it.
        let sessions = self.home.join("sessions");
        std::thread::spawn(move || remove_dead_sessions(&sessions));
        fs::create_dir_all(dir)?;
        fs::write(dir.join("interrupt"), [0u8])?;
        let prebuilt_target = self.build_dir().join("target");
        if prebuilt_target.exists() {
            link_tree(&prebuilt_target, &dir.join("target"), true)?;
            fs::copy(self.lock_path(), dir.join("Cargo.lock"))?;
        }
        Ok(())
    }
}

/// Removes session directories whose kernel process is gone.
fn remove_dead_sessions(sessions: &Path) {
    let Ok(entries) = fs::read_dir(sessions) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .split('-')
            .next()
            .and_then(|p| p.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        if !crate::os::process_exists(pid) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// The Cargo.toml evcxr 0.22 writes for a cell crate (`Module::get_cargo_toml_contents`), at
/// our cell opt-level. Profile settings that apply to every unit (rpath, panic, strip, ...)
/// must match it exactly, or cargo would rebuild the prelude in every session.
fn cell_manifest(prelude_dependency: &str) -> String {
    format!(
        r#"
[package]
name = "ctx"
version = "1.0.0"
edition = "2024"

[lib]
crate-type = ["cdylib"]
path = "src/lib.rs"

[profile.dev]
opt-level = {CELL_OPT_LEVEL}
debug = false
strip = "debuginfo"
rpath = true
lto = false
debug-assertions = true
codegen-units = 16
panic = 'unwind'
incremental = true
overflow-checks = true

[dependencies]
ferrolab = {prelude_dependency}
"#
    )
}

/// The rendered text of each error in cargo's JSON messages.
fn compiler_errors(messages: impl BufRead) -> Vec<String> {
    messages
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(&line).ok())
        .filter(|message| {
            message["reason"] == "compiler-message" && message["message"]["level"] == "error"
        })
        .filter_map(|message| message["message"]["rendered"].as_str().map(str::to_owned))
        .collect()
}

/// The environment evcxr 0.22 gives cargo for a cell (`Config::cargo_command`), without the
/// subcommand.
fn cell_cargo_command(dir: &Path) -> Command {
    let mut command = Command::new("cargo");
    crate::analysis::restore_cargo_home(&mut command)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", "target")
        .env("CARGO_BUILD_BUILD_DIR", "target")
        .env("RUSTFLAGS", "-Cprefer-dynamic");
    command
}

/// `rustc -vV`, asked once per process: the prelude's freshness stamp, the host target and
/// the version `kernel_info` reports all come from it.
fn rustc_info() -> &'static str {
    static INFO: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    INFO.get_or_init(|| {
        Command::new("rustc")
            .arg("-vV")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    })
}

fn rustc_field(prefix: &str) -> Option<&'static str> {
    rustc_info()
        .lines()
        .find_map(|line| line.strip_prefix(prefix))
}

pub fn host_target() -> &'static str {
    rustc_field("host: ").unwrap_or("x86_64-unknown-linux-gnu")
}

/// The compiler's version, e.g. `1.95.0`.
pub fn rustc_release() -> &'static str {
    rustc_field("release: ").unwrap_or("unknown")
}

fn write_if_changed(path: &Path, contents: &str) -> Result<()> {
    if fs::read_to_string(path).ok().as_deref() != Some(contents) {
        fs::write(path, contents).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// Recreates `from` at `to`: big files hard-linked, small ones copied (see COPY_BELOW_BYTES).
/// Copies `from` to `to`, hard-linking files of `COPY_BELOW_BYTES` or more where `share`.
fn link_tree(from: &Path, to: &Path, share: bool) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let meta = entry.metadata()?;
        if meta.is_dir() {
            // Build scripts write their outputs (generated code, C libraries) in place: a
            // session whose cargo reran one would write into the shared prelude.
            let is_build_script_output = entry.file_name() == "out"
                && from.parent().and_then(Path::file_name) == Some("build".as_ref());
            link_tree(&source, &target, share && !is_build_script_output)?;
        } else if share && meta.len() >= COPY_BELOW_BYTES && fs::hard_link(&source, &target).is_ok()
        {
        } else {
            fs::copy(&source, &target).with_context(|| format!("copying {}", source.display()))?;
            // Cargo decides freshness by modification times, so the copy keeps the original's.
            let file = fs::File::options().write(true).open(&target)?;
            file.set_modified(meta.modified()?)?;
        }
    }
    Ok(())
}

/// An exclusive advisory lock (flock), held while the file stays open.
/// An exclusive lock on a file, held until dropped (or until the process ends).
pub struct FileLock {
    _file: fs::File,
}

impl FileLock {
    /// Waits for the lock.
    fn acquire(path: &Path) -> Result<Self> {
        Self::lock(path, libc::LOCK_EX)?
            .with_context(|| format!("could not lock {}", path.display()))
    }

    /// Takes the lock if no one holds it.
    pub fn try_acquire(path: &Path) -> Result<Option<Self>> {
        Self::lock(path, libc::LOCK_EX | libc::LOCK_NB)
    }

    fn lock(path: &Path, operation: libc::c_int) -> Result<Option<Self>> {
        use std::os::fd::AsRawFd;
        let file =
            fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        // SAFETY: flock on a descriptor we own; it is released when the file closes.
        let locked = unsafe { libc::flock(file.as_raw_fd(), operation) } == 0;
        Ok(locked.then_some(FileLock { _file: file }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_tree_shares_big_files_and_copies_small_ones_and_build_script_outputs() {
        let root = std::env::temp_dir().join(format!("ferrolab-link-{}", uuid::Uuid::new_v4()));
        let from = root.join("from/deps");
        fs::create_dir_all(&from).unwrap();
        fs::write(from.join("big.rlib"), vec![7u8; COPY_BELOW_BYTES as usize]).unwrap();
        fs::write(from.join("fingerprint"), "abc").unwrap();
        let script_out = root.join("from/build/zstd-sys-1234/out");
        fs::create_dir_all(&script_out).unwrap();
        fs::write(
            script_out.join("libzstd.a"),
            vec![7u8; COPY_BELOW_BYTES as usize],
        )
        .unwrap();
        link_tree(&root.join("from"), &root.join("to"), true).unwrap();

        use std::os::unix::fs::MetadataExt;
        let inode = |p: &Path| fs::metadata(p).unwrap().ino();
        assert_eq!(
            inode(&from.join("big.rlib")),
            inode(&root.join("to/deps/big.rlib"))
        );
        assert_ne!(
            inode(&from.join("fingerprint")),
            inode(&root.join("to/deps/fingerprint"))
        );
        assert_ne!(
            inode(&script_out.join("libzstd.a")),
            inode(&root.join("to/build/zstd-sys-1234/out/libzstd.a"))
        );
        let mtime = |p: &Path| fs::metadata(p).unwrap().modified().unwrap();
        assert_eq!(
            mtime(&from.join("fingerprint")),
            mtime(&root.join("to/deps/fingerprint"))
        );
        fs::remove_dir_all(root).unwrap();
    }
}
