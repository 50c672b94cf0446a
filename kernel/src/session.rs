//! The Rust interpreter: an evcxr session whose cells link the prebuilt prelude, run on a
//! thread of its own, and the translation of what a cell did into an [`Outcome`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use evcxr::{CommandContext, EvalContext};
use ferrolab_protocol::RUN_END_MIME;
use jupyter_protocol::{CompleteReply, InspectReply, IsCompleteReply, LanguageInfo};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::capture::Capture;
use crate::complete::{self, Analysis};
use crate::interpreter::{CellError, CellOutput, Interpreter, Outcome};
use crate::interrupt::Interrupter;
use crate::os::trace;
use crate::prebuilt::{Prebuilt, CELL_OPT_LEVEL};
use crate::report;
use crate::syntax::{self, Completeness};

/// Run in every fresh evaluation process: the prelude in scope, its hooks installed. The `?`
/// turns on evcxr's `?` support now: evcxr enables it only after a cell fails to compile
/// without it, and the first `df!(..)?` would otherwise lose its rich display to the retry.
const SESSION_INIT: &str =
    "use ferrolab::prelude::*;\nferrolab::runtime::install();\nOk::<(), std::fmt::Error>(())?;";

/// Background work (preparing a spare session) waits for a pause this long, so that it never
/// competes with a run of cells (nbconvert, "Run All") for the machine's cores.
const IDLE_BEFORE_BACKGROUND_WORK: Duration = Duration::from_secs(5);

/// The [`Interpreter`] of Rust cells. The evcxr context is not `Send`, so a [`Session`] lives
/// on a thread of its own and serves jobs in order.
pub struct RustInterpreter {
    jobs: Sender<Job>,
    interrupter: Arc<Interrupter>,
}

enum Job {
    Execute(String, oneshot::Sender<Outcome>),
    Complete(String, usize, oneshot::Sender<CompleteReply>),
    Inspect(String, usize, oneshot::Sender<InspectReply>),
    /// A spare session was taken over: take on its launcher's directory and environment.
    Adopt(Surroundings),
    /// Run once the session has had nothing to do for IDLE_BEFORE_BACKGROUND_WORK.
    WhenIdle(Box<dyn FnOnce() + Send>),
}

impl RustInterpreter {
    /// Starts the session thread, which loads the prelude in the background, and returns at
    /// once, so that `kernel_info` is answered before any compilation happens. Cells' output
    /// goes to `emit`. The session thread calls `when_ready` once the session has started,
    /// before it serves any request.
    pub fn start(
        prebuilt: Prebuilt,
        session_dir: PathBuf,
        emit: impl Fn(CellOutput) + Send + Sync + 'static,
        when_ready: impl FnOnce(&mut Session) + Send + 'static,
    ) -> Self {
        let interrupter = Arc::new(Interrupter::new(&session_dir));
        let (jobs, job_rx) = std::sync::mpsc::channel();
        let thread_interrupter = interrupter.clone();
        std::thread::spawn(move || {
            let emit = Arc::new(emit);
            let progress = emit.clone();
            let started = Session::start(
                &prebuilt,
                session_dir,
                thread_interrupter,
                move |output| emit(output),
                |line| progress(CellOutput::Stderr(line.to_owned())),
            );
            let session = match started {
                Ok(mut session) => {
                    when_ready(&mut session);
                    Some(session)
                }
                Err(error) => {
                    eprintln!("ferrolab: the session could not start: {error:#}");
                    progress(CellOutput::Stderr(format!(
                        "The Rust session could not start: {error:#}\n"
                    )));
                    None
                }
            };
            serve_jobs(session, job_rx);
        });
        RustInterpreter { jobs, interrupter }
    }

    /// Makes a spare session this kernel's (see spare.rs): the session moves into
    /// `surroundings` before any cell runs.
    pub fn adopt(&self, surroundings: Surroundings) {
        let _ = self.jobs.send(Job::Adopt(surroundings));
    }

    /// Runs `work` on the session thread at its first pause, once the session is ready.
    pub fn when_idle(&self, work: impl FnOnce() + Send + 'static) {
        let _ = self.jobs.send(Job::WhenIdle(Box::new(work)));
    }

    async fn ask<T>(&self, job: impl FnOnce(oneshot::Sender<T>) -> Job) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(job(reply)).ok()?;
        answer.await.ok()
    }
}

