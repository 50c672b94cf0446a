//! Fast cell builds: cargo is skipped when only the cell's code changed.
//!
//! evcxr runs `cargo build` for every cell. On the prelude's dependency graph (~300 crates)
//! a cargo that finds nothing to rebuild still spends ~0.45 s resolving, reading manifests
//! and checking fingerprints, against ~0.15 s for rustc on the cell itself (measured; see
//! docs/performance.md). So the first build of a session runs the real cargo, verbosely, and
//! records the exact rustc command it used for the cell crate; later builds whose inputs are
//! the same but for the cell's source run that rustc command directly.
//!
//! The hook: evcxr runs its cargo commands as `mold -run cargo ...` when a `mold` is on PATH.
//! The kernel puts itself on PATH under that name (see `install_hook`), so this module is what
//! runs. It never links with mold; it only decides whether cargo is needed.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::analysis::restore_cargo_home;

/// The name evcxr looks for on PATH to wrap cargo.
const HOOK_NAME: &str = "mold";
/// evcxr's cell crate (`evcxr::module::CRATE_NAME`).
const CELL_CRATE: &str = "ctx";
/// Where the recorded rustc command lives, inside the session's crate directory.
const RECORD_FILE: &str = "target/ferrolab-cell-rustc.json";
/// Touched after every build, in the session's crate directory: the kernel's interrupter
/// waits for it before it may end a cell's process (see interrupt.rs).
pub const BUILT_MARKER: &str = "target/ferrolab-built";
/// rustc's errors from the last cell build run directly, one JSON diagnostic a line.
const ERRORS_FILE: &str = "target/ferrolab-errors.jsonl";

/// Makes evcxr wrap its cargo commands with this binary. Call while single-threaded.
pub fn install_hook(bin_dir: &Path) -> Result<()> {
    crate::os::link_to_this_binary(bin_dir, HOOK_NAME)?;
    let mut path = vec![bin_dir.to_path_buf()];
    path.extend(
        std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths),
    );
    std::env::set_var("PATH", std::env::join_paths(path)?);
    Ok(())
}

/// True when this process was started by evcxr as its cargo wrapper.
pub fn invoked_as_hook() -> bool {
    std::env::args_os()
        .next()
        .and_then(|arg0| Path::new(&arg0).file_name().map(|n| n == HOOK_NAME))
        .unwrap_or(false)
}

/// Runs `mold -run CARGO SUBCOMMAND ARGS...` as evcxr asked, and exits with its status.
pub fn run_hook() -> ! {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let code = match run(&args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("ferrolab cell build: {error:#}");
            101
        }
    };
    std::process::exit(code)
}

#[derive(Serialize, Deserialize)]
struct Record {
    /// Hash of everything but the cell's source that decides the build.
    inputs: String,
    env: Vec<(String, String)>,
    program: String,
    args: Vec<String>,
    out_dir: String,
}

fn run(args: &[OsString]) -> Result<i32> {
    let [run_flag, cargo, rest @ ..] = args else {
        bail!("expected `-run CARGO ...`, got {args:?}")
    };
    if run_flag != "-run" {
        bail!("expected `-run CARGO ...`, got {args:?}");
    }
    let dir = std::env::current_dir()?;
    crate::lockfile::pin_session(&dir)?;
    let rest = &as_build(rest);
    let is_build = rest.first().is_some_and(|a| a == "build");
    if !is_build {
        return status(restore_cargo_home(Command::new(cargo).args(rest)));
    }
    let inputs = build_inputs(&dir, rest)?;
    let started = std::time::Instant::now();
    let _ = std::fs::remove_file(dir.join(ERRORS_FILE));
    let (how, code) = match load_record(&dir).filter(|r| r.inputs == inputs) {
        Some(record) => ("rustc directly", rustc_directly(&record, &dir)?),
        None => ("cargo", cargo_and_record(cargo, rest, &dir, inputs)?),
    };
    let _ = std::fs::write(dir.join(BUILT_MARKER), []);
    if std::env::var_os(ferrolab_protocol::env::TRACE).is_some() {
        // evcxr swallows this process's stderr; the trace goes next to the record.
        let line = format!("cell built by {how} in {:?}\n", started.elapsed());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("target/ferrolab-trace.log"));
        let _ = log.and_then(|mut f| f.write_all(line.as_bytes()));
    }
    Ok(code)
}

/// evcxr asks `cargo check` for a cell's errors when rust-analyzer could not type its
/// variables. A session's first check compiled every dependency of the prelude in check mode
/// (metadata only, which the prebuilt build artifacts do not serve): 95-108 s for a learner's
/// first mistake. A build reports the same errors from the prebuilt artifacts in the time a
/// cell compiles, so a check is run as one.
fn as_build(args: &[OsString]) -> Vec<OsString> {
    let mut args = args.to_vec();
    if let Some(subcommand) = args.first_mut().filter(|a| *a == "check") {
        *subcommand = "build".into();
    }
    args
}

/// Hash of the cargo arguments, RUSTFLAGS and every manifest or config file that cargo reads.
fn build_inputs(dir: &Path, args: &[OsString]) -> Result<String> {
    let mut hasher = Sha256::new();
    for arg in args {
        hasher.update(arg.as_encoded_bytes());
        hasher.update([0]);
    }
    hasher.update(std::env::var("RUSTFLAGS").unwrap_or_default());
    let mut configs: Vec<PathBuf> = dir
        .ancestors()
        .map(|d| d.join(".cargo/config.toml"))
        .collect();
    configs.extend(["Cargo.toml", "Cargo.lock"].map(|f| dir.join(f)));
    for file in configs {
        hasher.update(file.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&file).unwrap_or_default());
    }
    Ok(hex::encode(hasher.finalize()))
}

