//! A spare session, kept warm for the next kernel start (docs/architecture.md).
//!
//! A fresh session needs ~18 s before its first cell can run (the evaluation process, the
//! prelude's loading, rust-analyzer reading the crate graph: docs/performance.md), and none of
//! that can begin before Jupyter starts the kernel. So a kernel whose session is ready and
//! idle (never while cells run: on 2 cores a spare's start would slow them) starts a spare:
//! this binary in its `spare` role, which prepares a session as a kernel does, warms it up
//! with a representative first cell, and waits on a Unix socket in its build's slot under
//! `$FERROLAB_HOME/standby`. The next kernel Jupyter starts (another notebook, a restart)
//! hands the spare its connection file, working directory and environment, and the spare
//! becomes that kernel. The process Jupyter started stays as its stand-in: it forwards
//! SIGINT, and each of the two ends when the other does. The same idea as Gradle's daemon.
//!
//! `FERROLAB_STANDBY=off` turns spares off; a spare no kernel took exits after
//! `FERROLAB_STANDBY_IDLE_SECS` (default 1800).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::kernel::Kernel;
use crate::prebuilt::{FileLock, Prebuilt};

/// The argument that starts this binary as a spare session.
pub const SPARE_ROLE: &str = "spare";
const DEFAULT_IDLE_SECS: u64 = 1800;
/// How long a launcher waits for a spare to answer before it starts a session of its own.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a kernel was started: what the evaluation process takes over from its launcher.
#[derive(Serialize, Deserialize)]
pub struct Surroundings {
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Surroundings {
    fn here() -> Result<Self> {
        Ok(Surroundings {
            cwd: std::env::current_dir()?,
            env: std::env::vars_os()
                .filter_map(|(name, value)| {
                    Some((name.into_string().ok()?, value.into_string().ok()?))
                })
                .collect(),
        })
    }

    /// The variables to set and to remove to turn this process's environment into the
    /// launcher's, leaving alone those the kernel sets for its own machinery.
    pub fn env_changes(&self) -> (Vec<(String, String)>, Vec<String>) {
        let own = |name: &str| {
            name.starts_with("FERROLAB_")
                || name.starts_with("EVCXR_")
                || ["CARGO_HOME", "LD_LIBRARY_PATH", "RUST_LIB_BACKTRACE"].contains(&name)
        };
        let set = self
            .env
            .iter()
            .filter(|(name, value)| {
                !own(name) && std::env::var(name).ok().as_deref() != Some(value.as_str())
            })
            .cloned()
            .collect();
        let unset = std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .filter(|name| !own(name) && !self.env.iter().any(|(n, _)| n == name))
            .collect();
        (set, unset)
    }
}

#[derive(Serialize, Deserialize)]
struct Request {
    connection_file: PathBuf,
    surroundings: Surroundings,
}

fn enabled() -> bool {
    !matches!(
        std::env::var("FERROLAB_STANDBY").as_deref(),
        Ok("off" | "0" | "false" | "no")
    )
}

/// Where the spare for this binary and this prebuilt prelude waits. One slot per build, so
/// that spares of different builds (a rebuilt kernel, another clone of the project) never
/// meet. None while the prelude needs rebuilding: the next kernel does that, showing progress.
struct Slot {
    dir: PathBuf,
}

impl Slot {
    fn of(prebuilt: &Prebuilt) -> Option<Slot> {
        let exe = std::env::current_exe().ok()?;
        let modified = exe.metadata().ok()?.modified().ok()?;
        let build = format!(
            "{} {:?} {}",
            exe.display(),
            modified,
            prebuilt.fresh_fingerprint()?
        );
        let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(build));
        Some(Slot {
            dir: standby_dir(&prebuilt.home).join(&digest[..16]),
        })
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("socket")
    }

    /// Holds the pid of a spare whose session is ready.
    fn ready(&self) -> PathBuf {
        self.dir.join("ready")
    }

    /// The spare that waits in this slot: ready, alive, and taken by no one yet.
    fn waiting_spare(&self) -> Option<libc::pid_t> {
        let pid = std::fs::read_to_string(self.ready()).ok()?.parse().ok()?;
        crate::prebuilt::process_exists(pid).then_some(pid)
    }

