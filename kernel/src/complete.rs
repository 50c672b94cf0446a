//! Completion and inspection. rust-analyzer (through evcxr) knows the prelude's and the
//! session's code; the session's own variables, items and Rust's keywords are added, which
//! also keeps completion useful where rust-analyzer knows nothing (no rust-src component).

use anyhow::Result;
use jupyter_protocol::{CompleteReply, InspectReply, Media};
use serde_json::{json, Value};

use crate::syntax::{byte_offset, code_points, name_at};

/// What completion and inspection need of a session (session.rs has the evcxr one).
pub trait Analysis {
    /// `(name, type)` of every variable the session holds, sorted by name.
    fn variables(&self) -> Vec<(String, String)>;
    fn item_names(&self) -> Vec<String>;
    /// rust-analyzer's completions at a byte offset.
    fn completions(&mut self, code: &str, offset: usize) -> Result<Found>;
    /// rust-analyzer's hover text (plain, html) for the code up to a byte offset.
    fn hover(&mut self, code: &str, offset: usize) -> Option<(String, String)>;
}

/// Completions replacing `code[start..end]`.
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub matches: Vec<Match>,
}

/// One completion: the text inserted, its kind (`function`, `variable: Vec<f64>`, ...) and,
/// where rust-analyzer gives one, its signature.
pub struct Match {
    pub text: String,
    pub kind: String,
    pub signature: Option<String>,
}

impl Match {
    fn new(text: impl Into<String>, kind: impl Into<String>) -> Self {
        let (text, kind) = (text.into(), kind.into());
        Match {
            text,
            kind,
            signature: None,
        }
    }
}

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "else", "enum", "false", "fn", "for", "if", "impl", "in",
    "let", "loop", "match", "mod", "move", "mut", "pub", "return", "self", "Self", "static",
    "struct", "trait", "true", "type", "unsafe", "use", "where", "while",
];

pub fn complete(session: &mut impl Analysis, code: &str, cursor: usize) -> CompleteReply {
    let offset = byte_offset(code, cursor);
    let word_start = code[..offset]
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let word = &code[word_start..offset];
    let after_dot = code[..word_start].ends_with('.') || code[..word_start].ends_with("::");

    let (mut start, mut end, mut matches) = (word_start, offset, Vec::new());
    if let Ok(found) = session.completions(code, offset) {
        if !found.matches.is_empty() {
            (start, end) = (found.start, found.end);
        }
        // rust-analyzer suggests call snippets (`sum_axis(axis)`, `iter().sum()` on a Vec);
        // insert up to the last method's name, as IPython does, rather than placeholder text
        // the user must delete.
        matches.extend(found.matches.into_iter().map(|mut found| {
            let last_call = found.text.rfind(").").map_or(0, |dot| dot + 2);
            if let Some(paren) = found.text[last_call..].find('(').filter(|&paren| paren > 0) {
                found.text.truncate(last_call + paren);
            }
            found
        }));
    }
    let variables = session.variables();
    if !after_dot && start == word_start {
        let ours = variables
            .iter()
            .map(|(name, ty)| Match::new(name, format!("variable: {ty}")))
            .chain(
                session
                    .item_names()
                    .into_iter()
                    .map(|name| Match::new(name, "item")),
            )
            .chain(KEYWORDS.iter().map(|k| Match::new(*k, "keyword")));
        matches.extend(ours.filter(|found| found.text.starts_with(word)));
    }
    // One entry per name; a session variable is described by its type, whoever found it.
    let variable_types: std::collections::HashMap<String, String> = variables.into_iter().collect();
    let mut seen = std::collections::HashSet::new();
    matches.retain(|found| seen.insert(found.text.clone()));
    for found in &mut matches {
        if let Some(ty) = variable_types.get(&found.text) {
            found.kind = format!("variable: {ty}");
        }
    }

    let (cursor_start, cursor_end) = (code_points(code, start), code_points(code, end));
    let types: Vec<Value> = matches
        .iter()
        .map(|found| {
            // IPython's keys: JupyterLab shows `type`; `signature` is for clients that show it.
            let mut entry = json!({"start": cursor_start, "end": cursor_end, "text": found.text, "type": found.kind});
            if let Some(signature) = &found.signature {
                entry["signature"] = json!(signature);
            }
            entry
        })
        .collect();
    let mut metadata = serde_json::Map::new();
    metadata.insert(
        "_jupyter_types_experimental".to_owned(),
        Value::Array(types),
    );
    CompleteReply {
        matches: matches.into_iter().map(|found| found.text).collect(),
        cursor_start,
        cursor_end,
        metadata,
        ..Default::default()
    }
}

/// The type of a session variable, or rust-analyzer's hover (signature and docs) for a name.
pub fn inspect(session: &mut impl Analysis, code: &str, cursor: usize) -> InspectReply {
    let offset = byte_offset(code, cursor);
    let Some((start, end)) = name_at(code, offset) else {
        return InspectReply::default();
    };
    let name = &code[start..end];
    let variable = session.variables().into_iter().find(|(n, _)| n == name);
    let (plain, html) = match variable {
        Some((name, ty)) => (
            format!("{name}: {ty}"),
            format!("<pre>{name}: {}</pre>", html_escape(&ty)),
        ),
        None => {
            match method_hover(session, code, start, end).or_else(|| session.hover(code, end)) {
                Some(found) => found,
                None => return InspectReply::default(),
            }
        }
    };
    let data: Media =
        serde_json::from_value(json!({"text/plain": plain, "text/html": html})).unwrap_or_default();
    InspectReply {
        found: true,
        data,
        ..Default::default()
    }
}

/// `values.len` + Shift-Tab asks about the method `len()`: rust-analyzer, asked about the
/// bare name, describes Vec's private field `len` instead. A name after a dot is looked up as
/// a call first; a field, with no method of its name, is found by the plain lookup after.
fn method_hover(
    session: &mut impl Analysis,
    code: &str,
    start: usize,
    end: usize,
) -> Option<(String, String)> {
    // The name may be a whole path (`values.len`): what matters is its last part.
    let last_part = code[start..end].trim_end_matches(|c: char| c.is_alphanumeric() || c == '_');
    let after_dot =
        last_part.ends_with('.') || (last_part.is_empty() && code[..start].ends_with('.'));
    let called = code[end..].trim_start().starts_with('(');
    if !after_dot || called {
        return None;
    }
    // evcxr parses the whole code (so the call gets both parentheses) and hovers the code up
    // to the offset, looking a name ending in `(` up as a call.
    session.hover(&format!("{}(){}", &code[..end], &code[end..]), end + 1)
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
