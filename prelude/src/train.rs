//! `Trainer`: the epochs × batches loop every PyTorch notebook writes by hand: forward,
//! backward and step per batch, the validation loss per epoch, early stopping, a progress
//! bar and a loss plot that redraws itself in place. The stop button ends training after
//! the current batch and keeps the weights trained so far.
//!
//! ```ignore
//! let history = Trainer::new(50).early_stopping(5)
//!     .fit(&mut optimizer, &train_loader, Some(&val_loader), |(x, y)| {
//!         nn::loss::cross_entropy(&model.forward(x)?, y)
//!     })?;
//! ```

use candle_core::{DType, Result, Tensor};
use candle_nn::Optimizer;

use crate::data::{Collate, DataLoader, Dataset};
use crate::display::{display, DisplayHandle, MimeBundle, Render};
use crate::plot::Plot;
use crate::progress::progress;

/// How long to train and when to stop early.
#[derive(Debug, Clone, PartialEq)]
pub struct Trainer {
    epochs: usize,
    patience: Option<usize>,
    min_delta: f64,
    live_plot: bool,
}

impl Trainer {
    /// `epochs` passes over the training data, with a live loss plot.
    pub fn new(epochs: usize) -> Self {
        Trainer {
            epochs,
            patience: None,
            min_delta: 0.0,
            live_plot: true,
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

    /// Trains with `optimizer` on `train`'s batches: `loss` computes a batch's loss (a scalar
    /// tensor) through the model whose variables the optimizer holds.
    pub fn fit<D, C, O>(
        &self,
        optimizer: &mut O,
        train: &DataLoader<D, C>,
        validation: Option<&DataLoader<D, C>>,
        mut loss: impl FnMut(&C::Batch) -> Result<Tensor>,
    ) -> Result<History>
    where
        D: Dataset,
        C: Collate<D::Item>,
        O: Optimizer,
    {
        let mut history = History::default();
        let mut plot: Option<DisplayHandle> = None;
        for epoch in progress(0..self.epochs).desc("epochs") {
            let train_loss = mean_loss(train, |batch| {
                let value = loss(batch)?;
                optimizer.backward_step(&value)?;
                Ok(value)
            })?;
            history.train_loss.push(train_loss);
            if let Some(validation) = validation {
                history
                    .validation_loss
                    .push(mean_loss(validation, &mut loss)?);
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

/// The mean of a scalar loss over an epoch's batches.
fn mean_loss<D: Dataset, C: Collate<D::Item>>(
    loader: &DataLoader<D, C>,
    mut step: impl FnMut(&C::Batch) -> Result<Tensor>,
) -> Result<f64> {
    let (mut total, mut batches) = (0.0, 0usize);
    for batch in loader.iter() {
        total += step(&batch?)?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        batches += 1;
    }
    Ok(total / batches.max(1) as f64)
}

/// Losses per epoch; shows as a plot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub train_loss: Vec<f64>,
    /// Empty without validation data.
    pub validation_loss: Vec<f64>,
    /// The epoch (1-based) after which early stopping ended training.
    pub stopped_at: Option<usize>,
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
