//! Experiment tracking, as W&B and MLflow do it, with no account and no server: every run
//! recorded with its config, metrics and what produced it, in a folder beside the notebook.
//!
//! ```ignore
//! let run = track::run("moons").config(json!({"lr": 0.01, "hidden": 16})).start()?;
//! for epoch in 0..100 {
//!     // ... train ...
//!     run.log([("loss", loss), ("accuracy", accuracy)]);
//! }
//! run.finish();
//! track::runs("moons")?   // every run of the project as a DataFrame
//! ```
//!
//! A run shows itself as a card (config, latest metrics, a curve per metric) that redraws in
//! place as it logs. A panic or the stop button marks the run `failed` or `interrupted` and
//! keeps what it logged; logging again resumes it. The files are described in
//! docs/tracking.md and in [`store`]'s comment.
//!
//! With an MLflow tracking server set (`track::set_tracking_uri`, or `MLFLOW_TRACKING_URI`),
//! runs are sent there too as they log, and `track::sync(project)` sends runs recorded
//! without one ([`mlflow`]'s comment says what becomes what).

mod artifacts;
mod card;
mod compare;
mod mlflow;
mod outbox;
mod provenance;
mod store;
mod sweep;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use ndarray::Array1;
use serde::Serialize;
use serde_json::Value;

pub use artifacts::{model, Artifact, ModelVersion};
pub use compare::{curves, runs};
pub use mlflow::{set_tracking_uri, tracking_uri, Synced};
pub use provenance::{Git, Provenance, Seed};
pub use store::{Status, Summary};
pub(crate) use sweep::STOPPED_EARLY;
pub use sweep::{sweep, Sweep, SweepBuilder};

use crate::display::{display, DisplayHandle};
use crate::parameters::Parameter;
use store::Record;

/// The variable that moves the default store, as `MLFLOW_TRACKING_URI` does for MLflow.
const STORE_VARIABLE: &str = "FERROLAB_RUNS";
/// Metrics reach the disk at least this often (and at every status change): a killed kernel
/// loses at most this much.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
const CARD_EVERY: Duration = Duration::from_millis(500);
/// How long `finish` waits for an MLflow server to take the run's last values.
const SEND_WAIT: Duration = Duration::from_secs(10);

/// A folder of runs: `./runs` beside the notebook unless `FERROLAB_RUNS` names another.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Default for Store {
    fn default() -> Self {
        Store::at(std::env::var_os(STORE_VARIABLE).unwrap_or_else(|| "runs".into()))
    }
}

impl Store {
    pub fn at(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// A new run in `project`, to configure and [`RunBuilder::start`].
    pub fn run(&self, project: &str) -> RunBuilder {
        RunBuilder {
            store: self.root.clone(),
            project: project.to_owned(),
            name: None,
            config: Value::Object(Default::default()),
            tags: Vec::new(),
            notes: String::new(),
            card: true,
            parent: None,
        }
    }

    /// A recorded run by its id, with its config and metrics: to look at, to rerun with the
    /// same config, or to log more to (which resumes it).
    pub fn load(&self, id: &str) -> io::Result<Run> {
        let dir = store::run_dirs(&self.root, None)?
            .into_iter()
            .find(|dir| dir.file_name().is_some_and(|name| name == id))
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("no run `{id}` in {}", self.root.display()),
                )
            })?;
        let mut record = store::read_record(&dir)?;
        record.status = record.effective_status();
        let series = store::read_metrics(&dir)?;
        Ok(Run::new(record, dir, None, series))
    }

    /// Sends a project's runs to the MLflow server (`set_tracking_uri`, `MLFLOW_TRACKING_URI`):
    /// those recorded without one, or while it was away. Only what the server lacks is sent.
    pub fn sync(&self, project: &str) -> io::Result<Synced> {
        let server = mlflow::configured().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "no MLflow server to send to: `track::set_tracking_uri(\"http://127.0.0.1:5000\")` \
                 first, or set MLFLOW_TRACKING_URI (`install/mlflow` starts a server)",
            )
        })?;
        let dirs = store::run_dirs(&self.root, Some(project))?;
        if dirs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no runs of `{project}` in {}", self.root.display()),
            ));
        }
        let mut synced = Synced {
            uri: server.uri.clone(),
            project: project.to_owned(),
            runs: 0,
            created: 0,
            metrics: 0,
            files: 0,
        };
        for dir in dirs {
            let pushed = mlflow::push(&dir, &server).map_err(|error| {
                let run = dir.file_name().unwrap_or_default().to_string_lossy();
                io::Error::new(error.kind(), format!("run {run}: {error}"))
            })?;
            synced.add(&pushed);
        }
        Ok(synced)
    }
}

