//! The local store's files (docs/tracking.md describes them for readers without Ferrolab):
//!
//! ```text
//! <store>/<project>/<run id>/run.json      what the run is: config, status, summary, provenance
//! <store>/<project>/<run id>/metrics.csv   step,metric,value,time: one line per logged value
//! <store>/<project>/<run id>/git.diff      uncommitted changes when the run started, if any
//! ```
//!
//! Each run writes only its own folder, created with a fresh id, so kernels logging to one
//! store at once never touch the same file. `run.json` is replaced whole (written aside, then
//! renamed), so a reader or a crash sees the old or the new one, never half; `metrics.csv`
//! only grows, and a line cut short by a killed kernel is skipped when read back.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::artifacts::Artifact;
use super::provenance::Provenance;

/// The version of this layout, in every `run.json`.
const FORMAT: u32 = 1;

pub(super) const RECORD: &str = "run.json";
pub(super) const METRICS: &str = "metrics.csv";
const METRICS_HEADER: &str = "step,metric,value,time\n";

/// Where a run stands. `Crashed` is never written: it is what a reader concludes from a
/// `running` record whose kernel is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Running,
    Finished,
    Failed,
    Interrupted,
    Crashed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Finished => "finished",
            Status::Failed => "failed",
            Status::Interrupted => "interrupted",
            Status::Crashed => "crashed",
        }
    }
}

/// A metric's series in brief, kept in `run.json` so that a table of many runs reads no
/// metrics file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    #[serde(with = "any_f64")]
    pub last: f64,
    #[serde(with = "any_f64")]
    pub min: f64,
    #[serde(with = "any_f64")]
    pub max: f64,
    /// The step of the last value.
    pub step: u64,
    pub count: u64,
}

impl Summary {
    fn new(step: u64, value: f64) -> Self {
        Summary {
            last: value,
            min: value,
            max: value,
            step,
            count: 1,
        }
    }

    fn add(&mut self, step: u64, value: f64) {
        self.last = value;
        self.step = step;
        self.count += 1;
        // NaN never wins: `f64::min` returns the other operand.
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }
}

/// An f64 in JSON, which has no NaN or infinities: those are written as metrics.csv writes
/// them, the strings `NaN`, `inf` and `-inf`.
mod any_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, out: S) -> Result<S::Ok, S::Error> {
        if value.is_finite() {
            out.serialize_f64(*value)
        } else {
            out.serialize_str(&value.to_string())
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Number(f64),
            Text(String),
        }
        match Written::deserialize(input)? {
            Written::Number(value) => Ok(value),
            Written::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// `run.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub format: u32,
    pub id: String,
    pub project: String,
    pub name: String,
    pub status: Status,
    /// Milliseconds since the Unix epoch, as MLflow keeps times.
    pub start_time: u64,
    pub end_time: Option<u64>,
    pub config: Value,
    pub tags: Vec<String>,
    pub notes: String,
    pub summary: BTreeMap<String, Summary>,
    pub provenance: Provenance,
    /// The run this one is part of: a sweep's trials name the sweep's run.
    #[serde(default)]
    pub parent: Option<String>,
    /// Artifacts the run wrote, and those it read (artifacts.rs).
    #[serde(default)]
    pub outputs: Vec<Artifact>,
    #[serde(default)]
    pub inputs: Vec<Artifact>,
}

impl Record {
    pub fn new(id: String, project: String, name: String, config: Value) -> Self {
        Record {
            format: FORMAT,
            id,
            project,
            name,
            status: Status::Running,
            start_time: now_ms(),
            end_time: None,
            config,
            tags: Vec::new(),
            notes: String::new(),
            summary: BTreeMap::new(),
            provenance: Provenance::default(),
            parent: None,
            outputs: Vec::new(),
            inputs: Vec::new(),
        }
    }

    pub fn add_to_summary(&mut self, metric: &str, step: u64, value: f64) {
        match self.summary.get_mut(metric) {
            Some(summary) => summary.add(step, value),
            None => {
                self.summary
                    .insert(metric.to_owned(), Summary::new(step, value));
            }
        }
    }