impl Interpreter for RustInterpreter {
    async fn execute(&self, code: &str) -> Outcome {
        let code = code.to_owned();
        let outcome = self.ask(|reply| Job::Execute(code, reply)).await;
        outcome.unwrap_or_else(|| {
            Outcome::Error(CellError::new("KernelError", "the session thread stopped"))
        })
    }

    async fn complete(&self, code: &str, cursor: usize) -> CompleteReply {
        let code = code.to_owned();
        let reply = self.ask(|reply| Job::Complete(code, cursor, reply)).await;
        reply.unwrap_or_default()
    }

    async fn inspect(&self, code: &str, cursor: usize) -> InspectReply {
        let code = code.to_owned();
        let reply = self.ask(|reply| Job::Inspect(code, cursor, reply)).await;
        reply.unwrap_or_default()
    }

    fn is_complete(&self, code: &str) -> IsCompleteReply {
        match syntax::completeness(code) {
            Completeness::Complete => IsCompleteReply::complete(),
            Completeness::Incomplete(indent) => IsCompleteReply::incomplete(indent),
            Completeness::Invalid => IsCompleteReply::invalid(),
        }
    }

    fn interrupt(&self) {
        self.interrupter.interrupt();
    }

    fn shutdown(&self) {
        crate::os::exit_soon();
    }

    fn language_info(&self) -> LanguageInfo {
        LanguageInfo {
            name: "rust".to_owned(),
            version: crate::prebuilt::rustc_release().to_owned(),
            mimetype: Some("text/rust".to_owned()),
            file_extension: Some(".rs".to_owned()),
            pygments_lexer: Some("rust".to_owned()),
            codemirror_mode: Some(jupyter_protocol::CodeMirrorMode::Simple("rust".to_owned())),
            nbconvert_exporter: None,
        }
    }
}

