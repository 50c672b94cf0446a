//! The dispatcher: one match over every request, after ipykernel's handler tables. It owns
//! the protocol's bookkeeping (busy/idle around each request, parents, the execution count,
//! history, stop_on_error's aborts) and asks an [`Interpreter`] for everything else.

use std::sync::Arc;

use jupyter_protocol::{
    CommClose, CommInfoReply, ErrorOutput, ExecuteInput, ExecuteReply, ExecuteRequest,
    ExecuteResult, ExecutionCount, HelpLink, HistoryReply, InterruptReply, JupyterMessage,
    JupyterMessageContent as Content, KernelInfoReply, Payload, ReplyError, ReplyStatus,
    ShutdownReply,
};
use serde_json::json;
use tokio::sync::mpsc;

use crate::history::History;
use crate::interpreter::{CellError, Interpreter, Outcome};
use crate::publish::{media, Publisher};
use crate::syntax;
use crate::wire::{Channel, Outbound};

pub struct Dispatcher<I> {
    interpreter: Arc<I>,
    publisher: Arc<Publisher>,
    out: mpsc::UnboundedSender<Outbound>,
    history: History,
    execution_count: usize,
}

type Queue = mpsc::UnboundedReceiver<JupyterMessage>;

impl<I: Interpreter> Dispatcher<I> {
    /// `publisher` must send through `out`, as the interpreter's output does.
    pub fn new(
        interpreter: Arc<I>,
        publisher: Arc<Publisher>,
        out: mpsc::UnboundedSender<Outbound>,
        history: History,
    ) -> Self {
        Dispatcher {
            interpreter,
            publisher,
            out,
            history,
            execution_count: 0,
        }
    }

    /// Serves requests until `incoming` ends. Control requests are answered at once, even
    /// while a cell runs; shell requests one at a time, in order.
    pub async fn serve(mut self, mut incoming: mpsc::UnboundedReceiver<(Channel, JupyterMessage)>) {
        let (shell, mut queue) = mpsc::unbounded_channel();
        let control = Control {
            interpreter: self.interpreter.clone(),
            publisher: self.publisher.clone(),
            out: self.out.clone(),
            info: kernel_info(&*self.interpreter),
        };
        tokio::spawn(async move {
            while let Some((channel, message)) = incoming.recv().await {
                match channel {
                    Channel::Control => control.handle(message),
                    Channel::Shell => {
                        let _ = shell.send(message);
                    }
                }
            }
        });
        while let Some(request) = queue.recv().await {
            for aborted in self.handle_shell(request, &mut queue).await {
                self.abort(aborted).await;
            }
        }
    }

    fn reply(&self, content: impl Into<Content>, request: &JupyterMessage) {
        let message = JupyterMessage::new(content.into(), Some(request));
        let _ = self.out.send(Outbound::Shell(message));
    }

    /// Handles one shell request; returns the queued requests it aborted.
    async fn handle_shell(
        &mut self,
        request: JupyterMessage,
        queue: &mut Queue,
    ) -> Vec<JupyterMessage> {
        let publisher = self.publisher.clone();
        let _busy = publisher.busy(&request);
        let interpreter = self.interpreter.clone();
        match &request.content {
            Content::ExecuteRequest(execute) => {
                return self.execute(&request, execute, queue).await
            }
            Content::KernelInfoRequest(_) => self.reply(kernel_info(&*interpreter), &request),
            Content::CompleteRequest(complete) => {
                let found = interpreter
                    .complete(&complete.code, complete.cursor_pos)
                    .await;
                self.reply(found, &request);
            }
            Content::InspectRequest(inspect) => {
                let found = interpreter.inspect(&inspect.code, inspect.cursor_pos).await;
                self.reply(found, &request);
            }
            Content::IsCompleteRequest(is_complete) => {
                self.reply(interpreter.is_complete(&is_complete.code), &request);
            }
            Content::HistoryRequest(history) => {
                self.reply(HistoryReply::new(self.history.query(history)), &request);
            }
            Content::CommInfoRequest(_) => self.reply(CommInfoReply::default(), &request),
            Content::CommOpen(open) => {
                // No comm targets yet (no widgets): close it, as ipykernel does for unknown targets.
                let close = CommClose {
                    comm_id: open.comm_id.clone(),
                    data: Default::default(),
                };
                self.publisher.send(close, &request);
            }
            Content::CommMsg(_) | Content::CommClose(_) => {}
            Content::ShutdownRequest(shutdown) => {
                self.reply(shutdown_reply(shutdown.restart), &request);
                interpreter.shutdown();
            }
            other => self.reply(unsupported(other), &request),
        }
        Vec::new()
    }

