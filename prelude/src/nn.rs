//! Neural-net building blocks on candle, in PyTorch's terms: the device to compute on,
//! `tensor![..]` literals, and losses (`nn::loss`) that are numerically safe where candle's
//! are not. Layers, optimizers and the rest are candle-nn's, re-exported as `candle_nn`.

use candle_core::{DType, Device, Tensor};

use crate::display::{MimeBundle, Render};
use crate::tensor::device_name;

/// The device to compute on: the first CUDA GPU when candle was built with CUDA and a GPU is
/// there, else the CPU. Its display says which, and why. (The prelude has no `cuda` build
/// yet: issue 7.)
pub fn device() -> Device {
    Device::cuda_if_available(0).unwrap_or(Device::Cpu)
}

impl Render for Device {
    fn render(&self) -> MimeBundle {
        let why = if self.is_cuda() {
            ""
        } else if candle_core::utils::cuda_is_available() {
            " (a CUDA build; pass Device::new_cuda(0) to use the GPU)"
        } else {
            " (this Ferrolab was built without CUDA)"
        };
        MimeBundle::plain(format!("{}{why}", device_name(self)))
    }
}

/// A tensor from a literal, as `torch.tensor([[1., 2.], [3., 4.]])`: nested brackets of
/// numbers (ndarray's `array!` syntax), `f32` on the CPU, PyTorch's default dtype.
#[macro_export]
macro_rules! tensor {
    ($($values:tt)*) => {
        $crate::nn::f32_tensor(&$crate::ndarray::array![$($values)*].mapv(|v| v as f64).into_dyn())
    };
}

#[doc(hidden)]
pub fn f32_tensor(values: &ndarray::ArrayD<f64>) -> Tensor {
    let data: Vec<f64> = values.iter().copied().collect();
    Tensor::from_vec(data, values.shape(), &Device::Cpu)
        .and_then(|t| t.to_dtype(DType::F32))
        .expect("a literal's shape holds its values")
}

/// Losses, each the mean over the batch as PyTorch's default `reduction="mean"`.
pub mod loss {
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

    /// Cross-entropy of logits `(batch, classes)` against class indices `(batch,)` (u32).
    pub fn cross_entropy(logits: &Tensor, target: &Tensor) -> Result<Tensor> {
        candle_nn::loss::cross_entropy(logits, target)
    }

    /// Negative log-likelihood of log-probabilities `(batch, classes)` against class indices.
    pub fn nll(log_probabilities: &Tensor, target: &Tensor) -> Result<Tensor> {
        candle_nn::loss::nll(log_probabilities, target)
    }
}
