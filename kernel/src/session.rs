//! One notebook session: an evcxr context whose cells link the prebuilt prelude, and the
//! translation of what a cell did into outputs (stream, display, result, error).
//!
//! The evaluation process (evcxr's runtime child) talks back to us only through its stdout:
//! ordinary lines are the user's output; lines starting with a marker carry display messages
//! and panic reports from the prelude (see `prelude/src/display.rs`, `prelude/src/runtime.rs`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use evcxr::{CommandContext, EvalContext};
use serde::Deserialize;
use serde_json::Value;

use crate::prebuilt::{Prebuilt, CELL_OPT_LEVEL};
use crate::report::{self, CellError};

/// A display message from user code (`display`, `DisplayHandle::update`, `clear_output`).
const DISPLAY_MARKER: &str = "FERROLAB_DISPLAY ";
/// The prelude's panic hook reports a panic's message and location on this line.
const PANIC_MARKER: &str = "FERROLAB_PANIC ";
/// Run in every fresh evaluation process: the prelude in scope, its hooks installed. The `?`
/// turns on evcxr's `?` support now: evcxr enables it only after a cell fails to compile
/// without it, and the first `df!(..)?` would otherwise lose its rich display to the retry.
const SESSION_INIT: &str =
    "use ferrolab::prelude::*;\nferrolab::runtime::install();\nOk::<(), std::fmt::Error>(())?;";

/// What a cell produced, besides the streams already sent while it ran.
pub enum Outcome {
    /// The value of the cell's last expression as a MIME bundle (empty when there is none).
    Value(BTreeMap<String, String>),
    Error(CellError),
}

/// Everything the evaluation process sends while a cell runs, in order.
pub enum Output {
    Stdout(String),
    Stderr(String),
    Display(Value),
}

#[derive(Deserialize)]
pub struct PanicReport {
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The panic is `ferrolab::runtime::Interrupted`: the user stopped the cell.
    #[serde(default)]
    pub interrupted: bool,
}

/// How long output gathers before it is sent: the delay a user may notice, at most.
const STREAM_COALESCE: Duration = Duration::from_millis(15);
/// A stream message carries at most this much text; more waiting output becomes more messages.
const STREAM_BATCH_BYTES: usize = 64 * 1024;
/// What one cell may print before the rest is dropped: a notebook (and the browser showing
/// it) stays usable when a loop prints millions of lines.
const CELL_OUTPUT_LIMIT_BYTES: usize = 1024 * 1024;

/// State shared with the threads that forward the evaluation process's output.
#[derive(Default)]
struct Sink {
    panic: Option<PanicReport>,
    /// A `?` in the cell returned an error (see relay.rs).
    user_error: bool,
    /// The cell's last burst of stderr lines (those that arrived together): evcxr prints a
    /// `?` error there, in one write however many lines it has.
    last_stderr_burst: String,
    budget: OutputBudget,
}

/// Counts what a cell printed against CELL_OUTPUT_LIMIT_BYTES.
#[derive(Default)]
struct OutputBudget {
    used: usize,
    dropped: usize,
    noted: bool,
}

impl OutputBudget {
    /// The part of `line` still within the limit, if any.
    fn take<'a>(&mut self, line: &'a str) -> Option<&'a str> {
        let left = CELL_OUTPUT_LIMIT_BYTES.saturating_sub(self.used);
        if line.len() < left {
            self.used += line.len() + 1;
            return Some(line);
        }
        self.dropped += line.len() + 1;
        self.used = CELL_OUTPUT_LIMIT_BYTES;
        None
    }

    /// Says once per cell that output was dropped.
    fn note_once(&mut self) -> Option<String> {
        if self.dropped == 0 || self.noted {
            return None;
        }
        self.noted = true;
        Some(format!(
            "\n[ferrolab: output over {} KiB dropped from here; write big results to a file or display them]\n",
            CELL_OUTPUT_LIMIT_BYTES / 1024
        ))
    }
}

/// How long a running cell gets to stop by itself (prelude code checks the interrupt flag)
/// before the evaluation process is ended, which costs the session's variables.
const INTERRUPT_GRACE: Duration = Duration::from_secs(2);

