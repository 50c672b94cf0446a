//! The dispatcher: one match over every request, with busy/idle, parent linkage and the
//! execution queue handled here and nowhere else. Evaluation happens on the session thread.

use std::path::PathBuf;
use std::sync::Arc;

use jupyter_protocol::{
    CodeMirrorMode, CommInfoReply, CompleteReply, ErrorOutput, ExecuteInput, ExecuteReply,
    ExecuteRequest, ExecuteResult, ExecutionCount, HelpLink, HistoryReply, InspectReply,
    InterruptReply, IsCompleteReply, JupyterMessage, JupyterMessageContent as Content,
    KernelInfoReply, LanguageInfo, Payload, ReplyError, ReplyStatus, ShutdownReply, Status,
    StreamContent,
};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::history::History;
use crate::prebuilt::Prebuilt;
use crate::publish::{media, Publisher};
use crate::report::CellError;
use crate::session::{Interrupter, Outcome, Session};
use crate::syntax::{self, Completeness};
use crate::wire::{Channel, Outgoing};

/// Work for the session thread, which owns the evcxr context.
enum Job {
    Execute(String, oneshot::Sender<Outcome>),
    Complete(String, usize, oneshot::Sender<CompleteReply>),
    Inspect(String, usize, oneshot::Sender<InspectReply>),
    /// A spare session was taken over: take on its launcher's directory and environment.
    Adopt(crate::standby::Surroundings),
    /// Run once the session has had nothing to do for IDLE_BEFORE_BACKGROUND_WORK.
    WhenIdle(Box<dyn FnOnce() + Send>),
}

/// Background work (preparing a spare session) waits for a pause this long, so that it never
/// competes with a run of cells (nbconvert, "Run All") for the machine's cores.
const IDLE_BEFORE_BACKGROUND_WORK: std::time::Duration = std::time::Duration::from_secs(5);

pub struct Kernel {
    out: mpsc::UnboundedSender<Outgoing>,
    shell_tx: mpsc::UnboundedSender<JupyterMessage>,
    shell_rx: mpsc::UnboundedReceiver<JupyterMessage>,
    /// Requests that were queued when a cell failed with stop_on_error: to be aborted.
    aborting: Vec<JupyterMessage>,
    publisher: Arc<Publisher>,
    jobs: std::sync::mpsc::Sender<Job>,
    interrupter: Arc<Interrupter>,
    execution_count: usize,
    history: History,
    rustc_version: String,
}

impl Kernel {
    /// Starts the session thread (which loads the prelude in the background) and returns at once,
    /// so that `kernel_info` is answered before any compilation happens. The session thread
    /// calls `when_ready` once the session has started, before it serves any request.
    pub fn start(
        prebuilt: Prebuilt,
        session_dir: PathBuf,
        out: mpsc::UnboundedSender<Outgoing>,
        when_ready: impl FnOnce(&mut Session) + Send + 'static,
    ) -> Self {
        let publisher = Arc::new(Publisher::new(out.clone()));
        let interrupter = Arc::new(Interrupter::new(&session_dir));
        let (jobs, job_rx) = std::sync::mpsc::channel();
        let history = History::open(prebuilt.home.join("history.jsonl"));
        let (thread_publisher, thread_interrupter) = (publisher.clone(), interrupter.clone());
        std::thread::spawn(move || {
            run_session(
                prebuilt,
                session_dir,
                job_rx,
                thread_publisher,
                thread_interrupter,
                when_ready,
            )
        });
        let (shell_tx, shell_rx) = mpsc::unbounded_channel();
        Kernel {
            out,
            shell_tx,
            shell_rx,
            aborting: Vec::new(),
            publisher,
            jobs,
            interrupter,
            execution_count: 0,
            history,
            rustc_version: crate::prebuilt::rustc_release().to_owned(),
        }
    }

    /// Makes a spare session this kernel's (see standby.rs): the session moves into
    /// `surroundings` before any cell runs, and the history is read again, as kernels that
    /// ran while the spare waited added to it.
    pub fn adopt(&mut self, surroundings: crate::standby::Surroundings) {
        let _ = self.jobs.send(Job::Adopt(surroundings));
        self.history.reload();
    }

    /// Runs `work` on the session thread at its first pause, once the session is ready.
    pub fn when_idle(&self, work: impl FnOnce() + Send + 'static) {
        let _ = self.jobs.send(Job::WhenIdle(Box::new(work)));
    }

