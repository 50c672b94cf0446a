//! MLflow as a team's backend: runs of the local store sent to an MLflow tracking server over
//! its REST API, under MLflow's own names.
//!
//! The local store stays the source of truth. Each run's folder keeps `mlflow.json`: for each
//! server, the run's id there and how much of the run was sent (bytes of metrics.csv, params,
//! tags, files, status). Sending is therefore resumable and never sends a value twice: a live
//! run sends as it flushes (outbox.rs); a run recorded with no server set, or while the server
//! was away, is sent later by `track::sync`, as `wandb sync` does. A lock file keeps two
//! senders (threads or kernels) off one run.
//!
//! What becomes what:
//! - project → experiment (created when missing); run name → `mlflow.runName`;
//! - config → params, nested groups as `optimizer.lr`;
//! - metrics.csv → metrics with their step and time (NaN and infinities spelled as MLflow's
//!   JSON reads them);
//! - notebook, git and parent → `mlflow.source.name`, `mlflow.source.type`,
//!   `mlflow.source.git.commit`, `mlflow.source.git.branch`, `mlflow.parentRunId`; notes →
//!   `mlflow.note.content` (the run's description in MLflow's UI); the rest of the
//!   provenance → `ferrolab.*` tags; the run's tags (labels) → tags with an empty value;
//! - artifacts and `git.diff` → the run's artifacts, where the server stores them for its
//!   clients (`mlflow server`'s default, `mlflow-artifacts:` URIs).

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::runtime::Runtime;

use super::compare::{flat_config, value_text};
use super::store::{self, Record, Status};
use crate::display::{MimeBundle, Render};

/// MLflow clients' variable for the server to log to.
const URI_VARIABLE: &str = "MLFLOW_TRACKING_URI";
/// In each run's folder: what was sent to which server.
const SENT: &str = "mlflow.json";
const LOCK: &str = ".mlflow.lock";

// MLflow's limits on one `runs/log-batch` request and on values (its REST API reference).
// A full batch stays under its 1 MB request limit: 1000 metrics with 250-character names
// make ~0.4 MB, 100 params of 6000 characters 0.6 MB, 100 tags of 8000 characters 0.8 MB.
const BATCH_METRICS: usize = 1000;
const BATCH_PARAMS: usize = 100;
const BATCH_TAGS: usize = 100;
const PARAM_VALUE_CHARS: usize = 6000;
const TAG_VALUE_CHARS: usize = 8000;

const API_TIMEOUT: Duration = Duration::from_secs(30);
const FILE_TIMEOUT: Duration = Duration::from_secs(600);

/// The server set by [`set_tracking_uri`], else `MLFLOW_TRACKING_URI`'s (read once).
static TRACKING_URI: Mutex<Option<Option<String>>> = Mutex::new(None);

/// Sends this session's runs to an MLflow tracking server from now on, as
/// `mlflow.set_tracking_uri` does: `track::set_tracking_uri("http://127.0.0.1:5000")`.
/// Runs started before keep their setting; `track::sync` sends those. `""` stops sending.
#[track_caller]
pub fn set_tracking_uri(uri: &str) {
    let uri = uri.trim_end_matches('/');
    if !uri.is_empty() && !is_http(uri) {
        panic!(
            "tracking URI `{uri}`: Ferrolab sends runs to an MLflow tracking server, \
             `http://host:port` (runs are already kept in the local store without one)"
        );
    }
    let uri = (!uri.is_empty()).then(|| uri.to_owned());
    *TRACKING_URI.lock().unwrap_or_else(|e| e.into_inner()) = Some(uri);
}

/// The MLflow server runs are sent to, if any.
pub fn tracking_uri() -> Option<String> {
    let mut uri = TRACKING_URI.lock().unwrap_or_else(|e| e.into_inner());
    uri.get_or_insert_with(|| {
        let uri = std::env::var(URI_VARIABLE).ok()?;
        let uri = uri.trim_end_matches('/');
        if is_http(uri) {
            Some(uri.to_owned())
        } else {
            // Python's MLflow also takes `file:` and database URIs; those are its own stores.
            eprintln!(
                "{URI_VARIABLE}={uri} is not an MLflow server's http(s) address: runs are \
                 kept in the local store only"
            );
            None
        }
    })
    .clone()
}