/// Stops the running cell from another thread. First it raises the flag that prelude loops
/// check (`ferrolab::runtime::check_interrupt`), which unwinds the cell and keeps every
/// variable; a cell that does not stop within INTERRUPT_GRACE loses its process.
pub struct Interrupter {
    /// A one-byte file the evaluation process maps into memory: 1 means "stop".
    flag: PathBuf,
    /// Touched by the cell-build hook after each build (see cellbuild.rs).
    built: PathBuf,
    /// When the current cell began, to tell whether its build has finished.
    cell_began: Mutex<std::time::SystemTime>,
    pid: Mutex<Option<u32>>,
    /// Counts cells, so a late kill never hits a cell started after the interrupt.
    cell: AtomicU64,
    running: AtomicBool,
    killed: AtomicBool,
}

impl Interrupter {
    pub fn new(session_dir: &std::path::Path) -> Self {
        Interrupter {
            flag: session_dir.join("interrupt"),
            built: session_dir.join(crate::cellbuild::BUILT_MARKER),
            cell_began: Mutex::new(std::time::SystemTime::now()),
            pid: Mutex::new(None),
            cell: AtomicU64::new(0),
            running: AtomicBool::new(false),
            killed: AtomicBool::new(false),
        }
    }

    fn set_flag(&self, raised: bool) {
        use std::os::unix::fs::FileExt;
        // Written in place, never truncated: the evaluation process has this byte mapped,
        // and reading a mapping past the end of its file is a SIGBUS.
        let written = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.flag)
            .and_then(|f| f.write_all_at(&[raised as u8], 0));
        if let Err(error) = written {
            eprintln!(
                "ferrolab: cannot write the interrupt flag {}: {error}",
                self.flag.display()
            );
        }
    }

    fn begin_cell(&self) {
        self.set_flag(false);
        *self.cell_began.lock().unwrap() = std::time::SystemTime::now();
        self.killed.store(false, Ordering::SeqCst);
        self.cell.fetch_add(1, Ordering::SeqCst);
        self.running.store(true, Ordering::SeqCst);
    }

    fn end_cell(&self) {
        self.running.store(false, Ordering::SeqCst);
    }

    /// When the current cell's build ended, if it has.
    fn build_ended(&self) -> Option<std::time::SystemTime> {
        let built = std::fs::metadata(&self.built).ok()?.modified().ok()?;
        (built >= *self.cell_began.lock().unwrap()).then_some(built)
    }

    pub fn interrupt(self: &Arc<Self>) {
        if !self.running.load(Ordering::SeqCst) {
            return;
        }
        self.set_flag(true);
        let (this, cell) = (self.clone(), self.cell.load(Ordering::SeqCst));
        std::thread::spawn(move || {
            let still_running =
                || this.running.load(Ordering::SeqCst) && this.cell.load(Ordering::SeqCst) == cell;
            std::thread::sleep(INTERRUPT_GRACE);
            // The grace counts from the end of the cell's build: while rustc works, no code
            // of the cell runs yet, and ending the process would only cost the variables.
            let build_ended = loop {
                match this.build_ended() {
                    Some(ended) => break ended,
                    None if still_running() => std::thread::sleep(Duration::from_millis(50)),
                    None => return,
                }
            };
            let since_build = build_ended.elapsed().unwrap_or_default();
            std::thread::sleep(INTERRUPT_GRACE.saturating_sub(since_build));
            if still_running() {
                if let Some(pid) = *this.pid.lock().unwrap() {
                    this.killed.store(true, Ordering::SeqCst);
                    // SAFETY: kill(2) on the evaluation process we started.
                    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                }
            }
        });
    }
}

pub struct Session {
    context: CommandContext,
    sink: Arc<Mutex<Sink>>,
    /// The evaluation process's stdout and stderr (clones; only checked for emptiness).
    streams: [crossbeam_channel::Receiver<String>; 2],
    pub interrupter: Arc<Interrupter>,
    dir: PathBuf,
}

