//! A spare session, kept warm for the next kernel start (docs/architecture.md).
//!
//! A fresh session needs ~18 s before its first cell can run (the evaluation process, the
//! prelude's loading, rust-analyzer reading the crate graph: docs/performance.md), and none of
//! that can begin before Jupyter starts the kernel. So a kernel whose session is ready and
//! idle (never while cells run: on 2 cores a spare's start would slow them) starts a spare:
//! this binary as `spare run`, which prepares a session as a kernel does, warms it up with a
//! representative first cell, and waits on a Unix socket in its build's slot under
//! `$FERROLAB_HOME/spares`. The next kernel Jupyter starts (another notebook, a restart)
//! hands the spare its connection file, working directory and environment, and the spare
//! becomes that kernel. The process Jupyter started stays as its stand-in: it forwards
//! SIGINT, and each of the two ends when the other does. The same idea as Gradle's daemon.
//!
//! `FERROLAB_SPARE=off` turns spares off; a spare no kernel took exits after
//! `FERROLAB_SPARE_IDLE_SECS` (default 1800).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use ferrolab_protocol::env;
use serde::{Deserialize, Serialize};

use crate::launch::Wires;
use crate::prebuilt::{FileLock, Prebuilt};
use crate::session::{RustInterpreter, Surroundings};

const DEFAULT_IDLE_SECS: u64 = 1800;
/// How long a launcher waits for a spare to answer before it starts a session of its own.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Serialize, Deserialize)]
struct Request {
    connection_file: PathBuf,
    surroundings: Surroundings,
}

fn enabled() -> bool {
    !matches!(
        std::env::var(env::SPARE).as_deref(),
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
            dir: spares_dir(&prebuilt.home).join(&digest[..16]),
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
        crate::os::process_exists(pid).then_some(pid)
    }

    /// Leaves the slot to the next spare.
    fn vacate(&self) {
        let _ = std::fs::remove_file(self.socket());
        let _ = std::fs::remove_file(self.ready());
    }
}

fn spares_dir(home: &Path) -> PathBuf {
    home.join("spares")
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
        let dir = spares_dir(home);
        std::fs::create_dir_all(&dir)?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("log"))?;
        let mut command = std::process::Command::new(std::env::current_exe()?);
        command
            .args(["spare", "run"])
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

/// `ferrolab-kernel spare wait`: starts a spare if none waits, and returns the pid of the
/// spare once one is ready (for benchmarks and tests, which need one to be there).
pub fn wait_for_spare(prebuilt: &Prebuilt) -> Result<libc::pid_t> {
    anyhow::ensure!(enabled(), "spare sessions are off ({})", env::SPARE);
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
        spares_dir(&prebuilt.home).join("log").display()
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
    let session_dir = crate::launch::prepare_process(&prebuilt)?;
    let wires = Wires::new();
    let ready = slot.ready();
    let warm_up = move |session: &mut crate::session::Session| {
        if !TAKEN.load(Ordering::SeqCst) {
            session.warm_up_first_cell();
            let _ = std::fs::write(&ready, std::process::id().to_string());
        }
    };
    let interpreter = RustInterpreter::start(prebuilt, session_dir, wires.cell_output(), warm_up);
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
    let info = crate::launch::read_connection_file(&request.connection_file)?;
    interpreter.adopt(request.surroundings);
    writeln!(stream, "adopted {}", std::process::id())?;
    let next_spare_home = home.clone();
    interpreter.when_idle(move || start_spare(&next_spare_home));
    std::thread::spawn(move || {
        let _ = stream.set_read_timeout(None);
        let _ = std::io::copy(&mut stream, &mut std::io::sink());
        // The launcher is gone: Jupyter considers this kernel ended.
        std::process::exit(0);
    });
    crate::launch::serve(&info, wires, &home, || interpreter)
}

/// Ends a spare no kernel took within FERROLAB_SPARE_IDLE_SECS, or whose build is no longer
/// the current one (the kernel was rebuilt, the prelude's sources changed).
fn give_up_when_idle_or_stale(slot_dir: PathBuf) {
    let idle = std::env::var(env::SPARE_IDLE_SECS)
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