    /// Serves requests until a shutdown request ends the process. Control requests are answered even while a
    /// cell runs; shell requests are handled one at a time, in order.
    pub async fn serve(mut self, mut incoming: mpsc::UnboundedReceiver<(Channel, JupyterMessage)>) {
        let shell_tx = self.shell_tx.clone();
        let control = ControlHandler {
            out: self.out.clone(),
            interrupter: self.interrupter.clone(),
            info: self.kernel_info(),
        };
        tokio::spawn(async move {
            while let Some((channel, message)) = incoming.recv().await {
                match channel {
                    Channel::Control => control.handle(message),
                    Channel::Shell => {
                        let _ = shell_tx.send(message);
                    }
                }
            }
        });
        // SIGINT (a terminal's Ctrl-C, or a client in signal mode) works like interrupt_request.
        if let Ok(mut sigint) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        {
            let interrupter = self.interrupter.clone();
            tokio::spawn(async move {
                while sigint.recv().await.is_some() {
                    interrupter.interrupt();
                }
            });
        }
        while let Some(message) = self.shell_rx.recv().await {
            self.handle_shell(message).await;
            for queued in std::mem::take(&mut self.aborting) {
                self.handle_aborted(queued).await;
            }
        }
    }

    fn kernel_info(&self) -> KernelInfoReply {
        KernelInfoReply {
            status: ReplyStatus::Ok,
            protocol_version: "5.3".to_owned(),
            implementation: "ferrolab".to_owned(),
            implementation_version: env!("CARGO_PKG_VERSION").to_owned(),
            language_info: LanguageInfo {
                name: "rust".to_owned(),
                version: self.rustc_version.clone(),
                mimetype: Some("text/rust".to_owned()),
                file_extension: Some(".rs".to_owned()),
                pygments_lexer: Some("rust".to_owned()),
                codemirror_mode: Some(CodeMirrorMode::Simple("rust".to_owned())),
                nbconvert_exporter: None,
            },
            banner: format!(
                "Ferrolab {} - Rust {} for machine learning in notebooks.\n\
                 The prelude (ndarray, polars, ...) is loaded: `use ferrolab::prelude::*;`",
                env!("CARGO_PKG_VERSION"),
                self.rustc_version
            ),
            help_links: vec![
                HelpLink {
                    text: "Rust documentation".to_owned(),
                    url: "https://doc.rust-lang.org/std/".to_owned(),
                },
                HelpLink {
                    text: "ndarray".to_owned(),
                    url: "https://docs.rs/ndarray".to_owned(),
                },
                HelpLink {
                    text: "polars".to_owned(),
                    url: "https://docs.rs/polars".to_owned(),
                },
                HelpLink {
                    text: "evcxr commands".to_owned(),
                    url: "https://github.com/evcxr/evcxr/blob/main/COMMON.md".to_owned(),
                },
            ],
            debugger: false,
            error: None,
        }
    }

    fn reply(&self, content: impl Into<Content>, parent: &JupyterMessage) {
        let _ = self.out.send(Outgoing::Shell(JupyterMessage::new(
            content.into(),
            Some(parent),
        )));
    }

    async fn handle_shell(&mut self, request: JupyterMessage) {
        self.publisher.send(Status::busy(), &request);
        match &request.content {
            Content::ExecuteRequest(execute) => self.execute(&request, execute).await,
            Content::KernelInfoRequest(_) => {
                self.reply(self.kernel_info(), &request);
            }
            Content::CompleteRequest(complete) => {
                let (tx, rx) = oneshot::channel();
                let _ = self.jobs.send(Job::Complete(
                    complete.code.clone(),
                    complete.cursor_pos,
                    tx,
                ));
                let reply = rx.await.unwrap_or_default();
                self.reply(reply, &request);
            }
            Content::InspectRequest(inspect) => {
                let (tx, rx) = oneshot::channel();
                let _ = self
                    .jobs
                    .send(Job::Inspect(inspect.code.clone(), inspect.cursor_pos, tx));
                let reply = rx.await.unwrap_or_default();
                self.reply(reply, &request);
            }
            Content::IsCompleteRequest(is_complete) => {
                let reply = match syntax::completeness(&is_complete.code) {
                    Completeness::Complete => IsCompleteReply::complete(),
                    Completeness::Incomplete(indent) => IsCompleteReply::incomplete(indent),
                    Completeness::Invalid => IsCompleteReply::invalid(),
                };
                self.reply(reply, &request);
            }
            Content::HistoryRequest(history) => {
                self.reply(HistoryReply::new(self.history.query(history)), &request);
            }
            Content::CommInfoRequest(_) => {
                self.reply(CommInfoReply::default(), &request);
            }
            Content::CommOpen(open) => {
                // No comm targets yet (no widgets): close it, as ipykernel does for unknown targets.
                let close = jupyter_protocol::CommClose {
                    comm_id: open.comm_id.clone(),
                    data: Default::default(),
                };
                self.publisher.send(close, &request);
            }
            Content::CommMsg(_) | Content::CommClose(_) => {}
            Content::ShutdownRequest(shutdown) => {
                self.reply(
                    ShutdownReply {
                        restart: shutdown.restart,
                        ..Default::default()
                    },
                    &request,
                );
                self.publisher.send(Status::idle(), &request);
                exit_soon();
            }
            other => {
                self.reply(unsupported(other), &request);
            }
        }
        self.publisher.send(Status::idle(), &request);
    }

