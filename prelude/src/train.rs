//! `Trainer`: the epochs × batches loop every PyTorch notebook writes by hand: forward,
//! backward and step per batch, the validation loss per epoch, early stopping, a progress
//! bar and a loss plot that redraws itself in place, checkpoints to resume from, and a tracked
//! run that records every epoch. The stop button ends training after the current batch and
//! keeps the weights trained so far.
//!
//! ```ignore
//! let history = Trainer::new(50).early_stopping(5)
//!     .fit(&mut optimizer, &train_loader, Some(&val_loader), |(x, y)| {
//!         nn::loss::cross_entropy(&model.forward(x)?, y)
//!     })?;
//! // Metrics beside the loss, averaged per epoch: history.metrics["validation_accuracy"]
//! // .fit(.., |(x, y)| { let logits = model.forward(x)?; let loss = ..;
//! //     Ok((loss, [("accuracy", metrics::accuracy_of(&logits, y)?)])) })?;
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

use candle_core::{DType, Device, Result, Tensor};
use candle_nn::{Optimizer, VarMap};

use crate::data::{Collate, DataLoader, Dataset};
use crate::display::{display, DisplayHandle, MimeBundle, Render};
use crate::nn::optim::OptimizerState;
use crate::plot::Plot;
use crate::progress::progress;
use crate::track::Run;

/// How long to train and when to stop early.
#[derive(Clone)]
pub struct Trainer {
    epochs: usize,
    patience: Option<usize>,
    min_delta: f64,
    live_plot: bool,
    checkpoint: Option<Checkpoint>,
    mixed_precision: Option<DType>,
    run: Option<Run>,
}

impl Trainer {
    /// `epochs` passes over the training data, with a live loss plot.
    pub fn new(epochs: usize) -> Self {
        Trainer {
            epochs,
            patience: None,
            min_delta: 0.0,
            live_plot: true,
            checkpoint: None,
            mixed_precision: None,
            run: None,
        }
    }

    /// Stops when the validation loss (the training loss without validation data) has not
    /// improved by more than `min_delta` for `patience` epochs.
    pub fn early_stopping(mut self, patience: usize) -> Self {
        self.patience = Some(patience);
        self
    }

