//! Optimizers that step exactly as PyTorch's (`torch.optim.SGD` with momentum, dampening,
//! Nesterov and weight decay; `Adam` with L2 weight decay; `AdamW` with decoupled weight
//! decay, configured with candle-nn's `ParamsAdamW`), learning-rate schedules, and
//! gradient-norm clipping. The optimizers implement candle-nn's `Optimizer` trait
//! (`opt.backward_step(&loss)?`) and [`OptimizerState`], which checkpoints save.

use std::f64::consts::PI;

use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};
pub use candle_nn::optim::{Optimizer, ParamsAdamW};

/// `torch.optim.SGD`'s settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SgdConfig {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 0.01,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

/// Stochastic gradient descent with momentum and weight decay (candle-nn's `SGD` has
/// neither).
pub struct Sgd {
    vars: Vec<Var>,
    velocity: Vec<Option<Tensor>>,
    config: SgdConfig,
}

impl Optimizer for Sgd {
    type Config = SgdConfig;

    fn new(vars: Vec<Var>, config: SgdConfig) -> Result<Self> {
        let vars: Vec<Var> = vars.into_iter().filter(|v| v.dtype().is_float()).collect();
        Ok(Sgd {
            velocity: vec![None; vars.len()],
            vars,
            config,
        })
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        let c = &self.config;
        for (var, velocity) in self.vars.iter().zip(&mut self.velocity) {
            let Some(grad) = grads.get(var) else { continue };
            let mut g = if c.weight_decay != 0.0 {
                (grad + var.as_tensor().affine(c.weight_decay, 0.0)?)?
            } else {
                grad.clone()
            };
            if c.momentum != 0.0 {
                let buffer = match velocity.take() {
                    None => g.clone(),
                    Some(previous) => {
                        (previous.affine(c.momentum, 0.0)? + g.affine(1.0 - c.dampening, 0.0)?)?
                    }
                };
                g = if c.nesterov {
                    (&g + buffer.affine(c.momentum, 0.0)?)?
                } else {
                    buffer.clone()
                };
                *velocity = Some(buffer);
            }
            var.set(&(var.as_tensor() - g.affine(c.lr, 0.0)?)?)?;
        }
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

/// `torch.optim.Adam`'s settings; weight decay is added to the gradient (L2), unlike AdamW's.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 0.001,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

pub struct Adam {
    vars: Vec<Var>,
    /// First and second moments per variable.
    moments: Vec<Option<(Tensor, Tensor)>>,
    step: i32,
    config: AdamConfig,
    /// AdamW: weight decay shrinks the weights instead of joining the gradient.
    decoupled: bool,
}

impl Optimizer for Adam {
    type Config = AdamConfig;

    fn new(vars: Vec<Var>, config: AdamConfig) -> Result<Self> {
        let vars: Vec<Var> = vars.into_iter().filter(|v| v.dtype().is_float()).collect();
        Ok(Adam {
            moments: vec![None; vars.len()],
            vars,
            step: 0,
            config,
            decoupled: false,
        })
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step += 1;
        let c = &self.config;
        let correction1 = 1.0 - c.beta1.powi(self.step);
        let correction2 = 1.0 - c.beta2.powi(self.step);
        for (var, moments) in self.vars.iter().zip(&mut self.moments) {
            let Some(grad) = grads.get(var) else { continue };
            let g = if c.weight_decay != 0.0 && !self.decoupled {
                (grad + var.as_tensor().affine(c.weight_decay, 0.0)?)?
            } else {
                grad.clone()
            };
            if c.weight_decay != 0.0 && self.decoupled {
                var.set(&var.as_tensor().affine(1.0 - c.lr * c.weight_decay, 0.0)?)?;
            }
            let (m, v) = match moments.take() {
                None => (g.zeros_like()?, g.zeros_like()?),
                Some(previous) => previous,
            };
            let m = (m.affine(c.beta1, 0.0)? + g.affine(1.0 - c.beta1, 0.0)?)?;
            let v = (v.affine(c.beta2, 0.0)? + g.sqr()?.affine(1.0 - c.beta2, 0.0)?)?;
            // PyTorch's arrangement: lr / (1 - β1^t) · m / (√v / √(1 - β2^t) + ε)
            let denominator = v.sqrt()?.affine(1.0 / correction2.sqrt(), c.eps)?;
            let update = (m.affine(c.lr / correction1, 0.0)? / denominator)?;
            var.set(&(var.as_tensor() - update)?)?;
            *moments = Some((m, v));
        }
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.config.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.config.lr = lr;
    }
}

/// `torch.optim.AdamW`: Adam whose weight decay shrinks the weights directly, configured as
/// candle-nn's `AdamW` is (`ParamsAdamW`, whose defaults are PyTorch's).
pub struct AdamW(Adam);

impl Optimizer for AdamW {
    type Config = ParamsAdamW;

    fn new(vars: Vec<Var>, params: ParamsAdamW) -> Result<Self> {
        let config = AdamConfig {
            lr: params.lr,
            beta1: params.beta1,
            beta2: params.beta2,
            eps: params.eps,
            weight_decay: params.weight_decay,
        };
        let mut adam = Adam::new(vars, config)?;
        adam.decoupled = true;
        Ok(AdamW(adam))
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.0.step(grads)
    }

    fn learning_rate(&self) -> f64 {
        self.0.learning_rate()
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.0.set_learning_rate(lr)
    }
}

/// What a checkpoint keeps of an optimizer: the variables it updates, each one's buffers
/// (momentum, moments; none before the first step) and its step count.
pub trait OptimizerState {
    fn vars(&self) -> &[Var];
    fn buffers(&self) -> Vec<Vec<Tensor>>;
    fn steps(&self) -> usize;
    /// Restores what `buffers` and `steps` returned, in the order of `vars`.
    fn restore(&mut self, buffers: Vec<Vec<Tensor>>, steps: usize) -> Result<()>;
}

impl OptimizerState for Sgd {
    fn vars(&self) -> &[Var] {
        &self.vars
    }

    fn buffers(&self) -> Vec<Vec<Tensor>> {
        self.velocity
            .iter()
            .map(|v| v.iter().cloned().collect())
            .collect()
    }

    fn steps(&self) -> usize {
        0
    }

    fn restore(&mut self, buffers: Vec<Vec<Tensor>>, _steps: usize) -> Result<()> {
        self.velocity = buffers.into_iter().map(|b| b.into_iter().next()).collect();
        Ok(())
    }
}

impl OptimizerState for Adam {
    fn vars(&self) -> &[Var] {
        &self.vars
    }

    fn buffers(&self) -> Vec<Vec<Tensor>> {
        self.moments
            .iter()
            .map(|m| m.iter().flat_map(|(m, v)| [m.clone(), v.clone()]).collect())
            .collect()
    }

    fn steps(&self) -> usize {
        self.step as usize
    }

    fn restore(&mut self, buffers: Vec<Vec<Tensor>>, steps: usize) -> Result<()> {
        self.moments = buffers
            .into_iter()
            .map(|b| match <[Tensor; 2]>::try_from(b) {
                Ok([m, v]) => Some((m, v)),
                Err(_) => None,
            })
            .collect();
        self.step = steps as i32;
        Ok(())
    }
}

impl OptimizerState for AdamW {
    fn vars(&self) -> &[Var] {
        self.0.vars()
    }

    fn buffers(&self) -> Vec<Vec<Tensor>> {
        self.0.buffers()
    }

    fn steps(&self) -> usize {
        self.0.steps()
    }

    fn restore(&mut self, buffers: Vec<Vec<Tensor>>, steps: usize) -> Result<()> {
        self.0.restore(buffers, steps)
    }
}

/// Scales the gradients of `vars` down so that their joint L2 norm is at most `max_norm`, as
/// `torch.nn.utils.clip_grad_norm_`; returns the norm before clipping.
pub fn clip_grad_norm(grads: &mut GradStore, vars: &[Var], max_norm: f64) -> Result<f64> {
    let mut total = 0.0;
    for var in vars {
        if let Some(grad) = grads.get(var) {
            total += grad
                .sqr()?
                .sum_all()?
                .to_dtype(candle_core::DType::F64)?
                .to_scalar::<f64>()?;
        }
    }
    let norm = total.sqrt();
    let scale = max_norm / (norm + 1e-6);
    if scale < 1.0 {
        for var in vars {
            if let Some(grad) = grads.remove(var) {
                grads.insert(var, grad.affine(scale, 0.0)?);
            }
        }
    }
    Ok(norm)
}

/// A learning rate that depends on the step (or epoch) count, as `torch.optim.lr_scheduler`:
/// `opt.set_learning_rate(schedule.at(epoch))`.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// `StepLR`: `lr · gamma^⌊t / step_size⌋`.
    Step {
        lr: f64,
        step_size: usize,
        gamma: f64,
    },
    /// `CosineAnnealingLR`: from `lr` down to `min_lr` over `total` steps along a half cosine.
    Cosine { lr: f64, total: usize, min_lr: f64 },
    /// `LinearLR` as warmup: from `lr · start_factor` up to `lr` over `warmup` steps.
    Warmup {
        lr: f64,
        warmup: usize,
        start_factor: f64,
    },
    /// Linear warmup to `lr`, then cosine decay to `min_lr` at `total` (the transformer recipe).
    WarmupCosine {
        lr: f64,
        warmup: usize,
        total: usize,
        min_lr: f64,
    },
}

impl Schedule {
    pub fn at(&self, t: usize) -> f64 {
        let cosine = |lr: f64, min_lr: f64, done: usize, total: usize| {
            let progress = done.min(total) as f64 / total.max(1) as f64;
            min_lr + (lr - min_lr) * (1.0 + (PI * progress).cos()) / 2.0
        };
        match *self {
            Schedule::Step {
                lr,
                step_size,
                gamma,
            } => lr * gamma.powi((t / step_size.max(1)) as i32),
            Schedule::Cosine { lr, total, min_lr } => cosine(lr, min_lr, t, total),
            Schedule::Warmup {
                lr,
                warmup,
                start_factor,
            } => {
                let progress = t.min(warmup) as f64 / warmup.max(1) as f64;
                lr * (start_factor + (1.0 - start_factor) * progress)
            }
            Schedule::WarmupCosine { lr, warmup, .. } if t < warmup => {
                lr * (t + 1) as f64 / warmup as f64
            }
            Schedule::WarmupCosine {
                lr,
                warmup,
                total,
                min_lr,
            } => cosine(lr, min_lr, t - warmup, total - warmup),
        }
    }
}