    /// A request queued behind a cell that failed with stop_on_error: execute requests are
    /// answered `aborted`, anything else is handled as usual.
    async fn abort(&mut self, request: JupyterMessage) {
        if !matches!(request.content, Content::ExecuteRequest(_)) {
            let mut nothing_queued = mpsc::unbounded_channel().1;
            self.handle_shell(request, &mut nothing_queued).await;
            return;
        }
        let _busy = self.publisher.busy(&request);
        let count = ExecutionCount::new(self.execution_count);
        self.reply(execute_reply(count, ReplyStatus::Aborted), &request);
    }

    async fn execute(
        &mut self,
        request: &JupyterMessage,
        execute: &ExecuteRequest,
        queue: &mut Queue,
    ) -> Vec<JupyterMessage> {
        let store = execute.store_history && !execute.silent;
        if store {
            self.execution_count += 1;
        }
        let count = ExecutionCount::new(self.execution_count);
        if !execute.silent {
            let input = ExecuteInput {
                code: execute.code.clone(),
                execution_count: count,
            };
            self.publisher.send(input, request);
        }
        self.publisher.set_cell(request);
        if let Some(name) = syntax::help_request(&execute.code) {
            self.help(request, name, count).await;
            return Vec::new();
        }
        let outcome = self.interpreter.execute(&execute.code).await;
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
                    let result = ExecuteResult::new(count, media(bundle));
                    self.publisher.send(result, request);
                }
                self.reply(execute_reply(count, ReplyStatus::Ok), request);
                Vec::new()
            }
            Outcome::Error(error) => {
                // ipykernel's stop_on_error: what is queued now is aborted. Taken before the
                // reply goes out, so a request sent in answer to the reply is never caught.
                let mut aborted = Vec::new();
                if execute.stop_on_error {
                    while let Ok(queued) = queue.try_recv() {
                        aborted.push(queued);
                    }
                }
                self.fail(request, error, count);
                aborted
            }
        }
    }

    /// `name?` shows the documentation of `name` in the pager, as in IPython.
    async fn help(&mut self, request: &JupyterMessage, name: &str, count: ExecutionCount) {
        let found = self.interpreter.inspect(name, name.chars().count()).await;
        if !found.found {
            let error = CellError::new("NotFound", format!("no documentation found for `{name}`"));
            return self.fail(request, error, count);
        }
        let mut reply = execute_reply(count, ReplyStatus::Ok);
        reply.payload = vec![Payload::Page {
            data: found.data,
            start: 0,
        }];
        self.reply(reply, request);
    }

    fn fail(&self, request: &JupyterMessage, error: CellError, count: ExecutionCount) {
        let CellError {
            ename,
            evalue,
            traceback,
        } = error;
        let output = ErrorOutput {
            ename: ename.clone(),
            evalue: evalue.clone(),
            traceback: traceback.clone(),
        };
        self.publisher.send(output, request);
        let mut reply = execute_reply(count, ReplyStatus::Error);
        reply.error = Some(Box::new(ReplyError {
            ename,
            evalue,
            traceback,
        }));
        self.reply(reply, request);
    }
}

fn execute_reply(execution_count: ExecutionCount, status: ReplyStatus) -> ExecuteReply {
    ExecuteReply {
        status,
        execution_count,
        user_expressions: Some(Default::default()),
        ..Default::default()
    }
}

fn shutdown_reply(restart: bool) -> ShutdownReply {
    ShutdownReply {
        restart,
        ..Default::default()
    }
}