impl Session {
    /// Starts the evaluation process with the prelude loaded. `emit` receives every output
    /// line as it comes, from forwarding threads; `progress` reports a prelude rebuild.
    pub fn start(
        prebuilt: &Prebuilt,
        dir: PathBuf,
        interrupter: Arc<Interrupter>,
        emit: impl Fn(Output) + Send + Sync + 'static,
        mut progress: impl FnMut(&str),
    ) -> Result<Session> {
        if let Some(reason) = prebuilt.stale_reason() {
            progress(&format!("{reason}\n"));
            prebuilt.build(|line| progress(&format!("{line}\n")))?;
            progress("Prelude ready.\n");
        }
        let started = std::time::Instant::now();
        let trace = |step: &str| trace(&format!("{step} at {:?}", started.elapsed()));
        // evcxr finds `dir` through EVCXR_TMPDIR, which main() set before any thread started.
        prebuilt.prepare_session_dir(&dir)?;
        trace("session directory ready");
        let mut runtime = std::process::Command::new(std::env::current_exe()?);
        runtime.env("LD_LIBRARY_PATH", library_path(&dir)?);
        crate::analysis::restore_cargo_home(&mut runtime);
        // Library errors that capture a backtrace (candle's do when RUST_BACKTRACE is set,
        // as evcxr sets it for panics) would print forty frames of the kernel under a
        // one-line shape error. Panics keep theirs; RUST_LIB_BACKTRACE=1 brings these back.
        if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
            runtime.env("RUST_LIB_BACKTRACE", "0");
        }
        let (eval_context, outputs) = EvalContext::with_subprocess_command(runtime)
            .map_err(|e| anyhow::anyhow!("starting the evaluation process: {e}"))?;
        let mut context = CommandContext::with_eval_context(eval_context);
        trace("evaluation process started");

        let sink = Arc::new(Mutex::new(Sink::default()));
        let streams = [outputs.stdout.clone(), outputs.stderr.clone()];
        let emit = Arc::new(emit);
        spawn_forwarder(outputs.stdout, sink.clone(), emit.clone(), false);
        spawn_forwarder(outputs.stderr, sink.clone(), emit, true);