/// The session thread's loop: jobs in order, background work at the first pause.
fn serve_jobs(mut session: Option<Session>, jobs: Receiver<Job>) {
    let mut when_idle: Option<Box<dyn FnOnce() + Send>> = None;
    loop {
        let job = match &when_idle {
            Some(_) => match jobs.recv_timeout(IDLE_BEFORE_BACKGROUND_WORK) {
                Ok(job) => job,
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(work) = when_idle.take() {
                        work();
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            },
            None => match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        match (job, session.as_mut()) {
            (Job::WhenIdle(work), _) => when_idle = Some(work),
            (Job::Execute(code, reply), Some(session)) => {
                let _ = reply.send(session.execute(&code));
            }
            (Job::Execute(_, reply), None) => {
                let _ = reply.send(Outcome::Error(CellError::new(
                    "SessionError",
                    "the Rust session could not start; see the kernel log",
                )));
            }
            (Job::Complete(code, cursor, reply), session) => {
                let found = session.map(|s| complete::complete(s, &code, cursor));
                let _ = reply.send(found.unwrap_or_default());
            }
            (Job::Inspect(code, cursor, reply), session) => {
                let found = session.map(|s| complete::inspect(s, &code, cursor));
                let _ = reply.send(found.unwrap_or_default());
            }
            (Job::Adopt(surroundings), Some(session)) => session.adopt(&surroundings),
            (Job::Adopt(_), None) => {}
        }
    }
}

/// Where a kernel was started: what a spare session's evaluation process takes over from the
/// kernel that adopts it (spare.rs).
#[derive(Serialize, Deserialize)]
pub struct Surroundings {
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Surroundings {
    pub fn here() -> Result<Self> {
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

/// One notebook session: an evcxr context and the evaluation process that runs its cells.
pub struct Session {
    context: CommandContext,
    capture: Capture,
    interrupter: Arc<Interrupter>,
    dir: PathBuf,
}

impl Session {
    /// Starts the evaluation process with the prelude loaded. `emit` receives every output
    /// line as it comes, from forwarding threads; `progress` reports a prelude rebuild.
    pub fn start(
        prebuilt: &Prebuilt,
        dir: PathBuf,
        interrupter: Arc<Interrupter>,
        emit: impl Fn(CellOutput) + Send + Sync + 'static,
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

        let capture = Capture::start(outputs.stdout, outputs.stderr, emit);

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
            capture,
            interrupter,
            dir,
        };
        session.init_process()?;
        trace("prelude loaded");
        session.warm_up_analysis();
        trace("rust-analyzer warmed up");
        // rust-analyzer's start-up frees about 450 MB that glibc would otherwise keep in its
        // per-thread arenas for good (resident 1.2 GB → 0.75 GB, docs/performance.md).
        // SAFETY: malloc_trim only returns free memory to the system.
        unsafe { libc::malloc_trim(0) };
        Ok(session)
    }

    fn init_process(&mut self) -> Result<()> {
        self.context
            .execute(SESSION_INIT)
            .map_err(|e| anyhow::anyhow!("loading the prelude: {e}"))?;
        let pid = self.context.process_handle().lock().unwrap().id();
        self.interrupter.set_process(pid);
        Ok(())
    }

    /// rust-analyzer infers the type of every variable a cell defines. Its first inference
    /// resolves trait impls across the prelude's whole dependency graph (seconds, with
    /// polars); asking for a completion that needs it does that work before the first cell.
    fn warm_up_analysis(&mut self) {
        const WARM_UP: &str = "let ferrolab_warm_up = 1 + 1;\nferrolab_warm_up.";
        let _ = self.context.completions(WARM_UP, WARM_UP.len());
    }

    /// What a spare session does while it waits (see spare.rs): the work a notebook's first
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
    /// took this session over (see spare.rs).
    pub fn adopt(&mut self, surroundings: &Surroundings) {
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
        self.capture.begin_cell();
        self.interrupter.begin_cell();
        let mut result = self.context.execute(code);
        self.interrupter.end_cell();
        if let Ok(outputs) = &result {
            let phases: Vec<String> = outputs
                .phases
                .iter()
                .map(|p| format!("{} {:?}", p.name, p.duration))
                .collect();
            trace(&format!("cell phases: {}", phases.join(", ")));
        }
        let run = result.as_mut().ok().and_then(|outputs| {
            let run = outputs.content_by_mime_type.remove(RUN_END_MIME)?;
            run.trim().parse().ok()
        });
        let ended = self.capture.end_cell(run);
        match result {
            Ok(outputs) => match (ended.panic, ended.returned_error) {
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
                let interrupted = self.interrupter.killed_the_process();
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

    fn variable_names(&self) -> Vec<String> {
        self.variables().into_iter().map(|(name, _)| name).collect()
    }
}

impl Analysis for Session {
    fn variables(&self) -> Vec<(String, String)> {
        let mut vars: Vec<_> = self
            .context
            .variables_and_types()
            .map(|(n, t)| (n.to_owned(), t.to_owned()))
            .collect();
        vars.sort();
        vars
    }

    fn item_names(&self) -> Vec<String> {
        self.context
            .defined_item_names()
            .map(str::to_owned)
            .collect()
    }

    fn completions(&mut self, code: &str, offset: usize) -> Result<complete::Found> {
        let found = self
            .context
            .completions(code, offset)
            .context("completion")?;
        let matches = found
            .completions
            .into_iter()
            .map(|c| complete::Match {
                text: c.code,
                kind: c.kind.to_owned(),
                signature: c.detail,
            })
            .collect();
        Ok(complete::Found {
            start: found.start_offset,
            end: found.end_offset,
            matches,
        })
    }

    fn hover(&mut self, code: &str, offset: usize) -> Option<(String, String)> {
        self.context
            .hover_at(code, offset)
            .ok()
            .filter(|(plain, _)| !plain.trim().is_empty())
    }
}

/// Where the evaluation process finds `libstd-*.so` and `libferrolab.so`: cells link both
/// dynamically, and the relative RUNPATH rustc writes is computed for `deps/`, not for the
/// copy evcxr loads one folder up.
fn library_path(session_dir: &Path) -> Result<std::ffi::OsString> {
    let output = std::process::Command::new("rustc")
        .args(["--print", "target-libdir"])
        .output()?;
    let sysroot_lib = String::from_utf8(output.stdout)?.trim().to_owned();
    let deps = session_dir
        .join("target")
        .join(crate::prebuilt::host_target())
        .join("debug/deps");
    let mut paths = vec![PathBuf::from(sysroot_lib), deps];
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
            .push(("FERROLAB_SPARE".into(), "elsewhere".into()));
        launcher
            .env
            .push(("LD_LIBRARY_PATH".into(), "/elsewhere".into()));
        let (set, unset) = launcher.env_changes();
        assert_eq!(set, [("NOTEBOOK_ONLY".to_owned(), "1".to_owned())]);
        assert_eq!(unset, ["PATH"]);
    }
}