    pub fn min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta;
        self
    }

    pub fn live_plot(mut self, live_plot: bool) -> Self {
        self.live_plot = live_plot;
        self
    }

    /// After every epoch, saves the model's weights (`varmap`), the optimizer's state, the
    /// epoch and the losses so far to `path`, one safetensors file. When `path` exists as
    /// `fit` starts, training resumes from it: run the cell again after a crash, an interrupt
    /// or a kernel restart and it goes on where it stopped.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>, varmap: &VarMap) -> Self {
        self.checkpoint = Some(Checkpoint {
            path: path.into(),
            varmap: varmap.clone(),
        });
        self
    }

    /// Mixed precision on a CUDA GPU: the prelude's linear layers multiply in `dtype`
    /// (`DType::BF16` or `DType::F16`) while the weights and their updates stay f32
    /// (`nn::autocast`). On the CPU, where 16-bit matmuls are no faster, the run says so and
    /// trains in f32.
    pub fn mixed_precision(mut self, dtype: DType) -> Self {
        self.mixed_precision = Some(dtype);
        self
    }

    /// Logs each epoch to a tracked run (`track::run(..).start()?`): `train_loss`,
    /// `validation_loss` with validation data, the metrics the loss closure returns (as
    /// `train_<name>` and `validation_<name>`), `learning_rate` and `epoch_time` (seconds), at
    /// step = the epoch's number (1, 2, ...); the last checkpoint becomes the run's artifact.
    /// An interrupt or a panic marks the run.
    pub fn track(mut self, run: &Run) -> Self {
        self.run = Some(run.clone());
        self
    }

    /// Trains with `optimizer` on `train`'s batches: `loss` computes a batch's loss (a scalar
    /// tensor) through the model whose variables the optimizer holds, and may return metrics
    /// beside it, `Ok((loss, [("accuracy", accuracy)]))`, which are averaged over each
    /// epoch's batches into `history.metrics` (`train_accuracy`, `validation_accuracy`), as
    /// Keras' `metrics=` are.
    pub fn fit<D, C, O, B>(
        &self,
        optimizer: &mut O,
        train: &DataLoader<D, C>,
        validation: Option<&DataLoader<D, C>>,
        mut loss: impl FnMut(&C::Batch) -> Result<B>,
    ) -> Result<History>
    where
        D: Dataset,
        C: Collate<D::Item>,
        O: Optimizer + OptimizerState,
        B: BatchOutput,
    {
        let mut history = History::default();
        if let Some(checkpoint) = self.checkpoint.as_ref().filter(|c| c.path.exists()) {
            history = checkpoint.load(optimizer)?;
            println!(
                "Resumed from {} after epoch {} of {}.",
                checkpoint.path.display(),
                history.train_loss.len(),
                self.epochs
            );
            if self.should_stop(&history) {
                history.stopped_at = Some(history.train_loss.len());
                return Ok(history);
            }
        }
        let on_gpu = optimizer
            .vars()
            .first()
            .is_some_and(|v| v.device().is_cuda());
        let _autocast = match self.mixed_precision {
            Some(dtype) if on_gpu => Some(crate::nn::autocast(dtype)),
            Some(dtype) => {
                println!(
                    "Mixed precision ({}) runs on a CUDA GPU; this model is on the CPU, so it trains in f32.",
                    dtype.as_str()
                );
                None
            }
            None => None,
        };
        let mut plot: Option<DisplayHandle> = None;
        let done = history.train_loss.len();
        for epoch in progress(done..self.epochs).desc("epochs").initial(done) {
            train.set_epoch(epoch as u64);
            let started = Instant::now();
            let (train_loss, train_metrics) = epoch_means(train, |batch| {
                let (value, metrics) = loss(batch)?.split();
                optimizer.backward_step(&value)?;
                Ok((value, metrics))
            })?;
            history.train_loss.push(train_loss);
            let mut epoch_metrics = named("train", train_metrics);
            if let Some(validation) = validation {
                let (validation_loss, validation_metrics) =
                    epoch_means(validation, |batch| Ok(loss(batch)?.split()))?;
                history.validation_loss.push(validation_loss);
                epoch_metrics.extend(named("validation", validation_metrics));
            }
            for (name, mean) in &epoch_metrics {
                history.metrics.entry(name.clone()).or_default().push(*mean);
            }
            if let Some(checkpoint) = &self.checkpoint {
                checkpoint.save(optimizer, &history)?;
            }
            if let Some(run) = &self.run {
                let mut metrics = vec![
                    ("train_loss", train_loss),
                    ("learning_rate", optimizer.learning_rate()),
                    ("epoch_time", started.elapsed().as_secs_f64()),
                ];
                if let Some(&validation_loss) = history.validation_loss.last() {
                    metrics.push(("validation_loss", validation_loss));
                }
                metrics.extend(
                    epoch_metrics
                        .iter()
                        .map(|(name, mean)| (name.as_str(), *mean)),
                );
                run.log_at(epoch as u64 + 1, metrics);
                if run.should_stop() {
                    println!(
                        "Stopped after epoch {}: the sweep's early stopping.",
                        epoch + 1
                    );
                    run.tag(crate::track::STOPPED_EARLY);
                    history.stopped_at = Some(epoch + 1);
                    break;
                }
            }
            if self.live_plot {
                match &plot {
                    Some(handle) => handle.update(&history),
                    None => plot = Some(display(&history)),
                }
            }
            if self.should_stop(&history) {
                history.stopped_at = Some(epoch + 1);
                break;
            }
        }
        if let (Some(run), Some(checkpoint)) = (&self.run, &self.checkpoint) {
            run.log_artifact(&checkpoint.path)?;
        }
        Ok(history)
    }

    /// Keras' rule: an epoch improves when it beats the best so far by more than
    /// `min_delta`; stop after `patience` epochs without one.
    fn should_stop(&self, history: &History) -> bool {
        let Some(patience) = self.patience else {
            return false;
        };
        let (mut best, mut since) = (f64::INFINITY, 0);
        for &value in history.watched() {
            if value < best - self.min_delta {
                (best, since) = (value, 0);
            } else {
                since += 1;
            }
        }
        since >= patience
    }
}

