//! Layers without parameters: pooling, flattening, tanh, dropout.

use candle_core::{Device, Module, ModuleT, Result, Tensor};
use rand_distr::Distribution;

use super::init::uniform;
use crate::random;

/// `torch.nn.MaxPool2d(k)`: the maximum of each k × k window, stride k.
#[derive(Debug, Clone, Copy)]
pub struct MaxPool2d(pub usize);

impl Module for MaxPool2d {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        crate::nn::functional::max_pool2d(xs, self.0)
    }
}

/// `torch.nn.Flatten()`: every dimension after the batch one into one.
#[derive(Debug, Clone, Copy)]
pub struct Flatten;

impl Module for Flatten {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        xs.flatten_from(1)
    }
}

/// `torch.nn.Tanh()` (candle-nn's `Activation` has no tanh).
#[derive(Debug, Clone, Copy)]
pub struct Tanh;

impl Module for Tanh {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        xs.tanh()
    }
}

/// `torch.nn.Dropout(p)`: in training, zeroes each value with probability `p` and scales
/// the rest by 1/(1-p); the identity in evaluation. The mask comes from the global
/// generator, so `random::seed` makes training runs repeat.
#[derive(Debug, Clone, Copy)]
pub struct Dropout(pub f64);

impl ModuleT for Dropout {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let p = self.0;
        if !train || p == 0.0 {
            return Ok(xs.clone());
        }
        if !(0.0..1.0).contains(&p) {
            candle_core::bail!("Dropout: p must be in [0, 1), got {p}");
        }
        let keep = 1.0 / (1.0 - p);
        let mask: Vec<f32> = {
            let mut rng = random::rng();
            let draws = uniform(0.0, 1.0)?;
            (0..xs.elem_count())
                .map(|_| {
                    if draws.sample(&mut *rng) < p {
                        0.0
                    } else {
                        keep as f32
                    }
                })
                .collect()
        };
        let mask = Tensor::from_vec(mask, xs.shape(), &Device::Cpu)?
            .to_dtype(xs.dtype())?
            .to_device(xs.device())?;
        xs * mask
    }
}