        for command in [
            format!(":opt {CELL_OPT_LEVEL}"),
            format!(":dep ferrolab = {}", prebuilt.dependency()),
        ] {
            context
                .execute(&command)
                .map_err(|e| anyhow::anyhow!("{command}: {e}"))?;
            trace(&command);
        }
        let mut session = Session {
            context,
            sink,
            streams,
            interrupter,
            dir,
        };
        session.init_process()?;
        trace("prelude loaded");
        session.warm_up_analysis();
        trace("rust-analyzer warmed up");
        Ok(session)
    }

    fn init_process(&mut self) -> Result<()> {
        self.context
            .execute(SESSION_INIT)
            .map_err(|e| anyhow::anyhow!("loading the prelude: {e}"))?;
        let pid = self.context.process_handle().lock().unwrap().id();
        *self.interrupter.pid.lock().unwrap() = Some(pid);
        Ok(())
    }

    /// rust-analyzer infers the type of every variable a cell defines. Its first inference
    /// resolves trait impls across the prelude's whole dependency graph (seconds, with
    /// polars); asking for a completion that needs it does that work before the first cell.
    fn warm_up_analysis(&mut self) {
        const WARM_UP: &str = "let ferrolab_warm_up = 1 + 1;\nferrolab_warm_up.";
        let _ = self.context.completions(WARM_UP, WARM_UP.len());
    }

    /// What a spare session does while it waits (see standby.rs): the work a notebook's first
    /// cell would otherwise wait for, through the path a cell takes. rust-analyzer infers the
    /// types of variables holding an array, a dataframe and a tensor, and rustc loads those
    /// crates' metadata and builds the code that stores such variables; then the variables
    /// are moved out again (evcxr forgets a variable a cell moved), leaving the session empty.
    pub fn warm_up_first_cell(&mut self) {
        const CELLS: [&str; 2] = [
            "let ferrolab_warm_up = (\n    \
                Array2::<f64>::ones((2, 2)),\n    \
                df!(\"x\" => [1.0, 2.0]).unwrap(),\n    \
                Tensor::zeros((2, 2), DType::F32, &Device::Cpu).unwrap(),\n);",
            "drop(ferrolab_warm_up);",
        ];
        for cell in CELLS {
            if let Outcome::Error(error) = self.execute(cell) {
                eprintln!("ferrolab: a warm-up cell failed: {}", error.evalue);
            }
        }
    }

    /// Gives the evaluation process the working directory and environment of the kernel that
    /// took this session over (see standby.rs).
    pub fn adopt(&mut self, surroundings: &crate::standby::Surroundings) {
        let (set, unset) = surroundings.env_changes();
        let code = format!(
            "ferrolab::runtime::adopt({:?}, &{set:?}, &{unset:?});",
            surroundings.cwd.to_string_lossy()
        );
        if let Err(error) = self.context.execute(&code) {
            eprintln!("ferrolab: moving the session into the notebook's directory failed: {error}");
        }
    }

    pub fn execute(&mut self, code: &str) -> Outcome {
        let before: Vec<String> = self.variable_names();
        {
            let mut sink = self.sink.lock().unwrap();
            sink.panic = None;
            sink.user_error = false;
            sink.last_stderr_burst.clear();
            sink.budget = OutputBudget::default();
        }
        self.interrupter.begin_cell();
        let result = self.context.execute(code);
        self.interrupter.end_cell();
        if let Ok(outputs) = &result {
            let phases: Vec<String> = outputs
                .phases
                .iter()
                .map(|p| format!("{} {:?}", p.name, p.duration))
                .collect();
            trace(&format!("cell phases: {}", phases.join(", ")));
        }
        let (panic, user_error) = {
            let mut sink = self.wait_for_output();
            let user_error = sink
                .user_error
                .then(|| sink.last_stderr_burst.trim_end().to_owned());
            (sink.panic.take(), user_error)
        };
        match result {
            Ok(outputs) => match (panic, user_error) {
                (Some(panic), _) => {
                    let source = self.context.last_source().unwrap_or_default();
                    Outcome::Error(report::panic(&panic, &source, code))
                }
                (None, Some(message)) => Outcome::Error(report::returned_error(&message)),
                (None, None) => {
                    let mut bundle: BTreeMap<String, String> =
                        outputs.content_by_mime_type.into_iter().collect();
                    // A cell ending in `()` (a loop, a call for its effect) shows nothing, as
                    // Python shows nothing for None.
                    if bundle.len() == 1 && bundle.get("text/plain").is_some_and(|v| v == "()") {
                        bundle.clear();
                    }
                    Outcome::Value(bundle)
                }
            },
            Err(evcxr::Error::SubprocessTerminated(message)) => {
                let interrupted = self.interrupter.killed.load(Ordering::SeqCst);
                let restarted = self.init_process();
                Outcome::Error(report::process_lost(
                    &message,
                    &before,
                    interrupted,
                    restarted.err(),
                ))
            }
            Err(error) => {
                let rustc_errors = crate::cellbuild::last_errors(&self.dir);
                if matches!(error, evcxr::Error::CompilationErrors(_)) {
                    self.keep_declarations(code);
                }
                Outcome::Error(report::evcxr_error(error, code, &rustc_errors))
            }
        }
    }

    /// evcxr keeps nothing of a cell that failed to compile, so a cell's `use` line was lost
    /// with a mistake further down, and every later cell failed on the missing name. Its `use`
    /// lines are kept, and its items too where they compile without the rest, as Python keeps
    /// the imports that ran before an exception. Costs one or two compiles, after a failure.
    fn keep_declarations(&mut self, code: &str) {
        let (uses, items) = crate::syntax::declarations(code);
        let mut attempts = vec![uses.join("\n")];
        if !items.is_empty() {
            attempts.insert(0, [uses, items].concat().join("\n"));
        }
        for attempt in attempts.iter().filter(|a| !a.is_empty()) {
            if self.context.execute(attempt).is_ok() {
                trace("kept the failed cell's declarations");
                return;
            }
        }
    }

    /// Waits until the forwarders have handed on every line the cell printed, so that the
    /// result and `idle` come after the cell's output. evcxr drains stdout before it returns,
    /// but not stderr; and a forwarder may be holding lines it is gathering into one message.
    fn wait_for_output(&self) -> std::sync::MutexGuard<'_, Sink> {
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        loop {
            let guard = self.sink.lock().unwrap();
            if self.streams.iter().all(|s| s.is_empty()) || std::time::Instant::now() > deadline {
                return guard;
            }
            drop(guard);
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// `(name, type)` of every variable the session holds, sorted by name.
    pub fn variables(&self) -> Vec<(String, String)> {
        let mut vars: Vec<_> = self
            .context
            .variables_and_types()
            .map(|(n, t)| (n.to_owned(), t.to_owned()))
            .collect();
        vars.sort();
        vars
    }

    fn variable_names(&self) -> Vec<String> {
        self.variables().into_iter().map(|(name, _)| name).collect()
    }

    pub fn item_names(&self) -> Vec<String> {
        self.context
            .defined_item_names()
            .map(str::to_owned)
            .collect()
    }

    /// rust-analyzer's completions at a byte offset: (start, end, matches with their kinds).
    pub fn completions(
        &mut self,
        code: &str,
        offset: usize,
    ) -> Result<(usize, usize, Vec<(String, String)>)> {
        let found = self
            .context
            .completions(code, offset)
            .context("completion")?;
        let matches = found
            .completions
            .into_iter()
            .map(|c| (c.code, c.kind.to_owned()))
            .collect();
        Ok((found.start_offset, found.end_offset, matches))
    }

    /// rust-analyzer's hover text (plain, html) for the code up to a byte offset.
    pub fn hover(&mut self, code: &str, offset: usize) -> Option<(String, String)> {
        self.context
            .hover_at(code, offset)
            .ok()
            .filter(|(plain, _)| !plain.trim().is_empty())
    }
}