    /// The status a reader should believe: a `running` run whose kernel process is gone
    /// (on this host) crashed.
    pub fn effective_status(&self) -> Status {
        let here = self.provenance.host == super::provenance::host();
        if self.status == Status::Running && here && !process_alive(self.provenance.pid) {
            Status::Crashed
        } else {
            self.status
        }
    }
}

/// A new run's folder under `<store>/<project>/`, with an id no other writer has: creating
/// the folder is what claims the id.
pub fn create_run_dir(store: &Path, project: &str) -> io::Result<(String, PathBuf)> {
    let project_dir = store.join(project);
    fs::create_dir_all(&project_dir)?;
    loop {
        let id = new_id();
        let dir = project_dir.join(&id);
        match fs::create_dir(&dir) {
            Ok(()) => return Ok((id, dir)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error),
        }
    }
}

/// Eight characters of `[0-9a-z]`, as W&B's run ids: short enough to type, 2.8e12 of them.
/// From the OS's randomness, not the seeded global generator: a seeded session must still
/// get new ids.
fn new_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    (0..8)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Replaces `run.json` atomically.
pub fn write_record(dir: &Path, record: &Record) -> io::Result<()> {
    let aside = dir.join(format!(".{RECORD}.{}", std::process::id()));
    let mut file = File::create(&aside)?;
    serde_json::to_writer_pretty(&mut file, record)?;
    file.write_all(b"\n")?;
    file.sync_data()?;
    fs::rename(&aside, dir.join(RECORD))
}

pub fn read_record(dir: &Path) -> io::Result<Record> {
    let text = fs::read_to_string(dir.join(RECORD))?;
    serde_json::from_str(&text).map_err(|error| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {error}", dir.join(RECORD).display()),
        )
    })
}

/// `metrics.csv`, opened for appending (created with its header line).
pub fn open_metrics(dir: &Path) -> io::Result<BufWriter<File>> {
    let path = dir.join(METRICS);
    let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
    if file.metadata()?.len() == 0 {
        file.write_all(METRICS_HEADER.as_bytes())?;
    }
    Ok(BufWriter::with_capacity(1 << 16, file))
}

pub fn write_metric(
    out: &mut impl Write,
    step: u64,
    metric: &str,
    value: f64,
    time: u64,
) -> io::Result<()> {
    // `{}` prints an f64's shortest form that reads back to the same bits; NaN and inf
    // as `NaN` and `inf`, which polars, pandas and Python's float() read.
    writeln!(out, "{step},{metric},{value},{time}")
}

/// Every metric's series, in the order logged.
pub fn read_metrics(dir: &Path) -> io::Result<BTreeMap<String, Vec<(u64, f64)>>> {
    let mut series: BTreeMap<String, Vec<(u64, f64)>> = BTreeMap::new();
    let file = match File::open(dir.join(METRICS)) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(series),
        Err(error) => return Err(error),
    };
    for line in BufReader::new(file).lines().skip(1) {
        // A line cut short by a killed kernel has fewer fields or fails to parse: skipped.
        if let Some((step, metric, value, _time)) = parse_metric(&line?) {
            series
                .entry(metric.to_owned())
                .or_default()
                .push((step, value));
        }
    }
    Ok(series)
}

/// One line of metrics.csv: step, metric, value, time.
pub fn parse_metric(line: &str) -> Option<(u64, &str, f64, u64)> {
    let mut fields = line.split(',');
    Some((
        fields.next()?.parse().ok()?,
        fields.next()?,
        fields.next()?.parse().ok()?,
        fields.next()?.parse().ok()?,
    ))
}

/// The folders of a project's runs (or of every project's, with `None`).
pub fn run_dirs(store: &Path, project: Option<&str>) -> io::Result<Vec<PathBuf>> {
    let projects = match project {
        Some(project) => vec![store.join(project)],
        None => subdirs(store)?,
    };
    let mut runs = Vec::new();
    for project in projects {
        runs.extend(
            subdirs(&project)?
                .into_iter()
                .filter(|dir| dir.join(RECORD).exists()),
        );
    }
    Ok(runs)
}

fn subdirs(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    Ok(dirs)
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn process_alive(pid: u32) -> bool {
    // Signal 0 checks that the process exists; EPERM means it does, as another user's.
    // SAFETY: kill(2) with signal 0 sends nothing.
    let result = unsafe { libc::kill(pid as libc::pid_t, 0) };
    result == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
