//! The versions a session builds with: exactly the prebuilt prelude's, which are the
//! committed Cargo.lock's.
//!
//! Cargo rewrites a crate's Cargo.lock at every run, and evcxr's runs change the manifest under
//! it: its start-up probe builds the cell crate before the prelude is a dependency (cargo
//! prunes the lock to the cell crate alone), and `:dep` checks each dependency with `cargo
//! metadata` on a dummy manifest. The next run then resolved the prelude's graph afresh
//! against the registry, and as soon as any crate in it published a release, every session
//! recompiled the prelude's dependencies (20 minutes on 2 cores).
//!
//! So before every cargo run the kernel wraps (evcxr's, through the cell-build hook, and
//! rust-analyzer's), [`pin_session`] puts the prebuilt lock's packages back into the
//! session's lock. Cargo keeps a locked version wherever a requirement allows it, even for
//! packages the manifest no longer uses, so the prelude's graph never moves and a `:dep`
//! resolves only what is new to it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use toml::{Table, Value};

/// Where the prebuilt prelude's lock is, for the cargo runs a session's kernel wraps.
const PRELUDE_LOCK: &str = "FERROLAB_PRELUDE_LOCK";
/// The session's crate directory (evcxr's working directory for its cell crate).
const SESSION_DIR: &str = "EVCXR_TMPDIR";

/// Makes the cargo runs this process and its children wrap pin to `prelude_lock`. Call while
/// single-threaded.
pub fn install(prelude_lock: &Path) {
    std::env::set_var(PRELUDE_LOCK, prelude_lock);
}

/// Restores the prebuilt prelude's versions in the session's Cargo.lock, when `crate_dir` is
/// the session's crate (rust-analyzer also asks cargo about the standard library's).
pub fn pin_session(crate_dir: &Path) -> Result<()> {
    let (Some(prelude_lock), Some(session_dir)) = (
        std::env::var_os(PRELUDE_LOCK),
        std::env::var_os(SESSION_DIR),
    ) else {
        return Ok(());
    };
    if !same_dir(crate_dir, Path::new(&session_dir)) {
        return Ok(());
    }
    pin(&crate_dir.join("Cargo.lock"), Path::new(&prelude_lock))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    canonical(a) == canonical(b)
}

/// Adds to the lock at `path` every package of `pinned` it lacks.
fn pin(path: &Path, pinned: &Path) -> Result<()> {
    let pinned_text = read(pinned)?;
    let text = match std::fs::read_to_string(path) {
        Ok(text) if text == pinned_text => return Ok(()), // the usual case: nothing to do
        Ok(text) => text,
        Err(_) => return write_atomically(path, &pinned_text),
    };
    let mut lock: Table = text
        .parse()
        .with_context(|| format!("parsing {}", path.display()))?;
    let pinned: Table = pinned_text
        .parse()
        .with_context(|| format!("parsing {}", pinned.display()))?;
    let held: HashSet<PackageId> = packages(&lock).iter().filter_map(package_id).collect();
    let missing: Vec<Value> = packages(&pinned)
        .iter()
        .filter(|p| package_id(p).is_some_and(|id| !held.contains(&id)))
        .cloned()
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = lock
        .entry("package")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = list {
        list.extend(missing);
    }
    write_atomically(path, &toml::to_string(&lock)?)
}

/// Checks that `lock` (the prebuilt prelude's) took every registry package's version from
/// `committed` (the repository's Cargo.lock): the versions the tests ran with.
pub fn check_subset(lock: &Path, committed: &Path) -> Result<()> {
    let parse = |path: &Path| -> Result<Table> {
        read(path)?
            .parse()
            .with_context(|| format!("parsing {}", path.display()))
    };
    let (lock, committed) = (parse(lock)?, parse(committed)?);
    let known: HashSet<PackageId> = packages(&committed).iter().filter_map(package_id).collect();
    let new: Vec<String> = packages(&lock)
        .iter()
        .filter(|p| p.get("source").is_some()) // path packages: the prelude, the cell crate
        .filter_map(package_id)
        .filter(|id| !known.contains(id))
        .map(|(name, version, _)| format!("{name} {version}"))
        .collect();
    if !new.is_empty() {
        bail!(
            "the prelude needs crate versions that the committed Cargo.lock lacks ({}): \
             run `cargo build -p ferrolab` in the repository and commit Cargo.lock",
            new.join(", ")
        );
    }
    Ok(())
}