/// With FERROLAB_TRACE set, the kernel logs where a session's time goes (for benchmarks).
fn trace(message: &str) {
    if std::env::var_os("FERROLAB_TRACE").is_some() {
        eprintln!("ferrolab: {message}");
    }
}

/// Where the evaluation process finds `libstd-*.so` and `libferrolab.so`: cells link both
/// dynamically, and the relative RUNPATH rustc writes is computed for `deps/`, not for the
/// copy evcxr loads one folder up.
fn library_path(session_dir: &std::path::Path) -> Result<std::ffi::OsString> {
    let output = std::process::Command::new("rustc")
        .args(["--print", "target-libdir"])
        .output()?;
    let sysroot_lib = String::from_utf8(output.stdout)?.trim().to_owned();
    let deps = session_dir
        .join("target")
        .join(crate::prebuilt::host_target())
        .join("debug/deps");
    let mut paths = vec![std::path::PathBuf::from(sysroot_lib), deps];
    paths.extend(
        std::env::var_os("LD_LIBRARY_PATH")
            .iter()
            .flat_map(std::env::split_paths),
    );
    Ok(std::env::join_paths(paths)?)
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Hands the evaluation process's stdout or stderr on as it comes, sorting out the prelude's
/// marker lines and joining the plain lines that are already waiting into one stream message.
/// Lines are only taken from the channel under the sink's lock, so once evcxr reports the
/// channel empty, taking the lock in `execute` waits for the last line.
fn spawn_forwarder(
    lines: crossbeam_channel::Receiver<String>,
    sink: Arc<Mutex<Sink>>,
    emit: Arc<dyn Fn(Output) + Send + Sync>,
    is_stderr: bool,
) {
    let stream = move |text: String| {
        if is_stderr {
            Output::Stderr(text)
        } else {
            Output::Stdout(text)
        }
    };
    std::thread::spawn(move || loop {
        let mut ready = crossbeam_channel::Select::new();
        ready.recv(&lines);
        if ready.ready_timeout(Duration::from_millis(500)).is_err() {
            continue;
        }
        // Let a burst of lines gather, so a chatty loop becomes a few messages a second, not
        // one per line (outside the lock: evcxr itself waits for the channel to drain).
        std::thread::sleep(STREAM_COALESCE);
        let mut guard = sink.lock().unwrap();
        let mut text = String::new();
        let mut burst = String::new();
        let disconnected = loop {
            match lines.try_recv() {
                Ok(line) => {
                    if let Some(json) = line.strip_prefix(PANIC_MARKER) {
                        guard.panic = serde_json::from_str(json).ok();
                    } else if line == crate::relay::USER_ERROR_MARKER {
                        guard.user_error = true;
                    } else if let Some(json) = line.strip_prefix(DISPLAY_MARKER) {
                        // Keep the order: text printed before a display goes out before it.
                        if !text.is_empty() {
                            emit(stream(std::mem::take(&mut text)));
                        }
                        if let Ok(message) = serde_json::from_str(json) {
                            emit(Output::Display(message));
                        }
                    } else if let Some(kept) = guard.budget.take(&line) {
                        if is_stderr {
                            burst += kept;
                            burst.push('\n');
                        }
                        text += kept;
                        text.push('\n');
                    }
                    if text.len() >= STREAM_BATCH_BYTES {
                        emit(stream(std::mem::take(&mut text)));
                    }
                }
                Err(crossbeam_channel::TryRecvError::Empty) => break false,
                Err(crossbeam_channel::TryRecvError::Disconnected) => break true,
            }
        };
        if !text.is_empty() {
            emit(stream(text));
        }
        if !burst.trim().is_empty() {
            guard.last_stderr_burst = burst;
        }
        if let Some(note) = guard.budget.note_once() {
            emit(stream(note));
        }
        if disconnected {
            return;
        }
    });
}
