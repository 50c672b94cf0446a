//! The contract between the dispatcher and a language session, after xeus's interpreter:
//! what the dispatcher asks of a session, and the words they exchange. The evcxr session
//! (session.rs) implements it; the dispatcher's tests use a mock (dispatch.rs).

use std::collections::BTreeMap;
use std::future::Future;

use jupyter_protocol::{CompleteReply, InspectReply, IsCompleteReply, LanguageInfo};

/// What the dispatcher needs of a session. Requests come one at a time, in order, except
/// `interrupt`, which comes while a cell runs.
pub trait Interpreter: Send + Sync + 'static {
    /// Runs a cell. What it prints or displays meanwhile goes out as [`CellOutput`] through
    /// the publisher the session was made with, all of it before this resolves.
    fn execute(&self, code: &str) -> impl Future<Output = Outcome> + Send;
    /// Completions at `cursor` (in code points, as Jupyter counts).
    fn complete(&self, code: &str, cursor: usize) -> impl Future<Output = CompleteReply> + Send;
    /// What is known about the name at `cursor`: a variable's type, an item's documentation.
    fn inspect(&self, code: &str, cursor: usize) -> impl Future<Output = InspectReply> + Send;
    fn is_complete(&self, code: &str) -> IsCompleteReply;
    /// Stops the running cell, if any.
    fn interrupt(&self);
    /// Ends the session (and this process, for a real one) once the replies in flight left.
    fn shutdown(&self);
    fn language_info(&self) -> LanguageInfo;
}

/// How a cell ended.
pub enum Outcome {
    /// The value of the cell's last expression as a MIME bundle (empty when there is none).
    Value(BTreeMap<String, String>),
    Error(CellError),
}

/// What a running cell sends to the notebook, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum CellOutput {
    Stdout(String),
    Stderr(String),
    Display(ferrolab_protocol::Display),
}

/// A failed cell, as Jupyter shows it: `ename`, `evalue` and a traceback (report.rs makes
/// them from what went wrong, and has `CellError::new`, in its colours).
#[derive(Debug, Clone)]
pub struct CellError {
    pub ename: String,
    pub evalue: String,
    pub traceback: Vec<String>,
}