    /// Leaves the slot to the next spare.
    fn vacate(&self) {
        let _ = std::fs::remove_file(self.socket());
        let _ = std::fs::remove_file(self.ready());
    }
}

fn standby_dir(home: &Path) -> PathBuf {
    home.join("standby")
}

/// The launcher's side: hands the kernel's start to a waiting spare, if there is one, and
/// then stands in for it until it ends. False when no spare took over.
pub fn hand_over(prebuilt: &Prebuilt, connection_file: &Path) -> bool {
    if !enabled() {
        return false;
    }
    let Some(slot) = Slot::of(prebuilt) else {
        return false;
    };
    let Ok(mut stream) = UnixStream::connect(slot.socket()) else {
        return false;
    };
    let Some(kernel_pid) = request(&mut stream, connection_file) else {
        return false;
    };
    forward_sigint_to(kernel_pid);
    // The kernel keeps its end open while it lives.
    let _ = stream.set_read_timeout(None);
    let _ = std::io::copy(&mut stream, &mut std::io::sink());
    true
}

/// Sends the request; the pid of the kernel that took it over, if one did.
fn request(stream: &mut UnixStream, connection_file: &Path) -> Option<i32> {
    let request = Request {
        connection_file: std::path::absolute(connection_file).ok()?,
        surroundings: Surroundings::here().ok()?,
    };
    let mut line = serde_json::to_string(&request).ok()?;
    line.push('\n');
    stream.write_all(line.as_bytes()).ok()?;
    stream.set_read_timeout(Some(ANSWER_TIMEOUT)).ok()?;
    let mut answer = String::new();
    BufReader::new(&*stream).read_line(&mut answer).ok()?;
    answer.trim().strip_prefix("adopted ")?.parse().ok()
}

static KERNEL_PID: AtomicI32 = AtomicI32::new(0);

/// A Ctrl-C in the launcher's terminal (or a client in signal mode) reaches the kernel,
/// which treats it as an interrupt request.
fn forward_sigint_to(pid: i32) {
    extern "C" fn forward(_: libc::c_int) {
        // SAFETY: kill(2) is async-signal-safe.
        unsafe { libc::kill(KERNEL_PID.load(Ordering::Relaxed), libc::SIGINT) };
    }
    KERNEL_PID.store(pid, Ordering::Relaxed);
    // SAFETY: the handler only reads an atomic and calls kill(2).
    unsafe { libc::signal(libc::SIGINT, forward as *const () as libc::sighandler_t) };
}

/// Starts a spare session in the background, unless spares are off. A spare that finds
/// another one already waiting exits at once.
pub fn start_spare(home: &Path) {
    if !enabled() {
        return;
    }
    let started = (|| -> Result<std::process::Child> {
        let dir = standby_dir(home);
        std::fs::create_dir_all(&dir)?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("log"))?;
        let mut command = std::process::Command::new(std::env::current_exe()?);
        command
            .arg(SPARE_ROLE)
            .current_dir(home)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: a client that kills this kernel's group spares it.
            .process_group(0);
        crate::analysis::restore_cargo_home(&mut command);
        Ok(command.spawn()?)
    })();
    match started {
        // Reaped whenever it ends, so it never lingers as a zombie of this kernel.
        Ok(mut child) => drop(std::thread::spawn(move || child.wait())),
        Err(error) => eprintln!("ferrolab: could not start a spare session: {error:#}"),
    }
}