fn is_http(uri: &str) -> bool {
    uri.starts_with("http://") || uri.starts_with("https://")
}

/// An MLflow tracking server.
#[derive(Debug)]
pub(super) struct Server {
    pub uri: String,
}

/// The server runs started now should send to.
pub(super) fn configured() -> Option<Arc<Server>> {
    tracking_uri().map(|uri| Arc::new(Server { uri }))
}

/// Where a run is on a server.
#[derive(Debug, Clone, Default)]
pub(super) struct Pushed {
    pub run_id: String,
    pub experiment_id: String,
    pub created: bool,
    pub metrics: usize,
    pub files: usize,
}

impl Pushed {
    /// The run's page in MLflow's UI.
    pub fn link(&self, server: &Server) -> String {
        format!(
            "{}/#/experiments/{}/runs/{}",
            server.uri, self.experiment_id, self.run_id
        )
    }
}

/// What one run has had sent to one server.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Sent {
    experiment_id: String,
    run_id: String,
    artifact_uri: String,
    params: bool,
    tags: Vec<(String, String)>,
    /// How much of metrics.csv was sent, in bytes.
    metrics_bytes: u64,
    /// How many of the record's `outputs` were sent.
    files: usize,
    diff: bool,
    status: Option<Status>,
}

/// Sends whatever of the run in `dir` the server lacks: creates it there first (after its
/// parent), then params, changed tags, new metrics, new files and a changed status. Each
/// step is recorded as sent as soon as the server took it.
pub(super) fn push(dir: &Path, server: &Server) -> io::Result<Pushed> {
    let lock = File::create(dir.join(LOCK))?;
    lock.lock()?; // released when `lock` is dropped
    let record = store::read_record(dir)?;
    let mut ledger: BTreeMap<String, Sent> = match fs::read_to_string(dir.join(SENT)) {
        Ok(text) => serde_json::from_str(&text).map_err(io::Error::other)?,
        Err(error) if error.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
        Err(error) => return Err(error),
    };
    let mut sent = ledger.get(&server.uri).cloned().unwrap_or_default();
    let mut save = |sent: &Sent| {
        ledger.insert(server.uri.clone(), sent.clone());
        let aside = dir.join(format!(".{SENT}.{}", std::process::id()));
        fs::write(&aside, serde_json::to_vec_pretty(&ledger)?)?;
        fs::rename(&aside, dir.join(SENT))
    };
    let mut pushed = Pushed::default();

    if sent.run_id.is_empty() {
        sent = server.create_run(dir, &record)?;
        save(&sent)?;
        pushed.created = true;
    }
    let run_id = json!(sent.run_id);
    if !sent.params {
        let params: Vec<Value> = flat_config(&record.config)
            .into_iter()
            .map(|(key, value)| {
                json!({"key": key, "value": clip(&value_text(&value), PARAM_VALUE_CHARS)})
            })
            .collect();
        for batch in params.chunks(BATCH_PARAMS) {
            server.call("runs/log-batch", json!({"run_id": run_id, "params": batch}))?;
        }
        sent.params = true;
        save(&sent)?;
    }
    let tags = tags(&record);
    if tags != sent.tags {
        let changed: Vec<Value> = tags
            .iter()
            .filter(|tag| !sent.tags.contains(tag))
            .map(|(key, value)| json!({"key": key, "value": value}))
            .collect();
        for batch in changed.chunks(BATCH_TAGS) {
            server.call("runs/log-batch", json!({"run_id": run_id, "tags": batch}))?;
        }
        sent.tags = tags;
        save(&sent)?;
    }
    pushed.metrics = push_metrics(dir, server, &mut sent, &mut save)?;
    pushed.files = push_files(dir, &record, server, &mut sent, &mut save)?;
    let status = record.effective_status();
    if sent.status != Some(status) {
        let update = json!({"run_id": run_id, "status": mlflow_status(status),
                            "end_time": record.end_time});
        server.call("runs/update", update)?;
        sent.status = Some(status);
        save(&sent)?;
    }
    pushed.run_id = sent.run_id;
    pushed.experiment_id = sent.experiment_id;
    Ok(pushed)
}

