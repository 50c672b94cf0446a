//! A cell's output, captured from the evaluation process's stdout and stderr as it comes:
//! the user's lines become stream messages (gathered into a few a second, capped per cell),
//! the prelude's marker lines become displays and panic reports (ferrolab-protocol).
//!
//! Ordering is guaranteed, not hoped for: evcxr returns a cell's result once its stdout is
//! handed over, and every run of code ends with a numbered line on stderr (relay.rs); a cell
//! is over only once its number came through there too, so all it wrote is published before
//! its reply and `idle`, however loaded the machine.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use ferrolab_protocol::{
    read_marked, PanicReport, DISPLAY_MARKER, PANIC_MARKER, RUN_END_MARKER, USER_ERROR_MARKER,
};

use crate::interpreter::CellOutput;

/// How long output gathers before it is sent: the delay a user may notice, at most.
const STREAM_COALESCE: Duration = Duration::from_millis(15);
/// A stream message carries at most this much text; more waiting output becomes more messages.
const STREAM_BATCH_BYTES: usize = 64 * 1024;
/// What one cell may print before the rest is dropped: a notebook (and the browser showing
/// it) stays usable when a loop prints millions of lines.
const CELL_OUTPUT_LIMIT_BYTES: usize = 1024 * 1024;
/// How long a cell's end waits for its stderr to come through. Only a machine stalled for
/// that long gets there; the output still arrives, after the reply.
const STDERR_WAIT: Duration = Duration::from_secs(10);
/// The lines around the error a cell's `?` returned, as evcxr (patched) prints it on stderr.
const EVCXR_ERROR_MESSAGE_BEGIN: &str = "EVCXR_ERROR_MESSAGE_BEGIN";
const EVCXR_ERROR_MESSAGE_END: &str = "EVCXR_ERROR_MESSAGE_END";

/// What the captured streams said about a cell, besides its output.
pub struct CellEnd {
    pub panic: Option<PanicReport>,
    /// A `?` in the cell returned an error: its message, as evcxr printed it on stderr.
    pub returned_error: Option<String>,
}

pub struct Capture {
    sink: Arc<(Mutex<Sink>, Condvar)>,
}

/// State shared with the threads that forward the evaluation process's output.
#[derive(Default)]
struct Sink {
    panic: Option<PanicReport>,
    user_error: bool,
    /// The error a `?` in the cell returned, as evcxr printed it on stderr between its two
    /// marker lines (vendor/evcxr/PATCHED.md): kept for the error reply, not shown twice.
    error_message: String,
    in_error_message: bool,
    budget: OutputBudget,
    /// The number of the last run whose end came through on stderr.
    ended_on_stderr: u64,
}

impl Capture {
    /// Forwards the evaluation process's stdout and stderr to `emit` from now on.
    pub fn start(
        stdout: Receiver<String>,
        stderr: Receiver<String>,
        emit: impl Fn(CellOutput) + Send + Sync + 'static,
    ) -> Capture {
        let sink = Arc::new((Mutex::new(Sink::default()), Condvar::new()));
        let emit: Arc<dyn Fn(CellOutput) + Send + Sync> = Arc::new(emit);
        spawn_forwarder(stdout, sink.clone(), emit.clone(), Stream::Stdout);
        spawn_forwarder(stderr, sink.clone(), emit, Stream::Stderr);
        Capture { sink }
    }

    fn lock(&self) -> MutexGuard<'_, Sink> {
        self.sink.0.lock().unwrap()
    }

    pub fn begin_cell(&self) {
        let mut sink = self.lock();
        sink.panic = None;
        sink.user_error = false;
        sink.error_message.clear();
        sink.in_error_message = false;
        sink.budget = OutputBudget::default();
    }

    /// Waits until every line the cell wrote has been handed on. evcxr returns once its
    /// stdout channel is empty, so stdout is in (taking the lock waits for the line being
    /// forwarded); `run` is the number of the cell's run, if its code ran, and its stderr is
    /// in once that number came through there.
    pub fn end_cell(&self, run: Option<u64>) -> CellEnd {
        let (lock, stderr_arrived) = &*self.sink;
        let mut sink = lock.lock().unwrap();
        let deadline = Instant::now() + STDERR_WAIT;
        while run.is_some_and(|run| sink.ended_on_stderr < run) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                crate::os::trace("a cell's stderr did not come through in time");
                break;
            }
            sink = stderr_arrived.wait_timeout(sink, left).unwrap().0;
        }
        let returned_error = sink
            .user_error
            .then(|| sink.error_message.trim_end().to_owned());
        CellEnd {
            panic: sink.panic.take(),
            returned_error,
        }
    }
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

#[derive(Clone, Copy, PartialEq)]
enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn output(self, text: String) -> CellOutput {
        match self {
            Stream::Stdout => CellOutput::Stdout(text),
            Stream::Stderr => CellOutput::Stderr(text),
        }
    }
}

