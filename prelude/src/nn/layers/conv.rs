//! A 2-D convolution layer whose backward pass is matrix products.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Conv2dConfig, VarBuilder};

/// `torch.nn.Conv2d(inputs, outputs, k, stride, padding, dilation)`: candle-nn's layer (the
/// same parameters, names and initialisation) run through [`crate::nn::functional::conv2d`],
/// whose backward is two matrix products where candle's runs a direct transposed convolution.
pub struct Conv2d(pub candle_nn::Conv2d);

/// A [`Conv2d`] with a `k` × `k` kernel, its weight and bias in `vb` as candle-nn names them.
pub fn conv2d(
    inputs: usize,
    outputs: usize,
    k: usize,
    config: Conv2dConfig,
    vb: VarBuilder,
) -> Result<Conv2d> {
    Ok(Conv2d(candle_nn::conv2d(inputs, outputs, k, config, vb)?))
}

impl Module for Conv2d {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let config = self.0.config();
        if config.groups != 1 || config.cudnn_fwd_algo.is_some() {
            return self.0.forward(xs);
        }
        let (stride, padding, dilation) = (config.stride, config.padding, config.dilation);
        crate::nn::functional::conv2d(
            xs,
            self.0.weight(),
            self.0.bias(),
            stride,
            padding,
            dilation,
        )
    }
}