/// The lines of metrics.csv past what was sent, in batches; a line still being written (no
/// newline yet) waits for the next push.
fn push_metrics(
    dir: &Path,
    server: &Server,
    sent: &mut Sent,
    save: &mut impl FnMut(&Sent) -> io::Result<()>,
) -> io::Result<usize> {
    let mut file = match File::open(dir.join(store::METRICS)) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error),
    };
    file.seek(SeekFrom::Start(sent.metrics_bytes))?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    let complete = text.rfind('\n').map_or(0, |end| end + 1);
    let mut count = 0;
    let mut batch = Vec::new();
    let mut batch_bytes = 0;
    for line in text[..complete].split_inclusive('\n') {
        batch_bytes += line.len() as u64;
        // The header and lines cut short by a killed kernel do not parse: skipped.
        if let Some((step, key, value, time)) = store::parse_metric(line.trim_end()) {
            batch.push(
                json!({"key": key, "value": metric_value(value), "timestamp": time,
                              "step": step}),
            );
        }
        if batch.len() == BATCH_METRICS {
            count += send_metrics(server, sent, &mut batch, &mut batch_bytes, save)?;
        }
    }
    count += send_metrics(server, sent, &mut batch, &mut batch_bytes, save)?;
    Ok(count)
}

fn send_metrics(
    server: &Server,
    sent: &mut Sent,
    batch: &mut Vec<Value>,
    batch_bytes: &mut u64,
    save: &mut impl FnMut(&Sent) -> io::Result<()>,
) -> io::Result<usize> {
    let count = batch.len();
    if count > 0 {
        server.call(
            "runs/log-batch",
            json!({"run_id": sent.run_id, "metrics": batch}),
        )?;
    }
    if *batch_bytes > 0 {
        sent.metrics_bytes += *batch_bytes;
        save(sent)?;
    }
    batch.clear();
    *batch_bytes = 0;
    Ok(count)
}

/// The run's artifacts and its `git.diff`, where the server stores files for its clients.
fn push_files(
    dir: &Path,
    record: &Record,
    server: &Server,
    sent: &mut Sent,
    save: &mut impl FnMut(&Sent) -> io::Result<()>,
) -> io::Result<usize> {
    // `mlflow-artifacts:/<experiment>/<run>/artifacts`; a server that leaves storage to its
    // clients (S3 and the like) hands out other URIs, which only those clients can write.
    let Some(root) = sent.artifact_uri.strip_prefix("mlflow-artifacts:") else {
        return Ok(0);
    };
    let root = root.trim_start_matches('/').to_owned();
    let store_root = dir.parent().and_then(Path::parent).unwrap_or(dir);
    let mut count = 0;
    while let Some(artifact) = record.outputs.get(sent.files) {
        let path = store_root.join("artifacts").join(&artifact.sha256);
        server.put_file(&root, &artifact.name, &path)?;
        sent.files += 1;
        save(sent)?;
        count += 1;
    }
    let diff = dir.join("git.diff");
    if !sent.diff && diff.exists() {
        server.put_file(&root, "git.diff", &diff)?;
        sent.diff = true;
        save(sent)?;
        count += 1;
    }
    Ok(count)
}