    /// An execute request that arrived before an earlier cell failed with stop_on_error.
    async fn handle_aborted(&mut self, request: JupyterMessage) {
        if !matches!(request.content, Content::ExecuteRequest(_)) {
            return Box::pin(self.handle_shell(request)).await;
        }
        self.publisher.send(Status::busy(), &request);
        let reply = ExecuteReply {
            status: ReplyStatus::Aborted,
            execution_count: ExecutionCount::new(self.execution_count),
            user_expressions: Some(Default::default()),
            ..Default::default()
        };
        self.reply(reply, &request);
        self.publisher.send(Status::idle(), &request);
    }

    /// `name?` shows the documentation of `name` in the pager, as in IPython.
    async fn help(&mut self, request: &JupyterMessage, name: &str, count: ExecutionCount) {
        let (tx, rx) = oneshot::channel();
        let _ = self
            .jobs
            .send(Job::Inspect(name.to_owned(), name.chars().count(), tx));
        let found = rx.await.unwrap_or_default();
        if !found.found {
            let error = CellError::new("NotFound", format!("no documentation found for `{name}`"));
            return self.finish_error(request, error, count, false);
        }
        let reply = ExecuteReply {
            execution_count: count,
            payload: vec![Payload::Page {
                data: found.data,
                start: 0,
            }],
            user_expressions: Some(Default::default()),
            ..Default::default()
        };
        self.reply(reply, request);
    }

    fn finish_error(
        &mut self,
        request: &JupyterMessage,
        error: CellError,
        count: ExecutionCount,
        stop_on_error: bool,
    ) {
        if stop_on_error {
            // ipykernel's stop_on_error: what is queued now is aborted. Taken before the
            // reply goes out, so a request sent in answer to the reply is never caught.
            while let Ok(queued) = self.shell_rx.try_recv() {
                self.aborting.push(queued);
            }
        }
        let CellError {
            ename,
            evalue,
            traceback,
        } = error;
        self.publisher.send(
            ErrorOutput {
                ename: ename.clone(),
                evalue: evalue.clone(),
                traceback: traceback.clone(),
            },
            request,
        );
        let reply = ExecuteReply {
            status: ReplyStatus::Error,
            execution_count: count,
            user_expressions: Some(Default::default()),
            error: Some(Box::new(ReplyError {
                ename,
                evalue,
                traceback,
            })),
            ..Default::default()
        };
        self.reply(reply, request);
    }

    async fn execute(&mut self, request: &JupyterMessage, execute: &ExecuteRequest) {
        let store = execute.store_history && !execute.silent;
        if store {
            self.execution_count += 1;
        }
        let count = ExecutionCount::new(self.execution_count);
        if !execute.silent {
            self.publisher.send(
                ExecuteInput {
                    code: execute.code.clone(),
                    execution_count: count,
                },
                request,
            );
        }
        self.publisher.set_parent(request);
        if let Some(name) = syntax::help_request(&execute.code) {
            return self.help(request, name, count).await;
        }
        let (tx, rx) = oneshot::channel();
        let _ = self.jobs.send(Job::Execute(execute.code.clone(), tx));
        let outcome = rx.await.unwrap_or_else(|_| {
            Outcome::Error(CellError::new("KernelError", "the session thread stopped"))
        });
        if store {
            let output = match &outcome {
                Outcome::Value(bundle) => bundle.get("text/plain").cloned(),
                Outcome::Error(_) => None,
            };
            self.history
                .record(self.execution_count, &execute.code, output);
        }
        match outcome {
            Outcome::Value(bundle) => {
                if !bundle.is_empty() && !execute.silent {
                    self.publisher
                        .send(ExecuteResult::new(count, media(bundle)), request);
                }
                let reply = ExecuteReply {
                    execution_count: count,
                    user_expressions: Some(Default::default()),
                    ..Default::default()
                };
                self.reply(reply, request);
            }
            Outcome::Error(error) => {
                self.finish_error(request, error, count, execute.stop_on_error)
            }
        }
    }
}

