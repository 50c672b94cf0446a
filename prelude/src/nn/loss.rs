//! Losses, each the mean over the batch as PyTorch's default `reduction="mean"`.

use candle_core::{DType, Result, Tensor};

/// Mean squared error.
pub fn mse(prediction: &Tensor, target: &Tensor) -> Result<Tensor> {
    candle_nn::loss::mse(prediction, target)
}

/// Binary cross-entropy of probabilities in [0, 1]; like PyTorch, each log is at least
/// -100 so that a confident wrong answer costs 100, not infinity.
pub fn binary_cross_entropy(probability: &Tensor, target: &Tensor) -> Result<Tensor> {
    let log_p = floored_log(probability)?;
    let log_not_p = floored_log(&probability.affine(-1.0, 1.0)?)?;
    let positive = (target * log_p)?;
    let negative = (target.affine(-1.0, 1.0)? * log_not_p)?;
    (positive + negative)?.neg()?.mean_all()
}

/// `max(log p, -100)` with a finite gradient everywhere: below the smallest probability
/// the dtype holds exactly (e^-100 in f64, the smallest normal f32 otherwise) the log is
/// -100 and its gradient 0.
fn floored_log(p: &Tensor) -> Result<Tensor> {
    let floor = if p.dtype() == DType::F64 {
        (-100f64).exp()
    } else {
        f32::MIN_POSITIVE as f64
    };
    let below = p.lt(floor)?;
    let minimum = Tensor::full(-100f64, p.shape(), p.device())?.to_dtype(p.dtype())?;
    below.where_cond(&minimum, &p.clamp(floor, 1.0)?.log()?)
}

/// Binary cross-entropy of logits, computed as `max(x, 0) - x·y + log(1 + e^-|x|)`:
/// exact for any logit. candle's `binary_cross_entropy_with_logit` takes the log of a
/// sigmoid, which is -inf past |x| ≈ 17 in f32 and made a moons MLP train to NaN in 4 of 10
/// initialisations; this one trained in all.
pub fn binary_cross_entropy_with_logits(logits: &Tensor, target: &Tensor) -> Result<Tensor> {
    let softplus_of_minus_abs = logits.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
    ((logits.relu()? - (logits * target)?)? + softplus_of_minus_abs)?.mean_all()
}

/// Cross-entropy of logits `(batch, classes)` against class indices `(batch,)` (fused:
/// [`crate::nn::functional::cross_entropy`]).
pub fn cross_entropy(logits: &Tensor, target: &Tensor) -> Result<Tensor> {
    crate::nn::functional::cross_entropy(logits, target)
}

/// Negative log-likelihood of log-probabilities `(batch, classes)` against class indices.
pub fn nll(log_probabilities: &Tensor, target: &Tensor) -> Result<Tensor> {
    candle_nn::loss::nll(log_probabilities, target)
}