/// Where and what a [`Trainer`] checkpoints.
#[derive(Clone)]
struct Checkpoint {
    path: PathBuf,
    varmap: VarMap,
}

/// The file's tensors: `model.<var>`, `optimizer.<var>.<buffer>`, `optimizer.steps`,
/// `history.train_loss`, `history.validation_loss`, `history.metric.<name>`; variables by
/// their `VarMap` names, so that a rebuilt model in a new session finds its own.
impl Checkpoint {
    fn save(&self, optimizer: &impl OptimizerState, history: &History) -> Result<()> {
        let names = self.names();
        let mut tensors: HashMap<String, Tensor> = HashMap::new();
        for (name, var) in self.varmap.data().lock().unwrap().iter() {
            tensors.insert(format!("model.{name}"), var.as_tensor().clone());
        }
        for (var, buffers) in optimizer.vars().iter().zip(optimizer.buffers()) {
            let Some(name) = names.get(&var.as_tensor().id()) else {
                continue;
            };
            for (i, buffer) in buffers.into_iter().enumerate() {
                tensors.insert(format!("optimizer.{name}.{i}"), buffer);
            }
        }
        let scalar = |v: f64| Tensor::new(&[v], &Device::Cpu);
        tensors.insert("optimizer.steps".into(), scalar(optimizer.steps() as f64)?);
        tensors.insert(
            "history.train_loss".into(),
            Tensor::new(history.train_loss.as_slice(), &Device::Cpu)?,
        );
        if !history.validation_loss.is_empty() {
            tensors.insert(
                "history.validation_loss".into(),
                Tensor::new(history.validation_loss.as_slice(), &Device::Cpu)?,
            );
        }
        for (name, values) in &history.metrics {
            tensors.insert(
                format!("{METRIC_PREFIX}{name}"),
                Tensor::new(values.as_slice(), &Device::Cpu)?,
            );
        }
        // Written aside and renamed, so that an interrupt mid-write leaves the last good one.
        let partial = self.path.with_extension("partial");
        candle_core::safetensors::save(&tensors, &partial)?;
        std::fs::rename(&partial, &self.path)?;
        Ok(())
    }

