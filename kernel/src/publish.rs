//! The one way output leaves the kernel on iopub: as the child of the request being
//! handled, in the xeus vocabulary (stream, display_data, update_display_data, clear_output,
//! execute_result, error).

use std::collections::BTreeMap;
use std::sync::Mutex;

use jupyter_protocol::{
    ClearOutput, DisplayData, JupyterMessage, JupyterMessageContent as Content, Media,
    StreamContent, Transient, UpdateDisplayData,
};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::session::Output;
use crate::wire::Outgoing;

/// Publishes on iopub as the child of the request being handled. Output that comes before
/// any request (a prelude rebuild at start-up) waits for the first cell and lands there.
pub struct Publisher {
    out: mpsc::UnboundedSender<Outgoing>,
    parent: Mutex<(Option<JupyterMessage>, Vec<Content>)>,
}

impl Publisher {
    pub fn new(out: mpsc::UnboundedSender<Outgoing>) -> Self {
        Publisher {
            out,
            parent: Mutex::new((None, Vec::new())),
        }
    }

    pub fn send(&self, content: impl Into<Content>, parent: &JupyterMessage) {
        let _ = self.out.send(Outgoing::IoPub(JupyterMessage::new(
            content.into(),
            Some(parent),
        )));
    }

    /// Sends under the current request, or holds on to it until there is one.
    pub fn send_current(&self, content: Content) {
        let mut guard = self.parent.lock().unwrap();
        match &guard.0 {
            Some(parent) => self.send(content, parent),
            None => guard.1.push(content),
        }
    }

    pub fn set_parent(&self, parent: &JupyterMessage) {
        let mut guard = self.parent.lock().unwrap();
        for held in guard.1.drain(..) {
            self.send(held, parent);
        }
        guard.0 = Some(parent.clone());
    }

    pub fn output(&self, output: Output) {
        let content: Content = match output {
            Output::Stdout(text) => StreamContent::stdout(&text).into(),
            Output::Stderr(text) => StreamContent::stderr(&text).into(),
            Output::Display(message) => match display_content(message) {
                Some(content) => content,
                None => return,
            },
        };
        self.send_current(content);
    }
}

/// A display message from the prelude: `{"kind": "display"|"update"|"clear", ...}`.
fn display_content(message: Value) -> Option<Content> {
    let data = || media(serde_json::from_value(message["data"].clone()).unwrap_or_default());
    let metadata = || message["metadata"].as_object().cloned().unwrap_or_default();
    let display_id = message["display_id"].as_str().map(str::to_owned);
    Some(match message["kind"].as_str()? {
        "display" => DisplayData {
            data: data(),
            metadata: metadata(),
            transient: display_id.map(|id| Transient {
                display_id: Some(id),
            }),
        }
        .into(),
        "update" => UpdateDisplayData {
            data: data(),
            metadata: metadata(),
            transient: Transient { display_id },
        }
        .into(),
        "clear" => ClearOutput {
            wait: message["wait"].as_bool().unwrap_or(false),
        }
        .into(),
        _ => return None,
    })
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