/// A new run in the default store: `track::run("moons").config(json!({"lr": 0.01})).start()?`.
pub fn run(project: &str) -> RunBuilder {
    Store::default().run(project)
}

/// A recorded run of the default store by its id.
pub fn load(id: &str) -> io::Result<Run> {
    Store::default().load(id)
}

/// Sends a project's runs in the default store to the MLflow server, as `wandb sync` does.
pub fn sync(project: &str) -> io::Result<Synced> {
    Store::default().sync(project)
}

/// What a run is before it starts.
#[must_use = "a run starts with `.start()?`"]
pub struct RunBuilder {
    store: PathBuf,
    project: String,
    name: Option<String>,
    config: Value,
    tags: Vec<String>,
    notes: String,
    card: bool,
    parent: Option<String>,
}

impl RunBuilder {
    /// A name to tell runs apart by; the id when none is given.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// The run's hyperparameters: `json!({"lr": 0.01, "optimizer": {"name": "adamw"}})`, a
    /// map, or any value serde serializes to one. Nested groups read back as `optimizer.name`.
    #[track_caller]
    pub fn config(mut self, config: impl Serialize) -> Self {
        self.config = config_map(config);
        self
    }

    /// Makes this run a child of `parent` (a sweep's trials are children of the sweep's run).
    pub fn parent(mut self, parent: &Run) -> Self {
        self.parent = Some(parent.id().to_owned());
        self
    }

    pub fn tag(mut self, tag: &str) -> Self {
        self.tags.push(tag.to_owned());
        self
    }

    pub fn notes(mut self, notes: &str) -> Self {
        self.notes = notes.to_owned();
        self
    }

    /// No live card below the cell (for runs started in a loop or a sweep).
    pub fn quiet(mut self) -> Self {
        self.card = false;
        self
    }

    /// Creates the run's folder and records what produced it.
    #[track_caller]
    pub fn start(self) -> io::Result<Run> {
        check_folder_name("project", &self.project);
        let (id, dir) = store::create_run_dir(&self.store, &self.project)?;
        let name = self.name.unwrap_or_else(|| id.clone());
        let mut record = Record::new(id, self.project, name, self.config);
        record.tags = self.tags;
        record.notes = self.notes;
        record.parent = self.parent;
        let (provenance, diff) = Provenance::capture();
        record.provenance = provenance;
        if let Some(diff) = diff {
            std::fs::write(dir.join("git.diff"), diff)?;
        }
        store::write_record(&dir, &record)?;
        let metrics = store::open_metrics(&dir)?;
        let run = Run::new(record, dir, Some(metrics), BTreeMap::new());
        {
            let mut state = run.lock();
            state.mlflow = mlflow::configured();
            state.send(false);
        }
        if self.card {
            let handle = display(&run);
            run.lock().card = Some(handle);
        }
        Ok(run)
    }
}

/// A tracked run. Clones share it (a `Trainer` and the cell both log to one run); it
/// finishes when `finish` is called or the last clone is dropped.
#[derive(Clone)]
pub struct Run {
    id: Arc<str>,
    state: Arc<Mutex<State>>,
}

struct State {
    record: Record,
    dir: PathBuf,
    /// Open while this session logs to the run.
    metrics: Option<BufWriter<File>>,
    series: BTreeMap<String, Vec<(u64, f64)>>,
    next_step: u64,
    /// Started or resumed by this session: only then does it write the run's files.
    owned: bool,
    flushed_at: Instant,
    card: Option<DisplayHandle>,
    card_at: Instant,
    write_failed: bool,
    /// The thread that started or last logged to the run: a panic there ends it.
    thread: ThreadId,
    /// A sweep's early stopping, watching this trial's metric.
    watch: Option<sweep::Watch>,
    /// Set when the sweep's early stopping asks this trial to stop.
    stop: bool,
    /// The MLflow server this session sends the run to, and its last post there.
    mlflow: Option<Arc<mlflow::Server>>,
    posted: u64,
}

/// Runs this process may have to mark when a cell panics.
static LIVE: Mutex<Vec<Weak<Mutex<State>>>> = Mutex::new(Vec::new());

impl Run {
    /// A run this session writes to when it has the run's metrics file open (it started
    /// it), or only reads until it logs (a loaded one).
    fn new(
        record: Record,
        dir: PathBuf,
        metrics: Option<BufWriter<File>>,
        series: BTreeMap<String, Vec<(u64, f64)>>,
    ) -> Run {
        let next_step = series
            .values()
            .filter_map(|points| points.last())
            .map(|&(step, _)| step + 1)
            .max()
            .unwrap_or(0);
        let state = State {
            record,
            dir,
            owned: metrics.is_some(),
            metrics,
            series,
            next_step,
            flushed_at: Instant::now(),
            card: None,
            card_at: Instant::now(),
            write_failed: false,
            thread: std::thread::current().id(),
            watch: None,
            stop: false,
            mlflow: None,
            posted: 0,
        };
        let id: Arc<str> = state.record.id.as_str().into();
        let state = Arc::new(Mutex::new(state));
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|run| run.strong_count() > 0);
        live.push(Arc::downgrade(&state));
        Run { id, state }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while logging leaves the state as it was: still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn name(&self) -> String {
        self.lock().record.name.clone()
    }