/// A package's name, version and source.
type PackageId = (String, String, String);

fn packages(lock: &Table) -> &[Value] {
    lock.get("package")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn package_id(package: &Value) -> Option<PackageId> {
    let field = |name: &str| package.get(name).and_then(Value::as_str).map(str::to_owned);
    Some((
        field("name")?,
        field("version")?,
        field("source").unwrap_or_default(),
    ))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Replaces `path` by rename, so that a cargo reading it never sees half a file.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let partial = PathBuf::from(format!("{}.ferrolab-partial", path.display()));
    std::fs::write(&partial, text).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("replacing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTRY: &str = "registry+https://github.com/rust-lang/crates.io-index";

    fn lock(packages: &[(&str, &str, bool)]) -> String {
        let mut text = String::from("version = 4\n");
        for (name, version, registry) in packages {
            text += &format!("\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n");
            if *registry {
                text += &format!("source = \"{REGISTRY}\"\n");
            }
        }
        text
    }

    fn ids(path: &Path) -> Vec<PackageId> {
        let table: Table = std::fs::read_to_string(path).unwrap().parse().unwrap();
        let mut ids: Vec<PackageId> = packages(&table).iter().filter_map(package_id).collect();
        ids.sort();
        ids
    }

    #[test]
    fn a_pruned_session_lock_gets_the_prelude_back_and_keeps_its_own_packages() {
        let dir = std::env::temp_dir().join(format!("ferrolab-lock-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let (session, prelude) = (dir.join("Cargo.lock"), dir.join("prelude.lock"));
        std::fs::write(
            &prelude,
            lock(&[("ctx", "1.0.0", false), ("bytes", "1.12.1", true)]),
        )
        .unwrap();
        // What evcxr's probe leaves, plus a `:dep` the prelude does not have.
        std::fs::write(
            &session,
            lock(&[("ctx", "1.0.0", false), ("regex", "1.0.0", true)]),
        )
        .unwrap();
        pin(&session, &prelude).unwrap();
        let id = |n: &str, v: &str, s: &str| (n.to_owned(), v.to_owned(), s.to_owned());
        assert_eq!(
            ids(&session),
            [
                id("bytes", "1.12.1", REGISTRY),
                id("ctx", "1.0.0", ""),
                id("regex", "1.0.0", REGISTRY)
            ]
        );
        // A missing lock becomes the prelude's, byte for byte.
        std::fs::remove_file(&session).unwrap();
        pin(&session, &prelude).unwrap();
        assert_eq!(
            std::fs::read(&session).unwrap(),
            std::fs::read(&prelude).unwrap()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_prelude_lock_with_a_version_the_committed_lock_lacks_is_refused() {
        let dir = std::env::temp_dir().join(format!("ferrolab-lock-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let (prelude, committed) = (dir.join("prelude.lock"), dir.join("Cargo.lock"));
        let committed_packages = [
            ("ferrolab", "0.1.0", false),
            ("evcxr", "0.22.0", true),
            ("bytes", "1.12.1", true),
        ];
        std::fs::write(&committed, lock(&committed_packages)).unwrap();
        std::fs::write(
            &prelude,
            lock(&[("ctx", "1.0.0", false), ("bytes", "1.12.1", true)]),
        )
        .unwrap();
        check_subset(&prelude, &committed).unwrap();
        std::fs::write(
            &prelude,
            lock(&[("ctx", "1.0.0", false), ("bytes", "1.12.2", true)]),
        )
        .unwrap();
        let error = check_subset(&prelude, &committed).unwrap_err().to_string();
        assert!(error.contains("bytes 1.12.2"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
