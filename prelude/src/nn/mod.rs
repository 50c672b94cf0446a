//! Neural-net building blocks on candle, in PyTorch's terms: the device to compute on,
//! `tensor![..]` literals, losses (`nn::loss`) that are numerically safe where candle's are
//! not, and optimizers, learning-rate schedules and gradient clipping (`nn::optim`) that
//! step exactly as PyTorch's do; layers (`nn::layers`: what candle-nn lacks, a named
//! `Sequential` with a model summary, attention and a transformer block) over candle-nn's.

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

pub mod functional;
pub mod generation;
pub mod gpt;
pub mod layers;
pub mod lora;
pub mod loss;
pub mod optim;
pub mod precision;

pub use generation::GenerationConfig;
pub use gpt::{Gpt, GptConfig};
pub use layers::{
    causal_mask, conv2d, layer_norm, var_builder, Conv2d, Dropout, Flatten, LayerNorm, MaxPool2d,
    MultiHeadAttention, Sequential, Summary, Tanh, TransformerBlock,
};
pub use lora::{linear, Linear, LoraConfig};
pub use precision::autocast;