    pub fn project(&self) -> String {
        self.lock().record.project.clone()
    }

    pub fn status(&self) -> Status {
        self.lock().record.status
    }

    /// The run's folder in the store.
    pub fn dir(&self) -> PathBuf {
        self.lock().dir.clone()
    }

    /// The whole config, as given: `run.config()["lr"]`.
    pub fn config(&self) -> Value {
        self.lock().record.config.clone()
    }

    /// One config value as a typed variable: `let lr: f64 = run.config_value("lr");`, with a
    /// dotted path into nested groups (`"optimizer.name"`).
    #[track_caller]
    pub fn config_value<T: Parameter>(&self, key: &str) -> T {
        let config = self.config();
        let value = key
            .split('.')
            .try_fold(&config, |value, part| value.get(part))
            .unwrap_or_else(|| panic!("run {}'s config has no `{key}`", self.id));
        T::from_json(value).unwrap_or_else(|| {
            panic!(
                "run {}'s config `{key}`: {value} is not a {}",
                self.id,
                crate::parameters::readable_type_name::<T>()
            )
        })
    }

    pub fn provenance(&self) -> Provenance {
        self.lock().record.provenance.clone()
    }

    pub fn tags(&self) -> Vec<String> {
        self.lock().record.tags.clone()
    }

    pub fn notes(&self) -> String {
        self.lock().record.notes.clone()
    }

    /// Last, lowest and highest value of each metric.
    pub fn summary(&self) -> BTreeMap<String, Summary> {
        self.lock().record.summary.clone()
    }

    /// A metric's values in the order logged.
    pub fn metric(&self, name: &str) -> Array1<f64> {
        self.lock()
            .series
            .get(name)
            .map(|points| points.iter().map(|&(_, value)| value).collect())
            .unwrap_or_default()
    }

    /// A metric's steps, matching [`Run::metric`]'s values.
    pub fn steps(&self, name: &str) -> Array1<f64> {
        self.lock()
            .series
            .get(name)
            .map(|points| points.iter().map(|&(step, _)| step as f64).collect())
            .unwrap_or_default()
    }

    /// Logs values at the next step (0, 1, 2, ...): `run.log([("loss", 0.3), ("acc", 0.9)])`.
    #[track_caller]
    pub fn log<K: AsRef<str>, V: Into<f64>>(&self, metrics: impl IntoIterator<Item = (K, V)>) {
        let step = self.lock().next_step;
        self.log_at(step, metrics);
    }

    /// Logs values at `step` (an epoch, a batch count): later `log` calls go on from it.
    #[track_caller]
    pub fn log_at<K: AsRef<str>, V: Into<f64>>(
        &self,
        step: u64,
        metrics: impl IntoIterator<Item = (K, V)>,
    ) {
        let mut state = self.lock();
        state.resume();
        state.thread = std::thread::current().id();
        let time = store::now_ms();
        for (name, value) in metrics {
            let (name, value) = (name.as_ref(), value.into());
            check_metric_name(name);
            if let Some(out) = state.metrics.as_mut() {
                let written = store::write_metric(out, step, name, value, time);
                state.report(written);
            }
            state.record.add_to_summary(name, step, value);
            let keep = state
                .watch
                .as_mut()
                .is_none_or(|watch| watch.keeps(name, step, value));
            state.stop |= !keep;
            state
                .series
                .entry(name.to_owned())
                .or_default()
                .push((step, value));
        }
        state.next_step = state.next_step.max(step + 1);
        if state.flushed_at.elapsed() >= FLUSH_EVERY {
            state.flush();
        }
        if state.card_at.elapsed() >= CARD_EVERY {
            state.redraw_card();
        }
    }

    pub fn tag(&self, tag: &str) {
        let mut state = self.lock();
        state.record.tags.push(tag.to_owned());
        state.flush();
    }

    pub fn set_notes(&self, notes: &str) {
        let mut state = self.lock();
        state.record.notes = notes.to_owned();
        state.flush();
    }

    /// Marks the run finished and writes everything out (and sends it, where an MLflow server
    /// is set: up to 10 s, after which it is sent in the background).
    pub fn finish(&self) {
        self.end_with(Status::Finished, None);
    }