/// A run's end marker at the end of `line`: the user's text before it (a last line the run
/// wrote without a newline) and the run's number.
fn run_end(line: &str) -> Option<(&str, u64)> {
    let at = line.rfind(RUN_END_MARKER)?;
    let number = read_marked(&line[at..], RUN_END_MARKER)?;
    Some((&line[..at], number))
}

/// Hands one stream on as it comes, sorting out the marker lines and joining the plain lines
/// that are already waiting into one stream message. Lines are only taken from the channel
/// under the sink's lock, so once evcxr reports the channel empty, taking the lock waits for
/// the last line.
fn spawn_forwarder(
    lines: Receiver<String>,
    sink: Arc<(Mutex<Sink>, Condvar)>,
    emit: Arc<dyn Fn(CellOutput) + Send + Sync>,
    stream: Stream,
) {
    std::thread::spawn(move || loop {
        let mut ready = crossbeam_channel::Select::new();
        ready.recv(&lines);
        if ready.ready_timeout(Duration::from_millis(500)).is_err() {
            continue;
        }
        // Let a burst of lines gather, so a chatty loop becomes a few messages a second, not
        // one per line (outside the lock: evcxr itself waits for the channel to drain).
        std::thread::sleep(STREAM_COALESCE);
        let (lock, stderr_arrived) = &*sink;
        let mut guard = lock.lock().unwrap();
        let mut text = String::new();
        let disconnected = loop {
            let line = match lines.try_recv() {
                Ok(line) => line,
                Err(crossbeam_channel::TryRecvError::Empty) => break false,
                Err(crossbeam_channel::TryRecvError::Disconnected) => break true,
            };
            let mut user_line = line.as_str();
            if let Some((before, run)) = run_end(&line).filter(|_| stream == Stream::Stderr) {
                guard.ended_on_stderr = run;
                if before.is_empty() {
                    continue;
                }
                user_line = before;
            } else if let Some(panic) = read_marked(&line, PANIC_MARKER) {
                guard.panic = Some(panic);
                continue;
            } else if line == USER_ERROR_MARKER {
                guard.user_error = true;
                continue;
            } else if stream == Stream::Stderr && line == EVCXR_ERROR_MESSAGE_BEGIN {
                guard.in_error_message = true;
                continue;
            } else if guard.in_error_message {
                if line == EVCXR_ERROR_MESSAGE_END {
                    guard.in_error_message = false;
                } else {
                    guard.error_message += &line;
                    guard.error_message.push('\n');
                }
                continue;
            } else if let Some(display) = read_marked(&line, DISPLAY_MARKER) {
                // Keep the order: text printed before a display goes out before it.
                if !text.is_empty() {
                    emit(stream.output(std::mem::take(&mut text)));
                }
                emit(CellOutput::Display(display));
                continue;
            }
            if let Some(kept) = guard.budget.take(user_line) {
                text += kept;
                text.push('\n');
            }
            if text.len() >= STREAM_BATCH_BYTES {
                emit(stream.output(std::mem::take(&mut text)));
            }
        };
        if !text.is_empty() {
            emit(stream.output(text));
        }
        if let Some(note) = guard.budget.note_once() {
            emit(stream.output(note));
        }
        drop(guard);
        stderr_arrived.notify_all();
        if disconnected {
            return;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_end_is_found_after_a_line_left_without_its_newline() {
        assert_eq!(run_end("FERROLAB_RUN_END 7"), Some(("", 7)));
        assert_eq!(run_end("partialFERROLAB_RUN_END 12"), Some(("partial", 12)));
        assert_eq!(run_end("FERROLAB_RUN_END soon"), None);
        assert_eq!(run_end("plain text"), None);
    }

    #[test]
    fn a_cell_ends_only_once_its_stderr_came_through() {
        let (out_tx, out_rx) = crossbeam_channel::unbounded();
        let (err_tx, err_rx) = crossbeam_channel::unbounded();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let capture = Capture::start(out_rx, err_rx, move |o| log.lock().unwrap().push(o));
        capture.begin_cell();
        out_tx.send("on stdout".to_owned()).unwrap();
        // stderr lags behind, as evcxr's reader thread may on a busy machine.
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            err_tx.send("on stderr".to_owned()).unwrap();
            err_tx.send("FERROLAB_RUN_END 1".to_owned()).unwrap();
            std::thread::sleep(Duration::from_secs(60));
        });
        while !out_tx.is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        }
        capture.end_cell(Some(1));
        assert_eq!(
            *seen.lock().unwrap(),
            [
                CellOutput::Stdout("on stdout\n".to_owned()),
                CellOutput::Stderr("on stderr\n".to_owned())
            ]
        );
    }
}
