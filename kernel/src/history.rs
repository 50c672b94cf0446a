//! Execution history, kept across kernel restarts in `$FERROLAB_HOME/history.jsonl`
//! (one JSON object a line, appended; a JSON-lines file needs no database engine).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use jupyter_protocol::{HistoryEntry, HistoryRequest};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone)]
struct Record {
    session: usize,
    line: usize,
    input: String,
    /// The `text/plain` of the cell's result, if it had one.
    #[serde(default)]
    output: Option<String>,
}

pub struct History {
    path: PathBuf,
    records: Vec<Record>,
    /// This kernel's session number: one more than the last one on file.
    session: usize,
}

impl History {
    pub fn open(path: PathBuf) -> Self {
        let records: Vec<Record> = File::open(&path)
            .map(|f| {
                BufReader::new(f)
                    .lines()
                    .map_while(Result::ok)
                    .filter_map(|l| serde_json::from_str(&l).ok())
                    .collect()
            })
            .unwrap_or_default();
        let session = records.iter().map(|r| r.session).max().unwrap_or(0) + 1;
        History {
            path,
            records,
            session,
        }
    }

    pub fn record(&mut self, line: usize, input: &str, output: Option<String>) {
        let record = Record {
            session: self.session,
            line,
            input: input.to_owned(),
            output,
        };
        let appended = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| {
                writeln!(
                    f,
                    "{}",
                    serde_json::to_string(&record).expect("a record serializes")
                )
            });
        if let Err(error) = appended {
            eprintln!(
                "ferrolab: could not save history to {}: {error}",
                self.path.display()
            );
        }
        self.records.push(record);
    }

    pub fn query(&self, request: &HistoryRequest) -> Vec<HistoryEntry> {
        let with_output = match request {
            HistoryRequest::Tail { output, .. }
            | HistoryRequest::Range { output, .. }
            | HistoryRequest::Search { output, .. } => *output,
        };
        let entry = |r: &Record| match with_output {
            true => HistoryEntry::InputOutput(
                r.session,
                r.line,
                (r.input.clone(), r.output.clone().unwrap_or_default()),
            ),
            false => HistoryEntry::Input(r.session, r.line, r.input.clone()),
        };
        match request {
            HistoryRequest::Tail { n, .. } => last_n(self.records.iter(), *n).map(entry).collect(),
            HistoryRequest::Range {
                session,
                start,
                stop,
                ..
            } => {
                // Negative sessions count back from this one, as in IPython; 0 or none is this one.
                let wanted = match session {
                    Some(s) if *s < 0 => self.session.saturating_sub(s.unsigned_abs() as usize),
                    Some(s) if *s > 0 => *s as usize,
                    _ => self.session,
                };
                let (start, stop) = (*start.max(&0) as usize, *stop);
                self.records
                    .iter()
                    .filter(|r| {
                        r.session == wanted
                            && r.line >= start
                            && (stop <= 0 || r.line < stop as usize)
                    })
                    .map(entry)
                    .collect()
            }
            HistoryRequest::Search {
                pattern, unique, n, ..
            } => {
                let mut seen = std::collections::HashSet::new();
                let matching: Vec<&Record> = self
                    .records
                    .iter()
                    .rev()
                    .filter(|r| glob_match(pattern, &r.input))
                    .filter(|r| !*unique || seen.insert(r.input.as_str()))
                    .collect();
                last_n(matching.into_iter().rev(), *n).map(entry).collect()
            }
        }
    }
}

fn last_n<'a, I: ExactSizeIterator<Item = &'a Record>>(
    records: I,
    n: i32,
) -> impl Iterator<Item = &'a Record> {
    let skip = if n > 0 {
        records.len().saturating_sub(n as usize)
    } else {
        0
    };
    records.skip(skip)
}

/// IPython's history search pattern: `*` any run of characters, `?` one character.
fn glob_match(pattern: &str, text: &str) -> bool {
    glob::Pattern::new(pattern).is_ok_and(|p| p.matches(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match("let x*", "let x = 1;"));
        assert!(glob_match("l?t*", "let y"));
        assert!(!glob_match("let", "let x"));
    }

    #[test]
    fn persists_across_restarts_and_searches_unique() {
        let path =
            std::env::temp_dir().join(format!("ferrolab-history-{}.jsonl", uuid::Uuid::new_v4()));
        let mut first = History::open(path.clone());
        first.record(1, "let a = 1;", None);
        first.record(2, "a + 1", Some("2".into()));
        first.record(3, "a + 1", Some("2".into()));
        let second = History::open(path.clone());
        assert_eq!(second.session, first.session + 1);
        let tail = second.query(&HistoryRequest::Tail {
            n: 2,
            output: false,
            raw: true,
        });
        assert_eq!(tail.len(), 2);
        let with_output = second.query(&HistoryRequest::Tail {
            n: 1,
            output: true,
            raw: true,
        });
        assert!(matches!(&with_output[0], HistoryEntry::InputOutput(_, 3, (_, out)) if out == "2"));
        let search = HistoryRequest::Search {
            pattern: "a*".into(),
            unique: true,
            output: false,
            raw: true,
            n: 10,
        };
        assert_eq!(second.query(&search).len(), 1);
        std::fs::remove_file(path).unwrap();
    }
}