    /// Sets the model's weights and the optimizer's state; returns the history so far.
    fn load(&self, optimizer: &mut impl OptimizerState) -> Result<History> {
        let tensors = candle_core::safetensors::load(&self.path, &Device::Cpu)?;
        let stale = |what: String| {
            candle_core::Error::Msg(format!(
                "{} has no {what}: it was saved from another model; delete it to start afresh",
                self.path.display()
            ))
        };
        {
            let vars = self.varmap.data().lock().unwrap();
            // By name, so that a refused file always names the same variable.
            let mut vars: Vec<_> = vars.iter().collect();
            vars.sort_by_key(|(name, _)| name.as_str());
            for (name, var) in vars {
                let saved = tensors
                    .get(&format!("model.{name}"))
                    .ok_or_else(|| stale(format!("weights for {name}")))?;
                if saved.dims() != var.dims() {
                    return Err(stale(format!("{name} of shape {:?}", var.dims())));
                }
                var.set(&saved.to_dtype(var.dtype())?.to_device(var.device())?)?;
            }
        }
        let names = self.names();
        let buffers = optimizer
            .vars()
            .iter()
            .map(|var| {
                let name = names.get(&var.as_tensor().id());
                (0..)
                    .map_while(|i| tensors.get(&format!("optimizer.{}.{i}", name?)))
                    .map(|t| t.to_dtype(var.dtype())?.to_device(var.device()))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let values = |key: &str| -> Result<Vec<f64>> {
            tensors
                .get(key)
                .map_or(Ok(Vec::new()), |t| t.to_vec1::<f64>())
        };
        let steps = values("optimizer.steps")?.first().copied().unwrap_or(0.0) as usize;
        optimizer.restore(buffers, steps)?;
        let mut metrics = BTreeMap::new();
        for (key, saved) in &tensors {
            if let Some(name) = key.strip_prefix(METRIC_PREFIX) {
                metrics.insert(name.to_owned(), saved.to_vec1::<f64>()?);
            }
        }
        Ok(History {
            train_loss: values("history.train_loss")?,
            validation_loss: values("history.validation_loss")?,
            metrics,
            stopped_at: None,
        })
    }

    fn names(&self) -> HashMap<candle_core::TensorId, String> {
        let vars = self.varmap.data().lock().unwrap();
        vars.iter()
            .map(|(name, var)| (var.as_tensor().id(), name.clone()))
            .collect()
    }
}

const METRIC_PREFIX: &str = "history.metric.";

/// What a [`Trainer`]'s loss closure returns for a batch: the loss alone, or the loss and
/// named metrics, `(loss, [("accuracy", 0.9)])`.
pub trait BatchOutput {
    fn split(self) -> (Tensor, Vec<(String, f64)>);
}

impl BatchOutput for Tensor {
    fn split(self) -> (Tensor, Vec<(String, f64)>) {
        (self, Vec::new())
    }
}

impl<K: AsRef<str>, M: IntoIterator<Item = (K, f64)>> BatchOutput for (Tensor, M) {
    fn split(self) -> (Tensor, Vec<(String, f64)>) {
        let metrics = self.1.into_iter();
        (
            self.0,
            metrics
                .map(|(name, value)| (name.as_ref().to_owned(), value))
                .collect(),
        )
    }
}

/// The means of a scalar loss, and of each metric, over an epoch's batches (a metric over
/// the batches that returned it).
fn epoch_means<D: Dataset, C: Collate<D::Item>>(
    loader: &DataLoader<D, C>,
    mut step: impl FnMut(&C::Batch) -> Result<(Tensor, Vec<(String, f64)>)>,
) -> Result<(f64, Vec<(String, f64)>)> {
    let (mut total, mut batches) = (0.0, 0usize);
    let mut metrics: Vec<(String, f64, usize)> = Vec::new();
    for batch in loader.iter() {
        let (loss, batch_metrics) = step(&batch?)?;
        total += loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        batches += 1;
        for (name, value) in batch_metrics {
            match metrics.iter_mut().find(|(known, ..)| *known == name) {
                Some((_, sum, count)) => (*sum, *count) = (*sum + value, *count + 1),
                None => metrics.push((name, value, 1)),
            }
        }
    }
    let means = metrics
        .into_iter()
        .map(|(name, sum, count)| (name, sum / count as f64))
        .collect();
    Ok((total / batches.max(1) as f64, means))
}

/// Losses and metrics per epoch; shows as a plot of the losses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub train_loss: Vec<f64>,
    /// Empty without validation data.
    pub validation_loss: Vec<f64>,
    /// The loss closure's metrics per epoch, by `train_<name>` and `validation_<name>`.
    pub metrics: BTreeMap<String, Vec<f64>>,
    /// The epoch (1-based) after which early stopping ended training.
    pub stopped_at: Option<usize>,
}

/// `accuracy` of the training batches as `train_accuracy`, as the losses are named.
fn named(split: &str, means: Vec<(String, f64)>) -> Vec<(String, f64)> {
    means
        .into_iter()
        .map(|(name, mean)| (format!("{split}_{name}"), mean))
        .collect()
}

impl History {
    /// The loss early stopping watches.
    fn watched(&self) -> &[f64] {
        if self.validation_loss.is_empty() {
            &self.train_loss
        } else {
            &self.validation_loss
        }
    }

    /// The epoch (0-based) of the lowest watched loss.
    pub fn best_epoch(&self) -> usize {
        let watched = self.watched();
        (0..watched.len()).fold(
            0,
            |best, e| if watched[e] < watched[best] { e } else { best },
        )
    }
}

impl Render for History {
    fn render(&self) -> MimeBundle {
        let epochs: Vec<f64> = (1..=self.train_loss.len()).map(|e| e as f64).collect();
        let mut plot = Plot::new().line(&epochs, &self.train_loss).label("train");
        if !self.validation_loss.is_empty() {
            plot = plot
                .line(&epochs[..self.validation_loss.len()], &self.validation_loss)
                .label("validation");
        }
        let title = match self.stopped_at {
            Some(epoch) => format!("loss (stopped early after epoch {epoch})"),
            None => "loss".to_owned(),
        };
        plot.title(&title).xlabel("epoch").ylabel("loss").render()
    }
}
