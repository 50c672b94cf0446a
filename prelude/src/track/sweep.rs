//! Sweeps, as W&B runs them: a search over a config space, each trial a run whose parent is
//! the sweep's own run, a live table of trials, and Hyperband's early stopping of trials
//! that fall behind.
//!
//! ```ignore
//! let sweep = track::sweep("moons")
//!     .grid("lr", [0.1, 0.01, 0.001])
//!     .grid("width", [8, 16])
//!     .minimize("validation_loss")
//!     .run(|run| { /* build, train with Trainer::new(..).track(run) */ Ok::<_, candle::Error>(()) })?;
//! sweep.best()
//! ```

use std::collections::VecDeque;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{Map, Value};

use super::card::number;
use super::compare::value_text;
use super::{Run, Status, Store};
use crate::display::{display, escape, MimeBundle, Render};
use crate::plot::{ParallelAxis, Plot};
use crate::runtime::{catch_panics, interrupt_requested, INTERRUPTED_MESSAGE};

/// The tag of a trial that early stopping ended (a `Trainer` tags it so).
pub(crate) const STOPPED_EARLY: &str = "stopped early";

/// How one config key is searched.
#[derive(Debug, Clone)]
enum Axis {
    /// Every value in a grid; one drawn uniformly in a random search.
    Values(Vec<Value>),
    Uniform(f64, f64),
    /// Uniform in the logarithm: learning rates, regularization strengths.
    LogUniform(f64, f64),
}

/// A sweep to configure and [`SweepBuilder::run`].
#[must_use = "a sweep starts with `.run(|run| ...)`"]
pub struct SweepBuilder {
    store: Store,
    project: String,
    name: Option<String>,
    fixed: Value,
    space: Vec<(String, Axis)>,
    trials: Option<usize>,
    seed: u64,
    goal: Option<(String, bool)>,
    early_stopping: Option<(u64, usize)>,
    threads: usize,
}

impl Store {
    /// A sweep over runs of `project`.
    pub fn sweep(&self, project: &str) -> SweepBuilder {
        SweepBuilder {
            store: self.clone(),
            project: project.to_owned(),
            name: None,
            fixed: Value::Object(Map::new()),
            space: Vec::new(),
            trials: None,
            seed: 0,
            goal: None,
            early_stopping: None,
            threads: 1,
        }
    }
}

/// A sweep over runs of `project` in the default store.
pub fn sweep(project: &str) -> SweepBuilder {
    Store::default().sweep(project)
}

impl SweepBuilder {
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Values every trial gets, besides the swept ones.
    #[track_caller]
    pub fn config(mut self, config: impl Serialize) -> Self {
        self.fixed = super::config_map(config);
        self
    }

    /// Tries each of `values` for `key` (a dotted key sets a nested group: `optimizer.lr`).
    #[track_caller]
    pub fn grid<T: Serialize>(mut self, key: &str, values: impl IntoIterator<Item = T>) -> Self {
        let values: Vec<Value> = values
            .into_iter()
            .map(|v| serde_json::to_value(v).expect("a sweep value serializes"))
            .collect();
        assert!(!values.is_empty(), "sweep key `{key}`: no values to try");
        self.space.push((key.to_owned(), Axis::Values(values)));
        self
    }

    /// Draws `key` uniformly from `[low, high)` (a random search: see [`Self::trials`]).
    pub fn uniform(mut self, key: &str, low: f64, high: f64) -> Self {
        self.space.push((key.to_owned(), Axis::Uniform(low, high)));
        self
    }

    /// Draws `key` so that its logarithm is uniform: `log_uniform("lr", 1e-4, 1e-1)`.
    #[track_caller]
    pub fn log_uniform(mut self, key: &str, low: f64, high: f64) -> Self {
        assert!(
            low > 0.0 && high > low,
            "log_uniform(`{key}`): needs 0 < low < high"
        );
        self.space
            .push((key.to_owned(), Axis::LogUniform(low, high)));
        self
    }

