//! The one way output leaves the kernel on iopub: as the child of the request being
//! handled, in the xeus vocabulary (status, stream, display_data, update_display_data,
//! clear_output, execute_input, execute_result, error).

use std::collections::BTreeMap;
use std::sync::Mutex;

use jupyter_protocol::{
    ClearOutput, DisplayData, JupyterMessage, JupyterMessageContent as Content, Media, Status,
    StreamContent, Transient, UpdateDisplayData,
};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::interpreter::CellOutput;
use crate::wire::Outbound;

/// Publishes on iopub as the child of a request. A running cell's output goes to the cell
/// being executed; output that comes before any cell (a prelude rebuild at start-up) waits
/// for the first one and lands there.
pub struct Publisher {
    out: mpsc::UnboundedSender<Outbound>,
    current: Mutex<Current>,
}

#[derive(Default)]
struct Current {
    cell: Option<JupyterMessage>,
    held: Vec<Content>,
}

impl Publisher {
    pub fn new(out: mpsc::UnboundedSender<Outbound>) -> Self {
        Publisher {
            out,
            current: Mutex::default(),
        }
    }

    pub fn send(&self, content: impl Into<Content>, parent: &JupyterMessage) {
        let message = JupyterMessage::new(content.into(), Some(parent));
        let _ = self.out.send(Outbound::IoPub(message));
    }

    /// `busy` now and `idle` when the returned guard is dropped: the whole handling of
    /// `request` happens between the two, whichever way it ends.
    pub fn busy<'a>(&'a self, request: &'a JupyterMessage) -> Busy<'a> {
        self.send(Status::busy(), request);
        Busy {
            publisher: self,
            request,
        }
    }

    /// From now on, a running cell's output goes out as a child of `cell`.
    pub fn set_cell(&self, cell: &JupyterMessage) {
        let mut current = self.current.lock().unwrap();
        for held in current.held.drain(..) {
            self.send(held, cell);
        }
        current.cell = Some(cell.clone());
    }

    /// Sends under the current cell, or holds on to it until there is one.
    fn send_to_cell(&self, content: Content) {
        let mut current = self.current.lock().unwrap();
        match &current.cell {
            Some(cell) => self.send(content, cell),
            None => current.held.push(content),
        }
    }

    pub fn output(&self, output: CellOutput) {
        let content: Content = match output {
            CellOutput::Stdout(text) => StreamContent::stdout(&text).into(),
            CellOutput::Stderr(text) => StreamContent::stderr(&text).into(),
            CellOutput::Display(message) => display_content(message),
        };
        self.send_to_cell(content);
    }
}

/// Publishes `idle` for its request when dropped (see [`Publisher::busy`]).
pub struct Busy<'a> {
    publisher: &'a Publisher,
    request: &'a JupyterMessage,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.publisher.send(Status::idle(), self.request);
    }
}

fn display_content(message: ferrolab_protocol::Display) -> Content {
    use ferrolab_protocol::Display;
    match message {
        Display::Display { data, display_id } => DisplayData {
            data: media(data),
            metadata: Default::default(),
            transient: Some(Transient {
                display_id: Some(display_id),
            }),
        }
        .into(),
        Display::Update { data, display_id } => UpdateDisplayData {
            data: media(data),
            metadata: Default::default(),
            transient: Transient {
                display_id: Some(display_id),
            },
        }
        .into(),
        Display::Clear { wait } => ClearOutput { wait }.into(),
    }
}

/// A MIME bundle as Jupyter's `data`: JSON types carry JSON, everything else text.
pub fn media(bundle: BTreeMap<String, String>) -> Media {
    let data: serde_json::Map<String, Value> = bundle
        .into_iter()
        .map(|(mime, text)| {
            let value = match mime.ends_with("json") {
                true => serde_json::from_str(&text).unwrap_or(Value::String(text)),
                false => Value::String(text),
            };
            (mime, value)
        })
        .collect();
    serde_json::from_value(Value::Object(data)).unwrap_or_default()
}