/// MLflow's tags for a run: its own names where it has one, `ferrolab.*` for the rest.
fn tags(record: &Record) -> Vec<(String, String)> {
    let provenance = &record.provenance;
    let source = provenance
        .notebook
        .clone()
        .unwrap_or_else(|| provenance.directory.clone());
    let mut tags = vec![
        ("mlflow.runName", record.name.clone()),
        ("mlflow.source.type", "NOTEBOOK".to_owned()),
        ("mlflow.source.name", source),
        ("ferrolab.run_id", record.id.clone()),
        ("ferrolab.version", provenance.ferrolab.clone()),
        ("ferrolab.device", provenance.device.clone()),
        ("ferrolab.host", provenance.host.clone()),
    ];
    if let Some(git) = &provenance.git {
        tags.push(("mlflow.source.git.commit", git.commit.clone()));
        tags.push(("ferrolab.git.dirty", git.dirty.to_string()));
        if let Some(branch) = &git.branch {
            tags.push(("mlflow.source.git.branch", branch.clone()));
        }
    }
    if let Some(rustc) = &provenance.rustc {
        tags.push(("ferrolab.rustc", rustc.clone()));
    }
    if let Some(lock) = &provenance.lock_sha256 {
        tags.push(("ferrolab.lock_sha256", lock.clone()));
    }
    if !provenance.seeds.is_empty() {
        let seeds: Vec<String> = provenance
            .seeds
            .iter()
            .map(|seed| format!("{}={}", seed.source, seed.seed))
            .collect();
        tags.push(("ferrolab.seeds", seeds.join(", ")));
    }
    if !record.notes.is_empty() {
        tags.push(("mlflow.note.content", record.notes.clone()));
    }
    let mut tags: Vec<(String, String)> = tags
        .into_iter()
        .map(|(key, value)| (key.to_owned(), clip(&value, TAG_VALUE_CHARS)))
        .collect();
    tags.extend(record.tags.iter().map(|tag| (tag.clone(), String::new())));
    tags
}

fn mlflow_status(status: Status) -> &'static str {
    match status {
        Status::Running => "RUNNING",
        Status::Finished => "FINISHED",
        Status::Failed | Status::Crashed => "FAILED",
        Status::Interrupted => "KILLED",
    }
}

/// A metric value as MLflow's JSON takes it: JSON has no NaN or infinities, protobuf's JSON
/// mapping spells them as strings.
fn metric_value(value: f64) -> Value {
    if value.is_finite() {
        json!(value)
    } else if value.is_nan() {
        json!("NaN")
    } else if value > 0.0 {
        json!("Infinity")
    } else {
        json!("-Infinity")
    }
}

/// MLflow refuses longer values: the start is kept, with an ellipsis.
fn clip(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars - 1) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// One HTTP client and runtime for every server: reqwest's is async, and a current-thread
/// Tokio runtime runs its calls to completion on the caller's thread.
fn client() -> &'static (Runtime, Client) {
    static CLIENT: OnceLock<(Runtime, Client)> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a Tokio runtime for MLflow's client");
        let _entered = runtime.enter();
        let client = Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("an HTTP client for MLflow");
        (runtime, client)
    })
}

impl Server {
    /// Creates the run (in its project's experiment, created when missing), or finds the one
    /// an earlier push created and could not record.
    fn create_run(&self, dir: &Path, record: &Record) -> io::Result<Sent> {
        let experiment_id = self.experiment(&record.project)?;
        let filter = format!("tags.`ferrolab.run_id` = '{}'", record.id);
        let found = self.call(
            "runs/search",
            json!({"experiment_ids": [experiment_id], "filter": filter, "max_results": 1}),
        )?;
        let info = match found["runs"][0]["info"].as_object() {
            Some(info) => Value::Object(info.clone()),
            None => {
                let mut tags: Vec<Value> = tags(record)
                    .into_iter()
                    .map(|(key, value)| json!({"key": key, "value": value}))
                    .collect();
                let parent = record.parent.as_ref().map(|id| dir.with_file_name(id));
                if let Some(parent) = parent.filter(|dir| dir.join(store::RECORD).exists()) {
                    // The parent (a sweep's run) goes first, to be named.
                    let parent = push(&parent, self)?;
                    tags.push(json!({"key": "mlflow.parentRunId", "value": parent.run_id}));
                }
                let run = json!({"experiment_id": experiment_id, "run_name": record.name,
                                 "start_time": record.start_time, "tags": tags});
                self.call("runs/create", run)?["run"]["info"].clone()
            }
        };
        let text = |field: &str| info[field].as_str().unwrap_or_default().to_owned();
        Ok(Sent {
            experiment_id,
            run_id: text("run_id"),
            artifact_uri: text("artifact_uri"),
            ..Sent::default()
        })
    }