/// `ferrolab-kernel standby --wait`: starts a spare if none waits, and returns the pid of the
/// spare once one is ready (for benchmarks and tests, which need one to be there).
pub fn wait_for_spare(prebuilt: &Prebuilt) -> Result<libc::pid_t> {
    anyhow::ensure!(enabled(), "spare sessions are off (FERROLAB_STANDBY)");
    let slot = Slot::of(prebuilt).context("the prelude needs rebuilding first")?;
    start_spare(&prebuilt.home);
    let deadline = std::time::Instant::now() + Duration::from_secs(600);
    while std::time::Instant::now() < deadline {
        if let Some(pid) = slot.waiting_spare() {
            return Ok(pid);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    anyhow::bail!(
        "no spare session got ready; see {}",
        standby_dir(&prebuilt.home).join("log").display()
    )
}

/// Set by whichever comes first: a launcher taking this spare over, or the spare giving up.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// How often a waiting spare checks that its build is still the current one.
const STALE_CHECK: Duration = Duration::from_secs(60);

/// The spare's side: prepares a session, waits for a launcher, then serves as its kernel.
pub fn run_spare() -> Result<()> {
    let prebuilt = Prebuilt::from_env()?;
    let Some(slot) = Slot::of(&prebuilt) else {
        return Ok(());
    };
    std::fs::create_dir_all(&slot.dir)?;
    let Some(lock) = FileLock::try_acquire(&slot.dir.join("lock"))? else {
        return Ok(()); // another spare waits here already
    };
    let _ = std::fs::remove_file(slot.socket());
    let listener = UnixListener::bind(slot.socket()).context("binding the spare's socket")?;
    let home = prebuilt.home.clone();
    let session_dir = crate::prepare_process(&prebuilt)?;
    let (out, outgoing) = mpsc::unbounded_channel();
    let ready = slot.ready();
    let mut kernel = Kernel::start(prebuilt, session_dir, out, move |session| {
        if !TAKEN.load(Ordering::SeqCst) {
            session.warm_up_first_cell();
            let _ = std::fs::write(&ready, std::process::id().to_string());
        }
    });
    give_up_when_idle_or_stale(slot.dir.clone());

    let (mut stream, request) = loop {
        let (stream, _) = listener.accept()?;
        let mut line = String::new();
        let _ = stream.set_read_timeout(Some(ANSWER_TIMEOUT));
        if BufReader::new(&stream).read_line(&mut line).is_ok() {
            if let Ok(request) = serde_json::from_str::<Request>(&line) {
                break (stream, request);
            }
        }
    };
    if TAKEN.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    slot.vacate();
    drop((listener, lock));
    std::env::set_current_dir(&request.surroundings.cwd)?;
    let info = crate::read_connection_file(&request.connection_file)?;
    kernel.adopt(request.surroundings);
    writeln!(stream, "adopted {}", std::process::id())?;
    kernel.when_idle(move || start_spare(&home));
    std::thread::spawn(move || {
        let _ = stream.set_read_timeout(None);
        let _ = std::io::copy(&mut stream, &mut std::io::sink());
        // The launcher is gone: Jupyter considers this kernel ended.
        std::process::exit(0);
    });
    crate::serve(&info, outgoing, || kernel)
}

/// Ends a spare no kernel took within FERROLAB_STANDBY_IDLE_SECS, or whose build is no longer
/// the current one (the kernel was rebuilt, the prelude's sources changed).
fn give_up_when_idle_or_stale(slot_dir: PathBuf) {
    let idle = std::env::var("FERROLAB_STANDBY_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(DEFAULT_IDLE_SECS), Duration::from_secs);
    let started = std::time::Instant::now();
    std::thread::spawn(move || loop {
        std::thread::sleep(STALE_CHECK.min(idle));
        let current = Prebuilt::from_env().ok().as_ref().and_then(Slot::of);
        let stale = current.is_none_or(|slot| slot.dir != slot_dir);
        if (stale || started.elapsed() >= idle) && !TAKEN.swap(true, Ordering::SeqCst) {
            Slot { dir: slot_dir }.vacate();
            std::process::exit(0);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_changes_turn_this_environment_into_the_launchers_but_keep_the_kernels_own() {
        let mut launcher = Surroundings::here().unwrap();
        launcher.env.retain(|(name, _)| name != "PATH");
        launcher
            .env
            .retain(|(name, _)| !name.starts_with("FERROLAB_"));
        launcher.env.push(("NOTEBOOK_ONLY".into(), "1".into()));
        launcher
            .env
            .push(("FERROLAB_STANDBY".into(), "elsewhere".into()));
        launcher
            .env
            .push(("LD_LIBRARY_PATH".into(), "/elsewhere".into()));
        let (set, unset) = launcher.env_changes();
        assert_eq!(set, [("NOTEBOOK_ONLY".to_owned(), "1".to_owned())]);
        assert_eq!(unset, ["PATH"]);
    }
}