fn load_record(dir: &Path) -> Option<Record> {
    serde_json::from_slice(&std::fs::read(dir.join(RECORD_FILE)).ok()?).ok()
}

/// The real cargo, verbose so that it prints the rustc command it runs for the cell crate.
fn cargo_and_record(
    cargo: &OsString,
    args: &[OsString],
    dir: &Path,
    inputs: String,
) -> Result<i32> {
    let _ = std::fs::remove_file(dir.join(RECORD_FILE));
    let mut child = restore_cargo_home(&mut Command::new(cargo))
        .args(args)
        .arg("-v")
        .stderr(Stdio::piped())
        .spawn()?;
    let mut record = None;
    let mut stderr = std::io::stderr();
    for line in BufReader::new(child.stderr.take().expect("piped")).lines() {
        let line = line?;
        if let Some(command) = line
            .trim_start()
            .strip_prefix("Running `")
            .and_then(|l| l.strip_suffix('`'))
        {
            if record.is_none() {
                record = parse_cell_command(command, &inputs);
            }
            continue; // evcxr has no use for these lines
        }
        writeln!(stderr, "{line}")?;
    }
    let code = child.wait()?.code().unwrap_or(101);
    if let (0, Some(record)) = (code, record) {
        std::fs::write(dir.join(RECORD_FILE), serde_json::to_vec(&record)?)?;
    }
    Ok(code)
}

/// Reads cargo's `Running `ENV=.. rustc --crate-name ctx ..`` line, if it is the cell crate's.
fn parse_cell_command(command: &str, inputs: &str) -> Option<Record> {
    let words = shlex::split(command)?;
    let is_cell = words
        .windows(2)
        .any(|w| w[0] == "--crate-name" && w[1] == CELL_CRATE);
    if !is_cell {
        return None;
    }
    let split = words
        .iter()
        .position(|w| !w.contains('=') || w.starts_with('-'))?;
    let env = words[..split]
        .iter()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let args: Vec<String> = words[split + 1..].to_vec();
    let out_dir = args
        .windows(2)
        .find(|w| w[0] == "--out-dir")
        .map(|w| w[1].clone())?;
    Some(Record {
        inputs: inputs.to_owned(),
        env,
        program: words[split].clone(),
        args,
        out_dir,
    })
}

/// Compiles the cell with the recorded command and reports it as cargo would have.
fn rustc_directly(record: &Record, dir: &Path) -> Result<i32> {
    let mut child = Command::new(&record.program)
        .args(&record.args)
        .envs(record.env.iter().cloned())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {}", record.program))?;
    // rustc's JSON diagnostics go on to evcxr, which parses them as it does cargo's; its
    // errors are also kept for the kernel (see `last_errors`).
    let mut errors = String::new();
    let mut stderr = std::io::stderr();
    for line in BufReader::new(child.stderr.take().expect("piped")).lines() {
        let line = line?;
        writeln!(stderr, "{line}")?;
        if line.starts_with('{') && line.contains(r#""level":"error""#) {
            errors += &line;
            errors.push('\n');
        }
    }
    let code = child.wait()?.code().unwrap_or(101);
    let _ = std::fs::write(dir.join(ERRORS_FILE), errors);
    if code == 0 {
        let so = Path::new(&record.out_dir).join(format!("lib{CELL_CRATE}.so"));
        let artifact = serde_json::json!({"reason": "compiler-artifact", "target": {"name": CELL_CRATE},
            "filenames": [so], "fresh": false});
        println!("{artifact}");
        println!(
            "{}",
            serde_json::json!({"reason": "build-finished", "success": true})
        );
    }
    Ok(code)
}

/// rustc's own diagnostics (JSON) of the session's last failed cell build, for the errors
/// evcxr could not tie to the cell: it replaces an error whose span lies in code it generated
/// (a cell's final expression, wrapped for display) by a note of it that lies in the cell.
pub fn last_errors(session_dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(session_dir.join(ERRORS_FILE))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

fn status(command: &mut Command) -> Result<i32> {
    let status = command
        .status()
        .with_context(|| format!("running {:?}", command.get_program()))?;
    Ok(status.code().unwrap_or(101))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_cell_crates_rustc_command() {
        let line = "CARGO=/bin/cargo CARGO_CRATE_NAME=ctx /rust/bin/rustc --crate-name ctx --edition=2024 \
                    src/lib.rs --check-cfg 'cfg(feature, values())' --out-dir /s/target/deps -C rpath";
        let record = parse_cell_command(line, "h").unwrap();
        assert_eq!(record.program, "/rust/bin/rustc");
        assert_eq!(
            record.env[1],
            ("CARGO_CRATE_NAME".to_owned(), "ctx".to_owned())
        );
        assert!(record.args.contains(&"cfg(feature, values())".to_owned()));
        assert_eq!(record.out_dir, "/s/target/deps");
        let other = "/rust/bin/rustc --crate-name polars --out-dir /x";
        assert!(parse_cell_command(other, "h").is_none());
    }
}