    /// Ends the run with `status`, saying why in its notes if given, as `finish` does.
    fn end_with(&self, status: Status, why: Option<&str>) {
        let sending = {
            let mut state = self.lock();
            if let Some(why) = why {
                state.record.notes = why.to_owned();
            }
            state.end(status);
            state
                .mlflow
                .is_some()
                .then(|| (state.dir.clone(), state.posted))
        };
        if let Some((dir, ticket)) = sending {
            outbox::wait(&dir, ticket, SEND_WAIT);
            self.lock().redraw_card();
        }
    }

    /// True when a sweep's early stopping asks this trial to stop: a training loop of one's
    /// own checks it each epoch (a `Trainer` does).
    pub fn should_stop(&self) -> bool {
        self.lock().stop
    }
}

/// A config as a JSON map; anything else is a mistake worth stopping for.
#[track_caller]
fn config_map(config: impl Serialize) -> Value {
    match serde_json::to_value(config) {
        Ok(value @ Value::Object(_)) => value,
        Ok(other) => panic!("a run's config is a map of names to values, not {other}"),
        Err(error) => panic!("a run's config: {error}"),
    }
}

impl State {
    /// Logging to a run this session did not start, or one a panic ended, takes it (back).
    fn resume(&mut self) {
        if !self.owned {
            match store::open_metrics(&self.dir) {
                Ok(out) => self.metrics = Some(out),
                Err(error) => self.report(Err(error)),
            }
            self.record.provenance.pid = std::process::id();
            self.record.provenance.host = provenance::host();
            self.mlflow = mlflow::configured();
            self.owned = true;
        }
        if self.record.status != Status::Running {
            self.record.status = Status::Running;
            self.record.end_time = None;
        }
    }

    fn end(&mut self, status: Status) {
        if self.owned && self.record.status == Status::Running {
            self.record.status = status;
            self.record.end_time = Some(store::now_ms());
        }
        self.flush();
        self.send(true);
        self.redraw_card();
    }

    fn flush(&mut self) {
        if !self.owned {
            return;
        }
        self.record.provenance.seeds = provenance::seeds();
        let flushed = match self.metrics.as_mut() {
            Some(out) => out.flush(),
            None => Ok(()),
        };
        self.report(flushed);
        let written = store::write_record(&self.dir, &self.record);
        self.report(written);
        self.flushed_at = Instant::now();
        self.send(false);
    }

    /// Has what was flushed sent to the run's MLflow server, if it has one.
    fn send(&mut self, now: bool) {
        if let Some(server) = &self.mlflow {
            self.posted = outbox::post(&self.dir, server, now);
        }
    }

    fn redraw_card(&mut self) {
        if let Some(card) = &self.card {
            card.update(&card::Card(self));
        }
        self.card_at = Instant::now();
    }

    /// A failed write is said once, on stderr, and does not stop training: the values stay
    /// in memory (`metric`, the card) and later writes are tried again.
    fn report(&mut self, result: io::Result<()>) {
        if let Err(error) = result {
            if !self.write_failed {
                eprintln!(
                    "run {}: cannot write to {}: {error} (values are kept in memory)",
                    self.record.id,
                    self.dir.display()
                );
                self.write_failed = true;
            }
        }
    }
}

impl Drop for State {
    fn drop(&mut self) {
        self.end(Status::Finished);
    }
}

/// Called by the panic hook (runtime.rs): a cell that panics or is stopped ends the runs it
/// was logging to (those last logged to from the panicking thread) as `failed` or
/// `interrupted`, with everything logged so far written out.
pub(crate) fn end_live_runs(interrupted: bool) {
    let status = if interrupted {
        Status::Interrupted
    } else {
        Status::Failed
    };
    // `try_lock`: the panic may have come from inside a run's own lock.
    let Ok(live) = LIVE.try_lock() else { return };
    let thread = std::thread::current().id();
    for run in live.iter().filter_map(Weak::upgrade) {
        if let Ok(mut state) = run.try_lock() {
            if state.owned && state.record.status == Status::Running && state.thread == thread {
                state.end(status);
            }
        }
    }
}

/// Metric names that MLflow accepts too (letters, digits, `_ - . /` and spaces), so that a
/// run can be sent there unchanged; they never need quoting in metrics.csv.
#[track_caller]
fn check_metric_name(name: &str) {
    let allowed = |c: char| c.is_alphanumeric() || "_-./ ".contains(c);
    if name.is_empty() || !name.chars().all(allowed) {
        panic!("metric name `{name}`: use letters, digits, `_ - . /` and spaces");
    }
}

/// Projects and models are folders: no `/`, and no leading dot.
#[track_caller]
fn check_folder_name(what: &str, name: &str) {
    let allowed = |c: char| c.is_alphanumeric() || "_-. ".contains(c);
    if name.is_empty() || name.starts_with('.') || !name.chars().all(allowed) {
        panic!("{what} name `{name}`: use letters, digits, `_ - .` and spaces");
    }
}
