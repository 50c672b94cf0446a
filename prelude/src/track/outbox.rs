//! Live runs' sending to MLflow, off the training thread: a run's flush posts it here and one
//! background thread sends it (`mlflow::push`, which sends only what the server lacks). While
//! a server is away the run is tried again with a growing pause; everything stays in the
//! local store meanwhile, and the first failure and the recovery are said on stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

use super::mlflow::{self, Server};

const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// A run waiting to be sent, or sent.
struct Mail {
    server: Arc<Server>,
    /// Posts so far, and the last post a send attempt covered: `wait` compares them.
    posted: u64,
    tried: u64,
    failure: Option<String>,
    retry_at: Instant,
    retry_after: Duration,
    link: Option<String>,
}

#[derive(Default)]
struct Outbox {
    mail: BTreeMap<PathBuf, Mail>,
    /// Servers said to be away, so that it is said once, not per run or per try.
    away: BTreeSet<String>,
}

static OUTBOX: Mutex<Outbox> = Mutex::new(Outbox {
    mail: BTreeMap::new(),
    away: BTreeSet::new(),
});
/// Signalled at each post and after each attempt.
static CHANGED: Condvar = Condvar::new();

fn outbox() -> MutexGuard<'static, Outbox> {
    OUTBOX.lock().unwrap_or_else(|e| e.into_inner())
}

/// Asks for the run in `dir` to be sent; `now` skips a failing server's pause (a run's end).
/// Returns the post's number, to `wait` for.
pub(super) fn post(dir: &Path, server: &Arc<Server>, now: bool) -> u64 {
    static SENDER: Once = Once::new();
    SENDER.call_once(|| {
        std::thread::Builder::new()
            .name("ferrolab-mlflow".into())
            .spawn(send_forever)
            .expect("a thread to send runs to MLflow");
    });
    let mut outbox = outbox();
    let mail = outbox.mail.entry(dir.to_owned()).or_insert_with(|| Mail {
        server: server.clone(),
        posted: 0,
        tried: 0,
        failure: None,
        retry_at: Instant::now(),
        retry_after: FIRST_RETRY,
        link: None,
    });
    mail.posted += 1;
    if now {
        mail.retry_at = Instant::now();
    }
    CHANGED.notify_all();
    mail.posted
}

/// Waits until an attempt covered post `ticket` (sent, or failed), at most `timeout`.
pub(super) fn wait(dir: &Path, ticket: u64, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let mut outbox = outbox();
    while outbox.mail.get(dir).is_some_and(|mail| mail.tried < ticket) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        outbox = CHANGED
            .wait_timeout(outbox, left)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// Where the run stands with its server, in a line for its card: its page there once sent,
/// and what went wrong while it cannot be sent.
pub(super) struct Standing {
    pub uri: String,
    pub link: Option<String>,
    pub failure: Option<String>,
}

pub(super) fn standing(dir: &Path) -> Option<Standing> {
    let outbox = outbox();
    let mail = outbox.mail.get(dir)?;
    Some(Standing {
        uri: mail.server.uri.clone(),
        link: mail.link.clone(),
        failure: mail.failure.clone(),
    })
}

fn send_forever() {
    loop {
        let (dir, server, ticket) = next_due();
        let result = mlflow::push(&dir, &server);
        let mut outbox = outbox();
        let Outbox { mail, away } = &mut *outbox;
        let Some(mail) = mail.get_mut(&dir) else {
            continue;
        };
        mail.tried = ticket;
        match result {
            Ok(pushed) => {
                mail.failure = None;
                mail.retry_after = FIRST_RETRY;
                mail.link = Some(pushed.link(&server));
                if away.remove(&server.uri) {
                    eprintln!("MLflow at {} is back: sending what was kept.", server.uri);
                }
            }
            Err(error) => {
                mail.retry_at = Instant::now() + mail.retry_after;
                mail.retry_after = (mail.retry_after * 2).min(LAST_RETRY);
                let kept = format!("The run is kept in {}", dir.display());
                if error.kind() != io::ErrorKind::NotConnected {
                    if mail.failure.is_none() {
                        eprintln!("{error}. {kept}; `track::sync` sends it once that is mended.");
                    }
                } else if away.insert(server.uri.clone()) {
                    eprintln!(
                        "{error}. {kept}, and sent when the server is back (or later with \
                         `track::sync`)."
                    );
                }
                mail.failure = Some(error.to_string());
            }
        }
        CHANGED.notify_all();
    }
}

/// The next run with something to send whose pause is over, waiting for one.
fn next_due() -> (PathBuf, Arc<Server>, u64) {
    let mut outbox = outbox();
    loop {
        let now = Instant::now();
        let waiting = outbox
            .mail
            .iter()
            .filter(|(_, mail)| mail.posted > mail.tried || mail.failure.is_some());
        let mut pause = None::<Duration>;
        for (dir, mail) in waiting {
            if mail.retry_at <= now {
                return (dir.clone(), mail.server.clone(), mail.posted);
            }
            let left = mail.retry_at - now;
            pause = Some(pause.map_or(left, |pause| pause.min(left)));
        }
        outbox = match pause {
            Some(pause) => {
                CHANGED
                    .wait_timeout(outbox, pause)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => CHANGED.wait(outbox).unwrap_or_else(|e| e.into_inner()),
        };
    }
}