/// Answers control requests at once, on the reader task, even while a cell runs.
struct ControlHandler {
    out: mpsc::UnboundedSender<Outgoing>,
    interrupter: Arc<Interrupter>,
    info: KernelInfoReply,
}

impl ControlHandler {
    fn handle(&self, request: JupyterMessage) {
        let publish = |content: Content| {
            let _ = self.out.send(Outgoing::IoPub(JupyterMessage::new(
                content,
                Some(&request),
            )));
        };
        let reply = |content: Content| {
            let _ = self.out.send(Outgoing::Control(JupyterMessage::new(
                content,
                Some(&request),
            )));
        };
        publish(Status::busy().into());
        match &request.content {
            Content::KernelInfoRequest(_) => reply(self.info.clone().into()),
            Content::InterruptRequest(_) => {
                self.interrupter.interrupt();
                reply(InterruptReply::new().into());
            }
            Content::ShutdownRequest(shutdown) => {
                reply(
                    ShutdownReply {
                        restart: shutdown.restart,
                        ..Default::default()
                    }
                    .into(),
                );
                exit_soon();
            }
            other => reply(unsupported(other)),
        }
        publish(Status::idle().into());
    }
}

/// The error reply for a request we cannot serve: an unknown type, or content that did not
/// parse (the transport passes those on as `UnknownMessage` with the parse error).
fn unsupported(request: &Content) -> Content {
    let evalue = match request {
        Content::UnknownMessage(unknown) => match unknown.content.get("ferrolab_parse_error") {
            Some(error) => format!(
                "malformed {}: {}",
                unknown.msg_type,
                error.as_str().unwrap_or_default()
            ),
            None => format!("ferrolab does not handle {}", unknown.msg_type),
        },
        other => format!(
            "ferrolab does not handle {} on this channel",
            other.message_type()
        ),
    };
    Content::UnknownMessage(jupyter_protocol::UnknownMessage {
        msg_type: request.message_type().replace("_request", "_reply"),
        content: json!({"status": "error", "ename": "BadRequest", "evalue": evalue, "traceback": []}),
    })
}

/// Exits after the replies in flight have left (the transport sends asynchronously).
fn exit_soon() {
    std::thread::spawn(|| {
        std::thread::sleep(std::time::Duration::from_millis(200));
        std::process::exit(0);
    });
}

/// The session thread: starts evcxr with the prelude, then serves jobs in order.
fn run_session(
    prebuilt: Prebuilt,
    session_dir: PathBuf,
    jobs: std::sync::mpsc::Receiver<Job>,
    publisher: Arc<Publisher>,
    interrupter: Arc<Interrupter>,
    when_ready: impl FnOnce(&mut Session),
) {
    let output_publisher = publisher.clone();
    let started = Session::start(
        &prebuilt,
        session_dir,
        interrupter,
        move |output| output_publisher.output(output),
        |line| publisher.send_current(StreamContent::stderr(line).into()),
    );
    let mut session = match started {
        Ok(mut session) => {
            when_ready(&mut session);
            Some(session)
        }
        Err(error) => {
            eprintln!("ferrolab: the session could not start: {error:#}");
            publisher.send_current(
                StreamContent::stderr(&format!("The Rust session could not start: {error:#}\n"))
                    .into(),
            );
            None
        }
    };
    let mut when_idle: Option<Box<dyn FnOnce() + Send>> = None;
    loop {
        let job = if when_idle.is_some() {
            match jobs.recv_timeout(IDLE_BEFORE_BACKGROUND_WORK) {
                Ok(job) => job,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(work) = when_idle.take() {
                        work();
                    }
                    continue;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            }
        } else {
            match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
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
                let _ = reply.send(
                    session
                        .map(|s| crate::complete::complete(s, &code, cursor))
                        .unwrap_or_default(),
                );
            }
            (Job::Adopt(surroundings), Some(session)) => session.adopt(&surroundings),
            (Job::Adopt(_), None) => {}
            (Job::Inspect(code, cursor, reply), session) => {
                let _ = reply.send(
                    session
                        .map(|s| crate::complete::inspect(s, &code, cursor))
                        .unwrap_or_default(),
                );
            }
        }
    }
}