    fn experiment(&self, name: &str) -> io::Result<String> {
        let found = self.request(
            Method::GET,
            "experiments/get-by-name",
            json!({"experiment_name": name}),
        )?;
        let created = match found {
            Some(found) => found["experiment"].clone(),
            None => self.call("experiments/create", json!({"name": name}))?,
        };
        Ok(created["experiment_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    fn call(&self, endpoint: &str, body: Value) -> io::Result<Value> {
        self.request(Method::POST, endpoint, body)?
            .ok_or_else(|| self.refused(endpoint, "404 Not Found"))
    }

    /// A REST call; `None` when the server has no such thing (404).
    fn request(&self, method: Method, endpoint: &str, body: Value) -> io::Result<Option<Value>> {
        let (runtime, client) = client();
        let url = format!("{}/api/2.0/mlflow/{endpoint}", self.uri);
        let request = if method == Method::GET {
            client.get(url).query(&body)
        } else {
            client.request(method, url).json(&body)
        };
        runtime.block_on(async {
            let response = request
                .timeout(API_TIMEOUT)
                .send()
                .await
                .map_err(|e| self.unreachable(&e))?;
            let status = response.status();
            let text = response.text().await.map_err(|e| self.unreachable(&e))?;
            if status == StatusCode::NOT_FOUND {
                Ok(None)
            } else if !status.is_success() {
                let answer: Value = serde_json::from_str(&text).unwrap_or(json!({}));
                let message = answer["message"].as_str().unwrap_or(&text);
                Err(self.refused(endpoint, &format!("{status}: {message}")))
            } else {
                Ok(Some(serde_json::from_str(&text).unwrap_or(Value::Null)))
            }
        })
    }

    /// Uploads a file as `<root>/<name>` through the server's artifact proxy.
    fn put_file(&self, root: &str, name: &str, path: &Path) -> io::Result<()> {
        let body = fs::read(path)?;
        let (runtime, client) = client();
        let url = format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{root}/{name}",
            self.uri
        );
        runtime.block_on(async {
            let response = client
                .put(url)
                .body(body)
                .timeout(FILE_TIMEOUT)
                .send()
                .await
                .map_err(|e| self.unreachable(&e))?;
            match response.status() {
                status if status.is_success() => Ok(()),
                status => Err(self.refused(&format!("the file {name}"), status.as_str())),
            }
        })
    }

    fn unreachable(&self, error: &reqwest::Error) -> io::Error {
        // reqwest's own message names only the URL; the cause is at the chain's end.
        let mut cause: &dyn std::error::Error = error;
        while let Some(source) = cause.source() {
            cause = source;
        }
        let why = if error.is_timeout() {
            "timed out".to_owned()
        } else {
            cause.to_string()
        };
        io::Error::new(
            io::ErrorKind::NotConnected,
            format!("MLflow at {} is unreachable ({why})", self.uri),
        )
    }

    fn refused(&self, what: &str, why: &str) -> io::Error {
        io::Error::other(format!("MLflow at {} refused {what}: {why}", self.uri))
    }
}

/// What [`sync`](super::sync) sent.
#[derive(Debug, Clone)]
pub struct Synced {
    pub uri: String,
    pub project: String,
    pub runs: usize,
    /// Runs the server did not have before.
    pub created: usize,
    pub metrics: usize,
    pub files: usize,
}

impl Synced {
    pub(super) fn add(&mut self, pushed: &Pushed) {
        self.runs += 1;
        self.created += usize::from(pushed.created);
        self.metrics += pushed.metrics;
        self.files += pushed.files;
    }
}

impl fmt::Display for Synced {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let Synced {
            uri,
            project,
            runs,
            created,
            metrics,
            files,
        } = self;
        write!(
            f,
            "{project}: {runs} runs at {uri}, {created} new there; sent {metrics} metric \
             values and {files} files"
        )
    }
}

impl Render for Synced {
    fn render(&self) -> MimeBundle {
        MimeBundle::plain(self.to_string())
    }
}