    /// A random search of `trials` trials, seeded by [`Self::seed`]: grid keys are then
    /// drawn from their values too. Without it, every combination of the grid is tried.
    pub fn trials(mut self, trials: usize) -> Self {
        self.trials = Some(trials);
        self
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The metric that ranks trials, lower being better.
    pub fn minimize(mut self, metric: &str) -> Self {
        self.goal = Some((metric.to_owned(), false));
        self
    }

    /// The metric that ranks trials, higher being better.
    pub fn maximize(mut self, metric: &str) -> Self {
        self.goal = Some((metric.to_owned(), true));
        self
    }

    /// Hyperband's early stopping (as W&B's `early_terminate`): at steps `min_steps`,
    /// `min_steps·eta`, `min_steps·eta²`, ... a trial whose metric is not in the best
    /// `1/eta` of the values trials had at that step is asked to stop (`run.should_stop()`;
    /// a `Trainer` stops by itself). The first `eta - 1` trials to reach a step always go on.
    pub fn early_stopping(mut self, min_steps: u64, eta: usize) -> Self {
        self.early_stopping = Some((min_steps.max(1), eta.max(2)));
        self
    }

    /// Trials at once, each on a thread of its own (1 by default).
    pub fn parallel(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The trials' configs, in the order they run.
    fn configs(&self) -> Vec<Value> {
        let random = self.trials.is_some()
            || self
                .space
                .iter()
                .any(|(_, axis)| !matches!(axis, Axis::Values(_)));
        let mut configs = vec![self.fixed.clone()];
        if random {
            let mut rng = StdRng::seed_from_u64(self.seed);
            configs = (0..self.trials.unwrap_or(10))
                .map(|_| {
                    let mut config = self.fixed.clone();
                    for (key, axis) in &self.space {
                        set_path(&mut config, key, draw(axis, &mut rng));
                    }
                    config
                })
                .collect();
        } else {
            for (key, axis) in &self.space {
                let Axis::Values(values) = axis else {
                    unreachable!("a grid has only values")
                };
                configs = configs
                    .iter()
                    .flat_map(|config| {
                        values.iter().map(move |value| {
                            let mut config = config.clone();
                            set_path(&mut config, key, value.clone());
                            config
                        })
                    })
                    .collect();
            }
        }
        configs
    }

    /// Runs `trial` once per config, each with a run of its own (`run.config_value("lr")`
    /// reads the trial's values). A trial that returns an error or panics is marked failed
    /// and the sweep goes on; the stop button ends the sweep after the running trials stop,
    /// keeping every finished trial.
    pub fn run<E: std::fmt::Display>(
        self,
        trial: impl Fn(&Run) -> Result<(), E> + Sync,
    ) -> std::io::Result<Sweep> {
        let configs = self.configs();
        let swept: Vec<String> = self.space.iter().map(|(key, _)| key.clone()).collect();
        let description = serde_json::json!({
            "method": if self.trials.is_some() { "random" } else { "grid" },
            "swept": swept,
            "trials": configs.len(),
            "metric": self.goal.as_ref().map(|(m, _)| m),
            "goal": self.goal.as_ref().map(|&(_, max)| if max { "maximize" } else { "minimize" }),
            "seed": self.seed,
            "early_stopping": self.early_stopping.map(|(min_steps, eta)| serde_json::json!({"min_steps": min_steps, "eta": eta})),
        });
        let mut parent = self.store.run(&self.project).quiet().tag("sweep");
        if let Some(name) = &self.name {
            parent = parent.name(name);
        }
        let parent = parent.config(description).start()?;
        let rungs = match (&self.goal, self.early_stopping) {
            (Some((metric, maximize)), Some((min_steps, eta))) => {
                Some(Arc::new(Rungs::new(metric, *maximize, min_steps, eta)))
            }
            _ => None,
        };
        let sweep = Sweep {
            parent,
            swept,
            goal: self.goal.clone(),
            trials: Arc::new(Mutex::new(Vec::new())),
        };
        let mut shown = sweep.render();
        let table = display(&shown);
        let queue = Mutex::new(configs.into_iter().collect::<VecDeque<_>>());
        let stop = AtomicBool::new(false);
        let failures = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..self.threads)
                .map(|_| {
                    scope.spawn(|| {
                        while !stop.load(Ordering::Relaxed) {
                            let Some(config) = queue.lock().unwrap().pop_front() else {
                                break;
                            };
                            let started = self
                                .store
                                .run(&self.project)
                                .quiet()
                                .parent(&sweep.parent)
                                .config(config)
                                .start();
                            let run = match started {
                                Ok(run) => run,
                                Err(error) => {
                                    failures.lock().unwrap().push(error.to_string());
                                    stop.store(true, Ordering::Relaxed);
                                    break;
                                }
                            };
                            if let Some(rungs) = &rungs {
                                run.lock().watch = Some(Watch::new(rungs.clone()));
                            }
                            sweep.trials.lock().unwrap().push(run.clone());
                            match catch_panics(|| trial(&run)) {
                                Ok(Ok(())) => run.finish(),
                                Ok(Err(error)) => {
                                    run.end_with(Status::Failed, Some(&error.to_string()));
                                    failures.lock().unwrap().push(error.to_string());
                                }
                                Err(message) if message == INTERRUPTED_MESSAGE => {
                                    stop.store(true, Ordering::Relaxed);
                                }
                                Err(message) => {
                                    // The panic hook marked the run failed already.
                                    run.set_notes(&message);
                                    failures.lock().unwrap().push(message);
                                }
                            }
                        }
                    })
                })
                .collect();
            // This thread redraws the table and watches the stop button.
            while !workers.iter().all(|w| w.is_finished()) {
                std::thread::sleep(Duration::from_millis(250));
                if interrupt_requested() {
                    stop.store(true, Ordering::Relaxed);
                }
                // Only when a trial moved on: a long sweep sends no stream of identical tables.
                let now = sweep.render();
                if now != shown {
                    table.update(&now);
                    shown = now;
                }
            }
        });
        let interrupted = stop.load(Ordering::Relaxed) && interrupt_requested();
        sweep.parent.log_best(&sweep);
        let status = if interrupted {
            Status::Interrupted
        } else {
            Status::Finished
        };
        sweep.parent.end_with(status, None);
        table.update(&sweep);
        let failures = failures.into_inner().unwrap();
        if interrupted {
            println!(
                "Sweep stopped by the user after {} trials; every finished trial is kept.",
                sweep
                    .trials()
                    .iter()
                    .filter(|t| t.status() == Status::Finished)
                    .count()
            );
        }
        if let Some(first) = failures.first() {
            eprintln!("{} trial(s) failed; the first: {first}", failures.len());
        }
        Ok(sweep)
    }
}

