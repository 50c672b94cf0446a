//! What a Ferrolab kernel and the prelude in its evaluation process agree on, written once.
//!
//! The evaluation process (evcxr's child, running the notebook's cells) talks back to the
//! kernel only through its stdout and stderr. Ordinary lines are the user's output; a line
//! that starts with one of the markers below carries a message from the prelude, as JSON.
//! The environment variables are how the kernel tells the prelude where things are.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// Starts a [`Display`] message line on stdout.
pub const DISPLAY_MARKER: &str = "FERROLAB_DISPLAY";
/// Starts a [`PanicReport`] line on stdout.
pub const PANIC_MARKER: &str = "FERROLAB_PANIC";
/// A line on stdout alone: a `?` in the cell returned an error (evcxr keeps its own note of
/// that to itself, and the cell would count as a success).
pub const USER_ERROR_MARKER: &str = "FERROLAB_USER_ERROR";
/// Starts a line on stderr with the number of a run (the n-th piece of code the process
/// ran), written when the run ends: all of the run's stderr came before it.
pub const RUN_END_MARKER: &str = "FERROLAB_RUN_END";
/// The same number travels with the run's result, under this MIME type, so the kernel knows
/// which number to wait for on stderr.
pub const RUN_END_MIME: &str = "application/x-ferrolab-run-end";

/// The environment variables the kernel and the prelude share.
pub mod env {
    /// Ferrolab's folder: the prebuilt prelude, sessions, history, the course's models.
    pub const HOME: &str = "FERROLAB_HOME";
    /// The prelude's source folder, which the kernel builds and sessions depend on.
    pub const PRELUDE: &str = "FERROLAB_PRELUDE";
    /// The session's one-byte interrupt flag, which the prelude maps into memory.
    pub const INTERRUPT_FILE: &str = "FERROLAB_INTERRUPT_FILE";
    /// Set: the kernel logs where a session's time goes.
    pub const TRACE: &str = "FERROLAB_TRACE";
    /// `off`: no spare sessions (kernel/src/spare.rs).
    pub const SPARE: &str = "FERROLAB_SPARE";
    /// Seconds a spare session no kernel took waits before it exits.
    pub const SPARE_IDLE_SECS: &str = "FERROLAB_SPARE_IDLE_SECS";
}

/// `$FERROLAB_HOME`, else `ferrolab` in the user's cache folder (`$XDG_CACHE_HOME` or
/// `~/.cache` on Linux).
pub fn home() -> Option<PathBuf> {
    match std::env::var_os(env::HOME) {
        Some(path) => Some(PathBuf::from(path)),
        None => Some(dirs::cache_dir()?.join("ferrolab")),
    }
}

/// A message for the notebook from a running cell: `display`, `DisplayHandle::update`,
/// `clear_output`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Display {
    Display {
        data: BTreeMap<String, String>,
        display_id: String,
    },
    Update {
        data: BTreeMap<String, String>,
        display_id: String,
    },
    Clear {
        wait: bool,
    },
}

/// A panic in a cell, as the prelude's panic hook saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanicReport {
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The panic is the prelude's `Interrupted`: the user stopped the cell.
    pub interrupted: bool,
}

/// `marker` and `message` as one line.
pub fn marked_line(marker: &str, message: &impl Serialize) -> String {
    let json = serde_json::to_string(message).expect("protocol messages serialize");
    format!("{marker} {json}")
}

/// The message of a line [`marked_line`] wrote with `marker`; None for any other line.
/// A marked line that does not parse is None as well: it came from a different build.
pub fn read_marked<T: DeserializeOwned>(line: &str, marker: &str) -> Option<T> {
    let json = line.strip_prefix(marker)?.strip_prefix(' ')?;
    serde_json::from_str(json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_back_as_written() {
        let update = Display::Update {
            data: BTreeMap::from([("text/plain".to_owned(), "3".to_owned())]),
            display_id: "d1".to_owned(),
        };
        let line = marked_line(DISPLAY_MARKER, &update);
        assert_eq!(read_marked::<Display>(&line, DISPLAY_MARKER), Some(update));
        assert_eq!(read_marked::<Display>(&line, PANIC_MARKER), None);
        assert_eq!(
            read_marked::<Display>("FERROLAB_DISPLAYED {}", DISPLAY_MARKER),
            None
        );
    }

    #[test]
    fn display_messages_name_their_kind() {
        let clear = serde_json::to_value(Display::Clear { wait: true }).unwrap();
        assert_eq!(clear, serde_json::json!({"kind": "clear", "wait": true}));
    }
}