/// Answers control requests at once, on the reader task, even while a cell runs.
struct Control<I> {
    interpreter: Arc<I>,
    publisher: Arc<Publisher>,
    out: mpsc::UnboundedSender<Outbound>,
    info: KernelInfoReply,
}

impl<I: Interpreter> Control<I> {
    fn handle(&self, request: JupyterMessage) {
        let _busy = self.publisher.busy(&request);
        let reply = |content: Content| {
            let message = JupyterMessage::new(content, Some(&request));
            let _ = self.out.send(Outbound::Control(message));
        };
        match &request.content {
            Content::KernelInfoRequest(_) => reply(self.info.clone().into()),
            Content::InterruptRequest(_) => {
                self.interpreter.interrupt();
                reply(InterruptReply::new().into());
            }
            Content::ShutdownRequest(shutdown) => {
                reply(shutdown_reply(shutdown.restart).into());
                self.interpreter.shutdown();
            }
            other => reply(unsupported(other)),
        }
    }
}

fn kernel_info(interpreter: &impl Interpreter) -> KernelInfoReply {
    let language_info = interpreter.language_info();
    let link = |text: &str, url: &str| HelpLink {
        text: text.to_owned(),
        url: url.to_owned(),
    };
    KernelInfoReply {
        status: ReplyStatus::Ok,
        protocol_version: "5.3".to_owned(),
        implementation: "ferrolab".to_owned(),
        implementation_version: env!("CARGO_PKG_VERSION").to_owned(),
        banner: format!(
            "Ferrolab {} - Rust {} for machine learning in notebooks.\n\
             The prelude (ndarray, polars, ...) is loaded: `use ferrolab::prelude::*;`",
            env!("CARGO_PKG_VERSION"),
            language_info.version
        ),
        language_info,
        help_links: vec![
            link("Rust documentation", "https://doc.rust-lang.org/std/"),
            link("ndarray", "https://docs.rs/ndarray"),
            link("polars", "https://docs.rs/polars"),
            link(
                "evcxr commands",
                "https://github.com/evcxr/evcxr/blob/main/COMMON.md",
            ),
        ],
        debugger: false,
        error: None,
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

#[cfg(test)]
mod tests {
    //! The dispatcher's behaviour against a mock interpreter, whose cells are one word and an
    //! argument: `print TEXT` (stdout), `value TEXT` (a result), `fail` (an error).

    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use jupyter_protocol::{
        CompleteReply, InspectReply, InterruptRequest, IsCompleteReply, KernelInfoRequest,
        LanguageInfo, Media, ShutdownRequest,
    };

    use super::*;
    use crate::interpreter::CellOutput;

    struct Mock {
        publisher: Arc<Publisher>,
        interrupts: AtomicUsize,
        shutdowns: AtomicUsize,
    }

    impl Interpreter for Mock {
        async fn execute(&self, code: &str) -> Outcome {
            let (word, argument) = code.split_once(' ').unwrap_or((code, ""));
            match word {
                "print" => {
                    self.publisher
                        .output(CellOutput::Stdout(argument.to_owned()));
                    Outcome::Value(BTreeMap::new())
                }
                "value" => Outcome::Value(BTreeMap::from([(
                    "text/plain".to_owned(),
                    argument.to_owned(),
                )])),
                // Slow enough for the requests sent after it to be queued.
                _ => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    Outcome::Error(CellError::new("Failed", code))
                }
            }
        }

        async fn complete(&self, _: &str, _: usize) -> CompleteReply {
            CompleteReply::default()
        }

        async fn inspect(&self, code: &str, _: usize) -> InspectReply {
            let data: Media =
                serde_json::from_value(json!({"text/plain": format!("docs of {code}")})).unwrap();
            InspectReply {
                found: code == "known",
                data,
                ..Default::default()
            }
        }

        fn is_complete(&self, _: &str) -> IsCompleteReply {
            IsCompleteReply::complete()
        }

        fn interrupt(&self) {
            self.interrupts.fetch_add(1, Ordering::SeqCst);
        }

        fn shutdown(&self) {
            self.shutdowns.fetch_add(1, Ordering::SeqCst);
        }

        fn language_info(&self) -> LanguageInfo {
            LanguageInfo {
                name: "mock".to_owned(),
                version: "1".to_owned(),
                mimetype: None,
                file_extension: None,
                pygments_lexer: None,
                codemirror_mode: None,
                nbconvert_exporter: None,
            }
        }
    }

    /// What went out for one request, in order: `channel msg_type detail`.
    type Trace = Vec<String>;

    /// Serves `requests` (sent at once, as a client queues cells) until all are handled;
    /// returns what went out and the mock.
    async fn run(requests: Vec<(Channel, JupyterMessage)>) -> (Vec<Outbound>, Arc<Mock>) {
        let (out, mut outbound) = mpsc::unbounded_channel();
        let publisher = Arc::new(Publisher::new(out.clone()));
        let mock = Arc::new(Mock {
            publisher: publisher.clone(),
            interrupts: AtomicUsize::new(0),
            shutdowns: AtomicUsize::new(0),
        });
        let history_file =
            std::env::temp_dir().join(format!("ferrolab-test-{}", uuid::Uuid::new_v4()));
        let history = History::open(history_file.clone());
        let dispatcher = Dispatcher::new(mock.clone(), publisher, out, history);
        let (incoming, incoming_rx) = mpsc::unbounded_channel();
        for request in requests {
            incoming.send(request).unwrap();
        }
        drop(incoming);
        dispatcher.serve(incoming_rx).await;
        // Control requests are answered on a task of their own: give it a moment to finish.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let _ = std::fs::remove_file(history_file);
        (
            std::iter::from_fn(|| outbound.try_recv().ok()).collect(),
            mock,
        )
    }

    /// As [`run`], with what went out for each request as a trace.
    async fn serve(requests: Vec<(Channel, JupyterMessage)>) -> (Vec<Trace>, Arc<Mock>) {
        let ids: Vec<String> = requests
            .iter()
            .map(|(_, r)| r.header.msg_id.clone())
            .collect();
        let (sent, mock) = run(requests).await;
        let mut traces = vec![Trace::new(); ids.len()];
        for message in sent {
            let (channel, message) = match message {
                Outbound::Shell(m) => ("shell", m),
                Outbound::Control(m) => ("control", m),
                Outbound::IoPub(m) => ("iopub", m),
            };
            let parent = message.parent_header.as_ref().map(|h| &h.msg_id);
            if let Some(index) = ids.iter().position(|id| Some(id) == parent) {
                traces[index].push(format!("{channel} {}", describe(&message.content)));
            }
        }
        (traces, mock)
    }

    fn describe(content: &Content) -> String {
        let detail = match content {
            Content::Status(status) => format!("{:?}", status.execution_state).to_lowercase(),
            Content::StreamContent(stream) => stream.text.clone(),
            Content::ExecuteReply(reply) => {
                format!("{:?} {}", reply.status, reply.execution_count.value()).to_lowercase()
            }
            Content::ExecuteResult(result) => format!("{}", result.execution_count.value()),
            Content::ShutdownReply(reply) => format!("restart={}", reply.restart),
            _ => String::new(),
        };
        format!("{} {detail}", content.message_type())
            .trim_end()
            .to_owned()
    }

    fn execute(code: &str) -> (Channel, JupyterMessage) {
        let request = ExecuteRequest::new(code.to_owned());
        (Channel::Shell, JupyterMessage::new(request, None))
    }

    fn execute_with(
        code: &str,
        change: impl FnOnce(&mut ExecuteRequest),
    ) -> (Channel, JupyterMessage) {
        let mut request = ExecuteRequest::new(code.to_owned());
        change(&mut request);
        (Channel::Shell, JupyterMessage::new(request, None))
    }

    #[tokio::test]
    async fn each_request_is_framed_by_busy_and_idle_with_its_output_before_the_reply() {
        let (traces, _) = serve(vec![execute("print hi"), execute("value 42")]).await;
        assert_eq!(
            traces,
            [
                vec![
                    "iopub status busy",
                    "iopub execute_input",
                    "iopub stream hi",
                    "shell execute_reply ok 1",
                    "iopub status idle"
                ],
                vec![
                    "iopub status busy",
                    "iopub execute_input",
                    "iopub execute_result 2",
                    "shell execute_reply ok 2",
                    "iopub status idle"
                ]
            ]
        );
    }

    #[tokio::test]
    async fn a_failed_cell_aborts_the_queued_cells_but_answers_other_requests() {
        let kernel_info = (
            Channel::Shell,
            JupyterMessage::new(KernelInfoRequest {}, None),
        );
        let (traces, _) = serve(vec![
            execute("fail"),
            execute("print never"),
            kernel_info,
            execute("print never either"),
        ])
        .await;
        assert_eq!(
            traces[0],
            [
                "iopub status busy",
                "iopub execute_input",
                "iopub error",
                "shell execute_reply error 1",
                "iopub status idle"
            ]
        );
        for aborted in [&traces[1], &traces[3]] {
            assert_eq!(
                aborted,
                &[
                    "iopub status busy",
                    "shell execute_reply aborted 1",
                    "iopub status idle"
                ]
            );
        }
        assert_eq!(
            traces[2],
            [
                "iopub status busy",
                "shell kernel_info_reply",
                "iopub status idle"
            ]
        );
    }

    #[tokio::test]
    async fn without_stop_on_error_the_next_cell_runs() {
        let (traces, _) = serve(vec![
            execute_with("fail", |r| r.stop_on_error = false),
            execute("print after"),
        ])
        .await;
        assert!(
            traces[1].contains(&"iopub stream after".to_owned()),
            "{traces:?}"
        );
    }

    #[tokio::test]
    async fn a_silent_cell_shows_nothing_and_takes_no_execution_count() {
        let (traces, _) = serve(vec![
            execute("value 1"),
            execute_with("value 2", |r| r.silent = true),
            execute("value 3"),
        ])
        .await;
        assert_eq!(
            traces[1],
            [
                "iopub status busy",
                "shell execute_reply ok 1",
                "iopub status idle"
            ]
        );
        assert!(
            traces[2].contains(&"iopub execute_result 2".to_owned()),
            "{traces:?}"
        );
    }

    #[tokio::test]
    async fn a_name_and_a_question_mark_pages_its_documentation() {
        let (sent, _) = run(vec![execute("known?"), execute("unknown?")]).await;
        let replies: Vec<ExecuteReply> = sent
            .into_iter()
            .filter_map(|message| match message {
                Outbound::Shell(JupyterMessage {
                    content: Content::ExecuteReply(reply),
                    ..
                }) => Some(reply),
                _ => None,
            })
            .collect();
        let Payload::Page { data, .. } = &replies[0].payload[0] else {
            panic!("no page: {:?}", replies[0].payload);
        };
        assert_eq!(
            serde_json::to_value(data).unwrap()["text/plain"],
            "docs of known"
        );
        assert_eq!(replies[1].status, ReplyStatus::Error);
        assert_eq!(replies[1].error.as_ref().unwrap().ename, "NotFound");
    }

    #[tokio::test]
    async fn shutdown_replies_then_ends_the_interpreter_with_one_idle() {
        let shutdown = JupyterMessage::new(ShutdownRequest { restart: true }, None);
        let (traces, mock) = serve(vec![(Channel::Shell, shutdown)]).await;
        assert_eq!(
            traces[0],
            [
                "iopub status busy",
                "shell shutdown_reply restart=true",
                "iopub status idle"
            ]
        );
        assert_eq!(mock.shutdowns.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn control_requests_interrupt_and_report_busy_and_idle() {
        let interrupt = JupyterMessage::new(InterruptRequest {}, None);
        let (traces, mock) = serve(vec![(Channel::Control, interrupt)]).await;
        assert_eq!(
            traces[0],
            [
                "iopub status busy",
                "control interrupt_reply",
                "iopub status idle"
            ]
        );
        assert_eq!(mock.interrupts.load(Ordering::SeqCst), 1);
    }
}