fn draw(axis: &Axis, rng: &mut StdRng) -> Value {
    match axis {
        Axis::Values(values) => values[rng.random_range(0..values.len())].clone(),
        Axis::Uniform(low, high) => Value::from(rng.random_range(*low..*high)),
        Axis::LogUniform(low, high) => Value::from(rng.random_range(low.ln()..high.ln()).exp()),
    }
}

/// Sets `config.a.b` for the key `a.b`, making groups as needed.
fn set_path(config: &mut Value, key: &str, value: Value) {
    let mut node = config;
    let mut parts = key.split('.').peekable();
    while let Some(part) = parts.next() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let map = node.as_object_mut().expect("made an object above");
        if parts.peek().is_none() {
            map.insert(part.to_owned(), value);
            return;
        }
        node = map.entry(part).or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Hyperband's rungs, shared by a sweep's trials: the metric's values trials had when they
/// reached each rung's step.
pub(super) struct Rungs {
    metric: String,
    maximize: bool,
    eta: usize,
    steps: Vec<u64>,
    values: Mutex<Vec<Vec<f64>>>,
}

impl Rungs {
    fn new(metric: &str, maximize: bool, min_steps: u64, eta: usize) -> Rungs {
        // Rungs up to a step no training reaches: 20 multiplications by eta ≥ 2 is 10⁶·min.
        let steps: Vec<u64> = (0..20)
            .map(|k| min_steps.saturating_mul((eta as u64).saturating_pow(k)))
            .collect();
        Rungs {
            metric: metric.to_owned(),
            maximize,
            eta,
            values: Mutex::new(vec![Vec::new(); steps.len()]),
            steps,
        }
    }

    /// Records `value` at `rung`; whether it is in the best `1/eta` of the values there.
    fn keeps(&self, rung: usize, value: f64) -> bool {
        let mut values = self.values.lock().unwrap();
        let here = &mut values[rung];
        here.push(value);
        if here.len() < self.eta {
            return true;
        }
        let better = here
            .iter()
            .filter(|&&other| {
                if self.maximize {
                    other > value
                } else {
                    other < value
                }
            })
            .count();
        better < here.len().div_ceil(self.eta)
    }
}

/// A trial's place among the rungs.
pub(super) struct Watch {
    rungs: Arc<Rungs>,
    next: usize,
}

impl Watch {
    fn new(rungs: Arc<Rungs>) -> Watch {
        Watch { rungs, next: 0 }
    }

    /// Whether the trial should go on after logging `value` of `metric` at `step`.
    pub(super) fn keeps(&mut self, metric: &str, step: u64, value: f64) -> bool {
        let mut keep = true;
        if metric == self.rungs.metric {
            while self.next < self.rungs.steps.len() && step >= self.rungs.steps[self.next] {
                keep &= self.rungs.keeps(self.next, value);
                self.next += 1;
            }
        }
        keep
    }
}

/// A sweep's outcome: its own run and its trials, shown as a table that updates while it
/// runs.
pub struct Sweep {
    parent: Run,
    swept: Vec<String>,
    goal: Option<(String, bool)>,
    trials: Arc<Mutex<Vec<Run>>>,
}

impl Sweep {
    /// The sweep's own run: its config describes the search; trials name it as parent.
    pub fn run(&self) -> &Run {
        &self.parent
    }

    pub fn trials(&self) -> Vec<Run> {
        self.trials.lock().unwrap().clone()
    }

    /// The finished trial with the best value of the sweep's metric (over its steps).
    pub fn best(&self) -> Option<Run> {
        let (metric, maximize) = self.goal.clone()?;
        self.trials()
            .into_iter()
            .filter(|t| t.status() == Status::Finished)
            .filter_map(|t| Some((best_of(&t, &metric, maximize)?, t)))
            .max_by(|(a, _), (b, _)| {
                let order = a.total_cmp(b);
                if maximize {
                    order
                } else {
                    order.reverse()
                }
            })
            .map(|(_, trial)| trial)
    }
}

impl Sweep {
    /// The finished trials as parallel coordinates: an axis per swept key, the metric's best
    /// value last, a line per trial coloured by it.
    #[track_caller]
    pub fn parallel_coordinates(&self) -> Plot {
        let (metric, maximize) = self.goal.clone().expect(
            "parallel coordinates need the sweep's metric: `.minimize(..)` or `.maximize(..)`",
        );
        let trials: Vec<(Value, f64)> = self
            .trials()
            .iter()
            .filter(|t| t.status() == Status::Finished)
            .filter_map(|t| Some((t.config(), best_of(t, &metric, maximize)?)))
            .collect();
        let mut axes: Vec<ParallelAxis> = self
            .swept
            .iter()
            .map(|key| {
                let values: Vec<Value> = trials
                    .iter()
                    .map(|(config, _)| {
                        key.split('.')
                            .try_fold(config, |v, part| v.get(part))
                            .cloned()
                            .unwrap_or(Value::Null)
                    })
                    .collect();
                match values
                    .iter()
                    .map(Value::as_f64)
                    .collect::<Option<Vec<f64>>>()
                {
                    Some(numbers) => ParallelAxis::numeric(key, &numbers),
                    None => ParallelAxis::categories(
                        key,
                        &values.iter().map(value_text).collect::<Vec<_>>(),
                    ),
                }
            })
            .collect();
        let best: Vec<f64> = trials.iter().map(|&(_, value)| value).collect();
        axes.push(ParallelAxis::numeric(&format!("best {metric}"), &best));
        Plot::new().parallel_axes(axes).title(&format!(
            "sweep {}: {} finished trials",
            self.parent.id(),
            trials.len()
        ))
    }
}

fn best_of(run: &Run, metric: &str, maximize: bool) -> Option<f64> {
    let summary = run.summary().remove(metric)?;
    Some(if maximize { summary.max } else { summary.min })
}

impl Run {
    /// Records the sweep's best trial and value on the sweep's own run.
    fn log_best(&self, sweep: &Sweep) {
        let (Some(best), Some((metric, maximize))) = (sweep.best(), &sweep.goal) else {
            return;
        };
        if let Some(value) = best_of(&best, metric, *maximize) {
            self.log_at(0, [(format!("best {metric}"), value)]);
            self.tag(&format!("best trial {}", best.id()));
        }
    }
}

impl Render for Sweep {
    fn render(&self) -> MimeBundle {
        let trials = self.trials();
        let best = self.best().map(|b| b.id().to_owned());
        let metric = self.goal.as_ref().map(|(m, _)| m.clone());
        let mut text = format!(
            "sweep {} in {}: {} trials",
            self.parent.id(),
            self.parent.project(),
            trials.len()
        );
        let mut html = format!(
            "<div><b>{}</b><table><tr><th>trial</th><th>status</th>",
            escape(&text)
        );
        for key in &self.swept {
            write!(html, "<th>{}</th>", escape(key)).unwrap();
        }
        if let Some(metric) = &metric {
            write!(
                html,
                "<th>{0}</th><th>best {0}</th><th>step</th>",
                escape(metric)
            )
            .unwrap();
        }
        html += "</tr>";
        for trial in &trials {
            let star = if best.as_deref() == Some(trial.id()) {
                " ★"
            } else {
                ""
            };
            let status = match trial.status() {
                Status::Finished if trial.tags().iter().any(|t| t == STOPPED_EARLY) => {
                    STOPPED_EARLY
                }
                status => status.as_str(),
            };
            write!(text, "\n  {}{star} {status}", trial.id()).unwrap();
            write!(html, "<tr><td>{}{star}</td><td>{status}</td>", trial.id()).unwrap();
            let config = trial.config();
            for key in &self.swept {
                let value = key
                    .split('.')
                    .try_fold(&config, |v, part| v.get(part))
                    .map(|v| match v {
                        Value::Number(n) if n.is_f64() => number(n.as_f64().unwrap_or(f64::NAN)),
                        other => value_text(other),
                    })
                    .unwrap_or_default();
                write!(text, " {key}={value}").unwrap();
                write!(html, "<td>{}</td>", escape(&value)).unwrap();
            }
            if let Some((metric, maximize)) = &self.goal {
                match trial.summary().get(metric) {
                    Some(summary) => {
                        let best = if *maximize { summary.max } else { summary.min };
                        write!(text, " {metric}={:.4} best={best:.4}", summary.last).unwrap();
                        write!(
                            html,
                            "<td>{:.4}</td><td>{best:.4}</td><td>{}</td>",
                            summary.last, summary.step
                        )
                        .unwrap();
                    }
                    None => html += "<td></td><td></td><td></td>",
                }
            }
            html += "</tr>";
        }
        html += "</table></div>";
        MimeBundle::plain(text).with("text/html", html)
    }
}
